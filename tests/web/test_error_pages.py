"""Error pages say what went wrong, in the site's layout, not Django's bare defaults."""

from django.template.loader import render_to_string
from django.urls import reverse


def test_a_refusal_shows_the_views_sentence(client_for, project):
    url = reverse("document-import", kwargs={"slug": project.slug})
    response = client_for("annotator").get(url)
    assert response.status_code == 403
    assert (
        f"Your role in project {project.slug} does not allow you to import documents."
        in response.text
    )
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


def test_an_unknown_address_gets_a_plain_sentence_not_a_class_name(client_for, project):
    response = client_for("manager").get("/no/such/page/")
    assert response.status_code == 404
    assert "There is nothing at this address." in response.text
    assert "Resolver404" not in response.text


def test_a_missing_object_does_not_name_a_model(client_for, project):
    url = reverse("document-detail", kwargs={"slug": project.slug, "document_id": 99999})
    response = client_for("manager").get(url)
    assert response.status_code == 404
    assert "There is nothing at this address." in response.text
    assert "matches the given query" not in response.text


def test_a_method_the_address_does_not_take_gets_a_page_that_says_so(client_for, project):
    response = client_for("manager").get(reverse("logout"))
    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"
    assert "A GET request cannot be made here; it takes POST, OPTIONS." in response.text


def test_the_browsable_api_style_carries_the_csp_nonce(client_for, project):
    response = client_for("manager").get("/api/projects/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    nonce = response.wsgi_request.csp_nonce
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    assert f'<style nonce="{nonce}">' in response.text
