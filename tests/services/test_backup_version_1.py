"""A backup written before typed attributes (format version 1) still restores."""

from __future__ import annotations

import io

import pytest

from annotator.models import Relation, RelationType, Span
from annotator.selectors.projects import project_schema
from annotator.services.backup import ADDED_IN_VERSION_2, project_restore
from tests.services.test_backup import (
    backup_bytes,
    build_rich_project,
    empty_the_instance,
    with_lines,
)


@pytest.fixture
def rich(db, django_capture_on_commit_callbacks):
    return build_rich_project(django_capture_on_commit_callbacks)


def _as_version_1(records):
    """What Warrant 0.1 wrote: no v2 fields, free span attributes."""
    records[0]["version"] = 1
    for record in records:
        for name in ADDED_IN_VERSION_2.get(record.get("kind"), {}):
            record.pop(name, None)
        for aset in record.get("annotation_sets", []):
            for relation in aset["relations"]:
                relation.pop("attributes")
            for span in aset["spans"]:
                if span["attributes"].get("n") == "3":
                    span["attributes"].update({"n": 3, "edus": ["e1", "e2"], "why?": True,
                                               "gone": None})


def test_a_version_1_file_restores_with_its_free_attributes_declared(rich):
    data = with_lines(backup_bytes(rich), _as_version_1)
    empty_the_instance()

    project = project_restore(io.BytesIO(data))

    evidence = project_schema(project).label("Evidence")
    assert [(a.name, a.type) for a in evidence.attributes] == [
        ("edus", "text"), ("n", "text"), ("ok", "boolean"), ("why", "boolean")]
    assert evidence.attribute("why").description == "was 'why?' before typed attributes"
    stance = project_schema(project).label("MajorClaim").attribute("stance")
    assert (stance.type, stance.values) == ("choice", ("for", "against"))
    held = Span.objects.get(label__project=project, label__name="Evidence",
                            attributes__has_key="n").attributes
    assert held == {"n": "3", "ok": True, "edus": "e1,e2", "why": True}
    assert evidence.clean_attributes(held) == held
    assert dict(RelationType.objects.filter(project=project).values_list("name", "aif")) == {
        "supports": "inference", "attacks": "conflict", "evidence_for": "inference"}
    assert not Relation.objects.exclude(attributes={}).exists()
    assert project.citation == ""
