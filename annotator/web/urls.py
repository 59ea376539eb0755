from django.urls import path

from . import agreement as agreement_views
from . import annotate as annotate_views
from . import documents, imports, projects
from . import tokens as token_views

urlpatterns = [
    path("", projects.home, name="home"),
    path("p/<slug:slug>/", projects.project_detail, name="project-detail"),
    path("p/<slug:slug>/import/", imports.document_import, name="document-import"),
    path("p/<slug:slug>/d/<int:document_id>/", documents.document_detail, name="document-detail"),
    path("p/<slug:slug>/agreement/", agreement_views.agreement_page, name="agreement"),
    path(
        "p/<slug:slug>/agreement/run/",
        agreement_views.agreement_run_create,
        name="agreement-run",
    ),
    path(
        "p/<slug:slug>/agreement/runs/<int:run_id>/status/",
        agreement_views.agreement_run_status,
        name="agreement-run-status",
    ),
    path(
        "p/<slug:slug>/agreement/runs/<int:run_id>/report.json",
        agreement_views.agreement_report_download,
        name="agreement-report",
    ),
    path(
        "p/<slug:slug>/agreement/d/<int:document_id>/",
        agreement_views.agreement_document,
        name="agreement-document",
    ),
]

# The annotation page (issue 3) and the htmx endpoints it saves through.
_ANNOTATE = "p/<slug:slug>/d/<int:document_id>/annotate/"
urlpatterns += [
    path(_ANNOTATE, annotate_views.annotate, name="annotate"),
    path(f"{_ANNOTATE}panels/", annotate_views.annotate_panels, name="annotate-panels"),
    path(f"{_ANNOTATE}spans/", annotate_views.annotate_span_create, name="annotate-span-create"),
    path(f"{_ANNOTATE}spans/<int:span_id>/", annotate_views.annotate_span, name="annotate-span"),
    path(
        f"{_ANNOTATE}spans/<int:span_id>/delete/",
        annotate_views.annotate_span_delete,
        name="annotate-span-delete",
    ),
    path(
        f"{_ANNOTATE}relations/",
        annotate_views.annotate_relation_create,
        name="annotate-relation-create",
    ),
    path(
        f"{_ANNOTATE}relations/<int:relation_id>/delete/",
        annotate_views.annotate_relation_delete,
        name="annotate-relation-delete",
    ),
    path(f"{_ANNOTATE}undo/", annotate_views.annotate_undo, name="annotate-undo"),
    path(f"{_ANNOTATE}submit/", annotate_views.annotate_submit, name="annotate-submit"),
    path(f"{_ANNOTATE}reopen/", annotate_views.annotate_reopen, name="annotate-reopen"),
]

# The API token settings page (issue 6).
urlpatterns += [path("settings/tokens/", token_views.api_tokens, name="api-tokens")]

# Dataset exports (issue 6).
from . import exports as export_views  # noqa: E402

urlpatterns += [
    path("p/<slug:slug>/exports/", export_views.export_page, name="exports"),
    path(
        "p/<slug:slug>/exports/<int:job_id>/progress/",
        export_views.export_job_progress,
        name="export-progress",
    ),
    path(
        "p/<slug:slug>/exports/<int:job_id>/download/",
        export_views.export_job_download,
        name="export-download",
    ),
]
