"""The agreement pages: a project's figures, a run's progress, one document side by side.

Views parse, check the permission matrix (``agreement.view`` to read,
``agreement.run`` to start a run), call a selector or a service and render.
What is left here is presentation: formatting numbers, the heatmap's colours.
"""

from __future__ import annotations

import json
import re

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, reswap, retarget

from annotator.metrics.types import UNITS
from annotator.models import AgreementRun, JobStatus
from annotator.selectors.agreement import (
    ACTIVE_STATUSES,
    REPORT_FIGURES,
    RankedDocuments,
    agreement_data_version,
    agreement_document_comparison,
    agreement_ranked_figures,
    agreement_run_latest,
    agreement_submitted_annotators,
)
from annotator.selectors.agreement_report import AgreementReportGone, agreement_report_chunks
from annotator.selectors.annotations import readable_annotators
from annotator.selectors.assignments import sees_every_assignment
from annotator.selectors.permissions import has_permission
from annotator.services.agreement import agreement_run_finished, agreement_run_request
from annotator.services.agreement_reports import agreement_report_ready
from annotator.services.backup import warrant_version
from annotator.services.errors import WarrantError
from annotator.templatetags.warrant_figures import UNDEFINED, figure

from . import paging
from .access import project_for
from .projects import annotate_url
from .text_render import passage_blocks

TEMPLATE = "annotator/agreement.html"
DOCUMENT_TEMPLATE = "annotator/agreement_document.html"
#: Rows of the "documents by disagreement" table per page.
#: A subset is typed by hand: a longer list is a mistake, not a subset.
SUBSET_MAX_DOCUMENTS = 10_000

_UNIT_NAMES = {"token": "Tokens (runs of non-whitespace)", "char": "Characters"}
UNIT_CHOICES = [(unit, _UNIT_NAMES.get(unit, unit)) for unit in UNITS]

#: Pairwise figures shown as heatmaps: (title, path to the figure holding ``pairs``).
PAIRWISE_FIGURES = [
    ("Cohen's kappa", ("cohen_kappa",)),
    ("Span F1, exact", ("span_f1", "exact")),
    ("Span F1, overlap", ("span_f1", "overlap")),
    ("Relation F1", ("relation_f1",)),
]


#: Up to this many annotators are ticked in a list; more are typed by name (300
#: checkboxes took 170 ms to render and grew the page with the class, issue 12).
ANNOTATOR_CHECKBOXES_MAX = 30


