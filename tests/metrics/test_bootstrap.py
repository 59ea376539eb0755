"""The one-pass agreement figures and the bootstrap against a slow, obviously correct reference."""

import math

import numpy as np
import pytest

from annotator.metrics import report as report_module
from annotator.metrics.report import (
    HEADLINE_FIGURES,
    READ_PROGRESS,
    REPORT_PROGRESS,
    agreement_figures,
    bootstrap_intervals,
    build_report,
)
from annotator.metrics.types import DocumentAnnotations
from tests.metrics.generators import random_documents

ANNOTATORS = ["ann", "ben", "cat"]


def _reference_intervals(documents, *, n_resamples, seed, confidence=0.95, unit="token",
                         annotators=None):
    """The bootstrap done the slow way: build the report of each resample of documents.

    Resample ``r`` draws ``rng.integers(0, n, size=n)`` (the documented draw);
    a document drawn twice is in the resample twice, as two documents.
    """
    rng = np.random.default_rng(seed)
    values = {"_".join(path): [] for path in HEADLINE_FIGURES}
    for _ in range(n_resamples):
        drawn = rng.integers(0, len(documents), size=len(documents))
        resample = [
            DocumentAnnotations(f"{k}:{documents[i].id}", documents[i].text, documents[i].work)
            for k, i in enumerate(drawn)
        ]
        overall = build_report("p", resample, unit=unit, annotators=annotators)["overall"]
        for path in HEADLINE_FIGURES:
            figure = overall
            for key in path:
                figure = figure[key]
            value = figure["value"]
            values["_".join(path)].append(math.nan if value is None else value)
    tail = (1 - confidence) / 2 * 100
    intervals = {}
    for name, drawn_values in values.items():
        defined = [v for v in drawn_values if not math.isnan(v)]
        low = float(np.percentile(defined, tail)) if defined else None
        high = float(np.percentile(defined, 100 - tail)) if defined else None
        intervals[name] = {"low": low, "high": high, "undefined": n_resamples - len(defined)}
    return intervals


def _assert_same_intervals(got, want):
    assert set(got) == set(want)
    for name, interval in want.items():
        assert got[name]["undefined"] == interval["undefined"], name
        for end in ("low", "high"):
            if interval[end] is None:
                assert got[name][end] is None, name
            else:
                assert got[name][end] == pytest.approx(interval[end], rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize(
    ("seed", "unit", "varying", "n_documents"),
    [(0, "token", False, 8), (1, "char", False, 6), (2, "token", True, 10), (3, "char", True, 4)],
)
def test_bootstrap_equals_the_report_of_each_resample(seed, unit, varying, n_documents):
    docs = random_documents(seed, n_documents=n_documents, varying=varying, max_spans=8)
    annotators = ANNOTATORS if varying else None
    got = bootstrap_intervals(docs, unit=unit, annotators=annotators, n_resamples=150, seed=seed)
    want = _reference_intervals(docs, n_resamples=150, seed=seed, unit=unit,
                                annotators=annotators)
    _assert_same_intervals(got["intervals"], want)
    assert (got["n_resamples"], got["seed"], got["confidence"]) == (150, seed, 0.95)


def test_bootstrap_counts_resamples_where_a_figure_is_undefined():
    # Two documents, one with two annotators and one with a single annotator:
    # resamples that draw the single-annotator document twice have no pair.
    docs = random_documents(12, n_documents=2, max_spans=6)
    docs[1] = DocumentAnnotations(docs[1].id, docs[1].text, {"ann": docs[1].work["ann"]})
    got = bootstrap_intervals(docs, n_resamples=200, seed=5)["intervals"]
    want = _reference_intervals(docs, n_resamples=200, seed=5)
    _assert_same_intervals(got, want)
    assert 0 < got["cohen_kappa"]["undefined"] < 200  # about a quarter


def test_one_pass_equals_build_report_and_bootstrap_intervals():
    docs = random_documents(8, n_documents=9, varying=True, max_spans=8)
    kwargs = {"unit": "char", "annotators": ["cat", "ann", "ben"]}
    report, intervals = agreement_figures("p", docs, n_resamples=120, seed=4, confidence=0.9,
                                          **kwargs)
    assert report == build_report("p", docs, **kwargs)
    assert intervals == bootstrap_intervals(docs, n_resamples=120, seed=4, confidence=0.9,
                                            **kwargs)


def test_intervals_do_not_depend_on_the_batch_size(monkeypatch):
    docs = random_documents(9, n_documents=7, max_spans=8)
    whole = bootstrap_intervals(docs, n_resamples=100, seed=2)
    monkeypatch.setattr(report_module, "BOOTSTRAP_BATCH", 7)
    assert bootstrap_intervals(docs, n_resamples=100, seed=2) == whole
    monkeypatch.setattr(report_module, "BOOTSTRAP_CELLS", 1)  # one resample at a time
    assert bootstrap_intervals(docs, n_resamples=100, seed=2) == whole


def test_jaccard50_has_an_interval_that_brackets_the_pooled_value():
    docs = random_documents(10, n_documents=12, max_spans=8)
    report, intervals = agreement_figures("p", docs, n_resamples=200)
    value = report["overall"]["span_f1"]["jaccard50"]["value"]
    interval = intervals["intervals"]["span_f1_jaccard50"]
    assert interval["low"] <= value <= interval["high"]
    assert list(intervals["intervals"]) == ["_".join(path) for path in HEADLINE_FIGURES]


def test_one_pass_progress_rises_to_one_through_the_report():
    docs = random_documents(1, n_documents=5)
    seen = []
    agreement_figures("p", docs, n_resamples=300, progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == 1.0
    assert REPORT_PROGRESS in seen
    reading = [f for f in seen if f <= READ_PROGRESS]
    bootstrap = [f for f in seen if f > REPORT_PROGRESS]
    assert reading and len(bootstrap) >= 300 // report_module.BOOTSTRAP_BATCH


def test_one_pass_of_no_documents_is_undefined_everywhere():
    report, intervals = agreement_figures("p", [], n_resamples=10)
    assert report == build_report("p", [])
    for interval in intervals["intervals"].values():
        assert interval == {"low": None, "high": None, "undefined": 10}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"n_resamples": 0}, "n_resamples"), ({"confidence": 1.0}, "confidence")],
)
def test_one_pass_validates_the_bootstrap_parameters_first(kwargs, message):
    with pytest.raises(ValueError, match=message):
        agreement_figures("p", [DocumentAnnotations("a", "x"), DocumentAnnotations("a", "y")],
                          **kwargs)
