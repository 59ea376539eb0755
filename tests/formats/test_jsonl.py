import json
from dataclasses import replace

import pytest

from annotator.formats.jsonl import dump_document, dump_jsonl, read_jsonl
from annotator.formats.records import (
    AnnotationRecord,
    DocumentRecord,
    FormatError,
    RelationRecord,
    SpanRecord,
)

TEXT = "Sanctions work 👩‍💻 well. \U0001d518nless they leak.\nSo: extend them."


def _span(span_id, start, end, label, **extra):
    return SpanRecord(span_id, start, end, label, TEXT[start:end], **extra)


def _document() -> DocumentRecord:
    return DocumentRecord(
        external_id="brief-171",
        title="Sanctions",
        text=TEXT,
        meta={"source": "PR", "year": 2024, "tags": ["eu", "ru"], "nested": {"x": None}},
        annotations=[
            AnnotationRecord(
                annotator="alice",
                status="submitted",
                spans=[
                    _span("T1", 0, 24, "Claim"),  # holds the ZWJ emoji
                    _span("T2", 10, 22, "Evidence", attributes={"confidence": 0.5}),  # nested
                    _span("T3", 20, 40, "Reason", note="overlaps T1"),  # overlapping
                    _span("T4", TEXT.index("So:"), len(TEXT), "MajorClaim"),
                ],
                relations=[
                    RelationRecord("R1", "T3", "T1", "attacks"),
                    RelationRecord("R2", "T1", "T4", "supports"),
                ],
            ),
            AnnotationRecord(annotator="bob", status="in_progress"),
        ],
        gold=AnnotationRecord(spans=[_span("T1", 0, 24, "Claim")]),
    )


def _content(record: DocumentRecord) -> DocumentRecord:
    """The document without the upload provenance that JSONL does not carry."""
    return replace(record, original=b"", original_name="", source_format="")


def _line(**overrides) -> bytes:
    document = {
        "id": "d1",
        "text": "We act now.",
        "annotations": [
            {"annotator": "ann", "spans": [{"id": "T1", "start": 0, "end": 6, "label": "Claim"}]}
        ],
    }
    document.update(overrides)
    return json.dumps(document).encode()


def test_dump_then_read_is_the_identity():
    record = _document()
    [again] = read_jsonl(dump_document(record).encode(), name="x.jsonl")
    record.gold.final = True  # written: a submitted gold that does not say is final
    assert _content(again) == record


def test_dump_is_one_compact_line_in_design_key_order():
    line = dump_document(_document())
    assert "\n" not in line
    assert list(json.loads(line)) == ["format", "id", "title", "text", "meta", "annotations",
                                      "gold"]
    span = json.loads(line)["annotations"][0]["spans"][0]
    assert list(span) == ["id", "start", "end", "label", "text", "attributes"]
    assert "👩‍💻" in line  # not escaped
    assert ", " not in line.replace(TEXT, "")  # compact separators


def test_gold_is_written_without_annotator_and_null_when_absent():
    record = _document()
    assert json.loads(dump_document(record))["gold"] == {
        "final": True,
        "spans": [
            {
                "id": "T1",
                "start": 0,
                "end": 24,
                "label": "Claim",
                "text": TEXT[:24],
                "attributes": {},
            }
        ],
        "relations": [],
    }
    no_gold = replace(record, gold=None)
    assert json.loads(dump_document(no_gold))["gold"] is None
    [again] = read_jsonl(dump_document(no_gold).encode(), name="x.jsonl")
    assert again.gold is None


def test_line_separators_in_text_stay_on_one_line():
    record = DocumentRecord(external_id="d", text="a\u2028b\u2029c\x85d")
    data = dump_jsonl([record]).encode()
    assert len(data.decode().splitlines()) == 1
    [again] = read_jsonl(data, name="x.jsonl")
    assert again.text == record.text


def test_many_documents_read_in_order_with_provenance():
    first, second = _document(), replace(_document(), external_id="brief-172")
    data = dump_jsonl([first, second]).encode()
    records = read_jsonl(data, name="export.jsonl")
    assert [r.external_id for r in records] == ["brief-171", "brief-172"]
    assert records[1].original == dump_document(second).encode()
    assert records[0].original_name == "export.jsonl"
    assert records[0].source_format == "jsonl"


def test_crlf_text_is_normalised_and_offsets_move():
    text = "First line.\r\nClaim here."
    data = _line(
        text=text,
        annotations=[
            {
                "annotator": "a",
                "spans": [
                    {"id": "T1", "start": 13, "end": 23, "label": "Claim", "text": "Claim here"}
                ],
            }
        ],
    )
    [record] = read_jsonl(data, name="x.jsonl")
    span = record.annotations[0].spans[0]
    assert record.text == "First line.\nClaim here."
    assert (span.start, span.end, span.text) == (12, 22, "Claim here")


def test_text_is_never_cleaned():
    text = "loader\nHome\nHome\nHome\nAnalysis\nWe act now."
    [record] = read_jsonl(_line(text=text, annotations=[]), name="x.jsonl")
    assert record.text == text
    assert record.cleaning is None


