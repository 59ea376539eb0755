"""Krippendorff's alpha for nominal data, computed from the coincidence matrix.

References
----------
Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability.
    Annenberg School for Communication, University of Pennsylvania.
    https://repository.upenn.edu/asc_papers/43
Krippendorff, K. (2004). Content Analysis: An Introduction to Its Methodology,
    2nd ed. Sage, ch. 11.

Notation follows Krippendorff (2011): ``m_u`` is the number of values (coders)
of unit ``u``, ``n_uc`` how many of them are category ``c``; the coincidence
matrix is ``o_ck = sum_u n_uc (n_uk - [c == k]) / (m_u - 1)`` over the units
with ``m_u >= 2`` (the pairable units), ``n_c = sum_k o_ck``, ``n = sum_c n_c``,
and nominal alpha is

    alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "alpha_from_coincidences",
    "binary_coincidences",
    "coincidence_matrix",
    "krippendorff_alpha_nominal",
]


def coincidence_matrix(value_counts: np.ndarray) -> np.ndarray:
    """Coincidence matrix from the values-by-units matrix.

    Parameters
    ----------
    value_counts : array_like of shape (n_units, n_categories)
        ``value_counts[u, c]`` is ``n_uc``, the number of coders who gave unit
        ``u`` category ``c``. Units with fewer than two values are not
        pairable and contribute nothing.

    Returns
    -------
    numpy.ndarray of float64, shape (n_categories, n_categories)
        ``o_ck`` of Krippendorff (2011), symmetric.

    Examples
    --------
    Two units coded by three coders: (a, a, b) and (b, b, b).

    >>> coincidence_matrix([[2, 1], [0, 3]]).tolist()
    [[1.0, 1.0], [1.0, 3.0]]
    """
    counts = np.asarray(value_counts, dtype=np.float64)
    if counts.ndim != 2:
        raise ValueError(f"value_counts must be 2-D (n_units, n_categories), got {counts.shape}")
    if (counts < 0).any():
        raise ValueError("value_counts must be non-negative")
    m = counts.sum(axis=1)
    pairable = m >= 2
    counts, m = counts[pairable], m[pairable]
    weighted = counts / (m - 1)[:, None]
    return weighted.T @ counts - np.diag(weighted.sum(axis=0))


def binary_coincidences(n_covered: np.ndarray, n_coders: np.ndarray) -> np.ndarray:
    """Coincidence matrix of the binary variable "covered by this label".

    Parameters
    ----------
    n_covered : array_like of int, shape (n_units,)
        Number of coders whose category of the unit contains the label.
    n_coders : array_like of int, shape (n_units,)
        ``m_u``, number of coders of the unit.

    Returns
    -------
    numpy.ndarray of float64, shape (2, 2)
        Index 0 is "not covered", index 1 "covered".
    """
    covered = np.asarray(n_covered, dtype=np.float64)
    coders = np.asarray(n_coders, dtype=np.float64)
    if covered.shape != coders.shape:
        raise ValueError(f"shapes differ: {covered.shape} and {coders.shape}")
    if ((covered < 0) | (covered > coders)).any():
        raise ValueError("n_covered must lie between 0 and n_coders")
    return coincidence_matrix(np.stack([coders - covered, covered], axis=1))


def alpha_from_coincidences(coincidences: np.ndarray) -> float | None:
    """Nominal alpha from a coincidence matrix.

    Parameters
    ----------
    coincidences : array_like of shape (n_categories, n_categories)
        ``o_ck``, e.g. from :func:`coincidence_matrix`, possibly summed over
        several documents (pooling).

    Returns
    -------
    float or None
        None when alpha is undefined: no pairable values, or a single
        category (expected disagreement 0).

    Examples
    --------
    Krippendorff (2011), p. 4, the binary example of two coders and ten
    units: o = [[10, 4], [4, 2]], alpha = 0.095.

    >>> round(alpha_from_coincidences([[10, 4], [4, 2]]), 3)
    0.095
    """
    o = np.asarray(coincidences, dtype=np.float64)
    if o.ndim != 2 or o.shape[0] != o.shape[1]:
        raise ValueError(f"coincidences must be a square matrix, got shape {o.shape}")
    n_c = o.sum(axis=1)
    n = n_c.sum()
    observed = n - np.trace(o)  # sum of the off-diagonal o_ck
    expected = n * n - np.dot(n_c, n_c)  # sum_{c != k} n_c n_k
    if n <= 1 or expected <= 0:
        return None
    return float(1.0 - (n - 1.0) * observed / expected)


def krippendorff_alpha_nominal(reliability_data: np.ndarray) -> float | None:
    """Krippendorff's alpha for nominal data, missing values allowed.

    Parameters
    ----------
    reliability_data : array_like of shape (n_coders, n_units)
        Values of each coder for each unit; ``nan`` (or None) marks a missing
        value. Values are compared for equality only.

    Returns
    -------
    float or None
        None when undefined (fewer than two pairable values, or one category).

    Examples
    --------
    Krippendorff (2011), section C: four coders, twelve units, missing
    values; nominal alpha = 0.743.

    >>> nan = float("nan")
    >>> data = [
    ...     [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...     [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...     [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...     [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ... ]
    >>> round(krippendorff_alpha_nominal(data), 3)
    0.743
    """
    data = np.asarray(reliability_data, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"reliability_data must be 2-D (n_coders, n_units), got {data.shape}")
    present = ~np.isnan(data)
    values, inverse = np.unique(data[present], return_inverse=True)
    n_units = data.shape[1]
    unit_of_value = np.broadcast_to(np.arange(n_units), data.shape)[present]
    counts = np.zeros((n_units, len(values)))
    np.add.at(counts, (unit_of_value, inverse), 1.0)
    return alpha_from_coincidences(coincidence_matrix(counts))
