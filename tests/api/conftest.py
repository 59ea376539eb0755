"""API fixtures: a client per actor, and annotation sets to read and write."""

import pytest
from rest_framework.test import APIClient

from annotator.models import AnnotationSet
from tests.factories import AnnotationSetFactory, MembershipFactory, UserFactory


def pytest_collection_modifyitems(items):
    """Each operation schemathesis fuzzes has a node id of its own.

    schemathesis 4 under pytest 9 names its items ``test_x[GET /api/...]`` but gives
    them all the function's node id, and pytest-xdist schedules by node id: under
    ``run.py test`` only one of the operations would run.
    """
    for item in items:
        originalname = getattr(item, "originalname", item.name)
        if item.name == originalname or not item.nodeid.endswith(f"::{originalname}"):
            continue
        if hasattr(item, "_id"):  # pytest 9's structured node ids
            item._id = item.parent.id.child(item.name)
        else:
            item._nodeid = f"{item.nodeid.removesuffix(originalname)}{item.name}"


@pytest.fixture
def api_for(members):
    """An APIClient authenticated as the given actor (``anonymous``: not at all)."""

    def make(actor: str) -> APIClient:
        client = APIClient()
        user = members[actor]
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def peer(project):
    """A second annotator of the project, whose set the first may not open when blind."""
    user = UserFactory(username="peer")
    MembershipFactory(project=project, user=user, role="annotator")
    return user


@pytest.fixture
def sets(members, peer, document):
    """The annotator's set, the peer's set and the gold set of ``document``."""
    return {
        "own": AnnotationSetFactory(document=document, annotator=members["annotator"]),
        "peer": AnnotationSetFactory(document=document, annotator=peer),
        "gold": AnnotationSet.objects.create(document=document, annotator=None, is_gold=True),
    }


def detail(response) -> str:
    """The message of an error response; every 4xx must carry one."""
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"], body
    return body["detail"]
