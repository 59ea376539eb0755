from django.urls import path

from . import agreement as agreement_views
from . import documents, imports, projects

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
