"""Every page of a project carries the project's tabs, so no page is a dead end."""

import pytest
from django.urls import reverse

from annotator.templatetags.warrant_nav import PROJECT_PAGES


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", [url_name for _, _, url_name, _ in PROJECT_PAGES
                                      if url_name != "feedback"])
def test_each_project_page_shows_the_project_tabs(client_for, project, url_name):
    response = client_for("manager").get(reverse(url_name, kwargs={"slug": project.slug}))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-label="Project"' in html
    assert reverse("agreement", kwargs={"slug": project.slug}) in html


@pytest.mark.django_db
def test_the_document_agreement_page_shows_the_project_tabs(client_for, project, document):
    url = reverse("agreement-document", kwargs={"slug": project.slug, "document_id": document.pk})
    response = client_for("manager").get(url)
    assert response.status_code == 200
    assert 'aria-label="Project"' in response.content.decode()
