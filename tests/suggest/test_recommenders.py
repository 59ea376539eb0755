"""The recommenders of annotator/suggest (issue 16, point 1), without Django."""

from __future__ import annotations

import itertools
import random
import time

import pytest

from annotator.formats.schema import RelationTypeSpec, SchemaSpec, SpanLabelSpec, load_schema
from annotator.services.demo import _alice, demo_brief_text
from annotator.suggest.combine import combine
from annotator.suggest.cues import CueRecommender
from annotator.suggest.evaluate import Tally, cross_validate, folds_by_document, score
from annotator.suggest.external import ExternalRecommender
from annotator.suggest.learned import LearnedModel, _decode, _Reading, _tags, train_model
from annotator.suggest.types import (
    AnnotatedDocument,
    Endpoint,
    RecommenderError,
    SpanSuggestion,
    Suggestions,
)
from tests.suggestion_briefs import make_brief
from tests.suggestion_server import SuggestServer

ARGUMENT = load_schema("argument")


def _doc(brief, group: str) -> AnnotatedDocument:
    return AnnotatedDocument(brief.text, tuple(Endpoint(*s) for s in brief.spans),
                             tuple(brief.relations), group)


# --------------------------------------------------------------------------- cues


def test_cues_find_the_demo_briefs_skeleton_with_the_cue_that_produced_each():
    text = demo_brief_text()
    found = CueRecommender().suggest(text, ARGUMENT)
    by_label = {}
    for s in found.spans:
        by_label.setdefault(s.label, []).append(text[s.start:s.end])
    assert by_label["Reason"] == [
        "Traffic in the harbour district has become unbearable.",
        "Charging works where it has been tried.",
        "The money would pay for better buses.",
        "Cleaner air would save lives.",
        "Most residents already support it.",
    ]
    reasons = [s for s in found.spans if s.label == "Reason"]
    assert {s.cue for s in reasons} == {f"numbered item {n} of the 5 announced"
                                        for n in range(1, 6)}
    assert {s.confidence for s in reasons} == {0.85}
    assert by_label["MajorClaim"][1].startswith("Northport should introduce a daily congestion")
    assert by_label["MajorClaim"][0] == "Northport Should Adopt Congestion Pricing Now"
    # The citation's sentence without the citation; the quote that opens a cited sentence.
    assert ("Average speeds on the ring road fell to 11 km/h at rush hour last winter, down from "
            "19 km/h five years earlier") in by_label["Evidence"]
    assert '"The queues simply did not come back,"' in by_label["Evidence"]
    assert ("A charge of 8 euros a day would raise an estimated 96 million euros a year"
            in by_label["Evidence"])
    # "Critics argue that X; yet Y (source)": X is an objection, Y the evidence.
    assert by_label["Claim"] == ["the charge would hurt shop owners in the district"]
    assert ("footfall in Stockholm's centre rose after its charge was introduced"
            in by_label["Evidence"])
    # Every suggestion matches alice's spans where she marked the same thing.
    alice = {(s.start, s.end, s.label) for s in _alice(text).spans}
    got = {(s.start, s.end, s.label) for s in found.spans}
    assert len(alice & got) >= 6


def test_cue_relations_follow_position_and_the_schema():
    text = demo_brief_text()
    found = CueRecommender().suggest(text, ARGUMENT)
    claim = max((s for s in found.spans if s.label == "MajorClaim"), key=lambda s: s.confidence)
    supports = [r for r in found.relations if r.type == "supports"]
    assert len(supports) == 5 and all(r.target == claim.endpoint for r in supports)
    evidence_for = [r for r in found.relations if r.type == "evidence_for"]
    for r in evidence_for:
        assert r.source.label == "Evidence" and r.target.label == "Reason"
        assert r.target.start < r.source.start  # the nearest reason before the evidence
        between = [s for s in found.spans if s.label == "Reason"
                   and r.target.start < s.start < r.source.start]
        assert not between
        assert r.confidence == pytest.approx(0.9 * min(0.85, 0.6)) or r.confidence < 0.6
    attacks = [r for r in found.relations if r.type == "attacks"]
    assert [(r.source.label, r.target) for r in attacks] == [("Claim", claim.endpoint)]


