"""Every page at phone and desktop width, in real Chromium (issue 14).

The pages are listed from the URLconf: a named route is either a page here, or
in ``NOT_PAGES`` with the reason it is not one, so a new page cannot be left
out. Each page is opened with the demo project (the seed brief, an instructor,
three students, an agreement run, a final gold) plus a brief with a long title
and a long unbroken token, at 390 px (a phone) and 1440 px, and fails when the
document is wider than the viewport: a page must never scroll sideways (wide
tables scroll inside their own box).
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from playwright.sync_api import expect

from annotator.models import AnnotationSet, Document, ExportJob, ImportJob, Project
from annotator.services.curation import gold_finalize, gold_premerge
from annotator.services.demo import demo_create
from annotator.services.grading import grades_release
from annotator.services.projects import project_join_code_regenerate
from tests.browser.helpers import open_page
from tests.factories import DocumentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}

# Named routes that are not pages a person opens, and why.
NOT_PAGES = {
    "healthz": "load balancers' check, plain text",
    "favicon": "the icon itself",
    "api-schema": "OpenAPI document (YAML)",
    "api-docs": "Swagger UI, drf-spectacular's own page",
    "logout": "POST only",
    "password_change": "Django's form, not linked from Warrant",
    "password_change_done": "Django's form, not linked from Warrant",
    "password_reset": "Django's form, not linked from Warrant",
    "password_reset_done": "Django's form, not linked from Warrant",
    "password_reset_confirm": "Django's form, not linked from Warrant",
    "password_reset_complete": "Django's form, not linked from Warrant",
    "document-title": "POST only",
    "document-rerun": "POST only",
    "agreement-run": "POST only",
    "agreement-run-status": "htmx fragment of the agreement page",
    "agreement-report": "JSON download",
    "annotate-panels": "htmx fragment of the annotation page",
    "annotate-span-create": "POST only",
    "annotate-spans-bulk": "POST only",
    "annotate-span": "htmx fragment (span editor)",
    "annotate-span-delete": "POST only",
    "annotate-relation-create": "POST only",
    "annotate-relation-delete": "POST only",
    "annotate-relation-update": "POST only",
    "annotate-undo": "POST only",
    "annotate-redo": "POST only",
    "annotate-submit": "POST only",
    "annotate-reopen": "POST only",
    "annotate-suggestions": "JSON for the annotation page",
    "annotate-suggestions-accept": "POST only",
    "annotate-suggestions-dismiss": "POST only",
    "export-progress": "htmx fragment of the exports page",
    "export-download": "file download",
    "guidelines-preview": "htmx fragment of the settings page",
    "member-add": "POST only",
    "members-csv": "POST only (upload)",
    "members-download": "CSV download",
    "member-role": "POST only",
    "member-remove": "POST only",
    "join-code-regenerate": "POST only",
    "assignments-run": "POST only",
    "assignment-add": "POST only",
    "project-deadline": "POST only",
    "assignment-update": "POST only",
    "assignments-csv": "CSV download",
    "progress-csv": "CSV download",
    "curation-premerge": "POST only",
    "curation-span-accept": "POST only",
    "curation-span-reject": "POST only",
    "curation-span-relabel": "POST only",
    "curation-relation-accept": "POST only",
    "curation-relation-reject": "POST only",
    "curation-finalize": "POST only",
    "curation-reopen": "POST only",
    "grades-csv": "CSV download",
    "grades-release": "POST only",
    "grades-reopen": "POST only",
    "suggestion-train": "POST only",
    "suggestion-model-status": "htmx fragment of the suggestions page",
}


def _route_names(patterns):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace or str(entry.pattern) == "api/":  # the admin, the REST API
                continue
            yield from _route_names(entry.url_patterns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry.name


def _demo(*, graded=True):
    """The demo project, with a final gold, released grades, jobs and a long brief
    (``graded=False``: as created, carol's set still open for her)."""
    demo_create(password="layout-test")
    project = Project.objects.get(slug="demo")
    document = project.documents.get()
    if not graded:
        return project, document, None
    gold_premerge(document=document, min_votes=2, expected_version=0)
    gold = AnnotationSet.objects.get(document=document, is_gold=True)
    gold_finalize(document=document, expected_version=gold.version)
    grades_release(project=project, released=True)
    project_join_code_regenerate(project=project)
    long_word = "https://example.org/" + "northport-harbour-district-" * 8
    DocumentFactory(
        project=project, external_id="a-" + "very-long-external-id-" * 6,
        title="A brief whose title goes on " + "and on " * 20,
        text=f"A source at {long_word} and nothing else.\n\nSecond paragraph.",
    )
    instructor = project.memberships.get(user__username="instructor").user
    import_job = ImportJob.objects.create(project=project, requested_by=instructor,
                                          status="done", progress=1.0, documents=1)
    ExportJob.objects.create(project=project, requested_by=instructor, format="jsonl")
    return project, document, import_job


def _pages(project, document, import_job):
    """(URL, who opens it) for every page in the URLconf."""
    slug = {"slug": project.slug}
    doc = {**slug, "document_id": document.pk}
    return {
        "home": (reverse("home"), "instructor"),
        "login": (reverse("login"), None),
        "project-new": (reverse("project-new"), "instructor"),
        "project-detail": (reverse("project-detail", kwargs=slug), "instructor"),
        "project-settings": (reverse("project-settings", kwargs=slug), "instructor"),
        "project-delete": (reverse("project-delete", kwargs=slug), "instructor"),
        "document-import": (reverse("document-import", kwargs=slug), "instructor"),
        "import-job": (reverse("import-job", kwargs={**slug, "job_id": import_job.pk}),
                       "instructor"),
        "document-detail": (reverse("document-detail", kwargs=doc), "instructor"),
        "annotate": (reverse("annotate", kwargs=doc), "carol"),
        "agreement": (reverse("agreement", kwargs=slug), "instructor"),
        "agreement-document": (reverse("agreement-document", kwargs=doc), "instructor"),
        "api-tokens": (reverse("api-tokens"), "instructor"),
        "exports": (reverse("exports", kwargs=slug), "instructor"),
        "members": (reverse("members", kwargs=slug), "instructor"),
        "join": (reverse("join"), "alice"),
        "join-code": (reverse("join-code", kwargs={"code": project.join_code or "x"}), "alice"),
        "assignments": (reverse("assignments", kwargs=slug), "instructor"),
        "progress": (reverse("progress", kwargs=slug), "instructor"),
        "curation": (reverse("curation", kwargs=slug), "instructor"),
        "curation-document": (reverse("curation-document", kwargs=doc), "instructor"),
        "grades": (reverse("grades", kwargs=slug), "instructor"),
        "feedback": (reverse("feedback", kwargs=slug), "alice"),
        "feedback-document": (reverse("feedback-document", kwargs=doc), "alice"),
        "suggestion-settings": (reverse("suggestion-settings", kwargs=slug), "instructor"),
    }


def test_every_route_is_a_page_here_or_said_not_to_be(db):
    names = set(_route_names(get_resolver().url_patterns))
    listed = set(_pages(Project(slug="x"), Document(pk=1), ImportJob(pk=1))) | set(NOT_PAGES)
    assert names - listed == set(), "a new page: add it to _pages (or to NOT_PAGES)"
    assert listed - names == set(), "listed routes the URLconf no longer has"


def _overflow(page) -> dict:
    return page.evaluate(
        "() => ({width: document.documentElement.scrollWidth, viewport: innerWidth,"
        " header: document.querySelector('body > header').getBoundingClientRect().height})"
    )


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1440px"])
def test_no_page_scrolls_sideways(page_for, viewport):
    project, document, import_job = _demo()
    pages = _pages(project, document, import_job)
    tabs = {}
    too_wide = {}
    for name, (url, username) in pages.items():
        if username not in tabs:
            user = project.memberships.get(user__username=username).user if username else None
            tabs[username] = page_for(user, viewport=viewport)
        tab = tabs[username]
        response = tab.goto(url)
        assert response.status == 200, f"{name}: {url} answered {response.status}"
        measured = _overflow(tab)
        if measured["width"] > measured["viewport"]:
            too_wide[name] = measured["width"]
        if viewport is PHONE:
            # The header stays compact: two short rows, every link in them.
            assert measured["header"] < 100, f"{name}: header {measured['header']} px tall"
    # The second brief (a long title, a long token): its pages too.
    other = project.documents.exclude(pk=document.pk).get()
    for name in ("document-detail", "agreement-document", "curation-document"):
        url = reverse(name, kwargs={"slug": project.slug, "document_id": other.pk})
        tab = tabs["instructor"]
        assert tab.goto(url).status == 200
        measured = _overflow(tab)
        if measured["width"] > measured["viewport"]:
            too_wide[f"{name} (long title)"] = measured["width"]
    assert too_wide == {}, f"wider than {viewport['width']} px: {too_wide}"


def test_phone_header_reaches_every_link(page_for):
    project, _, _ = _demo()
    tab = page_for(project.memberships.get(user__username="instructor").user, viewport=PHONE)
    tab.goto(reverse("project-detail", kwargs={"slug": project.slug}))
    for control in ("header .brand", "header a[href$='/settings/tokens/']",
                    "header button:has-text('Log out')", "header .breadcrumbs a >> nth=0"):
        box = tab.locator(control).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], control
    # Every project page is one tap away, inside the viewport's width.
    for link in tab.locator(".project-nav a").all():
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], link.inner_text()


