"""Agreement from chunks of documents read apart and pooled (issue 12, points 4 and 7).

Design note
-----------
:mod:`annotator.metrics.report` reads documents into sums that add up over
documents. A chunk's reading depends on the run's scope (unit, annotators, span
labels and relation types, all fixed before reading) and on its own documents
only. :func:`chunk_sums` reads one chunk into a corpus of its own (its
categories, the label combinations, numbered in its own order) and keeps:

* its per-document and per-document-pair sums; :func:`pool` moves each
  chunk's category columns to the pooled categories (ordered by name, as one
  reading orders them) and its pairs to the pooled pairs, so the pooled corpus
  is the one :func:`~annotator.metrics.report.agreement_figures` builds in one
  process, up to the order of some floating-point additions (about 1e-15,
  within the 1e-12 the tests ask);
* each document's own figures (its entry of the report's ``by_document``) and
  the values it is ranked by: they depend on the document alone, so the
  workers compute them, in parallel, and the pooling never builds
  ``by_document`` (the service copies them into the run's ranks a chunk at a
  time);
* unitizing alpha's unit-gap term, which pairs units and gaps of different
  documents, through the lengths of the units and gaps only: histograms of
  those lengths per label (pooled term) and per document (bootstrap), and the
  per-document sums of its separable part. The term is
  ``sum_u l_u^2 sum_{g >= l_u} (g - l_u + 1)`` over a label's units and gaps
  (the expected disagreement of alpha_U, Krippendorff 1995, as DKPro
  Statistics computes it: :mod:`annotator.metrics.unitizing` cites both), a
  function of the two multisets of lengths, which the histograms hold exactly.
  The bootstrap's correction reads only the units longer than some gap of
  their label and the gaps shorter than some unit
  (:func:`resampling_histograms`): with tokens, almost none.

A chunk arrives as records (:func:`chunk_sums`) or, from the database, as
arrays (:func:`chunk_sums_of_columns`, :class:`~annotator.metrics.report.ChunkColumns`):
records are converted to those arrays, so both are read by the same code.

So chunks can be read by different workers, stored (:meth:`ChunkSums.to_bytes`),
and read again by a later run whose chunk did not change: a run then costs
what changed, plus the pooling and the bootstrap, which work on the sums.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from annotator.metrics.report import (
    CHUNK_DOCUMENTS,
    READ_PROGRESS,
    ChunkColumns,
    _check_bootstrap,
    _Corpus,
    _Layout,
    _Reader,
    _report_and_intervals,
    _separable_sums,
    columns_of_documents,
)
from annotator.metrics.types import DocumentAnnotations
from annotator.metrics.unitizing import expected_cross_term
from annotator.metrics.units import UNITS, category_name

__all__ = [
    "ChunkSums",
    "chunk_sums",
    "chunk_sums_of_columns",
    "figures_from_chunks",
    "histogram_bounds",
    "pool",
    "pooled_figures",
    "ranks_of",
    "resampling_histograms",
    "scope_of",
]


@dataclass
class ChunkSums:
    """The sums of one chunk of consecutive documents, and its documents' own figures.

    The sums are those of the chunk's own corpus (``_Reader.finish`` over its
    documents): ``categories[k]`` is the label bit mask of the chunk's category
    ``k`` (ordered by name), which numbers the category columns of ``doc_sums``
    and ``pair_sums``; ``pairs[k]`` the annotator indexes of its pair ``k``;
    rows of ``doc_sums``, ``separable``, ``doc_values`` and of ``units`` and
    ``gaps`` count documents from the chunk's first.

    Unitizing: ``separable`` holds each document's sums of the unit-gap term
    (``report._separable_sums``); ``label_units`` and ``label_gaps`` (label,
    length, count) the chunk's histograms of unit and gap lengths per label,
    from which the pooled term comes; ``units`` and ``gaps`` (document, label,
    length, count) the same per document, which the bootstrap reads only where
    a gap is shorter than a unit (:func:`resampling_histograms`).

    ``doc_values`` (D, 4) are each document's disagreement (``document_disagreement``),
    alpha, exact span F1 and relation F1 (nan when undefined) and ``figures``
    its entry of the report's ``by_document``, as JSON, a line per document:
    they depend on the document alone, so the chunk computes them once.
    ``units``, ``gaps`` and ``figures`` are None when read without them
    (``from_bytes(..., documents=False)``).
    """

    doc_ids: list[str]
    doc_annotators: list[list[int]]
    categories: np.ndarray  # (C,) int64
    pairs: np.ndarray  # (P, 2) int64
    dp_doc: np.ndarray  # (n_dp,)
    dp_pair: np.ndarray  # (n_dp,)
    doc_sums: np.ndarray  # (D, doc width)
    pair_sums: np.ndarray  # (n_dp, pair width)
    separable: np.ndarray  # (D, L, 4)
    label_units: np.ndarray  # (3, n): label, length, count
    label_gaps: np.ndarray  # (3, n)
    doc_values: np.ndarray  # (D, 4)
    units: np.ndarray | None = None  # (4, n): document, label, length, count
    gaps: np.ndarray | None = None
    figures: str | None = None

    _ARRAYS = ("categories", "pairs", "dp_doc", "dp_pair", "doc_sums", "pair_sums",
               "separable", "label_units", "label_gaps", "doc_values")
    _DOCUMENT_ARRAYS = ("units", "gaps")

    def to_bytes(self) -> bytes:
        """NumPy's ``.npz`` (no pickle): the arrays, the ids as JSON, the figures as text.

        Deflated at level 1: a tenth of the raw size in a few milliseconds, where
        ``savez_compressed``'s default level took a tenth of a chunk's time for a
        few per cent less. ``units`` and ``gaps`` (the largest arrays) are stored in
        the smallest integer type that holds them (int16 most often: a quarter of
        the bytes to deflate), and read back so.
        """
        out = io.BytesIO()
        meta = json.dumps({"doc_ids": self.doc_ids, "doc_annotators": self.doc_annotators})
        arrays = {"meta": np.frombuffer(meta.encode(), dtype=np.uint8),
                  "figures": np.frombuffer((self.figures or "").encode(), dtype=np.uint8),
                  **{name: getattr(self, name) for name in self._ARRAYS},
                  **{name: _narrow(getattr(self, name)) for name in self._DOCUMENT_ARRAYS}}
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for name, array in arrays.items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(array),
                                              allow_pickle=False)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, *, documents: bool = True) -> ChunkSums:
        """The stored chunk; without ``units``, ``gaps`` and ``figures`` (the larger part,
        left unread) when not ``documents``."""
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            meta = json.loads(stored["meta"].tobytes().decode())
            extra = {}
            if documents:
                extra = {name: stored[name] for name in cls._DOCUMENT_ARRAYS}
                extra["figures"] = stored["figures"].tobytes().decode()
            return cls(doc_ids=meta["doc_ids"], doc_annotators=meta["doc_annotators"],
                       **{name: stored[name] for name in cls._ARRAYS}, **extra)

    @staticmethod
    def figures_of(data: bytes) -> tuple[list[str], np.ndarray, list[str]]:
        """A stored chunk's document ids, ``doc_values`` and figures (a JSON text each),
        read without the rest."""
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            meta = json.loads(stored["meta"].tobytes().decode())
            figures = stored["figures"].tobytes().decode()
            return (meta["doc_ids"], stored["doc_values"],
                    figures.split("\n") if meta["doc_ids"] else [])

    @staticmethod
    def values_of(data: bytes) -> tuple[list[str], np.ndarray]:
        """A stored chunk's document ids and ``doc_values``, read without the rest."""
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            return json.loads(stored["meta"].tobytes().decode())["doc_ids"], stored["doc_values"]

    @staticmethod
    def units_and_gaps_of(data: bytes) -> tuple[np.ndarray, np.ndarray]:
        """A stored chunk's ``units`` and ``gaps``, read without the rest."""
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            return stored["units"], stored["gaps"]

    def document_figures(self) -> list[dict[str, Any]]:
        """Each document's figures, in the chunk's order."""
        if self.figures is None:
            raise ValueError("the chunk was read without its documents' figures")
        return [json.loads(line) for line in self.figures.split("\n")] if self.doc_ids else []


