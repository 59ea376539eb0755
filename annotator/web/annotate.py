"""The annotation page and the htmx endpoints it saves through.

Every write names the version of the set the page last saw (``expected_version``);
the services refuse a stale one with 409. Error answers are one plain-text
line that annotate.js shows in the page's alert region. A successful save
answers with the text blocks it changed (out-of-band swaps), the set's header,
and a ``warrant:saved`` event carrying the new version; the outline and
relation panels then refresh themselves on that event (``annotate_panels``),
so that a save stays small however long the brief is.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from annotator.models import AnnotationStatus, Relation, Span, SpanLabel
from annotator.selectors import annotations as sel
from annotator.selectors.permissions import has_permission
from annotator.services import annotations as svc
from annotator.services.errors import ConflictError, WarrantError
from annotator.text.markdown import render_markdown

from .access import int_or_none, project_document, project_for
from .text_render import render_blocks

# Outline and relation lists quote this much of a span.
EXCERPT_CHARS = 70
ATTRIBUTE_STANCES = ("for", "against")


# ----------------------------------------------------------------------------- helpers


def _page_url(project, document, set_id: int | None = None) -> str:
    url = reverse("annotate", kwargs={"slug": project.slug, "document_id": document.pk})
    return f"{url}?set={set_id}" if set_id else url


def _urls(project, document) -> dict[str, str]:
    kwargs = {"slug": project.slug, "document_id": document.pk}
    names = ["span_create", "undo", "redo", "submit", "reopen", "relation_create", "panels"]
    urls = {name: reverse(f"annotate-{name.replace('_', '-')}", kwargs=kwargs) for name in names}
    # Patterns with a placeholder id 0 that annotate.js and the templates fill in.
    for name, arg in [("span", "span_id"), ("span_delete", "span_id"),
                      ("relation_delete", "relation_id")]:
        urls[name] = reverse(f"annotate-{name.replace('_', '-')}", kwargs={**kwargs, arg: 0})
    return urls


def _excerpt(text: str, start: int, end: int) -> str:
    piece = " ".join(text[start:end].split())
    return piece if len(piece) <= EXCERPT_CHARS else piece[: EXCERPT_CHARS - 1] + "…"


def _error(exc: Exception, status: int) -> HttpResponse:
    return HttpResponse(str(exc), status=status, content_type="text/plain; charset=utf-8")


def _write(request, page_url: str, call):
    """Run a service call; turn its refusals into 400/409 (htmx) or a message (no JS)."""
    try:
        return call(), None
    except ConflictError as exc:
        failure = _error(exc, 409)
    except WarrantError as exc:
        failure = _error(exc, 400)
    if not request.htmx:
        messages.error(request, failure.content.decode())
        return None, redirect(page_url)
    return None, failure


def _version_header(response: HttpResponse, version: int) -> HttpResponse:
    response["X-Warrant-Version"] = str(version)
    return response


@dataclass
class Schema:
    labels: list
    types: list
    label_names: dict[int, str]
    type_names: dict[int, str]


# The models' default ordering starts with the project, which joins the project
# table to sort rows that all share one; within a project this is the same order.
SCHEMA_ORDER = ("position", "name")


def _span_labels(project) -> dict[int, SpanLabel]:
    """The project's span labels by id, in palette order: one query per request at most."""
    labels = getattr(project, "_span_labels_by_id", None)
    if labels is None:
        rows = project.span_labels.order_by(*SCHEMA_ORDER)
        labels = project._span_labels_by_id = {lab.pk: lab for lab in rows}
    return labels


def _schema(project) -> Schema:
    labels = list(_span_labels(project).values())
    types = list(project.relation_types.order_by(*SCHEMA_ORDER))
    return Schema(
        labels=labels,
        types=types,
        label_names={lab.pk: lab.name for lab in labels},
        type_names={t.pk: t.name for t in types},
    )


# ----------------------------------------------------------------------------- the text


def _blocks_for_range(aset, project, ranges: list[tuple[int, int]]) -> str:
    """Re-render, as out-of-band swaps, the blocks that the given ranges touch."""
    text = aset.document.text
    blocks = sel.text_blocks(text)
    touched = sorted({i for a, b in ranges for i in sel.blocks_touching(blocks, a, b)})
    if not touched:
        return ""
    lo, hi = blocks[touched[0]][0], blocks[touched[-1]][1]
    spans = sel.set_spans(aset, lo, hi)
    label_names = {pk: lab.name for pk, lab in _span_labels(project).items()}
    return render_blocks(text, spans, label_names, only=touched, oob=True)


