"""Krippendorff's unitizing alpha (alpha_U) on a character continuum.

References
----------
Krippendorff, K. (1995). On the reliability of unitizing contiguous data.
    Sociological Methodology, 25, 47-76.
Krippendorff, K. (2004). Content Analysis: An Introduction to Its
    Methodology, 2nd ed. Sage, section 11.6.
Meyer, C. M., Mieskes, M., Stab, C., Gurevych, I. (2014). DKPro Agreement:
    An Open-Source Java Library for Measuring Inter-Rater Agreement. COLING
    2014 demos, 105-109. Implementation followed here:
    ``org.dkpro.statistics.agreement.unitizing.KrippendorffAlphaUnitizingAgreement``
    (github.com/dkpro/dkpro-statistics).

Design note
-----------
alpha_U is computed per category ``c`` on a continuum of length ``L`` coded by
``R`` raters. Each rater's units of ``c`` cut the continuum into units and the
gaps between them. As in DKPro Statistics:

* Observed disagreement. For every pair of raters, every pair of segments that
  share at least one position contributes
  ``(b_i - b_j)^2 + (e_i - e_j)^2`` when both are units (begin and end
  differences), ``l_i^2`` when a unit lies inside the other rater's gap (a
  unit the other rater did not mark), and 0 for two gaps. DKPro walks the
  two segmentations position by position; the walk visits exactly the pairs
  of segments that intersect, so here the intersecting unit pairs are found
  with ``searchsorted`` on the sorted, non-overlapping units of each rater,
  and the units that intersect no unit of the other rater are the ones lying
  inside a gap. ``D_o = 2 sum / (R (R - 1) L^2)``.
* Expected disagreement, over all ``N_c`` units of ``c`` (every rater) and
  all gaps of every rater::

      D_e = 2/L * sum_u [ (N_c - 1) (2 l_u^3 - 3 l_u^2 + l_u) / 3
                         + l_u^2 * sum_{gaps g >= l_u} (g - l_u + 1) ]
            / (R L (R L - 1) - sum_u l_u (l_u - 1))

  The inner sum over gaps is computed for all units at once from suffix sums
  of the sorted gap lengths.
* ``alpha_U(c) = 1 - D_o(c) / D_e(c)``; over categories
  ``alpha_U = 1 - mean_c D_o(c) / mean_c D_e(c)``.

Deviations, all in degenerate cases: a category with ``D_e = 0`` (no unit)
is undefined (None) where DKPro returns 0 (or NaN for a study without units).
DKPro requires that one rater's units of one category do not overlap; here
such units are merged into their union first (adjacent units stay apart).

Pooling. The engine works on *sections*: one continuum per document and
category, each with its own number of raters ``R_s`` and length ``L_s``.
Several sections (the documents of a project) are pooled as one continuum
cut into sections: units and gaps never cross a section boundary, the
disagreement sums add up, ``R (R - 1) L^2`` becomes
``sum_s R_s (R_s - 1) L_s * sum_s L_s`` and ``R L`` becomes ``sum_s R_s L_s``.
With one section this is exactly DKPro's computation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from annotator.metrics.units import stable_order

__all__ = [
    "SectionSums",
    "UnitizingAgreement",
    "alpha_from_disagreements",
    "disagreements_from_sums",
    "expected_cross_term",
    "krippendorff_alpha_unitizing",
    "section_sums",
    "unitizing_disagreements",
]


@dataclass(frozen=True)
class UnitizingAgreement:
    """alpha_U of one continuum: the overall value and, per category, alpha, D_o, D_e."""

    value: float | None
    per_category: dict[str, float | None]
    observed: dict[str, float]
    expected: dict[str, float]


@dataclass(frozen=True)
class SectionSums:
    """Additive sums of each section (one continuum and category), shape (n_sections,).

    ``unit_*`` and ``gap_*`` list every (merged) unit and gap with its section;
    the cross term of ``D_e`` needs them, since it pairs units and gaps of
    different sections of a pool.
    """

    observed: np.ndarray
    pair_length: np.ndarray  # R_s (R_s - 1) L_s
    length: np.ndarray  # L_s
    rated_length: np.ndarray  # R_s L_s
    n_units: np.ndarray
    cubic: np.ndarray  # sum_u (2 l^3 - 3 l^2 + l) / 3
    squared: np.ndarray  # sum_u l (l - 1)
    unit_section: np.ndarray
    unit_length: np.ndarray
    gap_section: np.ndarray
    gap_length: np.ndarray


def section_sums(
    section: np.ndarray,
    rater: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    *,
    section_length: np.ndarray,
    section_raters: np.ndarray,
) -> SectionSums:
    """Disagreement sums of alpha_U for many sections at once.

    Parameters
    ----------
    section, rater, start, end : array_like of int, shape (n_units,)
        Each unit's section index (``0 <= section < n_sections``), rater index
        within the section (``0 <= rater < section_raters[section]``) and
        offsets within the section (``0 <= start < end <= section_length``).
    section_length : array_like of int, shape (n_sections,)
        Continuum length ``L_s`` of each section.
    section_raters : array_like of int, shape (n_sections,)
        Number of raters ``R_s`` of each section (raters without units count).

    Returns
    -------
    SectionSums
    """
    lengths = np.asarray(section_length, dtype=np.int64)
    raters = np.asarray(section_raters, dtype=np.int64)
    sec, rat, beg, fin = (np.asarray(a, dtype=np.int64) for a in (section, rater, start, end))
    if lengths.shape != raters.shape or lengths.ndim != 1:
        raise ValueError("section_length and section_raters must be 1-D of the same length")
    if not sec.shape == rat.shape == beg.shape == fin.shape or sec.ndim != 1:
        raise ValueError("section, rater, start and end must be 1-D of the same length")
    n_sections = len(lengths)
    if sec.size:
        if sec.min() < 0 or sec.max() >= n_sections:
            raise ValueError(f"section indices must lie in [0, {n_sections})")
        if (rat < 0).any() or (rat >= raters[sec]).any():
            raise ValueError("rater indices must lie in [0, section_raters[section])")
        if (beg < 0).any() or (beg >= fin).any() or (fin > lengths[sec]).any():
            raise ValueError("units must satisfy 0 <= start < end <= section_length")
    sec, rat, beg, fin = _merge_overlaps(sec, rat, beg, fin)
    offset = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    length = fin - beg
    lf = length.astype(np.float64)
    observed = _observed_sums(sec, rat, beg + offset[sec], fin + offset[sec], raters, n_sections)
    gap_section, gap_length = _gaps(sec, rat, beg, fin, lengths, raters)
    return SectionSums(
        observed=observed,
        pair_length=(raters * (raters - 1) * lengths).astype(np.float64),
        length=lengths.astype(np.float64),
        rated_length=(raters * lengths).astype(np.float64),
        n_units=np.bincount(sec, minlength=n_sections).astype(np.float64),
        cubic=np.bincount(sec, (2 * lf**3 - 3 * lf**2 + lf) / 3.0, minlength=n_sections),
        squared=np.bincount(sec, lf * (lf - 1), minlength=n_sections),
        unit_section=sec,
        unit_length=length,
        gap_section=gap_section,
        gap_length=gap_length,
    )


def unitizing_disagreements(
    sums: SectionSums, group: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Observed and expected disagreement of groups of pooled sections.

    Parameters
    ----------
    sums : SectionSums
        From :func:`section_sums`.
    group : array_like of int, shape (n_sections,)
        Group of each section (e.g. its category, to pool documents), or -1
        to leave the section out.
    n_groups : int

    Returns
    -------
    d_o, d_e : numpy.ndarray of float64, shape (n_groups,)
        ``nan`` where undefined (no rater pair, empty continuum, no unit).
    """
    group = np.asarray(group, dtype=np.int64)
    if group.shape != sums.length.shape:
        raise ValueError(f"group must have shape {sums.length.shape}, got {group.shape}")
    keep = group >= 0

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(group[keep], values[keep], minlength=n_groups)

    unit_group = group[sums.unit_section]
    gap_group = group[sums.gap_section]
    cross = expected_cross_term(unit_group, sums.unit_length, gap_group, sums.gap_length, n_groups)
    return disagreements_from_sums(
        observed=total(sums.observed),
        pair_length=total(sums.pair_length),
        length=total(sums.length),
        rated_length=total(sums.rated_length),
        n_units=total(sums.n_units),
        cubic=total(sums.cubic),
        squared=total(sums.squared),
        cross=cross,
    )


