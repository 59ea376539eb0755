"""How good each recommender's suggestions are, against a project's reference work.

Suggestions are scored against the reference (a document's final gold, or each
of its submitted sets when it has no gold) as span precision, recall and F1 per
label, under two criteria (DESIGN.md, "Span F1"):

* ``exact``: same start, end and label;
* ``overlap``: same label and at least one shared character.

Suggested and reference spans are paired one to one by a maximum bipartite
matching (``metrics.span_f1.span_match_counts``), so ``precision = M / |suggested|``,
``recall = M / |reference|`` and ``F1 = 2M / (|suggested| + |reference|)``. A figure
whose denominator is zero is ``None`` (undefined), never 0. Relations match when
both ends match exactly, the type is equal and the direction the same.

A recommender that learns is scored by K-fold cross-validation *by document*
(every set of a document falls in the same fold, so that no document is both
learned from and scored), and by a learning curve: the same folds, learning from
the first 10, 25, 50 and 100 % of each fold's training documents.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from annotator.formats.schema import SchemaSpec

from .types import AnnotatedDocument, Recommender, RecommenderError, Suggestions

__all__ = ["FRACTIONS", "Tally", "cross_validate", "evaluate_fixed", "folds_by_document",
           "score"]

#: The learning curve's shares of the training documents.
FRACTIONS = (0.1, 0.25, 0.5, 1.0)
_CRITERIA = ("exact", "overlap")


@dataclass
class Tally:
    """Counts pooled over documents: matches per criterion and label, and sizes."""

    matched: dict[str, Counter] = field(
        default_factory=lambda: {c: Counter() for c in _CRITERIA})
    suggested: Counter = field(default_factory=Counter)
    reference: Counter = field(default_factory=Counter)
    relations_matched: int = 0
    relations_suggested: int = 0
    relations_reference: int = 0

    def add(self, suggestions: Suggestions, reference: AnnotatedDocument) -> None:
        import numpy as np

        from annotator.metrics.span_f1 import span_match_counts

        pred = [(s.start, s.end, s.label) for s in suggestions.spans]
        gold = [(s.start, s.end, s.label) for s in reference.spans]
        labels = sorted({lab for *_, lab in pred + gold})
        index = {lab: k for k, lab in enumerate(labels)}

        def arrays(spans):
            return (np.array([s for s, _, _ in spans], dtype=np.int64),
                    np.array([e for _, e, _ in spans], dtype=np.int64),
                    np.array([index[lab] for *_, lab in spans], dtype=np.int64))

        counts = span_match_counts(arrays(pred), arrays(gold), len(labels))
        for c, criterion in enumerate(_CRITERIA):  # span_f1.CRITERIA starts with these two
            for k, lab in enumerate(labels):
                self.matched[criterion][lab] += int(counts[c, k])
        self.suggested.update(lab for *_, lab in pred)
        self.reference.update(lab for *_, lab in gold)
        wanted = {(reference.spans[a], reference.spans[b], t) for a, b, t in reference.relations}
        got = {(r.source, r.target, r.type) for r in suggestions.relations}
        self.relations_matched += len(wanted & got)
        self.relations_suggested += len(got)
        self.relations_reference += len(wanted)

    def figures(self) -> dict:
        labels = sorted(set(self.suggested) | set(self.reference))
        out: dict = {}
        for criterion in _CRITERIA:
            matched = self.matched[criterion]
            per_label = {
                lab: _prf(matched[lab], self.suggested[lab], self.reference[lab])
                for lab in labels
            }
            total = _prf(sum(matched.values()), sum(self.suggested.values()),
                         sum(self.reference.values()))
            out[criterion] = {**total, "per_label": per_label}
        out["relations"] = _prf(self.relations_matched, self.relations_suggested,
                                self.relations_reference)
        return out


def _ratio(a: float, b: float) -> float | None:
    return None if b == 0 else round(a / b, 4)


def _prf(matched: int, suggested: int, reference: int) -> dict:
    return {"precision": _ratio(matched, suggested), "recall": _ratio(matched, reference),
            "f1": _ratio(2 * matched, suggested + reference),
            "suggested": suggested, "reference": reference}


def score(suggestions: Suggestions, reference: AnnotatedDocument) -> dict:
    """Figures of one document's suggestions against one reference.

    >>> from annotator.suggest.types import Endpoint, SpanSuggestion
    >>> ref = AnnotatedDocument("a b c d", (Endpoint(0, 3, "Claim"), Endpoint(4, 7, "Claim")))
    >>> got = Suggestions([SpanSuggestion("Claim", 0, 3, 1.0, "x"),
    ...                    SpanSuggestion("Claim", 4, 5, 1.0, "x")])
    >>> f = score(got, ref)
    >>> f["exact"]["f1"], f["overlap"]["f1"], f["relations"]["f1"]
    (0.5, 1.0, None)
    """
    tally = Tally()
    tally.add(suggestions, reference)
    return tally.figures()


def folds_by_document(documents: Sequence[AnnotatedDocument], k: int, *, seed: int = 0):
    """``k`` folds of the documents' groups (every set of a document in one fold).

    >>> docs = [AnnotatedDocument("x", group=g) for g in "aabcde"]
    >>> [sorted({d.group for d in fold}) for fold in folds_by_document(docs, 3)]
    [['c', 'e'], ['b', 'd'], ['a']]
    """
    groups = sorted({d.group for d in documents})
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    if len(groups) < k:
        raise ValueError(f"{len(groups)} documents cannot be split into {k} folds")
    random.Random(seed).shuffle(groups)
    fold_of = {g: n % k for n, g in enumerate(groups)}
    folds: list[list[AnnotatedDocument]] = [[] for _ in range(k)]
    for doc in documents:
        folds[fold_of[doc.group]].append(doc)
    return folds


def evaluate_fixed(
    recommender: Recommender, documents: Sequence[AnnotatedDocument], schema: SchemaSpec
) -> dict:
    """Figures of a recommender that does not learn (cues, external) on every document.

    A document's suggestions are computed once and scored against each of its
    references. An external recommender's error stops the evaluation and is reported.
    """
    tally = Tally()
    cache: dict[str, Suggestions] = {}
    began = time.perf_counter()
    try:
        for doc in documents:
            if doc.text not in cache:
                cache[doc.text] = recommender.suggest(doc.text, schema)
            tally.add(cache[doc.text], doc)
    except RecommenderError as exc:
        return {"error": str(exc)}
    seconds = time.perf_counter() - began
    return {**tally.figures(), "documents": len(cache),
            "seconds_per_document": round(seconds / max(len(cache), 1), 4)}


def cross_validate(
    train: Callable[[Sequence[AnnotatedDocument]], Recommender],
    documents: Sequence[AnnotatedDocument],
    schema: SchemaSpec,
    *,
    folds: int = 5,
    fractions: Sequence[float] = FRACTIONS,
    seed: int = 0,
) -> dict:
    """K-fold figures of a recommender that learns, with its learning curve.

    Parameters
    ----------
    train : callable
        Learns from a sequence of documents and returns a recommender.
    documents : sequence of AnnotatedDocument
        Every reference set, ``group`` naming its document.
    folds : int
        Lowered to the number of documents when there are fewer (at least 2 needed).

    Returns
    -------
    dict
        The figures at 100 % (as :meth:`Tally.figures`), ``folds``, and
        ``learning_curve``: one entry per fraction with ``documents`` (mean training
        documents per fold) and the exact and overlap span F1 and relation F1.
    """
    groups = sorted({d.group for d in documents})
    if len(groups) < 2:
        return {"error": f"cross-validation needs at least 2 documents; the project has "
                         f"{len(groups)}"}
    k = min(folds, len(groups))
    parts = folds_by_document(documents, k, seed=seed)
    curve = []
    full = None
    began = time.perf_counter()
    for fraction in sorted(fractions):
        tally = Tally()
        sizes = []
        for n, held_out in enumerate(parts):
            training = [d for m, part in enumerate(parts) if m != n for d in part]
            names = sorted({d.group for d in training})
            random.Random(seed + n).shuffle(names)
            keep = set(names[: max(1, math.ceil(fraction * len(names)))])
            sizes.append(len(keep))
            recommender = train([d for d in training if d.group in keep])
            cache: dict[str, Suggestions] = {}
            for doc in held_out:
                if doc.text not in cache:
                    cache[doc.text] = recommender.suggest(doc.text, schema)
                tally.add(cache[doc.text], doc)
        figures = tally.figures()
        curve.append({"fraction": fraction, "documents": round(sum(sizes) / len(sizes), 1),
                      "exact_f1": figures["exact"]["f1"], "overlap_f1": figures["overlap"]["f1"],
                      "relations_f1": figures["relations"]["f1"]})
        if fraction == max(fractions):
            full = figures
    return {**(full or {}), "folds": k, "learning_curve": curve,
            "seconds": round(time.perf_counter() - began, 2)}


def by_label(documents: Sequence[AnnotatedDocument]) -> dict[str, int]:
    """How many reference spans each label has (for a report's header)."""
    counts: dict[str, int] = defaultdict(int)
    for doc in documents:
        for span in doc.spans:
            counts[span.label] += 1
    return dict(sorted(counts.items()))
