"""A set's suggestions over the API (issue 16, point 4): per actor, and what they hold."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import DismissedSuggestion, Span
from annotator.services.demo import demo_brief_text
from annotator.services.suggestions import suggestion_settings_update
from tests.conftest import ALL_ACTORS
from tests.factories import AnnotationSetFactory, DocumentFactory
from tests.suggestion_server import SuggestServer

from .conftest import detail

pytestmark = pytest.mark.django_db

REASON_1 = "Traffic in the harbour district has become unbearable."


@pytest.fixture
def own(project, members):
    suggestion_settings_update(project=project, enabled=True, recommenders=["cues"])
    document = DocumentFactory(project=project, text=demo_brief_text())
    return AnnotationSetFactory(document=document, annotator=members["annotator"])


def _key(aset):
    start = aset.document.text.index(REASON_1)
    return f"span:Reason:{start}:{start + len(REASON_1)}"


# Reading follows reading the set (blind project: the annotator's own, managers and curators
# every set); writing is one's own set only. Anonymous requests get 401.
READ = dict(zip(ALL_ACTORS, (200, 200, 200, 403, 404, 401), strict=True))
WRITE = dict(zip(ALL_ACTORS, (403, 403, 200, 403, 404, 401), strict=True))


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_reading_a_sets_suggestions_per_actor(api_for, own, actor):
    response = api_for(actor).get(reverse("api-set-suggestions", kwargs={"set_id": own.pk}))
    assert response.status_code == READ[actor]
    if response.status_code != 200:
        assert detail(response)
        return
    data = response.json()
    assert data["shown"] is True and data["accept_threshold"] == 0.6
    span = next(s for s in data["spans"] if s["key"] == _key(own))
    assert span == {"key": _key(own), "label": "Reason", "start": span["start"],
                    "end": span["start"] + len(REASON_1), "text": REASON_1,
                    "confidence": 0.85, "recommender": "cues",
                    "cue": "numbered item 1 of the 5 announced"}
    relation = data["relations"][0]
    assert set(relation) == {"key", "type", "source", "target", "confidence", "recommender",
                             "cue"}
    assert set(relation["source"]) == {"start", "end", "label"}


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_accepting_per_actor_only_in_ones_own_set(api_for, own, actor):
    response = api_for(actor).post(
        reverse("api-set-suggestions-accept", kwargs={"set_id": own.pk}),
        {"keys": [_key(own)], "version": 0}, format="json")
    assert response.status_code == WRITE[actor]
    if response.status_code == 200:
        span = Span.objects.get(annotation_set=own)
        assert response.json() == {"version": 1, "spans": [span.pk], "relations": []}
        assert span.suggested_by == "cues"
        again = api_for(actor).get(reverse("api-annotation-set-detail",
                                           kwargs={"set_id": own.pk}))
        assert again.json()["spans"][0]["suggested_by"] == "cues"
    else:
        assert not Span.objects.filter(annotation_set=own).exists()


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_dismissing_per_actor_only_in_ones_own_set(api_for, own, actor):
    response = api_for(actor).post(
        reverse("api-set-suggestions-dismiss", kwargs={"set_id": own.pk}),
        {"keys": [_key(own)]}, format="json")
    assert response.status_code == WRITE[actor]
    assert DismissedSuggestion.objects.filter(annotation_set=own).exists() is (
        response.status_code == 200)


def test_bad_requests_are_400_and_change_nothing(api_for, own):
    client = api_for("annotator")
    url = reverse("api-set-suggestions-accept", kwargs={"set_id": own.pk})
    assert client.post(url, {"keys": ["span:Reason:0:3"], "version": 0},
                       format="json").status_code == 400
    assert client.post(url, {"keys": "x"}, format="json").status_code == 400
    assert client.post(url, {"keys": [_key(own)], "version": 5},
                       format="json").status_code == 409
    every = client.post(url, {"all": True, "version": 0}, format="json")
    assert every.status_code == 200 and len(every.json()["spans"]) >= 10
    off = reverse("api-set-suggestions-dismiss", kwargs={"set_id": own.pk})
    assert client.post(off, {"keys": []}, format="json").status_code == 400
    assert DismissedSuggestion.objects.count() == 0


@pytest.fixture
def external(project, settings):
    """An external recommender the test starts, allowed by the site and chosen by the
    project beside the structure cues."""
    with SuggestServer() as server:
        settings.WARRANT_SUGGEST_EXTERNAL_URLS = [server.url]
        suggestion_settings_update(project=project, enabled=True,
                                   recommenders=["cues", "external"],
                                   external_url=server.url, external_timeout=0.5)
        yield server


def test_an_external_recommenders_suggestions_are_served_and_accepted(api_for, own, external):
    text = own.document.text
    start = text.index(REASON_1)
    external.answer = (200, {"spans": [
        {"label": "Claim", "start": start, "end": start + 17, "confidence": 0.9,
         "cue": "transformer"}]})
    client = api_for("annotator")
    data = client.get(reverse("api-set-suggestions", kwargs={"set_id": own.pk})).json()
    assert data["errors"] == []
    mine = [s for s in data["spans"] if s["recommender"] == "external"]
    assert mine == [{"key": f"span:Claim:{start}:{start + 17}", "label": "Claim",
                     "start": start, "end": start + 17, "text": text[start:start + 17],
                     "confidence": 0.9, "recommender": "external", "cue": "transformer"}]
    assert any(s["recommender"] == "cues" for s in data["spans"])
    # Warrant sent the brief, its id and the schema (docs/suggestions.md).
    sent = external.requests[0]
    assert sent["protocol"] == "warrant-suggest/1"
    assert sent["document"] == {"id": own.document.external_id, "text": text}
    accepted = client.post(reverse("api-set-suggestions-accept", kwargs={"set_id": own.pk}),
                           {"keys": [mine[0]["key"]], "version": 0}, format="json")
    assert accepted.status_code == 200
    span = Span.objects.get(annotation_set=own)
    assert (span.start, span.end, span.label.name, span.suggested_by) == (
        start, start + 17, "Claim", "external")


@pytest.mark.parametrize(("answer", "delay", "message"), [
    ((500, b"out of memory"), 0, "the external recommender answered HTTP 500: out of memory"),
    ((200, {"spans": []}), 1.5, "the external recommender did not answer within 0.5 s"),
    ((200, b"<html>"), 0, "the external recommender's answer is not JSON"),
])
def test_an_external_recommenders_failure_is_shown_and_the_cues_still_are(
        api_for, own, external, answer, delay, message):
    external.answer, external.delay = answer, delay
    response = api_for("annotator").get(reverse("api-set-suggestions",
                                                kwargs={"set_id": own.pk}))
    assert response.status_code == 200
    data = response.json()
    assert len(data["errors"]) == 1 and data["errors"][0].startswith(message)
    assert data["spans"] and {s["recommender"] for s in data["spans"]} == {"cues"}
