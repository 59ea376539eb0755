"""The annotation page and the htmx endpoints it saves through.

The page sends the brief as plain text blocks and the set's spans and
relations as compact data (``[id, label, start, end]``); annotate.js draws the
coloured segments, the label chips and the relation arcs from them. That keeps
the page light (a 20,000-word brief with 1,000 spans is a few hundred KiB, not
a megabyte of segment markup) and lets a save answer without re-rendering text.

Every write names the version of the set the page last saw (``expected_version``);
the services refuse a stale one with 409. Error answers are one plain-text
line that annotate.js shows in the page's alert region. A successful save is
one request: it answers with the set's header (and the span editor) as
out-of-band swaps, and a ``warrant:saved`` event carrying the new version and
what changed (spans and relations added, changed or removed), from which the
script redraws the blocks and arcs it touches and the outline, warnings and
relation panels (panels.js, the same markup as ``_panels_context``). A save
therefore reads nothing of the set but the rows it writes, and its work does
not grow with the brief or the set (issue 12.5).

The panels are paged (``OUTLINE_ROWS``, ``RELATION_ROWS`` a page), so that
neither the page nor its panels request renders markup in proportion to the
brief.
"""

from __future__ import annotations

import functools
import html
import json
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from annotator.models import AnnotationStatus, Relation, Span, SpanLabel
from annotator.prepared import get_prepared
from annotator.selectors import annotations as sel
from annotator.selectors.permissions import has_permission
from annotator.selectors.projects import label_spec
from annotator.services import annotations as svc
from annotator.services.errors import ConflictError, WarrantError
from annotator.text.markdown import render_markdown

from .access import int_or_none, project_document, project_for
from .text_render import render_plain_blocks


def page_suggestions(project, document, aset, editable: bool) -> dict | None:
    """What suggestions.js needs when this set shows suggestions (web/suggestions.py)."""
    from .suggestions import page_suggestion_data  # it imports this module

    return page_suggestion_data(project, document, aset, editable)

# Outline and relation lists quote this much of a span.
EXCERPT_CHARS = 70
# A page of the outline and of the relation list: what a reader scans at once; a
# save re-renders the pages shown, so these bound its work too.
OUTLINE_ROWS = 100
RELATION_ROWS = 100
# Warnings shown by name; the count says how many more there are.
WARNING_ROWS = 50
# Above this many relations the arcs start in "around the selected span" mode
# (the reader can switch to all of them): a long brief's thousands of arcs are
# a wall, and drawing them all costs the browser a noticeable moment.
ARCS_ALL_LIMIT = 200
# What an empty outline and an empty relation list say.
NO_OUTLINE = ('<li class="muted">No relations yet: link reasons and evidence to the claims '
              "they back.</li>")
NO_RELATIONS = ('<li class="muted">None yet. Select a span, press <kbd>t</kbd>, pick the '
                "target, then the type.</li>")


# ----------------------------------------------------------------------------- helpers


def _page_url(project, document, set_id: int | None = None) -> str:
    url = reverse("annotate", kwargs={"slug": project.slug, "document_id": document.pk})
    return f"{url}?set={set_id}" if set_id else url


def _urls(project, document) -> dict[str, str]:
    """The page's endpoints (once per request: a save renders them in two places)."""
    cached = getattr(document, "_annotate_urls", None)
    if cached is not None:
        return cached
    document._annotate_urls = urls = _reverse_urls(project, document)
    return urls


def _reverse_urls(project, document) -> dict[str, str]:
    kwargs = {"slug": project.slug, "document_id": document.pk}
    names = ["span_create", "spans_bulk", "undo", "redo", "submit", "reopen",
             "relation_create", "panels"]
    urls = {name: reverse(f"annotate-{name.replace('_', '-')}", kwargs=kwargs) for name in names}
    # Patterns with a placeholder id 0 that annotate.js and the templates fill in.
    for name, arg in [("span", "span_id"), ("span_delete", "span_id"),
                      ("relation_update", "relation_id"), ("relation_delete", "relation_id")]:
        urls[name] = reverse(f"annotate-{name.replace('_', '-')}", kwargs={**kwargs, arg: 0})
    return urls


def _excerpt(text: str, start: int, end: int) -> str:
    piece = " ".join(text[start:end].split())
    return piece if len(piece) <= EXCERPT_CHARS else piece[: EXCERPT_CHARS - 1] + "…"


def _error(exc: Exception, status: int) -> HttpResponse:
    return HttpResponse(str(exc), status=status, content_type="text/plain; charset=utf-8")


def _write(request, page_url, call):
    """Run a service call: ``(result, None)`` for htmx to answer, or ``(result, response)``
    to send as it is: a refusal as 400/409 (htmx) or a message, or, without JavaScript,
    the redirect back to the page (``page_url``: the page's URL, or a function that gives
    it, so that a save htmx sends does not reverse it)."""
    try:
        result = call()
    except ConflictError as exc:
        failure = _error(exc, 409)
    except WarrantError as exc:
        failure = _error(exc, 400)
    else:
        return result, None if request.htmx else redirect(_url_of(page_url))
    if not request.htmx:
        messages.error(request, failure.content.decode())
        return None, redirect(_url_of(page_url))
    return None, failure