def test_span_text_mismatch_names_file_line_and_span():
    bad = _line(
        annotations=[
            {
                "annotator": "a",
                "spans": [{"id": "T9", "start": 0, "end": 6, "label": "Claim", "text": "We ACT"}],
            }
        ]
    )
    data = _line() + b"\n\n" + bad + b"\n"
    with pytest.raises(FormatError) as caught:
        read_jsonl(data, name="up.jsonl")
    message = str(caught.value)
    assert message.startswith("up.jsonl:3: ")
    assert "span T9" in message and "does not match" in message


def test_span_outside_text_is_refused_with_line_and_span():
    data = _line(
        annotations=[
            {"annotator": "a", "spans": [{"id": "T5", "start": 4, "end": 99, "label": "Claim"}]}
        ]
    )
    with pytest.raises(FormatError, match=r"^x\.jsonl:1: .*span T5: offsets \(4, 99\) are outside"):
        read_jsonl(data, name="x.jsonl")


@pytest.mark.parametrize(
    ("span", "reason"),
    [
        ({"id": "T1", "start": 3, "end": 3, "label": "Claim"}, "outside the text .* or empty"),
        ({"id": "T1", "start": "0", "end": 3, "label": "Claim"}, "start must be an integer"),
        ({"id": "T1", "start": True, "end": 3, "label": "Claim"}, "start must be an integer"),
        ({"id": "T1", "start": 0, "end": 3}, "missing key 'label'"),
        ({"id": "T1", "start": 0, "end": 3, "label": "Claim", "colour": "red"}, "unknown key"),
        ({"id": "T1", "start": 0, "end": 3, "label": ""}, "label is empty"),
    ],
)
def test_malformed_spans_are_refused(span, reason):
    data = _line(annotations=[{"annotator": "a", "spans": [span]}])
    with pytest.raises(FormatError, match=reason):
        read_jsonl(data, name="x.jsonl")


def test_duplicate_span_ids_are_refused():
    spans = [
        {"id": "T1", "start": 0, "end": 2, "label": "Claim"},
        {"id": "T1", "start": 3, "end": 6, "label": "Claim"},
    ]
    with pytest.raises(FormatError, match="duplicate span id 'T1'"):
        read_jsonl(_line(annotations=[{"annotator": "a", "spans": spans}]), name="x.jsonl")


def test_relation_to_a_span_of_another_set_is_refused():
    annotations = [
        {"annotator": "a", "spans": [{"id": "T1", "start": 0, "end": 2, "label": "Claim"}]},
        {
            "annotator": "b",
            "spans": [{"id": "T2", "start": 3, "end": 6, "label": "Claim"}],
            "relations": [{"id": "R1", "source": "T2", "target": "T1", "type": "supports"}],
        },
    ]
    with pytest.raises(FormatError, match=r"relation R1 target 'T1' is not a span"):
        read_jsonl(_line(annotations=annotations), name="x.jsonl")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"id": "d1", "text": "x"', "invalid JSON"),
        (b'["d1", "x"]', "must be a JSON object"),
        (b'{"text": "x"}', "missing key 'id'"),
        (b'{"id": "d1"}', "missing key 'text'"),
        (b'{"id": 7, "text": "x"}', "id must be a string"),
        (b'{"id": "d1", "text": "x", "id": "d2"}', "duplicate key 'id'"),
        (b'{"id": "d1", "text": "x", "meta": {"n": NaN}}', "NaN is not allowed"),
        (b'{"id": "d1", "text": "x", "meta": []}', "meta must be an object"),
        (b'{"id": "d1", "text": "x", "extra": 1}', "unknown key 'extra'"),
        (b'{"id": "d1", "text": "x"}\n{"id": "d1", "text": "y"}', r"2: duplicate document id"),
        (b"\n\n", "holds no documents"),
    ],
)
def test_malformed_documents_are_refused_with_one_line(data, reason):
    with pytest.raises(FormatError, match=reason) as caught:
        read_jsonl(data, name="x.jsonl")
    assert "\n" not in str(caught.value)


def test_absent_and_null_gold_and_optional_keys_read_as_defaults():
    [record] = read_jsonl(b'{"id": "d1", "text": "x", "gold": null}\n', name="x.jsonl")
    assert record.gold is None
    assert record.title == ""
    assert record.meta == {}
    assert record.annotations == []


def test_bom_and_crlf_line_ends_are_accepted():
    data = b"\xef\xbb\xbf" + _line() + b"\r\n" + _line(id="d2") + b"\r\n"
    assert [r.external_id for r in read_jsonl(data, name="x.jsonl")] == ["d1", "d2"]


def test_progress_reports_the_bytes_read_line_by_line():
    lines = [_line(id=f"d{i}") for i in range(5)]
    data = b"\n".join(lines) + b"\n"
    read: list[int] = []
    read_jsonl(data, name="x.jsonl", progress=read.append)
    ends = [sum(len(line) + 1 for line in lines[: k + 1]) for k in range(5)]
    assert read == [*ends, len(data)]  # the last, empty line after the final newline


def test_progress_stops_at_a_bad_line_which_is_named():
    data = _line() + b"\n" + _line(id="d2") + b"\n{oops\n" + _line(id="d4") + b"\n"
    read: list[int] = []
    with pytest.raises(FormatError, match=r"^x\.jsonl:3: invalid JSON"):
        read_jsonl(data, name="x.jsonl", progress=read.append)
    assert read == [len(_line()) + 1, 2 * (len(_line()) + 1), data.index(b"{oops") + 6]
