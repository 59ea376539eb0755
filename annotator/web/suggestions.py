"""Suggestions: the project's Suggestions page (settings and models) and the
annotation page's endpoints for ghost spans (read, accept, dismiss).

The annotation page loads its suggestions after it has drawn, from
:func:`annotate_suggestions` (JSON), so that a slow recommender never delays the
page; suggestions.js draws them as ghosts. Accepting answers like any save of
the page (web/annotate.py ``_saved``): the panels, the new version and the
``warrant:saved`` event the page redraws from, and ``u`` undoes it.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from annotator.models import JobStatus, Membership, Role, SuggestionAudience
from annotator.selectors import annotations as sel
from annotator.selectors.suggestions import (
    latest_model,
    set_suggestions,
    shows_suggestions,
    suggestion_models,
    suggestion_settings,
)
from annotator.services import suggestions as svc
from annotator.services.errors import WarrantError
from annotator.suggest.types import RECOMMENDERS

from .access import int_or_none, project_document, project_for
from .annotate import Change, _excerpt, _expected_version, _own_set, _page_url, _saved, _write

#: The Suggestions page lists this many training jobs (the newest).
MODEL_ROWS = 10
#: One accept request names at most this many suggestions (the service's own limit
#: on one edit is lower; this bounds the parsing).
MAX_KEYS = 2000

RECOMMENDER_WORDS = {
    "cues": "Structure cues: numbered and ordinal reasons, the recommendation, cited and "
            "quoted evidence (no training)",
    "model": "Learned from this project: a CRF for spans and a classifier for relations, "
             "trained on submitted work and final golds",
    "external": "External: a model served elsewhere (warrant-suggest/1 over HTTP)",
}


# --------------------------------------------------------------------------- the page


def _model_row(model) -> dict:
    active = model.status in (JobStatus.PENDING, JobStatus.RUNNING)
    heldout = model.heldout or {}
    return {"model": model, "active": active, "percent": round(100 * model.progress),
            "exact_f1": (heldout.get("exact") or {}).get("f1"),
            "overlap_f1": (heldout.get("overlap") or {}).get("f1"),
            "relations_f1": (heldout.get("relations") or {}).get("f1"),
            "heldout_documents": heldout.get("documents")}


def _page_context(project, row, error: str = "") -> dict:
    annotators = list(Membership.objects.filter(project=project, role=Role.ANNOTATOR)
                      .select_related("user").order_by("user__username")
                      .values_list("user__username", flat=True)[:500])
    chosen = set(row.chosen.values_list("username", flat=True)) if row.pk else set()
    models = [_model_row(m) for m in suggestion_models(project)
              .select_related("requested_by")[:MODEL_ROWS]]
    return {
        "project": project, "row": row, "error": error,
        "recommenders": [{"name": n, "words": RECOMMENDER_WORDS[n],
                          "checked": n in (row.recommenders or [])} for n in RECOMMENDERS],
        "annotators": [{"name": n, "checked": n in chosen} for n in annotators],
        "chosen_count": len(chosen),
        "models": models,
        "latest": latest_model(project),
        "external_allowed": bool(settings.WARRANT_SUGGEST_EXTERNAL_URLS),
    }


def _float(value, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


@require_http_methods(["GET", "POST"])
@login_required
def suggestion_settings_page(request, slug):
    """Managers turn suggestions on, choose recommenders and who sees them, train models."""
    project = project_for(request.user, slug, "project.manage")
    row = suggestion_settings(project)
    if request.method == "POST":
        post = request.POST
        audience = post.get("audience", SuggestionAudience.ALL)
        chosen = post.getlist("chosen")
        if post.get("half"):
            audience = SuggestionAudience.CHOSEN
            chosen = svc.suggestion_audience_half(project=project)
        try:
            svc.suggestion_settings_update(
                project=project,
                enabled=post.get("enabled") == "on",
                recommenders=post.getlist("recommenders"),
                audience=audience,
                chosen=chosen,
                retrain_after=int_or_none(post.get("retrain_after")),
                min_confidence=_float(post.get("min_confidence"), -1),
                accept_threshold=_float(post.get("accept_threshold"), -1),
                external_url=post.get("external_url", ""),
                external_timeout=_float(post.get("external_timeout"), -1),
            )
        except WarrantError as exc:
            row = suggestion_settings(project)
            return render(request, "annotator/suggestions.html",
                          _page_context(project, row, str(exc)), status=400)
        messages.success(request, "Suggestion settings saved." + (
            f" {len(chosen)} annotator(s) chosen at random see suggestions."
            if post.get("half") else ""))
        return redirect("suggestion-settings", slug=project.slug)
    return render(request, "annotator/suggestions.html", _page_context(project, row))


@require_POST
@login_required
def suggestion_model_create(request, slug):
    """Train the project's model now (a job on the worker)."""
    project = project_for(request.user, slug, "project.manage")
    model = svc.suggestion_model_request(project=project, requested_by=request.user)
    messages.success(request, f"Training job #{model.pk} is queued.")
    return redirect("suggestion-settings", slug=project.slug)