def _narrow(array: np.ndarray | None) -> np.ndarray | None:
    """Integers in the smallest of int16, int32 and int64 that holds them all."""
    if array is None or not array.size or array.dtype.kind != "i":
        return array
    low, high = int(array.min()), int(array.max())
    for kind in (np.int16, np.int32):
        if np.iinfo(kind).min <= low and high <= np.iinfo(kind).max:
            return array.astype(kind)
    return array


def scope_of(
    documents: Sequence[DocumentAnnotations], annotators: list[str] | None
) -> tuple[list[str], list[str], list[str]]:
    """The annotators, span labels and relation types a run over ``documents`` uses,
    as :func:`~annotator.metrics.report.build_report` finds them."""
    if annotators is None:
        annotators = sorted({name for doc in documents for name in doc.work})
    chosen = set(annotators)
    labels = sorted({span.label for doc in documents for name, work in doc.work.items()
                     if name in chosen for span in work.spans})
    types = sorted({rel.type for doc in documents for name, work in doc.work.items()
                    if name in chosen for rel in work.relations})
    return list(annotators), labels, types


def _stack(parts: list[np.ndarray], width: int) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros((0, width))


def chunk_sums(
    documents: Sequence[DocumentAnnotations],
    *,
    unit: str,
    annotators: list[str],
    labels: list[str],
    types: list[str],
) -> ChunkSums:
    """Read one chunk of documents into sums (see the module's design note).

    ``annotators``, ``labels`` and ``types`` are the whole run's (:func:`scope_of`
    over every document, or the same from the database), the same for every chunk.
    """
    index = {name: k for k, name in enumerate(annotators)}
    doc_annotators = [sorted(index[n] for n in doc.work if n in index) for doc in documents]
    columns = columns_of_documents(
        documents, doc_annotators, list(annotators),
        {label: k for k, label in enumerate(labels)}, {t: k for k, t in enumerate(types)},
    )
    return chunk_sums_of_columns(columns, unit=unit, annotators=annotators, labels=labels,
                                 types=types)


