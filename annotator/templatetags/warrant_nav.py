"""``{% project_nav project "current" %}``: a project's pages that the user may open."""

from __future__ import annotations

from django import template
from django.urls import reverse

from annotator.selectors.permissions import has_permission

register = template.Library()

# (key, label, URL name, the permission the page checks). The nav is built from
# the permission matrix, so a link is shown exactly when its page would open.
PROJECT_PAGES = [
    ("documents", "Documents", "project-detail", "document.view"),
    ("settings", "Settings", "project-settings", "project.manage"),
    ("suggestions", "Suggestions", "suggestion-settings", "project.manage"),
    ("members", "Members", "members", "member.manage"),
    ("assignments", "Assignments", "assignments", "assignment.manage"),
    ("progress", "Progress", "progress", "progress.view"),
    ("curation", "Curation", "curation", "gold.curate"),
    ("agreement", "Agreement", "agreement", "agreement.view"),
    ("grades", "Grades", "grades", "grade.view"),
    ("feedback", "My feedback", "feedback", "feedback.view"),
    ("exports", "Exports", "exports", "export.create"),
]


@register.inclusion_tag("annotator/_project_nav.html", takes_context=True)
def project_nav(context, project, current: str = ""):
    user = context["request"].user
    links = []
    for key, label, url_name, action in PROJECT_PAGES:
        if key == "feedback" and has_permission(user, project, "grade.view"):
            continue  # managers read feedback from the grades page
        if has_permission(user, project, action):
            links.append(
                {
                    "key": key,
                    "label": label,
                    "url": reverse(url_name, kwargs={"slug": project.slug}),
                    "current": key == current,
                }
            )
    return {"links": links}
