"""The members page (add one by one, from a CSV, change roles, remove; the join
code) and the join pages a student uses with that code."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotator.models import Membership, Project, Role
from annotator.selectors.projects import project_members_csv
from annotator.services.errors import WarrantError
from annotator.services.members import (
    members_add,
    members_add_from_rows,
    membership_remove,
    membership_role_change,
    parse_members_csv,
    project_join_by_code,
)
from annotator.services.projects import project_join_code_regenerate

from .access import project_for
from .downloads import csv_download
from .paging import SEARCH_MAX_CHARS, keep_params, page_of
from .uploads import upload_refusal

# A class list, not a user database: bigger files go through `add_members --csv`.
MAX_CSV_BYTES = 1_000_000


def _members_context(request, project, error: str | None = None) -> dict:
    join_url = (
        request.build_absolute_uri(reverse("join-code", kwargs={"code": project.join_code}))
        if project.join_code
        else None
    )
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_CHARS]
    memberships = (
        Membership.objects.filter(project=project)
        .select_related("user")
        .order_by("role", "user__username")
    )
    if query:
        memberships = memberships.filter(user__username__icontains=query)
    page = page_of(request, memberships)
    return {
        "project": project,
        "memberships": page,
        "page": page,
        "query": query,
        "keep": keep_params(q=query),
        "roles": Role.choices,
        "join_url": join_url,
        "error": error,
    }


@require_GET
@login_required
def members_page(request, slug):
    project = project_for(request.user, slug, "member.manage")
    return render(request, "annotator/members.html", _members_context(request, project))


def _done(request, project, error: str | None, success: str | None):
    """htmx swaps the member table (with the error in it); without JS: message, redirect."""
    if request.htmx:
        context = _members_context(request, project, error)
        context["success"] = success
        return render(request, "annotator/members.html#member-table", context)
    if error:
        messages.error(request, error)
    elif success:
        messages.success(request, success)
    return redirect("members", slug=project.slug)


def _report_line(report, role: str) -> str:
    parts = []
    if report.users_created:
        parts.append(f"created users: {', '.join(report.users_created)}")
    if report.added:
        parts.append(f"added as {role}: {', '.join(report.added)}")
    if report.role_changed:
        parts.append(f"changed role to {role}: {', '.join(report.role_changed)}")
    if report.unchanged:
        parts.append(f"already members: {', '.join(report.unchanged)}")
    return "; ".join(parts).capitalize() or "Nobody added."


@require_POST
@login_required
def member_add(request, slug):
    project = project_for(request.user, slug, "member.manage")
    role = request.POST.get("role", Role.ANNOTATOR)
    names = [n for n in request.POST.get("usernames", "").replace(",", " ").split() if n]
    if not names:
        return _done(request, project, "Give at least one username.", None)
    try:
        report = members_add(project=project, role=role, usernames=names)
    except WarrantError as exc:
        return _done(request, project, str(exc), None)
    return _done(request, project, None, _report_line(report, role))


@require_GET
@login_required
def members_download(request, slug):
    project = project_for(request.user, slug, "member.manage")
    return csv_download(project_members_csv(project), f"{project.slug}-members.csv")


@require_POST
@login_required
def members_csv(request, slug):
    project = project_for(request.user, slug, "member.manage")
    role = request.POST.get("role", Role.ANNOTATOR)
    upload = request.FILES.get("file")
    error = None
    if refusal := upload_refusal(request):
        error = refusal
    elif upload is None:
        error = "Choose a CSV file (username, email, password)."
    elif upload.size > MAX_CSV_BYTES:
        error = f"{upload.name} is larger than {MAX_CSV_BYTES // 1000} kB: use add_members --csv."
    else:
        try:
            data = upload.read().decode("utf-8-sig")
            rows = parse_members_csv(data, source=upload.name)
            report = members_add_from_rows(
                project=project, role=role, rows=rows, source=upload.name
            )
        except UnicodeDecodeError:
            error = f"{upload.name} is not UTF-8 text."
        except WarrantError as exc:
            error = f"Nobody was added. {exc}"
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _report_line(report, role))
    return redirect("members", slug=project.slug)


def _member(project, user_id):
    return get_object_or_404(Membership.objects.select_related("user"), project=project,
                             user_id=user_id).user


@require_POST
@login_required
def member_role(request, slug, user_id):
    project = project_for(request.user, slug, "member.manage")
    user = _member(project, user_id)
    role = request.POST.get("role", "")
    try:
        membership_role_change(project=project, user=user, role=role)
    except WarrantError as exc:
        return _done(request, project, str(exc), None)
    return _done(request, project, None, f"{user.username} is now a {Role(role).label.lower()}.")


@require_POST
@login_required
def member_remove(request, slug, user_id):
    project = project_for(request.user, slug, "member.manage")
    user = _member(project, user_id)
    try:
        report = membership_remove(project=project, user=user)
    except WarrantError as exc:
        return _done(request, project, str(exc), None)
    line = f"{user.username} removed from the project."
    if report.assignments_dropped:
        line += f" {report.assignments_dropped} untouched assignment(s) withdrawn."
    if report.sets_kept:
        line += f" {report.sets_kept} annotation set(s) with work in them kept."
    if user == request.user:
        messages.success(request, line)
        return redirect("home")
    return _done(request, project, None, line)


@require_POST
@login_required
def join_code_regenerate(request, slug):
    project = project_for(request.user, slug, "member.manage")
    enabled = request.POST.get("enabled", "1") == "1"
    project_join_code_regenerate(project=project, enabled=enabled)
    if enabled:
        messages.success(request, "New join code made: the old one no longer works.")
    else:
        messages.success(request, "Joining by code is switched off.")
    return redirect("members", slug=project.slug)


# ----------------------------------------------------------------------------- joining


def _join(request, code: str):
    try:
        result = project_join_by_code(user=request.user, code=code)
    except WarrantError as exc:
        return None, str(exc)
    project = result.project
    if result.joined:
        messages.success(request, f"You joined {project.name} as an annotator.")
    else:
        messages.info(request, f"You are already a member of {project.name}.")
    return redirect("project-detail", slug=project.slug), None


@require_http_methods(["GET", "POST"])
@login_required
def join(request):
    """Type a join code (any logged-in user)."""
    error = None
    code = request.POST.get("code", "") if request.method == "POST" else ""
    if request.method == "POST":
        response, error = _join(request, code)
        if response:
            return response
    return render(request, "annotator/join.html", {"error": error, "code": code},
                  status=400 if error else 200)


@require_http_methods(["GET", "POST"])
@login_required
def join_code(request, code):
    """The join link an instructor hands out: confirm, then join."""
    project = Project.objects.filter(join_code=code).first() if code else None
    if request.method == "POST":
        response, error = _join(request, code)
        if response:
            return response
    else:
        error = None if project else "This join link does not work any more: ask for a new one."
    member = (
        project is not None
        and Membership.objects.filter(project=project, user=request.user).exists()
    )
    return render(
        request,
        "annotator/join.html",
        {"error": error, "code": code, "project": project, "member": member},
        status=404 if project is None else 200,
    )