def chunk_sums_of_columns(
    columns: ChunkColumns,
    *,
    unit: str,
    annotators: list[str],
    labels: list[str],
    types: list[str],
) -> ChunkSums:
    """:func:`chunk_sums` of documents given as columns (as the database reads them)."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
    reader = _Reader(list(annotators), list(labels), list(types), unit)
    n = len(columns.doc_ids)
    for begin in range(0, n, CHUNK_DOCUMENTS):
        reader.read_columns(columns.documents(begin, min(n, begin + CHUNK_DOCUMENTS)),
                            first_doc=begin)
    raters = np.bincount(columns.set_doc, minlength=n)
    doc_annotators = [a.tolist() for a in np.split(columns.set_annotator,
                                                   np.cumsum(raters)[:-1])] if n else []
    corpus = reader.finish(list(columns.doc_ids), doc_annotators)
    del reader
    figures, values = corpus.document_figures_json()
    n_labels = len(labels)
    return ChunkSums(
        doc_ids=list(columns.doc_ids),
        doc_annotators=doc_annotators,
        categories=corpus.category_masks.astype(np.int64),
        pairs=np.array(corpus.pairs, dtype=np.int64).reshape(-1, 2),
        dp_doc=corpus.dp_doc,
        dp_pair=corpus.dp_pair,
        doc_sums=corpus.doc_sums,
        pair_sums=corpus.pair_sums,
        separable=_separable_sums(corpus),
        label_units=_label_histogram(corpus.unit_label, corpus.unit_length, corpus.unit_count,
                                     n_labels),
        label_gaps=_label_histogram(corpus.gap_label, corpus.gap_length, corpus.gap_count,
                                    n_labels),
        doc_values=values,
        units=np.stack([corpus.unit_doc, corpus.unit_label, corpus.unit_length,
                        corpus.unit_count]).astype(np.int64),
        gaps=np.stack([corpus.gap_doc, corpus.gap_label, corpus.gap_length,
                       corpus.gap_count]).astype(np.int64),
        figures="\n".join(figures),
    )


def _label_histogram(label, length, count, n_labels: int) -> np.ndarray:
    """(label, length, count) summed over documents, shape (3, n)."""
    if not len(label):
        return np.zeros((3, 0), dtype=np.int64)
    top = int(length.max()) + 1
    keys, inverse = np.unique(label * top + length, return_inverse=True)
    counts = np.bincount(inverse, count, len(keys)).astype(np.int64)
    return np.stack([keys // top, keys % top, counts])


def histogram_bounds(parts: Sequence[ChunkSums], n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """Per label, the longest unit and the shortest gap of all the chunks (0 and an
    infinite length where there is none)."""
    longest = np.zeros(n_labels)
    shortest = np.full(n_labels, np.inf)
    for part in parts:
        if part.label_units.shape[1]:
            np.maximum.at(longest, part.label_units[0], part.label_units[1])
        if part.label_gaps.shape[1]:
            np.minimum.at(shortest, part.label_gaps[0], part.label_gaps[1])
    return longest, shortest


def resampling_histograms(
    units: np.ndarray, gaps: np.ndarray, bounds: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The rows of a chunk's ``units`` and ``gaps`` the bootstrap reads.

    Its unit-gap correction (``report._Resampling._cross``) pairs each unit with
    the gaps of its label shorter than it: a unit no longer than every gap of its
    label, and a gap no shorter than every unit, add nothing to it.
    """
    longest, shortest = bounds
    keep_units = units[2] > shortest[units[1]]
    keep_gaps = gaps[2] < longest[gaps[1]]
    return units[:, keep_units], gaps[:, keep_gaps]


