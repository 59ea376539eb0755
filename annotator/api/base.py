"""What every API view shares: the error handler, pagination, access checks.

Access follows the pages (annotator/web/access.py): a project the user cannot
see at all — an unknown slug or a project they are not a member of — is a 404,
the same answer for both, so that slugs and ids cannot be probed; a member who
lacks one permission gets a 403 with the reason. Anonymous requests never reach
a view: DRF answers 401 (with ``WWW-Authenticate: Token``).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from rest_framework.pagination import PageNumberPagination

from annotator.models import AnnotationSet, Document, Project
from annotator.selectors import annotations as annotation_sets
from annotator.selectors.annotations import annotation_set_access
from annotator.selectors.permissions import has_permission, require_permission

from .errors import api_exception_handler

# A client may ask for bigger pages than the default 50, up to this: one page
# of documents carries their metadata, not their text, so 200 stays small.
MAX_PAGE_SIZE = 200


class WarrantPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class WarrantAPIMixin:
    """Mixed into every API view: errors carry ``{"detail": "..."}``."""

    pagination_class = WarrantPagination

    def get_exception_handler(self):
        return api_exception_handler


def api_project(user, slug: str, action: str = "project.view") -> Project:
    """The project ``slug`` if ``user`` may do ``action`` (404 unseen, 403 not allowed).

    The pages' rule (``annotator.web.access.project_for``), with one message for
    an unknown slug and a project the user is not in, so the body leaks nothing.
    """
    project = Project.objects.filter(slug=slug).first()
    if project is None or not has_permission(user, project, "project.view"):
        raise Http404("No such project.")
    require_permission(user, project, action)
    return project


def api_document(user, slug: str, document_id: int) -> tuple[Project, Document]:
    project = api_project(user, slug, "document.view")
    document = project.documents.defer("original").filter(pk=document_id).first()
    if document is None:
        raise Http404("No such document in this project.")
    return project, document


def _set_or_404(user, set_id: int) -> AnnotationSet:
    aset = (
        AnnotationSet.objects.select_related("document__project", "annotator")
        .defer("document__original")
        .filter(pk=set_id)
        .first()
    )
    if aset is None or not has_permission(user, aset.document.project, "project.view"):
        raise Http404("No such annotation set.")
    return aset


def api_annotation_set(user, set_id: int) -> AnnotationSet:
    """A set ``user`` may read: their own, or another's under the pages' rule.

    The rule is :func:`annotator.selectors.annotations.annotation_set_access`:
    managers and curators read every set; in a project that is not blind,
    annotators read their peers' sets too. A member refused gets a 403.
    """
    aset = _set_or_404(user, set_id)
    access = annotation_set_access(
        user=user, project=aset.document.project, document=aset.document, set_id=aset.pk
    )
    if access is None:  # deleted in between
        raise Http404("No such annotation set.")
    return aset


def api_annotation_set_for_write(user, set_id: int) -> AnnotationSet:
    """A set ``user`` may change: their own (``annotation_set.annotate``), or the
    gold standard (``gold.curate``). Everyone else's sets are read-only."""
    aset = api_annotation_set(user, set_id)
    project = aset.document.project
    if aset.is_gold:
        require_permission(user, project, "gold.curate")
    elif aset.annotator_id == user.pk:
        require_permission(user, project, "annotation_set.annotate")
    else:
        raise PermissionDenied("this annotation set belongs to someone else: it is read-only")
    return aset


def readable_sets(user, project: Project, document: Document) -> QuerySet[AnnotationSet]:
    """The sets of ``document`` that :func:`api_annotation_set` lets ``user`` open."""
    return annotation_sets.readable_sets(
        user=user, project=project, document=document
    ).select_related("annotator")


def may_write(user, aset: AnnotationSet) -> bool:
    """Whether :func:`api_annotation_set_for_write` would let ``user`` change ``aset``."""
    project = aset.document.project
    if aset.is_gold:
        return has_permission(user, project, "gold.curate")
    return aset.annotator_id == user.pk and has_permission(
        user, project, "annotation_set.annotate"
    )
