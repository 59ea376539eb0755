"""The agreement report of a project, and bootstrap intervals for its headline figures.

Design note
-----------
Every figure of the report is a non-linear function of sums that add up over
documents (pooling, DESIGN.md: "overall pools every document ... it is not a
mean of per-document scores"). The documents are read once, in chunks, into
two tables of such sums:

* per document (``doc_sums``, shape (n_documents, k)): the coincidence
  matrix's totals and marginals (Krippendorff's alpha, nominal and per label),
  Fleiss' sums, and the unitizing sums per label;
* per document and pair of annotators (``pair_sums``, shape
  (n_document_pairs, k)): the Cohen contingency table's total, trace and
  margins, span matches and sizes per criterion and label, relation matches
  and sizes per type.

A unit's categories enter only through the two-annotator contingency tables:
the coincidence matrix of a document with ``R`` annotators is
``sum_pairs (T + T') / (R - 1)`` and Fleiss' per-item agreement is the share
of agreeing annotator pairs, so one table per document pair gives every
coefficient. Then ``overall`` is the column sum, ``by_document`` the rows,
and a bootstrap resample a weighted sum (weights = how often each document
was drawn); the figures are computed from those sums by vectorised functions,
the same for the three uses. The one term that does not add up, the unit-gap
term of unitizing alpha's expected disagreement, pairs units and gaps of
different documents: the report computes it from histograms of the unit and
gap lengths per document and label (all it depends on), the bootstrap from
the same histograms (:class:`_Resampling`). :func:`agreement_figures` reads the documents once
for both the report and the bootstrap; a batch of resamples is a matrix
product of the batch's weights with each per-document table, so the cost is
linear in documents and in resamples.

Documents with fewer than two of the chosen annotators count in
``documents`` but give nothing to pair: they add nothing to any figure.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations, pairwise
from typing import Any

import numpy as np
from scipy import sparse

from annotator.metrics.relation_f1 import relation_keys, relation_match_counts_grouped
from annotator.metrics.span_f1 import CRITERIA, span_match_counts_grouped
from annotator.metrics.types import DocumentAnnotations
from annotator.metrics.unitizing import (
    disagreements_from_sums,
    expected_cross_term,
    section_sums,
)
from annotator.metrics.units import (
    MAX_LABELS,
    UNITS,
    category_name,
    covered_label_masks,
    unit_bounds,
)

__all__ = [
    "HEADLINE_FIGURES",
    "agreement_figures",
    "bootstrap_intervals",
    "build_report",
    "document_disagreement",
    "documents_by_disagreement",
]

#: Documents read at once: bounds the memory of the per-unit arrays
#: (about 40 bytes per unit and annotator) whatever the project's size.
CHUNK_DOCUMENTS = 256
#: Resamples of one batch of the bootstrap, at most: progress is reported per batch.
BOOTSTRAP_BATCH = 125
#: Fewer documents than this give no interval: resampling one document cannot vary.
MIN_BOOTSTRAP_DOCUMENTS = 2
#: Cap on the cells (documents x resamples) of one batch's weight matrix:
#: 2**21 float64 cells are 16 MiB, so a batch has fewer resamples on large projects
#: (a batch holds a few such matrices at once: 2**22 put a 100,000-brief run's pooling
#: worker over 512 MiB; the draws, in order, are the same whatever the batch).
BOOTSTRAP_CELLS = 1 << 21
#: Progress of :func:`agreement_figures` when the documents are read, and when
#: the report is built; the bootstrap takes the rest (shares of measured time).
READ_PROGRESS = 0.85
REPORT_PROGRESS = 0.92
#: Relative size under which an expected disagreement counts as zero (one
#: category only): the sums are of floats weighted by 1 / (R - 1).
_EPS = 1e-12
#: Up to this many labels a category is looked up in a table of 2**labels
#: entries (a 64 KiB table at most) instead of sorting the units' masks.
_LOOKUP_LABELS = 13
#: Contingency keys are counted with a dense bincount when its length stays
#: within a few times the number of units plus this many entries.
_DENSE_KEYS = 1 << 20
#: Headline figures that get bootstrap intervals (paths into the report).
HEADLINE_FIGURES = (
    ("krippendorff_alpha",),
    ("cohen_kappa",),
    ("fleiss_kappa",),
    ("unitizing_alpha",),
    ("span_f1", "exact"),
    ("span_f1", "overlap"),
    ("span_f1", "jaccard50"),
    ("relation_f1",),
)


def agreement_figures(
    project: str,
    documents: Sequence[DocumentAnnotations],
    *,
    unit: str = "token",
    annotators: list[str] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    progress: Callable[[float], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report and its bootstrap intervals, from one reading of the documents.

    The same as ``(build_report(...), bootstrap_intervals(...))`` with the
    same arguments, but the documents are read into per-document sums once
    and both come from those sums.

    Parameters
    ----------
    project, documents, unit, annotators
        As for :func:`build_report`.
    n_resamples, seed, confidence
        As for :func:`bootstrap_intervals`.
    progress : callable, optional
        Called with the fraction done (0 to 1, never decreasing): up to
        :data:`READ_PROGRESS` while the documents are read, :data:`REPORT_PROGRESS`
        once the report is built, then after each batch of resamples.

    Returns
    -------
    report : dict
        As from :func:`build_report`.
    intervals : dict
        As from :func:`bootstrap_intervals`.
    """
    _check_bootstrap(n_resamples, confidence)
    corpus = _Corpus.read(
        documents, unit=unit, annotators=annotators,
        progress=_scaled(progress, 0.0, READ_PROGRESS),
    )
    return _report_and_intervals(corpus, project, unit, n_resamples=n_resamples, seed=seed,
                                 confidence=confidence, progress=progress)


