from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.urls import reverse
from django.utils.html import format_html

from annotator.models import (
    AgreementRun,
    AnnotationSet,
    Document,
    ExportJob,
    JobStatus,
    LoginFailure,
    Membership,
    Project,
    Relation,
    RelationType,
    Span,
    SpanLabel,
    User,
)
from annotator.services.projects import project_delete

admin.site.register(User, UserAdmin)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class SpanLabelInline(admin.TabularInline):
    model = SpanLabel
    extra = 0


class RelationTypeInline(admin.TabularInline):
    model = RelationType
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "annotators_per_document", "blind", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [SpanLabelInline, RelationTypeInline, MembershipInline]

    # Deleting goes through services.projects.project_delete, as on the settings page
    # and the command line: documents before the schema their spans PROTECT, and the
    # project's export files and import uploads with its rows.
    def get_deleted_objects(self, objs, request):
        projects = list(objs)
        summary = [
            f"{p.slug}: {p.documents.count()} document(s) with their annotation sets, spans, "
            f"relations and undo history; {p.memberships.count()} membership(s); its agreement "
            "runs, import and export jobs and their files (users stay)"
            for p in projects
        ]
        return summary, {"projects": len(projects)}, set(), []

    def delete_model(self, request, obj):
        project_delete(project=obj, confirm=obj.slug)

    def delete_queryset(self, request, queryset):
        for project in queryset:
            project_delete(project=project, confirm=project.slug)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["project", "user", "role"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "project__slug"]


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["external_id", "title", "project", "source_format", "created_at"]
    list_filter = ["project", "source_format"]
    search_fields = ["external_id", "title"]
    readonly_fields = ["content_hash", "original_name", "source_format", "cleaning"]
    exclude = ["original"]


class SpanInline(admin.TabularInline):
    model = Span
    extra = 0
    fields = ["label", "start", "end", "attributes", "note"]


@admin.register(AnnotationSet)
class AnnotationSetAdmin(admin.ModelAdmin):
    list_display = ["document", "annotator", "is_gold", "status", "due", "version"]
    list_filter = ["status", "is_gold", "document__project"]
    search_fields = ["document__external_id", "annotator__username"]
    raw_id_fields = ["document", "annotator"]
    inlines = [SpanInline]


@admin.register(Span)
class SpanAdmin(admin.ModelAdmin):
    list_display = ["id", "annotation_set", "label", "start", "end"]
    raw_id_fields = ["annotation_set"]


@admin.register(Relation)
class RelationAdmin(admin.ModelAdmin):
    list_display = ["id", "annotation_set", "source", "type", "target"]
    raw_id_fields = ["annotation_set", "source", "target"]


@admin.register(AgreementRun)
class AgreementRunAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "status", "progress", "created_at", "finished_at"]
    list_filter = ["status", "project"]
    # A finished run's report is megabytes (19 MB at 10,000 briefs, in every row of the
    # list) and its plan names every set: neither is read here. The form shows the
    # summary; the whole report is the agreement page's download, written as it is read.
    exclude = ["report", "plan"]
    readonly_fields = ["report_summary", "report_download", "intervals", "timings", "error"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("report", "plan")

    @admin.display(description="Report")
    def report_download(self, run: AgreementRun) -> str:
        if run.status != JobStatus.DONE:
            return "—"
        url = reverse("agreement-report", kwargs={"slug": run.project.slug, "run_id": run.pk})
        return format_html('<a href="{}">the whole report (JSON)</a>', url)


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "format", "scope", "status", "created_at", "finished_at"]
    list_filter = ["status", "format", "project"]


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Failed log-ins: delete an account's or address's rows to lift a refusal early."""

    list_display = ["username", "ip_address", "at"]
    list_filter = ["at"]
    search_fields = ["username", "ip_address"]
    readonly_fields = ["username", "ip_address", "at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