def pool(
    parts: Sequence[ChunkSums],
    *,
    unit: str,
    annotators: list[str],
    labels: list[str],
    types: list[str],
    histograms: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
    consume: bool = False,
):
    """One corpus from the chunks' sums, in chunk order (see the design note).

    ``histograms`` are each chunk's rows of ``units`` and ``gaps`` for the
    bootstrap (:func:`resampling_histograms`); from the chunks' own when None.
    With ``consume``, each chunk's sums are dropped once copied (``parts`` is then
    spent), so that they are not held twice.
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
    n_labels, n_types = len(labels), len(types)
    if histograms is None:
        bounds = histogram_bounds(parts, n_labels)
        histograms = [resampling_histograms(p.units, p.gaps, bounds) for p in parts]
    masks = sorted({int(m) for part in parts for m in part.categories},
                   key=lambda m: category_name(m, labels))
    category_at = {m: k for k, m in enumerate(masks)}
    pairs = sorted({(int(a), int(b)) for part in parts for a, b in part.pairs})
    pair_at = {pair: k for k, pair in enumerate(pairs)}
    layout = _Layout(len(masks), n_labels, n_types)
    n_docs = sum(len(part.doc_ids) for part in parts)
    n_dp = sum(len(part.dp_doc) for part in parts)
    doc_sums = np.zeros((n_docs, layout.doc_width))
    pair_sums = np.zeros((n_dp, layout.pair_width))
    separable = np.zeros((n_docs, n_labels, 4))
    dp_doc = np.zeros(n_dp, dtype=np.int64)
    dp_pair = np.zeros(n_dp, dtype=np.int64)
    doc_ids: list[str] = []
    doc_annotators: list[list[int]] = []
    doc_at = dp_at = 0
    for part in parts:
        local = _Layout(len(part.categories), n_labels, n_types)
        columns = np.array([category_at[int(m)] for m in part.categories], dtype=np.int64)
        d, p = len(part.doc_ids), len(part.dp_doc)
        _place(doc_sums[doc_at:doc_at + d], part.doc_sums, layout.doc, local.doc,
               ("n_c", "f_props"), columns)
        _place(pair_sums[dp_at:dp_at + p], part.pair_sums, layout.pair, local.pair,
               ("row", "col"), columns)
        separable[doc_at:doc_at + d] = part.separable
        dp_doc[dp_at:dp_at + p] = part.dp_doc + doc_at
        if p:
            to_global = np.array([pair_at[(int(a), int(b))] for a, b in part.pairs],
                                 dtype=np.int64)
            dp_pair[dp_at:dp_at + p] = to_global[part.dp_pair]
        doc_ids += part.doc_ids
        doc_annotators += [list(a) for a in part.doc_annotators]
        if consume:
            part.doc_sums = part.pair_sums = part.separable = None
        doc_at, dp_at = doc_at + d, dp_at + p

    def joined(rows: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(rows, axis=1) if rows else np.zeros((4, 0), dtype=np.int64)

    starts = np.cumsum([0] + [len(part.doc_ids) for part in parts])[:-1]
    shift = [np.array([[s], [0], [0], [0]]) for s in starts]
    units = joined([u + k for (u, _), k in zip(histograms, shift, strict=True)])
    gaps = joined([g + k for (_, g), k in zip(histograms, shift, strict=True)])
    label_units = np.concatenate([p.label_units for p in parts], axis=1) if parts else None
    label_gaps = np.concatenate([p.label_gaps for p in parts], axis=1) if parts else None
    cross = (expected_cross_term(label_units[0], label_units[1], label_gaps[0],
                                 label_gaps[1], n_labels, label_units[2], label_gaps[2])
             if parts else np.zeros(n_labels))
    return _Corpus(
        annotators=list(annotators), labels=list(labels), types=list(types),
        category_masks=np.array(masks, dtype=np.int64), doc_ids=doc_ids,
        doc_raters=np.array([len(a) for a in doc_annotators], dtype=np.int64),
        doc_annotators=doc_annotators, pairs=pairs, dp_doc=dp_doc, dp_pair=dp_pair,
        layout=layout, doc_sums=doc_sums, pair_sums=pair_sums,
        unit_doc=units[0], unit_label=units[1], unit_length=units[2], unit_count=units[3],
        gap_doc=gaps[0], gap_label=gaps[1], gap_length=gaps[2], gap_count=gaps[3],
        separable=separable, cross=cross,
    )


def _place(out: np.ndarray, rows: np.ndarray, blocks: dict[str, slice],
           local: dict[str, slice], by_category: tuple[str, ...], columns: np.ndarray) -> None:
    """Copy a chunk's sum ``rows`` into ``out``, each block at its place, the category
    blocks' columns moved to the pooled categories' ``columns``."""
    for name, where in blocks.items():
        if name in by_category:
            out[:, where.start + columns] = rows[:, local[name]]
        else:
            out[:, where] = rows[:, local[name]]


def pooled_figures(
    project: str,
    corpus,
    *,
    unit: str,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    progress: Callable[[float], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report without ``by_document`` and the intervals of a pooled corpus."""
    _check_bootstrap(n_resamples, confidence)
    if progress is not None:
        progress(READ_PROGRESS)
    return _report_and_intervals(corpus, project, unit, n_resamples=n_resamples, seed=seed,
                                 confidence=confidence, progress=progress, documents=False)


