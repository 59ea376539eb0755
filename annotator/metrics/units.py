"""Coding units for kappa and alpha: tokens or characters, and their categories.

A document is cut into units (``unit="token"``: maximal runs of non-whitespace,
the matches of ``\\S+``; ``unit="char"``: every character, whitespace included).
An annotator's category for a unit is the set of labels of that annotator's
spans that overlap the unit by at least one character, written as the sorted
label names joined with ``+`` (``Claim+Evidence``), or ``O`` when no span
overlaps it (DESIGN.md, "Agreement: what is computed").

Inside the engine a category is a bit mask over the sorted label list: bit
``k`` is set when label ``k`` covers the unit, so the mask of a unit is
computed with array operations only and the mask ``0`` is ``O``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from annotator.metrics.types import UNITS, Span

__all__ = [
    "NO_LABEL",
    "UNITS",
    "category_name",
    "covered_label_masks",
    "label_masks",
    "stable_order",
    "unit_bounds",
    "unit_categories",
]

#: The category of a unit that no span of the annotator overlaps.
NO_LABEL = "O"
#: A category is a bit mask in a signed 64-bit integer, so at most 62 labels
#: (bit 63 is the sign); label schemas have a handful of labels.
MAX_LABELS = 62
#: Every code point that ``str.isspace`` (and so ``re``'s ``\s``) accepts is
#: below U+3001 (the last one is U+3000 IDEOGRAPHIC SPACE).
_WHITESPACE_LIMIT = 0x3001


@cache
def _whitespace_table() -> np.ndarray:
    """Boolean lookup table, shape (0x3002,): True where the code point is whitespace;
    its last entry (False) stands for every code point from 0x3001 on."""
    return np.array([chr(c).isspace() for c in range(_WHITESPACE_LIMIT)] + [False], dtype=bool)


@cache
def _ascii_whitespace() -> bytes:
    """``bytes.translate`` table: 1 for the ASCII whitespace characters, 0 for the others."""
    return bytes(int(chr(c).isspace()) for c in range(256))


def _code_points(text: str) -> np.ndarray:
    """Code points of ``text``, shape (len(text),), one per Python ``str`` index."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def unit_bounds(text: str, unit: str = "token") -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of the coding units of ``text``.

    Parameters
    ----------
    text : str
        The document's canonical text.
    unit : {"token", "char"}
        ``"token"``: maximal runs of non-whitespace (``re.finditer(r"\\S+")``);
        ``"char"``: every character, whitespace included.

    Returns
    -------
    starts, ends : numpy.ndarray of int64, shape (n_units,)
        Code-point offsets, ``start`` inclusive, ``end`` exclusive, increasing.

    Examples
    --------
    >>> starts, ends = unit_bounds("We must act.\\n  Now")
    >>> starts.tolist(), ends.tolist()
    ([0, 3, 8, 15], [2, 7, 12, 18])
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
    n = len(text)
    if unit == "char":
        starts = np.arange(n, dtype=np.int64)
        return starts, starts + 1
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    if text.isascii():  # a flag of the string: one byte per character, translated to 0 or 1
        space = np.frombuffer(b"\x01" + text.encode("ascii").translate(_ascii_whitespace())
                              + b"\x01", dtype=np.int8)
    else:
        space = np.ones(n + 2, dtype=bool)
        _whitespace_table().take(np.minimum(_code_points(text), _WHITESPACE_LIMIT),
                                 out=space[1:-1])
        space = space.view(np.int8)
    # -1 where a token begins, +1 one past where it ends: with whitespace on both
    # sides, the changes alternate, a beginning first.
    change = np.flatnonzero(np.diff(space)).astype(np.int64, copy=False)
    return change[0::2].copy(), change[1::2].copy()


def label_masks(
    unit_starts: np.ndarray,
    unit_ends: np.ndarray,
    span_starts: np.ndarray,
    span_ends: np.ndarray,
    span_labels: np.ndarray,
) -> np.ndarray:
    """Bit mask of the labels whose spans overlap each unit.

    Parameters
    ----------
    unit_starts, unit_ends : numpy.ndarray of int, shape (n_units,)
        Unit offsets, increasing and non-overlapping (as from :func:`unit_bounds`).
    span_starts, span_ends : numpy.ndarray of int, shape (n_spans,)
        One annotator's spans.
    span_labels : numpy.ndarray of int, shape (n_spans,)
        Label index (0 <= index < 62) of each span.

    Returns
    -------
    numpy.ndarray of int64, shape (n_units,)
        Bit ``k`` is set when a span with label ``k`` shares at least one
        character with the unit.

    Examples
    --------
    >>> s, e = unit_bounds("a bb ccc dddd")
    >>> label_masks(s, e, np.array([0, 3]), np.array([4, 6]), np.array([0, 1])).tolist()
    [1, 3, 2, 0]
    """
    units, covered = covered_label_masks(unit_starts, unit_ends, span_starts, span_ends,
                                         span_labels, np.zeros(len(span_starts), np.int64), 1)
    masks = np.zeros(len(unit_starts), dtype=np.int64)
    masks[units] = covered[0]
    return masks