class _NamesInput(forms.Textarea):
    """Usernames typed in one box, separated by commas, spaces or new lines; reads
    ticked checkboxes' values too, so a form posted either way means the same."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else data.get(name) or []
        if isinstance(values, str):
            values = [values]
        return [n for value in values for n in re.split(r"[\s,]+", value) if n]

    def format_value(self, value):
        return ", ".join(value) if isinstance(value, list | tuple) else value


class AgreementRunForm(forms.Form):
    unit = forms.ChoiceField(choices=UNIT_CHOICES, initial="token")
    documents = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="External ids, separated by commas, spaces or new lines. "
        "Leave empty for every document.",
    )
    annotators = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick none for every annotator who submitted.",
    )

    def __init__(self, *args, annotators: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["annotators"]
        field.choices = [(name, name) for name in annotators]
        if len(annotators) > ANNOTATOR_CHECKBOXES_MAX:
            field.widget = _NamesInput(attrs={"rows": 2, "aria-label": "Annotators"})
            field.help_text = "Usernames, separated by commas, spaces or new lines. " \
                "Leave empty for every annotator who submitted."

    def clean_documents(self) -> list[str] | None:
        ids = [d for d in re.split(r"[\s,]+", self.cleaned_data["documents"]) if d]
        if len(ids) > SUBSET_MAX_DOCUMENTS:
            raise forms.ValidationError(f"at most {SUBSET_MAX_DOCUMENTS} documents")
        return ids or None

    def clean_annotators(self) -> list[str] | None:
        return self.cleaned_data["annotators"] or None


# --- Presentation helpers -----------------------------------------------------------


def _figure(report_part: dict, path: tuple[str, ...]) -> dict:
    node = report_part
    for key in path:
        node = node[key]
    return node


def _fmt(value) -> str:
    return figure(value)


def _heat_style(value) -> str:
    """Background scaled by value: blue for agreement (up to 1), red below 0."""
    if value is None:
        return ""
    v = max(-1.0, min(1.0, float(value)))
    strength = abs(v)
    base = (29, 78, 216) if v >= 0 else (185, 28, 28)  # --accent and --danger
    rgb = [round(255 + (c - 255) * strength) for c in base]
    text = "#ffffff" if strength > 0.55 else "#111827"
    # --heat and --s: the dark theme mixes the same hue into its own background (warrant.css).
    return (
        f"background-color: rgb({rgb[0]}, {rgb[1]}, {rgb[2]}); color: {text};"
        f" --heat: rgb({base[0]}, {base[1]}, {base[2]}); --s: {strength:.3f};"
    )


def _summary_rows(report: dict, intervals: dict | None) -> list[dict]:
    bounds = (intervals or {}).get("intervals", {})
    rows = []
    for label, path, key in REPORT_FIGURES:
        value = _figure(report["overall"], path)["value"]
        ci = bounds.get(key) if key else None
        if ci and ci.get("low") is not None:
            interval = f"[{ci['low']:.3f}, {ci['high']:.3f}]"
        else:  # no interval: undefined in every resample, or none asked for
            interval = UNDEFINED
        rows.append({"label": label, "value": _fmt(value), "interval": interval})
    return rows


def _label_rows(report: dict) -> tuple[list[dict], list[dict]]:
    overall = report["overall"]
    alpha = overall["krippendorff_alpha"].get("per_label", {})
    unitizing = overall["unitizing_alpha"].get("per_label", {})
    exact = overall["span_f1"]["exact"].get("per_label", {})
    labels = sorted(set(alpha) | set(unitizing) | set(exact))
    label_rows = [
        {
            "label": name,
            "alpha": _fmt(alpha.get(name)),
            "unitizing": _fmt(unitizing.get(name)),
            "span_f1": _fmt(exact.get(name)),
        }
        for name in labels
    ]
    per_type = overall["relation_f1"].get("per_type", {})
    type_rows = [{"type": name, "f1": _fmt(value)} for name, value in sorted(per_type.items())]
    return label_rows, type_rows


#: Annotators per side of a heatmap: 300 annotators drew four tables of 90,000
#: cells (4.8 MB of HTML, issue 12); more are seen a block of 20 x 20 at a time.
HEATMAP_MAX_ANNOTATORS = 20


def _heatmaps(request, report: dict) -> tuple[list[dict], dict | None]:
    """The pairwise heatmaps, and for more than HEATMAP_MAX_ANNOTATORS annotators
    the block shown (rows ``pair_rows``, columns ``pair_cols``) with its pagers."""
    names = report.get("annotators") or []
    rows_of, cols_of, block = names, names, None
    if len(names) > HEATMAP_MAX_ANNOTATORS:
        row_page = paging.page_of(request, names, param="pair_rows",
                                  per_page=HEATMAP_MAX_ANNOTATORS)
        col_page = paging.page_of(request, names, param="pair_cols",
                                  per_page=HEATMAP_MAX_ANNOTATORS)
        rows_of, cols_of = list(row_page.object_list), list(col_page.object_list)
        kept = {k: request.GET.get(k) for k in ("page", "pair_rows", "pair_cols")}
        block = {"rows": row_page, "cols": col_page, "total": len(names),
                 "keep_rows": paging.keep_params(**{**kept, "pair_rows": None}),
                 "keep_cols": paging.keep_params(**{**kept, "pair_cols": None})}
    maps = []
    for title, path in PAIRWISE_FIGURES:
        pairs = _figure(report["overall"], path).get("pairs") or {}
        rows = []
        for a in rows_of:
            cells = []
            for b in cols_of:
                if a == b:
                    cells.append({"text": "—", "style": "", "diagonal": True})
                    continue
                value = pairs.get(f"{a}|{b}", pairs.get(f"{b}|{a}"))
                key_present = f"{a}|{b}" in pairs or f"{b}|{a}" in pairs
                cells.append(
                    {
                        "text": _fmt(value) if key_present else "—",
                        "style": _heat_style(value),
                        "diagonal": False,
                    }
                )
            rows.append({"annotator": a, "cells": cells})
        maps.append({"title": title, "annotators": cols_of, "rows": rows})
    return maps, block


def _document_rows(request, run, report: dict) -> tuple[list[dict], object]:
    page = paging.page_of(request, RankedDocuments(run, report.get("documents") or 0,
                                                      figures=False))
    rows = [
        {
            "rank": row.rank,
            "external_id": row.external_id,
            "pk": row.document_id,
            "title": (row.document.title if row.document else "") or row.external_id,
            "disagreement": _fmt(row.disagreement),
            "alpha": _fmt(row.alpha),
            "span_f1": _fmt(row.span_f1),
            "relation_f1": _fmt(row.relation_f1),
        }
        for row in page.object_list
    ]
    return rows, page


def _suggestion_rows(report: dict) -> list[dict]:
    """The split by spans from accepted suggestions and by hand (issue 16), if the run has it."""
    split = report.get("suggestions")
    if not split:
        return []
    words = {"suggested": "From accepted suggestions", "hand": "Drawn by hand"}
    return [{"group": words[group], "spans": split[group]["spans"],
             "pair_f1": _fmt(split[group]["pair_f1_exact"]),
             "gold": _fmt(split[group]["gold_precision_exact"])} for group in words]


def _run_context(request, project) -> dict:
    """What the #agreement-run region shows: progress, the last error, the report."""
    latest = agreement_run_latest(project=project)
    active = latest if latest and latest.status in ACTIVE_STATUSES else None
    failed = latest if latest and latest.status == JobStatus.FAILED else None
    done = agreement_run_finished(project=project)
    context = {"project": project, "active": active, "failed": failed, "done": done}
    if done is not None:
        report = done.report_summary
        label_rows, type_rows = _label_rows(report)
        document_rows, page = _document_rows(request, done, report)
        heatmaps, heatmap_block = _heatmaps(request, report)
        names = report.get("annotators") or []
        params = done.parameters or {}
        context.update(
            report=report,
            summary_rows=_summary_rows(report, done.intervals),
            label_rows=label_rows,
            type_rows=type_rows,
            suggestion_rows=_suggestion_rows(report),
            heatmaps=heatmaps,
            heatmap_block=heatmap_block,
            annotator_names=names[:HEATMAP_MAX_ANNOTATORS],
            more_annotators=max(0, len(names) - HEATMAP_MAX_ANNOTATORS),
            document_rows=document_rows,
            page=page,
            confidence=round(100 * (done.intervals or {}).get("confidence", 0.95)),
            n_resamples=(done.intervals or {}).get("n_resamples"),
            subset=bool(params.get("documents") or params.get("annotators")),
            changed_since=agreement_data_version(
                project=project,
                documents=params.get("documents"),
                annotators=params.get("annotators"),
            )
            != done.data_version,
        )
    return context


