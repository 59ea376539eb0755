"""Deleting a project (issue 11, point 10): everything of it goes, nothing of another.

Two full projects (the rich backup project and its restored copy, each with
export files, import uploads, suggestion settings and models, agreement chunks
and dismissed suggestions); one is deleted by the service, the command line,
the settings page or the admin, and every model's rows of the other are counted
before and after.
"""

from __future__ import annotations

import io
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from annotator.models import (
    AgreementChunk,
    AnnotationSet,
    DismissedSuggestion,
    ExportJob,
    ImportJob,
    Membership,
    Project,
    SuggestionModel,
    SuggestionSettings,
    User,
)
from annotator.services.backup import project_backup, project_restore
from annotator.services.errors import WarrantError
from annotator.services.import_jobs import import_folder
from annotator.services.projects import project_delete
from tests.services.test_backup import PASSWORD, build_rich_project
from tests.services.test_backup import canonical as whole


def canonical(slug: str) -> dict:
    """Everything of the project but its users (whose last log-in the page tests move)."""
    return {k: v for k, v in whole(slug).items() if k != "users"}

#: How each model's rows reach their project; a model added later must be listed
#: here (the test below fails otherwise), so that deleting a project is checked on it.
PROJECT_OF = {
    "Project": "pk",
    "Membership": "project",
    "SpanLabel": "project",
    "RelationType": "project",
    "Document": "project",
    "AnnotationSet": "document__project",
    "AssignmentCount": "project_id",  # kept by triggers: none left at zero
    "Span": "annotation_set__document__project",
    "Relation": "annotation_set__document__project",
    "AnnotationAction": "annotation_set__document__project",
    "SetReopening": "annotation_set__document__project",
    "DismissedSuggestion": "annotation_set__document__project",
    "AgreementRun": "project",
    "AgreementChunk": "project",
    "AgreementDocumentRank": "run__project",
    "ImportJob": "project",
    "ExportJob": "project",
    "SuggestionSettings": "project",
    "SuggestionModel": "project",
}
#: Rows that belong to no project: they stay.
NOT_OF_A_PROJECT = {"User", "LoginFailure", "WebSession"}


def _models():
    return {m.__name__: m for m in apps.get_app_config("annotator").get_models()}


def rows_of(project_id: int) -> dict[str, int]:
    return {
        name: model.objects.filter(**{PROJECT_OF[name]: project_id}).count()
        for name, model in _models().items() if name in PROJECT_OF
    }


def _extras(project: Project) -> dict:
    """What a backup does not carry: jobs with their files, suggestions, chunks."""
    job = ExportJob.objects.create(project=project, format="jsonl", status="done")
    job.file.save(f"{project.slug}-{job.pk}-jsonl-both.jsonl", ContentFile(b"{}\n"), save=True)
    imp = ImportJob.objects.create(project=project, files=["a.txt"])
    import_folder(imp.pk).mkdir(parents=True, exist_ok=True)
    (import_folder(imp.pk) / "a.txt").write_text("an upload waiting for the worker")
    chosen = SuggestionSettings.objects.create(project=project, enabled=True)
    chosen.chosen.add(User.objects.get(username="alice"))
    SuggestionModel.objects.create(project=project, status="done", model=b"weights")
    AgreementChunk.objects.create(project=project, key=f"k{project.pk}", sums=b"sums")
    DismissedSuggestion.objects.create(
        annotation_set=AnnotationSet.objects.filter(document__project=project).first(), key="x"
    )
    return {"export": Path(job.file.path), "upload": import_folder(imp.pk)}


@pytest.fixture
def two(db, django_capture_on_commit_callbacks, settings):
    settings.MEDIA_ROOT = Path(settings.MEDIA_ROOT) / "delete-tests"
    rich = build_rich_project(django_capture_on_commit_callbacks)
    out = io.BytesIO()
    project_backup(rich, out)
    other = project_restore(io.BytesIO(out.getvalue()), slug="other")
    files = {"demo": _extras(rich), "other": _extras(other)}
    return {"demo": rich, "other": other, "files": files}


def test_every_model_is_either_of_a_project_or_of_none():
    assert set(_models()) == set(PROJECT_OF) | NOT_OF_A_PROJECT


def _check_deleted(two, before_other, canonical_other, users):
    demo_id = two["demo"].pk
    assert not Project.objects.filter(pk=demo_id).exists()
    assert all(n == 0 for n in rows_of(demo_id).values()), rows_of(demo_id)
    assert rows_of(two["other"].pk) == before_other
    assert canonical("other") == canonical_other
    assert User.objects.count() == users  # people stay: they may be in other projects
    assert not two["files"]["demo"]["export"].exists()
    assert not two["files"]["demo"]["upload"].exists()
    assert two["files"]["other"]["export"].exists()
    assert two["files"]["other"]["upload"].exists()


def _snapshot(two):
    before_demo = rows_of(two["demo"].pk)
    assert all(n > 0 for n in before_demo.values()), before_demo  # every model is exercised
    return rows_of(two["other"].pk), canonical("other"), User.objects.count()


