import json
from itertools import combinations

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from annotator.metrics.kappa import fleiss_kappa
from annotator.metrics.relation_f1 import relation_f1
from annotator.metrics.report import (
    _Corpus,
    bootstrap_intervals,
    build_report,
    document_disagreement,
    documents_by_disagreement,
)
from annotator.metrics.span_f1 import span_f1
from annotator.metrics.types import AnnotatorWork, DocumentAnnotations, Relation, Span
from annotator.metrics.unitizing import krippendorff_alpha_unitizing
from tests.metrics.generators import LABELS, naive_categories, random_documents, reliability_matrix

ANNOTATORS = ["ann", "ben", "cat"]
FIGURE_KEYS = {
    "krippendorff_alpha": {"value", "per_label"},
    "cohen_kappa": {"value", "pairs"},
    "fleiss_kappa": {"value"},
    "unitizing_alpha": {"value", "per_label"},
    "span_f1": {"exact", "overlap", "jaccard50"},
    "relation_f1": {"value", "pairs", "per_type"},
}


def _assert_shape(figures):
    assert set(figures) == set(FIGURE_KEYS)
    for name, keys in FIGURE_KEYS.items():
        assert set(figures[name]) == keys, name
    for criterion in ("exact", "overlap", "jaccard50"):
        assert set(figures["span_f1"][criterion]) == {"value", "pairs", "per_label"}


def _assert_plain_json(value):
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str
            _assert_plain_json(item)
    elif isinstance(value, list):
        for item in value:
            _assert_plain_json(item)
    else:
        assert value is None or type(value) in (str, int, float), (value, type(value))


def test_report_has_exactly_the_keys_of_the_design():
    docs = random_documents(0, varying=True)
    report = build_report("brief-club", docs)
    assert set(report) == {"project", "unit", "documents", "annotators", "overall", "by_document"}
    assert report["project"] == "brief-club"
    assert report["unit"] == "token"
    assert report["documents"] == len(docs)
    assert report["annotators"] == sorted(report["annotators"])
    _assert_shape(report["overall"])
    assert set(report["by_document"]) == {d.id for d in docs}
    for figures in report["by_document"].values():
        _assert_shape(figures)


@pytest.mark.parametrize("seed", range(3))
def test_report_is_plain_json_without_nan(seed):
    report = build_report("p", random_documents(seed, varying=True))
    _assert_plain_json(report)
    assert json.loads(json.dumps(report, allow_nan=False)) == report


@pytest.mark.parametrize("unit", ["token", "char"])
@pytest.mark.parametrize("seed", range(5))
def test_overall_alpha_equals_krippendorff_package_on_pooled_units(seed, unit):
    docs = random_documents(seed, varying=True, n_documents=8)
    report = build_report("p", docs, unit=unit, annotators=ANNOTATORS)
    data = reliability_matrix(docs, ANNOTATORS, unit)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert report["overall"]["krippendorff_alpha"]["value"] == pytest.approx(expected, abs=1e-9)
    for label in LABELS:
        binary = reliability_matrix(docs, ANNOTATORS, unit, label=label)
        got = report["overall"]["krippendorff_alpha"]["per_label"].get(label)
        if np.nansum(binary) == 0:
            assert got is None
        else:
            want = krippendorff.alpha(reliability_data=binary, level_of_measurement="nominal")
            assert got == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_cohen_pairs_equal_sklearn_on_the_pooled_units_of_shared_documents(seed):
    docs = random_documents(seed, varying=True, n_documents=8)
    report = build_report("p", docs, annotators=ANNOTATORS)
    pairs = report["overall"]["cohen_kappa"]["pairs"]
    values = []
    for a, b in combinations(ANNOTATORS, 2):
        shared = [d for d in docs if a in d.work and b in d.work]
        key = f"{a}|{b}"
        if not shared:
            assert key not in pairs
            continue
        ya = [c for d in shared for c in naive_categories(d.text, d.work[a].spans, "token")]
        yb = [c for d in shared for c in naive_categories(d.text, d.work[b].spans, "token")]
        if len(set(ya) | set(yb)) < 2:
            assert pairs[key] is None
            continue
        assert pairs[key] == pytest.approx(cohen_kappa_score(ya, yb), abs=1e-9)
        values.append(pairs[key])
    if values:
        assert report["overall"]["cohen_kappa"]["value"] == pytest.approx(np.mean(values))