def disagreements_from_sums(
    *,
    observed: np.ndarray,
    pair_length: np.ndarray,
    length: np.ndarray,
    rated_length: np.ndarray,
    n_units: np.ndarray,
    cubic: np.ndarray,
    squared: np.ndarray,
    cross: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``D_o`` and ``D_e`` from pooled sums (arrays of one shape, e.g. (n_groups,)).

    ``D_o = 2 observed / (pair_length * length)`` and
    ``D_e = 2 / length * ((n_units - 1) cubic + cross) / (rated (rated - 1) - squared)``
    (module docstring); ``nan`` where undefined (no rater pair, empty
    continuum, no unit).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        d_o = 2.0 * observed / (pair_length * length)
        numerator = (n_units - 1.0) * cubic + cross
        d_e = 2.0 / length * numerator / (rated_length * (rated_length - 1.0) - squared)
    d_o = np.where(np.isfinite(d_o), d_o, np.nan)
    undefined = ~np.isfinite(d_e) | (n_units == 0) | (d_e <= 0) | np.isnan(d_o)
    d_e = np.where(undefined, np.nan, d_e)
    d_o = np.where(undefined, np.nan, d_o)
    return d_o, d_e


def krippendorff_alpha_unitizing(
    units: Iterable[tuple[int, int, int, str]],
    *,
    n_raters: int,
    length: int,
    begin: int = 0,
    categories: Sequence[str] | None = None,
) -> UnitizingAgreement:
    """Krippendorff's alpha_U of one continuum, per category and overall.

    Parameters
    ----------
    units : iterable of (rater, start, end, category)
        ``0 <= rater < n_raters``; ``begin <= start < end <= begin + length``.
    n_raters : int
        Number of raters ``R`` (raters without units count).
    length : int
        Continuum length ``L``.
    begin : int
        Continuum start ``B``.
    categories : sequence of str, optional
        Categories to report; by default those of the units.

    Returns
    -------
    UnitizingAgreement
        ``value = 1 - mean_c D_o(c) / mean_c D_e(c)`` over the categories
        whose ``D_e`` is defined.

    Examples
    --------
    Krippendorff (2004, p. 254), as in DKPro Statistics'
    ``Krippendorff2004Test``: continuum 150..450, two coders, categories
    c and k; alpha_U(c) = 0.7286, alpha_U(k) = 1, overall 0.8591 (DKPro
    asserts it to within 0.0005; from the unrounded D_o and D_e it is 0.8587).

    >>> units = [(0, 225, 295, "c"), (0, 370, 400, "c"), (1, 220, 300, "c"),
    ...          (1, 355, 375, "c"), (1, 400, 420, "c"), (0, 180, 240, "k"),
    ...          (0, 300, 350, "k"), (1, 180, 240, "k"), (1, 300, 350, "k")]
    >>> result = krippendorff_alpha_unitizing(units, n_raters=2, begin=150, length=300)
    >>> round(result.value, 3), round(result.per_category["c"], 4), result.per_category["k"]
    (0.859, 0.7286, 1.0)
    >>> round(result.observed["c"], 4), round(result.expected["c"], 4)
    (0.0144, 0.0532)
    """
    if n_raters < 1:
        raise ValueError(f"n_raters must be at least 1, got {n_raters}")
    if length < 0:
        raise ValueError(f"length must be non-negative, got {length}")
    units = list(units)
    names = sorted({u[3] for u in units}) if categories is None else list(categories)
    index = {name: k for k, name in enumerate(names)}
    for rater, start, end, category in units:
        if category not in index:
            raise ValueError(f"unit category {category!r} is not in categories")
        if not 0 <= rater < n_raters:
            raise ValueError(f"rater {rater} outside [0, {n_raters})")
        if not begin <= start < end <= begin + length:
            raise ValueError(f"unit [{start}, {end}) is empty or outside the continuum")
    columns = np.array([(index[u[3]], u[0], u[1] - begin, u[2] - begin) for u in units],
                       dtype=np.int64).reshape(-1, 4)
    n = len(names)
    sums = section_sums(
        columns[:, 0], columns[:, 1], columns[:, 2], columns[:, 3],
        section_length=np.full(n, length), section_raters=np.full(n, n_raters),
    )
    d_o, d_e = unitizing_disagreements(sums, np.arange(n), n)
    return UnitizingAgreement(
        value=alpha_from_disagreements(d_o, d_e),
        per_category={c: _alpha(d_o[k], d_e[k]) for c, k in index.items()},
        observed={c: float(d_o[k]) for c, k in index.items()},
        expected={c: float(d_e[k]) for c, k in index.items()},
    )


def alpha_from_disagreements(d_o: np.ndarray, d_e: np.ndarray) -> float | None:
    """``1 - mean(D_o) / mean(D_e)`` over the categories where both are defined."""
    d_o, d_e = np.asarray(d_o, dtype=np.float64), np.asarray(d_e, dtype=np.float64)
    defined = ~(np.isnan(d_o) | np.isnan(d_e))
    if not defined.any():
        return None
    return _alpha(d_o[defined].mean(), d_e[defined].mean())


def _alpha(d_o: float, d_e: float) -> float | None:
    if np.isnan(d_o) or np.isnan(d_e) or d_e <= 0:
        return None
    return float(1.0 - d_o / d_e)


def _merge_overlaps(sec, rat, beg, fin):
    """Sort units by (section, rater, start) and merge overlapping ones of a rater."""
    # One key when (section, rater, start) fit in 63 bits (the same stable order).
    top_rat, top_beg = int(rat.max(initial=0)) + 1, int(beg.max(initial=0)) + 1
    if (int(sec.max(initial=0)) + 1) * top_rat * top_beg < 1 << 62 and not (
            len(sec) and min(sec.min(), rat.min(), beg.min()) < 0):
        major = sec * top_rat + rat
        order = stable_order(major, major * top_beg + beg)
    else:
        order = np.lexsort((beg, rat, sec))
    sec, rat, beg, fin = sec[order], rat[order], beg[order], fin[order]
    if len(sec) < 2:
        return sec, rat, beg, fin
    same = (sec[1:] == sec[:-1]) & (rat[1:] == rat[:-1])
    # Running maximum of the end within each (section, rater) run.
    run = np.concatenate([[0], np.cumsum(~same)])
    big = int(fin.max()) + 1
    reach = np.maximum.accumulate(fin + run * big) - run * big
    new_block = np.concatenate([[True], ~same | (beg[1:] >= reach[:-1])])
    if new_block.all():
        return sec, rat, beg, fin
    block = np.cumsum(new_block) - 1
    first = np.flatnonzero(new_block)
    merged_end = np.zeros(len(first), dtype=np.int64)
    np.maximum.at(merged_end, block, fin)
    return sec[first], rat[first], beg[first], merged_end


def _observed_sums(sec, rat, gbeg, gfin, raters, n_sections):
    """Observed disagreement sum per section, over unordered rater pairs.

    Units are sorted by (section, rater, start), non-overlapping within a
    rater; ``gbeg``/``gfin`` are positions on the concatenated sections, so
    units of different sections never intersect.
    """
    observed = np.zeros(n_sections)
    max_raters = int(raters.max()) if len(raters) else 0
    by_rater = [np.flatnonzero(rat == r) for r in range(max_raters)]
    for b in range(1, max_raters):
        units_b = by_rater[b]
        order_b = units_b[np.argsort(gbeg[units_b], kind="stable")]
        beg_b, fin_b = gbeg[order_b], gfin[order_b]
        for a in range(b):
            units_a = by_rater[a]
            units_a = units_a[raters[sec[units_a]] > b]  # sections that have rater b
            beg_a, fin_a = gbeg[units_a], gfin[units_a]
            lo = np.searchsorted(fin_b, beg_a, side="right")
            hi = np.searchsorted(beg_b, fin_a, side="left")
            count = np.maximum(hi - lo, 0)
            i = np.repeat(np.arange(len(units_a)), count)
            j = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
            j = j + np.repeat(lo, count)
            d_begin = (beg_a[i] - beg_b[j]).astype(np.float64)
            d_end = (fin_a[i] - fin_b[j]).astype(np.float64)
            observed += np.bincount(sec[units_a[i]], d_begin**2 + d_end**2, minlength=n_sections)
            # A unit that meets no unit of the other rater lies inside a gap.
            alone_a = count == 0
            observed += np.bincount(
                sec[units_a[alone_a]], ((fin_a - beg_a)[alone_a] ** 2).astype(np.float64),
                minlength=n_sections,
            )
            hit_b = np.zeros(len(order_b), dtype=bool)
            hit_b[j] = True
            in_scope = raters[sec[order_b]] > a  # always true since a < b
            alone_b = ~hit_b & in_scope
            observed += np.bincount(
                sec[order_b[alone_b]], ((fin_b - beg_b)[alone_b] ** 2).astype(np.float64),
                minlength=n_sections,
            )
    return observed


def _gaps(sec, rat, beg, fin, lengths, raters):
    """Every gap of every rater of every section: (section, length), lengths > 0."""
    n = len(sec)
    first = np.ones(n, dtype=bool)
    last = np.ones(n, dtype=bool)
    if n > 1:
        same = (sec[1:] == sec[:-1]) & (rat[1:] == rat[:-1])
        first[1:] = ~same
        last[:-1] = ~same
    prev_end = np.zeros(n, dtype=np.int64)
    prev_end[1:] = fin[:-1]
    prev_end[first] = 0
    before = beg - prev_end
    after = lengths[sec[last]] - fin[last]
    # Raters without any unit in a section have one gap: the whole section.
    with_units = np.bincount(sec[first], minlength=len(lengths))
    empty_raters = raters - with_units
    whole_section = np.repeat(np.arange(len(lengths)), empty_raters)
    gap_section = np.concatenate([sec, sec[last], whole_section])
    gap_length = np.concatenate([before, after, lengths[whole_section]])
    keep = gap_length > 0
    return gap_section[keep], gap_length[keep]


def expected_cross_term(
    unit_group: np.ndarray,
    unit_length: np.ndarray,
    gap_group: np.ndarray,
    gap_length: np.ndarray,
    n_groups: int,
    unit_count: np.ndarray | None = None,
    gap_count: np.ndarray | None = None,
) -> np.ndarray:
    """The unit-gap term of ``D_e`` per group, shape (n_groups,).

    ``sum_u l_u^2 sum_{gaps g of the group, g >= l_u} (g - l_u + 1)``; units
    and gaps of group -1 are left out. ``unit_count`` and ``gap_count``, when
    given, say how many units (gaps) of that group and length each entry
    stands for: the term depends on a group's units and gaps only through
    their lengths, so histograms of the lengths give it exactly.
    """
    keep_u, keep_g = unit_group >= 0, gap_group >= 0
    ug, ul = unit_group[keep_u], unit_length[keep_u]
    gg, gl = gap_group[keep_g], gap_length[keep_g]
    if not len(ug) or not len(gg):
        return np.zeros(n_groups)
    uc = None if unit_count is None else np.asarray(unit_count, np.float64)[keep_u]
    gc = None if gap_count is None else np.asarray(gap_count, np.float64)[keep_g]
    span = int(max(gl.max(), ul.max())) + 2
    gap_key = gg * span + gl
    order = np.argsort(gap_key, kind="stable")
    gap_key, gl = gap_key[order], gl[order].astype(np.float64)
    gn = np.ones(len(gl)) if gc is None else gc[order]
    # Suffix sums, with a trailing 0 for "no gap at or after this index".
    suffix_len = np.concatenate([np.cumsum((gl * gn)[::-1])[::-1], [0.0]])
    suffix_cnt = np.concatenate([np.cumsum(gn[::-1])[::-1], [0.0]])
    lo = np.searchsorted(gap_key, ug * span + ul, side="left")
    hi = np.searchsorted(gap_key, (ug + 1) * span, side="left")
    total_len = suffix_len[lo] - suffix_len[hi]
    count = suffix_cnt[lo] - suffix_cnt[hi]
    ulf = ul.astype(np.float64)
    per_unit = ulf**2 * (total_len - (ulf - 1.0) * count)
    if uc is not None:
        per_unit = per_unit * uc
    return np.bincount(ug, per_unit, minlength=n_groups)
