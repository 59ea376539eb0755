"""Typed span attributes: checked on every save, kept in step with the schema, migrated."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from annotator.formats.schema import load_schema, parse_schema
from annotator.models import AnnotationSet, Span, SpanLabel
from annotator.selectors.projects import project_schema
from annotator.services import annotations as svc
from annotator.services.errors import WarrantError
from annotator.services.projects import schema_apply
from tests.services.test_annotations import TEXT, label, make
from tests.services.test_annotations import aset as aset  # the fixture, shared


def test_span_create_keeps_declared_attributes_and_refuses_the_rest(aset):
    claim = make(aset, "Claim", "Sanctions work.", attributes={"stance": "against"})
    assert claim.attributes == {"stance": "against"}
    version = AnnotationSet.objects.get(pk=aset.pk).version
    for attributes, message in [
        ({"stance": "maybe"}, "stance' is one of for, against"),
        ({"kind": "study"}, "label Claim has no attribute 'kind'"),
        ({"stance": True}, "takes text"),
    ]:
        with pytest.raises(WarrantError, match=message):
            make(aset, "Claim", "Prices rose.", attributes=attributes)
    assert AnnotationSet.objects.get(pk=aset.pk).version == version


def test_span_update_checks_attributes_against_the_label(aset):
    evidence = make(aset, "Evidence", "Exports fell by 40% (Reuters).")
    aset.refresh_from_db()
    svc.span_update(span=evidence, expected_version=aset.version, attributes={"kind": "statistic"})
    assert evidence.attributes == {"kind": "statistic"}
    with pytest.raises(WarrantError, match="kind' is one of statistic, quotation, event, study"):
        svc.span_update(span=evidence, expected_version=aset.version + 1,
                        attributes={"kind": "rumour"})


def test_a_relabel_keeps_what_the_new_label_declares_and_undo_brings_back_the_rest(aset, project):
    schema_apply(project=project, schema=parse_schema({"span_labels": [
        {"name": "MajorClaim", "attributes": [{"name": "stance", "type": "choice",
                                               "values": ["for", "against"]}]},
    ]}))
    claim = make(aset, "Claim", "Sanctions work.", attributes={"stance": "for"})
    aset.refresh_from_db()
    svc.span_update(span=claim, expected_version=aset.version, label=label(project, "MajorClaim"))
    claim.refresh_from_db()
    assert claim.attributes == {"stance": "for"}
    aset.refresh_from_db()
    svc.span_update(span=claim, expected_version=aset.version, label=label(project, "Reason"))
    claim.refresh_from_db()
    assert (claim.label.name, claim.attributes) == ("Reason", {})
    aset.refresh_from_db()
    svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
    claim.refresh_from_db()
    assert (claim.label.name, claim.attributes) == ("MajorClaim", {"stance": "for"})


def test_relation_attributes_are_kept_and_undo_restores_them(aset, project):
    reason = make(aset, "Reason", "Exports fell by 40% (Reuters).")
    claim = make(aset, "Claim", "Sanctions work.")
    aset.refresh_from_db()
    relation = svc.relation_create(
        annotation_set=aset, source=reason, target=claim,
        type=project.relation_types.get(name="supports"), expected_version=aset.version,
        attributes={"group": "g1", "weight": 2},
    )
    assert relation.attributes == {"group": "g1", "weight": 2}
    aset.refresh_from_db()
    claim_id = claim.pk
    svc.span_delete(span=claim, expected_version=aset.version)
    aset.refresh_from_db()
    svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
    claim = Span.objects.get(pk=claim_id)
    relation.refresh_from_db()
    assert relation.attributes == {"group": "g1", "weight": 2}
    with pytest.raises(WarrantError, match="text, a number or true/false"):
        svc.relation_create(
            annotation_set=aset, source=claim, target=reason,
            type=project.relation_types.get(name="attacks"), expected_version=aset.version + 1,
            attributes={"group": ["g1"]},
        )


def _schema_with_claim_attributes(*attributes):
    return parse_schema({"span_labels": [{"name": "Claim", "hotkey": "c",
                                          "attributes": list(attributes)}]})


def test_schema_apply_merges_attributes_unless_exact(project):
    schema_apply(project=project, schema=_schema_with_claim_attributes(
        {"name": "negated", "type": "boolean"}))
    names = [a.name for a in project_schema(project).label("Claim").attributes]
    assert names == ["stance", "negated"]
    schema_apply(project=project, schema=_schema_with_claim_attributes(
        {"name": "negated", "type": "boolean"}), exact_attributes=True)
    names = [a.name for a in project_schema(project).label("Claim").attributes]
    assert names == ["negated"]


def test_schema_apply_refuses_to_remove_or_narrow_an_attribute_in_use(aset, project):
    make(aset, "Claim", "Sanctions work.", attributes={"stance": "against"})
    before = list(SpanLabel.objects.filter(project=project).values_list("name", "attributes"))
    with pytest.raises(WarrantError, match="'stance' is set on 1 span"):
        schema_apply(project=project, schema=_schema_with_claim_attributes(),
                     exact_attributes=True)
    with pytest.raises(WarrantError, match="1 span\\(s\\) hold 'against'"):
        schema_apply(project=project, schema=_schema_with_claim_attributes(
            {"name": "stance", "type": "choice", "values": ["for", "neutral"]}))
    with pytest.raises(WarrantError, match="yes/no"):
        schema_apply(project=project, schema=_schema_with_claim_attributes(
            {"name": "stance", "type": "boolean"}))
    assert list(SpanLabel.objects.filter(project=project).values_list(
        "name", "attributes")) == before
    # Widening is fine: a value more, or free text.
    schema_apply(project=project, schema=_schema_with_claim_attributes(
        {"name": "stance", "type": "choice", "values": ["for", "against", "neutral"]}))
    schema_apply(project=project, schema=_schema_with_claim_attributes(
        {"name": "stance", "type": "text"}))
    assert project_schema(project).label("Claim").attribute("stance").type == "text"


def test_project_schema_reads_back_what_was_applied(project):
    assert project_schema(project) == load_schema("argument")


# --------------------------------------------------------------------------- migration 0009

BEFORE = [("annotator", "0008_agreement_chunks")]
AFTER = [("annotator", "0009_schema_attributes")]


@pytest.mark.django_db(transaction=True)
def test_migration_0009_declares_the_free_attributes_spans_held_and_loses_nothing():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        project = old.get_model("annotator", "Project").objects.create(slug="old", name="Old")
        labels = {
            name: old.get_model("annotator", "SpanLabel").objects.create(project=project,
                                                                         name=name)
            for name in ("Claim", "Premise")
        }
        for name in ("supports", "Partial-Attack", "sequence"):
            old.get_model("annotator", "RelationType").objects.create(project=project, name=name)
        document = old.get_model("annotator", "Document").objects.create(
            project=project, external_id="d", text="a b c d e f", content_hash="x", original=b"")
        gold = old.get_model("annotator", "AnnotationSet").objects.create(
            document=document, is_gold=True)
        Span = old.get_model("annotator", "Span")
        for i, attributes in enumerate([
            {"stance": "for", "negated": True, "edus": ["e1", "e2"]},
            {"stance": "against", "negated": False, "n": 3, "why?": "IMF", "empty": None},
        ]):
            Span.objects.create(annotation_set=gold, label=labels["Claim"], start=2 * i,
                                end=2 * i + 1, attributes=attributes)
        Span.objects.create(annotation_set=gold, label=labels["Premise"], start=8, end=9,
                            attributes={"stance": "pro", "flag": True})
        Span.objects.create(annotation_set=gold, label=labels["Premise"], start=10, end=11,
                            attributes={"flag": "maybe"})

        executor.loader.build_graph()
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        spec = {lab.name: parse_schema({"span_labels": [{"name": lab.name,
                                                         "attributes": lab.attributes}]})
                .span_labels[0]
                for lab in new.get_model("annotator", "SpanLabel").objects.all()}
        claim, premise = spec["Claim"], spec["Premise"]
        assert [(a.name, a.type, a.values) for a in claim.attributes] == [
            ("edus", "text", ()), ("n", "text", ()), ("negated", "boolean", ()),
            ("stance", "choice", ("for", "against")), ("why", "text", ()),
        ]
        assert claim.attribute("why").description == "was 'why?' before typed attributes"
        assert [(a.name, a.type) for a in premise.attributes] == [
            ("flag", "text"), ("stance", "text")]
        stored = list(new.get_model("annotator", "Span").objects.order_by("start")
                      .values_list("attributes", flat=True))
        assert stored == [
            {"stance": "for", "negated": True, "edus": "e1,e2"},
            {"stance": "against", "negated": False, "n": "3", "why": "IMF"},
            {"stance": "pro", "flag": "true"},
            {"flag": "maybe"},
        ]
        for label_spec, attributes in zip([claim, claim, premise, premise], stored, strict=True):
            assert label_spec.clean_attributes(attributes) == attributes
        aif = dict(new.get_model("annotator", "RelationType").objects.values_list("name", "aif"))
        assert aif == {"supports": "inference", "Partial-Attack": "conflict", "sequence": "none"}
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


# --------------------------------------------------------------------------- imports


def _record(name, attributes, label="Claim"):
    from annotator.formats.records import AnnotationRecord, DocumentRecord, SpanRecord

    return DocumentRecord(external_id=name, text=f"{name}: {TEXT}", original_name=f"{name}.ann",
                          gold=AnnotationRecord(spans=[SpanRecord("T1", 0, 4, label,
                                                                  attributes=attributes)]))


def test_an_import_checks_declared_attributes_and_names_the_file_and_span(project):
    from annotator.services.imports import documents_import

    with pytest.raises(WarrantError, match=r"b01\.ann: span T1: attribute 'stance' is one of"):
        documents_import(project=project, records=[_record("a01", {"stance": "for"}),
                                                   _record("b01", {"stance": "pro"})])
    assert not project.documents.exists()


def test_an_import_refuses_undeclared_attributes_unless_labels_may_be_added(project):
    from annotator.services.imports import documents_import

    records = [_record("a01", {"negated": True, "edus": ["e1", "e2"]}),
               _record("b01", {"negated": False, "edus": ["e3"], "empty": None})]
    with pytest.raises(WarrantError, match=r"a01\.ann: attribute '(negated|edus)' of label Claim "
                                           r"is not in the project's schema"):
        documents_import(project=project, records=records)
    report = documents_import(project=project, records=records, add_labels=True)
    claim = project_schema(project).label("Claim")
    assert [(a.name, a.type) for a in claim.attributes] == [
        ("stance", "choice"), ("negated", "boolean"), ("edus", "text")]
    assert "negated (attribute of Claim)" in report.labels_added
    assert list(Span.objects.filter(annotation_set__document__project=project)
                .order_by("annotation_set__document__external_id")
                .values_list("attributes", flat=True)) == [
        {"negated": True, "edus": "e1,e2"}, {"negated": False, "edus": "e3"}]
