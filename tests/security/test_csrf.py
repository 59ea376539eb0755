"""CSRF on every write: every URL of the site refuses a tokenless write from a session (issue 7).

The URLs are enumerated from the resolver, not listed by hand: a new write URL
without CSRF protection fails here. API requests authenticated by a token need
no CSRF token (no browser sends one by itself); session-authenticated API writes do.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.authtoken.models import Token

from annotator.models import AnnotationSet, Membership, Project
from annotator.services.projects import project_join_code_regenerate
from tests.agreement_helpers import TEXT, annotate
from tests.factories import AnnotationSetFactory, DocumentFactory

WRITE_METHODS = ["post", "put", "patch", "delete"]
# What Django's and DRF's CSRF refusals say.
CSRF_REFUSAL = re.compile(r"CSRF (verification )?failed", re.IGNORECASE)
_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def _walk(resolver: URLResolver, prefix: str = ""):
    """(route text, pattern) of every URL pattern, included ones too."""
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def _path(route: str, values: dict[str, str]) -> str:
    """A concrete path for a route, each parameter filled in by its name."""
    path = _REGEX_GROUP.sub(lambda m: str(values.get(m["name"], "annotator")), route)
    path = path.replace("^", "").replace("$", "").replace("\\", "")
    return "/" + _ROUTE_PARAM.sub(lambda m: str(values.get(m["name"], "1")), path)


def _csrf_refusal(response) -> bool:
    # DRF's HTML renderers (Swagger UI) print only the status; the reason is in .data.
    detail = str((getattr(response, "data", None) or {}).get("detail", ""))
    return bool(CSRF_REFUSAL.search(response.content.decode() + detail))


def all_routes():
    return list(_walk(get_resolver()))


def _counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@pytest.fixture
def world(project, members, document):
    brief = DocumentFactory(project=project, text=TEXT)
    mine = annotate(project, brief, "annotator", [(61, 80, "MajorClaim"), (0, 14, "Reason")],
                    [(1, 0, "supports")], status="in_progress")
    project_join_code_regenerate(project=project)
    manager = members["manager"]
    manager.is_staff = manager.is_superuser = True
    manager.save()
    return {
        "slug": project.slug,
        "document_id": brief.pk,
        "span_id": mine.spans.first().pk,
        "relation_id": mine.relations.first().pk,
        "set_id": mine.pk,
        "assignment_id": mine.pk,
        "user_id": members["viewer"].pk,
        "id": members["viewer"].pk,
        "object_id": project.pk,
        "code": project.join_code,
        "app_label": "annotator",
    }


def test_the_walk_finds_the_sites_write_urls():
    routes = {pattern.name for _, pattern in all_routes()}
    for name in ["annotate-span-create", "member-add", "api-span-list", "logout",
                 "password_change", "curation-finalize"]:
        assert name in routes
    assert len(routes) > 60


@pytest.mark.django_db
def test_every_url_refuses_a_session_write_without_the_csrf_token(world, members):
    client = Client(enforce_csrf_checks=True)
    client.force_login(members["manager"])
    before = _counts()
    versions = sorted(AnnotationSet.objects.values_list("pk", "version"))
    checked = 0
    earlier: set[str] = set()
    for route, _pattern in all_routes():
        path = _path(route, world)
        # The path reaches this pattern, or one before it that shadows it
        # (the throttled login pages stand before Django's own).
        route = route.replace("^", "")  # as ResolverMatch joins them
        assert resolve(path).route in earlier | {route}, (route, path)
        earlier.add(route)
        # The API reads JSON (some views refuse a form with 415 before CSRF is checked).
        body = {"data": "{}", "content_type": "application/json"} if route.startswith(
            "api/") else {}
        for method in WRITE_METHODS:
            response = getattr(client, method)(path, **body)
            assert response.status_code == 403, f"{method.upper()} {path}: {response.status_code}"
            assert _csrf_refusal(response), f"{method.upper()} {path}"
            checked += 1
    assert checked > 200
    assert _counts() == before
    assert sorted(AnnotationSet.objects.values_list("pk", "version")) == versions
    assert Membership.objects.get(project__slug=world["slug"], user=members["viewer"])
    assert Project.objects.get(slug=world["slug"]).join_code == world["code"]


@pytest.mark.django_db
def test_the_same_write_with_the_token_goes_through(world, members):
    """The refusals above are CSRF's, not the view's: with the token the write is done."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(members["manager"])
    client.get(f"/p/{world['slug']}/members/")
    token = client.cookies["csrftoken"].value
    response = client.post(f"/p/{world['slug']}/members/{world['user_id']}/role/",
                           {"role": "curator"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302
    assert Membership.objects.get(user=members["viewer"]).role == "curator"


@pytest.fixture
def own_set(document, members):
    return AnnotationSetFactory(document=document, annotator=members["annotator"],
                                status="in_progress")


@pytest.mark.django_db
def test_session_authenticated_api_write_needs_the_csrf_token(own_set, members):
    client = Client(enforce_csrf_checks=True)
    client.force_login(members["annotator"])
    url = f"/api/annotation-sets/{own_set.pk}/submit/"
    response = client.post(url, {"version": own_set.version}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF Failed" in response.json()["detail"]
    own_set.refresh_from_db()
    assert own_set.status == "in_progress"


@pytest.mark.django_db
def test_token_authenticated_api_write_needs_no_csrf_token(own_set, members):
    token = Token.objects.create(user=members["annotator"])
    client = Client(enforce_csrf_checks=True)
    url = f"/api/annotation-sets/{own_set.pk}/submit/"
    response = client.post(url, {"version": own_set.version}, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200, response.content
    own_set.refresh_from_db()
    assert own_set.status == "submitted"