def _fleiss_table(docs, annotators):
    rows, names = [], {}
    for d in docs:
        present = [a for a in annotators if a in d.work]
        if len(present) < 2:
            continue
        cats = [naive_categories(d.text, d.work[a].spans, "token") for a in present]
        for unit in zip(*cats, strict=True):
            row = {}
            for c in unit:
                index = names.setdefault(c, len(names))
                row[index] = row.get(index, 0) + 1
            rows.append(row)
    table = np.zeros((len(rows), len(names)))
    for i, row in enumerate(rows):
        for c, n in row.items():
            table[i, c] = n
    return table


@pytest.mark.parametrize("seed", range(4))
def test_fleiss_equals_statsmodels_when_every_document_has_all_annotators(seed):
    docs = random_documents(seed, n_documents=8)
    report = build_report("p", docs)
    expected = statsmodels_fleiss_kappa(_fleiss_table(docs, ANNOTATORS))
    assert report["overall"]["fleiss_kappa"]["value"] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_fleiss_with_varying_annotators_equals_the_generalised_table_formula(seed):
    docs = random_documents(seed, varying=True, n_documents=10)
    report = build_report("p", docs, annotators=ANNOTATORS)
    expected = fleiss_kappa(_fleiss_table(docs, ANNOTATORS))
    got = report["overall"]["fleiss_kappa"]["value"]
    assert got == (None if expected is None else pytest.approx(expected, abs=1e-9))


@pytest.mark.parametrize("seed", range(4))
def test_unitizing_alpha_of_a_document_equals_the_single_continuum_function(seed):
    docs = random_documents(seed, n_documents=4)
    report = build_report("p", docs)
    for doc in docs:
        units = [(r, s.start, s.end, s.label) for r, a in enumerate(ANNOTATORS)
                 for s in doc.work[a].spans]
        expected = krippendorff_alpha_unitizing(units, n_raters=3, length=len(doc.text))
        got = report["by_document"][doc.id]["unitizing_alpha"]
        assert got["value"] == (None if expected.value is None
                                else pytest.approx(expected.value, abs=1e-9))
        for label in report["overall"]["unitizing_alpha"]["per_label"]:
            want = expected.per_category.get(label)
            assert got["per_label"][label] == (None if want is None
                                               else pytest.approx(want, abs=1e-9))


def _doc(id_, text, spans_by_annotator, relations_by_annotator=None):
    relations_by_annotator = relations_by_annotator or {}
    return DocumentAnnotations(id_, text, {
        name: AnnotatorWork([Span(f"T{k}", s, e, lab) for k, (s, e, lab) in enumerate(spans)],
                            [Relation(*r) for r in relations_by_annotator.get(name, [])])
        for name, spans in spans_by_annotator.items()
    })


def test_unitizing_pools_documents_as_one_continuum_of_sections():
    text = "aaaa bbbb cccc dddd"  # 19 characters
    first = {"x": [(0, 4, "Claim"), (15, 19, "Claim")], "y": [(0, 9, "Claim"), (14, 19, "Claim")]}
    second = {"x": [(0, 9, "Claim"), (10, 19, "Claim")], "y": [(0, 4, "Claim"), (12, 19, "Claim")]}
    report = build_report("p", [_doc("a", text, first), _doc("b", text, second)])
    units = [(r, s + off, e + off, lab) for off, doc in ((0, first), (19, second))
             for r, name in enumerate(["x", "y"]) for s, e, lab in doc[name]]
    whole = krippendorff_alpha_unitizing(units, n_raters=2, length=38)
    assert report["overall"]["unitizing_alpha"]["value"] == pytest.approx(whole.value)


def test_span_and_relation_f1_pool_matches_and_sizes_over_documents():
    docs = random_documents(7, n_documents=6)
    report = build_report("p", docs)
    for a, b in combinations(ANNOTATORS, 2):
        m = size = rm = rsize = 0
        for d in docs:
            sa, sb = d.work[a].spans, d.work[b].spans
            f1 = span_f1(sa, sb, criterion="overlap")
            if f1 is not None:
                m += f1 * (len(sa) + len(sb)) / 2
                size += len(sa) + len(sb)
            rf1 = relation_f1(d.work[a], d.work[b])
            if rf1 is not None:
                n = len(d.work[a].relations) + len(d.work[b].relations)
                rm += rf1 * n / 2
                rsize += n
        key = f"{a}|{b}"
        assert report["overall"]["span_f1"]["overlap"]["pairs"][key] == pytest.approx(
            2 * m / size)
        assert report["overall"]["relation_f1"]["pairs"][key] == pytest.approx(2 * rm / rsize)


