"""Hostile HTML in every user-written field is shown as text, never run (issue 7).

The fast test reads the HTML the server sends; the browser test opens the same
pages in Chromium with the Content-Security-Policy switched off, so that only
escaping stands between the payload and the page: a payload that reached the
DOM as markup would run and set ``window.__pwned``.
"""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, ProjectFactory

from .conftest import (
    GUIDELINES,
    HOSTILE,
    IMG,
    LABEL_NAME,
    SCRIPT,
    SVG,
    TYPE_NAME,
    hostile_pages,
    logged_in_context,
)

# Markup that must never reach a page unescaped.
RAW = [SCRIPT, IMG, SVG[2:], LABEL_NAME[3:], TYPE_NAME, "javascript:window"]

# Everything that would run: inline handlers, scripts that mention the payload,
# javascript: URLs. Returns a description of each, or an empty list.
FIND_ACTIVE_MARKUP = """
() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.trim().toLowerCase();
      if (name.startsWith('on')) found.push(`${el.tagName} ${name}=${attr.value}`);
      if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(name)
          && value.startsWith('javascript:')) found.push(`${el.tagName} ${name}=${attr.value}`);
    }
    if (el.tagName === 'SCRIPT' && el.textContent.includes('__pwned')
        && el.type !== 'application/json') found.push(`SCRIPT ${el.textContent}`);
  }
  return found;
}
"""


@pytest.mark.django_db
def test_pages_send_hostile_fields_escaped(client_for, hostile):
    client = client_for("manager")
    for url in hostile_pages(hostile):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for raw in RAW:
            assert raw not in body, f"{url} holds {raw!r} unescaped"
    # Each field does reach the pages, escaped (so the check above is not vacuous).
    seen = "".join(client.get(url).content.decode() for url in hostile_pages(hostile))
    for field in [HOSTILE, LABEL_NAME, TYPE_NAME, f"{IMG}.txt"]:
        assert html.escape(field) in seen or html.escape(field, quote=False) in seen, field


@pytest.mark.django_db
def test_guidelines_preview_strips_scripts_and_javascript_links(client_for, hostile):
    url = reverse("guidelines-preview", kwargs={"slug": hostile["project"].slug})
    response = client_for("manager").post(url, {"guidelines": GUIDELINES})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Rules</h1>" in body and "click me" in body
    for raw in RAW:
        assert raw not in body
    assert "<script" not in body and "<img" not in body and "<svg" not in body


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_hostile_fields_never_run_in_chromium(browser, live_server, hostile, members):
    context = logged_in_context(browser, live_server, members["manager"], bypass_csp=True)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        for url in hostile_pages(hostile):
            response = page.goto(url)
            assert response.status == 200, url
            page.wait_for_load_state("networkidle")
            assert page.evaluate("typeof window.__pwned") == "undefined", url
            assert page.evaluate(FIND_ACTIVE_MARKUP) == [], url
        # The annotate page draws relation arrows from the type names in JavaScript.
        annotate_url = hostile_pages(hostile)[3]
        page.goto(annotate_url)
        page.wait_for_selector("#links text", state="attached")
        assert page.locator("#links text").first.text_content() == TYPE_NAME
        assert page.evaluate(FIND_ACTIVE_MARKUP) == []
        # The guidelines preview, through the settings page's htmx button (in a
        # project whose schema the settings page can show).
        clean = ProjectFactory(slug="clean")
        MembershipFactory(project=clean, user=members["manager"], role="manager")
        page.goto(reverse("project-settings", kwargs={"slug": clean.slug}))
        page.fill("#id_guidelines", GUIDELINES)
        page.click("button[name=preview]")
        page.wait_for_selector("#guidelines-preview h1")
        assert page.locator("#guidelines-preview").inner_text().startswith("Rules")
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.evaluate(FIND_ACTIVE_MARKUP) == []
    finally:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"
