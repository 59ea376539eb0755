from django.urls import path

from . import agreement as agreement_views
from . import annotate as annotate_views
from . import documents, imports, projects
from . import suggestions as suggestion_views
from . import tokens as token_views

urlpatterns = [
    path("", projects.home, name="home"),
    path("p/<slug:slug>/", projects.project_detail, name="project-detail"),
    path("p/<slug:slug>/import/", imports.document_import, name="document-import"),
    path("p/<slug:slug>/import/<int:job_id>/", imports.import_job_page, name="import-job"),
    path("p/<slug:slug>/d/<int:document_id>/", documents.document_detail, name="document-detail"),
    path("p/<slug:slug>/d/<int:document_id>/title/", documents.document_title,
         name="document-title"),
    path("p/<slug:slug>/d/<int:document_id>/rerun/", documents.document_rerun,
         name="document-rerun"),
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
    path(f"{_ANNOTATE}spans/bulk/", annotate_views.annotate_spans_bulk, name="annotate-spans-bulk"),
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
        f"{_ANNOTATE}relations/<int:relation_id>/",
        annotate_views.annotate_relation_update,
        name="annotate-relation-update",
    ),
    path(
        f"{_ANNOTATE}relations/<int:relation_id>/delete/",
        annotate_views.annotate_relation_delete,
        name="annotate-relation-delete",
    ),
    path(f"{_ANNOTATE}undo/", annotate_views.annotate_undo, name="annotate-undo"),
    path(f"{_ANNOTATE}redo/", annotate_views.annotate_redo, name="annotate-redo"),
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

# Instructors, teams and curation (issue 5).
from . import assignments as assignment_views  # noqa: E402
from . import curation as curation_views  # noqa: E402
from . import grading as grading_views  # noqa: E402
from . import manage as manage_views  # noqa: E402
from . import members as member_views  # noqa: E402
from . import progress as progress_views  # noqa: E402

_P = "p/<slug:slug>/"
_CURATE = f"{_P}curation/d/<int:document_id>/"
urlpatterns += [
    path("projects/new/", manage_views.project_new, name="project-new"),
    path(f"{_P}settings/", manage_views.project_settings, name="project-settings"),
    path(f"{_P}settings/preview/", manage_views.guidelines_preview, name="guidelines-preview"),
    path(f"{_P}settings/delete/", manage_views.project_delete_page, name="project-delete"),
    # Members and joining.
    path(f"{_P}members/", member_views.members_page, name="members"),
    path(f"{_P}members/add/", member_views.member_add, name="member-add"),
    path(f"{_P}members/csv/", member_views.members_csv, name="members-csv"),
    path(f"{_P}members.csv", member_views.members_download, name="members-download"),
    path(f"{_P}members/<int:user_id>/role/", member_views.member_role, name="member-role"),
    path(f"{_P}members/<int:user_id>/remove/", member_views.member_remove, name="member-remove"),
    path(f"{_P}members/join-code/", member_views.join_code_regenerate,
         name="join-code-regenerate"),
    path("join/", member_views.join, name="join"),
    path("join/<str:code>/", member_views.join_code, name="join-code"),
    # Assignments and progress.
    path(f"{_P}assignments/", assignment_views.assignments_page, name="assignments"),
    path(f"{_P}assignments/run/", assignment_views.assignments_run, name="assignments-run"),
    path(f"{_P}assignments/add/", assignment_views.assignment_add, name="assignment-add"),
    path(f"{_P}assignments/deadline/", assignment_views.project_deadline,
         name="project-deadline"),
    path(f"{_P}assignments/<int:assignment_id>/", assignment_views.assignment_update,
         name="assignment-update"),
    path(f"{_P}assignments.csv", assignment_views.assignments_download, name="assignments-csv"),
    path(f"{_P}progress/", progress_views.progress_page, name="progress"),
    path(f"{_P}progress.csv", progress_views.progress_download, name="progress-csv"),
    # Curation.
    path(f"{_P}curation/", curation_views.curation_list, name="curation"),
    path(_CURATE, curation_views.curation_document, name="curation-document"),
    path(f"{_CURATE}premerge/", curation_views.curation_premerge, name="curation-premerge"),
    path(f"{_CURATE}spans/", curation_views.curation_span_accept, name="curation-span-accept"),
    path(f"{_CURATE}spans/<int:span_id>/reject/", curation_views.curation_span_reject,
         name="curation-span-reject"),
    path(f"{_CURATE}spans/<int:span_id>/relabel/", curation_views.curation_span_relabel,
         name="curation-span-relabel"),
    path(f"{_CURATE}relations/", curation_views.curation_relation_accept,
         name="curation-relation-accept"),
    path(f"{_CURATE}relations/<int:relation_id>/reject/",
         curation_views.curation_relation_reject, name="curation-relation-reject"),
    path(f"{_CURATE}final/", curation_views.curation_finalize, name="curation-finalize"),
    path(f"{_CURATE}reopen/", curation_views.curation_reopen, name="curation-reopen"),
    # Grades and feedback.
    path(f"{_P}grades/", grading_views.grades_page, name="grades"),
    path(f"{_P}grades.csv", grading_views.grades_download, name="grades-csv"),
    path(f"{_P}grades/release/", grading_views.grades_release_toggle, name="grades-release"),
    path(f"{_P}grades/reopen/<int:document_id>/", grading_views.grades_reopen,
         name="grades-reopen"),
    path(f"{_P}feedback/", grading_views.feedback_page, name="feedback"),
    path(f"{_P}feedback/d/<int:document_id>/", grading_views.feedback_document_page,
         name="feedback-document"),
]

# Suggestions (issue 16): the project's page, and the annotation page's ghost spans.
urlpatterns += [
    path("p/<slug:slug>/suggestions/", suggestion_views.suggestion_settings_page,
         name="suggestion-settings"),
    path("p/<slug:slug>/suggestions/train/", suggestion_views.suggestion_model_create,
         name="suggestion-train"),
    path("p/<slug:slug>/suggestions/models/<int:model_id>/",
         suggestion_views.suggestion_model_status, name="suggestion-model-status"),
    path(f"{_ANNOTATE}suggestions/", suggestion_views.annotate_suggestions,
         name="annotate-suggestions"),
    path(f"{_ANNOTATE}suggestions/accept/", suggestion_views.annotate_suggestions_accept,
         name="annotate-suggestions-accept"),
    path(f"{_ANNOTATE}suggestions/dismiss/", suggestion_views.annotate_suggestions_dismiss,
         name="annotate-suggestions-dismiss"),
]
