"""A student's spans against the gold: which are right, off by a boundary, extra or missed.

Grading scores a student's annotation set with the gold standard as the
reference. The F1 figures come from :mod:`annotator.metrics.span_f1` and
:mod:`annotator.metrics.relation_f1`; this module adds what a student reads in
their feedback: every span put in one of these classes,

* ``exact``: the student's span has the start, end and label of a gold span;
* ``boundary_off``: not exact, but it shares at least one character and the
  label with a gold span that no exact match took (the student found the unit
  but drew its edges elsewhere);
* ``extra``: a student span matched neither way;
* ``missed``: a gold span matched neither way.

Design note. Pairs are one-to-one. First a maximum matching under the exact
criterion, then a maximum matching under the overlap criterion among the spans
left over: this maximises the exact matches first and then the boundary-off
ones. Any maximum exact matching gives the same result, because exactly
matching spans are interchangeable (same start, end and label, hence the same
overlap candidates). A span with the right boundaries and the wrong label is
counted as an extra span and a missed one: the label is the point of the unit.
So ``exact + boundary_off + extra = |student|`` and
``exact + boundary_off + missed = |gold|``. Both matchings run on the candidate
pairs :func:`annotator.metrics.span_f1.overlapping_pairs` finds by a sweep,
as the span F1 does, so a brief of 5,000 spans a side costs milliseconds.
Where several maximum overlap matchings exist (a student span over two gold
spans, neither taken otherwise), which gold span it is paired with is the
matching algorithm's choice; the counts are the same for every choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from annotator.metrics.span_f1 import maximum_matching, overlapping_pairs, span_arrays
from annotator.metrics.types import Span

__all__ = ["OUTCOMES", "SpanFeedback", "span_feedback"]

#: The classes of a span, in the order feedback lists them.
OUTCOMES = ("exact", "boundary_off", "extra", "missed")


@dataclass
class SpanFeedback:
    """Each span's class, and the gold span each matched student span was paired with.

    ``student`` maps a student span id to ``exact``, ``boundary_off`` or
    ``extra``; ``gold`` maps a gold span id to ``exact``, ``boundary_off`` or
    ``missed``; ``pairs`` maps a matched student span id to its gold span id.
    """

    student: dict[str, str] = field(default_factory=dict)
    gold: dict[str, str] = field(default_factory=dict)
    pairs: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """``exact``, ``boundary_off``, ``extra`` and ``missed`` counts."""
        out = dict.fromkeys(OUTCOMES, 0)
        for outcome in self.student.values():
            out[outcome] += 1
        out["missed"] = sum(1 for outcome in self.gold.values() if outcome == "missed")
        return out


def span_feedback(student: Sequence[Span], gold: Sequence[Span]) -> SpanFeedback:
    """Classify a student's spans and the gold's spans of one document.

    Parameters
    ----------
    student, gold : sequence of Span
        Span ids must be unique within each sequence.

    Returns
    -------
    SpanFeedback

    Examples
    --------
    >>> gold = [Span("g1", 0, 10, "Claim"), Span("g2", 12, 20, "Reason"),
    ...         Span("g3", 30, 40, "Evidence")]
    >>> mine = [Span("s1", 0, 10, "Claim"), Span("s2", 14, 20, "Reason"),
    ...         Span("s3", 22, 28, "Claim")]
    >>> fb = span_feedback(mine, gold)
    >>> fb.student
    {'s1': 'exact', 's2': 'boundary_off', 's3': 'extra'}
    >>> fb.counts()
    {'exact': 1, 'boundary_off': 1, 'extra': 1, 'missed': 1}
    """
    for name, spans in (("student", student), ("gold", gold)):
        ids = [s.id for s in spans]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{name} span ids must be unique")
    labels = {label: k for k, label in enumerate(sorted({s.label for s in [*student, *gold]}))}
    mine, theirs = span_arrays(student, labels), span_arrays(gold, labels)
    feedback = SpanFeedback(
        student={s.id: "extra" for s in student}, gold={g.id: "missed" for g in gold}
    )
    rows, cols = overlapping_pairs(mine, theirs)
    if not len(rows):
        return feedback
    shape = (len(student), len(gold))
    exact = (mine[0][rows] == theirs[0][cols]) & (mine[1][rows] == theirs[1][cols])
    matched = []
    r, c = maximum_matching(rows[exact], cols[exact], shape)
    matched.append(("exact", r, c))
    # Then boundary-off pairs among the spans no exact match took.
    free_rows, free_cols = np.ones(len(student), bool), np.ones(len(gold), bool)
    free_rows[r], free_cols[c] = False, False
    free = free_rows[rows] & free_cols[cols]
    matched.append(("boundary_off", *maximum_matching(rows[free], cols[free], shape)))
    for outcome, r, c in matched:
        for i, j in zip(r.tolist(), c.tolist(), strict=True):
            feedback.student[student[i].id] = feedback.gold[gold[j].id] = outcome
            feedback.pairs[student[i].id] = gold[j].id
    return feedback