def _page(request, project, form, *, status: int = 200) -> HttpResponse:
    context = _run_context(request, project)
    context.update(form=form, can_run=form is not None)
    return render(request, TEMPLATE, context, status=status)


def _run_form(project, data=None) -> AgreementRunForm:
    return AgreementRunForm(data, annotators=agreement_submitted_annotators(project=project))


# --- Views --------------------------------------------------------------------------


@require_GET
@login_required
def agreement_page(request, slug):
    project = project_for(request.user, slug, "agreement.view")
    can_run = has_permission(request.user, project, "agreement.run")
    return _page(request, project, _run_form(project) if can_run else None)


@require_POST
@login_required
def agreement_run_create(request, slug):
    project = project_for(request.user, slug, "agreement.run")
    form = _run_form(project, request.POST)
    if form.is_valid():
        try:
            agreement_run_request(
                project=project,
                requested_by=request.user,
                unit=form.cleaned_data["unit"],
                documents=form.cleaned_data["documents"],
                annotators=form.cleaned_data["annotators"],
            )
        except WarrantError as exc:
            form.add_error(None, str(exc))
    if not form.is_valid():
        if request.htmx:  # htmx swaps 2xx only: the form comes back in place, with its errors
            return render(request, f"{TEMPLATE}#agreement-form", {"project": project, "form": form})
        return _page(request, project, form, status=400)
    if request.htmx:  # the form stays as it was; the run's region shows the new run
        context = _run_context(request, project)
        html = render_to_string(f"{TEMPLATE}#agreement-run", context, request)
        return reswap(retarget(HttpResponse(html), "#agreement-run"), "outerHTML")
    return redirect("agreement", slug=project.slug)


