"""API tokens: the services and the settings page that creates and revokes them."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotator.services.tokens import api_token_create, api_token_get, api_token_revoke

URL = "/settings/tokens/"


def test_the_page_has_its_url_name():
    assert reverse("api-tokens") == URL


def test_create_gives_one_token_and_regenerating_replaces_it(members):
    user = members["annotator"]
    first = api_token_create(user=user)
    second = api_token_create(user=user)
    assert first.key != second.key
    assert list(Token.objects.filter(user=user)) == [second]
    assert api_token_get(user=user) == second


def test_revoke_deletes_the_token_and_says_whether_there_was_one(members):
    user = members["viewer"]
    api_token_create(user=user)
    assert api_token_revoke(user=user) is True
    assert api_token_revoke(user=user) is False
    assert api_token_get(user=user) is None


@pytest.mark.parametrize("actor", ["manager", "curator", "annotator", "viewer", "non_member"])
def test_every_logged_in_user_has_the_page(client_for, actor):
    response = client_for(actor).get(URL)
    assert response.status_code == 200
    assert b"You have no API token." in response.content


def test_anonymous_is_sent_to_the_login_page(client_for):
    response = client_for("anonymous").get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client_for("anonymous").post(URL, {"action": "create"}).status_code == 302
    assert not Token.objects.exists()


def test_a_created_token_is_shown_once_and_works_for_the_api(client_for, members, project):
    client = client_for("annotator")
    created = client.post(URL, {"action": "create"})
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"] or "no-cache" in created["Cache-Control"]
    key = Token.objects.get(user=members["annotator"]).key
    assert key.encode() in created.content
    again = client.get(URL)
    assert key.encode() not in again.content
    assert key[:6].encode() in again.content
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(f"/api/projects/{project.slug}/").status_code == 200


def test_regenerating_on_the_page_stops_the_old_token(client_for, members, project):
    client = client_for("viewer")
    client.post(URL, {"action": "create"})
    old = Token.objects.get(user=members["viewer"]).key
    client.post(URL, {"action": "create"})
    new = Token.objects.get(user=members["viewer"]).key
    assert old != new
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert api.get("/api/projects/").status_code == 401


def test_revoking_on_the_page_stops_the_token(client_for, members):
    client = client_for("curator")
    client.post(URL, {"action": "create"})
    key = Token.objects.get(user=members["curator"]).key
    response = client.post(URL, {"action": "revoke"}, follow=True)
    assert b"revoked" in response.content
    assert not Token.objects.filter(user=members["curator"]).exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/projects/").status_code == 401


def test_one_user_cannot_touch_another_users_token(client_for, members):
    other = api_token_create(user=members["manager"])
    client_for("annotator").post(URL, {"action": "revoke"})
    assert Token.objects.filter(pk=other.pk).exists()


def test_the_forms_need_a_csrf_token(members):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(members["annotator"])
    assert client.post(URL, {"action": "create"}).status_code == 403
    assert not Token.objects.exists()


def test_an_unknown_action_changes_nothing(client_for, members):
    api_token_create(user=members["annotator"])
    key = Token.objects.get(user=members["annotator"]).key
    response = client_for("annotator").post(URL, {"action": "explode"}, follow=True)
    assert response.status_code == 200
    assert Token.objects.get(user=members["annotator"]).key == key
