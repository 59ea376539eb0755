"""POST /api/annotation-sets/N/batch/: many spans and relations in one request
(issue 12, point 6), atomic, with the set's version and the single writes' rules."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotator.models import AnnotationAction, AnnotationSet, Relation, Span
from annotator.services.annotations import annotation_set_undo, span_create
from annotator.services.imports import content_hash
from tests.factories import AnnotationSetFactory, DocumentFactory
from tests.scale import _token_bounds, brief_text

from .conftest import detail


def url(aset) -> str:
    return reverse("api-annotation-set-batch", kwargs={"set_id": aset.pk})


@pytest.fixture
def long_document(project):
    text = brief_text(random.Random(3), 2000)
    return DocumentFactory(project=project, text=text, content_hash=content_hash(text))


@pytest.fixture
def own(members, long_document):
    return AnnotationSetFactory(document=long_document, annotator=members["annotator"])


def span_items(document, count: int, offset: int = 0) -> list[dict]:
    """``count`` spans over distinct words, alternating Claim and Reason."""
    tokens = _token_bounds(document.text)[offset:]
    return [
        {"id": f"T{k + 1}", "label": ("Claim", "Reason")[k % 2],
         "start": tokens[2 * k][0], "end": tokens[2 * k][1]}
        for k in range(count)
    ]


def chain(count: int) -> list[dict]:
    """T2 supports T1, T3 supports T2, ... (any label may support a Claim or Reason)."""
    return [{"source": f"T{k + 2}", "target": f"T{k + 1}", "type": "supports"}
            for k in range(count)]


def state(aset) -> tuple:
    aset.refresh_from_db()
    return (aset.version, aset.status, Span.objects.filter(annotation_set=aset).count(),
            Relation.objects.filter(annotation_set=aset).count())


def test_a_batch_writes_spans_and_relations_by_the_clients_ids_with_one_version(
    api_for, own, long_document
):
    items = span_items(long_document, 4)
    body = {"version": 0, "spans": items, "relations": chain(3)}
    response = api_for("annotator").post(url(own), body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["version"] == 1 and data["status"] == "in_progress"
    ids = {s["ref"]: s["id"] for s in data["spans"]}
    assert list(ids) == ["T1", "T2", "T3", "T4"]
    for item, stored in zip(items, data["spans"], strict=True):
        span = Span.objects.get(pk=stored["id"], annotation_set=own)
        assert (span.start, span.end, span.label.name) == (item["start"], item["end"],
                                                           item["label"])
    links = set(Relation.objects.filter(annotation_set=own)
                .values_list("source_id", "target_id", "type__name"))
    assert links == {(ids["T2"], ids["T1"], "supports"), (ids["T3"], ids["T2"], "supports"),
                     (ids["T4"], ids["T3"], "supports")}
    assert [(r["source"], r["target"]) for r in data["relations"]] == [
        (ids["T2"], ids["T1"]), (ids["T3"], ids["T2"]), (ids["T4"], ids["T3"])]


def test_the_batch_stores_what_the_single_write_would(api_for, own, long_document, members):
    """Snapping and trimming are the single write's: compare with span_create on a twin set."""
    tokens = _token_bounds(long_document.text)
    # From inside the first word to inside the third, with a space before: snap grows it.
    start, end = tokens[0][0] + 1, tokens[2][1] - 1
    body = {"version": 0, "snap": True,
            "spans": [{"id": "a", "label": "Claim", "start": start - 0, "end": end}]}
    stored = api_for("annotator").post(url(own), body, format="json").json()["spans"][0]
    twin = AnnotationSetFactory(document=long_document, annotator=members["curator"])
    span = span_create(annotation_set=twin, label=own.document.project.span_labels.get(
        name="Claim"), start=start, end=end, expected_version=0, snap=True)
    assert (stored["start"], stored["end"]) == (span.start, span.end)


def test_submit_in_the_same_batch_submits_and_queues_agreement(
    api_for, own, long_document, django_capture_on_commit_callbacks
):
    body = {"version": 0, "spans": span_items(long_document, 3), "relations": chain(2),
            "submit": True}
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_for("annotator").post(url(own), body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "submitted"
    assert state(own) == (2, "submitted", 3, 2)
    assert callbacks, "no agreement run was queued after the submission"


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda s, r: s[2].update(label="Opinion"), "spans[2] (T3): unknown span label"),
        (lambda s, r: s[1].update(end=10**7), "spans[1] (T2): the span"),
        (lambda s, r: s[3].update(id="T1"), "spans[3] (T1): the id 'T1' is used twice"),
        (lambda s, r: s[3].update(start=s[0]["start"], end=s[0]["end"], label="Claim"),
         "spans[3] (T4): the same text is marked Claim by spans[0]"),
        (lambda s, r: s[0].update(attributes={"stance": [1]}), "spans[0] (T1): attribute"),
        (lambda s, r: r[1].update(type="evidence_for"), "relations[1]: evidence_for cannot"),
        (lambda s, r: r[0].update(target="T99"), "relations[0]: target 'T99' is neither"),
        (lambda s, r: r[0].update(target="T2"), "cannot be related to itself"),
        (lambda s, r: r.append(dict(r[0])), "already linked by supports in this batch"),
        (lambda s, r: s[0].update(start=True), "spans[0] (T1): start must be a whole number"),
    ],
)
def test_one_bad_item_refuses_the_whole_batch_and_names_it(
    api_for, own, long_document, spoil, message
):
    spans, relations = span_items(long_document, 4), chain(3)
    spoil(spans, relations)
    before = state(own)
    response = api_for("annotator").post(
        url(own), {"version": 0, "spans": spans, "relations": relations}, format="json"
    )
    assert response.status_code == 400, response.content
    assert message in detail(response)
    assert state(own) == before


