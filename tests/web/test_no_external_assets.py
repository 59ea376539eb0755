"""Warrant serves everything itself: no page loads a script or a style from elsewhere."""

import re

import pytest
from django.urls import reverse

EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize(
    "page", ["login", "home", "project-detail", "document-detail", "document-import"]
)
def test_page_references_no_external_url(client_for, project, document, page):
    kwargs = {
        "login": {},
        "home": {},
        "project-detail": {"slug": project.slug},
        "document-detail": {"slug": project.slug, "document_id": document.pk},
        "document-import": {"slug": project.slug},
    }[page]
    response = client_for("manager").get(reverse(page, kwargs=kwargs))
    assert response.status_code == 200
    html = response.content.decode()
    assert not EXTERNAL.findall(html)
    assert '<script src="/static/' in html
    assert '<link rel="stylesheet" href="/static/' in html