# ----------------------------------------------------------------------------- panels


def _panels_context(aset, schema: Schema, editable: bool, spans=None) -> dict:
    """Outline, warnings and relations, as HTML rows built here (1,000s of rows on a
    long brief: the template engine would spend the page's budget on them)."""
    text = aset.document.text
    spans = sel.set_spans(aset) if spans is None else spans
    relations = sel.set_relations(aset)
    esc = html.escape
    names = {lab.pk: esc(lab.name) for lab in schema.labels}
    # "<chip> excerpt" of every span, escaped once.
    quote = {
        s.id: f'<span class="chip c{s.label_id}">{names.get(s.label_id, "?")}</span> '
        f"{esc(_excerpt(text, s.start, s.end))}"
        for s in spans
    }

    def jump(span_id: int, css: str = "link jump") -> str:
        return (
            f'<button type="button" class="{css}" data-span="{span_id}">{quote[span_id]}</button>'
        )

    outline = sel.argument_outline(spans, relations, schema.label_names, schema.type_names)
    rows = []
    for r in outline.rows:
        via = ""
        if r.via:
            mark = "✕ " if r.attack else ""
            via = f'<span class="via{" via-attack" if r.attack else ""}">{mark}{esc(r.via)}</span> '
        again = ' <span class="muted">(again)</span>' if r.repeat else ""
        rows.append(
            f'<li class="{"attack" if r.attack else ""}" style="--d:{r.depth}">'
            f'<button type="button" class="node jump" data-span="{r.span_id}">{via}'
            f"{quote[r.span_id]}{again}</button></li>"
        )
    unlinked = [f"<li>{jump(i, 'node jump')}</li>" for i in outline.unlinked]
    warnings = [
        f"<li>{esc(w.message)} {' '.join(jump(i) for i in w.span_ids)}</li>"
        for w in outline.warnings
    ]
    type_names = {t.pk: esc(t.name) for t in schema.types}
    delete_url = _urls(aset.document.project, aset.document)["relation_delete"]
    relation_rows = []
    for r in relations:
        name = type_names.get(r.type_id, "?")
        delete = ""
        if editable:
            delete = (
                f' <button type="submit" form="relation-delete-form" class="link danger-link"'
                f' formaction="{delete_url.replace("/relations/0/", f"/relations/{r.id}/")}"'
                f' data-relation-delete="{r.id}"'
                f' aria-label="Delete relation {r.id} ({name})">delete</button>'
            )
        relation_rows.append(
            f'<li data-relation="{r.id}" class="rel-{name}">{jump(r.source_id)}'
            f' <span class="rel-type">—{name}→</span> {jump(r.target_id)}{delete}</li>'
        )
    data = {
        "spans": [[s.id, s.label_id, s.start, s.end] for s in spans],
        "relations": [[r.id, r.source_id, r.target_id, r.type_id] for r in relations],
    }
    return {
        # Every piece above is escaped as it is built.
        "outline_html": mark_safe("".join(rows)),
        "unlinked_html": mark_safe("".join(unlinked)),
        "warnings_html": mark_safe("".join(warnings)),
        "warning_count": len(warnings),
        "relations_html": mark_safe("".join(relation_rows)),
        "relation_count": len(relations),
        "span_count": len(spans),
        "span_data": data,
        "editable": editable,
    }


# ----------------------------------------------------------------------------- the page