def _url_of(page_url) -> str:
    return page_url() if callable(page_url) else page_url


@dataclass
class Schema:
    labels: list
    types: list


def _schema(project) -> Schema:
    schema = getattr(project, "_annotate_schema", None)
    if schema is None:
        types = list(project.relation_types.order_by(*sel.SCHEMA_ORDER))
        labels = list(sel.project_span_labels(project).values())
        schema = project._annotate_schema = Schema(labels, types)
    return schema


def _page_number(value, count: int, per_page: int) -> int:
    """A 1-based page number, clamped to the pages there are."""
    pages = max(1, -(-count // per_page))
    number = int_or_none(value) or 1
    return min(max(number, 1), pages)


# ----------------------------------------------------------------------------- panels


@dataclass
class Contents:
    """The set's spans and relations (and the names of their types), read once per request."""

    spans: list[sel.SpanRow]
    relations: list[sel.RelationRow]
    type_names: dict[int, str]


def _contents(aset) -> Contents:
    return Contents(*sel.set_contents(aset))


def _pager(name: str, pages_now: dict, count: int, per_page: int, url: str, label: str) -> str:
    """Previous/next links of a paged panel; real links that htmx swaps the panels with.

    ``pages_now`` holds the page of every panel, so that turning one keeps the other.
    """
    if count <= per_page:
        return ""
    number = pages_now[name]
    pages = -(-count // per_page)
    first, last = (number - 1) * per_page + 1, min(number * per_page, count)
    sep = "&" if "?" in url else "?"
    links = []
    steps = ((number - 1, "&larr; Previous", "prev"), (number + 1, "Next &rarr;", "next"))
    for target, text, rel in steps:
        if 1 <= target <= pages:
            query = "&".join(f"{k}={target if k == name else v}" for k, v in pages_now.items())
            href = html.escape(f"{url}{sep}{query}")
            links.append(
                f'<a href="{href}" hx-get="{href}" hx-target="#panels" hx-swap="outerHTML"'
                f' rel="{rel}" class="pager-link">{text}</a>'
            )
    return (
        f'<nav class="pager" aria-label="{label} pages"><span class="muted">{first:,} to {last:,}'
        f" of {count:,}</span> {' '.join(links)}</nav>"
    )


def _panels_context(aset, labels: dict[int, SpanLabel], editable: bool, contents: Contents,
                    params, panels_url: str) -> dict:
    """Warnings, outline and relations, one page of each, as the HTML of their three
    sections, built here (the template engine would spend a long brief's budget on them).

    panels.js builds the same markup from the page's data after every save (the save's
    answer carries no panels: tests/browser/test_annotate_panels.py holds the two equal),
    so a change here is a change there.
    """
    text = aset.document.text
    spans, relations = contents.spans, contents.relations
    by_id = {s.id: s for s in spans}
    esc = html.escape
    label_names = {pk: lab.name for pk, lab in labels.items()}
    names = {pk: esc(name) for pk, name in label_names.items()}
    quoted: dict[int, str] = {}

    def quote(span_id: int) -> str:
        """"<chip> excerpt" of a span, escaped once; only for the rows shown."""
        if span_id not in quoted:
            s = by_id[span_id]
            quoted[span_id] = (
                f'<span class="chip c{s.label_id}">{names.get(s.label_id, "?")}</span> '
                f"{esc(_excerpt(text, s.start, s.end))}"
            )
        return quoted[span_id]

    def jump(span_id: int, css: str = "link jump") -> str:
        return (
            f'<button type="button" class="{css}" data-span="{span_id}">{quote(span_id)}</button>'
        )

    outline = sel.argument_outline(spans, relations, label_names, contents.type_names)
    # The outline's rows, then its unlinked spans, page by page as one list.
    entries = [("row", r) for r in outline.rows] + [("unlinked", i) for i in outline.unlinked]
    pages = {
        "outline_page": _page_number(params.get("outline_page"), len(entries), OUTLINE_ROWS),
        "relation_page": _page_number(params.get("relation_page"), len(relations),
                                      RELATION_ROWS),
    }
    opage, rpage = pages["outline_page"], pages["relation_page"]
    rows, unlinked = [], []
    for kind, entry in entries[(opage - 1) * OUTLINE_ROWS : opage * OUTLINE_ROWS]:
        if kind == "unlinked":
            unlinked.append(f"<li>{jump(entry, 'node jump')}</li>")
            continue
        via = ""
        if entry.via:
            mark = "✕ " if entry.attack else ""
            attack = " via-attack" if entry.attack else ""
            via = f'<span class="via{attack}">{mark}{esc(entry.via)}</span> '
        again = ' <span class="muted">(again)</span>' if entry.repeat else ""
        rows.append(
            f'<li class="{"attack" if entry.attack else ""}" style="--d:{entry.depth}">'
            f'<button type="button" class="node jump" data-span="{entry.span_id}">{via}'
            f"{quote(entry.span_id)}{again}</button></li>"
        )
    count = len(outline.warnings)
    warnings = "".join(
        f"<li>{esc(w.message)} {' '.join(jump(i) for i in w.span_ids)}</li>"
        for w in outline.warnings[:WARNING_ROWS]
    )
    if count:
        warnings = f'<ul id="warnings" class="warnings">{warnings}</ul>'
        if count > WARNING_ROWS:
            warnings += f'<p class="muted">and {count - WARNING_ROWS} more</p>'
    else:
        warnings = '<p id="warnings" class="ok">No warnings.</p>'
    outline_html = _pager("outline_page", pages, len(entries), OUTLINE_ROWS, panels_url,
                          "Outline")
    if rows or not unlinked:
        outline_html += (f'<ol class="outline" id="outline">{"".join(rows) or NO_OUTLINE}</ol>')
    if unlinked:
        outline_html += (f'<h3>Not linked yet</h3><ul class="outline unlinked" id="unlinked">'
                         f'{"".join(unlinked)}</ul>')
    type_names = {pk: esc(name) for pk, name in contents.type_names.items()}
    delete_url = _urls(aset.document.project, aset.document)["relation_delete"]
    shown = relations[(rpage - 1) * RELATION_ROWS : rpage * RELATION_ROWS]
    # The type menus need the schema's types: one query, only when a menu is drawn.
    types = _schema(aset.document.project).types if editable and shown else []
    relation_rows = []
    for r in shown:
        name = type_names.get(r.type_id, "?")
        delete = ""
        kind = f'<span class="rel-type">—{name}→</span>'
        choices = [t for t in types if t.pk == r.type_id or svc.relation_refusal(
            t, label_names.get(by_id[r.source_id].label_id, ""),
            label_names.get(by_id[r.target_id].label_id, "")) is None] if editable else []
        if len(choices) > 1:
            # The type is a menu of the types the schema allows for the pair: choosing
            # another (by mouse, or arrows on the focused menu) is one undoable edit.
            options = "".join(
                f'<option value="{t.pk}"{" selected" if t.pk == r.type_id else ""}>'
                f"{esc(t.name)}</option>" for t in choices)
            kind = (f'—<select class="rel-type" id="relation-type-{r.id}"'
                    f' data-relation-retype="{r.id}"'
                    f' aria-label="Type of relation {r.id}">{options}</select>→')
        if editable:
            delete = (
                f' <button type="submit" form="relation-delete-form" class="link danger-link"'
                f' formaction="{delete_url.replace("/relations/0/", f"/relations/{r.id}/")}"'
                f' data-relation-delete="{r.id}"'
                f' aria-label="Delete relation {r.id} ({name})">delete</button>'
            )
        relation_rows.append(
            f'<li data-relation="{r.id}" class="rel-{name}">{jump(r.source_id)}'
            f' {kind} {jump(r.target_id)}{delete}</li>'
        )
    n_spans = len(spans)
    relations_pager = _pager("relation_page", pages, len(relations), RELATION_ROWS, panels_url,
                             "Relation list")
    # Every piece is escaped as it is built.
    return {
        "warnings_html": mark_safe(
            f'<h2 id="warnings-title">Warnings <span class="count">{count}</span></h2>'
            f"{warnings}"),
        "outline_html": mark_safe(
            f'<h2 id="outline-title">Outline <span class="count">{n_spans} '
            f'span{"" if n_spans == 1 else "s"}</span></h2>{outline_html}'),
        "relations_html": mark_safe(
            f'<h2 id="relations-title">Relations <span class="count">{len(relations)}</span>'
            f'</h2>{relations_pager}<ol id="relation-list" class="relation-list">'
            f'{"".join(relation_rows) or NO_RELATIONS}</ol>'),
        "outline_page": opage,
        "relation_page": rpage,
        "editable": editable,
    }


def _set_data(contents: Contents) -> dict:
    """The spans and relations as the compact lists annotate.js draws from."""
    return {
        "spans": [[s.id, s.label_id, s.start, s.end] for s in contents.spans],
        "relations": [[r.id, r.source_id, r.target_id, r.type_id] for r in contents.relations],
    }


def _schema_data(project, document, schema: Schema) -> dict:
    return {
        "labels": [{"id": lab.pk, "name": lab.name, "hotkey": lab.hotkey, "colour": lab.colour,
                    "attributes": [{"name": a.name, "type": a.type, "hotkey": a.hotkey}
                                   for a in label_spec(lab).attributes]}
                   for lab in schema.labels],
        "types": [{"id": t.pk, "name": t.name, "key": str(i + 1), "allowed": t.allowed,
                   "directed": t.directed, "attack": t.name in sel.ATTACK_TYPES}
                  for i, t in enumerate(schema.types)],
        "urls": _urls(project, document),
        "arcs_all_limit": ARCS_ALL_LIMIT,
        # What panels.js needs to draw the panels as _panels_context does.
        "panels": {"outline_rows": OUTLINE_ROWS, "relation_rows": RELATION_ROWS,
                   "warning_rows": WARNING_ROWS, "excerpt_chars": EXCERPT_CHARS,
                   "no_outline": NO_OUTLINE, "no_relations": NO_RELATIONS,
                   "major_claim": sel.MAJOR_CLAIM, "reason": sel.REASON,
                   "evidence": sel.EVIDENCE},
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
    contents = _contents(aset)
    urls = _urls(project, document)
    panels_url = _panels_url(project, document, aset, access.own)
    context = {
        "project": project,
        "document": document,
        "aset": aset,
        "own": access.own,
        "editable": access.editable,
        "can_reopen": access.own
        and aset.status == AnnotationStatus.SUBMITTED
        and project.allow_reopen
        and access.closed is None,
        "closed": access.closed,
        "labels": schema.labels,
        "types": [
            {"type": t, "key": i + 1, "allowed_text": svc.describe_allowed(t.allowed, t.name)}
            for i, t in enumerate(schema.types)
        ],
        "schema_data": _schema_data(project, document, schema),
        "set_data": _set_data(contents),
        "urls": urls,
        "page_url": _page_url(project, document, None if access.own else aset.pk),
        "panels_url": panels_url,
        # Built with html.escape, block by block.
        "text_html": mark_safe(render_plain_blocks(document.text)),
        # Sanitised by nh3.
        "guidelines_html": mark_safe(render_markdown(project.guidelines)),
        "next_url": _page_url(project, nxt.document) if nxt else None,
        "queue_position": position,
        "queue_length": len(queue),
        "suggestions": page_suggestions(project, document, aset, access.editable),
        "set_meta_html": mark_safe(_set_meta_html(aset, own=access.own)),
        "span_editor_html": mark_safe(_editor_html(request, project, document, aset, None,
                                                   access.editable)),
        **_panels_context(aset, sel.project_span_labels(project), access.editable, contents,
                          request.GET, panels_url),
    }
    return render(request, "annotator/annotate.html", context)


def _panels_url(project, document, aset, own: bool) -> str:
    url = reverse("annotate-panels", kwargs={"slug": project.slug, "document_id": document.pk})
    return url if own else f"{url}?set={aset.pk}"


@require_GET
@login_required
def annotate_panels(request, slug, document_id):
    """One page of the outline, warnings and relation list; with ``data=1`` also the
    set's spans and relations (the script's way back in step if it ever loses it)."""
    project = project_for(request.user, slug, "document.view")
    document = project_document(project, document_id)
    access = sel.annotation_set_access(
        user=request.user, project=project, document=document,
        set_id=int_or_none(request.GET.get("set")),
    )
    if access is None:
        raise Http404("No such annotation set.")
    aset = access.annotation_set
    contents = _contents(aset)
    panels_url = _panels_url(project, document, aset, access.own)
    context = {
        "project": project,
        "document": document,
        "aset": aset,
        "urls": _urls(project, document),
        "panels_url": panels_url,
        **_panels_context(aset, sel.project_span_labels(project), access.editable, contents,
                          request.GET, panels_url),
    }
    response = render(request, "annotator/annotate.html#panels", context)
    if request.GET.get("data") == "1":
        response["X-Warrant-Version"] = str(aset.version)
        response = trigger_client_event(
            response, "warrant:data", {"version": aset.version, **_set_data(contents)},
            after="swap",
        )
    return response


# ----------------------------------------------------------------------------- writes


# What a write needs of the user, checked in this order by the long way below.
_WRITE_PERMISSIONS = ("project.view", "document.view", "annotation_set.annotate")


def writes_own_set(view):
    """Mark a view as a write to the user's own set of the document (:func:`_own_set`):
    while it runs, the request's session and user, when first read, are read with that
    set in one statement (web/sessions.py, selectors.annotations.OwnSetWanted), two round
    trips fewer per save."""

    @functools.wraps(view)
    def wrapped(request, slug, document_id, *args, **kwargs):
        if request.method != "POST":
            return view(request, slug, document_id, *args, **kwargs)
        token = sel.OWN_SET_WANTED.set(sel.OwnSetWanted(slug, int(document_id)))
        try:
            return view(request, slug, document_id, *args, **kwargs)
        finally:
            sel.OWN_SET_WANTED.reset(token)

    return wrapped


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


@dataclass
class Change:
    """What a write changed, for the page to redraw: rows now in the set and ids gone."""

    spans: list = field(default_factory=list)
    relations: list = field(default_factory=list)
    removed_spans: list[int] = field(default_factory=list)
    removed_relations: list[int] = field(default_factory=list)

    def as_event(self) -> dict:
        return {
            "spans": [[s.pk, s.label_id, s.start, s.end] for s in self.spans],
            "relations": [[r.pk, r.source_id, r.target_id, r.type_id] for r in self.relations],
            "removed_spans": list(self.removed_spans),
            "removed_relations": list(self.removed_relations),
        }


def _saved(
    request,
    project,
    document,
    aset,
    *,
    message: str,
    change: Change,
    select: int | None = None,
    editor: Span | None = None,
    new: bool = False,
    removed: int | None = None,
) -> HttpResponse:
    """A save's one answer: the header (and the editor) out of band, plus the event.

    The panels do not come along: the page redraws them from its data and the event
    (panels.js), so that a save reads nothing of the set but what it wrote and renders
    the same few lines however long the brief (issue 12.5).
    """
    parts = [_set_meta_html(aset, own=True, oob=True)]
    if editor is not None:
        parts.append(_editor_html(request, project, document, aset, editor, True, oob=True,
                                  new=new))
    if removed is not None:  # the editor showed the deleted span: empty it
        parts.append(_editor_html(request, project, document, aset, None, True, oob=True))
    response = HttpResponse("".join(parts))
    response["X-Warrant-Version"] = str(aset.version)
    event = {
        "version": aset.version,
        "message": message,
        "select": select,
        "change": change.as_event(),
    }
    return trigger_client_event(response, "warrant:saved", event, after="swap")


def _set_meta_html(aset, *, own: bool, oob: bool = False) -> str:
    """The set's line under the brief's title (``#set-meta``): whose, status, version. Built
    here as the span editor is (:func:`_editor_html`): every save answers with it."""
    whose = ("Gold standard" if aset.is_gold else
             f"Annotation set of <strong>{html.escape(aset.annotator.username)}</strong>")
    status = html.escape(aset.status)
    swap = ' hx-swap-oob="true"' if oob else ""
    return (
        f'<p class="set-meta" id="set-meta"{swap}>{whose}'
        f' · <span class="status status-{status}" id="set-status">'
        f"{html.escape(aset.get_status_display())}</span>"
        f' · <span id="set-version">version {aset.version}</span>'
        f'{"" if own else " · <strong>read-only</strong>"}</p>'
    )


def _snap(request) -> bool:
    return request.POST.get("snap", "1") != "0"


@require_POST
@writes_own_set
@login_required
def annotate_span_create(request, slug, document_id):
    project, document, aset = _own_set(request, slug, document_id)
    label = sel.project_span_labels(project).get(int_or_none(request.POST.get("label")))

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
            snap=_snap(request),
            expected_version=_expected_version(request),
            user=request.user,
        )

    span, answer = _write(request, lambda: _page_url(project, document), call)
    if answer:
        return answer
    return _saved(
        request, project, document, aset,
        message=f"Saved: {label.name} “{_excerpt(document.text, span.start, span.end)}”",
        change=Change(spans=[span]),
        select=span.pk,
        # The new span is selected: its editor comes along, so the page sends no second
        # request for it (one request per save, issue 12.5).
        editor=span,
        new=True,
    )


# One "mark all matches" request carries at most this many ranges (the service's
# own limit is lower; this bounds the parsing).
_BULK_RANGES_MAX = 10 * svc.MAX_SPANS_PER_ACTION


def _ranges(raw: str) -> list:
    try:
        ranges = json.loads(raw or "[]")
    except ValueError:
        raise WarrantError("the matches were not sent as a list of [start, end] pairs") from None
    if not isinstance(ranges, list) or len(ranges) > _BULK_RANGES_MAX:
        raise WarrantError("the matches were not sent as a list of [start, end] pairs")
    return ranges


@require_POST
@writes_own_set
@login_required
def annotate_spans_bulk(request, slug, document_id):
    """Mark many ranges (the find box's matches) with one label, as one undoable edit."""
    project, document, aset = _own_set(request, slug, document_id)
    page = _page_url(project, document)
    label = sel.project_span_labels(project).get(int_or_none(request.POST.get("label")))
    asked: list = []

    def call():
        if label is None:
            raise WarrantError("choose a label to mark the matches with")
        asked.extend(_ranges(request.POST.get("ranges")))
        return svc.spans_create(
            annotation_set=aset, label=label, ranges=asked, snap=_snap(request),
            expected_version=_expected_version(request), user=request.user,
        )

    spans, answer = _write(request, page, call)
    if answer:
        return answer
    skipped = len(asked) - len(spans)
    also = f" ({skipped} already marked or repeated)" if skipped else ""
    return _saved(
        request, project, document, aset,
        message=f"Marked {len(spans)} match{'es' if len(spans) != 1 else ''} as "
        f"{label.name}{also} (u undoes them all)",
        change=Change(spans=spans),
    )


def _span_of(aset, span_id) -> Span:
    return get_object_or_404(
        Span.objects.select_related("label"), pk=span_id, annotation_set=aset
    )


def _own_span(project, aset, span_id) -> Span:
    """A span of the user's own set for a write (:func:`_own_set`), or 404: on PostgreSQL its
    row alone, by a prepared statement, with its label from the project's labels the
    set's read brought along (no ORM compiling, no join on a save's path)."""
    if connection.vendor != "postgresql":
        return _span_of(aset, span_id)
    span = get_prepared(Span, '"id" = %s AND "annotation_set_id" = %s', [span_id, aset.pk])
    label = None if span is None else sel.project_span_labels(project).get(span.label_id)
    if label is None:  # no such span in the set (a label is always the project's)
        raise Http404("No Span matches the given query.")
    span.label = label
    return span


def _editor_html(request, project, document, aset, span, editable, oob=False,
                 new=False) -> str:
    """The span editor (``#span-editor``); ``new``: the span was made by this request and
    has no relations; no ``span``: the empty editor the page starts with.

    Built here, not by a template partial: every span save answers with it, and the
    template engine took ~1 ms of a save's ~4.5 ms to render its fields (issue 12.5).
    Every value is escaped as it is written in."""
    swap = ' hx-swap-oob="true"' if oob else ""
    head = '<h2 id="span-editor-title">Selected span</h2>'
    opening = ('<section id="span-editor" class="panel span-editor"'
               ' aria-labelledby="span-editor-title"')
    if span is None:
        return (f"{opening}{swap}>{head}<p class=\"muted\">No span selected. Click a span, or "
                "press <kbd>j</kbd> / <kbd>k</kbd>.</p></section>")
    esc = html.escape
    text = document.text
    label = span.label
    attributes = _attribute_fields(span)
    parts = [
        f'{opening} data-span="{span.pk}" data-version="{aset.version}"{swap}>{head}',
        f'<p class="excerpt" data-span="{span.pk}"><span class="chip" style="--c: '
        f'{esc(label.colour)}">{esc(label.name)}</span> “<bdi>'
        f"{esc(_excerpt(text, span.start, span.end))}</bdi>”</p>",
    ]
    if editable:
        kwargs = {"slug": project.slug, "document_id": document.pk, "span_id": span.pk}
        span_url = esc(reverse("annotate-span", kwargs=kwargs))
        delete_url = esc(reverse("annotate-span-delete", kwargs=kwargs))
        token = esc(get_token(request))
        hidden = (f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
                  f'<input type="hidden" name="expected_version" value="{aset.version}">')
        options = "".join(
            f'<option value="{lab.pk}"{" selected" if lab.pk == span.label_id else ""}>'
            f"{esc(lab.name)}</option>" for lab in sel.project_span_labels(project).values())
        parts.append(
            f'<form method="post" action="{span_url}" hx-post="{span_url}" hx-swap="none"'
            f' class="span-form">{hidden}<div class="field"><label for="span-label">Label</label>'
            f'<select id="span-label" name="label">{options}</select></div>'
        )
        parts += [_attribute_field_html(attr) for attr in attributes]
        if attributes:
            parts.append(f'<input type="hidden" name="attributes_form" value="{span.label_id}">')
        parts.append(
            '<div class="field"><label for="span-note">Note</label>'
            f'<textarea id="span-note" name="note" rows="2">{esc(span.note)}</textarea></div>'
            '<button type="submit">Save changes</button></form>'
            '<div class="span-buttons"><button type="button" class="secondary"'
            ' data-action="link">Link from here <kbd>t</kbd></button>'
            f'<form method="post" action="{delete_url}" hx-post="{delete_url}" hx-swap="none"'
            f' class="inline">{hidden}<button type="submit" class="danger">Delete span'
            " <kbd>x</kbd></button></form></div>"
        )
    else:
        shown = "".join(f"<dt>{esc(attr['name'])}</dt><dd>{esc(str(attr['current']))}</dd>"
                        for attr in attributes if attr["current"])
        if span.note:
            shown += f"<dt>Note</dt><dd>{esc(span.note)}</dd>"
        parts.append(f'<dl class="readonly">{shown}</dl>')
    rels = [] if new else sel.span_relations(span)
    if rels:
        items = []
        for r in rels:
            outgoing = r.source_id == span.pk
            other = r.target if outgoing else r.source
            arrow = "→" if outgoing else "←"
            items.append(
                f"<li>{arrow} {esc(r.type.name)} {arrow} {esc(other.label.name)} “<bdi>"
                f"{esc(_excerpt(text, other.start, other.end))}</bdi>”</li>")
        parts.append(f'<h3>Its relations</h3><ul class="plain">{"".join(items)}</ul>')
    parts.append("</section>")
    return "".join(parts)


def _attribute_field_html(attr: dict) -> str:
    """One attribute's field of the span editor (:func:`_attribute_fields`)."""
    esc = html.escape
    name = esc(attr["name"])
    hotkey = esc(attr.get("hotkey") or "")
    description = esc(attr.get("description") or "")
    keys = f' aria-keyshortcuts="{hotkey}"' if hotkey else ""
    described = f' aria-describedby="attr-{name}-help"' if description else ""
    common = f'id="attr-{name}" name="attr-{name}"'
    if attr["type"] == "text":
        control = (f'<input type="text" {common} value="{esc(str(attr["current"]))}"'
                   f' maxlength="200" data-attribute="{name}"{keys}{described}>')
    else:
        options = "".join(
            f'<option value="{esc(str(value))}"{" selected" if value == attr["current"] else ""}>'
            f"{esc(str(value))}</option>" for value in attr["options"])
        control = (f'<select {common} data-attribute="{name}"{keys}{described}>'
                   f'<option value="">—</option>{options}</select>')
    kbd = f" <kbd>{hotkey}</kbd>" if hotkey else ""
    help_text = (f'<span class="help" id="attr-{name}-help">{description}</span>'
                 if description else "")
    return (f'<div class="field"><label for="attr-{name}">{name}{kbd}</label>{control}'
            f"{help_text}</div>")


# How the editor shows a yes/no attribute, and back.
_YES_NO = {True: "yes", False: "no"}


def _attribute_fields(span: Span) -> list[dict]:
    """The editor's fields for the span's attributes, as its label's schema declares them
    (formats/schema.py: choice, yes/no, short text); values it does not declare, shown."""
    spec = label_spec(span.label)
    fields = []
    for attribute in spec.attributes:
        value = span.attributes.get(attribute.name)
        options = list(attribute.values) if attribute.type == "choice" else []
        if attribute.type == "boolean":
            options, value = ["yes", "no"], _YES_NO.get(value, "")
        fields.append({"name": attribute.name, "type": attribute.type, "options": options,
                       "current": "" if value is None else value, "hotkey": attribute.hotkey,
                       "description": attribute.description})
    declared = {a.name for a in spec.attributes}
    fields += [{"name": name, "type": "text", "current": value, "undeclared": True}
               for name, value in span.attributes.items() if name not in declared]
    return fields


def _typed_attributes(fields, label: SpanLabel) -> dict:
    """The attributes the editor's fields hold, typed as ``label`` declares them."""
    values = {}
    for attribute in label_spec(label).attributes:
        raw = fields.get(f"attr-{attribute.name}", "")
        if attribute.type == "boolean":
            if raw not in ("", "yes", "no"):
                raise WarrantError(f"attribute {attribute.name!r} is yes or no")
            values[attribute.name] = {"yes": True, "no": False}.get(raw)
        else:
            values[attribute.name] = raw.strip()
    return values


@require_http_methods(["GET", "POST"])
@writes_own_set
@login_required
def annotate_span(request, slug, document_id, span_id):
    """GET: the editor of one span. POST: relabel it, move its boundaries, set its
    attributes or note."""
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
    span = _own_span(project, aset, span_id)
    span.annotation_set = aset
    page = _page_url(project, document)
    fields = request.POST
    before = (span.start, span.end)

    def call():
        changes = {}
        if "label" in fields:
            label = sel.project_span_labels(project).get(int_or_none(fields["label"]))
            if label is None:
                raise WarrantError("choose a label of this project")
            changes["label"] = label
        for name in ("start", "end"):
            if name in fields:
                value = int_or_none(fields[name])
                if value is None:
                    raise WarrantError(f"the span's {name} must be a whole number")
                changes[name] = value
        if "start" in changes or "end" in changes:
            changes["snap"] = _snap(request)
        # The fields are those of the label the editor was drawn for: with a new label (or
        # an editor drawn for another one) they are left alone, and the service keeps what
        # the new label can hold.
        relabel = "label" in changes and changes["label"].pk != span.label_id
        if fields.get("attributes_form") == str(span.label_id) and not relabel:
            changes["attributes"] = _typed_attributes(fields, span.label)
        if "note" in fields:
            changes["note"] = fields["note"]
        return svc.span_update(
            span=span, expected_version=_expected_version(request), user=request.user, **changes
        )

    span, answer = _write(request, page, call)
    if answer:
        return answer
    moved = (span.start, span.end) != before
    what = "Moved" if moved else "Saved"
    return _saved(
        request, project, document, aset,
        message=f"{what}: {span.label.name} “{_excerpt(document.text, span.start, span.end)}”",
        change=Change(spans=[span]),
        select=span.pk,
        editor=span,
    )


@require_POST
@writes_own_set
@login_required
def annotate_span_delete(request, slug, document_id, span_id):
    project, document, aset = _own_set(request, slug, document_id)
    span = _own_span(project, aset, span_id)
    span.annotation_set = aset
    page = _page_url(project, document)
    where, span_id = (span.start, span.end), span.pk
    _, answer = _write(
        request, page,
        lambda: svc.span_delete(
            span=span, expected_version=_expected_version(request), user=request.user
        ),
    )
    if answer:
        return answer
    return _saved(
        request, project, document, aset,
        message=f"Deleted: {span.label.name} “{_excerpt(document.text, *where)}” "
        "and its relations (u undoes)",
        change=Change(removed_spans=[span_id]),
        removed=span_id,
    )


@require_POST
@writes_own_set
@login_required
def annotate_relation_create(request, slug, document_id):
    project, document, aset = _own_set(request, slug, document_id)
    page = _page_url(project, document)
    ids = [int_or_none(request.POST.get("source")), int_or_none(request.POST.get("target"))]
    spans = Span.objects.filter(annotation_set=aset, pk__in=[i for i in ids if i is not None])
    by_id = {span.pk: span for span in spans.select_related("label")}
    source, target = by_id.get(ids[0]), by_id.get(ids[1])
    type_id = int_or_none(request.POST.get("type"))
    rtype = next((t for t in _schema(project).types if t.pk == type_id), None)

    def call():
        if source is None or target is None:
            raise WarrantError("pick a source span and a target span of this set")
        if rtype is None:
            raise WarrantError("choose a relation type of this project")
        return svc.relation_create(
            annotation_set=aset, source=source, target=target, type=rtype,
            expected_version=_expected_version(request), user=request.user,
        )

    relation, answer = _write(request, page, call)
    if answer:
        return answer
    return _saved(
        request, project, document, aset,
        message=f"Linked: {source.label.name} —{rtype.name}→ {target.label.name}",
        change=Change(relations=[relation]),
        select=source.pk,
        editor=source,  # its editor lists the new relation: no second request for it
    )


@require_POST
@writes_own_set
@login_required
def annotate_relation_delete(request, slug, document_id, relation_id):
    project, document, aset = _own_set(request, slug, document_id)
    relation = get_object_or_404(Relation, pk=relation_id, annotation_set=aset)
    relation.annotation_set = aset
    page = _page_url(project, document)
    _, answer = _write(
        request, page,
        lambda: svc.relation_delete(
            relation=relation, expected_version=_expected_version(request), user=request.user
        ),
    )
    if answer:
        return answer
    return _saved(request, project, document, aset, message="Relation deleted (u undoes)",
                  change=Change(removed_relations=[relation_id]))


@require_POST
@writes_own_set
@login_required
def annotate_relation_update(request, slug, document_id, relation_id):
    """Give a relation another type (the relation list's type menu)."""
    project, document, aset = _own_set(request, slug, document_id)
    relation = get_object_or_404(Relation.objects.select_related("source__label",
                                                                 "target__label"),
                                 pk=relation_id, annotation_set=aset)
    relation.annotation_set = aset
    page = _page_url(project, document)
    rtype = project.relation_types.filter(pk=int_or_none(request.POST.get("type"))).first()

    def call():
        if rtype is None:
            raise WarrantError("choose a relation type of this project")
        return svc.relation_update(relation=relation, type=rtype,
                                   expected_version=_expected_version(request),
                                   user=request.user)

    _, answer = _write(request, page, call)
    if answer:
        return answer
    return _saved(
        request, project, document, aset,
        message=f"Saved: {relation.source.label.name} —{rtype.name}→ "
        f"{relation.target.label.name} (u undoes)",
        change=Change(relations=[relation]),
    )


def _replay(request, slug, document_id, service):
    project, document, aset = _own_set(request, slug, document_id)
    page = _page_url(project, document)
    done, answer = _write(
        request, page,
        lambda: service(
            annotation_set=aset, expected_version=_expected_version(request), user=request.user
        ),
    )
    if answer:
        return answer
    change = Change(spans=list(done.spans), relations=list(done.relations),
                    removed_spans=list(done.removed_spans),
                    removed_relations=list(done.removed_relations))
    return _saved(request, project, document, aset, message=done.message, change=change)


@require_POST
@writes_own_set
@login_required
def annotate_undo(request, slug, document_id):
    return _replay(request, slug, document_id, svc.annotation_set_undo)


@require_POST
@writes_own_set
@login_required
def annotate_redo(request, slug, document_id):
    return _replay(request, slug, document_id, svc.annotation_set_redo)


def _status_change(request, slug, document_id, service):
    project, document, aset = _own_set(request, slug, document_id)
    page = _page_url(project, document)
    _, answer = _write(
        request, page,
        lambda: service(
            annotation_set=aset, expected_version=_expected_version(request), user=request.user
        ),
    )
    if answer:
        return answer
    return HttpResponseClientRedirect(page)


@require_POST
@writes_own_set
@login_required
def annotate_submit(request, slug, document_id):
    return _status_change(request, slug, document_id, svc.annotation_set_submit)


@require_POST
@writes_own_set
@login_required
def annotate_reopen(request, slug, document_id):
    return _status_change(request, slug, document_id, svc.annotation_set_reopen)
