"""Every page once per actor: who gets the page, a 403, a 404 or the login page.

A project the user is not a member of answers 404, the same as an unknown
slug, so that project slugs cannot be probed; a member lacking one page's
permission gets 403 (annotator/web/access.py).
"""

import pytest
from django.urls import reverse

from annotator.models import Document
from tests.conftest import ALL_ACTORS

# fmt: off
PAGE_STATUS = {
    #                   manager curator annotator viewer non_member anonymous
    "home":            (200,    200,    200,      200,   200,       302),
    "project-detail":  (200,    200,    200,      200,   404,       302),
    "document-detail": (200,    200,    200,      200,   404,       302),
    "document-import": (200,    403,    403,      403,   404,       302),
}
# fmt: on


def page_url(page, project, document):
    if page == "home":
        return reverse("home")
    if page == "document-detail":
        return reverse(page, kwargs={"slug": project.slug, "document_id": document.pk})
    return reverse(page, kwargs={"slug": project.slug})


@pytest.mark.parametrize(
    ("page", "actor", "status"),
    [
        (page, actor, status)
        for page, statuses in PAGE_STATUS.items()
        for actor, status in zip(ALL_ACTORS, statuses, strict=True)
    ],
)
def test_get_page_status_per_actor(client_for, project, document, page, actor, status):
    url = page_url(page, project, document)
    response = client_for(actor).get(url)
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("manager", 400),  # allowed, but the form has no file
        ("curator", 403),
        ("annotator", 403),
        ("viewer", 403),
        ("non_member", 404),
        ("anonymous", 302),
    ],
)
def test_import_post_status_per_actor_and_nothing_written_when_refused(
    client_for, project, actor, status
):
    url = reverse("document-import", kwargs={"slug": project.slug})
    response = client_for(actor).post(url, {"clean": "on"})
    assert response.status_code == status
    assert Document.objects.count() == 0


@pytest.mark.parametrize("page", ["project-detail", "document-import"])
def test_unknown_project_slug_is_404_for_a_member(client_for, project, page):
    response = client_for("manager").get(reverse(page, kwargs={"slug": "no-such-project"}))
    assert response.status_code == 404


def test_document_of_another_project_is_404(client_for, project, document):
    from tests.factories import DocumentFactory, ProjectFactory

    other = DocumentFactory(project=ProjectFactory(slug="other"))
    url = reverse("document-detail", kwargs={"slug": project.slug, "document_id": other.pk})
    assert client_for("manager").get(url).status_code == 404


def test_superuser_who_is_not_a_member_sees_the_project(client, project, document):
    from tests.factories import UserFactory

    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert client.get(reverse("project-detail", kwargs={"slug": project.slug})).status_code == 200
    assert client.get(reverse("document-import", kwargs={"slug": project.slug})).status_code == 200