@require_GET
@login_required
def annotate(request, slug, document_id):
    project = project_for(request.user, slug, "document.view")
    document = project_document(project, document_id)
    set_id = int_or_none(request.GET.get("set"))
    access = sel.annotation_set_access(
        user=request.user, project=project, document=document, set_id=set_id
    )
    if access is None:
        others = sel.document_sets(user=request.user, project=project, document=document)
        if set_id is not None or not others:
            raise Http404("You have no annotation set for this brief.")
        choices = [{"set": s, "url": _page_url(project, document, s.pk)} for s in others]
        return render(
            request,
            "annotator/annotate.html",
            {"project": project, "document": document, "choices": choices},
        )
    aset = access.annotation_set
    schema = _schema(project)
    queue = sel.annotation_queue(user=request.user, project=project) if access.own else []
    nxt = sel.annotation_queue_next(queue=queue, current_document_id=document.pk)
    position = next((i + 1 for i, s in enumerate(queue) if s.document_id == document.pk), None)
    text = document.text
    spans = sel.set_spans(aset)
    context = {
        "project": project,
        "document": document,
        "aset": aset,
        "own": access.own,
        "editable": access.editable,
        "can_reopen": access.own
        and aset.status == AnnotationStatus.SUBMITTED
        and project.allow_reopen,
        "labels": schema.labels,
        "types": [
            {"type": t, "key": i + 1, "allowed_text": svc.describe_allowed(t.allowed, t.name)}
            for i, t in enumerate(schema.types)
        ],
        "schema_data": {
            "labels": [{"id": lab.pk, "name": lab.name, "hotkey": lab.hotkey,
                        "colour": lab.colour} for lab in schema.labels],
            "types": [{"id": t.pk, "name": t.name, "key": str(i + 1), "allowed": t.allowed,
                       "directed": t.directed} for i, t in enumerate(schema.types)],
            "urls": _urls(project, document),
        },
        "urls": _urls(project, document),
        "page_url": _page_url(project, document, None if access.own else aset.pk),
        "panels_url": _panels_url(project, document, aset, access.own),
        # Built with html.escape, segment by segment.
        "text_html": mark_safe(render_blocks(text, spans, schema.label_names)),
        # Sanitised by nh3.
        "guidelines_html": mark_safe(render_markdown(project.guidelines)),
        "next_url": _page_url(project, nxt.document) if nxt else None,
        "queue_position": position,
        "queue_length": len(queue),
        **_panels_context(aset, schema, access.editable, spans),
    }
    return render(request, "annotator/annotate.html", context)


def _panels_url(project, document, aset, own: bool) -> str:
    url = reverse("annotate-panels", kwargs={"slug": project.slug, "document_id": document.pk})
    return url if own else f"{url}?set={aset.pk}"


@require_GET
@login_required
def annotate_panels(request, slug, document_id):
    """The outline, warnings and relation list (refreshed after every save)."""
    project = project_for(request.user, slug, "document.view")
    document = project_document(project, document_id)
    access = sel.annotation_set_access(
        user=request.user, project=project, document=document,
        set_id=int_or_none(request.GET.get("set")),
    )
    if access is None:
        raise Http404("No such annotation set.")
    aset = access.annotation_set
    context = {
        "project": project,
        "document": document,
        "aset": aset,
        "urls": _urls(project, document),
        "panels_url": _panels_url(project, document, aset, access.own),
        **_panels_context(aset, _schema(project), access.editable),
    }
    return render(request, "annotator/annotate.html#panels", context)


# ----------------------------------------------------------------------------- writes


# What a write needs of the user, checked in this order by the long way below.
_WRITE_PERMISSIONS = ("project.view", "document.view", "annotation_set.annotate")


def _own_set(request, slug, document_id):
    """The project, document and the user's own set for a write, or the 404/403 to answer.

    The short way fetches all three and the user's role in one query; when the
    set is there and the role may annotate, that is all a write needs. Anything
    else takes the long way (``project_for``, the document, then
    ``annotation_set_editable``), which answers with the right 404 or 403.
    """
    user = request.user
    aset = sel.own_annotation_set(user=user, slug=slug, document_id=document_id)
    if aset is not None:
        document = aset.document
        project = document.project
        if all(has_permission(user, project, action) for action in _WRITE_PERMISSIONS):
            return project, document, aset
    project = project_for(user, slug, "document.view")
    document = project_document(project, document_id)
    aset = sel.annotation_set_editable(user=user, project=project, document=document)
    aset.document = document
    document.project = project
    return project, document, aset


def _expected_version(request) -> int:
    value = int_or_none(request.POST.get("expected_version"))
    if value is None:
        raise WarrantError("the page sent no version: reload it")
    return value


def _saved(
    request,
    project,
    document,
    aset,
    *,
    message: str,
    ranges: list[tuple[int, int]] = (),
    select: int | None = None,
    editor: Span | None = None,
    span: Span | None = None,
    removed: int | None = None,
) -> HttpResponse:
    """A save's answer: changed blocks and the set's header out of band, plus the event."""
    parts = [_blocks_for_range(aset, project, list(ranges))] if ranges else []
    header_context = {
        "project": project, "document": document, "aset": aset, "oob": True,
        "editable": True, "own": True,
    }
    parts.append(render_to_string("annotator/annotate.html#set-meta", header_context, request))
    if editor is not None:
        parts.append(_editor_html(request, project, document, aset, editor, True, oob=True))
    if removed is not None:  # the editor showed the deleted span: empty it
        parts.append(render_to_string(
            "annotator/annotate.html#span-editor", {"span": None, "oob": True}, request
        ))
    response = HttpResponse("".join(parts))
    _version_header(response, aset.version)
    event = {"version": aset.version, "message": message, "select": select}
    if span is not None:
        event["span"] = [span.pk, span.label_id, span.start, span.end]
    if removed is not None:
        event["removed"] = removed
    return trigger_client_event(response, "warrant:saved", event, after="swap")