def test_cues_link_to_the_annotators_own_major_claim_when_drawn():
    text = demo_brief_text()
    mine = Endpoint(0, 20, "MajorClaim")
    found = CueRecommender().suggest(text, ARGUMENT, drawn=(mine,))
    assert {r.target for r in found.relations if r.type == "supports"} == {mine}


def test_cues_take_the_projects_own_label_names_and_leave_out_what_it_lacks():
    schema = SchemaSpec(
        (SpanLabelSpec("MajorClaim", "#000000"), SpanLabelSpec("Premise", "#111111")),
        (RelationTypeSpec("Support", (("Premise", "MajorClaim"),)),),
    )
    text = demo_brief_text()
    found = CueRecommender().suggest(text, schema)
    assert {s.label for s in found.spans} == {"MajorClaim", "Premise"}
    # Reasons and evidence both become Premise; overlapping ones keep the most confident.
    premises = sorted((s.start, s.end) for s in found.spans if s.label == "Premise")
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(premises))
    # Only the type the schema allows, between the labels it allows.
    assert {(r.type, r.source.label, r.target.label) for r in found.relations} == {
        ("Support", "Premise", "MajorClaim")}


def test_ordinal_openers_and_a_closing_recommendation():
    text = ("Cities face a choice. First, congestion costs money. Second, it harms health. "
            "Moreover, buses are late. Therefore the city must act now.")
    found = CueRecommender().suggest(text, ARGUMENT)
    got = {(text[s.start:s.end], s.label, s.cue) for s in found.spans}
    assert ("First, congestion costs money.", "Reason", "ordinal opener") in got
    assert ("Second, it harms health.", "Reason", "ordinal opener") in got
    assert ("Moreover, buses are late.", "Reason", "additive opener") in got
    assert ("Therefore the city must act now.", "MajorClaim",
            "recommendation in the opening") in got


# --------------------------------------------------------------------------- learned


def test_bio_tags_keep_the_longer_of_two_overlapping_spans_and_decode_back():
    text = "We should act now because costs rise fast.\n"
    reading = _Reading(text, ARGUMENT)
    line = reading.lines[0]
    spans = [Endpoint(0, 17, "Claim"), Endpoint(3, 9, "Reason"), Endpoint(26, 42, "Reason")]
    tags, left_out = _tags(line, spans)
    assert left_out == 1
    assert tags[:4] == ["B-Claim", "I-Claim", "I-Claim", "I-Claim"]
    decoded = [(s, e, lab) for s, e, lab, _ in _decode(line, tags)]
    assert decoded == [(0, 17, "Claim"), (26, 42, "Reason")]


def test_a_model_learns_the_projects_spans_and_links_and_survives_storage():
    docs = [_doc(make_brief(seed), f"b{seed}") for seed in range(30)]
    model, report = train_model(docs, ARGUMENT)
    assert report.documents == 30 and report.spans_left_out == 0
    assert set(report.labels) == {"MajorClaim", "Reason", "Evidence"}
    assert set(report.relation_types) == {"supports", "evidence_for"}
    held_out = [_doc(make_brief(seed), f"b{seed}") for seed in range(100, 110)]
    tally = Tally()
    stored = LearnedModel.from_bytes(model.to_bytes())
    for doc in held_out:
        first = model.suggest(doc.text, ARGUMENT)
        again = stored.suggest(doc.text, ARGUMENT)
        assert first.spans == again.spans and first.relations == again.relations
        tally.add(first, doc)
    figures = tally.figures()
    assert figures["exact"]["f1"] > 0.9, figures["exact"]
    assert figures["relations"]["f1"] > 0.7, figures["relations"]
    # The cues alone do worse on the same briefs: the model learned the annotation's habits.
    cues = Tally()
    for doc in held_out:
        cues.add(CueRecommender().suggest(doc.text, ARGUMENT), doc)
    assert cues.figures()["exact"]["f1"] < figures["exact"]["f1"]


