"""The REST API's routes, mounted under ``/api/`` by ``config/urls.py``.

Projects are addressed by slug, like the pages; annotation sets, export jobs and
agreement runs by id, each checked against its project's permission matrix.
"""

from django.urls import path, re_path

from . import agreement as agreement_api
from . import annotation_sets, bulk, documents, errors, export_jobs, projects, suggestions

urlpatterns = [
    path("projects/", projects.ProjectListView.as_view(), name="api-project-list"),
    path("projects/<slug:slug>/", projects.ProjectDetailView.as_view(), name="api-project-detail"),
    path(
        "projects/<slug:slug>/documents/",
        documents.DocumentListView.as_view(),
        name="api-document-list",
    ),
    path(
        "projects/<slug:slug>/documents/<int:document_id>/",
        documents.DocumentDetailView.as_view(),
        name="api-document-detail",
    ),
    path(
        "projects/<slug:slug>/documents/<int:document_id>/annotation-sets/",
        annotation_sets.AnnotationSetListView.as_view(),
        name="api-annotation-set-list",
    ),
    path(
        "projects/<slug:slug>/annotation-sets/",
        bulk.ProjectAnnotationSetListView.as_view(),
        name="api-project-annotation-sets",
    ),
    path(
        "projects/<slug:slug>/annotations.jsonl",
        bulk.ProjectAnnotationsView.as_view(),
        name="api-project-annotations",
    ),
    path(
        "annotation-sets/<int:set_id>/",
        annotation_sets.AnnotationSetDetailView.as_view(),
        name="api-annotation-set-detail",
    ),
    path(
        "annotation-sets/<int:set_id>/spans/",
        annotation_sets.SpanCreateView.as_view(),
        name="api-span-list",
    ),
    path(
        "annotation-sets/<int:set_id>/spans/<int:span_id>/",
        annotation_sets.SpanDetailView.as_view(),
        name="api-span-detail",
    ),
    path(
        "annotation-sets/<int:set_id>/relations/",
        annotation_sets.RelationCreateView.as_view(),
        name="api-relation-list",
    ),
    path(
        "annotation-sets/<int:set_id>/relations/<int:relation_id>/",
        annotation_sets.RelationDetailView.as_view(),
        name="api-relation-detail",
    ),
    path(
        "annotation-sets/<int:set_id>/submit/",
        annotation_sets.AnnotationSetSubmitView.as_view(),
        name="api-annotation-set-submit",
    ),
    path(
        "annotation-sets/<int:set_id>/batch/",
        annotation_sets.AnnotationSetBatchView.as_view(),
        name="api-annotation-set-batch",
    ),
    path(
        "annotation-sets/<int:set_id>/suggestions/",
        suggestions.SetSuggestionsView.as_view(),
        name="api-set-suggestions",
    ),
    path(
        "annotation-sets/<int:set_id>/suggestions/accept/",
        suggestions.SetSuggestionsAcceptView.as_view(),
        name="api-set-suggestions-accept",
    ),
    path(
        "annotation-sets/<int:set_id>/suggestions/dismiss/",
        suggestions.SetSuggestionsDismissView.as_view(),
        name="api-set-suggestions-dismiss",
    ),
    path(
        "annotation-sets/<int:set_id>/reopen/",
        annotation_sets.AnnotationSetReopenView.as_view(),
        name="api-annotation-set-reopen",
    ),
    path(
        "projects/<slug:slug>/export-jobs/",
        export_jobs.ExportJobListView.as_view(),
        name="api-export-job-list",
    ),
    path(
        "export-jobs/<int:job_id>/",
        export_jobs.ExportJobDetailView.as_view(),
        name="api-export-job-detail",
    ),
    path(
        "export-jobs/<int:job_id>/download/",
        export_jobs.ExportJobDownloadView.as_view(),
        name="api-export-job-download",
    ),
    path(
        "projects/<slug:slug>/agreement/",
        agreement_api.ProjectAgreementView.as_view(),
        name="api-agreement",
    ),
    path(
        "projects/<slug:slug>/agreement/runs/<int:run_id>/documents/",
        agreement_api.AgreementRunDocumentsView.as_view(),
        name="api-agreement-run-documents",
    ),
    path(
        "agreement-runs/<int:run_id>/",
        agreement_api.AgreementRunDetailView.as_view(),
        name="api-agreement-run",
    ),
]

# Keep this last: any other path under /api/ answers a JSON 404 with a message,
# not the site's HTML page.
urlpatterns += [re_path(r"^", errors.api_not_found, name="api-not-found")]
