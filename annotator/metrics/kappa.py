"""Cohen's kappa (two coders) and Fleiss' kappa (many coders), unweighted.

References
----------
Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational
    and Psychological Measurement, 20(1), 37-46.
Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
    Psychological Bulletin, 76(5), 378-382.
Gwet, K. L. (2014). Handbook of Inter-Rater Reliability, 4th ed., ch. 2:
    Fleiss' kappa generalised to a number of raters ``r_i`` that varies by
    subject; it reduces to Fleiss (1971) when ``r_i`` is constant.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cohen_kappa", "fleiss_kappa", "fleiss_kappa_from_sums", "fleiss_sums"]


def cohen_kappa(contingency: np.ndarray) -> float | None:
    """Cohen's (1960) unweighted kappa from a two-coder contingency table.

    Parameters
    ----------
    contingency : array_like of shape (n_categories, n_categories)
        ``contingency[c, k]``: number of units that coder A put in category
        ``c`` and coder B in category ``k``.

    Returns
    -------
    float or None
        ``(p_o - p_e) / (1 - p_e)`` with ``p_o`` the observed proportion of
        agreement and ``p_e = sum_c p_A(c) p_B(c)``; None when undefined (no
        units, or ``p_e == 1``: both coders used one and the same category).

    Examples
    --------
    Krippendorff (1995, p. 57) digitised unitizing example A (Bertha and
    Bill, 24 positions), as DKPro Statistics' ``Krippendorff1995Test``
    codes it: kappa = 0.385.

    >>> round(cohen_kappa([[10, 0], [8, 6]]), 3)
    0.385
    """
    table = np.asarray(contingency, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] != table.shape[1]:
        raise ValueError(f"contingency must be a square matrix, got shape {table.shape}")
    if (table < 0).any():
        raise ValueError("contingency must be non-negative")
    total = table.sum()
    if total == 0:
        return None
    p_o = np.trace(table) / total
    p_e = np.dot(table.sum(axis=1), table.sum(axis=0)) / (total * total)
    if p_e >= 1.0:
        return None
    return float((p_o - p_e) / (1.0 - p_e))


def fleiss_sums(counts: np.ndarray) -> tuple[float, int, np.ndarray]:
    """Additive sufficient statistics of Fleiss' kappa.

    Parameters
    ----------
    counts : array_like of shape (n_items, n_categories)
        ``counts[i, j]``: number of raters who put item ``i`` in category
        ``j`` (``n_ij``). Items with fewer than two ratings are skipped.

    Returns
    -------
    sum_agreement : float
        ``sum_i P_i`` with ``P_i = sum_j n_ij (n_ij - 1) / (r_i (r_i - 1))``.
    n_items : int
        Number of items with at least two ratings.
    sum_proportions : numpy.ndarray of float64, shape (n_categories,)
        ``sum_i n_ij / r_i``.
    """
    table = np.asarray(counts, dtype=np.float64)
    if table.ndim != 2:
        raise ValueError(f"counts must be 2-D (n_items, n_categories), got {table.shape}")
    if (table < 0).any():
        raise ValueError("counts must be non-negative")
    r = table.sum(axis=1)
    keep = r >= 2
    table, r = table[keep], r[keep]
    agreement = (table * (table - 1)).sum(axis=1) / (r * (r - 1))
    return float(agreement.sum()), int(keep.sum()), (table / r[:, None]).sum(axis=0)


def fleiss_kappa_from_sums(
    sum_agreement: float, n_items: float, sum_proportions: np.ndarray
) -> float | None:
    """Fleiss' kappa from (possibly pooled) :func:`fleiss_sums`.

    ``P_bar = sum_agreement / n_items``, ``p_j = sum_proportions_j / n_items``,
    ``P_e = sum_j p_j^2`` and kappa ``= (P_bar - P_e) / (1 - P_e)``; None when
    there is no item or ``P_e == 1`` (one category only).
    """
    if n_items <= 0:
        return None
    p = np.asarray(sum_proportions, dtype=np.float64) / n_items
    p_e = float(np.dot(p, p))
    if p_e >= 1.0 - 1e-12:
        return None
    return float((sum_agreement / n_items - p_e) / (1.0 - p_e))


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' (1971) kappa, generalised to a varying number of raters.

    Parameters
    ----------
    counts : array_like of shape (n_items, n_categories)
        ``counts[i, j]``: number of raters who put item ``i`` in category
        ``j``. Rows may sum to different numbers of raters ``r_i`` (Gwet
        2014); rows with fewer than two ratings are skipped.

    Returns
    -------
    float or None
        None when undefined (no item with two ratings, or one category only).

    Examples
    --------
    Fleiss (1971), Table 1: 30 patients, 6 psychiatrists each, 5 diagnoses;
    kappa = .430.

    >>> rows = ("00060 03003 01401 00006 03030 20400 00402 20310 20040 00006 "
    ...         "10050 11040 03300 10050 02031 00501 30012 51000 02040 10203 "
    ...         "00006 01050 02013 20040 10041 05010 40002 02040 10500 00006")
    >>> table = [[int(c) for c in row] for row in rows.split()]
    >>> round(fleiss_kappa(table), 3)
    0.43
    """
    return fleiss_kappa_from_sums(*fleiss_sums(counts))
