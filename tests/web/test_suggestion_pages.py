"""The Suggestions page and the annotation page's suggestion endpoints, per actor
(issue 16); the suggestion split on the agreement page and in curation."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from annotator.models import JobStatus, Span, SuggestionModel, SuggestionSettings
from annotator.services.demo import demo_brief_text
from annotator.services.suggestions import suggestion_settings_update
from tests.conftest import ALL_ACTORS
from tests.factories import AnnotationSetFactory, DocumentFactory

pytestmark = pytest.mark.django_db

REASON_1 = "Traffic in the harbour district has become unbearable."


@pytest.fixture
def brief(project, members):
    suggestion_settings_update(project=project, enabled=True, recommenders=["cues"])
    document = DocumentFactory(project=project, text=demo_brief_text())
    # Everyone who may annotate has a set of their own: each answers for their own set.
    sets = {role: AnnotationSetFactory(document=document, annotator=members[role])
            for role in ("manager", "curator", "annotator")}
    return document, sets


def _kwargs(document):
    return {"slug": document.project.slug, "document_id": document.pk}


def _key(text, label, phrase):
    start = text.index(phrase)
    return f"span:{label}:{start}:{start + len(phrase)}"


# manager curator annotator viewer non_member anonymous
SETTINGS_PAGE = dict(zip(ALL_ACTORS, (200, 403, 403, 403, 404, 302), strict=True))
TRAIN = dict(zip(ALL_ACTORS, (302, 403, 403, 403, 404, 302), strict=True))
# The annotation page's endpoints answer for one's own set: the viewer has none (404).
OWN_READ = dict(zip(ALL_ACTORS, (200, 200, 200, 404, 404, 302), strict=True))
OWN_WRITE = dict(zip(ALL_ACTORS, (200, 200, 200, 403, 404, 302), strict=True))


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_the_suggestions_page_per_role(client_for, project, actor):
    response = client_for(actor).get(reverse("suggestion-settings", kwargs={"slug": project.slug}))
    assert response.status_code == SETTINGS_PAGE[actor]
    if response.status_code == 200:
        assert b"Show suggestions in this project" in response.content


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_saving_settings_per_role_and_refusals_change_nothing(client_for, project, actor):
    url = reverse("suggestion-settings", kwargs={"slug": project.slug})
    response = client_for(actor).post(url, {
        "enabled": "on", "recommenders": ["cues", "model"], "audience": "all",
        "retrain_after": "5", "min_confidence": "0.4", "accept_threshold": "0.7",
        "external_url": "", "external_timeout": "5"})
    assert response.status_code == TRAIN[actor]
    row = SuggestionSettings.objects.filter(project=project).first()
    if actor == "manager":
        assert (row.enabled, row.recommenders, row.retrain_after, row.min_confidence,
                row.accept_threshold) == (True, ["cues", "model"], 5, 0.4, 0.7)
    else:
        assert row is None


def test_a_bad_setting_is_a_400_with_the_reason(client_for, project):
    url = reverse("suggestion-settings", kwargs={"slug": project.slug})
    response = client_for("manager").post(url, {"enabled": "on", "recommenders": ["external"],
                                                "external_url": "http://169.254.169.254/",
                                                "retrain_after": "5", "min_confidence": "0.3",
                                                "accept_threshold": "0.6",
                                                "external_timeout": "5"})
    assert response.status_code == 400
    assert b"does not allow that external recommender" in response.content
    assert not SuggestionSettings.objects.filter(project=project, enabled=True).exists()


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_training_and_its_status_per_role(client_for, project, actor):
    response = client_for(actor).post(reverse("suggestion-train", kwargs={"slug": project.slug}))
    assert response.status_code == TRAIN[actor]
    made = SuggestionModel.objects.filter(project=project)
    assert made.exists() is (actor == "manager")
    model = made.first() or SuggestionModel.objects.create(project=project)
    status = client_for(actor).get(reverse("suggestion-model-status", kwargs={
        "slug": project.slug, "model_id": model.pk}))
    assert status.status_code == SETTINGS_PAGE[actor]
    if actor == "manager":  # queued at the commit, which a test's transaction never makes
        assert b"Pending" in status.content and b'hx-trigger="every 1s"' in status.content
        SuggestionModel.objects.filter(pk=model.pk).update(status=JobStatus.FAILED,
                                                           error="too few documents")
        done = client_for(actor).get(reverse("suggestion-model-status", kwargs={
            "slug": project.slug, "model_id": model.pk}))
        assert done.status_code == 286 and b"too few documents" in done.content


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_a_sets_suggestions_per_role(client_for, brief, actor):
    document, sets = brief
    response = client_for(actor).get(reverse("annotate-suggestions", kwargs=_kwargs(document)))
    assert response.status_code == OWN_READ[actor]
    if response.status_code == 200:
        data = response.json()
        assert data["shown"] is True and data["version"] == sets[actor].version
        key = _key(document.text, "Reason", REASON_1)
        span = next(s for s in data["spans"] if s["key"] == key)
        label = document.project.span_labels.get(name="Reason")
        assert (span["label"], span["confidence"], span["recommender"]) == (label.pk, 0.85, "cues")
        assert data["relations"] and all(len(r["source"]) == 3 for r in data["relations"])


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_accepting_per_role_only_in_ones_own_set(client_for, brief, actor):
    document, sets = brief
    key = _key(document.text, "Reason", REASON_1)
    response = client_for(actor).post(
        reverse("annotate-suggestions-accept", kwargs=_kwargs(document)),
        {"keys": json.dumps([key]), "expected_version": "0"}, HTTP_HX_REQUEST="true")
    assert response.status_code == OWN_WRITE[actor]
    spans = Span.objects.filter(annotation_set__document=document)
    if response.status_code == 200:
        span = spans.get()
        assert span.annotation_set == sets[actor] and span.suggested_by == "cues"
        event = json.loads(response["HX-Trigger-After-Swap"])["warrant:saved"]
        assert event["change"]["spans"] == [[span.pk, span.label_id, span.start, span.end]]
        assert event["message"].startswith("Accepted: Reason")
    else:
        assert not spans.exists()


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_dismissing_per_role_only_in_ones_own_set(client_for, brief, actor):
    document, _ = brief
    key = _key(document.text, "Reason", REASON_1)
    response = client_for(actor).post(
        reverse("annotate-suggestions-dismiss", kwargs=_kwargs(document)),
        {"keys": json.dumps([key])}, HTTP_HX_REQUEST="true")
    assert response.status_code == OWN_WRITE[actor]
    from annotator.models import DismissedSuggestion

    assert DismissedSuggestion.objects.filter(key=key).exists() is (
        response.status_code == 200)


def test_accept_all_and_a_bad_request(client_for, brief):
    document, sets = brief
    url = reverse("annotate-suggestions-accept", kwargs=_kwargs(document))
    client = client_for("annotator")
    bad = client.post(url, {"keys": "not json", "expected_version": "0"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and b"list of keys" in bad.content
    stale = client.post(url, {"all": "1", "expected_version": "9"}, HTTP_HX_REQUEST="true")
    assert stale.status_code == 409
    done = client.post(url, {"all": "1", "expected_version": "0"}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200
    assert Span.objects.filter(annotation_set=sets["annotator"]).count() >= 10


def test_the_annotation_page_loads_the_suggestion_module_only_where_they_show(client_for, brief,
                                                                              project):
    document, _ = brief
    page = reverse("annotate", kwargs=_kwargs(document))
    on = client_for("annotator").get(page)
    assert b"suggestions.js" in on.content and b'id="suggestion-data"' in on.content
    suggestion_settings_update(project=project, enabled=False, recommenders=["cues"])
    off = client_for("annotator").get(page)
    assert b"suggestions.js" not in off.content and b"suggestion-bar" not in off.content


# --------------------------------------------------------------------------- study figures

TEXT = "Sanctions work. Exports fell sharply (Reuters). Prices rose. We should keep them."


@pytest.fixture
def suggested_work(project, members):
    from annotator.models import AnnotationSet
    from tests.agreement_helpers import annotate

    doc = DocumentFactory(project=project, text=TEXT)
    alice = annotate(project, doc, "alice", [(0, 15, "Claim"), (16, 46, "Evidence")])
    bob = annotate(project, doc, "bob", [(0, 15, "Claim"), (16, 30, "Evidence")])
    Span.objects.filter(annotation_set__in=[alice, bob], label__name="Claim").update(
        suggested_by="cues")
    gold = annotate(project, doc, "goldmaker", [(0, 15, "Claim"), (16, 46, "Evidence")])
    AnnotationSet.objects.filter(pk=gold.pk).update(annotator=None, is_gold=True,
                                                   gold_final=True)
    return doc


def test_the_agreement_run_splits_figures_by_suggested_and_hand_drawn_spans(
        client_for, project, suggested_work):
    from annotator.services.agreement import agreement_run_execute, agreement_run_request

    run = agreement_run_request(project=project)
    run = agreement_run_execute(run_id=run.pk)
    split = run.report["suggestions"]
    # Counted by hand: both Claims came from the cues and match (F1 1); the hand-drawn
    # Evidence differ (F1 0). Against the gold: 2 of 2 suggested, 1 of 2 hand-drawn.
    assert split == {
        "recommenders": {"cues": 2},
        "suggested": {"spans": 2, "pair_f1_exact": 1.0, "gold_precision_exact": 1.0},
        "hand": {"spans": 2, "pair_f1_exact": 0.0, "gold_precision_exact": 0.5},
    }
    page = client_for("manager").get(reverse("agreement", kwargs={"slug": project.slug}))
    html = page.content.decode()
    assert 'id="suggestion-split"' in html and "From accepted suggestions" in html
    assert "cues: 2" in html


def test_an_agreement_run_without_suggested_spans_has_no_split(project, members):
    from annotator.services.agreement import agreement_run_execute, agreement_run_request
    from tests.agreement_helpers import annotate

    doc = DocumentFactory(project=project, text=TEXT)
    annotate(project, doc, "alice", [(0, 15, "Claim")])
    annotate(project, doc, "bob", [(0, 15, "Claim")])
    run = agreement_run_execute(run_id=agreement_run_request(project=project).pk)
    assert "suggestions" not in run.report


def test_curation_marks_the_spans_that_came_from_a_suggestion(client_for, project,
                                                               suggested_work):
    url = reverse("curation-document", kwargs={"slug": project.slug,
                                               "document_id": suggested_work.pk})
    html = client_for("curator").get(url).content.decode()
    assert html.count('class="suggested-mark"') == 2
    assert 'title="alice accepted this from a suggestion"' in html


def test_the_hugging_face_export_carries_the_mark_and_the_card_the_split(project, members,
                                                                          suggested_work,
                                                                          tmp_path):
    import pyarrow.parquet as pq

    from annotator.services.agreement import agreement_run_execute, agreement_run_request
    from annotator.services.exports import export_write

    agreement_run_execute(run_id=agreement_run_request(project=project).pk)
    export_write(project=project, format="hf", path=tmp_path / "hf", scope="annotators")
    card = (tmp_path / "hf" / "README.md").read_text()
    assert "### Suggested or drawn by hand" in card
    assert "| from accepted suggestions | 2 | 1.000 | 1.000 |" in card
    table = pq.read_table(next((tmp_path / "hf" / "annotators").rglob("*.parquet")))
    names = ["MajorClaim", "Claim", "Reason", "Evidence"]  # the label is a ClassLabel index
    marks = {(row["annotator"], names[s["label"]]): s["suggested_by"]
             for row in table.to_pylist() for s in row["spans"]}
    assert marks == {("alice", "Claim"): "cues", ("alice", "Evidence"): "",
                     ("bob", "Claim"): "cues", ("bob", "Evidence"): ""}
