"""Creating a project in the browser, and a project's settings page.

Who may create a project: any logged-in user, who becomes its manager (as on
the command line, ``create_project``). Warrant is a tool for classes and
research teams where instructors sign up themselves; a site that wants only
staff to create projects sets ``WARRANT_PROJECT_CREATORS = "staff"``.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from annotator.formats.records import FormatError
from annotator.formats.schema import ANY_LABEL, PRESETS, SchemaSpec, load_schema, parse_schema
from annotator.selectors.permissions import may_create_projects
from annotator.services.assignments import project_deadline_set
from annotator.services.errors import WarrantError
from annotator.services.projects import (
    MAX_GUIDELINES_CHARS,
    project_create,
    project_update,
    schema_apply,
)
from annotator.text.markdown import render_markdown

from .access import project_for

# Blank rows the schema editor offers beyond the filled ones; "More rows" adds as many.
BLANK_ROWS = 2
# The editor is a form, not a language: a schema this large is a file (create_project --schema).
MAX_EDITOR_ROWS = 40


# ----------------------------------------------------------------------------- schema editor


def _pairs_text(allowed) -> str:
    return "\n".join(f"{src} -> {tgt}" for src, tgt in allowed)


def schema_rows(spec: SchemaSpec | None, blank: int = BLANK_ROWS) -> tuple[list, list]:
    """The editor's label rows and relation type rows for ``spec``, plus blank rows."""
    labels = [
        {"name": lab.name, "colour": lab.colour, "hotkey": lab.hotkey,
         "description": lab.description}
        for lab in (spec.span_labels if spec else ())
    ]
    types = [
        {"name": rel.name, "directed": rel.directed, "description": rel.description,
         "allowed": _pairs_text(rel.allowed)}
        for rel in (spec.relation_types if spec else ())
    ]
    labels += [{"name": "", "colour": "#64748b", "hotkey": "", "description": ""}] * blank
    types += [{"name": "", "directed": True, "description": "", "allowed": ""}] * blank
    return labels, types


def _parse_pairs(text: str, type_name: str) -> list[list[str]]:
    pairs = []
    for line in text.replace(",", "\n").splitlines():
        line = line.strip()
        if not line:
            continue
        for arrow in ("->", "→", ">"):
            if arrow in line:
                src, tgt = (part.strip() for part in line.split(arrow, 1))
                break
        else:
            raise WarrantError(
                f"relation type {type_name!r}: write each allowed pair as Source -> Target "
                f"({ANY_LABEL} for any label), not {line!r}"
            )
        pairs.append([src, tgt])
    return pairs


def _count(post, name: str) -> int:
    try:
        return max(0, min(int(post.get(name, 0)), MAX_EDITOR_ROWS))
    except ValueError:
        return 0


def schema_rows_from_post(post) -> tuple[list, list]:
    """The editor's rows as the user sent them (to show them again with an error)."""
    labels = [
        {
            "name": post.get(f"label-{i}-name", "").strip(),
            "colour": post.get(f"label-{i}-colour", "#64748b").strip(),
            "hotkey": post.get(f"label-{i}-hotkey", "").strip(),
            "description": post.get(f"label-{i}-description", "").strip(),
        }
        for i in range(_count(post, "label-count"))
    ]
    types = [
        {
            "name": post.get(f"type-{i}-name", "").strip(),
            "directed": post.get(f"type-{i}-directed") == "on",
            "description": post.get(f"type-{i}-description", "").strip(),
            "allowed": post.get(f"type-{i}-allowed", "").strip(),
        }
        for i in range(_count(post, "type-count"))
    ]
    return labels, types


def schema_from_rows(labels: list, types: list) -> SchemaSpec:
    """Check the editor's rows through ``parse_schema``; rows without a name are skipped."""
    data = {
        "span_labels": [
            {k: row[k] for k in ("name", "colour", "hotkey", "description")}
            for row in labels
            if row["name"]
        ],
        "relation_types": [
            {
                "name": row["name"],
                "directed": row["directed"],
                "description": row["description"],
                "allowed": _parse_pairs(row["allowed"], row["name"]),
            }
            for row in types
            if row["name"]
        ],
    }
    try:
        return parse_schema(data, source="the schema")
    except FormatError as exc:
        raise WarrantError(str(exc)) from None


def _with_blank_rows(labels: list, types: list, more: bool) -> tuple[list, list]:
    extra = BLANK_ROWS if more else 0
    labels = [*labels, *[{"name": "", "colour": "#64748b", "hotkey": "", "description": ""}]
              * extra][:MAX_EDITOR_ROWS]
    types = [*types, *[{"name": "", "directed": True, "description": "", "allowed": ""}]
             * extra][:MAX_EDITOR_ROWS]
    return labels, types