def test_a_model_suggests_only_labels_the_schema_still_has():
    docs = [_doc(make_brief(seed), f"b{seed}") for seed in range(8)]
    model, _ = train_model(docs, ARGUMENT)
    narrow = SchemaSpec((SpanLabelSpec("Reason", "#000000"),), ())
    found = model.suggest(make_brief(99).text, narrow)
    assert found.spans and {s.label for s in found.spans} == {"Reason"}
    assert found.relations == []


def test_training_refuses_nothing_to_learn_from():
    with pytest.raises(ValueError, match="nothing to learn from"):
        train_model([], ARGUMENT)


# --------------------------------------------------------------------------- evaluation


def _brute_matches(pred, gold, same) -> int:
    """The largest one-to-one matching, by trying every assignment (small inputs only)."""
    best = 0
    small, large = (pred, gold) if len(pred) <= len(gold) else (gold, pred)
    for chosen in itertools.permutations(range(len(large)), len(small)):
        ok = sum(1 for i, j in enumerate(chosen)
                 if (same(small[i], large[j]) if small is pred else same(large[j], small[i])))
        best = max(best, ok)
    return best


def test_tally_counts_match_a_brute_force_matching():
    rng = random.Random(7)
    for _ in range(60):
        gold = [Endpoint(a, a + rng.randint(1, 6), rng.choice("AB"))
                for a in (rng.randint(0, 20) for _ in range(rng.randint(0, 4)))]
        pred = [SpanSuggestion(rng.choice("AB"), a, a + rng.randint(1, 6), 1.0, "x")
                for a in (rng.randint(0, 20) for _ in range(rng.randint(0, 4)))]
        gold = list(dict.fromkeys(gold))
        figures = score(Suggestions(pred), AnnotatedDocument("x" * 40, tuple(gold)))

        def exact(p, g):
            return (p.start, p.end, p.label) == (g.start, g.end, g.label)

        def overlap(p, g):
            return p.label == g.label and p.start < g.end and g.start < p.end

        for name, same in (("exact", exact), ("overlap", overlap)):
            m = _brute_matches(pred, gold, same)
            total = len(pred) + len(gold)
            assert figures[name]["f1"] == (None if total == 0 else round(2 * m / total, 4))
            assert figures[name]["precision"] == (round(m / len(pred), 4) if pred else None)
            assert figures[name]["recall"] == (round(m / len(gold), 4) if gold else None)


def test_cross_validation_never_scores_a_document_it_learned_from():
    docs = [_doc(make_brief(seed), f"d{seed}") for seed in range(6)]
    docs += [_doc(make_brief(seed), f"d{seed}") for seed in range(2)]  # a second set of d0, d1
    seen = []

    class Spy:
        def __init__(self, training):
            self.groups = {d.group for d in training}

        def suggest(self, text, schema, drawn=()):
            group = next(d.group for d in docs if d.text == text)
            seen.append((group, self.groups))
            return Suggestions()

    result = cross_validate(Spy, docs, ARGUMENT, folds=3, fractions=(0.5, 1.0))
    assert result["folds"] == 3
    assert [p["fraction"] for p in result["learning_curve"]] == [0.5, 1.0]
    assert seen and all(group not in groups for group, groups in seen)
    folds = folds_by_document(docs, 3)
    for fold in folds:
        groups = {d.group for d in fold}
        assert all(d.group not in groups for other in folds if other is not fold for d in other)
    assert cross_validate(Spy, docs[:1], ARGUMENT)["error"].startswith("cross-validation needs")


# --------------------------------------------------------------------------- combining


