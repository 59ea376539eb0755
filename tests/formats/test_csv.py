"""CSV: one row per span; pandas reads it back."""

import io
import json

import pandas as pd
import pytest

from annotator.formats.csv_spans import CSV_COLUMNS, write_csv
from annotator.formats.records import AnnotationRecord, DocumentRecord, SpanRecord
from annotator.services.exports import export_write
from tests.formats.export_samples import TEXT_1, import_sample


def read(path):
    return pd.read_csv(path, dtype={"document": str, "annotator": str, "span_id": str},
                       keep_default_na=False)


def test_pandas_reads_one_row_per_span_with_the_documented_columns(project, tmp_path):
    import_sample(project)
    summary = export_write(project=project, format="csv", path=tmp_path / "spans.csv")
    frame = read(tmp_path / "spans.csv")
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
    for _, item in frame.iterrows():  # offsets are code points into the document text
        assert json.loads(item.attributes) is not None
    emoji = frame[(frame.annotator == "gold") & (frame.span_id == "T1")].iloc[0]
    assert emoji.text == "Sanctions work 👩‍💻 well."


@pytest.mark.parametrize(("scope", "who"), [("gold", {"gold"}), ("annotators", {"alice"})])
def test_scope_selects_the_annotation_sets(project, tmp_path, scope, who):
    import_sample(project)
    export_write(project=project, format="csv", path=tmp_path / "spans.csv", scope=scope)
    assert set(read(tmp_path / "spans.csv").annotator) == who


def test_text_with_line_breaks_commas_and_quotes_survives():
    text = 'He said, "stop".\nThen: go'
    record = DocumentRecord("d,1", text, gold=AnnotationRecord(spans=[
        SpanRecord("T1", 0, len(text), "Claim", attributes={"q": 'a "b"'}, note="x,\ny")]))
    buffer = io.StringIO()
    write_csv([record], buffer)
    frame = pd.read_csv(io.StringIO(buffer.getvalue()), keep_default_na=False)
    row = frame.iloc[0]
    assert (row.document, row.text, row.note) == ("d,1", text, "x,\ny")
    assert json.loads(row.attributes) == {"q": 'a "b"'}


def test_the_summary_claims_no_relation_and_names_those_it_left_out(project, tmp_path):
    import_sample(project)
    summary = export_write(project=project, format="csv", path=tmp_path / "spans.csv",
                           scope="gold")
    assert summary.relations == 0
    assert "left out 4 relation(s): the CSV holds one row per span" in summary.left_out_note()