@require_POST
@login_required
def annotate_span_create(request, slug, document_id):
    project, document, aset = _own_set(request, slug, document_id)
    page = _page_url(project, document)
    label = _span_labels(project).get(int_or_none(request.POST.get("label")))

    def call():
        if label is None:
            raise WarrantError("choose a label from the palette")
        start, end = int_or_none(request.POST.get("start")), int_or_none(request.POST.get("end"))
        if start is None or end is None:
            raise WarrantError("select some text first")
        return svc.span_create(
            annotation_set=aset,
            label=label,
            start=start,
            end=end,
            snap=request.POST.get("snap", "1") != "0",
            expected_version=_expected_version(request),
            user=request.user,
        )

    span, failure = _write(request, page, call)
    if failure:
        return failure
    if not request.htmx:
        return redirect(page)
    return _saved(
        request, project, document, aset,
        message=f"Saved: {label.name} “{_excerpt(document.text, span.start, span.end)}”",
        ranges=[(span.start, span.end)],
        select=span.pk,
        span=span,
    )


def _span_of(aset, span_id) -> Span:
    return get_object_or_404(
        Span.objects.select_related("label"), pk=span_id, annotation_set=aset
    )


def _editor_html(request, project, document, aset, span, editable, oob=False) -> str:
    rels = (
        Relation.objects.filter(Q(source=span) | Q(target=span))
        .select_related("type", "source__label", "target__label")
        .order_by("id")
    )
    text = document.text
    kwargs = {"slug": project.slug, "document_id": document.pk, "span_id": span.pk}
    context = {
        "project": project,
        "document": document,
        "aset": aset,
        "span": span,
        "excerpt": _excerpt(text, span.start, span.end),
        "labels": list(_span_labels(project).values()),
        "stance": span.attributes.get("stance", ""),
        "stances": ATTRIBUTE_STANCES,
        "other_attributes": "\n".join(
            f"{k}: {v}" for k, v in span.attributes.items() if k != "stance"
        ),
        "span_relations": [
            {
                "id": r.pk,
                "type": r.type.name,
                "outgoing": r.source_id == span.pk,
                "other": r.target if r.source_id == span.pk else r.source,
                "other_excerpt": _excerpt(
                    text, *((r.target.start, r.target.end) if r.source_id == span.pk
                            else (r.source.start, r.source.end))
                ),
            }
            for r in rels
        ],
        "editable": editable,
        "span_url": reverse("annotate-span", kwargs=kwargs),
        "span_delete_url": reverse("annotate-span-delete", kwargs=kwargs),
        "oob": oob,
    }
    return render_to_string("annotator/annotate.html#span-editor", context, request)


def _parse_attributes(request, span: Span) -> dict:
    """The stance menu plus free ``name: value`` lines, one attribute per line."""
    attributes = {}
    for line in request.POST.get("other_attributes", "").splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise WarrantError(f"write attributes as 'name: value', one a line (not {line!r})")
        attributes[name.strip()] = value.strip()
    stance = request.POST.get("stance", "")
    if stance:
        if stance not in ATTRIBUTE_STANCES:
            raise WarrantError("stance is for or against")
        attributes["stance"] = stance
    return attributes


@require_http_methods(["GET", "POST"])
@login_required
def annotate_span(request, slug, document_id, span_id):
    """GET: the editor of one span. POST: relabel it, set its attributes or note."""
    if request.method == "GET":
        project = project_for(request.user, slug, "document.view")
        document = project_document(project, document_id)
        access = sel.annotation_set_access(
            user=request.user, project=project, document=document,
            set_id=int_or_none(request.GET.get("set")),
        )
        if access is None:
            raise Http404("No such annotation set.")
        span = _span_of(access.annotation_set, span_id)
        return HttpResponse(
            _editor_html(request, project, document, access.annotation_set, span, access.editable)
        )
    project, document, aset = _own_set(request, slug, document_id)
    span = _span_of(aset, span_id)
    span.annotation_set = aset
    page = _page_url(project, document)
    fields = request.POST

    def call():
        changes = {}
        if "label" in fields:
            label = _span_labels(project).get(int_or_none(fields["label"]))
            if label is None:
                raise WarrantError("choose a label of this project")
            changes["label"] = label
        if "stance" in fields or "other_attributes" in fields:
            changes["attributes"] = _parse_attributes(request, span)
        if "note" in fields:
            changes["note"] = fields["note"]
        return svc.span_update(
            span=span, expected_version=_expected_version(request), user=request.user, **changes
        )

    span, failure = _write(request, page, call)
    if failure:
        return failure
    if not request.htmx:
        return redirect(page)
    return _saved(
        request, project, document, aset,
        message=f"Saved: {span.label.name} “{_excerpt(document.text, span.start, span.end)}”",
        ranges=[(span.start, span.end)],
        select=span.pk,
        editor=span,
        span=span,
    )