@require_GET
@login_required
def agreement_run_status(request, slug, run_id):
    """The polled progress of a run; once it has finished, the whole report (HTTP 286)."""
    project = project_for(request.user, slug, "agreement.view")
    run = get_object_or_404(
        AgreementRun.objects.defer("report", "intervals"), pk=run_id, project=project
    )
    if run.status in ACTIVE_STATUSES:
        return render(request, f"{TEMPLATE}#agreement-status", {"project": project, "active": run})
    html = render_to_string(f"{TEMPLATE}#agreement-run", _run_context(request, project), request)
    response = HttpResponseStopPolling(html)
    return reswap(retarget(response, "#agreement-run"), "outerHTML")


@require_GET
@login_required
def agreement_report_download(request, slug, run_id):
    """The run's report JSON, exactly as the API and ``manage.py agreement --json`` give it."""
    project = project_for(request.user, slug, "agreement.view")
    run = get_object_or_404(AgreementRun.objects.defer("report", "plan"), pk=run_id,
                            project=project, status=JobStatus.DONE)
    run = agreement_report_ready(run=run)
    try:  # written as it is read: json.dumps(document, indent=2, ensure_ascii=False)
        chunks = agreement_report_chunks(run, version=warrant_version(),
                                         encoder=json.JSONEncoder(indent=2, ensure_ascii=False))
    except AgreementReportGone as exc:
        raise Http404(str(exc)) from None
    response = StreamingHttpResponse(chunks, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{project.slug}-agreement-{run.pk}.json"'
    )
    return response


@require_GET
@login_required
def agreement_document(request, slug, document_id):
    """One document's annotators side by side, with the stretches where they disagree."""
    from annotator.metrics.report import document_disagreement

    project = project_for(request.user, slug, "agreement.view")
    document = get_object_or_404(project.documents.defer("original"), pk=document_id)
    done = agreement_run_finished(project=project)
    figures = agreement_ranked_figures(run=done, document=document) if done else None
    comparison = agreement_document_comparison(
        project=project,
        document=document,
        annotators=readable_annotators(
            user=request.user, project=project, document=document,
            among=(done.parameters or {}).get("annotators") if done else None,
        ),
    )
    # The stretches of disagreement a page at a time; on a long brief the columns
    # show the passage that page covers, not the whole text once per annotator.
    stretch_page = paging.page_of(request, comparison.disagreements, param="stretches")
    lo, hi, only = passage_blocks(document.text, [(g.start, g.end) for g in stretch_page])
    segments = comparison.segments if only is None else [
        seg for seg in comparison.segments if seg.start < hi and seg.end > lo
    ]
    columns = [
        {
            "annotator": name,
            "pieces": [
                {
                    "text": seg.text,
                    "labels": seg.labels[name],
                    "disagree": seg.disagree,
                    "colour": comparison.colours.get(seg.labels[name][0], "#64748b")
                    if seg.labels[name]
                    else None,
                }
                for seg in segments
            ],
        }
        for name in comparison.annotators
    ]
    disagreements = [
        {
            "start": seg.start,
            "end": seg.end,
            "text": seg.text,
            "labels": [(name, "+".join(seg.labels[name]) or "O") for name in comparison.annotators],
        }
        for seg in stretch_page
    ]
    figure_rows = []
    if figures:
        figure_rows = [
            {"label": label, "value": _fmt(_figure(figures, path)["value"])}
            for label, path, _ in REPORT_FIGURES
        ]
    context = {
        "project": project,
        "document": document,
        "done": done,
        "figure_rows": figure_rows,
        "disagreement": _fmt(document_disagreement(figures)) if figures else None,
        "columns": columns,
        "disagreements": disagreements,
        "stretch_page": stretch_page,
        "passage": None if only is None else (lo, hi, len(document.text)),
        "annotate_url": annotate_url(project, document),
        "blind_to_you": not sees_every_assignment(request.user, project),
    }
    return render(request, DOCUMENT_TEMPLATE, context)
