"""The agreement API, for every actor: the latest report, requesting a run, a run's row."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from annotator.models import AgreementDocumentRank, AgreementRun, JobStatus
from annotator.services.agreement import agreement_run_execute, agreement_run_request
from tests.agreement_helpers import annotated_project, full_report, reference_report
from tests.api.conftest import detail
from tests.conftest import ALL_ACTORS
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def streamed_json(response):
    """The JSON of a streamed answer (a finished run's report is written as it is read)."""
    return json.loads(b"".join(response.streaming_content))

READERS = {"manager", "curator", "viewer"}
RUNNERS = {"manager"}


def expected(actor: str, allowed: set[str], ok: int = 200) -> int:
    """``ok`` when allowed; 403 for other members, 404 for outsiders, 401 anonymous."""
    if actor in allowed:
        return ok
    return {"non_member": 404, "anonymous": 401}.get(actor, 403)


@pytest.fixture
def done_run(project, members):
    annotated_project(project)
    run = agreement_run_execute(run_id=agreement_run_request(project=project).pk)
    run.report = reference_report(run)  # the whole report, its documents read in process
    return run


def agreement_url(project) -> str:
    return reverse("api-agreement", kwargs={"slug": project.slug})


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_latest_report_by_actor(api_for, project, done_run, actor):
    response = api_for(actor).get(agreement_url(project))
    assert response.status_code == expected(actor, READERS)
    if response.status_code == 200:
        # The report and what a later reader needs: the same JSON as the page's
        # download and the command.
        body = streamed_json(response)
        assert {k: body[k] for k in done_run.report} == done_run.report
        assert body["intervals"] == done_run.intervals
        assert body["run"]["id"] == done_run.pk and body["run"]["finished_at"]
        assert body["warrant_version"] and body["conventions"]["resamples"] == 1000
        assert body["conventions"]["unit"] == "token"
        assert "bootstrap" in body["conventions"]["ci_method"]
    else:
        detail(response)


def test_latest_report_of_a_unit(api_for, project, done_run):
    char = agreement_run_execute(
        run_id=agreement_run_request(project=project, unit="char").pk
    )
    client = api_for("viewer")
    assert streamed_json(client.get(agreement_url(project)))["unit"] == "char"  # the newest
    token = streamed_json(client.get(agreement_url(project), {"unit": "token"}))
    assert token["run"]["id"] == done_run.pk
    assert streamed_json(client.get(agreement_url(project), {"unit": "char"}))["run"]["id"] \
        == char.pk
    response = client.get(agreement_url(project), {"unit": "word"})
    assert response.status_code == 400 and "unknown unit" in detail(response)


def test_no_finished_run_is_a_404_with_a_reason(api_for, project, members):
    AgreementRun.objects.create(project=project)  # pending
    response = api_for("manager").get(agreement_url(project))
    assert response.status_code == 404
    assert "has finished yet" in detail(response)


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_request_a_run_by_actor(api_for, project, members, actor):
    annotated_project(project)
    response = api_for(actor).post(agreement_url(project), {"unit": "char"}, format="json")
    assert response.status_code == expected(actor, RUNNERS, ok=202)
    if response.status_code == 202:
        body = response.json()
        run = AgreementRun.objects.get()
        assert body["id"] == run.pk and body["status"] == "pending"
        assert body["parameters"] == {"unit": "char", "documents": None, "annotators": None}
        assert body["requested_by"] == "manager" and body["project"] == project.slug
        assert response["Location"] == body["url"]
        assert body["url"].endswith(reverse("api-agreement-run", kwargs={"run_id": run.pk}))
    else:
        assert not AgreementRun.objects.exists()


def test_request_a_run_computes_it_in_the_embedded_mode(
    api_for, project, members, django_capture_on_commit_callbacks
):
    annotated_project(project)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for("manager").post(
            agreement_url(project), {"documents": ["brief-1"]}, format="json"
        )
    assert response.status_code == 202
    run = AgreementRun.objects.get()
    assert run.status == JobStatus.DONE and list(full_report(run)["by_document"]) == ["brief-1"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"unit": "word"}, "unit"),
        ({"documents": ["nope"]}, "no such document in sanctions: nope"),
        ({"annotators": ["carol"]}, "no submitted annotation set in sanctions by: carol"),
        ({"documents": "brief-1"}, "documents"),
    ],
)
def test_request_with_bad_input_is_a_400_and_starts_nothing(
    api_for, project, members, body, message
):
    annotated_project(project)
    response = api_for("manager").post(agreement_url(project), body, format="json")
    assert response.status_code == 400
    assert message in detail(response)
    assert not AgreementRun.objects.exists()


