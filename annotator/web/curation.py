"""Curation pages: the documents to curate, and one document's candidates and gold.

Every write answers htmx with the page's body re-rendered (``#curation-body``),
carrying the refusal when there is one: a stale page (409 from the services)
is then replaced by the newest state, which is how a curator recovers anyway.
Without JavaScript each form posts, the page redirects back and shows a message.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from annotator.models import Relation, Span
from annotator.selectors.annotations import ATTACK_TYPES, set_spans
from annotator.selectors.curation import (
    curation_data,
    curation_documents_queryset,
    curation_rows,
    final_gold_count,
)
from annotator.services import curation as svc
from annotator.services.errors import WarrantError

from . import paging
from .access import int_or_none, project_document, project_for
from .paging import keep_params
from .text_render import passage_blocks, render_blocks, render_plain_blocks

VIEWS = ("merged", "side")


@require_GET
@login_required
def curation_list(request, slug):
    project = project_for(request.user, slug, "gold.curate")
    page = paging.page_of_rows(
        request,
        project.documents.order_by("position", "id"),
        lambda pks: curation_documents_queryset(project=project).filter(pk__in=pks),
    )
    return render(
        request,
        "annotator/curation_list.html",
        {
            "project": project,
            "rows": curation_rows(page),
            "page": page,
            "final_count": final_gold_count(project=project),
        },
    )


def _page_url(request, project, document) -> tuple[str, QueryDict]:
    """The curation page this request is about and its query: the page itself on a
    GET; the page a form was posted from (its ``next`` field) on a POST."""
    base = reverse("curation-document", kwargs={"slug": project.slug, "document_id": document.pk})
    if request.method == "GET":
        return request.get_full_path(), request.GET
    back = request.POST.get("next", "")
    if not back.startswith(base):
        return base, QueryDict()
    return back, QueryDict(urlsplit(back).query)


def _context(request, project, document, *, error=None, success=None) -> dict:
    data = curation_data(project=project, document=document, reader=request.user)
    page_url, params = _page_url(request, project, document)
    view = params.get("view") if params.get("view") in VIEWS else "merged"
    disputed_only = params.get("show") == "disputed"
    text = document.text
    label_names = {pk: lab.name for pk, lab in data.labels.items()}
    gold_spans = set_spans(data.gold) if data.gold else []
    columns = []
    if view == "side":
        # Their HTML, built with html.escape by render_blocks, comes below.
        columns = [{"title": s.annotator.username, "set": s} for s in data.voters]
    spans = data.disputed_spans() if disputed_only else data.spans
    relations = (
        [r for r in data.relations if r.votes < len(data.voters)]
        if disputed_only
        else data.relations
    )
    editable = data.gold is None or not data.gold.gold_final
    # Candidates a page at a time; the texts show the passage the page's spans cover.
    span_page = Paginator(spans, paging.PAGE_SIZE).get_page(params.get("spans"))
    relation_page = Paginator(relations, paging.PAGE_SIZE).get_page(params.get("relations"))
    ranges = [(c.start, c.end) for c in span_page] or [
        (c.start, c.end) for r in relation_page for c in (r.source, r.target)
    ]
    lo, hi, only = passage_blocks(text, ranges)
    if only is not None:
        gold_spans = [sp for sp in gold_spans if sp.start < hi and sp.end > lo]
    for col in columns:
        col["html"] = mark_safe(
            render_blocks(text, set_spans(col["set"], lo, hi), label_names, only=only)
        )
    keep = {k: v for k, v in params.items() if k in ("view", "show")}
    in_text = None
    if view == "merged":
        in_text = _candidates_in_text(data, span_page, relation_page, lo, hi)
    return {
        "in_text": in_text,
        "candidates_html": mark_safe(render_plain_blocks(text, only)) if in_text else "",
        "project": project,
        "document": document,
        "data": data,
        "gold": data.gold,
        "gold_version": data.gold.version if data.gold else 0,
        "gold_html": mark_safe(render_blocks(text, gold_spans, label_names, only=only)),
        "passage": None if only is None else (lo, hi, len(text)),
        "columns": columns,
        "view": view,
        "disputed_only": disputed_only,
        "spans": span_page,
        "span_count": len(spans),
        "relations": relation_page,
        "relation_count": len(relations),
        "span_keep": keep_params(relations=params.get("relations"), **keep),
        "relation_keep": keep_params(spans=params.get("spans"), **keep),
        "labels": list(data.labels.values()),
        "vote_choices": list(range(1, len(data.voters) + 1)),
        "editable": editable,
        "error": error,
        "success": success,
        "page_url": page_url,
    }


def _candidates_in_text(data, span_page, relation_page, lo: int, hi: int) -> dict:
    """The candidates this page shows, for curation.js to draw in the passage's text:
    the page's span candidates and the spans of its relation candidates that lie in
    the passage (at most two pages' worth: bounded), and those relations as arcs.

    Each span: ``{id, label, start, end, votes, who, gold, row}``, ``row`` its row in
    the candidates table (null for a relation's span listed on another page).
    """
    voters = len(data.voters)
    spans: dict = {}

    def add(cand, row):
        if cand.key in spans:
            if row is not None and spans[cand.key]["row"] is None:
                spans[cand.key]["row"] = row
            return
        if cand.start < lo or cand.end > hi:
            return
        spans[cand.key] = {
            "id": len(spans) + 1, "label": cand.label.pk, "start": cand.start, "end": cand.end,
            "votes": cand.votes, "who": cand.annotators, "gold": cand.gold_span_id is not None,
            "row": row,
        }

    for row, cand in enumerate(span_page):
        add(cand, row)
    relations = []
    for rel in relation_page:
        add(rel.source, None)
        add(rel.target, None)
        if rel.source.key in spans and rel.target.key in spans:
            relations.append({
                "id": len(relations) + 1,
                "source": spans[rel.source.key]["id"], "target": spans[rel.target.key]["id"],
                "name": f"{'✓ ' if rel.gold_relation_id else ''}{rel.type.name} "
                        f"{rel.votes}/{voters}",
                "attack": rel.type.name in ATTACK_TYPES,
            })
    return {"voters": voters, "spans": list(spans.values()), "relations": relations,
            "labels": {lab.pk: lab.name for lab in data.labels.values()}}


@require_GET
@login_required
def curation_document(request, slug, document_id):
    project = project_for(request.user, slug, "gold.curate")
    document = project_document(project, document_id)
    return render(request, "annotator/curation.html", _context(request, project, document))


def _respond(request, project, document, call, success: str):
    error = None
    try:
        result = call()
    except svc.GoldConflictsError:
        raise  # the caller lists them
    except WarrantError as exc:
        error, result = str(exc), None
    if callable(success):
        success = success(result) if error is None else None
    if request.htmx:
        context = _context(request, project, document, error=error,
                           success=None if error else success)
        return render(request, "annotator/curation.html#curation-body", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, success)
    return redirect(_page_url(request, project, document)[0])


def _version(request) -> int | None:
    return int_or_none(request.POST.get("expected_version"))


def _post(view):
    """A curation write: POST only, logged in, ``gold.curate``, the document in the project."""

    @require_POST
    @login_required
    def wrapper(request, slug, document_id, **kwargs):
        project = project_for(request.user, slug, "gold.curate")
        document = project_document(project, document_id)
        return view(request, project, document, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@_post
def curation_premerge(request, project, document):
    min_votes = int_or_none(request.POST.get("min_votes"))

    def call():
        return svc.gold_premerge(
            document=document, min_votes=min_votes if min_votes is not None else -1,
            expected_version=_version(request), user=request.user,
        )

    return _respond(
        request, project, document, call,
        lambda r: f"Pre-merged what at least {r.min_votes} of {r.voters} annotators agree on: "
        f"{r.spans_added} span(s), {r.relations_added} relation(s) added to the gold.",
    )


@_post
def curation_span_accept(request, project, document):
    label = project.span_labels.filter(pk=int_or_none(request.POST.get("label"))).first()
    start, end = int_or_none(request.POST.get("start")), int_or_none(request.POST.get("end"))

    def call():
        if label is None or start is None or end is None:
            raise WarrantError("a span needs a label, a start and an end")
        return svc.gold_span_accept(
            document=document, label=label, start=start, end=end,
            expected_version=_version(request), user=request.user,
        )

    return _respond(request, project, document, call,
                    lambda span: f"Added to the gold: {span.label.name} {span.start}-{span.end}.")


def _gold_span(document, span_id) -> Span:
    return get_object_or_404(
        Span.objects.select_related("annotation_set__document__project", "label"),
        pk=span_id, annotation_set__document=document, annotation_set__is_gold=True,
    )


@_post
def curation_span_reject(request, project, document, span_id):
    span = _gold_span(document, span_id)

    def call():
        return svc.gold_span_reject(span=span, expected_version=_version(request),
                                    user=request.user)

    return _respond(request, project, document, call,
                    f"Taken out of the gold: {span.label.name} {span.start}-{span.end}.")


@_post
def curation_span_relabel(request, project, document, span_id):
    span = _gold_span(document, span_id)
    label = project.span_labels.filter(pk=int_or_none(request.POST.get("label"))).first()

    def call():
        if label is None:
            raise WarrantError("choose a label of this project")
        return svc.gold_span_relabel(span=span, label=label, expected_version=_version(request),
                                     user=request.user)

    return _respond(request, project, document, call, "The gold span's label is changed.")


@_post
def curation_relation_accept(request, project, document):
    source = _gold_span(document, int_or_none(request.POST.get("source")))
    target = _gold_span(document, int_or_none(request.POST.get("target")))
    rtype = project.relation_types.filter(pk=int_or_none(request.POST.get("type"))).first()

    def call():
        if rtype is None:
            raise WarrantError("choose a relation type of this project")
        return svc.gold_relation_accept(
            document=document, source=source, target=target, type=rtype,
            expected_version=_version(request), user=request.user,
        )

    return _respond(request, project, document, call, "Relation added to the gold.")


@_post
def curation_relation_reject(request, project, document, relation_id):
    relation = get_object_or_404(
        Relation.objects.select_related("annotation_set__document__project"),
        pk=relation_id, annotation_set__document=document, annotation_set__is_gold=True,
    )

    def call():
        return svc.gold_relation_reject(relation=relation, expected_version=_version(request),
                                        user=request.user)

    return _respond(request, project, document, call, "Relation taken out of the gold.")


@_post
def curation_finalize(request, project, document):
    """Mark the gold final; with conflicts, answer the page with their list and a button
    to confirm (409 without htmx; htmx swaps only a 2xx, so it gets 200 and the list)."""
    confirm = request.POST.get("confirm") == "yes"

    def call():
        return svc.gold_finalize(document=document, expected_version=_version(request),
                                 confirm=confirm)

    try:
        return _respond(request, project, document, call,
                        "The gold standard is final: it now grades the students.")
    except svc.GoldConflictsError as exc:
        context = _context(request, project, document, error=str(exc))
        context["conflicts"] = exc.conflicts
        context["conflict_total"] = exc.total
        if request.htmx:
            return render(request, "annotator/curation.html#curation-body", context)
        return render(request, "annotator/curation.html", context, status=409)


@_post
def curation_reopen(request, project, document):
    def call():
        return svc.gold_reopen(document=document, expected_version=_version(request))

    return _respond(request, project, document, call,
                    "The gold standard is a draft again; grades leave this document out.")
