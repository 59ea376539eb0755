"""What each role may see and do: the one matrix that pages, the API and the
command line all consult.

Roles are per project (``Membership.role``). Superusers may do everything.
README.md ("Who may do what") documents this matrix; a test keeps the two equal.

Annotation sets add one rule on top, for reading:
``annotator.selectors.annotations.readable_set_filter`` decides which sets every
way out (pages, API, exports of every format and scope, the agreement page's
side-by-side view, curation, feedback) may reveal: one's own sets; every set
with ``annotation_set.view_any``; annotators' sets in a project that is not
blind; the final gold of a submitted brief once grades are released, with
``feedback.view``. Writing adds one more: a student's set that counts for a
fixed grade is closed to them (``selectors.grading.grade_locked_sets``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied

from annotator.models import Membership, Project, Role

MANAGER, CURATOR, ANNOTATOR, VIEWER = Role.MANAGER, Role.CURATOR, Role.ANNOTATOR, Role.VIEWER
EVERY_ROLE = frozenset(Role)

PERMISSIONS: dict[str, frozenset[str]] = {
    # Seeing the project, its documents and its schema.
    "project.view": EVERY_ROLE,
    "document.view": EVERY_ROLE,
    # Running the project.
    "project.manage": frozenset({MANAGER}),
    # Deleting the project with everything of it (services.projects.project_delete).
    "project.delete": frozenset({MANAGER}),
    "member.manage": frozenset({MANAGER}),
    "document.import": frozenset({MANAGER}),
    # A document's title, and re-running its import with cleaning on or off.
    "document.edit": frozenset({MANAGER}),
    "assignment.manage": frozenset({MANAGER}),
    "progress.view": frozenset({MANAGER, CURATOR}),
    # Annotation sets: one's own always; everyone's (read-only) for these roles.
    "annotation_set.view_any": frozenset({MANAGER, CURATOR}),
    "annotation_set.annotate": frozenset({MANAGER, CURATOR, ANNOTATOR}),
    "gold.curate": frozenset({MANAGER, CURATOR}),
    "grade.view": frozenset({MANAGER}),
    "grade.release": frozenset({MANAGER}),
    # Reopening a student's submitted set, also once it is closed for a grade
    # (selectors.grading.grade_locked_sets); recorded and shown on the grades page.
    "annotation_set.reopen_any": frozenset({MANAGER}),
    # A student's own feedback against the gold, once grades are released
    # (annotator.selectors.grading adds that condition); managers preview anyone's.
    "feedback.view": frozenset({MANAGER, ANNOTATOR}),
    # Figures and data.
    "agreement.view": frozenset({MANAGER, CURATOR, VIEWER}),
    "agreement.run": frozenset({MANAGER}),
    "export.create": frozenset({MANAGER, CURATOR, VIEWER}),
}

#: Each action in the words of the refusal a user reads ("… does not allow you to …").
ACTION_WORDS: dict[str, str] = {
    "project.view": "see this project",
    "document.view": "see its documents",
    "project.manage": "change the project's settings",
    "project.delete": "delete the project",
    "member.manage": "manage its members",
    "document.import": "import documents",
    "document.edit": "edit documents",
    "assignment.manage": "manage assignments",
    "progress.view": "follow the progress of the work",
    "annotation_set.view_any": "open other people's annotations",
    "annotation_set.annotate": "annotate",
    "gold.curate": "curate the gold standard",
    "grade.view": "see grades",
    "grade.release": "release grades",
    "annotation_set.reopen_any": "reopen someone else's submitted work",
    "feedback.view": "see feedback",
    "agreement.view": "see agreement figures",
    "agreement.run": "start agreement runs",
    "export.create": "export data",
}


def may_create_projects(user) -> bool:
    """Any logged-in user may create a project (and manages it), unless the site
    keeps that to staff (``WARRANT_PROJECT_CREATORS=staff``)."""
    if user is None or not user.is_authenticated:
        return False
    if settings.WARRANT_PROJECT_CREATORS == "staff":
        return user.is_staff or user.is_superuser
    return True


def project_role(user, project: Project) -> str | None:
    """The user's role in the project, or None for a non-member or anonymous user."""
    if user is None or not user.is_authenticated:
        return None
    cache = getattr(user, "_warrant_roles", None)
    if cache is None:
        cache = user._warrant_roles = {}
    if project.pk not in cache:
        cache[project.pk] = (
            Membership.objects.filter(project=project, user=user)
            .values_list("role", flat=True)
            .first()
        )
    return cache[project.pk]


def has_permission(user, project: Project, action: str) -> bool:
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}")
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    role = project_role(user, project)
    return role is not None and role in PERMISSIONS[action]


def require_permission(user, project: Project, action: str) -> None:
    """Raise PermissionDenied (HTTP 403) unless the user may do ``action``."""
    if not has_permission(user, project, action):
        raise PermissionDenied(
            f"Your role in project {project.slug} does not allow you to {ACTION_WORDS[action]}."
        )