def covered_label_masks(
    unit_starts: np.ndarray,
    unit_ends: np.ndarray,
    span_starts: np.ndarray,
    span_ends: np.ndarray,
    span_labels: np.ndarray,
    span_rows: np.ndarray,
    n_rows: int,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`label_masks` of several annotators at once (``span_rows``, 0 to
    ``n_rows - 1``, says whose each span is), for only the units some span covers: those units
    (increasing indexes, shape (n_covered,)) and their masks, shape (n_rows, n_covered);
    every other unit's mask is 0 for every annotator.

    Each span covers a range of units; the ranges of one annotator and label are
    merged into their union (sorted by start, each range cut to what the ranges
    before it did not cover), so that every (annotator, label, unit) is set once,
    by one assignment per label. The work is the number of units covered, not
    the number of units times labels.
    """
    span_labels = np.asarray(span_labels, dtype=np.int64)
    if span_labels.size and (span_labels.min() < 0 or span_labels.max() >= MAX_LABELS):
        raise ValueError(f"label indices must lie in [0, {MAX_LABELS}), got {span_labels}")
    n_units = len(unit_starts)
    # Units overlapping [s, e) are lo..hi-1: the first unit ending after s up to
    # the last unit starting before e.
    lo = np.searchsorted(unit_ends, span_starts, side="right")
    hi = np.searchsorted(unit_starts, span_ends, side="left")
    keep = lo < hi
    if not keep.any():
        return np.zeros(0, dtype=np.int64), np.zeros((n_rows, 0), dtype=np.int64)
    # Each (label, annotator) its own stretch of n_units positions, labels outermost.
    group = span_labels[keep] * n_rows + np.asarray(span_rows, dtype=np.int64)[keep]
    begin, end = group * n_units + lo[keep], group * n_units + hi[keep]
    order = stable_order(group, begin)
    begin, end = begin[order], end[order]
    reach = np.maximum.accumulate(end)
    begin[1:] = np.maximum(begin[1:], reach[:-1])
    size = np.maximum(end - begin, 0)
    position = np.repeat(begin - (np.cumsum(size) - size), size)
    position += np.arange(len(position))
    # position = (label * n_rows + row) * n_units + unit, increasing: each label's
    # positions are one stretch, and distinct.
    unit = position % n_units
    flag = np.zeros(n_units, dtype=bool)
    flag[unit] = True
    units = np.flatnonzero(flag)
    column = np.empty(n_units, dtype=np.int64)
    column[units] = np.arange(len(units))
    target = position // n_units % n_rows * len(units) + column[unit]
    masks = np.zeros((n_rows, len(units)), dtype=np.int64)
    flat = masks.reshape(-1)
    labels = np.unique(span_labels[keep])
    bounds = np.searchsorted(position, np.append(labels, labels[-1] + 1) * (n_rows * n_units))
    for label, first, last in zip(labels.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(),
                                  strict=True):
        flat[target[first:last]] |= 1 << label
    return units, masks


def stable_order(major: np.ndarray, key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")`` for a ``key`` that orders by ``major`` (small
    non-negative integers) first.

    The rows of one ``major`` value often come already in order of ``key`` (spans
    by start, document after document): a stable sort by ``major`` alone, a radix
    sort on 16 bits, then gives the same order; otherwise ``key`` is sorted.
    """
    if len(major) and major.min() >= 0 and major.max() < 1 << 15:
        order = np.argsort(major.astype(np.int16), kind="stable")
        ordered = key[order]
        if (ordered[1:] >= ordered[:-1]).all():
            return order
    return np.argsort(key, kind="stable")


def category_name(mask: int, labels: Sequence[str]) -> str:
    """Name of the category with bit mask ``mask`` over the sorted ``labels``.

    Examples
    --------
    >>> category_name(0b101, ["Claim", "Evidence", "Reason"])
    'Claim+Reason'
    >>> category_name(0, ["Claim"])
    'O'
    """
    names = [label for k, label in enumerate(labels) if mask >> k & 1]
    return "+".join(sorted(names)) if names else NO_LABEL


def unit_categories(
    text: str, spans: Sequence[Sequence[Span]], *, unit: str = "token"
) -> tuple[np.ndarray, list[str]]:
    """Category of every unit of ``text`` for every annotator.

    Parameters
    ----------
    text : str
        The document's canonical text.
    spans : sequence of sequences of Span, length n_annotators
        Each annotator's spans on this document.
    unit : {"token", "char"}
        See :func:`unit_bounds`.

    Returns
    -------
    categories : numpy.ndarray of int64, shape (n_annotators, n_units)
        Index into ``names``.
    names : list of str
        Category names (``"O"``, ``"Claim"``, ``"Claim+Evidence"``...), sorted.

    Examples
    --------
    >>> a = [Span("T1", 0, 6, "Claim")]
    >>> b = [Span("T1", 0, 2, "Claim"), Span("T2", 0, 9, "Evidence")]
    >>> codes, names = unit_categories("We act now", [a, b])
    >>> names
    ['Claim', 'Claim+Evidence', 'Evidence', 'O']
    >>> codes.tolist()
    [[0, 0, 3], [1, 2, 2]]
    """
    labels = sorted({span.label for annotator in spans for span in annotator})
    if len(labels) > MAX_LABELS:
        raise ValueError(f"at most {MAX_LABELS} distinct labels are supported, got {len(labels)}")
    index = {label: k for k, label in enumerate(labels)}
    starts, ends = unit_bounds(text, unit)
    masks = np.zeros((len(spans), len(starts)), dtype=np.int64)
    for row, annotator in enumerate(spans):
        _check_spans(annotator, len(text))
        masks[row] = label_masks(
            starts,
            ends,
            np.array([s.start for s in annotator], dtype=np.int64),
            np.array([s.end for s in annotator], dtype=np.int64),
            np.array([index[s.label] for s in annotator], dtype=np.int64),
        )
    uniques, inverse = np.unique(masks, return_inverse=True)
    names = [category_name(int(m), labels) for m in uniques]
    order = np.argsort(names)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse.reshape(masks.shape)], sorted(names)


def _check_spans(spans: Sequence[Span], text_length: int) -> None:
    for span in spans:
        if not 0 <= span.start < span.end <= text_length:
            raise ValueError(
                f"span {span.id!r} [{span.start}, {span.end}) is empty or outside the "
                f"text of length {text_length}"
            )
