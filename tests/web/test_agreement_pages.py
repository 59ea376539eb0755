"""The agreement pages, for every actor: the report, starting a run, polling, the download,
and one document side by side."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import NoReverseMatch, reverse

from annotator.models import AgreementRun, JobStatus
from annotator.services.agreement import agreement_run_execute, agreement_run_request
from tests.agreement_helpers import annotated_project, full_report, reference_report
from tests.conftest import ALL_ACTORS
from tests.factories import DocumentFactory, ProjectFactory

pytestmark = pytest.mark.django_db

# Who may read the figures (agreement.view) and who may start a run (agreement.run).
READERS = {"manager", "curator", "viewer"}
RUNNERS = {"manager"}


def expected_status(actor: str, allowed: set[str]) -> int:
    """200 for those allowed; 403 for other members; 404 for outsiders; 302 to log in."""
    if actor in allowed:
        return 200
    return {"non_member": 404, "anonymous": 302}.get(actor, 403)


@pytest.fixture
def docs(project, members):
    return annotated_project(project)


@pytest.fixture
def done_run(project, docs):
    run = agreement_run_execute(run_id=agreement_run_request(project=project).pk)
    run.report = reference_report(run)  # the whole report, its documents read in process
    return run


def page_url(project) -> str:
    return reverse("agreement", kwargs={"slug": project.slug})


# --- The page ---------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_agreement_page_by_actor(client_for, project, done_run, actor):
    response = client_for(actor).get(page_url(project))
    assert response.status_code == expected_status(actor, READERS)
    if actor == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    if response.status_code == 200:
        html = response.content.decode()
        assert "Krippendorff&#x27;s alpha (nominal)" in html
        assert ("Run agreement" in html) == (actor in RUNNERS)


def test_page_shows_the_summary_with_intervals_the_heatmap_and_documents(
    client_for, project, done_run
):
    html = client_for("manager").get(page_url(project)).content.decode()
    report = done_run.report
    alpha = report["overall"]["krippendorff_alpha"]["value"]
    assert f"{alpha:.3f}" in html
    ci = done_run.intervals["intervals"]["krippendorff_alpha"]
    assert f"[{ci['low']:.3f}, {ci['high']:.3f}]" in html
    assert "95% bootstrap interval" in html
    # Per label and per relation type.
    assert "<th scope=\"row\">Reason</th>" in html
    assert "<th scope=\"row\">supports</th>" in html
    # The heatmap: the pair's value, with a background scaled by it.
    kappa = report["overall"]["cohen_kappa"]["pairs"]["alice|bob"]
    assert 'class="heatmap"' in html and f">{kappa:.3f}</td>" in html
    assert "background-color: rgb(" in html
    # Documents by disagreement: brief-1 (a reason labelled differently) first.
    assert html.index("brief-1</code>") < html.index("brief-2</code>")
    doc_url = reverse(
        "agreement-document", kwargs={"slug": project.slug, "document_id": done_run_doc_pk(project)}
    )
    assert doc_url in html
    assert reverse("agreement-report", kwargs={"slug": project.slug, "run_id": done_run.pk}) in html


def done_run_doc_pk(project) -> int:
    return project.documents.get(external_id="brief-1").pk


def test_undefined_figures_read_a_dash_never_zero(client_for, project, members):
    # One annotator only: nothing to pair, every figure is undefined; the legend says "—".
    annotated_project(project)
    run = agreement_run_request(project=project, annotators=["alice"])
    run = agreement_run_execute(run_id=run.pk)
    assert run.report["overall"]["cohen_kappa"]["value"] is None
    html = client_for("viewer").get(page_url(project)).content.decode()
    kappa_row = re.search(r'<tr><th scope="row">Cohen&#x27;s kappa[^<]*</th>(.*?)</tr>', html, re.S)
    assert kappa_row, "the summary table has a Cohen's kappa row"
    assert re.findall(r'<td class="number">([^<]*)</td>', kappa_row.group(1))[0] == "—"
    assert "shown as “—”" in html
    assert ">undefined<" not in html
    assert "0.000" not in html


def test_page_without_any_run_says_so(client_for, project, docs):
    html = client_for("curator").get(page_url(project)).content.decode()
    assert "No agreement run has finished yet." in html


def test_a_failed_run_is_shown_with_its_error(client_for, project, docs):
    AgreementRun.objects.create(
        project=project, status=JobStatus.FAILED, error="ValueError: something broke"
    )
    html = client_for("viewer").get(page_url(project)).content.decode()
    assert "failed" in html and "ValueError: something broke" in html


def test_page_says_when_annotations_changed_since_the_run(client_for, project, done_run):
    aset = project.documents.get(external_id="brief-1").annotation_sets.get(
        annotator__username="bob"
    )
    aset.version += 1
    aset.save()
    html = client_for("manager").get(page_url(project)).content.decode()
    assert "changed since this run" in html


# --- Starting a run ---------------------------------------------------------------------


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_run_form_by_actor(client_for, project, docs, actor, django_capture_on_commit_callbacks):
    url = reverse("agreement-run", kwargs={"slug": project.slug})
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(actor).post(url, {"unit": "char"})
    if actor in RUNNERS:
        assert response.status_code == 302
        assert response["Location"] == page_url(project)
        run = AgreementRun.objects.get()
        # No broker in the tests: the embedded mode computed it in-process.
        assert run.status == JobStatus.DONE and run.report["unit"] == "char"
    else:
        assert response.status_code == expected_status(actor, RUNNERS)
        assert not AgreementRun.objects.exists()


def test_run_form_with_htmx_answers_with_the_run_region(
    client_for, project, docs, django_capture_on_commit_callbacks
):
    url = reverse("agreement-run", kwargs={"slug": project.slug})
    with django_capture_on_commit_callbacks(execute=False):
        response = client_for("manager").post(url, {"unit": "token"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#agreement-run", "outerHTML")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="agreement-run"')
    run = AgreementRun.objects.get()
    status_url = reverse(
        "agreement-run-status", kwargs={"slug": project.slug, "run_id": run.pk}
    )
    assert f'hx-get="{status_url}"' in html and 'hx-trigger="every 1s"' in html


def test_run_form_over_a_subset(client_for, project, docs, django_capture_on_commit_callbacks):
    url = reverse("agreement-run", kwargs={"slug": project.slug})
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("manager").post(
            url, {"unit": "token", "documents": "brief-2", "annotators": ["alice", "bob"]}
        )
    assert response.status_code == 302
    run = AgreementRun.objects.get()
    assert run.parameters == {"unit": "token", "documents": ["brief-2"],
                              "annotators": ["alice", "bob"]}
    assert list(full_report(run)["by_document"]) == ["brief-2"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"unit": "word"}, "Select a valid choice"),
        ({"unit": "token", "documents": "brief-9"}, "no such document in sanctions: brief-9"),
        ({"unit": "token", "annotators": ["carol"]}, "Select a valid choice"),
    ],
)
def test_run_form_refuses_bad_input_and_starts_nothing(client_for, project, docs, data, message):
    url = reverse("agreement-run", kwargs={"slug": project.slug})
    response = client_for("manager").post(url, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AgreementRun.objects.exists()


def test_run_form_with_htmx_and_bad_input_comes_back_in_place_with_the_error(
    client_for, project, docs
):
    url = reverse("agreement-run", kwargs={"slug": project.slug})
    response = client_for("manager").post(
        url, {"unit": "token", "documents": "brief-9"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200  # htmx swaps only 2xx answers
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="agreement-form"')
    assert "no such document in sanctions: brief-9" in html
    assert not AgreementRun.objects.exists()


def test_run_form_is_post_only(client_for, project, docs):
    url = reverse("agreement-run", kwargs={"slug": project.slug})
    assert client_for("manager").get(url).status_code == 405


# --- Polling ----------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_polling_a_pending_run_by_actor(client_for, project, docs, actor):
    run = AgreementRun.objects.create(project=project, status=JobStatus.RUNNING, progress=0.42)
    url = reverse("agreement-run-status", kwargs={"slug": project.slug, "run_id": run.pk})
    response = client_for(actor).get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == expected_status(actor, READERS)
    if response.status_code == 200:
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="agreement-status"')
        assert 'hx-trigger="every 1s"' in html and "42%" in html and "running" in html


def test_polling_a_finished_run_stops_with_286_and_swaps_in_the_report(
    client_for, project, done_run
):
    url = reverse("agreement-run-status", kwargs={"slug": project.slug, "run_id": done_run.pk})
    response = client_for("viewer").get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert response["HX-Retarget"] == "#agreement-run"
    assert response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="agreement-run"')
    assert "every 1s" not in html
    assert "Krippendorff&#x27;s alpha (nominal)" in html


def test_polling_a_run_of_another_project_is_not_found(client_for, project, docs):
    other = ProjectFactory(slug="other")
    run = AgreementRun.objects.create(project=other)
    url = reverse("agreement-run-status", kwargs={"slug": project.slug, "run_id": run.pk})
    assert client_for("manager").get(url).status_code == 404


# --- Download ---------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_report_download_by_actor(client_for, project, done_run, actor):
    url = reverse("agreement-report", kwargs={"slug": project.slug, "run_id": done_run.pk})
    response = client_for(actor).get(url)
    assert response.status_code == expected_status(actor, READERS)
    if response.status_code == 200:
        assert response["Content-Type"].startswith("application/json")
        assert "attachment" in response["Content-Disposition"]
        body = json.loads(b"".join(response.streaming_content))  # written as it is read
        assert {k: body[k] for k in done_run.report} == done_run.report
        assert (body["run"]["id"], body["intervals"]) == (done_run.pk, done_run.intervals)


def test_report_download_of_an_unfinished_run_is_not_found(client_for, project, docs):
    run = AgreementRun.objects.create(project=project)
    url = reverse("agreement-report", kwargs={"slug": project.slug, "run_id": run.pk})
    assert client_for("manager").get(url).status_code == 404


# --- One document side by side ----------------------------------------------------------


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_document_side_by_side_by_actor(client_for, project, done_run, actor):
    doc = project.documents.get(external_id="brief-1")
    url = reverse("agreement-document", kwargs={"slug": project.slug, "document_id": doc.pk})
    response = client_for(actor).get(url)
    assert response.status_code == expected_status(actor, READERS)
    if actor == "viewer":  # a blind project: a viewer reads nobody's set (issue 11)
        html = response.content.decode()
        assert 'id="col-1"' not in html and "16\N{EN DASH}36" not in html
        assert 'id="blind-note"' in html
    elif response.status_code == 200:
        html = response.content.decode()
        assert "<h3 id=\"col-1\">alice</h3>" in html and "<h3 id=\"col-2\">bob</h3>" in html
        # The one disagreement: characters 16-36, a reason for alice, evidence for bob.
        assert "16\N{EN DASH}36" in html
        assert "<td>Reason</td><td>Evidence</td>" in html
        assert 'class="disagree"' in html
        assert "carol" not in html  # carol has not submitted


def test_document_where_annotators_agree_says_so(client_for, project, done_run):
    doc = project.documents.get(external_id="brief-2")
    url = reverse("agreement-document", kwargs={"slug": project.slug, "document_id": doc.pk})
    html = client_for("manager").get(url).content.decode()
    assert "agree on every character" in html


def test_document_of_another_project_is_not_found(client_for, project, done_run):
    other = ProjectFactory(slug="other")
    doc = DocumentFactory(project=other)
    url = reverse("agreement-document", kwargs={"slug": project.slug, "document_id": doc.pk})
    assert client_for("manager").get(url).status_code == 404


def test_document_links_to_the_annotation_page_when_it_exists(client_for, project, done_run):
    doc = project.documents.get(external_id="brief-1")
    url = reverse("agreement-document", kwargs={"slug": project.slug, "document_id": doc.pk})
    html = client_for("manager").get(url).content.decode()
    try:
        annotate = reverse("annotate", kwargs={"slug": project.slug, "document_id": doc.pk})
    except NoReverseMatch:
        assert "Open the annotation page" not in html
    else:
        assert f'href="{annotate}"' in html


def test_a_class_of_annotators_is_typed_by_name_not_ticked(
    client_for, project, docs, monkeypatch, django_capture_on_commit_callbacks
):
    """Past a few annotators the form takes names in a box (300 checkboxes took 170 ms
    to render); typed or ticked, the same names mean the same run, unknown ones are refused."""
    from annotator.web import agreement as agreement_views

    monkeypatch.setattr(agreement_views, "ANNOTATOR_CHECKBOXES_MAX", 1)
    html = client_for("manager").get(page_url(project)).content.decode()
    assert re.search(r'<textarea name="annotators"[^>]*aria-label="Annotators"', html)
    assert 'type="checkbox" name="annotators"' not in html
    url = reverse("agreement-run", kwargs={"slug": project.slug})
    refused = client_for("manager").post(url, {"unit": "token", "annotators": "alice carol"})
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    assert not AgreementRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("manager").post(
            url, {"unit": "token", "annotators": "alice,\nbob"})
    assert response.status_code == 302
    assert AgreementRun.objects.get().parameters["annotators"] == ["alice", "bob"]