def test_the_service_deletes_everything_of_the_project_and_nothing_else(
    two, django_capture_on_commit_callbacks
):
    snapshot = _snapshot(two)
    with django_capture_on_commit_callbacks(execute=True):
        report = project_delete(project=two["demo"], confirm="demo")
    _check_deleted(two, *snapshot)
    summary = report.summary()
    assert summary.startswith("deleted project demo: 2 document(s),") and "\n" not in summary
    assert "1 export file(s) and 1 import upload folder(s) removed; its users remain" in summary


def test_a_wrong_slug_is_refused_and_changes_nothing(two, django_capture_on_commit_callbacks):
    before = rows_of(two["demo"].pk)
    with django_capture_on_commit_callbacks(execute=True), \
            pytest.raises(WarrantError, match="type the project's slug, demo, to delete it"):
        project_delete(project=two["demo"], confirm="other")
    assert rows_of(two["demo"].pk) == before
    assert two["files"]["demo"]["export"].exists() and two["files"]["demo"]["upload"].exists()


def test_files_stay_when_the_deletion_is_rolled_back(two, django_capture_on_commit_callbacks):
    """Files go once the rows' deletion is committed, never before."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        project_delete(project=two["demo"], confirm="demo")
    assert len(callbacks) == 1
    assert two["files"]["demo"]["export"].exists() and two["files"]["demo"]["upload"].exists()


# --------------------------------------------------------------------------- command line


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_command_deletes_with_yes(two, django_capture_on_commit_callbacks):
    snapshot = _snapshot(two)
    with django_capture_on_commit_callbacks(execute=True):
        out = run("delete_project", "demo", "--yes")
    assert out.count("\n") == 1 and out.startswith("deleted project demo:")
    _check_deleted(two, *snapshot)


@pytest.mark.parametrize("args, message", [
    (["demo"], r"back it up first \(manage.py backup demo -o FILE\), then run again with "
               "--yes; nothing was deleted"),
    (["nope", "--yes"], "no project with slug 'nope'"),
])
def test_the_command_refuses_in_one_line_and_deletes_nothing(two, args, message):
    counts = {name: model.objects.count() for name, model in _models().items()}
    with pytest.raises(CommandError, match=message) as info:
        run("delete_project", *args)
    assert "\n" not in str(info.value)
    assert {name: model.objects.count() for name, model in _models().items()} == counts


# --------------------------------------------------------------------------- pages


def _as(client, username):
    client.logout()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_the_settings_page_offers_the_deletion_with_a_pointer_to_backup(two, client):
    page = _as(client, "instructor").get(reverse("project-settings", args=["demo"]))
    html = page.content.decode()
    assert reverse("project-delete", args=["demo"]) in html
    assert "manage.py backup demo -o demo.warrant.gz" in html
    assert 'name="confirm"' in html


def test_a_manager_deletes_the_project_from_the_page(two, client,
                                                     django_capture_on_commit_callbacks):
    snapshot = _snapshot(two)
    _as(client, "instructor")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("project-delete", args=["demo"]), {"confirm": "demo"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    _check_deleted(two, *snapshot)
    home = client.get(reverse("home")).content.decode()
    assert "Deleted project demo: 2 document(s)" in home


def test_the_page_refuses_a_wrong_slug_with_a_sentence(two, client):
    before = rows_of(two["demo"].pk)
    response = _as(client, "instructor").post(reverse("project-delete", args=["demo"]),
                                              {"confirm": "Demo"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was deleted." in html and "type the project&#x27;s slug, demo" in html
    assert rows_of(two["demo"].pk) == before


@pytest.mark.parametrize("username", ["cora", "alice", "victor"])  # curator, annotator, viewer
def test_no_one_but_a_manager_may_delete(two, client, username):
    User.objects.filter(username=username).update(is_active=True)  # victor is inactive
    role = Membership.objects.get(project=two["demo"], user__username=username).role
    before = rows_of(two["demo"].pk)
    _as(client, username)
    for method in ("get", "post"):
        response = getattr(client, method)(reverse("project-delete", args=["demo"]),
                                           {"confirm": "demo"})
        assert response.status_code == 403, (role, method)
    assert rows_of(two["demo"].pk) == before


def test_the_api_has_no_project_delete(two, client):
    """The API reads projects; deleting one is the settings page's or the command's."""
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=User.objects.get(username="instructor"))
    before = rows_of(two["demo"].pk)
    response = client.delete("/api/projects/demo/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 405
    assert rows_of(two["demo"].pk) == before


# --------------------------------------------------------------------------- admin


def test_the_admin_deletes_through_the_same_service(two, client,
                                                    django_capture_on_commit_callbacks):
    snapshot = _snapshot(two)
    admin = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    client.force_login(admin)
    url = reverse("admin:annotator_project_delete", args=[two["demo"].pk])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert b"Cannot delete" not in confirm.content and b"protected" not in confirm.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    _check_deleted(two, snapshot[0], snapshot[1], snapshot[2] + 1)


def test_the_admin_bulk_delete_uses_the_service(two, client, django_capture_on_commit_callbacks):
    snapshot = _snapshot(two)
    admin = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    client.force_login(admin)
    url = reverse("admin:annotator_project_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "delete_selected", "post": "yes",
                                     "_selected_action": [two["demo"].pk]})
    assert response.status_code == 302
    _check_deleted(two, snapshot[0], snapshot[1], snapshot[2] + 1)
