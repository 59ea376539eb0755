"""The icon: /favicon.ico answers 200 with an icon, and every page links it (issue 14)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_favicon_is_an_icon_served_by_warrant(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    body = response.content
    # An ICO file: reserved 0, type 1 (icon), then the count of images
    # (https://learn.microsoft.com/en-us/previous-versions/ms997538(v=msdn.10)).
    assert body[:4] == b"\x00\x00\x01\x00"
    assert int.from_bytes(body[4:6], "little") == 3
    assert "max-age=86400" in response["Cache-Control"]
    assert "sessionid" not in response.cookies


def test_favicon_refuses_writes(client):
    assert client.post("/favicon.ico").status_code == 405


@pytest.mark.parametrize("actor", ["anonymous", "annotator"])
def test_every_page_links_the_icon(client_for, actor):
    url = reverse("login") if actor == "anonymous" else reverse("home")
    html = client_for(actor).get(url).content.decode()
    link = re.search(r'<link rel="icon" href="([^"]+)"', html)
    assert link and link.group(1) == "/static/annotator/favicon.ico"
    # The linked static file is the icon /favicon.ico serves.
    found = finders.find("annotator/favicon.ico")
    assert found and Path(found).read_bytes() == client_for(actor).get("/favicon.ico").content


def test_error_pages_link_the_icon_too(client):
    html = client.get("/no-such-page/").content.decode()
    assert '<link rel="icon"' in html