def test_combine_keeps_the_most_confident_and_drops_drawn_dismissed_and_orphans():
    a = SpanSuggestion("Reason", 0, 5, 0.4, "cues")
    b = SpanSuggestion("Reason", 0, 5, 0.9, "model")
    c = SpanSuggestion("Evidence", 6, 9, 0.5, "cues")
    from annotator.suggest.types import RelationSuggestion

    r = RelationSuggestion("evidence_for", c.endpoint, a.endpoint, 0.5, "cues")
    out = combine([Suggestions([a, c], [r]), Suggestions([b])])
    assert [(s.label, s.recommender) for s in out.spans] == [("Reason", "model"),
                                                             ("Evidence", "cues")]
    assert out.relations == [r]
    gone = combine([Suggestions([a, c], [r])], dismissed={c.key})
    assert gone.spans == [a] and gone.relations == []
    drawn = combine([Suggestions([a, c], [r])], drawn={a.endpoint})
    assert drawn.spans == [c] and drawn.relations == [r]  # its end is drawn: it stays
    kept = combine([Suggestions([a, c], [r])], drawn={a.endpoint}, keep_drawn=True)
    assert kept.spans == [a, c]


# --------------------------------------------------------------------------- external


@pytest.fixture
def server():
    with SuggestServer() as s:
        yield s


def test_external_recommender_posts_text_schema_and_drawn_spans_and_reads_suggestions(server):
    text = "Sanctions work. Exports fell."
    server.answer = (200, {
        "spans": [{"label": "Claim", "start": 0, "end": 15, "confidence": 0.9, "cue": "bert"},
                  {"label": "Evidence", "start": 16, "end": 29}],
        "relations": [{"type": "evidence_for", "confidence": 0.7,
                       "source": {"start": 16, "end": 29, "label": "Evidence"},
                       "target": {"start": 0, "end": 15, "label": "Claim"}}],
    })
    drawn = (Endpoint(0, 9, "MajorClaim"),)
    found = ExternalRecommender(server.url, document_id="b1").suggest(text, ARGUMENT, drawn=drawn)
    sent = server.requests[0]
    assert sent["protocol"] == "warrant-suggest/1"
    assert sent["document"] == {"id": "b1", "text": text}
    assert [lab["name"] for lab in sent["schema"]["span_labels"]] == ARGUMENT.label_names()
    assert sent["spans"] == [{"start": 0, "end": 9, "label": "MajorClaim"}]
    assert [(s.label, s.confidence, s.cue, s.recommender) for s in found.spans] == [
        ("Claim", 0.9, "bert", "external"), ("Evidence", 0.5, "", "external")]
    assert found.relations[0].type == "evidence_for"


@pytest.mark.parametrize(("answer", "message"), [
    ((500, b"model crashed"), "answered HTTP 500: model crashed"),
    ((200, b"<html>"), "is not JSON"),
    ((200, {"nothing": []}), "has no list of spans"),
    ((200, {"spans": [{"label": "Nope", "start": 0, "end": 2}]}),
     "span 1 has label 'Nope', which the project's schema does not have"),
    ((200, {"spans": [{"label": "Claim", "start": 0, "end": 999}]}),
     "span 1 0-999 is outside the text"),
    ((200, {"spans": [{"label": "Claim", "start": 0, "end": 2, "confidence": 3}]}),
     "confidence outside [0, 1]"),
    ((200, {"spans": [], "relations": [{"type": "supports",
                                        "source": {"start": 0, "end": 2, "label": "Claim"},
                                        "target": {"start": 3, "end": 5, "label": "Evidence"}}]}),
     "supports cannot link Claim to Evidence"),
])
def test_external_recommender_errors_are_one_clear_line(server, answer, message):
    server.answer = answer
    with pytest.raises(RecommenderError, match=message.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(").replace(")", r"\)")):
        ExternalRecommender(server.url).suggest("Sanctions work.", ARGUMENT)


def test_external_recommender_times_out(server):
    server.delay = 1.5
    began = time.monotonic()
    with pytest.raises(RecommenderError, match=r"did not answer within 0.3 s"):
        ExternalRecommender(server.url, timeout=0.3).suggest("Sanctions work.", ARGUMENT)
    assert time.monotonic() - began < 1.4


def test_external_recommender_unreachable():
    with pytest.raises(RecommenderError, match="cannot reach the external recommender"):
        ExternalRecommender("http://127.0.0.1:9/x", timeout=1).suggest("Text.", ARGUMENT)
    with pytest.raises(RecommenderError, match="not an http"):
        ExternalRecommender("file:///etc/passwd")
