"""Creating a project in the browser (preset or schema editor) and its settings page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from annotator.models import AnnotationSet, Membership, Project
from tests.factories import DocumentFactory


def editor_post(**extra):
    """The form as the page sends it for a two-label, one-relation schema."""
    data = {
        "slug": "policy-101", "name": "Policy 101", "annotators_per_document": "3",
        "blind": "on", "guidelines": "Mark *claims*.",
        "label-count": "3",
        "label-0-name": "Claim", "label-0-colour": "#1d4ed8", "label-0-hotkey": "c",
        "label-0-description": "A claim",
        "label-1-name": "Premise", "label-1-colour": "#047857", "label-1-hotkey": "p",
        "label-2-name": "", "label-2-colour": "#64748b",
        "type-count": "2",
        "type-0-name": "support", "type-0-directed": "on",
        "type-0-allowed": "Premise -> Claim\n* -> Premise",
        "type-1-name": "",
    }
    data.update(extra)
    return data


def test_the_new_project_page_starts_from_the_preset(client_for):
    response = client_for("viewer").get(reverse("project-new"))
    assert response.status_code == 200
    for name in ("MajorClaim", "Claim", "Reason", "Evidence", "evidence_for"):
        assert f'value="{name}"' in response.content.decode()


def test_an_empty_start_has_no_labels(client_for):
    body = client_for("viewer").get(reverse("project-new") + "?start=empty").content.decode()
    assert 'value="MajorClaim"' not in body


def test_any_logged_in_user_creates_a_project_and_becomes_its_manager(client_for, members):
    response = client_for("non_member").post(reverse("project-new"), editor_post())
    assert response.status_code == 302
    assert response["Location"] == reverse("project-detail", kwargs={"slug": "policy-101"})
    project = Project.objects.get(slug="policy-101")
    assert (project.name, project.annotators_per_document, project.blind) == ("Policy 101", 3, True)
    assert project.join_code
    assert Membership.objects.get(project=project).user == members["non_member"]
    assert Membership.objects.get(project=project).role == "manager"
    assert list(project.span_labels.values_list("name", "colour", "hotkey")) == [
        ("Claim", "#1d4ed8", "c"), ("Premise", "#047857", "p")]
    rel = project.relation_types.get()
    assert (rel.name, rel.directed, rel.allowed) == (
        "support", True, [["Premise", "Claim"], ["*", "Premise"]])


def test_staff_only_creation_is_a_setting(client_for, settings):
    settings.WARRANT_PROJECT_CREATORS = "staff"
    assert client_for("viewer").get(reverse("project-new")).status_code == 403


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"label-1-colour": "green"}, "is not #rrggbb"),
        ({"label-1-hotkey": "c"}, "used by two labels"),
        ({"label-1-hotkey": "s"}, "reserved"),
        ({"label-1-name": "Claim"}, "defined twice"),
        ({"type-0-allowed": "Premise -> Warrant"}, "names label &#x27;Warrant&#x27;"),
        ({"type-0-allowed": "Premise Claim"}, "Source -&gt; Target"),
        ({"label-0-name": "", "label-1-name": ""}, "non-empty"),
        ({"slug": "Bad Slug"}, "slug"),
        ({"annotators_per_document": "0"}, "at least 1"),
    ],
)
def test_schema_and_project_errors_are_shown_and_nothing_is_created(client_for, change,
                                                                    message):
    response = client_for("viewer").post(reverse("project-new"), editor_post(**change))
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="form-error"' in body and message in body
    assert not Project.objects.filter(slug="policy-101").exists()
    # What the user typed is shown again.
    assert 'value="Policy 101"' in body


def test_more_rows_adds_blank_rows_without_creating(client_for):
    response = client_for("viewer").post(reverse("project-new"), editor_post(more="1"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="label-4-name"' in body and 'name="type-3-name"' in body
    assert not Project.objects.filter(slug="policy-101").exists()


def settings_post(project, **extra):
    data = {
        "name": "Renamed", "description": "About sanctions", "guidelines": "# Read me",
        "annotators_per_document": "3", "allow_reopen": "on", "default_due": "",
        "label-count": "1", "label-0-name": "Warrant", "label-0-colour": "#123456",
        "type-count": "0",
    }
    data.update(extra)
    return data


def test_settings_save_guidelines_and_add_labels_without_deleting(client_for, project):
    url = reverse("project-settings", kwargs={"slug": project.slug})
    response = client_for("manager").post(url, settings_post(project))
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.guidelines, project.annotators_per_document) == (
        "Renamed", "# Read me", 3)
    assert project.blind is False and project.allow_reopen is True
    names = set(project.span_labels.values_list("name", flat=True))
    assert {"Warrant", "Claim", "MajorClaim"} <= names  # labels grow, never vanish


def test_settings_preview_renders_sanitised_markdown_and_saves_nothing(client_for, project):
    url = reverse("project-settings", kwargs={"slug": project.slug})
    data = settings_post(project, guidelines="**bold** <script>alert(1)</script>", preview="1")
    response = client_for("manager").post(url, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<strong>bold</strong>" in body and "<script>alert" not in body
    project.refresh_from_db()
    assert project.name == "Sanctions briefs"


def test_htmx_preview_answers_only_the_preview(client_for, project):
    url = reverse("guidelines-preview", kwargs={"slug": project.slug})
    response = client_for("manager").post(url, {"guidelines": "- one\n- two"},
                                          HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.startswith('<div id="guidelines-preview"') and "<li>one</li>" in body


def test_settings_deadline_moves_the_assignments_that_follow_it(client_for, project, members):
    aset = AnnotationSet.objects.create(document=DocumentFactory(project=project),
                                        annotator=members["annotator"])
    url = reverse("project-settings", kwargs={"slug": project.slug})
    client_for("manager").post(url, settings_post(project, default_due="2030-03-01"))
    aset.refresh_from_db()
    project.refresh_from_db()
    assert project.default_due == aset.due == dt.date(2030, 3, 1)


def test_settings_errors_are_shown(client_for, project):
    url = reverse("project-settings", kwargs={"slug": project.slug})
    response = client_for("manager").post(url, settings_post(project, default_due="soon"))
    assert response.status_code == 400
    assert "is not a date" in response.content.decode()
    project.refresh_from_db()
    assert project.name == "Sanctions briefs"


def test_project_page_links_the_pages_each_role_may_open(client_for, project):
    detail = reverse("project-detail", kwargs={"slug": project.slug})
    manager = client_for("manager").get(detail).content.decode()
    for name in ("project-settings", "members", "assignments", "progress", "curation", "grades"):
        assert reverse(name, kwargs={"slug": project.slug}) in manager
    student = client_for("annotator").get(detail).content.decode()
    assert reverse("feedback", kwargs={"slug": project.slug}) in student
    for name in ("project-settings", "members", "curation", "grades"):
        assert reverse(name, kwargs={"slug": project.slug}) not in student
