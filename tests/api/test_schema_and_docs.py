"""The OpenAPI schema and the interactive docs are served, with no CDN."""

import re

import pytest
import yaml
from django.urls import reverse
from rest_framework.test import APIClient


@pytest.fixture
def anonymous():
    return APIClient()


def test_schema_is_served_to_anyone_and_lists_every_api_route(anonymous, db):
    response = anonymous.get(reverse("api-schema"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json() if "json" in response["Content-Type"] else yaml.safe_load(
        response.content
    )
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    for path in [
        "/api/projects/",
        "/api/projects/{slug}/",
        "/api/projects/{slug}/documents/",
        "/api/projects/{slug}/documents/{document_id}/",
        "/api/projects/{slug}/documents/{document_id}/annotation-sets/",
        "/api/annotation-sets/{set_id}/",
        "/api/annotation-sets/{set_id}/spans/",
        "/api/annotation-sets/{set_id}/spans/{span_id}/",
        "/api/annotation-sets/{set_id}/relations/",
        "/api/annotation-sets/{set_id}/relations/{relation_id}/",
        "/api/annotation-sets/{set_id}/submit/",
        "/api/annotation-sets/{set_id}/reopen/",
        "/api/projects/{slug}/export-jobs/",
        "/api/export-jobs/{job_id}/",
        "/api/export-jobs/{job_id}/download/",
        "/api/projects/{slug}/agreement/",
        "/api/agreement-runs/{run_id}/",
    ]:
        assert path in paths
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_schema_states_that_offsets_count_code_points(anonymous, db):
    text = anonymous.get(reverse("api-schema")).content.decode()
    assert "Unicode code points" in text
    assert "not UTF-16 code units" in text


def test_schema_validates_against_the_openapi_specification(db):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    validate_schema(SchemaGenerator().get_schema(request=None, public=True))


def test_docs_page_is_served_and_loads_only_local_assets(anonymous, db):
    response = anonymous.get(reverse("api-docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)["\']', html)
    assert any("swagger-ui" in a for a in assets), assets
    for asset in assets:
        assert not re.match(r"^(https?:)?//", asset), f"external asset {asset}"
    assert "cdn.jsdelivr" not in html and "unpkg" not in html
    assert all(a.startswith("/static/") or a.startswith("/api/") for a in assets), assets


@pytest.mark.parametrize("path", ["/api/", "/api/nothing/", "/api/projects/a/b/c/d/e/"])
def test_an_unknown_api_path_is_a_json_404_with_a_message(anonymous, path):
    response = anonymous.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "No such API endpoint."}