def figures_from_chunks(
    project: str,
    parts: Sequence[ChunkSums],
    *,
    unit: str,
    annotators: list[str],
    labels: list[str],
    types: list[str],
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    progress: Callable[[float], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report and intervals of :func:`~annotator.metrics.report.agreement_figures`
    over the chunks' documents, from their sums and their documents' figures."""
    _check_bootstrap(n_resamples, confidence)
    corpus = pool(parts, unit=unit, annotators=annotators, labels=labels, types=types)
    report, intervals = pooled_figures(project, corpus, unit=unit, n_resamples=n_resamples,
                                       seed=seed, confidence=confidence, progress=progress)
    report["by_document"] = {doc_id: figures for part in parts
                             for doc_id, figures in zip(part.doc_ids, part.document_figures(),
                                                        strict=True)}
    return report, intervals


def ranks_of(doc_ids: Sequence[str], disagreement: np.ndarray) -> np.ndarray:
    """Each document's place (from 1) in ``documents_by_disagreement``: most disagreement
    first, ties by id; undefined (nan) last, by id. Ids compare by code point, as
    Python's strings do."""
    ids = np.array(doc_ids, dtype=str) if len(doc_ids) else np.zeros(0, dtype=str)
    undefined = np.isnan(disagreement)
    order = np.lexsort((ids, np.where(undefined, 0.0, -disagreement), undefined))
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks
