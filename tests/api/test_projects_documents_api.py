"""Projects and documents over the API, once per actor, and pagination."""

import pytest

from tests.api.conftest import detail
from tests.conftest import ALL_ACTORS
from tests.factories import DocumentFactory, ProjectFactory

# fmt: off
READ_STATUS = {
    #                    manager curator annotator viewer non_member anonymous
    "project-list":     (200,    200,    200,      200,   200,       401),
    "project-detail":   (200,    200,    200,      200,   404,       401),
    "document-list":    (200,    200,    200,      200,   404,       401),
    "document-detail":  (200,    200,    200,      200,   404,       401),
}
# fmt: on


def read_url(endpoint, project, document):
    return {
        "project-list": "/api/projects/",
        "project-detail": f"/api/projects/{project.slug}/",
        "document-list": f"/api/projects/{project.slug}/documents/",
        "document-detail": f"/api/projects/{project.slug}/documents/{document.pk}/",
    }[endpoint]


@pytest.mark.parametrize(
    ("endpoint", "actor", "status"),
    [
        (endpoint, actor, status)
        for endpoint, statuses in READ_STATUS.items()
        for actor, status in zip(ALL_ACTORS, statuses, strict=True)
    ],
)
def test_read_status_per_actor(api_for, project, document, endpoint, actor, status):
    response = api_for(actor).get(read_url(endpoint, project, document))
    assert response.status_code == status
    if status >= 400:
        detail(response)
    if status == 401:
        assert response["WWW-Authenticate"] == "Token"


def test_unknown_project_is_the_same_404_as_a_project_one_is_not_in(api_for, project):
    outsider = api_for("non_member")
    unknown = outsider.get("/api/projects/no-such-project/")
    hidden = outsider.get(f"/api/projects/{project.slug}/")
    assert unknown.status_code == hidden.status_code == 404
    assert detail(unknown) == detail(hidden)


def test_project_list_shows_only_the_users_projects_with_their_role(api_for, members, project):
    ProjectFactory(slug="elsewhere")
    body = api_for("curator").get("/api/projects/").json()
    assert [p["slug"] for p in body["results"]] == ["sanctions"]
    assert body["results"][0]["role"] == "curator"
    assert api_for("non_member").get("/api/projects/").json()["results"] == []


def test_project_detail_has_the_schema_and_the_users_permissions(api_for, project):
    body = api_for("viewer").get(f"/api/projects/{project.slug}/").json()
    assert [label["name"] for label in body["schema"]["span_labels"]] == [
        "MajorClaim",
        "Claim",
        "Reason",
        "Evidence",
    ]
    supports = next(r for r in body["schema"]["relation_types"] if r["name"] == "supports")
    assert ["*", "Claim"] in supports["allowed"]
    assert body["role"] == "viewer"
    assert "export.create" in body["permissions"]
    assert "annotation_set.annotate" not in body["permissions"]


def test_document_detail_has_the_canonical_text_and_its_length_in_code_points(api_for, project):
    text = "Sanctions 🌍 work.\nExports fell."
    document = DocumentFactory(project=project, text=text)
    body = api_for("annotator").get(f"/api/projects/{project.slug}/documents/{document.pk}/")
    assert body.json()["text"] == text
    assert body.json()["characters"] == len(text) == 31  # the globe is one code point


def test_document_of_another_project_is_404(api_for, project):
    other = DocumentFactory(project=ProjectFactory(slug="other"))
    response = api_for("manager").get(f"/api/projects/{project.slug}/documents/{other.pk}/")
    assert response.status_code == 404
    detail(response)


def test_document_list_is_paginated_by_50_and_the_client_may_ask_for_smaller_pages(
    api_for, project
):
    DocumentFactory.create_batch(55, project=project)
    client = api_for("viewer")
    url = f"/api/projects/{project.slug}/documents/"
    first = client.get(url).json()
    assert first["count"] == 55
    assert len(first["results"]) == 50
    assert first["next"].endswith("?page=2")
    assert "text" not in first["results"][0]
    second = client.get(url, {"page": 2}).json()
    assert len(second["results"]) == 5
    assert second["next"] is None
    small = client.get(url, {"page_size": 10, "page": 3}).json()
    assert len(small["results"]) == 10
    ids = [d["id"] for page in (first, second) for d in page["results"]]
    assert len(set(ids)) == 55


def test_a_page_past_the_end_is_404_with_a_message(api_for, project, document):
    response = api_for("viewer").get(f"/api/projects/{project.slug}/documents/", {"page": 9})
    assert response.status_code == 404
    detail(response)


def test_token_authentication_works_and_a_bad_token_is_401(members, project):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=members["annotator"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(f"/api/projects/{project.slug}/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    response = client.get(f"/api/projects/{project.slug}/")
    assert response.status_code == 401
    detail(response)