@require_POST
@login_required
def annotate_span_delete(request, slug, document_id, span_id):
    project, document, aset = _own_set(request, slug, document_id)
    span = _span_of(aset, span_id)
    span.annotation_set = aset
    page = _page_url(project, document)
    where, span_id = (span.start, span.end), span.pk
    _, failure = _write(
        request, page,
        lambda: svc.span_delete(
            span=span, expected_version=_expected_version(request), user=request.user
        ),
    )
    if failure:
        return failure
    if not request.htmx:
        return redirect(page)
    return _saved(
        request, project, document, aset,
        message=f"Deleted: {span.label.name} “{_excerpt(document.text, *where)}” "
        "and its relations (u undoes)",
        ranges=[where],
        removed=span_id,
    )


@require_POST
@login_required
def annotate_relation_create(request, slug, document_id):
    project, document, aset = _own_set(request, slug, document_id)
    page = _page_url(project, document)
    ids = [int_or_none(request.POST.get("source")), int_or_none(request.POST.get("target"))]
    spans = Span.objects.filter(annotation_set=aset, pk__in=[i for i in ids if i is not None])
    by_id = {span.pk: span for span in spans.select_related("label")}
    source, target = by_id.get(ids[0]), by_id.get(ids[1])
    type_id = int_or_none(request.POST.get("type"))
    rtype = project.relation_types.filter(pk=type_id).order_by().first()

    def call():
        if source is None or target is None:
            raise WarrantError("pick a source span and a target span of this set")
        if rtype is None:
            raise WarrantError("choose a relation type of this project")
        return svc.relation_create(
            annotation_set=aset, source=source, target=target, type=rtype,
            expected_version=_expected_version(request), user=request.user,
        )

    _relation, failure = _write(request, page, call)
    if failure:
        return failure
    if not request.htmx:
        return redirect(page)
    return _saved(
        request, project, document, aset,
        message=f"Linked: {source.label.name} —{rtype.name}→ {target.label.name}",
        select=source.pk,
    )


@require_POST
@login_required
def annotate_relation_delete(request, slug, document_id, relation_id):
    project, document, aset = _own_set(request, slug, document_id)
    relation = get_object_or_404(Relation, pk=relation_id, annotation_set=aset)
    relation.annotation_set = aset
    page = _page_url(project, document)
    _, failure = _write(
        request, page,
        lambda: svc.relation_delete(
            relation=relation, expected_version=_expected_version(request), user=request.user
        ),
    )
    if failure:
        return failure
    if not request.htmx:
        return redirect(page)
    return _saved(request, project, document, aset, message="Relation deleted (u undoes)")


def _replay(request, slug, document_id, service):
    project, document, aset = _own_set(request, slug, document_id)
    page = _page_url(project, document)
    done, failure = _write(
        request, page,
        lambda: service(
            annotation_set=aset, expected_version=_expected_version(request), user=request.user
        ),
    )
    if failure:
        return failure
    if not request.htmx:
        return redirect(page)
    return _saved(request, project, document, aset, message=done.message,
                  ranges=list(done.ranges))


@require_POST
@login_required
def annotate_undo(request, slug, document_id):
    return _replay(request, slug, document_id, svc.annotation_set_undo)


@require_POST
@login_required
def annotate_redo(request, slug, document_id):
    return _replay(request, slug, document_id, svc.annotation_set_redo)


def _status_change(request, slug, document_id, service):
    project, document, aset = _own_set(request, slug, document_id)
    page = _page_url(project, document)
    _, failure = _write(
        request, page,
        lambda: service(
            annotation_set=aset, expected_version=_expected_version(request), user=request.user
        ),
    )
    if failure:
        return failure
    if request.htmx:
        return HttpResponseClientRedirect(page)
    return redirect(page)


@require_POST
@login_required
def annotate_submit(request, slug, document_id):
    return _status_change(request, slug, document_id, svc.annotation_set_submit)


@require_POST
@login_required
def annotate_reopen(request, slug, document_id):
    return _status_change(request, slug, document_id, svc.annotation_set_reopen)