@require_GET
@login_required
def suggestion_model_status(request, slug, model_id):
    """One training job's table row, polled while it runs."""
    project = project_for(request.user, slug, "project.manage")
    model = suggestion_models(project).filter(pk=model_id).select_related(
        "requested_by").first()
    if model is None:
        raise Http404("No such training job.")
    row = _model_row(model)
    response = render(request, "annotator/suggestions.html#model-row",
                      {"project": project, "m": row})
    if not row["active"]:
        response.status_code = HttpResponseStopPolling.status_code
    return response


# --------------------------------------------------------------------------- annotation page


def _own_readable(request, slug, document_id):
    """The user's own set of the document (suggestions are shown in one's own set only)."""
    project = project_for(request.user, slug, "document.view")
    document = project_document(project, document_id)
    access = sel.annotation_set_access(user=request.user, project=project, document=document)
    if access is None or not access.own:
        raise Http404("You have no annotation set for this brief.")
    aset = access.annotation_set
    aset.document = document
    document.project = project
    return project, document, aset, access.editable


@require_GET
@login_required
def annotate_suggestions(request, slug, document_id):
    """The set's suggestions as JSON for suggestions.js.

    Suggestions that repeat a drawn span are kept (``drawn: true``), so that the
    page can show one again when an undo takes its span away.
    """
    project, _document, aset, editable = _own_readable(request, slug, document_id)
    shown = set_suggestions(annotation_set=aset, user=request.user, hide_drawn=False)
    labels = dict(project.span_labels.values_list("name", "id"))
    types = dict(project.relation_types.values_list("name", "id"))

    def end(e):
        return [labels.get(e.label), e.start, e.end]

    return JsonResponse({
        "shown": shown.shown and editable,
        "reason": shown.reason if shown.shown is False else (
            "" if editable else "This set is read-only: suggestions show while you annotate."),
        "threshold": shown.accept_threshold,
        "errors": shown.errors,
        "notes": shown.notes,
        "spans": [{"key": s.key, "label": labels.get(s.label), "start": s.start, "end": s.end,
                   "confidence": round(s.confidence, 3), "recommender": s.recommender,
                   "cue": s.cue} for s in shown.spans] if editable else [],
        "relations": [{"key": r.key, "type": types.get(r.type), "source": end(r.source),
                       "target": end(r.target), "confidence": round(r.confidence, 3),
                       "recommender": r.recommender, "cue": r.cue}
                      for r in shown.relations] if editable else [],
        "version": aset.version,
    })


def _keys(request) -> list[str]:
    try:
        keys = json.loads(request.POST.get("keys") or "[]")
    except ValueError:
        raise WarrantError("the suggestions were not sent as a list of keys") from None
    if (not isinstance(keys, list) or len(keys) > MAX_KEYS
            or not all(isinstance(k, str) for k in keys)):
        raise WarrantError("the suggestions were not sent as a list of keys")
    return keys


@require_POST
@login_required
def annotate_suggestions_accept(request, slug, document_id):
    """Accept the suggestions ``keys`` (or, with ``all=1``, every one above the project's
    threshold) as one edit, through the span service; ``u`` undoes it."""
    project, document, aset = _own_set(request, slug, document_id)
    page = _page_url(project, document)

    def call():
        if request.POST.get("all") == "1":
            return svc.suggestions_accept_all(annotation_set=aset, user=request.user,
                                              expected_version=_expected_version(request))
        return svc.suggestions_accept(annotation_set=aset, keys=_keys(request),
                                      user=request.user,
                                      expected_version=_expected_version(request))

    accepted, answer = _write(request, page, call)
    if answer:
        return answer
    message = accepted.message
    if len(accepted.spans) == 1 and not accepted.relations:
        s = accepted.spans[0]
        message = f"Accepted: {s.label.name} “{_excerpt(document.text, s.start, s.end)}” (u undoes)"
    elif accepted.spans or len(accepted.relations) > 1:
        message += " (u undoes them all)"
    return _saved(request, project, document, aset, message=message,
                  change=Change(spans=list(accepted.spans), relations=list(accepted.relations)),
                  select=accepted.spans[0].pk if len(accepted.spans) == 1 else None)


@require_POST
@login_required
def annotate_suggestions_dismiss(request, slug, document_id):
    """Dismiss suggestions in the user's own set: they do not come back there."""
    project, document, aset = _own_set(request, slug, document_id)
    try:
        count = svc.suggestions_dismiss(annotation_set=aset, keys=_keys(request),
                                        user=request.user)
    except WarrantError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    if not request.htmx and "application/json" not in request.headers.get("Accept", ""):
        return redirect(_page_url(project, document))
    return JsonResponse({"dismissed": count})


def page_suggestion_data(project, document, aset, editable: bool) -> dict | None:
    """The annotation page's suggestion settings (two small queries), or None when the
    set shows none: the page then loads no suggestion script at all."""
    if not editable:
        return None
    row = suggestion_settings(project)
    if shows_suggestions(row, aset):
        return None
    kwargs = {"slug": project.slug, "document_id": document.pk}
    urls = {name: reverse(f"annotate-suggestions{suffix}", kwargs=kwargs)
            for name, suffix in (("list", ""), ("accept", "-accept"), ("dismiss", "-dismiss"))}
    return {"urls": urls, "threshold": row.accept_threshold}
