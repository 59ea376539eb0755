"""Error pages say what went wrong, in the site's layout, not Django's bare defaults."""

from django.template.loader import render_to_string
from django.urls import reverse


def test_a_refusal_shows_the_views_sentence(client_for, project):
    url = reverse("document-import", kwargs={"slug": project.slug})
    response = client_for("annotator").get(url)
    assert response.status_code == 403
    assert f"you may not document import in project {project.slug}" in response.text
    assert 'class="topbar"' in response.text  # the site's layout, with its navigation


def test_unknown_and_foreign_projects_get_the_same_404_sentence(client_for, project):
    # The sentence must not tell a non-member that the slug exists.
    unknown = client_for("manager").get(reverse("project-detail", kwargs={"slug": "nope"}))
    url = reverse("project-detail", kwargs={"slug": project.slug})
    foreign = client_for("non_member").get(url)
    assert unknown.status_code == foreign.status_code == 404
    assert "No such project." in unknown.text
    assert "No such project." in foreign.text


def test_the_500_page_renders_without_a_request_or_a_database():
    # Django's server_error renders it with an empty context; it must not need more.
    html = render_to_string("500.html")
    assert "The error has been logged" in html
