"""Fuzz every operation of /api/schema/ with schemathesis, in-process.

A manager of a small project calls each operation with generated input (a
bounded, derandomised number of examples), authenticated by an API token.
Two checks: no 5xx (``not_a_server_error``), and every 4xx carries a message
(``{"detail": "..."}``). Path ids are pointed at the project's real objects
so that the generated bodies and query strings reach the services instead of
stopping at a 404.
"""

from __future__ import annotations

import pytest
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from annotator.models import AgreementRun, AnnotationSet, ExportJob, Relation
from tests.conftest import IN_CI
from tests.factories import (
    AnnotationSetFactory,
    DocumentFactory,
    MembershipFactory,
    ProjectFactory,
    SpanFactory,
    UserFactory,
)

try:
    import schemathesis
    from schemathesis.checks import not_a_server_error
except ImportError:  # a dev dependency: required in CI, skipped where it is missing
    if IN_CI:
        raise
    pytest.skip("schemathesis is not installed", allow_module_level=True)

# Enough to reach each operation's validation branches; the whole file stays
# well under a minute on the CI machine (2 cores).
EXAMPLES_PER_OPERATION = 20


@pytest.fixture
def in_process_requests():
    """Keep the test's database connection open across the WSGI requests.

    Django's own test client does the same: the real handler closes "old"
    connections at the start and end of every request, which on PostgreSQL
    would close the connection holding the test's transaction.
    """
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(db, in_process_requests):
    """A project with a manager who has a token, a document, sets, spans and a relation."""
    project = ProjectFactory(slug="fuzz", name="Fuzz")
    manager = UserFactory(username="fuzz-manager")
    MembershipFactory(project=project, user=manager, role="manager")
    document = DocumentFactory(
        project=project, text="Sanctions work. 🌍 Exports fell. Prices rose."
    )
    own = AnnotationSetFactory(document=document, annotator=manager)
    gold = AnnotationSet.objects.create(document=document, annotator=None, is_gold=True)
    claim = SpanFactory(annotation_set=own, start=0, end=15)
    reason = SpanFactory(
        annotation_set=own,
        start=18,
        end=31,
        label=project.span_labels.get(name="Reason"),
    )
    relation = Relation.objects.create(
        annotation_set=own,
        source=reason,
        target=claim,
        type=project.relation_types.get(name="supports"),
    )
    run = AgreementRun.objects.create(project=project, requested_by=manager, status="done")
    token = Token.objects.create(user=manager)
    ids = {
        "slug": project.slug,
        "document_id": document.pk,
        "set_id": own.pk,
        "span_id": claim.pk,
        "relation_id": relation.pk,
        "run_id": run.pk,
    }
    ids["job_id"] = ExportJob.objects.create(
        project=project, requested_by=manager, format="jsonl"
    ).pk
    return {"ids": ids, "gold": gold, "headers": {"Authorization": f"Token {token.key}"}}


def error_has_message(ctx, response, case) -> None:
    """Every 4xx answers with a JSON body whose ``detail`` is a non-empty string."""
    if not 400 <= response.status_code < 500:
        return
    try:
        body = response.json()
    except ValueError as exc:
        raise AssertionError(
            f"{response.status_code} without a JSON message: {response.text[:200]!r}"
        ) from exc
    detail = body.get("detail") if isinstance(body, dict) else None
    assert isinstance(detail, str) and detail.strip(), (
        f"{response.status_code} without a detail message: {body!r}"
    )


# Loaded when the module is collected: serving the schema reads no database.
# (schemathesis.pytest.from_fixture would defer it, but does not work with pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_fuzz_no_server_error_and_every_4xx_has_a_message(case, fuzz_world):
    ids = fuzz_world["ids"]
    for name in list(case.path_parameters or {}):
        if name in ids:
            case.path_parameters[name] = ids[name]
    case.call_and_validate(
        headers=fuzz_world["headers"],
        checks=[not_a_server_error, error_has_message],
    )
