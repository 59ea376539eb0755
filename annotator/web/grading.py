"""Grades (the instructor's table, CSV, release toggle) and a student's feedback pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from annotator.models import AnnotationSet
from annotator.selectors.annotations import SpanRow
from annotator.selectors.grading import (
    feedback_document,
    feedback_student,
    final_gold_sets,
    grades_csv,
    grades_for_project,
    reopenings_of,
    student_memberships,
)
from annotator.selectors.permissions import has_permission
from annotator.services.errors import WarrantError
from annotator.services.grading import annotation_set_reopen_for_student, grades_release
from annotator.text.quote import quote

from .access import project_for
from .downloads import csv_download
from .paging import keep_params, page_of
from .text_render import passage_blocks, render_blocks

# How each class of span is drawn and named in the feedback text. The class is
# also written out in the span's tag and the table, so colour is never the only cue.
OUTCOME_STYLE = {
    "exact": ("#047857", "✓", "Right: same words, same label as the gold"),
    "boundary_off": ("#b45309", "≈", "Boundary off: the right unit, other edges"),
    "extra": ("#b91c1c", "+", "Extra: not in the gold"),
    "missed": ("#6d28d9", "−", "Missed: in the gold, not marked"),  # noqa: RUF001 (a minus)
}
OUTCOME_NAMES = {
    "exact": "Right", "boundary_off": "Boundary off", "extra": "Extra", "missed": "Missed",
}
_OUTCOME_ORDER = list(OUTCOME_STYLE)
# Synthetic "label" ids for the text renderer: outcome k of label L is k * _STRIDE + L.
_STRIDE = 1_000_000


@require_GET
@login_required
def grades_page(request, slug):
    project = project_for(request.user, slug, "grade.view")
    page = page_of(request, student_memberships(project))
    people = [m.user for m in page]
    rows = grades_for_project(project=project, people=people)
    reopened = reopenings_of(project=project, people=people)
    return render(
        request,
        "annotator/grades.html",
        {
            "project": project,
            "rows": [(row, reopened.get(person.pk, ())) for row, person
                     in zip(rows, people, strict=True)],
            "page": page,
            "final_documents": len(final_gold_sets(project)),
            "documents": project.documents.count(),
        },
    )


@require_GET
@login_required
def grades_download(request, slug):
    project = project_for(request.user, slug, "grade.view")
    return csv_download(grades_csv(project=project), f"{project.slug}-grades.csv")


@require_POST
@login_required
def grades_release_toggle(request, slug):
    project = project_for(request.user, slug, "grade.release")
    released = request.POST.get("released") == "1"
    grades_release(project=project, released=released)
    if released:
        messages.success(request, "Grades released: each student now sees their feedback.")
    else:
        messages.success(request, "Grades hidden from the students again.")
    return redirect("grades", slug=project.slug)


@require_POST
@login_required
def grades_reopen(request, slug, document_id):
    """A manager reopens a student's submitted set (from the student's feedback page)."""
    project = project_for(request.user, slug, "annotation_set.reopen_any")
    document = get_object_or_404(project.documents.defer("original", "cleaning"), pk=document_id)
    username = request.POST.get("student", "")
    aset = get_object_or_404(
        AnnotationSet.objects.filter(is_gold=False).select_related("annotator", "document"),
        document=document, annotator__username=username,
    )
    try:
        annotation_set_reopen_for_student(annotation_set=aset, by=request.user)
    except WarrantError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Reopened {document.title or document.external_id} for {username}: they can change "
            "it and submit it again. The grades page lists this reopening.",
        )
    return redirect(f"{reverse('feedback', kwargs={'slug': project.slug})}?"
                    f"{urlencode({'student': username})}")


@require_GET
@login_required
def feedback_page(request, slug):
    """A student's grade and documents; for a manager, any student's (``?student=``)."""
    project = project_for(request.user, slug, "feedback.view")
    manager = has_permission(request.user, project, "grade.view")
    student = None
    row = None
    if manager or project.grades_released:
        student = feedback_student(
            user=request.user, project=project, username=request.GET.get("student")
        )
    if student is not None:
        row = grades_for_project(project=project, only=student)[0]
    return render(
        request,
        "annotator/feedback.html",
        {
            "project": project,
            "student": student,
            "row": row,
            "documents": page_of(request, row.documents if row else []),
            "keep": keep_params(student=request.GET.get("student") if manager else None),
            "manager": manager,
            "can_reopen": has_permission(request.user, project, "annotation_set.reopen_any"),
        },
    )


def _feedback_text(
    text: str, spans, label_ids: dict[str, int], only: list[int] | None = None
) -> tuple[str, dict[int, str]]:
    rows = []
    names: dict[int, str] = {}
    for span, outcome in spans:
        synthetic = _OUTCOME_ORDER.index(outcome) * _STRIDE + label_ids[span.label]
        names[synthetic] = f"{span.label} {OUTCOME_STYLE[outcome][1]}"
        rows.append(SpanRow(int(span.id), synthetic, span.start, span.end))
    # Built with html.escape by render_blocks, segment by segment.
    return render_blocks(text, rows, names, only=only), names


@require_GET
@login_required
def feedback_document_page(request, slug, document_id):
    project = project_for(request.user, slug, "feedback.view")
    student = feedback_student(
        user=request.user, project=project, username=request.GET.get("student")
    )
    if student is None:  # a manager who named nobody
        return redirect("feedback", slug=project.slug)
    document = get_object_or_404(project.documents.defer("original", "cleaning"), pk=document_id)
    fb = feedback_document(project=project, student=student, document=document,
                           reader=request.user)
    labels = {lab.name: lab for lab in project.span_labels.all()}
    # A page of spans at a time, and on a long brief the passage they cover.
    span_page = page_of(request, fb.spans, param="spans")
    relation_page = page_of(request, fb.relations, param="relations")
    lo, hi, only = passage_blocks(document.text, [(s.start, s.end) for s, _ in span_page])
    shown = fb.spans if only is None else [
        (s, o) for s, o in fb.spans if s.start < hi and s.end > lo
    ]
    html, names = _feedback_text(document.text, shown, {n: lab.pk for n, lab in labels.items()},
                                 only=only)
    colours = {
        synthetic: OUTCOME_STYLE[_OUTCOME_ORDER[synthetic // _STRIDE]][0] for synthetic in names
    }
    span_rows = [
        {
            "label": labels[span.label],
            "outcome": outcome,
            "mark": OUTCOME_STYLE[outcome][1],
            "name": OUTCOME_NAMES[outcome],
            "start": span.start,
            "end": span.end,
            "text": " ".join(document.text[span.start : span.end].split()),
            "gold_text": (
                " ".join(document.text[fb.gold_for[span.id].start : fb.gold_for[span.id].end]
                         .split())
                if span.id in fb.gold_for and outcome == "boundary_off"
                else ""
            ),
        }
        for span, outcome in span_page
    ]
    relation_rows = [
        {
            "outcome": r.outcome,
            "type": r.type,
            "source": {"label": labels[r.source.label], "text": quote(document.text, r.source.start,
                                                                       r.source.end)},
            "target": {"label": labels[r.target.label], "text": quote(document.text, r.target.start,
                                                                       r.target.end)},
        }
        for r in relation_page
    ]
    keep = {"student": request.GET.get("student")}
    return render(
        request,
        "annotator/feedback_document.html",
        {
            "project": project,
            "document": document,
            "student": student,
            "own": student == request.user,
            "fb": fb,
            "text_html": mark_safe(html),
            "colours": colours,
            "legend": [
                {"outcome": k, "colour": c, "mark": m, "meaning": meaning,
                 "count": getattr(fb.score, k)}
                for k, (c, m, meaning) in OUTCOME_STYLE.items()
            ],
            "span_rows": span_rows,
            "span_page": span_page,
            "relation_page": relation_page,
            "relation_rows": relation_rows,
            "span_keep": keep_params(relations=request.GET.get("relations"), **keep),
            "relation_keep": keep_params(spans=request.GET.get("spans"), **keep),
            "passage": None if only is None else (lo, hi, len(document.text)),
            "labels": list(labels.values()),
        },
    )
