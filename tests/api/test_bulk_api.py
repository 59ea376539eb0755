"""The bulk API: a project's readable sets in one listing or one JSONL stream, with filters.

Each route once per actor; what each actor sees follows the one rule of
``selectors.annotations.readable_sets_in_project`` (blind or not).
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotator.formats.jsonl import read_jsonl
from annotator.models import Document, Project
from tests.api.conftest import detail
from tests.conftest import ALL_ACTORS
from tests.factories import AnnotationSetFactory, DocumentFactory

# What each actor reads of ``sets`` (own, peer, gold) in a blind and an open project.
READS = {
    "manager": ({"annotator", "peer", "gold"}, {"annotator", "peer", "gold"}),
    "curator": ({"annotator", "peer", "gold"}, {"annotator", "peer", "gold"}),
    "annotator": ({"annotator"}, {"annotator", "peer"}),
    "viewer": (set(), {"annotator", "peer"}),
}


def _who(rows) -> set[str]:
    return {row["annotator"] or "gold" for row in rows}


def _list_url(project, **query):
    url = reverse("api-project-annotation-sets", kwargs={"slug": project.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _jsonl_url(project, **query):
    url = reverse("api-project-annotations", kwargs={"slug": project.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _jsonl(response) -> list:
    body = b"".join(response.streaming_content)
    return read_jsonl(body, name="api.jsonl") if body.strip() else []


@pytest.mark.parametrize("actor", ALL_ACTORS)
@pytest.mark.parametrize("blind", [True, False])
def test_each_actor_lists_and_pulls_only_the_sets_they_may_read(api_for, project, sets, actor,
                                                                blind):
    Project.objects.filter(pk=project.pk).update(blind=blind)
    listing = api_for(actor).get(_list_url(project))
    stream = api_for(actor).get(_jsonl_url(project))
    if actor == "anonymous":
        assert (listing.status_code, stream.status_code) == (401, 401)
        return
    if actor == "non_member":
        assert (listing.status_code, stream.status_code) == (404, 404)
        return
    assert (listing.status_code, stream.status_code) == (200, 200)
    expected = READS[actor][0 if blind else 1]
    assert _who(listing.json()["results"]) == expected
    [record] = _jsonl(stream)
    pulled = {a.annotator for a in record.annotations} | ({"gold"} if record.gold else set())
    assert pulled == expected
    assert stream["Content-Type"].startswith("application/jsonl")


def test_filters_combine_and_the_stream_matches_the_list(api_for, project, sets, document):
    other = DocumentFactory(project=project, external_id="other", meta={"split": "test"})
    Document.objects.filter(pk=document.pk).update(meta={"split": "train"})
    AnnotationSetFactory(document=other, annotator=sets["own"].annotator, status="submitted")
    manager = api_for("manager")
    cases = {
        "annotator=annotator": {("other", "annotator"), (document.external_id, "annotator")},
        "annotator=annotator&status=submitted": {("other", "annotator")},
        "gold=true": {(document.external_id, "gold")},
        "gold=false&split=test": {("other", "annotator")},
        f"document={document.external_id}&annotator=peer,annotator":
            {(document.external_id, "annotator"), (document.external_id, "peer")},
    }
    for query, expected in cases.items():
        rows = manager.get(_list_url(project) + "?" + query).json()["results"]
        docs = {d.pk: d.external_id for d in Document.objects.filter(project=project)}
        assert {(docs[r["document"]], r["annotator"] or "gold") for r in rows} == expected, query
        pulled = {
            (record.external_id, a.annotator or "gold")
            for record in _jsonl(manager.get(_jsonl_url(project) + "?" + query))
            for a in [*record.annotations, *([record.gold] if record.gold else [])]
        }
        assert pulled == expected, query


def test_without_a_set_filter_every_document_comes_and_split_chooses(api_for, project, sets,
                                                                     document):
    DocumentFactory(project=project, external_id="empty", meta={"split": "dev"})
    ids = [r.external_id for r in _jsonl(api_for("manager").get(_jsonl_url(project)))]
    assert ids == [document.external_id, "empty"]
    ids = [r.external_id for r in _jsonl(api_for("manager").get(_jsonl_url(project, split="dev")))]
    assert ids == ["empty"]


@pytest.mark.parametrize(("query", "message"), [
    ("colour=red", "unknown filter 'colour'"),
    ("status=done", "'done' is not one of assigned, in_progress, submitted"),
    ("gold=maybe", "filter 'gold' is true or false"),
    ("annotator=", "filter 'annotator' is empty"),
])
def test_an_unknown_filter_or_value_is_a_400_not_ignored(api_for, project, sets, query, message):
    for url in (_list_url(project), _jsonl_url(project)):
        response = api_for("manager").get(f"{url}?{query}")
        assert response.status_code == 400
        assert message in detail(response)


def test_paging_is_not_a_filter(api_for, project, sets):
    response = api_for("manager").get(_list_url(project, page_size=2, page=2))
    assert response.status_code == 200 and len(response.json()["results"]) == 1


def test_the_stream_is_canonical_jsonl_version_2(api_for, project, sets):
    body = b"".join(api_for("manager").get(_jsonl_url(project)).streaming_content)
    line = json.loads(body.decode().splitlines()[0])
    assert line["format"] == "warrant/2" and "final" in line["gold"]


@pytest.mark.parametrize("documents", [3, 12])
def test_the_stream_and_the_list_take_the_same_queries_at_two_sizes(api_for, project, members,
                                                                    documents):
    for i in range(documents):
        doc = DocumentFactory(project=project, external_id=f"d{i}")
        AnnotationSetFactory(document=doc, annotator=members["annotator"])
    client = api_for("manager")
    with CaptureQueriesContext(connection) as stream_queries:
        assert len(_jsonl(client.get(_jsonl_url(project)))) == documents
    with CaptureQueriesContext(connection) as list_queries:
        client.get(_list_url(project))
    # Bounded: a few queries for access and schema, four per batch of 200 documents.
    assert len(stream_queries) <= 12 and len(list_queries) <= 8, (
        len(stream_queries), len(list_queries))