# ----------------------------------------------------------------------------- new project


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@require_http_methods(["GET", "POST"])
@login_required
def project_new(request):
    if not may_create_projects(request.user):
        raise PermissionDenied("only staff may create projects on this site")
    error = None
    if request.method == "POST":
        post = request.POST
        values = {
            "slug": post.get("slug", "").strip(),
            "name": post.get("name", "").strip(),
            "annotators_per_document": post.get("annotators_per_document", "2"),
            "blind": post.get("blind") == "on",
            "guidelines": post.get("guidelines", ""),
        }
        labels, types = schema_rows_from_post(post)
        if "more" not in post:
            try:
                spec = schema_from_rows(labels, types)
                project = project_create(
                    slug=values["slug"],
                    name=values["name"],
                    schema=spec,
                    created_by=request.user,
                    guidelines=values["guidelines"],
                    annotators_per_document=_int(values["annotators_per_document"], 0),
                    blind=values["blind"],
                )
            except WarrantError as exc:
                error = str(exc)
            else:
                messages.success(request, f"Project {project.name} created: you are its manager.")
                return redirect("project-detail", slug=project.slug)
        labels, types = _with_blank_rows(labels, types, "more" in post)
    else:
        start = request.GET.get("start", "argument")
        spec = load_schema("argument") if start in PRESETS else None
        labels, types = schema_rows(spec)
        values = {"slug": "", "name": "", "annotators_per_document": 2, "blind": True,
                  "guidelines": ""}
    status = 400 if error else 200
    context = {"values": values, "labels": labels, "types": types, "error": error,
               "presets": sorted(PRESETS), "any_label": ANY_LABEL}
    return render(request, "annotator/project_new.html", context, status=status)


# ----------------------------------------------------------------------------- settings


def _current_schema(project) -> SchemaSpec:
    return parse_schema(
        {
            "span_labels": [
                {"name": lab.name, "colour": lab.colour, "hotkey": lab.hotkey,
                 "description": lab.description}
                for lab in project.span_labels.all()
            ],
            "relation_types": [
                {"name": t.name, "directed": t.directed, "description": t.description,
                 "allowed": t.allowed}
                for t in project.relation_types.all()
            ],
        },
        source=project.slug,
    )


def _date(value: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise WarrantError(f"{value!r} is not a date (YYYY-MM-DD)") from None


@require_http_methods(["GET", "POST"])
@login_required
def project_settings(request, slug):
    project = project_for(request.user, slug, "project.manage")
    error = None
    preview = None
    labels, types = schema_rows(_current_schema(project))
    values = {
        "name": project.name,
        "description": project.description,
        "guidelines": project.guidelines,
        "annotators_per_document": project.annotators_per_document,
        "blind": project.blind,
        "allow_reopen": project.allow_reopen,
        "default_due": project.default_due.isoformat() if project.default_due else "",
    }
    if request.method == "POST":
        post = request.POST
        values = {
            "name": post.get("name", ""),
            "description": post.get("description", ""),
            "guidelines": post.get("guidelines", ""),
            "annotators_per_document": post.get("annotators_per_document", ""),
            "blind": post.get("blind") == "on",
            "allow_reopen": post.get("allow_reopen") == "on",
            "default_due": post.get("default_due", ""),
        }
        labels, types = schema_rows_from_post(post)
        if "preview" in post:
            preview = mark_safe(render_markdown(values["guidelines"]))  # sanitised by nh3
        elif "more" not in post:
            try:
                _save_settings(project, values, labels, types)
            except WarrantError as exc:
                error = str(exc)
            else:
                messages.success(request, "Settings saved.")
                return redirect("project-settings", slug=project.slug)
        labels, types = _with_blank_rows(labels, types, "more" in post)
    context = {
        "project": project, "values": values, "labels": labels, "types": types,
        "error": error, "preview": preview, "any_label": ANY_LABEL,
        "max_guidelines": MAX_GUIDELINES_CHARS,
    }
    return render(request, "annotator/project_settings.html", context, status=400 if error else 200)


def _save_settings(project, values: dict, labels: list, types: list) -> None:
    spec = schema_from_rows(labels, types)
    due = _date(values["default_due"])
    with transaction.atomic():
        project_update(
            project=project,
            name=values["name"],
            description=values["description"],
            guidelines=values["guidelines"],
            annotators_per_document=_int(values["annotators_per_document"], 0),
            blind=values["blind"],
            allow_reopen=values["allow_reopen"],
        )
        schema_apply(project=project, schema=spec)
        if due != project.default_due:
            project_deadline_set(project=project, due=due)


@require_POST
@login_required
def guidelines_preview(request, slug):
    """The guidelines as students will read them (htmx; the page's Preview button
    does the same without JavaScript)."""
    project_for(request.user, slug, "project.manage")
    html = render_markdown(request.POST.get("guidelines", "")[:MAX_GUIDELINES_CHARS])
    body = html or '<p class="muted">Nothing to preview.</p>'
    return HttpResponse(f'<div id="guidelines-preview" class="guidelines-preview">{body}</div>')