def test_side_panel_stays_in_view_while_the_text_scrolls(page_for):
    project, document, _ = _demo(graded=False)
    # A long brief: the seed brief five times over.
    document.text = "\n\n".join([document.text] * 5)
    document.save(update_fields=["text"])
    carol = project.memberships.get(user__username="carol").user
    tab = page_for(carol, viewport=DESKTOP)
    open_page(tab, document)
    text = tab.locator("#doc-text").bounding_box()
    side = tab.locator("aside.side").bounding_box()
    # The text column takes the width the side panel leaves (no dead gap between them).
    assert side["x"] - (text["x"] + text["width"]) < 40
    tab.mouse.wheel(0, 3000)
    tab.wait_for_timeout(200)
    assert tab.evaluate("scrollY") > 2000
    editor = tab.locator("#span-editor").bounding_box()
    assert 0 <= editor["y"] < DESKTOP["height"] / 2, "the span editor scrolled away"
    palette = tab.locator(".palette").bounding_box()
    assert 0 <= palette["y"] < 200, "the palette scrolled away"


def test_annotating_by_touch_on_a_phone(page_for):
    """Select text (as a long press does), then tap a label in the palette; tap a span."""
    project, document, _ = _demo(graded=False)
    carol = project.memberships.get(user__username="carol").user
    tab = page_for(carol, viewport=PHONE, has_touch=True, is_mobile=True)
    open_page(tab, document)
    phrase = "Cleaner air would save lives."
    # A long press selects a word and its handles stretch the selection: the page sees
    # the same selection either way. Chromium's headless touch cannot drag handles.
    tab.evaluate(
        """(phrase) => {
          const root = document.getElementById('doc-text');
          const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const at = n.data.indexOf(phrase);
            if (at < 0) continue;
            n.parentElement.scrollIntoView({block: 'center'});
            const range = document.createRange();
            range.setStart(n, at);
            range.setEnd(n, at + phrase.length);
            getSelection().removeAllRanges();
            getSelection().addRange(range);
            return;
          }
          throw new Error('phrase not found');
        }""",
        phrase,
    )
    # The palette stays reachable over the text (sticky) and takes a tap.
    button = tab.locator('.label-button:has-text("Reason")')
    box = button.bounding_box()
    assert 0 <= box["y"] < PHONE["height"] and box["x"] + box["width"] <= PHONE["width"]
    button.tap()
    expect(tab.locator("#status-line")).to_contain_text("Saved")
    aset = AnnotationSet.objects.get(document=document, annotator=carol)
    span = aset.spans.get()
    assert document.text[span.start : span.end] == phrase
    assert span.label.name == "Reason"
    # A tap on the span selects it: its editor opens.
    tab.locator(f'#doc-text .g[data-k="{span.pk}"]').first.tap()
    expect(tab.locator("#span-editor .excerpt")).to_contain_text("Cleaner air")
    assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