def test_requesting_twice_returns_the_pending_run(api_for, project, members):
    annotated_project(project)
    client = api_for("manager")
    first = client.post(agreement_url(project), {}, format="json").json()
    second = client.post(agreement_url(project), {}, format="json").json()
    assert first["id"] == second["id"]
    assert AgreementRun.objects.count() == 1


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_run_detail_by_actor(api_for, project, done_run, actor):
    url = reverse("api-agreement-run", kwargs={"run_id": done_run.pk})
    response = api_for(actor).get(url)
    assert response.status_code == expected(actor, READERS)
    if response.status_code == 200:
        body = streamed_json(response)
        assert body["status"] == "done" and body["progress"] == 1.0
        assert body["report"] == done_run.report
        assert body["intervals"] == done_run.intervals
        assert body["data_version"] == done_run.data_version
        assert set(body["timings"]) == {"load", "report", "intervals", "save", "total"}
    else:
        detail(response)


def test_a_run_of_a_project_one_is_not_in_is_not_found(api_for, members):
    other = ProjectFactory(slug="elsewhere")
    run = AgreementRun.objects.create(project=other)
    response = api_for("manager").get(reverse("api-agreement-run", kwargs={"run_id": run.pk}))
    assert response.status_code == 404
    missing = api_for("manager").get(reverse("api-agreement-run", kwargs={"run_id": 99999}))
    assert missing.status_code == 404 and detail(missing) == detail(response)


def test_the_agreement_operations_are_in_the_openapi_schema(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    assert set(paths["/api/projects/{slug}/agreement/"]) == {"get", "post"}
    assert "202" in paths["/api/projects/{slug}/agreement/"]["post"]["responses"]
    run = paths["/api/agreement-runs/{run_id}/"]["get"]["responses"]["200"]
    ref = run["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert {"report", "intervals", "status", "progress"} <= set(
        schema["components"]["schemas"][ref]["properties"]
    )


# --- A finished run's documents, a page at a time -----------------------------------------


def documents_url(project, run, **query) -> str:
    url = reverse("api-agreement-run-documents", kwargs={"slug": project.slug, "run_id": run.pk})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_run_documents_by_actor(api_for, project, done_run, actor):
    response = api_for(actor).get(documents_url(project, done_run))
    assert response.status_code == expected(actor, READERS)
    if response.status_code == 200:
        body = response.json()
        assert body["count"] == len(done_run.report["by_document"])
        by_document = done_run.report["by_document"]
        assert [row["rank"] for row in body["results"]] == [1, 2]
        for row in body["results"]:
            assert row["figures"] == by_document[row["external_id"]]
            assert row["alpha"] == row["figures"]["krippendorff_alpha"]["value"]
        # brief-1 is where alice and bob disagree: first by disagreement.
        assert body["results"][0]["external_id"] == "brief-1"
        assert body["results"][0]["title"] == project.documents.get(external_id="brief-1").title
    else:
        detail(response)


def test_run_documents_in_the_reports_order_page_by_page(api_for, project, members):
    annotated_project(project, documents=5)
    run = agreement_run_execute(run_id=agreement_run_request(project=project).pk)
    by_document = reference_report(run)["by_document"]  # in the stored report's order
    client = api_for("viewer")
    seen = []
    for page in (1, 2, 3):
        body = client.get(documents_url(project, run, ordering="report", page=page,
                                         page_size=2)).json()
        assert body["count"] == 5
        seen += [(row["position"], row["external_id"]) for row in body["results"]]
    assert seen == list(enumerate(by_document))
    ranks = client.get(documents_url(project, run, page_size=5)).json()["results"]
    assert sorted(row["rank"] for row in ranks) == [1, 2, 3, 4, 5]
    assert [row["rank"] for row in ranks] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [({"ordering": "title"}, 400, "unknown ordering"), ({"page": 9}, 404, "Invalid page")],
)
def test_run_documents_with_bad_input(api_for, project, done_run, query, status, message):
    response = api_for("viewer").get(documents_url(project, done_run, **query))
    assert response.status_code == status and message in detail(response)


def test_run_documents_of_another_project_or_of_a_run_without_ranks_are_not_found(
    api_for, project, done_run
):
    other = ProjectFactory(slug="elsewhere")
    theirs = AgreementRun.objects.create(project=other, status=JobStatus.DONE, report={})
    client = api_for("manager")
    assert client.get(documents_url(project, theirs)).status_code == 404
    newer = agreement_run_execute(run_id=agreement_run_request(project=project,
                                                               unit="char").pk)
    # Every finished run keeps its ranks: the older run's documents are still there.
    assert client.get(documents_url(project, done_run)).json()["count"] == 2
    assert client.get(documents_url(project, newer)).json()["count"] == 2
    # A run finished when only the newest run kept its ranks, whose ranks went.
    AgreementDocumentRank.objects.filter(run=done_run).delete()
    response = client.get(documents_url(project, done_run))
    assert response.status_code == 404 and "no longer kept" in detail(response)


def test_run_documents_are_in_the_openapi_schema(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][
        "/api/projects/{slug}/agreement/runs/{run_id}/documents/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"ordering", "page"}
    ordering = next(p for p in operation["parameters"] if p["name"] == "ordering")
    assert ordering["schema"]["enum"] == ["rank", "report"]
