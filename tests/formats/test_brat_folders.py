"""brat in both directions: folders say whose set a file is (gold/, annotators/<name>/) and
which split a document is in (train/, test/); any attribute Warrant holds is written."""

from __future__ import annotations

import zipfile

from annotator.formats.brat import read_brat, write_brat
from annotator.formats.readers import read_paths
from annotator.formats.records import AnnotationRecord, RelationRecord, SpanRecord
from annotator.formats.schema import parse_schema
from annotator.models import AnnotationSet, Document, Relation, Span
from annotator.services.exports import export_write
from annotator.services.imports import documents_import
from tests.factories import ProjectFactory
from tests.formats.export_samples import import_sample, sample_schema


def test_any_attribute_value_is_written_and_read_back():
    text = "Sanctions work. Exports fell."
    annotation = AnnotationRecord(
        spans=[SpanRecord("T1", 0, 15, "Claim", attributes={
            "stance": "for", "source": "IMF 50% report", "negated": False, "strong": True}),
               SpanRecord("T2", 16, 29, "Evidence")],
        relations=[RelationRecord("R1", "T2", "T1", "supports",
                                  attributes={"group": "g 1", "weight": 2})],
    )
    ann = write_brat(text, annotation)
    assert "A2\tsource T1 IMF%2050%25%20report\n" in ann
    assert "A3\tnegated T1 false\n" in ann and "A4\tstrong T1\n" in ann
    back = read_brat(text.encode(), ann.encode(), txt_name="d.txt", ann_name="d.ann")
    [read] = back.annotations
    assert read.spans[0].attributes == {"stance": "for", "source": "IMF 50% report",
                                        "negated": "false", "strong": True}
    assert read.relations[0].attributes == {"group": "g 1", "weight": "2"}


def test_a_brat_export_imports_back_as_the_same_annotators_gold_and_attributes(project,
                                                                                tmp_path):
    import_sample(project)
    Span.objects.filter(annotation_set__document__project=project, label__name="Claim",
                        annotation_set__annotator__username="alice").update(
        attributes={"stance": "against"})
    Relation.objects.filter(annotation_set__document__project=project).update(
        attributes={"group": "g 1"})
    first = tmp_path / "first"
    export_write(project=project, format="brat", path=first)

    copy = ProjectFactory(slug="copy", schema=parse_schema(sample_schema()))
    report = documents_import(project=copy, records=read_paths([first]), add_labels=True)
    sets = {(s.document.external_id, s.annotator.username if s.annotator else "gold")
            for s in AnnotationSet.objects.filter(document__project=copy)
            .select_related("document", "annotator")}
    assert sets == {("brief-1", "gold"), ("brief-1", "alice"), ("brief-2", "gold"),
                    ("brief-2", "alice")}  # bob: in progress, not exported
    assert report.sets_added  # the annotators' copies of a text joined the gold's document
    assert Document.objects.filter(project=copy).count() == len(list(first.glob("gold/*.txt")))
    second = tmp_path / "second.zip"
    export_write(project=copy, format="brat", path=second)
    with zipfile.ZipFile(second) as zf:
        for path in first.rglob("*.ann"):
            assert zf.read(path.relative_to(first).as_posix()) == path.read_bytes(), path


def test_abstrct_keeps_its_train_and_test_folders_as_splits(shared_corpora):
    records = read_paths([shared_corpora / "abstrct" / name for name in ("train", "test")])
    splits = {r.external_id: r.meta.get("split") for r in records}
    assert splits == {"10561201": "train", "21871978": "train", "23075680": "train",
                      "10080213": "test"}


def test_the_hf_export_keeps_the_corpus_splits(db, project, shared_corpora, tmp_path):
    import pyarrow.parquet as pq

    records = read_paths([shared_corpora / "abstrct" / name for name in ("train", "test")])
    documents_import(project=project, records=records, add_labels=True)
    export_write(project=project, format="hf", path=tmp_path / "hf")
    ids = {split: sorted(pq.read_table(tmp_path / "hf" / "gold" / f"{split}.parquet")
                         .column("id").to_pylist())
           for split in ("train", "test")}
    assert ids == {"train": ["10561201", "21871978", "23075680"], "test": ["10080213"]}


def test_the_import_report_lists_every_offset_cdcp_trimming_moved(db, project, shared_corpora):
    records = read_paths([shared_corpora / "cdcp" / "train"])
    report = documents_import(project=project, records=records, add_labels=True)
    listed = {name: moves for name, moves in report.moved.items()}
    assert sum(len(m) for m in listed.values()) == sum(len(r.moved) for r in records) > 0
    line = next(line for line in report.lines() if line.startswith("moved "))
    assert "(whitespace at the ends trimmed)" in line
