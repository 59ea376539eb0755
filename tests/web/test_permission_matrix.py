"""Every endpoint of issue 5, once per actor: the page, a 403, a 404 or the login page.

The statuses follow the one matrix (``annotator.selectors.permissions.PERMISSIONS``):
a project the user is not in is a 404, a page the role may not open a 403, an
anonymous request the login page. A refused write changes nothing.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import AnnotationSet, Membership, Project
from annotator.selectors.permissions import PERMISSIONS
from annotator.services.projects import project_join_code_regenerate
from tests.agreement_helpers import TEXT, annotate
from tests.conftest import ALL_ACTORS
from tests.factories import DocumentFactory

# The actions the matrix must hold for issue 5 (an accidental deletion fails here).
ACTIONS = {
    "project.manage": {"manager"},
    "member.manage": {"manager"},
    "assignment.manage": {"manager"},
    "progress.view": {"manager", "curator"},
    "gold.curate": {"manager", "curator"},
    "grade.view": {"manager"},
    "grade.release": {"manager"},
    "annotation_set.reopen_any": {"manager"},
    "feedback.view": {"manager", "annotator"},
    "project.delete": {"manager"},  # issue 11
}


@pytest.mark.parametrize(("action", "roles"), ACTIONS.items())
def test_the_matrix_holds_the_actions_of_issue_5(action, roles):
    assert set(PERMISSIONS[action]) == roles


def test_every_action_has_words_for_its_refusal():
    from annotator.selectors.permissions import ACTION_WORDS

    assert set(ACTION_WORDS) == set(PERMISSIONS)


@pytest.fixture
def world(project, members, document):
    """A brief the student submitted, with a final gold that has a span and a relation;
    grades released, so that feedback opens for the student."""
    brief = DocumentFactory(project=project, text=TEXT)
    mine = annotate(project, brief, "annotator", [(61, 80, "MajorClaim"), (0, 14, "Reason")],
                    [(1, 0, "supports")])
    gold = annotate(project, brief, "gold-maker", [(61, 80, "MajorClaim"), (0, 14, "Reason")],
                    [(1, 0, "supports")])
    Membership.objects.filter(user__username="gold-maker").delete()
    AnnotationSet.objects.filter(pk=gold.pk).update(annotator=None, is_gold=True, gold_final=True)
    gold = AnnotationSet.objects.get(pk=gold.pk)
    open_assignment = AnnotationSet.objects.create(document=document, annotator=mine.annotator)
    project.grades_released = True
    project.save()
    project_join_code_regenerate(project=project)
    return {
        "slug": project.slug,
        "document_id": brief.pk,
        "span_id": gold.spans.first().pk,
        "relation_id": gold.relations.first().pk,
        "assignment_id": open_assignment.pk,
        "user_id": members["viewer"].pk,
        "code": project.join_code,
    }


def url(name, world, **extra):
    keys = {
        "project-new": [], "join": [], "join-code": ["code"],
        "curation-document": ["slug", "document_id"],
        "curation-premerge": ["slug", "document_id"],
        "curation-span-accept": ["slug", "document_id"],
        "curation-span-reject": ["slug", "document_id", "span_id"],
        "curation-span-relabel": ["slug", "document_id", "span_id"],
        "curation-relation-accept": ["slug", "document_id"],
        "curation-relation-reject": ["slug", "document_id", "relation_id"],
        "curation-finalize": ["slug", "document_id"],
        "curation-reopen": ["slug", "document_id"],
        "feedback-document": ["slug", "document_id"],
        "grades-reopen": ["slug", "document_id"],
        "member-role": ["slug", "user_id"],
        "member-remove": ["slug", "user_id"],
        "assignment-update": ["slug", "assignment_id"],
    }.get(name, ["slug"])
    return reverse(name, kwargs={k: world[k] for k in keys})


# fmt: off
GET_STATUS = {
    #                     manager curator annotator viewer non_member anonymous
    "project-new":        (200,   200,    200,      200,   200,       302),
    "join":               (200,   200,    200,      200,   200,       302),
    "join-code":          (200,   200,    200,      200,   200,       302),
    "project-settings":   (200,   403,    403,      403,   404,       302),
    "members":            (200,   403,    403,      403,   404,       302),
    "members-download":   (200,   403,    403,      403,   404,       302),
    "assignments":        (200,   403,    403,      403,   404,       302),
    "assignments-csv":    (200,   403,    403,      403,   404,       302),
    "progress":           (200,   200,    403,      403,   404,       302),
    "progress-csv":       (200,   200,    403,      403,   404,       302),
    "curation":           (200,   200,    403,      403,   404,       302),
    "curation-document":  (200,   200,    403,      403,   404,       302),
    "grades":             (200,   403,    403,      403,   404,       302),
    "project-delete":     (200,   403,    403,      403,   404,       302),
    "grades-csv":         (200,   403,    403,      403,   404,       302),
    "feedback":           (200,   403,    200,      403,   404,       302),
    "feedback-document":  (200,   403,    200,      403,   404,       302),
}

# A write: (URL name, form data, statuses). Allowed writes answer with a redirect
# (302) back to their page, a refusal with 403/404, anonymous with the login page.
POST_STATUS = {
    "guidelines-preview":       ({"guidelines": "**x**"},        (200, 403, 403, 403, 404, 302)),
    "project-settings":         ({"name": "Renamed", "annotators_per_document": "2",
                                  "label-count": "1", "label-0-name": "Claim",
                                  "label-0-colour": "#1d4ed8"},  (302, 403, 403, 403, 404, 302)),
    "member-add":               ({"usernames": "outsider", "role": "viewer"},
                                                                 (302, 403, 403, 403, 404, 302)),
    "members-csv":              ({"role": "annotator"},          (302, 403, 403, 403, 404, 302)),
    "member-role":              ({"role": "curator"},            (302, 403, 403, 403, 404, 302)),
    "member-remove":            ({},                             (302, 403, 403, 403, 404, 302)),
    "join-code-regenerate":     ({"enabled": "1"},               (302, 403, 403, 403, 404, 302)),
    "assignments-run":          ({"per_document": "1"},          (302, 403, 403, 403, 404, 302)),
    "assignment-add":           ({},                             (302, 403, 403, 403, 404, 302)),
    "project-deadline":         ({"due": "2030-01-01"},          (302, 403, 403, 403, 404, 302)),
    "assignment-update":        ({"action": "due", "due": "2030-01-02"},
                                                                 (302, 403, 403, 403, 404, 302)),
    "curation-premerge":        ({"min_votes": "1", "expected_version": "1"},
                                                                 (302, 302, 403, 403, 404, 302)),
    "curation-span-accept":     ({"label": "0", "start": "0", "end": "5"},
                                                                 (302, 302, 403, 403, 404, 302)),
    "curation-span-reject":     ({"expected_version": "1"},      (302, 302, 403, 403, 404, 302)),
    "curation-span-relabel":    ({"label": "0"},                 (302, 302, 403, 403, 404, 302)),
    "curation-relation-accept": ({"source": "0"},                (404, 404, 403, 403, 404, 302)),
    "curation-relation-reject": ({"expected_version": "1"},      (302, 302, 403, 403, 404, 302)),
    "curation-finalize":        ({"expected_version": "1"},      (302, 302, 403, 403, 404, 302)),
    "curation-reopen":          ({"expected_version": "1"},      (302, 302, 403, 403, 404, 302)),
    "grades-release":           ({"released": "0"},              (302, 403, 403, 403, 404, 302)),
    # A manager's wrong slug is refused (400); the deletion itself: test_project_delete.py.
    "project-delete":           ({"confirm": "not-the-slug"},    (400, 403, 403, 403, 404, 302)),
    "grades-reopen":            ({"student": "annotator"},       (302, 403, 403, 403, 404, 302)),
}
# fmt: on


def _cases(table):
    for name, row in table.items():
        statuses = row if isinstance(row[0], int) else row[1]
        for actor, status in zip(ALL_ACTORS, statuses, strict=True):
            yield name, actor, status


@pytest.mark.parametrize(("name", "actor", "status"), list(_cases(GET_STATUS)))
def test_get_status_per_actor(client_for, world, name, actor, status):
    target = url(name, world)
    if name == "feedback-document" and actor == "manager":
        target += "?student=annotator"
    response = client_for(actor).get(target)
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("login") + "?next=")


def _state(project_slug):
    project = Project.objects.get(slug=project_slug)
    return (
        project.name, project.join_code, project.grades_released, project.default_due,
        sorted(Membership.objects.filter(project=project).values_list("user__username", "role")),
        sorted(AnnotationSet.objects.filter(document__project=project).values_list(
            "pk", "annotator_id", "due", "version", "gold_final")),
    )


@pytest.mark.parametrize(("name", "actor", "status"), list(_cases(POST_STATUS)))
def test_post_status_per_actor_and_refusals_change_nothing(client_for, world, name, actor,
                                                           status):
    data = POST_STATUS[name][0]
    before = _state(world["slug"])
    response = client_for(actor).post(url(name, world), data)
    assert response.status_code == status
    if actor == "anonymous":
        assert response["Location"].startswith(reverse("login") + "?next=")
    if status in (403, 404) or actor == "anonymous":
        assert _state(world["slug"]) == before


@pytest.mark.parametrize(
    "name",
    ["member-add", "assignments-run", "curation-premerge", "curation-finalize",
     "grades-release", "guidelines-preview"],
)
def test_writes_refuse_get(client_for, world, name):
    assert client_for("manager").get(url(name, world)).status_code == 405


def test_join_with_the_code_makes_a_non_member_an_annotator(client_for, world, members):
    response = client_for("non_member").post(url("join-code", world))
    assert response.status_code == 302
    assert Membership.objects.get(user=members["non_member"]).role == "annotator"


# --------------------------------------------------------------------------- annotation writes
# Not covered per actor elsewhere: deleting a relation and undo, in the annotator's own set.


@pytest.fixture
def own_work(world, members):
    from annotator.models import Span
    from annotator.services.annotations import relation_create

    aset = AnnotationSet.objects.get(pk=world["assignment_id"])
    project = aset.document.project
    spans = [Span.objects.create(annotation_set=aset, label=project.span_labels.get(name=name),
                                 start=start, end=end)
             for name, start, end in [("Claim", 0, 5), ("Evidence", 6, 12)]]
    AnnotationSet.objects.filter(pk=aset.pk).update(version=1, status="in_progress")
    aset.refresh_from_db()
    # Through the service, so that there is something to undo (version 1 -> 2).
    relation = relation_create(annotation_set=aset, source=spans[1], target=spans[0],
                               type=project.relation_types.get(name="supports"),
                               expected_version=1, user=members["annotator"])
    # Another type the schema allows from Evidence to Claim, for the type menu's write.
    from annotator.services.annotations import relation_refusal

    retype = next(t for t in project.relation_types.exclude(name="supports")
                  if not relation_refusal(t, "Evidence", "Claim"))
    return {"set": aset, "relation": relation, "retype": retype}


ANNOTATE_WRITES = {
    #                           manager curator annotator viewer non_member anonymous
    "annotate-relation-delete": (403,   403,    200,      403,   404,       302),
    "annotate-relation-update": (403,   403,    200,      403,   404,       302),
    "annotate-undo":            (403,   403,    200,      403,   404,       302),
}


@pytest.mark.parametrize(("name", "actor", "status"), list(_cases(ANNOTATE_WRITES)))
def test_annotation_writes_per_actor_only_in_ones_own_set(client_for, own_work, name, actor,
                                                          status):
    aset = own_work["set"]
    kwargs = {"slug": aset.document.project.slug, "document_id": aset.document_id}
    if name in ("annotate-relation-delete", "annotate-relation-update"):
        kwargs["relation_id"] = own_work["relation"].pk
    before = AnnotationSet.objects.get(pk=aset.pk).version
    data = {"expected_version": 2, "type": own_work["retype"].pk}
    response = client_for(actor).post(reverse(name, kwargs=kwargs), data,
                                      HTTP_HX_REQUEST="true")
    assert response.status_code == status
    after = AnnotationSet.objects.get(pk=aset.pk).version
    assert (after != before) is (status == 200)


# --------------------------------------------------------------------------- coverage
# Every named route of the site has a per-actor table: here, or beside its feature's
# other tests (each of those modules parametrises over ALL_ACTORS or names every actor).
PER_ACTOR_ELSEWHERE = {
    "tests/web/test_access.py": ["home", "project-detail", "document-import", "document-detail"],
    "tests/web/test_document_cleaning.py": ["document-title", "document-rerun"],
    "tests/web/test_agreement_pages.py": ["agreement", "agreement-run", "agreement-run-status",
                                          "agreement-report", "agreement-document"],
    "tests/web/test_annotate.py": ["annotate", "annotate-panels", "annotate-span-create",
                                   "annotate-span", "annotate-span-delete",
                                   "annotate-relation-create", "annotate-submit",
                                   "annotate-reopen", "annotate-redo", "annotate-spans-bulk"],
    "tests/web/test_export_pages.py": ["exports", "export-progress", "export-download"],
    "tests/api/test_tokens.py": ["api-tokens"],
    "tests/api/test_projects_documents_api.py": ["api-project-list", "api-project-detail",
                                                 "api-document-list", "api-document-detail"],
    "tests/api/test_annotation_sets_api.py": [
        "api-annotation-set-list", "api-annotation-set-detail", "api-span-list",
        "api-span-detail", "api-relation-list", "api-relation-detail",
        "api-annotation-set-submit", "api-annotation-set-reopen"],
    "tests/api/test_batch_api.py": ["api-annotation-set-batch"],
    "tests/web/test_import_jobs.py": ["import-job"],
    "tests/api/test_bulk_api.py": ["api-project-annotation-sets", "api-project-annotations"],
    "tests/api/test_export_jobs_api.py": ["api-export-job-list", "api-export-job-detail",
                                          "api-export-job-download"],
    "tests/api/test_agreement_api.py": ["api-agreement", "api-agreement-run",
                                        "api-agreement-run-documents"],
    "tests/web/test_suggestion_pages.py": [
        "suggestion-settings", "suggestion-train", "suggestion-model-status",
        "annotate-suggestions", "annotate-suggestions-accept", "annotate-suggestions-dismiss"],
    "tests/api/test_suggestions_api.py": ["api-set-suggestions", "api-set-suggestions-accept",
                                          "api-set-suggestions-dismiss"],
}
# Deliberately outside the matrix, with the reason.
NOT_PER_ACTOR = {
    "api-not-found": "answers a JSON 404 to everyone; there is nothing to permit",
}


def _route_names(module) -> set[str]:
    return {p.name for p in module.urlpatterns if p.name}


def test_every_named_route_is_in_a_per_actor_table():
    from pathlib import Path

    from annotator.api import urls as api_urls
    from annotator.web import urls as web_urls

    root = Path(__file__).resolve().parents[2]
    covered = set(GET_STATUS) | set(POST_STATUS) | set(ANNOTATE_WRITES) | set(NOT_PER_ACTOR)
    for module, names in PER_ACTOR_ELSEWHERE.items():
        source = (root / module).read_text()
        assert "ALL_ACTORS" in source or '"non_member"' in source, module
        covered |= set(names)
    missing = (_route_names(web_urls) | _route_names(api_urls)) - covered
    assert not missing, f"routes with no per-actor test: {sorted(missing)}"


def test_the_readme_documents_the_matrix_as_it_is():
    """README's "Who may do what" table names every action once, with its roles."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Who may do what", 1)[1].split("\n## ", 1)[0]
    documented: dict[str, set[str]] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        roles = {role for role, mark in zip(("manager", "curator", "annotator", "viewer"),
                                            cells[1:], strict=True) if mark == "✓"}
        for action in re.findall(r"`([a-z_]+\.[a-z_]+)`", cells[0]):
            assert action not in documented, f"{action} is in the table twice"
            documented[action] = roles
    assert documented == {action: set(roles) for action, roles in PERMISSIONS.items()}
