"""Creating a project in the browser, and a project's settings page.

Who may create a project: any logged-in user, who becomes its manager (as on
the command line, ``create_project``). Warrant is a tool for classes and
research teams where instructors sign up themselves; a site that wants only
staff to create projects sets ``WARRANT_PROJECT_CREATORS = "staff"``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from annotator.formats.records import FormatError
from annotator.formats.schema import (
    AIF_KINDS,
    ANY_LABEL,
    ATTRIBUTE_TYPES,
    PRESETS,
    SchemaSpec,
    load_schema,
    parse_schema,
)
from annotator.selectors.permissions import may_create_projects
from annotator.selectors.projects import project_schema
from annotator.services.assignments import project_deadline_set
from annotator.services.errors import WarrantError
from annotator.services.projects import (
    MAX_GUIDELINES_CHARS,
    project_create,
    project_delete,
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


_BLANK_LABEL = {"name": "", "colour": "#64748b", "hotkey": "", "description": ""}
_BLANK_TYPE = {"name": "", "directed": True, "description": "", "allowed": "", "aif": ""}
_BLANK_ATTRIBUTE = {"label": "", "name": "", "type": "choice", "values": "", "hotkey": "",
                    "description": ""}


@dataclass
class SchemaRows:
    """The schema editor's three tables: labels, relation types, label attributes."""

    labels: list
    types: list
    attributes: list

    def context(self) -> dict:
        return {"labels": self.labels, "types": self.types, "attributes": self.attributes,
                "any_label": ANY_LABEL, "aif_kinds": AIF_KINDS,
                "attribute_types": ATTRIBUTE_TYPES}

    def with_blank_rows(self, blank: int) -> SchemaRows:
        return SchemaRows(
            [*self.labels, *[_BLANK_LABEL] * blank][:MAX_EDITOR_ROWS],
            [*self.types, *[_BLANK_TYPE] * blank][:MAX_EDITOR_ROWS],
            [*self.attributes, *[_BLANK_ATTRIBUTE] * blank][:MAX_EDITOR_ROWS],
        )


def schema_rows(spec: SchemaSpec | None, blank: int = BLANK_ROWS) -> SchemaRows:
    """The editor's rows for ``spec``, plus blank rows."""
    labels = [
        {"name": lab.name, "colour": lab.colour, "hotkey": lab.hotkey,
         "description": lab.description}
        for lab in (spec.span_labels if spec else ())
    ]
    types = [
        {"name": rel.name, "directed": rel.directed, "description": rel.description,
         "allowed": _pairs_text(rel.allowed), "aif": rel.aif}
        for rel in (spec.relation_types if spec else ())
    ]
    attributes = [
        {"label": lab.name, "name": a.name, "type": a.type, "values": ", ".join(a.values),
         "hotkey": a.hotkey, "description": a.description}
        for lab in (spec.span_labels if spec else ())
        for a in lab.attributes
    ]
    return SchemaRows(labels, types, attributes).with_blank_rows(blank)


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


def schema_rows_from_post(post) -> SchemaRows:
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
            "aif": post.get(f"type-{i}-aif", "").strip(),
        }
        for i in range(_count(post, "type-count"))
    ]
    attributes = [
        {
            "label": post.get(f"attr-{i}-label", "").strip(),
            "name": post.get(f"attr-{i}-name", "").strip(),
            "type": post.get(f"attr-{i}-type", "text").strip(),
            "values": post.get(f"attr-{i}-values", "").strip(),
            "hotkey": post.get(f"attr-{i}-hotkey", "").strip(),
            "description": post.get(f"attr-{i}-description", "").strip(),
        }
        for i in range(_count(post, "attr-count"))
    ]
    return SchemaRows(labels, types, attributes)


