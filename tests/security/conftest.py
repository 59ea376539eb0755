"""A project whose every user-written field is hostile HTML, and browser helpers.

The browser fixtures of ``tests/browser`` are reused: one Chromium per module.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from annotator.models import AnnotationSet, Membership
from annotator.services.agreement import agreement_run_execute, agreement_run_request
from tests.agreement_helpers import annotate
from tests.browser.conftest import TIMEOUT_MS, _chromium_cache, browser, page_for  # noqa: F401
from tests.factories import DocumentFactory

PWN = "window.__pwned=1"
SCRIPT = f"<script>{PWN}</script>"
IMG = f'<img src=x onerror="{PWN}">'
SVG = f'"><svg onload="{PWN}">'
HOSTILE = f"{SCRIPT}{IMG}{SVG}"
# For the 64-character names of labels and relation types.
LABEL_NAME = f"'\"><img src=x onerror={PWN}>"
TYPE_NAME = f"<svg onload={PWN}>"
HOSTILE_USERNAME = f"mallory{SCRIPT}{IMG}"
GUIDELINES = (
    f"# Rules\n\n{SCRIPT}\n\n{IMG}\n\n{SVG}\n\n"
    f"[click me](javascript:{PWN})\n\n<a href=\"javascript:{PWN}\">raw link</a>\n"
)
TEXT = (
    f"Sanctions work. {SCRIPT} Exports fell sharply {IMG} (Reuters). "
    f"Prices rose {SVG}. We should keep them."
)


def _at(phrase: str) -> tuple[int, int]:
    start = TEXT.index(phrase)
    return start, start + len(phrase)


@pytest.fixture
def hostile(project, members):
    """Every field a user can write holds a script; returns what the pages need.

    Label and relation type names cannot hold markup through any form (the
    schema's name rule holds on the settings page, in imports and in the admin),
    but a database may hold such a name from before, or from a script: it is set
    directly here, so that escaping is what the test checks.
    """
    project.name = f"Briefs {HOSTILE}"
    project.description = HOSTILE
    project.guidelines = GUIDELINES
    project.grades_released = True
    project.save()
    label = project.span_labels.get(name="Claim")
    label.name, label.description = LABEL_NAME, HOSTILE
    label.save()
    rel_type = project.relation_types.get(name="supports")
    rel_type.name, rel_type.description = TYPE_NAME, HOSTILE
    rel_type.save()
    document = DocumentFactory(
        project=project, text=TEXT, title=HOSTILE, external_id=f"brief{IMG}",
        original_name=f"{IMG}.txt", source_format="text",
    )
    spans = [
        (*_at("Sanctions work."), LABEL_NAME),
        (*_at(SCRIPT), "Evidence"),
        (*_at(f"Exports fell sharply {IMG}"), "Evidence"),
        (*_at("We should keep them."), "MajorClaim"),
    ]
    relations = [(1, 0, TYPE_NAME), (0, 3, TYPE_NAME)]
    mine = annotate(project, document, HOSTILE_USERNAME, spans, relations)
    span = mine.spans.order_by("start").first()
    span.note = HOSTILE
    span.attributes = {"why": HOSTILE, IMG: "key"}
    span.save()
    annotate(project, document, "alice", spans[:3], relations[:1])
    gold = annotate(project, document, "gold-maker", spans[1:], [])
    Membership.objects.filter(user__username="gold-maker").delete()
    AnnotationSet.objects.filter(pk=gold.pk).update(annotator=None, is_gold=True, gold_final=True)
    agreement_run_execute(run_id=agreement_run_request(project=project).pk)
    return {"project": project, "document": document, "set": mine, "span": span}


def hostile_pages(hostile) -> list[str]:
    """Every page that shows the hostile fields, as the manager sees them."""
    slug = hostile["project"].slug
    doc = {"slug": slug, "document_id": hostile["document"].pk}
    annotate_url = reverse("annotate", kwargs=doc) + f"?set={hostile['set'].pk}"
    span_url = reverse("annotate-span", kwargs={**doc, "span_id": hostile["span"].pk})
    student = quote(HOSTILE_USERNAME)
    return [
        reverse("home"),
        reverse("project-detail", kwargs={"slug": slug}),
        reverse("document-detail", kwargs=doc),
        annotate_url,
        f"{span_url}?set={hostile['set'].pk}",
        reverse("annotate-panels", kwargs=doc) + f"?set={hostile['set'].pk}",
        reverse("curation", kwargs={"slug": slug}),
        reverse("curation-document", kwargs=doc),
        reverse("agreement", kwargs={"slug": slug}),
        reverse("agreement-document", kwargs=doc),
        reverse("feedback", kwargs={"slug": slug}),
        reverse("feedback-document", kwargs=doc) + f"?student={student}",
        reverse("members", kwargs={"slug": slug}),
        reverse("progress", kwargs={"slug": slug}),
        reverse("assignments", kwargs={"slug": slug}),
        reverse("grades", kwargs={"slug": slug}),
        reverse("exports", kwargs={"slug": slug}),
    ]
    # Not the settings page: its schema editor refuses (500) label names that the
    # import (add labels) and the admin let in; reported, see the guidelines tests.


def logged_in_context(browser, live_server, user, **options):  # noqa: F811
    """A browser context with ``user``'s session cookie; closed by the caller."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 900}, **options
    )
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context
