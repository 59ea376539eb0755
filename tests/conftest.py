"""Fixtures shared by the whole suite: a project with one user per role."""

import os
import shutil
from pathlib import Path

import pytest

from tests.factories import DocumentFactory, MembershipFactory, ProjectFactory, UserFactory

ROLES = ["manager", "curator", "annotator", "viewer"]
# Every role a request can come from, for tests parametrised over the permission matrix.
ALL_ACTORS = [*ROLES, "non_member", "anonymous"]

SHARED_CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


IN_CI = os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str):
    """Outside CI a test that needs an absent service skips; in CI it fails."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def project(db):
    return ProjectFactory(slug="sanctions", name="Sanctions briefs")


@pytest.fixture
def members(project):
    """One user per role in ``project``, plus a user who is not a member."""
    users = {}
    for role in ROLES:
        user = UserFactory(username=role)
        MembershipFactory(project=project, user=user, role=role)
        users[role] = user
    users["non_member"] = UserFactory(username="outsider")
    users["anonymous"] = None
    return users


@pytest.fixture
def document(project):
    return DocumentFactory(project=project)


@pytest.fixture
def client_for(client, members):
    """A test client logged in as the given actor (``anonymous``: not logged in)."""

    def make(actor: str):
        client.logout()
        user = members[actor]
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def shared_corpora():
    if not SHARED_CORPORA.is_dir():
        skip_or_fail(f"{SHARED_CORPORA} is not present beside the repository")
    return SHARED_CORPORA


@pytest.fixture
def chromium_path():
    """Debian's Chromium; browser tests skip outside CI when it is absent."""
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        skip_or_fail("Chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture(scope="session", autouse=True)
def media_folder_of_this_test_process():
    """Under pytest-xdist (``run.py test``), MEDIA_ROOT is a folder of this test process's
    own, for it and for the workers it starts: files are named by row ids, which the
    processes' test databases hand out alike.

    The workers read MEDIA_ROOT from the environment and add ``warrant-test-media``
    (config.settings.test), as this process did; a test may still point its workers
    elsewhere through the environment.
    """
    from django.conf import settings
    from django.test import override_settings

    process = os.environ.get("PYTEST_XDIST_WORKER")
    if not process:
        yield
        return
    base = Path(settings.MEDIA_ROOT).parent / process
    with pytest.MonkeyPatch.context() as patch, override_settings(
        MEDIA_ROOT=base / Path(settings.MEDIA_ROOT).name
    ):
        patch.setenv("MEDIA_ROOT", str(base))
        yield


JSONL_SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "jsonl-schema.json"


@pytest.fixture(scope="session", autouse=True)
def every_jsonl_line_matches_the_schema():
    """Every canonical JSONL line the suite writes is checked against docs/jsonl-schema.json.

    ``dump_document`` ends in ``_encode_line``; wrapping it here sees every line,
    whoever calls (exports, the bulk API, tests), and fails the test that wrote
    a line the published schema does not describe.
    """
    import json

    import jsonschema

    from annotator.formats import jsonl

    validator = jsonschema.Draft202012Validator(json.loads(JSONL_SCHEMA.read_text("utf-8")))
    encode = jsonl._encode_line

    def checked(document: dict) -> str:
        error = jsonschema.exceptions.best_match(validator.iter_errors(document))
        if error is not None:
            pytest.fail(f"a JSONL line does not match {JSONL_SCHEMA.name}: {error.message} "
                        f"at {'/'.join(map(str, error.absolute_path))}")
        return encode(document)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonl, "_encode_line", checked)
        yield
