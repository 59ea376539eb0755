"""Playwright fixtures: one Chromium per test module, a logged-in page per user.

Playwright's sync API runs an event loop in this thread, which makes Django
believe it is in async code; the ORM calls of the tests are synchronous, so
the guard (DJANGO_ALLOW_ASYNC_UNSAFE) is switched off while Playwright runs,
and only then: the variable would leak into every subprocess a later test
starts (``manage.py check --deploy`` warns about it).
"""

from __future__ import annotations

import os
import time

import pytest
from django.conf import settings
from django.test import Client

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Long enough for a slow CI machine, short enough that a broken test fails fast.
TIMEOUT_MS = 10_000
DESKTOP = {"width": 1400, "height": 900}


@pytest.fixture(scope="module")
def _chromium_cache():
    cache: dict = {}
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    yield cache
    for browser, playwright in cache.values():
        browser.close()
        playwright.stop()
    if before is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def browser(_chromium_cache, chromium_path):
    if chromium_path not in _chromium_cache:
        from playwright.sync_api import sync_playwright

        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        playwright = sync_playwright().start()
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        _chromium_cache[chromium_path] = (browser, playwright)
    return _chromium_cache[chromium_path][0]


@pytest.fixture
def page_for(browser, live_server):
    """``page_for(user, **options)``: a new tab logged in as ``user`` (``None``: nobody)
    in its own browser context, made with Playwright's ``new_context`` options
    (``viewport``, ``color_scheme``, ``has_touch``...) over a 1400x900 desktop;
    ``context=``: a new tab in that context instead.

    Uncaught JavaScript errors fail the test.
    """
    contexts = []
    pages = []
    errors: list[str] = []

    def make(user, *, context=None, **options):
        if context is None:
            context = browser.new_context(
                **{"base_url": live_server.url, "viewport": DESKTOP, **options}
            )
            if user is not None:
                client = Client()
                client.force_login(user)
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
            contexts.append(context)
        elif options:
            raise TypeError("context options apply to a new context only")
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        pages.append(page)
        return page

    yield make
    # Let the page's own requests (a panel refresh after the last save) finish
    # before the database is flushed under the live server's feet.
    # Polled from here: wait_for_function evaluates its predicate with eval, which
    # the Content-Security-Policy forbids (page.evaluate goes through DevTools).
    for page in pages:
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while not page.is_closed() and time.monotonic() < deadline:
            if not page.evaluate("!!document.querySelector('.htmx-request')"):
                break
            page.wait_for_timeout(50)
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"
