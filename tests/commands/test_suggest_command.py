"""``manage.py suggest`` (issue 16, point 4): suggestions now, and the evaluation."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotator.models import AnnotationSet, Document, JobStatus, Span, SuggestionModel
from annotator.services.demo import demo_brief_text
from tests.agreement_helpers import annotate
from tests.factories import DocumentFactory
from tests.suggestion_briefs import make_brief

pytestmark = pytest.mark.django_db

SPAN_FIELDS = ["document", "label", "start", "end", "text", "confidence", "recommender", "cue"]


def run(*args) -> str:
    out = StringIO()
    call_command("suggest", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _briefs(project, count):
    for seed in range(count):
        brief = make_brief(seed)
        doc = DocumentFactory(project=project, external_id=f"b{seed}", text=brief.text)
        annotate(project, doc, "alice", brief.spans, brief.relations)
    AnnotationSet.objects.filter(document__project=project).update(status="submitted")


def test_json_lines_hold_exactly_the_fields_of_a_suggestion(project):
    DocumentFactory(project=project, external_id="demo", text=demo_brief_text())
    lines = [json.loads(line) for line in run("sanctions", "--json").splitlines()]
    spans = [x for x in lines if "label" in x]
    relations = [x for x in lines if "type" in x]
    assert spans and relations and len(spans) + len(relations) == len(lines)
    text = demo_brief_text()
    for span in spans:
        assert list(span) == SPAN_FIELDS
        assert span["document"] == "demo" and span["recommender"] == "cues"
        assert text[span["start"]:span["end"]] == span["text"]
        assert 0 <= span["confidence"] <= 1 and span["cue"]
    ends = {(s["start"], s["end"], s["label"]) for s in spans}
    for relation in relations:
        assert list(relation) == ["document", "type", "source", "target"]
        for end in (relation["source"], relation["target"]):
            assert list(end) == ["start", "end", "label"]
            assert (end["start"], end["end"], end["label"]) in ends
    # Nothing was written: suggestions are computed, not stored.
    assert not Span.objects.exists()


def test_documents_are_chosen_by_id_and_a_wrong_one_is_one_line(project):
    DocumentFactory(project=project, external_id="demo", text=demo_brief_text())
    other = DocumentFactory(project=project, external_id="other")
    lines = run("sanctions", "--json", "--document", "demo").splitlines()
    assert {json.loads(x)["document"] for x in lines} == {"demo"}
    by_pk = run("sanctions", "--json", "--document", str(other.pk)).splitlines()
    assert {json.loads(x)["document"] for x in by_pk} <= {"other"}
    with pytest.raises(CommandError, match="no document 'nope' in project sanctions"):
        run("sanctions", "--document", "nope")
    with pytest.raises(CommandError, match="no project with slug 'absent'"):
        run("absent")
    with pytest.raises(CommandError, match="no trained model yet"):
        run("sanctions", "--recommender", "model")


def test_train_then_suggest_with_the_model(project):
    _briefs(project, 4)
    new = DocumentFactory(project=project, external_id="new", text=make_brief(50).text)
    out = run("sanctions", "--recommender", "model", "--train", "--json", "--document", "new")
    assert SuggestionModel.objects.get().status == JobStatus.DONE
    spans = [json.loads(x) for x in out.splitlines() if "label" in json.loads(x)]
    assert {s["recommender"] for s in spans} == {"model"} and {s["cue"] for s in spans} == {"CRF"}
    assert {s["label"] for s in spans} >= {"MajorClaim", "Reason", "Evidence"}
    assert all(new.text[s["start"]:s["end"]] == s["text"] for s in spans)


def test_evaluate_prints_per_label_figures_and_a_learning_curve(project):
    _briefs(project, 6)
    report = json.loads(run("sanctions", "--evaluate", "--folds", "3", "--json"))
    assert (report["documents"], report["sets"], report["reference"]) == (6, 6, "submitted sets")
    assert set(report["recommenders"]) == {"cues", "model"}
    model = report["recommenders"]["model"]
    assert model["folds"] == 3
    assert [p["fraction"] for p in model["learning_curve"]] == [0.1, 0.25, 0.5, 1.0]
    for criterion in ("exact", "overlap"):
        for label in ("MajorClaim", "Reason", "Evidence"):
            figures = model[criterion]["per_label"][label]
            assert set(figures) == {"precision", "recall", "f1", "suggested", "reference"}
    assert model["exact"]["f1"] > 0.8
    cues = report["recommenders"]["cues"]
    assert cues["overlap"]["f1"] >= cues["exact"]["f1"]
    text = run("sanctions", "--evaluate", "--folds", "3", "--recommender", "cues")
    assert "cues (no training, every document)" in text
    assert text.splitlines()[0] == ("Suggestions of sanctions: 6 document(s), "
                                    "reference: submitted sets (6 set(s))")


def test_evaluate_needs_reference_work_and_sane_folds(project):
    DocumentFactory(project=project)
    with pytest.raises(CommandError, match="no submitted work or final gold"):
        run("sanctions", "--evaluate")
    with pytest.raises(CommandError, match="--folds must be at least 2"):
        run("sanctions", "--evaluate", "--folds", "1")
    assert Document.objects.count() == 1
