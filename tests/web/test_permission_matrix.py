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
    "feedback.view": {"manager", "annotator"},
}


@pytest.mark.parametrize(("action", "roles"), ACTIONS.items())
def test_the_matrix_holds_the_actions_of_issue_5(action, roles):
    assert set(PERMISSIONS[action]) == roles


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
    "assignments":        (200,   403,    403,      403,   404,       302),
    "assignments-csv":    (200,   403,    403,      403,   404,       302),
    "progress":           (200,   200,    403,      403,   404,       302),
    "progress-csv":       (200,   200,    403,      403,   404,       302),
    "curation":           (200,   200,    403,      403,   404,       302),
    "curation-document":  (200,   200,    403,      403,   404,       302),
    "grades":             (200,   403,    403,      403,   404,       302),
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