def test_overall_pools_units_and_pairs_rather_than_averaging_documents():
    # Document a: one short span each, matched exactly. Document b: ten spans
    # each, none matched. Mean of the document F1s = (1 + 0) / 2 = 0.5;
    # pooled F1 = 2 * 1 / (11 + 11) = 0.0909.
    text = " ".join(["word"] * 40)
    a = {"x": [(0, 4, "Claim")], "y": [(0, 4, "Claim")]}
    b = {"x": [(10 * k, 10 * k + 4, "Claim") for k in range(10)],
         "y": [(10 * k + 5, 10 * k + 9, "Claim") for k in range(10)]}
    report = build_report("p", [_doc("a", text, a), _doc("b", text, b)])
    exact = report["overall"]["span_f1"]["exact"]["value"]
    assert exact == pytest.approx(2 / 22)
    per_doc = [report["by_document"][d]["span_f1"]["exact"]["value"] for d in "ab"]
    assert np.mean(per_doc) == pytest.approx(0.5)
    alpha = report["overall"]["krippendorff_alpha"]["value"]
    per_doc_alpha = [report["by_document"][d]["krippendorff_alpha"]["value"] for d in "ab"]
    assert alpha != pytest.approx(np.mean(per_doc_alpha))


def _all_values(figures):
    yield figures["krippendorff_alpha"]["value"]
    yield figures["cohen_kappa"]["value"]
    yield figures["fleiss_kappa"]["value"]
    yield figures["unitizing_alpha"]["value"]
    for criterion in ("exact", "overlap", "jaccard50"):
        yield figures["span_f1"][criterion]["value"]
    yield figures["relation_f1"]["value"]


def test_everything_is_undefined_when_nobody_marked_anything():
    report = build_report("p", [_doc("a", "we act now", {"x": [], "y": []})])
    assert list(_all_values(report["overall"])) == [None] * 8
    assert report["overall"]["cohen_kappa"]["pairs"] == {"x|y": None}


def test_coefficients_are_undefined_for_a_single_category():
    # Both annotators mark every token Claim: one category, nothing to correct.
    spans = {"x": [(0, 10, "Claim")], "y": [(0, 10, "Claim")]}
    figures = build_report("p", [_doc("a", "we act now", spans)])["overall"]
    assert figures["krippendorff_alpha"]["value"] is None
    assert figures["cohen_kappa"]["value"] is None
    assert figures["fleiss_kappa"]["value"] is None
    assert figures["span_f1"]["exact"]["value"] == 1.0


def test_a_document_with_a_single_annotator_has_nothing_to_pair():
    report = build_report("p", [_doc("a", "we act now", {"x": [(0, 2, "Claim")]})])
    assert list(_all_values(report["overall"])) == [None] * 8
    assert report["overall"]["cohen_kappa"]["pairs"] == {}
    assert report["annotators"] == ["x"]
    assert report["documents"] == 1


def test_no_documents_gives_an_empty_undefined_report():
    report = build_report("p", [])
    assert report["documents"] == 0
    assert report["by_document"] == {}
    assert list(_all_values(report["overall"])) == [None] * 8


def test_pair_keys_follow_the_given_annotator_order_and_others_are_ignored():
    docs = random_documents(2, n_documents=3)
    report = build_report("p", docs, annotators=["cat", "ann"])
    assert report["annotators"] == ["cat", "ann"]
    assert set(report["overall"]["cohen_kappa"]["pairs"]) == {"cat|ann"}
    reversed_ = build_report("p", docs, annotators=["ann", "cat"])
    assert (report["overall"]["cohen_kappa"]["pairs"]["cat|ann"]
            == pytest.approx(reversed_["overall"]["cohen_kappa"]["pairs"]["ann|cat"]))


def test_progress_is_reported_up_to_one():
    seen = []
    build_report("p", random_documents(1), progress=seen.append)
    assert seen[-1] == 1.0
    assert seen == sorted(seen)