def test_a_stale_version_is_409_and_writes_nothing(api_for, own, long_document):
    client = api_for("annotator")
    client.post(url(own), {"version": 0, "spans": span_items(long_document, 1)}, format="json")
    response = client.post(
        url(own), {"version": 0, "spans": span_items(long_document, 2, offset=40)},
        format="json",
    )
    assert response.status_code == 409
    assert "changed elsewhere" in detail(response)
    assert state(own) == (1, "in_progress", 1, 0)


def test_a_span_already_in_the_set_is_refused_and_relations_may_name_existing_spans(
    api_for, own, long_document
):
    client = api_for("annotator")
    first = client.post(url(own), {"version": 0, "spans": span_items(long_document, 2)},
                        format="json").json()
    t1, t2 = (s["id"] for s in first["spans"])
    again = client.post(url(own), {"version": 1, "spans": span_items(long_document, 1)},
                        format="json")
    assert again.status_code == 400 and "already marked Claim" in detail(again)
    more = span_items(long_document, 1, offset=100)
    response = client.post(url(own), {
        "version": 1, "spans": more,
        "relations": [{"source": "T1", "target": t1, "type": "supports"},
                      {"source": t2, "target": t1, "type": "attacks"}],
    }, format="json")
    assert response.status_code == 201, response.content
    twice = client.post(url(own), {
        "version": 2, "relations": [{"source": t2, "target": t1, "type": "attacks"}]},
        format="json")
    assert twice.status_code == 400 and "already linked by attacks" in detail(twice)


def test_undo_takes_the_batch_back_whole(api_for, own, long_document):
    api_for("annotator").post(
        url(own), {"version": 0, "spans": span_items(long_document, 5), "relations": chain(4)},
        format="json",
    )
    own.refresh_from_db()
    annotation_set_undo(annotation_set=own, expected_version=own.version)
    assert state(own)[2:] == (0, 0)
    assert AnnotationAction.objects.filter(annotation_set=own).count() == 1


@pytest.mark.parametrize(
    ("actor", "status"),
    [("annotator", 201), ("manager", 403), ("curator", 403), ("viewer", 403),
     ("non_member", 404), ("anonymous", 401)],
)
def test_only_the_sets_annotator_writes_it(api_for, own, long_document, actor, status):
    response = api_for(actor).post(
        url(own), {"version": 0, "spans": span_items(long_document, 2)}, format="json"
    )
    assert response.status_code == status
    if status != 201:
        assert Span.objects.filter(annotation_set=own).count() == 0


def test_the_gold_is_written_by_a_curator(api_for, long_document):
    gold = AnnotationSet.objects.create(document=long_document, is_gold=True)
    response = api_for("curator").post(
        url(gold), {"version": 0, "spans": span_items(long_document, 2)}, format="json"
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"version": 0}, "nothing to write"),
        ({"version": 0, "spans": {"T1": 1}}, "spans must be a list"),
        ({"version": 0, "spans": [3]}, "spans[0] must be an object"),
        ({"spans": []}, "version"),
    ],
)
def test_malformed_batches_are_400(api_for, own, body, message):
    response = api_for("annotator").post(url(own), body, format="json")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_batch_costs_the_same_queries_for_5_and_300_items(api_for, own, members, project):
    counts = []
    for n in (2, 5, 300):  # the first request fills per-process caches
        text = brief_text(random.Random(n), 2000)
        document = DocumentFactory(project=project, text=text, content_hash=content_hash(text))
        aset = AnnotationSetFactory(document=document, annotator=members["annotator"])
        body = {"version": 0, "spans": span_items(document, n), "relations": chain(n - 1),
                "submit": True}
        client = api_for("annotator")
        with CaptureQueriesContext(connection) as queries:
            assert client.post(url(aset), body, format="json").status_code == 201
        counts.append(len(queries))
    assert counts[1] == counts[2], counts
    # A fixed number, small: the items are written in bulk, not one by one.
    assert counts[2] <= 20, counts


def test_the_set_detail_lists_exactly_the_serializers_fields(api_for, own, long_document):
    """The detail builds its rows by hand (for speed): they keep the documented fields."""
    from annotator.api.serializers import RelationSerializer, SpanSerializer

    api_for("annotator").post(
        url(own), {"version": 0, "spans": span_items(long_document, 2), "relations": chain(1)},
        format="json",
    )
    data = api_for("annotator").get(
        reverse("api-annotation-set-detail", kwargs={"set_id": own.pk})
    ).json()
    assert set(data["spans"][0]) == set(SpanSerializer().fields)
    assert set(data["relations"][0]) == set(RelationSerializer().fields)
