"""The sample corpora in ../shared/corpora import (issue 6, point 3).

Each corpus is read with ``read_paths`` and its counts are checked against the raw
files, counted here independently and simply (R lines, ``<edge>`` types, CDCP
links). The corpus folders also hold their own documentation (``SOURCE.md``,
``README.upstream.md``, CDCP's ``readme.txt``), which ``read_paths`` reads as
documents like any ``.md`` or ``.txt``; so the tests pass the folders that hold
only the data.
"""

import json
import re
from pathlib import Path

import pytest

from annotator.formats.readers import read_paths
from annotator.models import Document, Relation, Span
from annotator.services.imports import documents_import

_EDGE_TYPE = re.compile(r'<edge\b[^>]*\btype="([a-z]+)"')


def _abstrct_spans(ann: Path) -> int:
    return sum(line.startswith("T") for line in ann.read_text(encoding="utf-8").splitlines())


def _abstrct_relations(ann: Path) -> int:
    return sum(line.startswith("R") for line in ann.read_text(encoding="utf-8").splitlines())


def _cdcp_spans(ann: Path) -> int:
    return len(json.loads(ann.read_text(encoding="utf-8"))["prop_labels"])


def _cdcp_relations(ann: Path) -> int:
    # read_cdcp: a link from the range [first, last] is one relation per proposition.
    data = json.loads(ann.read_text(encoding="utf-8"))
    links = (data.get("reasons") or []) + (data.get("evidences") or [])
    return sum(last - first + 1 for (first, last), _target in links)


def _microtext_spans(xml: Path) -> int:
    return xml.read_text(encoding="utf-8").count("<adu ")


def _microtext_relations(xml: Path) -> int:
    # One relation per argumentative edge: every type but segmentation.
    types = _EDGE_TYPE.findall(xml.read_text(encoding="utf-8"))
    assert set(types) <= {"seg", "sup", "exa", "add", "reb", "und"}
    return sum(kind != "seg" for kind in types)


# corpus -> (data folders, source format, annotation file pattern, span and relation counters)
CORPORA = {
    "abstrct": (["train", "test"], "brat", "*.ann", _abstrct_spans, _abstrct_relations),
    "cdcp": (["train"], "cdcp", "*.ann.json", _cdcp_spans, _cdcp_relations),
    "arg-microtexts": (["en"], "microtexts", "*.xml", _microtext_spans, _microtext_relations),
}


def _data_folders(shared_corpora: Path, corpus: str) -> list[Path]:
    return [shared_corpora / corpus / folder for folder in CORPORA[corpus][0]]


def _raw_counts(shared_corpora: Path, corpus: str) -> tuple[int, int, int]:
    _, _, pattern, count_spans, count_relations = CORPORA[corpus]
    folders = _data_folders(shared_corpora, corpus)
    texts = [txt for folder in folders for txt in folder.rglob("*.txt")]
    annotations = [ann for folder in folders for ann in folder.rglob(pattern)]
    assert len(annotations) == len(texts)
    return (
        len(texts),
        sum(count_spans(ann) for ann in annotations),
        sum(count_relations(ann) for ann in annotations),
    )


@pytest.mark.parametrize("corpus", list(CORPORA))
def test_corpus_reads_with_every_span_on_its_text(shared_corpora, corpus):
    records = read_paths(_data_folders(shared_corpora, corpus))
    documents, spans, relations = _raw_counts(shared_corpora, corpus)

    assert len(records) == documents
    assert {r.source_format for r in records} == {CORPORA[corpus][1]}
    annotations = [a for r in records for a in r.annotations]
    assert len(annotations) == documents
    assert sum(len(a.spans) for a in annotations) == spans
    assert sum(len(a.relations) for a in annotations) == relations
    for record in records:
        assert record.cleaning is None
        [annotation] = record.annotations
        span_ids = {span.id for span in annotation.spans}
        for span in annotation.spans:
            assert 0 <= span.start < span.end <= len(record.text)
            assert span.text == record.text[span.start : span.end], (record.external_id, span.id)
        for relation in annotation.relations:
            assert {relation.source, relation.target} <= span_ids


def test_reading_a_whole_corpus_folder_adds_only_its_own_docs(shared_corpora):
    """Why the tests pass data folders: the docs beside the data read as documents."""
    docs = {"SOURCE.md", "README.upstream.md", "readme.txt"}
    for corpus in CORPORA:
        data = {r.original_name for r in read_paths(_data_folders(shared_corpora, corpus))}
        whole = read_paths([shared_corpora / corpus])
        extra = {Path(r.original_name).name for r in whole if r.original_name not in data}
        assert extra <= docs, corpus


def test_microtexts_keep_undercuts_and_example_support_in_meta(shared_corpora):
    folder = shared_corpora / "arg-microtexts" / "en"
    records = {r.external_id: r for r in read_paths([folder])}
    b001 = records["micro_b001"]
    assert b001.meta["central_claim"] == "a5"
    assert b001.meta["undercuts"] == [
        {"edge": "c3", "source": "a3", "undercut_edge": "c1", "mapped_target": "a1"}
    ]
    assert b001.meta["added_sources"] == [{"edge": "c4", "source": "a4", "joins": "c3"}]
    assert records["micro_b036"].meta["edge_types"]["c4"] == "exa"
    # micro_b002 holds non-ASCII characters: offsets are code points.
    b002 = records["micro_b002"]
    assert any(ord(char) > 127 for char in b002.text)


def test_all_three_corpora_import_into_a_project(db, project, shared_corpora):
    folders = [folder for corpus in CORPORA for folder in _data_folders(shared_corpora, corpus)]
    records = read_paths(folders)
    expected = [_raw_counts(shared_corpora, corpus) for corpus in CORPORA]
    documents, spans, relations = (sum(column) for column in zip(*expected, strict=True))

    report = documents_import(project=project, records=records, add_labels=True)

    assert len(report.imported) == documents
    assert not report.skipped_duplicates
    assert (report.spans, report.relations) == (spans, relations)
    assert Document.objects.filter(project=project).count() == documents
    in_project = {"annotation_set__document__project": project}
    assert Span.objects.filter(**in_project).count() == spans
    assert Relation.objects.filter(**in_project).count() == relations
    formats = Document.objects.filter(project=project).values_list("source_format", flat=True)
    assert set(formats) == {"brat", "cdcp", "microtexts"}
    # Microtexts use the argument preset's labels and relation types: nothing added for them.
    assert not {"MajorClaim", "Claim", "supports (relation)", "attacks (relation)"} & set(
        report.labels_added
    )
    b001 = Document.objects.get(project=project, external_id="micro_b001")
    assert b001.meta["undercuts"][0]["mapped_target"] == "a1"
    central = Span.objects.get(annotation_set__document=b001, external_id="a5")
    assert (central.label.name, central.attributes["role"]) == ("MajorClaim", "pro")
    assert b001.text[central.start : central.end] == (
        "We Berliners should take the chance and become pioneers in waste separation!"
    )
