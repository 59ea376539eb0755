"""The import page: upload briefs (and their annotations) into a project."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseStopPolling

from annotator.formats.records import FormatError
from annotator.models import ImportJob, JobStatus
from annotator.selectors.projects import project_has_annotator
from annotator.services.errors import WarrantError
from annotator.services.import_jobs import import_job_request
from annotator.services.imports import documents_import

from .access import project_for
from .uploads import upload_refusal

ACCEPTED_FILES = (".txt,.md,.markdown,.html,.htm,.pdf,.docx,.jsonl,.ann,.conf,.json,.xml,.xmi,"
                  ".zip")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPTED_FILES}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if not data and self.required:
            # The widget gives [] for "no file", which the single-file clean never sees.
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class DocumentImportForm(forms.Form):
    files = MultipleFileField(
        label="Files",
        help_text="Plain text, Markdown, HTML, PDF (with a text layer), Word .docx, "
        "canonical JSONL, brat .txt with its .ann (and the collection's annotation.conf, "
        "which becomes the schema of a project without documents), "
        "CDCP .txt with its .ann.json, arg-microtexts .txt with its .xml, INCEpTION .xmi with "
        "its TypeSystem.xml, Label Studio .json, doccano .jsonl, or a .zip of these. "
        "Select several files at once to upload a pair.",
    )
    clean = forms.BooleanField(
        label="Clean page residue",
        required=False,
        initial=True,
        help_text="Remove menus, loaders and photo credits from web pages and text, and running "
        "headers, footers and page numbers from PDFs. Annotated files (brat, JSONL) are "
        "never cleaned.",
    )
    add_labels = forms.BooleanField(
        label="Add unknown labels to the schema",
        required=False,
        help_text="Otherwise a span or relation with a label the project lacks stops the import.",
    )
    annotator = forms.CharField(
        label="Annotations belong to",
        required=False,
        max_length=150,
        help_text="For files whose annotations name nobody (brat): empty for the gold "
        "standard, or the username of one annotator of the project.",
    )

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project

    def clean_annotator(self):
        # One lookup, not a list of every annotator: a class may have thousands.
        name = self.cleaned_data["annotator"].strip()
        if name and not project_has_annotator(self.project, name):
            raise forms.ValidationError(f"{name} is not an annotator of this project.")
        return name

    def clean_files(self):
        files = self.cleaned_data["files"]
        total = sum(upload.size for upload in files)
        limit = settings.WARRANT_MAX_UPLOAD_BYTES
        if total > limit:
            raise forms.ValidationError(
                f"The upload is {filesizeformat(total)}; the limit is {filesizeformat(limit)}. "
                "Split it into several imports."
            )
        return files


def _too_big_for_a_request(files) -> bool:
    return sum(upload.size for upload in files) > settings.WARRANT_IMPORT_INLINE_BYTES


@require_GET
@login_required
def import_job_page(request, slug, job_id):
    """An import job: its progress while it runs (polled; HTTP 286 stops the polling),
    then its report or its error."""
    project = project_for(request.user, slug, "document.import")
    job = get_object_or_404(ImportJob, pk=job_id, project=project)
    active = job.status in (JobStatus.PENDING, JobStatus.RUNNING)
    context = {"project": project, "job": job, "active": active,
               "percent": round(job.progress * 100)}
    if request.htmx:
        response = render(request, "annotator/import_job.html#import-job", context)
        return response if active else HttpResponseStopPolling(response.content)
    return render(request, "annotator/import_job.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def document_import(request, slug):
    project = project_for(request.user, slug, "document.import")
    error = None
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and (refusal := upload_refusal(request)):
        form, error, status = DocumentImportForm(project=project), refusal, 413
    elif request.method == "POST":
        form = DocumentImportForm(request.POST, request.FILES, project=project)
        if form.is_valid() and _too_big_for_a_request(form.cleaned_data["files"]):
            # A big upload is imported by the worker, with a progress bar, instead
            # of outliving the request's timeout (a 500 under gunicorn).
            data = form.cleaned_data
            try:
                job = import_job_request(
                    project=project,
                    files=[(upload.name, upload.read()) for upload in data["files"]],
                    requested_by=request.user,
                    clean=data["clean"],
                    add_labels=data["add_labels"],
                    annotator=data["annotator"] or None,
                )
            except WarrantError as exc:
                error = str(exc)
            else:
                return redirect("import-job", slug=project.slug, job_id=job.pk)
        elif form.is_valid():
            data = form.cleaned_data
            # The readers pull in lxml and trafilatura: loaded on the first
            # import, not in every web process at start (issue 12, point 8).
            from annotator.formats.readers import read_uploads

            try:
                # All files are read before anything is written, then written in
                # one transaction: a bad file anywhere leaves the project unchanged.
                records = read_uploads(
                    [(upload.name, upload.read()) for upload in data["files"]],
                    clean=data["clean"],
                )
                report = documents_import(
                    project=project,
                    records=records,
                    add_labels=data["add_labels"],
                    annotator=data["annotator"] or None,
                )
            except (FormatError, WarrantError) as exc:
                error = str(exc).splitlines()[0] if str(exc) else "the import failed"
            else:
                lines = report.lines()
                messages.success(request, lines[0])
                for line in lines[1:]:
                    level = messages.WARNING if line.startswith("skipped") else messages.INFO
                    messages.add_message(request, level, line)
                return redirect("project-detail", slug=project.slug)
    else:
        form = DocumentImportForm(project=project)
    return render(
        request,
        "annotator/document_import.html",
        {"project": project, "form": form, "error": error},
        status=status,
    )
