"""Canonical JSONL v2 through the database: export, import into an empty project, export
again gives the same bytes, with gold final marks, due dates, relation attributes,
span attributes and splits; a second file adds its sets to documents that exist."""

from __future__ import annotations

import datetime as dt

import pytest

from annotator.formats.jsonl import read_jsonl
from annotator.formats.schema import parse_schema
from annotator.models import AnnotationSet, Document, Relation, Span
from annotator.services.exports import export_write
from annotator.services.imports import documents_import
from annotator.services.projects import schema_apply
from tests.factories import ProjectFactory
from tests.formats.export_samples import import_sample, sample_schema


@pytest.fixture
def rich_sample(project):
    import_sample(project)
    brief_1 = Document.objects.get(project=project, external_id="brief-1")
    brief_2 = Document.objects.get(project=project, external_id="brief-2")
    Document.objects.filter(pk=brief_1.pk).update(meta={"source": "PR", "split": "train"})
    Document.objects.filter(pk=brief_2.pk).update(meta={"split": "test"})
    AnnotationSet.objects.filter(document=brief_1, is_gold=True).update(
        gold_final=False, status="in_progress")
    AnnotationSet.objects.filter(document=brief_2, annotator__username="alice").update(
        due=dt.date(2031, 5, 17))
    Relation.objects.filter(annotation_set__document=brief_2).update(
        attributes={"group": "g1"})
    Span.objects.filter(annotation_set__document=brief_2, label__name="Evidence").update(
        attributes={"kind": "statistic"})
    return project


def _export(project, path):
    export_write(project=project, format="jsonl", path=path)
    return path.read_bytes()


def test_export_import_export_is_byte_identical_with_version_2_fields(rich_sample, tmp_path):
    first = _export(rich_sample, tmp_path / "first.jsonl")
    copy = ProjectFactory(slug="copy", schema=parse_schema(sample_schema()))
    documents_import(project=copy, records=read_jsonl(first, name="first.jsonl"))
    assert _export(copy, tmp_path / "second.jsonl") == first

    gold_1 = AnnotationSet.objects.get(document__project=copy, is_gold=True,
                                       document__external_id="brief-1")
    gold_2 = AnnotationSet.objects.get(document__project=copy, is_gold=True,
                                       document__external_id="brief-2")
    assert (gold_1.gold_final, gold_1.status) == (False, "in_progress")
    assert (gold_2.gold_final, gold_2.status) == (True, "submitted")  # "final" grades
    assert AnnotationSet.objects.get(document__project=copy, annotator__username="alice",
                                     document__external_id="brief-2").due == dt.date(2031, 5, 17)
    groups = {r.attributes.get("group") for r in Relation.objects.filter(
        annotation_set__document__project=copy, annotation_set__document__external_id="brief-2")}
    assert groups == {"g1"}
    assert Document.objects.get(project=copy, external_id="brief-1").meta["split"] == "train"


def test_a_file_of_known_documents_adds_the_sets_they_lack(rich_sample, tmp_path):
    first = read_jsonl(_export(rich_sample, tmp_path / "all.jsonl"), name="all.jsonl")
    copy = ProjectFactory(slug="copy", schema=parse_schema(sample_schema()))
    # The gold alone first, then the whole file: alice's and bob's sets join the documents.
    gold_only = [r.__class__(**{**r.__dict__, "annotations": []}) for r in first]
    documents_import(project=copy, records=gold_only)
    report = documents_import(project=copy, records=first)
    assert report.imported == []
    assert report.sets_added == {"all.jsonl (brief-1)": ["alice", "bob"],
                                 "all.jsonl (brief-2)": ["alice"]}
    assert report.sets_skipped == {"all.jsonl (brief-1)": ["the gold"],
                                   "all.jsonl (brief-2)": ["the gold"]}
    assert "added to the existing document of all.jsonl (brief-1): alice, bob" in report.lines()
    assert copy.documents.count() == 3
    # Once more: everything is there, nothing is written twice.
    again = documents_import(project=copy, records=first)
    assert again.sets_added == {}
    assert again.skipped_duplicates == ["all.jsonl (brief-3)"]  # no set at all
    assert again.sets_skipped["all.jsonl (brief-1)"] == ["alice", "bob", "the gold"]


def test_schema_apply_for_the_copy_keeps_attributes(project):
    schema_apply(project=project, schema=parse_schema(sample_schema()))
    assert project.span_labels.get(name="Reason").attributes[0]["name"] == "strong"
