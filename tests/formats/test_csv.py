"""CSV: spans.csv and relations.csv in a zip; pandas reads them back and joins them."""

import io
import json
import re
import zipfile

import pandas as pd
import pytest

from annotator.formats.csv_spans import (
    CSV_COLUMNS,
    RELATION_COLUMNS,
    RELATIONS_NAME,
    SPANS_NAME,
    write_csv_files,
)
from annotator.formats.records import (
    AnnotationRecord,
    DocumentRecord,
    RelationRecord,
    SpanRecord,
)
from annotator.services.errors import WarrantError
from annotator.services.exports import export_write
from tests.formats.export_samples import TEXT_1, import_sample

TEXT_COLUMNS = {"document": str, "annotator": str, "span_id": str, "relation_id": str,
                "source_span_id": str, "target_span_id": str}


def read(zip_path, name=SPANS_NAME):
    with zipfile.ZipFile(zip_path) as zf:
        data = zf.read(name)
    return pd.read_csv(io.BytesIO(data), dtype=TEXT_COLUMNS, keep_default_na=False)


def test_pandas_reads_one_row_per_span_with_the_documented_columns(project, tmp_path):
    import_sample(project)
    summary = export_write(project=project, format="csv", path=tmp_path / "out.zip")
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert sorted(zf.namelist()) == [RELATIONS_NAME, SPANS_NAME]
    frame = read(tmp_path / "out.zip")
    assert tuple(frame.columns) == CSV_COLUMNS
    assert len(frame) == summary.spans == 10
    # bob's set is in progress: left out, and counted
    assert frame.groupby("annotator").size().to_dict() == {"alice": 4, "gold": 6}
    assert summary.unfinished_sets == 1
    row = frame[(frame.document == "brief-1") & (frame.annotator == "gold")
                & (frame.span_id == "T3")].iloc[0]
    assert (row.label, row.start, row.end) == ("MajorClaim", TEXT_1.index("So:"), len(TEXT_1))
    assert row.text == TEXT_1[row.start : row.end]
    assert row.note == "the headline"
    for _, item in frame.iterrows():
        assert isinstance(json.loads(item.attributes), dict)
    emoji = frame[(frame.annotator == "gold") & (frame.span_id == "T1")].iloc[0]
    assert emoji.text == "Sanctions work 👩‍💻 well."


def test_relations_join_their_spans_by_document_annotator_and_span_id(project, tmp_path):
    import_sample(project)
    summary = export_write(project=project, format="csv", path=tmp_path / "out.zip")
    spans, relations = read(tmp_path / "out.zip"), read(tmp_path / "out.zip", RELATIONS_NAME)
    assert tuple(relations.columns) == RELATION_COLUMNS
    # The summary counts the rows of the file, and names nothing as left out but bob's set.
    assert len(relations) == summary.relations == 5
    assert "relation" not in summary.left_out_note()
    key = ["document", "annotator"]
    joined = (
        relations
        .merge(spans.add_prefix("source_"), left_on=[*key, "source_span_id"],
               right_on=["source_document", "source_annotator", "source_span_id"])
        .merge(spans.add_prefix("target_"), left_on=[*key, "target_span_id"],
               right_on=["target_document", "target_annotator", "target_span_id"])
    )
    assert len(joined) == len(relations)  # every relation finds both of its spans
    found = {(r.document, r.annotator, r.type, r.source_label, r.target_label)
             for r in joined.itertuples()}
    assert found == {
        ("brief-1", "gold", "supports", "Claim", "MajorClaim"),
        ("brief-1", "gold", "attacks", "Reason", "Claim"),
        ("brief-1", "alice", "evidence_for", "Evidence", "Claim"),
        ("brief-2", "gold", "evidence_for", "Evidence", "MajorClaim"),
    }
    assert len(joined[(joined.document == "brief-2") & (joined.annotator == "gold")]) == 2


@pytest.mark.parametrize(("scope", "who"), [("gold", {"gold"}), ("annotators", {"alice"})])
def test_scope_selects_the_annotation_sets(project, tmp_path, scope, who):
    import_sample(project)
    export_write(project=project, format="csv", path=tmp_path / "out.zip", scope=scope)
    assert set(read(tmp_path / "out.zip").annotator) == who
    assert set(read(tmp_path / "out.zip", RELATIONS_NAME).annotator) == who


def test_a_folder_gets_the_two_files(project, tmp_path):
    import_sample(project)
    summary = export_write(project=project, format="csv", path=tmp_path / "out", scope="gold")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [RELATIONS_NAME, SPANS_NAME]
    relations = pd.read_csv(tmp_path / "out" / RELATIONS_NAME, dtype=TEXT_COLUMNS)
    assert len(relations) == summary.relations == 4


def test_a_csv_file_name_is_refused_with_a_line_that_says_what_to_give(project, tmp_path):
    import_sample(project)
    with pytest.raises(WarrantError, match=re.escape(
            "the csv export is several files: give a PATH ending in .zip, or a folder")):
        export_write(project=project, format="csv", path=tmp_path / "spans.csv")
    assert list(tmp_path.iterdir()) == []


def test_text_with_line_breaks_commas_and_quotes_survives(tmp_path):
    text = 'He said, "stop".\nThen: go'
    record = DocumentRecord("d,1", text, gold=AnnotationRecord(
        spans=[SpanRecord("T1", 0, len(text), "Claim", attributes={"q": 'a "b"'}, note="x,\ny"),
               SpanRecord("T,2", 0, 2, "Claim")],
        relations=[RelationRecord("R\n1", "T,2", "T1", "sup,ports",
                                  attributes={"group": 'g "1"'})]))
    assert write_csv_files([record], tmp_path) == (2, 1)
    frame = pd.read_csv(tmp_path / SPANS_NAME, keep_default_na=False)
    row = frame.iloc[0]
    assert (row.document, row.text, row.note) == ("d,1", text, "x,\ny")
    assert json.loads(row.attributes) == {"q": 'a "b"'}
    [relation] = pd.read_csv(tmp_path / RELATIONS_NAME, keep_default_na=False).itertuples()
    assert (relation.relation_id, relation.type, relation.source_span_id) == \
        ("R\n1", "sup,ports", "T,2")
    assert json.loads(relation.attributes) == {"group": 'g "1"'}