@pytest.mark.parametrize(
    ("documents", "kwargs", "message"),
    [
        ([DocumentAnnotations("a", "x"), DocumentAnnotations("a", "y")], {}, "duplicate"),
        ([], {"unit": "word"}, "unit must be"),
        ([], {"annotators": ["x", "x"]}, "twice"),
    ],
)
def test_invalid_input_raises_a_precise_value_error(documents, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_report("p", documents, **kwargs)


def test_span_outside_the_text_names_document_annotator_and_span():
    doc = _doc("brief-7", "short", {"x": [(0, 3, "Claim")], "y": [(2, 50, "Claim")]})
    with pytest.raises(ValueError, match=r"'brief-7', annotator 'y': span 'T0'"):
        build_report("p", [doc])


def test_documents_are_sorted_by_disagreement_undefined_last():
    text = "aa bb cc dd"
    docs = [
        _doc("agree", text, {"x": [(0, 5, "Claim")], "y": [(0, 5, "Claim")]}),
        _doc("half", text, {"x": [(0, 2, "Claim"), (6, 8, "Reason")], "y": [(0, 2, "Claim")]}),
        _doc("empty", text, {"x": [], "y": []}),
        _doc("apart", text, {"x": [(0, 2, "Claim")], "y": [(6, 8, "Claim")]}),
    ]
    report = build_report("p", docs)
    assert document_disagreement(report["by_document"]["apart"]) == 1.0
    assert documents_by_disagreement(report) == ["apart", "half", "agree", "empty"]


def test_bootstrap_is_reproducible_and_brackets_the_pooled_value():
    docs = random_documents(4, n_documents=12)
    first = bootstrap_intervals(docs, n_resamples=200, seed=3)
    assert first == bootstrap_intervals(docs, n_resamples=200, seed=3)
    overall = build_report("p", docs)["overall"]
    for name, value in [("krippendorff_alpha", overall["krippendorff_alpha"]["value"]),
                        ("span_f1_overlap", overall["span_f1"]["overlap"]["value"])]:
        interval = first["intervals"][name]
        assert interval["low"] <= value <= interval["high"]
    assert set(first["intervals"]) == {
        "krippendorff_alpha", "cohen_kappa", "fleiss_kappa", "unitizing_alpha",
        "span_f1_exact", "span_f1_overlap", "span_f1_jaccard50", "relation_f1"}


def test_bootstrap_of_one_document_gives_no_interval():
    # Every resample of one document is that document: an interval [x, x] would
    # claim a certainty the data cannot give, so the interval is undefined.
    docs = random_documents(5, n_documents=1, max_spans=8)
    assert build_report("p", docs)["overall"]["cohen_kappa"]["value"] is not None
    intervals = bootstrap_intervals(docs, n_resamples=20)["intervals"]
    for figure in intervals.values():
        assert (figure["low"], figure["high"], figure["undefined"]) == (None, None, 20)
    two = bootstrap_intervals(random_documents(5, n_documents=2, max_spans=8),
                              n_resamples=20)["intervals"]
    assert two["cohen_kappa"]["low"] is not None


def test_weighted_sums_equal_the_report_of_the_documents_drawn():
    # A resample drawing d0 twice, d1 once and d2 never must give the figures
    # of a project made of d0, a copy of d0 and d1: this checks every weighted
    # sum, the unit-gap term of unitizing alpha included.
    docs = random_documents(6, n_documents=3, max_spans=8)
    corpus = _Corpus.read(docs, unit="token", annotators=None)
    headline = corpus.headline(np.array([[2.0, 1.0, 0.0]]))
    copy = DocumentAnnotations("copy", docs[0].text, docs[0].work)
    overall = build_report("p", [docs[0], copy, docs[1]])["overall"]
    expected = {
        "krippendorff_alpha": overall["krippendorff_alpha"]["value"],
        "cohen_kappa": overall["cohen_kappa"]["value"],
        "fleiss_kappa": overall["fleiss_kappa"]["value"],
        "unitizing_alpha": overall["unitizing_alpha"]["value"],
        "span_f1_exact": overall["span_f1"]["exact"]["value"],
        "span_f1_overlap": overall["span_f1"]["overlap"]["value"],
        "span_f1_jaccard50": overall["span_f1"]["jaccard50"]["value"],
        "relation_f1": overall["relation_f1"]["value"],
    }
    for name, value in expected.items():
        assert headline[name][0] == pytest.approx(value, abs=1e-12), name