def _report_and_intervals(
    corpus: _Corpus, project: str, unit: str, *, n_resamples: int, seed: int,
    confidence: float, progress: Callable[[float], None] | None, documents: bool = True,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report and the bootstrap of a read corpus (progress from REPORT_PROGRESS on);
    without ``by_document`` when not ``documents``."""
    report = corpus.report(project, unit, documents=documents)
    if progress is not None:
        progress(REPORT_PROGRESS)
    resampling = _Resampling(corpus)
    # The resampling keeps its own copies of the sums it reads (the largest arrays).
    corpus.doc_sums = corpus.pair_sums = corpus.separable = None
    intervals = resampling.intervals(
        n_resamples, seed=seed, confidence=confidence,
        progress=_scaled(progress, REPORT_PROGRESS, 1.0),
    )
    if progress is not None:
        progress(1.0)
    return report, intervals


def build_report(
    project: str,
    documents: Sequence[DocumentAnnotations],
    *,
    unit: str = "token",
    annotators: list[str] | None = None,
    progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """The agreement report of DESIGN.md ("Agreement: what is computed").

    Parameters
    ----------
    project : str
        The project's slug, copied into the report.
    documents : sequence of DocumentAnnotations
        The documents in scope, each with the work of the annotators who
        submitted it.
    unit : {"token", "char"}
        Coding unit of kappa and alpha.
    annotators : list of str, optional
        The annotators in scope, in the order of the pair keys; work by
        others is ignored. Default: every annotator found, sorted by name.
    progress : callable, optional
        Called with the fraction done (0 to 1) as documents are read.

    Returns
    -------
    dict
        JSON-serialisable: ``project``, ``unit``, ``documents`` (their
        number), ``annotators``, ``overall`` and ``by_document`` (document id
        to the same shape as ``overall``). Undefined values are None.
    """
    corpus = _Corpus.read(documents, unit=unit, annotators=annotators,
                          progress=_scaled(progress, 0.0, 0.9))
    report = corpus.report(project, unit)
    if progress is not None:
        progress(1.0)
    return report


def bootstrap_intervals(
    documents: Sequence[DocumentAnnotations],
    *,
    unit: str = "token",
    annotators: list[str] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Percentile bootstrap intervals of the headline figures.

    Documents are resampled with replacement: resample ``r`` (in order) is
    ``rng.integers(0, n, size=n)`` with ``rng = numpy.random.default_rng(seed)``
    and ``n`` documents, a document drawn twice counting twice. Its pooled
    figures are those of the report of the documents drawn, computed from the
    per-document sums weighted by how often each document was drawn.

    Parameters
    ----------
    documents, unit, annotators
        As for :func:`build_report`.
    n_resamples : int
        Number of bootstrap resamples.
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same
        intervals.
    confidence : float
        Coverage of the interval, in (0, 1).
    progress : callable, optional
        Called with the fraction done (0 to 1) after reading and after each
        batch of resamples.

    Returns
    -------
    dict
        ``{"n_resamples", "confidence", "seed", "intervals"}``; ``intervals``
        maps ``krippendorff_alpha``, ``cohen_kappa``, ``fleiss_kappa``,
        ``unitizing_alpha``, ``span_f1_exact``, ``span_f1_overlap``,
        ``span_f1_jaccard50`` and ``relation_f1`` to ``{"low", "high",
        "undefined"}``: the percentiles of the resamples where the figure is
        defined, and how many resamples left it undefined. ``low``/``high``
        are None when no resample defines it, and for fewer than
        ``MIN_BOOTSTRAP_DOCUMENTS`` documents, where resampling shows nothing.
    """
    _check_bootstrap(n_resamples, confidence)
    corpus = _Corpus.read(documents, unit=unit, annotators=annotators,
                          progress=_scaled(progress, 0.0, READ_PROGRESS))
    intervals = _Resampling(corpus).intervals(
        n_resamples, seed=seed, confidence=confidence,
        progress=_scaled(progress, READ_PROGRESS, 1.0),
    )
    if progress is not None:
        progress(1.0)
    return intervals


def _check_bootstrap(n_resamples: int, confidence: float) -> None:
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")


def _scaled(
    progress: Callable[[float], None] | None, low: float, high: float
) -> Callable[[float], None] | None:
    """``progress`` with its 0..1 mapped onto ``low..high``."""
    if progress is None:
        return None
    return lambda fraction: progress(low + (high - low) * fraction)


def document_disagreement(figures: dict[str, Any]) -> float | None:
    """How much the annotators of a document disagree, for sorting documents.

    ``1 - span_f1.overlap.value`` of the document's figures: the share of
    spans that find no same-label, overlapping partner, averaged over the
    annotator pairs. It is defined whenever some annotator marked a span
    (token alpha is not: a document left all "O" by everybody has no alpha),
    and reads the same for every document length. None when undefined.
    """
    value = figures["span_f1"]["overlap"]["value"]
    return None if value is None else 1.0 - value


def documents_by_disagreement(report: dict[str, Any]) -> list[str]:
    """Document ids, most disagreement first; undefined ones last, by id."""
    scored = [(doc_id, document_disagreement(f)) for doc_id, f in report["by_document"].items()]
    defined = sorted((s for s in scored if s[1] is not None), key=lambda s: (-s[1], s[0]))
    undefined = sorted(doc_id for doc_id, score in scored if score is None)
    return [doc_id for doc_id, _ in defined] + undefined


# --------------------------------------------------------------------------- #
# Reading the documents into sums


@dataclass
class _Layout:
    """Column slices of the per-document and per-document-pair sum tables."""

    n_categories: int
    n_labels: int
    n_types: int

    def __post_init__(self) -> None:
        c, lab, t = self.n_categories, self.n_labels, self.n_types
        doc_blocks = [
            ("n", 1), ("trace", 1), ("n_c", c), ("obs_l", lab), ("n1_l", lab),
            ("f_sum", 1), ("f_items", 1), ("f_props", c),
            ("u_obs", lab), ("u_n", lab), ("u_cubic", lab), ("u_sq", lab),
            ("u_pair_length", 1), ("u_length", 1), ("u_rated", 1),
        ]
        pair_blocks = [
            ("total", 1), ("ptrace", 1), ("row", c), ("col", c),
            ("span_m", len(CRITERIA) * lab), ("span_size", lab),
            ("rel_m", t), ("rel_size", t),
        ]
        self.doc = _slices(doc_blocks)
        self.pair = _slices(pair_blocks)
        self.doc_width = self.doc["u_rated"].stop
        self.pair_width = self.pair["rel_size"].stop


def _slices(blocks: list[tuple[str, int]]) -> dict[str, slice]:
    out, at = {}, 0
    for name, width in blocks:
        out[name] = slice(at, at + width)
        at += width
    return out


@dataclass
class _Corpus:
    annotators: list[str]
    labels: list[str]
    types: list[str]
    category_masks: np.ndarray  # (C,) bit mask of each category
    doc_ids: list[str]
    doc_raters: np.ndarray  # (D,)
    doc_annotators: list[list[int]]
    pairs: list[tuple[int, int]]
    dp_doc: np.ndarray  # (n_dp,)
    dp_pair: np.ndarray  # (n_dp,)
    layout: _Layout
    doc_sums: np.ndarray  # (D, doc_width)
    pair_sums: np.ndarray  # (n_dp, pair_width)
    # Unitizing: histograms of the lengths of each document's units and gaps per
    # label (document, label, length, how many), all the unit-gap term needs.
    unit_doc: np.ndarray
    unit_label: np.ndarray
    unit_length: np.ndarray
    unit_count: np.ndarray
    gap_doc: np.ndarray
    gap_label: np.ndarray
    gap_length: np.ndarray
    gap_count: np.ndarray
    #: A corpus pooled from chunks (``metrics.pooling``) brings the unit-gap term
    #: already summed: ``separable`` (D, n_labels, 4), each document's sums of
    #: l^2 and l^3 over units and of g + 1 and 1 over gaps, and ``cross``
    #: (n_labels,) the pooled term; its histograms then hold only the units and
    #: gaps that some gap is shorter than, or some unit longer than, the ones
    #: the bootstrap's correction reads (:meth:`_Resampling._cross`). Its
    #: documents' own figures were computed with their chunk.
    separable: np.ndarray | None = None
    cross: np.ndarray | None = None

    # ------------------------------------------------------------------ read
    @classmethod
    def read(
        cls,
        documents: Sequence[DocumentAnnotations],
        *,
        unit: str,
        annotators: list[str] | None,
        progress: Callable[[float], None] | None = None,
    ) -> _Corpus:
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
        doc_ids = [doc.id for doc in documents]
        if len(set(doc_ids)) != len(doc_ids):
            duplicated = sorted(k for k, n in Counter(doc_ids).items() if n > 1)
            raise ValueError(f"duplicate document ids: {duplicated[:5]}")
        if annotators is None:
            annotators = sorted({name for doc in documents for name in doc.work})
        elif len(set(annotators)) != len(annotators):
            raise ValueError(f"annotators are listed twice: {annotators}")
        annotators = list(annotators)
        index = {name: k for k, name in enumerate(annotators)}
        doc_annotators = [sorted(index[n] for n in doc.work if n in index) for doc in documents]
        labels = sorted({
            span.label
            for doc, present in zip(documents, doc_annotators, strict=True)
            for a in present
            for span in doc.work[annotators[a]].spans
        })
        if len(labels) > MAX_LABELS:
            raise ValueError(f"at most {MAX_LABELS} span labels are supported, got {len(labels)}")
        types = sorted({
            rel.type
            for doc, present in zip(documents, doc_annotators, strict=True)
            for a in present
            for rel in doc.work[annotators[a]].relations
        })
        reader = _Reader(annotators, labels, types, unit)
        n = len(documents)
        for begin in range(0, n, CHUNK_DOCUMENTS):
            chunk = range(begin, min(n, begin + CHUNK_DOCUMENTS))
            reader.read_chunk([documents[i] for i in chunk], [doc_annotators[i] for i in chunk],
                              first_doc=begin)
            if progress is not None:
                progress(chunk.stop / n)
        return reader.finish(doc_ids, doc_annotators)

    # --------------------------------------------------------------- figures
    def report(self, project: str, unit: str, *, documents: bool = True) -> dict[str, Any]:
        """The report of :func:`build_report` from the read sums (without
        ``by_document`` when not ``documents``)."""
        overall = self.figures(
            self.doc_sums.sum(axis=0, keepdims=True),
            _group_sum(self.pair_sums, self.dp_pair, len(self.pairs))[None],
            self.cross_overall()[None],
            [self.pairs],
        )[0]
        report = {
            "project": project,
            "unit": unit,
            "documents": len(self.doc_ids),
            "annotators": list(self.annotators),
            "overall": overall,
        }
        if documents:
            report["by_document"] = dict(zip(self.doc_ids, self.figures_by_document(),
                                             strict=True))
        return report

    def cross_overall(self) -> np.ndarray:
        """Unit-gap term of D_e pooled over all documents, shape (n_labels,)."""
        if self.cross is not None:
            return self.cross
        return expected_cross_term(
            self.unit_label, self.unit_length, self.gap_label, self.gap_length, len(self.labels),
            self.unit_count, self.gap_count,
        )

    def figures_by_document(self) -> list[dict[str, Any]]:
        return self.figures(*self._document_rows())

    def document_figures_json(self) -> tuple[list[str], np.ndarray]:
        """Each document's figures as JSON (the text of ``json.dumps`` of its entry of
        :meth:`figures_by_document`), and its values (D, 4): disagreement
        (:func:`document_disagreement`), alpha, exact span F1 and relation F1, nan
        where undefined.

        The documents that share their annotator pairs share the shape of their
        figures: that shape is written once, as a template, and each document's
        numbers filled in, without a dict per document.
        """
        doc_rows, pair_rows, cross, row_pairs = self._document_rows()
        values = self._figure_values(doc_rows, pair_rows, cross)
        overlap, exact = CRITERIA.index("overlap"), CRITERIA.index("exact")
        summary = np.column_stack([1.0 - values["span_mean"][:, overlap], values["alpha"],
                                   values["span_mean"][:, exact], values["rel_mean"]])
        lines: list[str] = [""] * len(row_pairs)
        shapes: dict[tuple, list[int]] = {}
        for g, pairs in enumerate(row_pairs):
            shapes.setdefault(tuple(pairs), []).append(g)
        if any(len(set(self._pair_keys(pairs))) < len(pairs) for pairs in shapes):
            # Two pairs whose keys read alike (annotators "a|b" and "c", "a" and "b|c"):
            # a dict keeps one of them, a template would keep both.
            return [json.dumps(f, allow_nan=False) for f in self.figures_by_document()], summary
        for pairs, rows in shapes.items():
            slots: list[tuple] = []
            template = _json_template(self._figure_tree(
                lambda name, *at, slots=slots: slots.append((name, at)) or _SLOT, list(pairs)))
            rows = np.array(rows, dtype=np.int64)
            numbers = np.column_stack([values[name][(rows, *at)] for name, at in slots]
                                      ) if slots else np.zeros((len(rows), 0))
            if np.isinf(numbers).any():
                raise ValueError("Out of range float values are not JSON compliant")
            # Ratios of small counts: few distinct numbers, each written once (told
            # apart by their bits, so that -0.0 stays itself).
            distinct, which = np.unique(numbers.ravel().view(np.int64), return_inverse=True)
            distinct = distinct.view(np.float64)
            written = np.array([*map(float.__repr__, distinct.tolist()), "null"],
                               dtype=object)
            text = written[np.where(np.isnan(distinct), len(distinct), np.arange(
                len(distinct)))[which]].tolist()
            width = len(slots)
            for k, g in enumerate(rows.tolist()):
                lines[g] = template % tuple(text[k * width:(k + 1) * width])
        return lines, summary

    def _document_rows(self):
        """Each document's sums as :meth:`figures` takes them, its pairs its own."""
        if self.separable is not None:
            raise ValueError("a pooled corpus's documents have their figures with their chunks")
        n_docs, n_labels, width = len(self.doc_ids), len(self.labels), self.layout.pair_width
        cross = expected_cross_term(
            self.unit_doc * n_labels + self.unit_label, self.unit_length,
            self.gap_doc * n_labels + self.gap_label, self.gap_length, n_docs * n_labels,
            self.unit_count, self.gap_count,
        ).reshape(n_docs, n_labels)
        # Pair sums of each document: (D, P_max, width) with the document's own pairs.
        max_pairs = max((len(a) * (len(a) - 1) // 2 for a in self.doc_annotators), default=0)
        per_doc = np.zeros((n_docs, max_pairs, width))
        slot = np.zeros(len(self.dp_doc), dtype=np.int64)
        if len(self.dp_doc):
            first = np.searchsorted(self.dp_doc, self.dp_doc, side="left")
            slot = np.arange(len(self.dp_doc)) - first
            per_doc[self.dp_doc, slot] = self.pair_sums
        pairs_of: dict[tuple, list] = {}  # most documents share their annotators
        doc_pairs = [pairs_of.get(a) or pairs_of.setdefault(a, list(combinations(a, 2)))
                     for a in map(tuple, self.doc_annotators)]
        return self.doc_sums, per_doc, cross, doc_pairs

    def figures(
        self,
        doc_rows: np.ndarray,
        pair_rows: np.ndarray,
        cross: np.ndarray,
        row_pairs: list[list[tuple[int, int]]],
    ) -> list[dict[str, Any]]:
        """Report figures of G pools.

        ``doc_rows`` (G, doc_width) summed document sums; ``pair_rows``
        (G, P, pair_width) summed pair sums of the pairs ``row_pairs[g]``
        (padding rows are zero); ``cross`` (G, n_labels).
        """
        lists = {name: _json_values(values) for name, values in
                 self._figure_values(doc_rows, pair_rows, cross).items()}
        out = []
        for g, pairs in enumerate(row_pairs):
            row = {name: values[g] for name, values in lists.items()}

            out.append(self._figure_tree(
                lambda name, *at, row=row: _leaf(row[name], at), pairs))
        return out

    def _figure_values(self, doc_rows, pair_rows, cross) -> dict[str, np.ndarray]:
        """The numbers of :meth:`figures`, each with a first axis of G (nan where undefined)."""
        alpha, alpha_label = self._alpha(doc_rows)
        fleiss = self._fleiss(doc_rows)
        unitizing, unitizing_label = self._unitizing(doc_rows, cross)
        kappa = self._kappa(pair_rows)
        span, span_label = self._span_f1(pair_rows)
        rel, rel_type = self._relation_f1(pair_rows)
        # Padding pairs (beyond a row's own pairs) are all-zero sums: nan figures,
        # so the means over pairs can be taken on the whole array.
        return {
            "alpha": alpha, "alpha_label": alpha_label, "fleiss": fleiss,
            "unitizing": unitizing, "unitizing_label": unitizing_label,
            "kappa": kappa, "kappa_mean": _nanmean(kappa, axis=1),
            # (G, criterion, pair): each criterion's pairs as one list.
            "span": np.swapaxes(span, 1, 2), "span_mean": _nanmean(span, axis=1),
            "span_label": _nanmean(span_label, axis=1),
            "rel": rel, "rel_mean": _nanmean(rel, axis=1),
            "rel_type": _nanmean(rel_type, axis=1),
        }

    def _pair_keys(self, pairs) -> list[str]:
        """The keys of annotator pairs in a document's figures: "a|b"."""
        return [f"{self.annotators[i]}|{self.annotators[j]}" for i, j in pairs]

    def _figure_tree(self, value: Callable, pairs: list[tuple[int, int]]) -> dict[str, Any]:
        """One pool's figures, ``value(name, *index)`` giving each number of
        :meth:`_figure_values` (its first axis, the pool's, left out)."""
        lab, types = self.labels, self.types
        keys = self._pair_keys(pairs)
        return {
            "krippendorff_alpha": {
                "value": value("alpha"),
                "per_label": {name: value("alpha_label", k) for k, name in enumerate(lab)},
            },
            "cohen_kappa": {
                "value": value("kappa_mean"),
                "pairs": {key: value("kappa", p) for p, key in enumerate(keys)},
            },
            "fleiss_kappa": {"value": value("fleiss")},
            "unitizing_alpha": {
                "value": value("unitizing"),
                "per_label": {name: value("unitizing_label", k) for k, name in enumerate(lab)},
            },
            "span_f1": {
                criterion: {
                    "value": value("span_mean", c),
                    "pairs": {key: value("span", c, p) for p, key in enumerate(keys)},
                    "per_label": {name: value("span_label", c, k)
                                  for k, name in enumerate(lab)},
                }
                for c, criterion in enumerate(CRITERIA)
            },
            "relation_f1": {
                "value": value("rel_mean"),
                "pairs": {key: value("rel", p) for p, key in enumerate(keys)},
                "per_type": {name: value("rel_type", k) for k, name in enumerate(types)},
            },
        }

    def headline(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """Headline figures of weighted pools, one per row of ``weights`` (B, D)."""
        return _Resampling(self).headline(weights)

    # Vectorised figures from summed rows; nan where undefined.
    def _alpha(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.layout.doc
        n, trace = rows[:, s["n"]][:, 0], rows[:, s["trace"]][:, 0]
        n_c = rows[:, s["n_c"]]
        expected = n * n - (n_c * n_c).sum(axis=1)
        alpha = _ratio_alpha(n, n - trace, expected)
        n1 = rows[:, s["n1_l"]]
        per_label = _ratio_alpha(n[:, None], rows[:, s["obs_l"]], 2.0 * n1 * (n[:, None] - n1))
        return alpha, per_label

    def _fleiss(self, rows: np.ndarray) -> np.ndarray:
        s = self.layout.doc
        items = rows[:, s["f_items"]][:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            p = rows[:, s["f_props"]] / items[:, None]
            p_e = (p * p).sum(axis=1)
            kappa = (rows[:, s["f_sum"]][:, 0] / items - p_e) / (1.0 - p_e)
        return np.where((items > 0) & (p_e < 1.0 - _EPS), kappa, np.nan)

    def _unitizing(self, rows: np.ndarray, cross: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.layout.doc
        d_o, d_e = disagreements_from_sums(
            observed=rows[:, s["u_obs"]],
            pair_length=rows[:, s["u_pair_length"]],
            length=rows[:, s["u_length"]],
            rated_length=rows[:, s["u_rated"]],
            n_units=rows[:, s["u_n"]],
            cubic=rows[:, s["u_cubic"]],
            squared=rows[:, s["u_sq"]],
            cross=cross,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            per_label = 1.0 - d_o / d_e
            defined = ~np.isnan(d_e)
            count = defined.sum(axis=1)
            mean_o = np.where(defined, d_o, 0.0).sum(axis=1) / count
            mean_e = np.where(defined, d_e, 0.0).sum(axis=1) / count
            overall = np.where(count > 0, 1.0 - mean_o / mean_e, np.nan)
        return overall, per_label

    def _kappa(self, rows: np.ndarray) -> np.ndarray:
        s = self.layout.pair
        total, trace = rows[..., s["total"]][..., 0], rows[..., s["ptrace"]][..., 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            p_o = trace / total
            p_e = (rows[..., s["row"]] * rows[..., s["col"]]).sum(axis=-1) / (total * total)
            kappa = (p_o - p_e) / (1.0 - p_e)
        return np.where((total > 0) & (p_e < 1.0 - _EPS), kappa, np.nan)

    def _span_f1(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s, n_labels = self.layout.pair, len(self.labels)
        matched = rows[..., s["span_m"]].reshape(*rows.shape[:-1], len(CRITERIA), n_labels)
        size = rows[..., s["span_size"]]
        with np.errstate(divide="ignore", invalid="ignore"):
            total = size.sum(axis=-1)[..., None]
            value = np.where(total > 0, 2.0 * matched.sum(axis=-1) / total, np.nan)
            size = size[..., None, :]
            per_label = np.where(size > 0, 2.0 * matched / size, np.nan)
        return value, per_label

    def _relation_f1(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.layout.pair
        matched, size = rows[..., s["rel_m"]], rows[..., s["rel_size"]]
        with np.errstate(divide="ignore", invalid="ignore"):
            total = size.sum(axis=-1)
            value = np.where(total > 0, 2.0 * matched.sum(axis=-1) / total, np.nan)
            per_type = np.where(size > 0, 2.0 * matched / size, np.nan)
        return value, per_type


class _Resampling:
    """The bootstrap's sufficient statistics of a corpus, and the figures of weighted pools.

    Every statistic is a dense or sparse table with one row (or column) per
    document, computed once; a resample is a vector ``w`` of how often each
    document was drawn, and its pooled sums are ``w @ table``. A batch of
    resamples is one matrix product per table, so the cost is
    O(resamples x (documents x k)), linear in both:

    * ``doc_stats`` (D, doc_width + 4 L): the corpus's per-document sums, then
      per label the per-document sums of the unit-gap term's separable part.
    * ``pair_docs[p]``, ``pair_stats[p]`` (D_p, pair_width): the documents
      that pair ``p`` annotated and their sums (Cohen tables, span and
      relation matches).
    * ``histograms`` (K, D), sparse: per label, how many units of each length
      (weighted by the squared length) and gaps of each length a document has,
      for the rest of the unit-gap term (see :meth:`_cross`).
    """

    def __init__(self, corpus: _Corpus):
        self.corpus = corpus
        n_docs, n_labels = len(corpus.doc_ids), len(corpus.labels)
        separable = corpus.separable
        if separable is None:
            separable = _separable_sums(corpus)
        rows, cols, values = [], [], []
        self.bins = []  # (label, unit rows, gap rows, unit lengths, gap lengths, gaps below)
        at = 0
        for k in range(n_labels):
            units, gaps = corpus.unit_label == k, corpus.gap_label == k
            ul, ud = corpus.unit_length[units].astype(float), corpus.unit_doc[units]
            gl, gd = corpus.gap_length[gaps].astype(float), corpus.gap_doc[gaps]
            un = corpus.unit_count[units].astype(float)
            gn = corpus.gap_count[gaps].astype(float)
            if not len(ul) or not len(gl):
                continue
            short = gl < ul.max()
            gap_values, gap_bin = np.unique(gl[short], return_inverse=True)
            unit_values, unit_bin = np.unique(ul, return_inverse=True)
            below = np.searchsorted(gap_values, unit_values, side="left")
            first = int(np.searchsorted(below, 1))  # lengths with a shorter gap: a suffix
            if first == len(unit_values):
                continue
            keep = unit_bin >= first
            n_unit_bins = len(unit_values) - first
            rows += [at + unit_bin[keep] - first, at + n_unit_bins + gap_bin]
            cols += [ud[keep], gd[short]]
            values += [un[keep] * ul[keep] ** 2, gn[short]]
            end = at + n_unit_bins + len(gap_values)
            self.bins.append((k, slice(at, at + n_unit_bins), slice(at + n_unit_bins, end),
                              unit_values[first:], gap_values, below[first:]))
            at = end
        self.doc_stats = np.hstack([corpus.doc_sums, separable.reshape(n_docs, 4 * n_labels)])
        self.histograms = sparse.csr_matrix(
            (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols)))
            if values else (np.zeros(0), (np.zeros(0, np.int64), np.zeros(0, np.int64))),
            shape=(at, n_docs),
        )
        order = np.argsort(corpus.dp_pair, kind="stable")
        bounds = np.searchsorted(corpus.dp_pair[order], np.arange(len(corpus.pairs) + 1))
        self.pair_docs = [corpus.dp_doc[order[a:b]] for a, b in pairwise(bounds)]
        self.pair_stats = [corpus.pair_sums[order[a:b]] for a, b in pairwise(bounds)]

    def intervals(
        self,
        n_resamples: int,
        *,
        seed: int,
        confidence: float,
        progress: Callable[[float], None] | None = None,
    ) -> dict[str, Any]:
        """The result of :func:`bootstrap_intervals`, in batches of resamples."""
        n_docs = len(self.corpus.doc_ids)
        names = ["_".join(path) for path in HEADLINE_FIGURES]
        draws = {name: np.full(n_resamples, np.nan) for name in names}
        rng = np.random.default_rng(seed)
        batch = max(1, min(BOOTSTRAP_BATCH, BOOTSTRAP_CELLS // max(n_docs, 1)))
        # Resampling fewer documents than this shows no variation at all (every
        # resample of one document is that document): the interval is undefined.
        resampled = n_resamples if n_docs >= MIN_BOOTSTRAP_DOCUMENTS else 0
        for begin in range(0, resampled, batch):
            size = min(batch, n_resamples - begin)
            drawn = np.empty((size, n_docs), dtype=np.int64)
            for r in range(size):
                drawn[r] = rng.integers(0, n_docs, size=n_docs)
            drawn *= size
            drawn += np.arange(size)[:, None]
            # weights[d, r]: how often resample r drew document d.
            weights = np.bincount(drawn.ravel(), minlength=n_docs * size).reshape(n_docs, size)
            del drawn
            headline = self._headline(weights.astype(np.float64))
            for name in names:
                draws[name][begin:begin + size] = headline[name]
            if progress is not None:
                progress((begin + size) / n_resamples)
        tail = (1.0 - confidence) / 2.0 * 100.0
        intervals = {}
        for name in names:
            defined = draws[name][~np.isnan(draws[name])]
            low, high = (
                (float(np.percentile(defined, tail)), float(np.percentile(defined, 100.0 - tail)))
                if len(defined)
                else (None, None)
            )
            intervals[name] = {"low": low, "high": high,
                               "undefined": int(n_resamples - len(defined))}
        return {
            "n_resamples": n_resamples,
            "confidence": confidence,
            "seed": seed,
            "intervals": intervals,
        }

    def headline(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """Headline figures of weighted pools, one per row of ``weights`` (B, D)."""
        return self._headline(np.ascontiguousarray(np.asarray(weights, dtype=np.float64).T))

    def _headline(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """Headline figures of the pools of the columns of ``weights`` (D, B), shape (B,)."""
        corpus, layout = self.corpus, self.corpus.layout
        n_pools, n_labels = weights.shape[1], len(corpus.labels)
        doc_rows = weights.T @ self.doc_stats
        pair_rows = np.zeros((n_pools, len(corpus.pairs), layout.pair_width))
        for p, (docs, stats) in enumerate(zip(self.pair_docs, self.pair_stats, strict=True)):
            pair_rows[:, p] = weights[docs].T @ stats
        separable = doc_rows[:, layout.doc_width:].reshape(n_pools, n_labels, 4)
        cross = self._cross(weights, separable)
        doc_rows = doc_rows[:, :layout.doc_width]
        alpha, _ = corpus._alpha(doc_rows)
        unitizing, _ = corpus._unitizing(doc_rows, cross)
        span, _ = corpus._span_f1(pair_rows)
        rel, _ = corpus._relation_f1(pair_rows)
        figures = {
            "krippendorff_alpha": alpha,
            "cohen_kappa": _nanmean(corpus._kappa(pair_rows), axis=1),
            "fleiss_kappa": corpus._fleiss(doc_rows),
            "unitizing_alpha": unitizing,
        }
        for k, criterion in enumerate(CRITERIA):
            figures[f"span_f1_{criterion}"] = _nanmean(span[:, :, k], axis=1)
        figures["relation_f1"] = _nanmean(rel, axis=1)
        return figures

    def _cross(self, weights: np.ndarray, separable: np.ndarray) -> np.ndarray:
        """Unit-gap term of D_e per pool and label, shape (B, n_labels).

        ``X = sum_u w_d(u) l_u^2 sum_g w_d(g) (g - l_u + 1)_+``. Writing
        ``(x)_+ = x + (-x)_+`` splits it into a part that is a product of
        weighted per-document sums (``separable``: sums of l^2 and l^3 over
        units, of g + 1 and 1 over gaps) and a correction over the pairs with
        ``g < l_u``::

            X = sum_u w l^2 * sum_g w (g + 1) - sum_u w l^3 * sum_g w
                + sum_l a(l) ((l - 1) n(< l) - s(< l))

        with ``a(l)`` the weighted sum of ``l^2`` over the units of length
        ``l``, and ``n(< l)``, ``s(< l)`` the weighted number and total length
        of the gaps shorter than ``l``: cumulative sums of the weighted
        histogram of gap lengths. The histograms come from one sparse
        product; their width is the number of distinct lengths.
        """
        s = separable
        cross = s[..., 0] * s[..., 2] - s[..., 1] * s[..., 3]
        if not self.bins:
            return cross
        counts = (self.histograms @ weights).T  # (B, K)
        for label, unit_rows, gap_rows, unit_lengths, gap_lengths, below in self.bins:
            gaps = counts[:, gap_rows]
            n_below = np.zeros((len(gaps), gaps.shape[1] + 1))
            np.cumsum(gaps, axis=1, out=n_below[:, 1:])
            length_below = np.zeros_like(n_below)
            np.cumsum(gaps * gap_lengths, axis=1, out=length_below[:, 1:])
            correction = (unit_lengths - 1.0) * n_below[:, below] - length_below[:, below]
            cross[:, label] += (counts[:, unit_rows] * correction).sum(axis=1)
        return cross


def _separable_sums(corpus: _Corpus) -> np.ndarray:
    """Per document and label, the sums of l^2 and l^3 over units and of g + 1 and 1
    over gaps (weighted by their counts), shape (D, n_labels, 4): the part of the
    unit-gap term that is a product of per-document sums (:meth:`_Resampling._cross`)."""
    n_docs, n_labels = len(corpus.doc_ids), len(corpus.labels)
    ud, ul = corpus.unit_doc * n_labels + corpus.unit_label, corpus.unit_length.astype(float)
    gd, gl = corpus.gap_doc * n_labels + corpus.gap_label, corpus.gap_length.astype(float)
    un, gn = corpus.unit_count.astype(float), corpus.gap_count.astype(float)
    size = n_docs * n_labels
    return np.stack([
        np.bincount(ud, un * ul**2, size), np.bincount(ud, un * ul**3, size),
        np.bincount(gd, gn * (gl + 1.0), size), np.bincount(gd, gn, size),
    ], axis=1).reshape(n_docs, n_labels, 4)


def _slot_pairs(raters: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of annotator slots of each document with ``raters[d]`` annotators:
    (document, slot a, slot b), document after document, each document's pairs in the
    order of ``combinations(range(raters[d]), 2)``."""
    count = np.where(raters >= 2, raters * (raters - 1) // 2, 0)
    doc = np.repeat(np.arange(len(raters)), count)
    k = np.arange(len(doc)) - np.repeat(np.cumsum(count) - count, count)
    top = int(raters.max(initial=0))
    slot_a = np.zeros((top + 1, max(top * (top - 1) // 2, 1)), dtype=np.int64)
    slot_b = np.zeros_like(slot_a)
    for r in range(2, top + 1):
        pairs = np.array(list(combinations(range(r), 2)), dtype=np.int64)
        slot_a[r, :len(pairs)], slot_b[r, :len(pairs)] = pairs[:, 0], pairs[:, 1]
    return doc, slot_a[raters[doc], k], slot_b[raters[doc], k]


def _rows_of_sets(row_set: np.ndarray, sets: np.ndarray, n_sets: int):
    """The rows (ordered by set) of each set in ``sets``, one after the other, and
    the position in ``sets`` each row came from."""
    per_set = np.bincount(row_set, minlength=n_sets)
    first = np.cumsum(per_set) - per_set
    size = per_set[sets]
    group = np.repeat(np.arange(len(sets)), size)
    rows = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
    return rows + np.repeat(first[sets], size), group


def _unit_bounds_of(texts: list[str], docs: np.ndarray, offsets: np.ndarray, unit: str):
    """Units of the documents ``docs``: starts and ends at ``offsets[d]`` and document.

    Tokens of every document come from one pass over their texts joined by a
    line end (whitespace: no token crosses it), then moved back to each
    document's offset; characters are counted directly.
    """
    lengths = np.fromiter((len(texts[d]) for d in docs.tolist()), np.int64, len(docs))
    if unit == "char":
        doc = np.repeat(docs, lengths)
        starts = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths,
                                                           lengths) + offsets[doc]
        return starts, starts + 1, doc
    ts, te = unit_bounds("\n".join(texts[d] for d in docs.tolist()), unit)
    joined = np.cumsum(lengths + 1) - (lengths + 1)  # where each text begins in the join
    # Units of each text: those starting before the next text begins.
    count = np.diff(np.searchsorted(ts, joined, side="left"), append=len(ts))
    shift = np.repeat(offsets[docs] - joined, count)
    return ts + shift, te + shift, np.repeat(docs, count)


@dataclass
class ChunkColumns:
    """Documents and their annotators' work as arrays, for reading many at once.

    The same content as a list of :class:`~annotator.metrics.types.DocumentAnnotations`
    without an object per span (:func:`columns_of_documents` converts): the
    database reads a chunk straight into it. Sets (one annotator's work on one
    document) are ordered by document, then by annotator index; spans by set.

    Attributes
    ----------
    doc_ids, texts : list of str, length D
    set_doc, set_annotator : numpy.ndarray of int64, shape (S,)
        Each set's document (0..D-1) and annotator (index into the run's annotators).
    set_spans : numpy.ndarray of int64, shape (S,)
        Spans per set; the spans of set ``k`` follow those of set ``k - 1``.
    span_start, span_end, span_label : numpy.ndarray of int64, shape (N,)
        Offsets and label index of each span.
    span_id : sequence, length N
        Each span's id, for error messages.
    rel_set, rel_source, rel_target, rel_type : numpy.ndarray of int64, shape (R,)
        Each relation's set, its endpoints (rows of the span arrays, spans of
        the same set) and its type index.
    """

    doc_ids: list[str]
    texts: list[str]
    set_doc: np.ndarray
    set_annotator: np.ndarray
    set_spans: np.ndarray
    span_start: np.ndarray
    span_end: np.ndarray
    span_label: np.ndarray
    span_id: Sequence
    rel_set: np.ndarray
    rel_source: np.ndarray
    rel_target: np.ndarray
    rel_type: np.ndarray

    def documents(self, begin: int, end: int) -> ChunkColumns:
        """The columns of documents ``begin`` to ``end - 1``, numbered from 0."""
        s0, s1 = np.searchsorted(self.set_doc, [begin, end])
        first = np.concatenate([[0], np.cumsum(self.set_spans)])
        p0, p1 = int(first[s0]), int(first[s1])
        keep = (self.rel_set >= s0) & (self.rel_set < s1)
        return ChunkColumns(
            doc_ids=self.doc_ids[begin:end], texts=self.texts[begin:end],
            set_doc=self.set_doc[s0:s1] - begin, set_annotator=self.set_annotator[s0:s1],
            set_spans=self.set_spans[s0:s1], span_start=self.span_start[p0:p1],
            span_end=self.span_end[p0:p1], span_label=self.span_label[p0:p1],
            span_id=self.span_id[p0:p1], rel_set=self.rel_set[keep] - s0,
            rel_source=self.rel_source[keep] - p0, rel_target=self.rel_target[keep] - p0,
            rel_type=self.rel_type[keep],
        )


def columns_of_documents(
    documents: Sequence[DocumentAnnotations],
    present: list[list[int]],
    annotators: list[str],
    label_index: dict[str, int],
    type_index: dict[str, int],
) -> ChunkColumns:
    """The :class:`ChunkColumns` of ``documents``, with the annotators ``present[d]``
    (indexes into ``annotators``) of document ``d``.

    Raises ValueError when a relation of a document with two annotators or more
    names a span its annotator does not have (as :func:`relation_keys`).
    """
    raters = np.array([len(a) for a in present], dtype=np.int64)
    works = [doc.work[annotators[a]] for doc, ann in zip(documents, present, strict=True)
             for a in ann]
    n_sets = len(works)
    set_doc = np.repeat(np.arange(len(documents)), raters)
    set_spans = np.fromiter((len(w.spans) for w in works), np.int64, n_sets)
    flat = [sp for w in works for sp in w.spans]
    first = np.cumsum(set_spans) - set_spans
    rel_rows = []
    for k, work in enumerate(works):
        if not work.relations or raters[set_doc[k]] < 2:  # unpaired sets are not compared
            continue
        at = int(first[k])
        index = {sp.id: at + j for j, sp in enumerate(work.spans)}
        for relation in work.relations:
            source, target = index.get(relation.source), index.get(relation.target)
            if source is None or target is None:
                relation_keys(work)  # raises the error naming the missing span
            rel_rows.append((k, source, target, type_index[relation.type]))
    rel = np.array(rel_rows, dtype=np.int64).reshape(-1, 4)
    return ChunkColumns(
        doc_ids=[doc.id for doc in documents], texts=[doc.text for doc in documents],
        set_doc=set_doc,
        set_annotator=np.fromiter((a for ann in present for a in ann), np.int64, n_sets),
        set_spans=set_spans,
        span_start=np.fromiter((sp.start for sp in flat), np.int64, len(flat)),
        span_end=np.fromiter((sp.end for sp in flat), np.int64, len(flat)),
        span_label=np.fromiter((label_index[sp.label] for sp in flat), np.int64, len(flat)),
        span_id=[sp.id for sp in flat],
        rel_set=rel[:, 0], rel_source=rel[:, 1], rel_target=rel[:, 2], rel_type=rel[:, 3],
    )


class _Reader:
    """Reads documents chunk by chunk into the sums of :class:`_Corpus`."""

    def __init__(self, annotators: list[str], labels: list[str], types: list[str], unit: str):
        self.annotators, self.labels, self.types, self.unit = annotators, labels, types, unit
        self.label_index = {label: k for k, label in enumerate(labels)}
        self.type_index = {t: k for k, t in enumerate(types)}
        self.pair_index: dict[tuple[int, int], int] = {}
        self.category_of_mask: dict[int, int] = {}
        # Per-chunk outputs, concatenated in finish().
        self.triplets: list[np.ndarray] = []  # (dp, ca, cb, count)
        self.dp_doc: list[int] = []
        self.dp_pair: list[int] = []
        self.span_rows: list[np.ndarray] = []  # (n_dp, 3 * L + L)
        self.rel_rows: list[np.ndarray] = []  # (n_dp, 2 * T)
        self.unit_rows: list[np.ndarray] = []  # (n_docs_chunk, 4 * L + 3)
        self.units: list[tuple[np.ndarray, ...]] = []
        self.gaps: list[tuple[np.ndarray, ...]] = []

    def read_chunk(self, docs, present, *, first_doc: int) -> None:
        self.read_columns(
            columns_of_documents(docs, present, self.annotators, self.label_index,
                                 self.type_index),
            first_doc=first_doc,
        )

    def read_columns(self, columns: ChunkColumns, *, first_doc: int) -> None:
        n_labels = len(self.labels)
        n_docs = len(columns.doc_ids)
        set_doc, set_annotator = columns.set_doc, columns.set_annotator
        raters = np.bincount(set_doc, minlength=n_docs).astype(np.int64)
        n_sets = len(set_doc)
        set_slot = np.arange(n_sets) - np.repeat(np.cumsum(raters) - raters, raters)
        s, e, lb = columns.span_start, columns.span_end, columns.span_label
        span_set = np.repeat(np.arange(n_sets), columns.set_spans)
        span_doc = set_doc[span_set]
        lengths = np.fromiter((len(t) for t in columns.texts), np.int64, n_docs)
        bad = (s < 0) | (s >= e) | (e > lengths[span_doc])
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            d = int(span_doc[k])
            raise ValueError(
                f"document {columns.doc_ids[d]!r}, annotator "
                f"{self.annotators[int(set_annotator[span_set[k]])]!r}: span "
                f"{str(columns.span_id[k])!r} [{int(s[k])}, {int(e[k])}) is empty or outside "
                f"the text (length {int(lengths[d])})"
            )
        # Documents laid end to end: a span's or unit's offset in the chunk.
        offsets = np.cumsum(lengths) - lengths
        paired = raters >= 2
        in_pair = paired[span_doc]
        starts, ends, lab, slot, doc_of, token_bounds = [], [], [], [], [], []
        if paired.any():
            starts = [s[in_pair] + offsets[span_doc[in_pair]]]
            ends = [e[in_pair] + offsets[span_doc[in_pair]]]
            lab = [lb[in_pair]]
            slot = [set_slot[span_set[in_pair]]]
            doc_of = [span_doc[in_pair]]
            token_bounds.append(_unit_bounds_of(columns.texts, np.flatnonzero(paired),
                                                offsets, self.unit))
        # Document pairs of this chunk, in annotator order: each document's pairs of
        # annotator slots (ra < rb) in the order of ``combinations``.
        dp_base = len(self.dp_doc)
        slots = _slot_pairs(raters)
        first_set = np.cumsum(raters) - raters
        set_a, set_b = first_set[slots[0]] + slots[1], first_set[slots[0]] + slots[2]
        if len(set_a):
            a, b = set_annotator[set_a], set_annotator[set_b]
            codes, first, which = np.unique(a * len(self.annotators) + b, return_index=True,
                                            return_inverse=True)
            ids = np.zeros(len(codes), dtype=np.int64)
            for k in np.argsort(first, kind="stable").tolist():  # in order of appearance
                at = int(first[k])
                ids[k] = self.pair_index.setdefault((int(a[at]), int(b[at])),
                                                    len(self.pair_index))
            self.dp_doc.extend((slots[0] + first_doc).tolist())
            self.dp_pair.extend(ids[which].tolist())
        self._read_categories(token_bounds, starts, ends, lab, slot, raters, slots, dp_base)
        self._read_spans_and_relations(columns, lengths, set_a, set_b)
        self._read_unitizing(starts, ends, lab, slot, doc_of, offsets, lengths, raters,
                             first_doc, n_docs, n_labels)

    def _read_categories(self, token_bounds, starts, ends, lab, slot, raters, slots, dp_base):
        """Contingency triplets (document pair, category a, category b, count)."""
        if not token_bounds:
            return
        ts = np.concatenate([t[0] for t in token_bounds])
        te = np.concatenate([t[1] for t in token_bounds])
        tdoc = np.concatenate([t[2] for t in token_bounds])
        max_r = int(raters.max())
        if starts:
            s, e, lb, r = (np.concatenate(x) for x in (starts, ends, lab, slot))
            units, masks = covered_label_masks(ts, te, s, e, lb, r, max_r)
        else:
            units, masks = np.zeros(0, dtype=np.int64), np.zeros((max_r, 0), dtype=np.int64)
        # Only the units some span covers are looked at one by one: every other unit
        # is "O" for every annotator, counted per document. Units come document after
        # document (``tdoc`` increasing).
        units_of = np.bincount(tdoc, minlength=len(raters))
        unit_doc = tdoc[units]
        uncovered = units_of - np.bincount(unit_doc, minlength=len(raters))
        # "O" is a category when some annotator of some document leaves a unit
        # without a label (an annotator a document lacks counts as such).
        zero = bool(uncovered.any() or ((units_of > 0) & (raters < max_r)).any()
                    or not masks.all())
        # Category id of every mask, growing the global list.
        if len(self.labels) <= _LOOKUP_LABELS:
            present = np.bincount(masks.ravel(), minlength=1 << len(self.labels)) > 0
            present[0] |= zero
            seen = np.flatnonzero(present)
            lookup = np.zeros(1 << len(self.labels), dtype=np.int64)
            lookup[seen] = self._category_ids(seen)
            cats = lookup[masks]
        else:
            seen, inverse = np.unique(masks, return_inverse=True)
            if zero and not (len(seen) and seen[0] == 0):
                seen, inverse = np.concatenate([[0], seen]), inverse + 1
            cats = self._category_ids(seen)[inverse.reshape(masks.shape)]
        none = self.category_of_mask.get(0, 0)
        n_cat = len(self.category_of_mask)
        n_dp = len(self.dp_doc) - dp_base
        doc_dp = np.zeros(len(raters), dtype=np.int64)
        for b in range(1, max_r):
            docs = np.flatnonzero(raters > b)
            if not len(docs):
                continue
            # The covered units of the documents with more than b annotators (most often all).
            use = raters[unit_doc] > b
            if use.all():
                use = slice(None)
            rest = uncovered[docs]
            for a in range(b):
                dps = np.flatnonzero((slots[1] == a) & (slots[2] == b))  # one per document
                doc_dp[docs] = dps
                key = doc_dp[unit_doc[use]] * n_cat
                key += cats[a, use]
                key *= n_cat
                key += cats[b, use]
                # The units no span covers: ("O", "O") in each document.
                alone = (dps[rest > 0] * n_cat + none) * n_cat + none
                if n_dp * n_cat * n_cat <= 4 * int(units_of[docs].sum()) + _DENSE_KEYS:
                    counts = np.bincount(key, minlength=n_dp * n_cat * n_cat)
                    counts[alone] += rest[rest > 0]
                    keys = np.flatnonzero(counts)
                    counts = counts[keys]
                else:
                    keys, which = np.unique(np.concatenate([key, alone]), return_inverse=True)
                    counts = np.bincount(which, np.concatenate([
                        np.ones(len(key)), rest[rest > 0]])).astype(np.int64)
                self.triplets.append(np.stack([
                    dp_base + keys // (n_cat * n_cat), keys // n_cat % n_cat, keys % n_cat, counts
                ], axis=1))

    def _category_ids(self, masks: np.ndarray) -> np.ndarray:
        return np.array(
            [self.category_of_mask.setdefault(int(m), len(self.category_of_mask)) for m in masks],
            dtype=np.int64,
        )

    def _read_spans_and_relations(self, columns: ChunkColumns, lengths, set_a, set_b):
        """Span and relation matches of every document pair of the chunk, at once.

        Each document pair's two sets are laid end to end with the other
        pairs' (offsets shifted past the previous pair's text), so that one
        sweep and one matching count every pair (``span_match_counts_grouped``).
        """
        n_labels, n_types = len(self.labels), len(self.types)
        n_dp = len(set_a)
        span_rows = np.zeros((n_dp, (len(CRITERIA) + 1) * n_labels))
        rel_rows = np.zeros((n_dp, 2 * n_types))
        if n_dp:
            n_sets = len(columns.set_doc)
            # Spans of each pair's sets, each pair past the previous one's text.
            length = lengths[columns.set_doc[set_a]] + 1
            shift = np.cumsum(length) - length
            span_set = np.repeat(np.arange(n_sets), columns.set_spans)
            sides = []
            for sets in (set_a, set_b):
                rows, group = _rows_of_sets(span_set, sets, n_sets)
                sides.append(((columns.span_start[rows] + shift[group],
                               columns.span_end[rows] + shift[group],
                               columns.span_label[rows]), group))
            (side_a, group_a), (side_b, _) = sides
            counts = span_match_counts_grouped(side_a, side_b, group_a, n_dp, n_labels)
            span_rows[:, :len(CRITERIA) * n_labels] = counts.reshape(n_dp, -1)
            per_set = np.bincount(span_set * n_labels + columns.span_label,
                                  minlength=n_sets * n_labels).reshape(n_sets, n_labels)
            span_rows[:, len(CRITERIA) * n_labels:] = per_set[set_a] + per_set[set_b]
            # Relations by their endpoints' (start, end, label) and type.
            src, dst = columns.rel_source, columns.rel_target
            keys = np.column_stack([
                columns.span_start[src], columns.span_end[src], columns.span_label[src],
                columns.span_start[dst], columns.span_end[dst], columns.span_label[dst],
                columns.rel_type,
            ])
            a_rel, a_group = _rows_of_sets(columns.rel_set, set_a, n_sets)
            b_rel, b_group = _rows_of_sets(columns.rel_set, set_b, n_sets)
            order = np.argsort(columns.rel_set, kind="stable")  # rows of _rows_of_sets
            matched, size = relation_match_counts_grouped(
                keys[order[a_rel]], a_group, keys[order[b_rel]], b_group, n_dp, n_types
            )
            rel_rows[:, :n_types] = matched
            rel_rows[:, n_types:] = size
        self.span_rows.append(span_rows)
        self.rel_rows.append(rel_rows)

    def _read_unitizing(self, starts, ends, lab, slot, doc_of, offsets, lengths, raters,
                        first_doc, n_docs, n_labels):
        rows = np.zeros((n_docs, 4 * n_labels + 3))
        lengths = np.asarray(lengths, dtype=np.int64)
        paired = raters >= 2
        rows[:, 4 * n_labels] = np.where(paired, raters * (raters - 1) * lengths, 0)
        rows[:, 4 * n_labels + 1] = np.where(paired, lengths, 0)
        rows[:, 4 * n_labels + 2] = np.where(paired, raters * lengths, 0)
        if n_labels and paired.any():
            if starts:
                s, e, lb, r, d = (np.concatenate(x) for x in (starts, ends, lab, slot, doc_of))
                s = s - np.asarray(offsets)[d]
                e = e - np.asarray(offsets)[d]
            else:
                s = e = lb = r = d = np.zeros(0, dtype=np.int64)
            # One section per (document, label); unpaired documents get no rater.
            sums = section_sums(
                d * n_labels + lb, r, s, e,
                section_length=np.repeat(lengths, n_labels),
                section_raters=np.repeat(np.where(paired, raters, 0), n_labels),
            )
            for k, name in enumerate(("observed", "n_units", "cubic", "squared")):
                rows[:, k * n_labels:(k + 1) * n_labels] = getattr(sums, name).reshape(
                    n_docs, n_labels
                )
            for out, section, length in ((self.units, sums.unit_section, sums.unit_length),
                                         (self.gaps, sums.gap_section, sums.gap_length)):
                out.append(_length_histogram(section, length, n_labels, first_doc))
        self.unit_rows.append(rows)

    def finish(self, doc_ids, doc_annotators) -> _Corpus:
        n_docs, n_labels, n_types = len(doc_ids), len(self.labels), len(self.types)
        masks = np.zeros(len(self.category_of_mask), dtype=np.int64)
        for mask, k in self.category_of_mask.items():
            masks[k] = mask
        # Order categories by name so that reports are stable.
        names = [category_name(int(m), self.labels) for m in masks]
        order = np.argsort(names, kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        masks = masks[order]
        n_cat = len(masks)
        layout = _Layout(n_cat, n_labels, n_types)
        dp_doc = np.array(self.dp_doc, dtype=np.int64)
        dp_pair = np.array(self.dp_pair, dtype=np.int64)
        raters = np.array([len(a) for a in doc_annotators], dtype=np.int64)
        doc_sums = np.zeros((n_docs, layout.doc_width))
        pair_sums = np.zeros((len(dp_doc), layout.pair_width))
        if self.triplets:
            trip = np.concatenate(self.triplets)
            dp, ca, cb, cnt = trip[:, 0], rank[trip[:, 1]], rank[trip[:, 2]], trip[:, 3]
            _fill_contingency(doc_sums, pair_sums, layout, dp, ca, cb, cnt.astype(float),
                              dp_doc, raters, masks, n_labels)
        L, C = layout.doc, layout.pair
        if len(dp_doc):
            spans = np.concatenate(self.span_rows)
            pair_sums[:, C["span_m"]] = spans[:, : len(CRITERIA) * n_labels]
            pair_sums[:, C["span_size"]] = spans[:, len(CRITERIA) * n_labels:]
            rels = np.concatenate(self.rel_rows)
            pair_sums[:, C["rel_m"]] = rels[:, :n_types]
            pair_sums[:, C["rel_size"]] = rels[:, n_types:]
        unit_rows = np.concatenate(self.unit_rows) if self.unit_rows else np.zeros((0, 0))
        if n_docs:
            for k, name in enumerate(("u_obs", "u_n", "u_cubic", "u_sq")):
                doc_sums[:, L[name]] = unit_rows[:, k * n_labels:(k + 1) * n_labels]
            for k, name in enumerate(("u_pair_length", "u_length", "u_rated")):
                doc_sums[:, L[name]] = unit_rows[:, 4 * n_labels + k: 4 * n_labels + k + 1]

        def joined(parts, k):
            return np.concatenate([p[k] for p in parts]) if parts else np.zeros(0, np.int64)

        pairs = [None] * len(self.pair_index)
        for pair, k in self.pair_index.items():
            pairs[k] = pair
        # Report pairs in annotator order.
        pair_order = sorted(range(len(pairs)), key=lambda k: pairs[k])
        pair_rank = np.empty(len(pairs), dtype=np.int64)
        pair_rank[pair_order] = np.arange(len(pairs))
        return _Corpus(
            annotators=self.annotators, labels=self.labels, types=self.types,
            category_masks=masks, doc_ids=list(doc_ids), doc_raters=raters,
            doc_annotators=doc_annotators, pairs=[pairs[k] for k in pair_order],
            dp_doc=dp_doc, dp_pair=pair_rank[dp_pair] if len(dp_pair) else dp_pair,
            layout=layout, doc_sums=doc_sums, pair_sums=pair_sums,
            unit_doc=joined(self.units, 0), unit_label=joined(self.units, 1),
            unit_length=joined(self.units, 2), unit_count=joined(self.units, 3),
            gap_doc=joined(self.gaps, 0), gap_label=joined(self.gaps, 1),
            gap_length=joined(self.gaps, 2), gap_count=joined(self.gaps, 3),
        )


def _length_histogram(section: np.ndarray, length: np.ndarray, n_labels: int,
                      first_doc: int) -> tuple[np.ndarray, ...]:
    """How many units (or gaps) of each length each section (document, label) has:
    (document, label, length, count), by section then length.

    The unit-gap term of D_e pairs units and gaps by their lengths only, so the
    histogram holds all it needs of them (``expected_cross_term``), in a few times
    fewer rows than one per unit."""
    if not len(section):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    top = int(length.max()) + 1
    keys, counts = np.unique(section.astype(np.int64) * top + length, return_counts=True)
    sections = keys // top
    return (first_doc + sections // n_labels, sections % n_labels, keys % top,
            counts.astype(np.int64))


def _fill_contingency(doc_sums, pair_sums, layout, dp, ca, cb, cnt, dp_doc, raters, masks,
                      n_labels):
    """Coincidence, Fleiss and Cohen sums from the contingency triplets."""
    L, C = layout.doc, layout.pair
    n_cat, n_docs, n_dp = len(masks), len(doc_sums), len(pair_sums)
    doc = dp_doc[dp]
    r = raters[doc].astype(float)
    w = cnt / (r - 1.0)  # coincidence weight: o = sum_pairs (T + T') / (R - 1)
    v = 2.0 * cnt / (r * (r - 1.0))  # Fleiss weight: share of the R (R - 1) / 2 pairs
    same = (ca == cb).astype(float)
    doc_sums[:, L["n"]] = np.bincount(doc, 2.0 * w, n_docs)[:, None]
    doc_sums[:, L["trace"]] = np.bincount(doc, 2.0 * w * same, n_docs)[:, None]
    doc_sums[:, L["n_c"]] = (
        np.bincount(doc * n_cat + ca, w, n_docs * n_cat)
        + np.bincount(doc * n_cat + cb, w, n_docs * n_cat)
    ).reshape(n_docs, n_cat)
    bits = (masks[:, None] >> np.arange(n_labels)[None, :]) & 1  # (C, L)
    bit_a, bit_b = bits[ca], bits[cb]  # (n_trip, L)
    differ = (bit_a != bit_b).astype(float)
    doc_sums[:, L["obs_l"]] = _group_sum(2.0 * w[:, None] * differ, doc, n_docs)
    doc_sums[:, L["n1_l"]] = _group_sum(w[:, None] * (bit_a + bit_b), doc, n_docs)
    doc_sums[:, L["f_sum"]] = np.bincount(doc, v * same, n_docs)[:, None]
    doc_sums[:, L["f_items"]] = np.bincount(doc, v, n_docs)[:, None]
    doc_sums[:, L["f_props"]] = (
        np.bincount(doc * n_cat + ca, v / 2.0, n_docs * n_cat)
        + np.bincount(doc * n_cat + cb, v / 2.0, n_docs * n_cat)
    ).reshape(n_docs, n_cat)
    pair_sums[:, C["total"]] = np.bincount(dp, cnt, n_dp)[:, None]
    pair_sums[:, C["ptrace"]] = np.bincount(dp, cnt * same, n_dp)[:, None]
    pair_sums[:, C["row"]] = np.bincount(dp * n_cat + ca, cnt, n_dp * n_cat).reshape(n_dp, n_cat)
    pair_sums[:, C["col"]] = np.bincount(dp * n_cat + cb, cnt, n_dp * n_cat).reshape(n_dp, n_cat)


def _group_sum(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Row sums of ``values`` (n, k) by ``group`` (n,): shape (n_groups, k)."""
    # One bincount per column: the same additions in the same order as np.add.at,
    # several times faster.
    out = np.zeros((n_groups, values.shape[1]))
    for k in range(values.shape[1]):
        out[:, k] = np.bincount(group, values[:, k], minlength=n_groups)
    return out


def _ratio_alpha(n: np.ndarray, observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """``1 - (n - 1) observed / expected``, nan where expected ~ 0 or n <= 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1.0 - (n - 1.0) * observed / expected
    return np.where((n > 1) & (expected > _EPS * n * n), alpha, np.nan)


def _nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    defined = ~np.isnan(values)
    count = defined.sum(axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(defined, values, 0.0).sum(axis=axis) / count
    return np.where(count > 0, mean, np.nan)


#: Where :meth:`_Corpus._figure_tree` leaves a number to fill in.
_SLOT = object()


def _json_template(tree: dict) -> str:
    """``json.dumps(tree)``'s text with ``%s`` for each ``_SLOT`` (``%`` doubled elsewhere)."""
    if tree is _SLOT:
        return "%s"
    return "{" + ", ".join(json.dumps(key).replace("%", "%%") + ": " + _json_template(node)
                           for key, node in tree.items()) + "}"


def _leaf(values, at: tuple):
    """``values[at[0]][at[1]]...`` of nested lists."""
    for k in at:
        values = values[k]
    return values


def _json_values(values: np.ndarray) -> list:
    """Nested lists of Python floats, None for nan (undefined)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 0:
        return None if np.isnan(values) else float(values)
    obj = values.astype(object)
    obj[np.isnan(values)] = None
    return obj.tolist()