def schema_from_rows(rows: SchemaRows) -> SchemaSpec:
    """Check the editor's rows through ``parse_schema``; rows without a name are skipped."""
    label_rows = [
        {**{k: row[k] for k in ("name", "colour", "hotkey", "description")}, "attributes": []}
        for row in rows.labels
        if row["name"]
    ]
    labels: dict[str, dict] = {}
    for row in label_rows:
        labels.setdefault(row["name"], row)  # a name twice is parse_schema's error
    for row in rows.attributes:
        if not row["name"]:
            continue
        if row["label"] not in labels:
            raise WarrantError(
                f"attribute {row['name']!r}: its label {row['label']!r} is not among the "
                "span labels above"
            )
        values = [v.strip() for v in row["values"].split(",") if v.strip()]
        labels[row["label"]]["attributes"].append(
            {"name": row["name"], "type": row["type"], "hotkey": row["hotkey"],
             "description": row["description"],
             **({"values": values} if row["type"] == "choice" or values else {})}
        )
    data = {
        "span_labels": label_rows,
        "relation_types": [
            {
                "name": row["name"],
                "directed": row["directed"],
                "description": row["description"],
                "allowed": _parse_pairs(row["allowed"], row["name"]),
                "aif": row.get("aif", ""),
            }
            for row in rows.types
            if row["name"]
        ],
    }
    try:
        return parse_schema(data, source="the schema")
    except FormatError as exc:
        raise WarrantError(str(exc)) from None


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
        rows = schema_rows_from_post(post)
        if "more" not in post:
            try:
                spec = schema_from_rows(rows)
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
        rows = rows.with_blank_rows(BLANK_ROWS if "more" in post else 0)
    else:
        start = request.GET.get("start", "argument")
        spec = load_schema("argument") if start in PRESETS else None
        rows = schema_rows(spec)
        values = {"slug": "", "name": "", "annotators_per_document": 2, "blind": True,
                  "guidelines": ""}
    status = 400 if error else 200
    context = {"values": values, "error": error, "presets": sorted(PRESETS), **rows.context()}
    return render(request, "annotator/project_new.html", context, status=status)


# ----------------------------------------------------------------------------- settings


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
    rows = schema_rows(project_schema(project))
    values = {
        "name": project.name,
        "description": project.description,
        "guidelines": project.guidelines,
        "annotators_per_document": project.annotators_per_document,
        "blind": project.blind,
        "allow_reopen": project.allow_reopen,
        "default_due": project.default_due.isoformat() if project.default_due else "",
        "citation": project.citation,
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
            "citation": post.get("citation", ""),
        }
        rows = schema_rows_from_post(post)
        if "preview" in post:
            preview = mark_safe(render_markdown(values["guidelines"]))  # sanitised by nh3
        elif "more" not in post:
            try:
                _save_settings(project, values, rows)
            except WarrantError as exc:
                error = str(exc)
            else:
                messages.success(request, "Settings saved.")
                return redirect("project-settings", slug=project.slug)
        rows = rows.with_blank_rows(BLANK_ROWS if "more" in post else 0)
    context = {
        "project": project, "values": values, "error": error, "preview": preview,
        "max_guidelines": MAX_GUIDELINES_CHARS, **rows.context(),
    }
    return render(request, "annotator/project_settings.html", context, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
@login_required
def project_delete_page(request, slug):
    """Delete the project once its slug is typed (the settings page holds the same form)."""
    project = project_for(request.user, slug, "project.delete")
    error = None
    if request.method == "POST":
        try:
            report = project_delete(project=project, confirm=request.POST.get("confirm", ""))
        except WarrantError as exc:
            error = str(exc)
        else:
            messages.success(request, report.summary().capitalize() + ".")
            return redirect("home")
    return render(request, "annotator/project_delete.html",
                  {"project": project, "delete_error": error}, status=400 if error else 200)


def _save_settings(project, values: dict, rows: SchemaRows) -> None:
    spec = schema_from_rows(rows)
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
            citation=values["citation"],
        )
        schema_apply(project=project, schema=spec, exact_attributes=True)
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
