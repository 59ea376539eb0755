"""Chunks read apart and pooled give the report of one reading (issue 12, point 4)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from annotator.metrics import report as report_module
from annotator.metrics.pooling import ChunkSums, chunk_sums, figures_from_chunks, scope_of
from annotator.metrics.report import agreement_figures
from tests.metrics.generators import random_documents

TOLERANCE = 1e-12


def assert_close(a, b, path="") -> None:
    """Equal structure; numbers equal to TOLERANCE; None (undefined) where the other is."""
    if isinstance(a, dict):
        # Sets of keys: PostgreSQL's jsonb keeps a stored report's keys in its own order.
        assert isinstance(b, dict) and set(a) == set(b), (path, list(a)[:5], list(b)[:5])
        for key in a:
            assert_close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), path
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, f"{path}[{k}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=0, abs_tol=TOLERANCE), (path, a, b)
    else:
        assert a == b, (path, a, b)


def chunked(documents, sizes, *, unit="token", annotators=None, through_bytes=True):
    names, labels, types = scope_of(documents, annotators)
    parts, at = [], 0
    for size in sizes:
        part = chunk_sums(documents[at:at + size], unit=unit, annotators=names, labels=labels,
                          types=types)
        parts.append(ChunkSums.from_bytes(part.to_bytes()) if through_bytes else part)
        at += size
    assert at == len(documents)
    return figures_from_chunks("p", parts, unit=unit, annotators=names, labels=labels,
                               types=types, n_resamples=200, seed=3)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("unit", ["token", "char"])
@pytest.mark.parametrize("sizes", [(40,), (1, 39), (7, 7, 7, 7, 12), (13, 0, 27), (1,) * 40])
def test_any_split_into_chunks_gives_the_one_process_report(seed, unit, sizes):
    documents = random_documents(seed, n_documents=40, varying=True)
    expected = agreement_figures("p", documents, unit=unit, n_resamples=200, seed=3)
    assert_close(chunked(documents, sizes, unit=unit), expected)


def test_chunks_smaller_than_the_readers_own_chunks_of_documents(monkeypatch):
    """Splits that cut across the reader's internal chunks (CHUNK_DOCUMENTS) too."""
    monkeypatch.setattr(report_module, "CHUNK_DOCUMENTS", 4)
    monkeypatch.setattr("annotator.metrics.pooling.CHUNK_DOCUMENTS", 3)
    documents = random_documents(11, n_documents=30, varying=True, max_spans=10)
    expected = agreement_figures("p", documents, n_resamples=200, seed=3)
    assert_close(chunked(documents, (5, 10, 15)), expected)


def test_annotators_whose_pair_keys_read_alike():
    """Pairs ("x|y", "z") and ("x", "y|z") share the key "x|y|z" in a document's figures:
    the chunks' figures keep one of them, as the one-process report's dicts do."""
    documents = random_documents(5, n_documents=12, annotators=("x", "x|y", "y|z", "z"))
    expected = agreement_figures("p", documents, n_resamples=50, seed=3)
    names, labels, types = scope_of(documents, None)
    parts = [chunk_sums(documents[a:a + 6], unit="token", annotators=names, labels=labels,
                        types=types) for a in (0, 6)]
    got = figures_from_chunks("p", parts, unit="token", annotators=names, labels=labels,
                              types=types, n_resamples=50, seed=3)
    assert_close(got, expected)
    report, _ = got
    assert "x|y|z" in report["by_document"][documents[0].id]["cohen_kappa"]["pairs"]


def test_a_chosen_subset_of_annotators():
    documents = random_documents(4, n_documents=20, annotators=("ann", "ben", "cat", "dan"))
    chosen = ["cat", "ann"]
    expected = agreement_figures("p", documents, annotators=chosen, n_resamples=50)
    names, labels, types = scope_of(documents, chosen)
    parts = [chunk_sums(documents[a:a + 5], unit="token", annotators=names, labels=labels,
                        types=types) for a in range(0, 20, 5)]
    got = figures_from_chunks("p", parts, unit="token", annotators=names, labels=labels,
                              types=types, n_resamples=50)
    assert_close(got, expected)


def test_a_difference_is_seen():
    """The comparison can fail: a chunk read with one annotator left out differs."""
    documents = random_documents(2, n_documents=10)
    expected = agreement_figures("p", documents, n_resamples=20)
    names, labels, types = scope_of(documents, None)
    parts = [chunk_sums(documents[:5], unit="token", annotators=names, labels=labels,
                        types=types),
             chunk_sums(documents[5:], unit="token", annotators=names[:2], labels=labels,
                        types=types)]
    got = figures_from_chunks("p", parts, unit="token", annotators=names, labels=labels,
                              types=types, n_resamples=20)
    with pytest.raises(AssertionError):
        assert_close(got, expected)


def test_ranks_follow_documents_by_disagreement_ties_and_undefined_included():
    """Each document's place as the chunks give it is its place in
    ``documents_by_disagreement`` of the one-process report."""
    from annotator.metrics.pooling import ranks_of
    from annotator.metrics.report import document_disagreement, documents_by_disagreement

    documents = random_documents(5, n_documents=40, varying=True)
    report, _ = agreement_figures("p", documents, n_resamples=5)
    ids = list(report["by_document"])
    scores = [document_disagreement(f) for f in report["by_document"].values()]
    # Ties and undefined documents, named so that their ids decide between them.
    ids += ["tie-b", "tie-a", "Z-undefined", "a-undefined", "é-undefined"]
    scores += [0.5, 0.5, None, None, None]
    order = documents_by_disagreement(
        {"by_document": {i: {"span_f1": {"overlap": {"value": None if s is None else 1.0 - s}}}
                         for i, s in zip(ids, scores, strict=True)}})
    ranks = ranks_of(ids, np.array([np.nan if s is None else s for s in scores]))
    assert [ids[k] for k in np.argsort(ranks)] == order
    assert sorted(ranks.tolist()) == list(range(1, len(ids) + 1))


def test_the_bootstrap_reads_only_the_units_and_gaps_its_correction_pairs():
    """The chunks keep every unit and gap length as histograms; the bootstrap's
    correction reads only units longer than some gap and gaps shorter than some
    unit, and gets the one-process intervals (above) from them."""
    from annotator.metrics.pooling import histogram_bounds, resampling_histograms

    documents = random_documents(1, n_documents=30, varying=True)
    names, labels, types = scope_of(documents, None)
    parts = [chunk_sums(documents[a:a + 10], unit="char", annotators=names, labels=labels,
                        types=types) for a in range(0, 30, 10)]
    bounds = histogram_bounds(parts, len(labels))
    kept = [resampling_histograms(p.units, p.gaps, bounds) for p in parts]
    read = sum(u.shape[1] + g.shape[1] for u, g in kept)
    every = sum(p.units.shape[1] + p.gaps.shape[1] for p in parts)
    assert 0 < read < every
    # A histogram row stands for count units (gaps) of one length.
    assert sum(int(p.units[3].sum()) for p in parts) > sum(p.units.shape[1] for p in parts)
