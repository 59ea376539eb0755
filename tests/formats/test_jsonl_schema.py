"""The published JSON Schema of canonical JSONL v2 (docs/jsonl-schema.json) is itself sound
and refuses what Warrant's reader refuses in shape; the suite checks every line it
writes against it (tests/conftest.py)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from annotator.formats import jsonl
from annotator.formats.jsonl import FORMAT, dump_document, read_jsonl
from tests.conftest import JSONL_SCHEMA
from tests.formats.export_samples import sample_records


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(JSONL_SCHEMA.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_suite_checks_every_line_it_writes():
    assert jsonl._encode_line.__name__ == "checked"


def test_the_sample_export_lines_are_valid_and_say_their_format(validator):
    for record in sample_records():
        line = json.loads(dump_document(record))
        assert line["format"] == FORMAT
        validator.validate(line)


@pytest.mark.parametrize(("change", "path"), [
    (lambda d: d.pop("format"), "format"),
    (lambda d: d.update(format="warrant/1"), "format"),
    (lambda d: d["gold"].update(final="yes"), "final"),
    (lambda d: d["annotations"][0].update(due="May 17"), "due"),
    (lambda d: d["annotations"][0].update(final=True), "final"),
    (lambda d: d["annotations"][0]["spans"][0].update(attributes={"n": [1]}), "n"),
    (lambda d: d["annotations"][0]["relations"][0].update(weight=1), "weight"),
    (lambda d: d["annotations"][0].update(status="done"), "status"),
])
def test_the_schema_refuses_a_malformed_line(validator, change, path):
    line = json.loads(dump_document(sample_records()[0]))
    change(line)
    errors = list(validator.iter_errors(line))
    assert errors and any(path in e.message or path in map(str, e.absolute_path)
                          for e in errors), [e.message for e in errors]


def test_version_2_fields_round_trip_and_version_1_lines_still_read():
    record = sample_records()[0]
    record.gold.final = False
    record.annotations[0].due = "2031-05-17"
    record.gold.relations[0].attributes = {"group": "g1"}
    record.meta["split"] = "test"
    line = dump_document(record)
    [back] = read_jsonl(line.encode(), name="x.jsonl")
    assert (back.gold.final, back.annotations[0].due) == (False, "2031-05-17")
    assert back.gold.relations[0].attributes == {"group": "g1"}
    assert dump_document(back) == line
    v1 = json.loads(line)
    del v1["format"], v1["gold"]["final"], v1["annotations"][0]["due"]
    for aset in [v1["gold"], *v1["annotations"]]:
        for relation in aset["relations"]:
            del relation["attributes"]
    [old] = read_jsonl(json.dumps(v1).encode(), name="old.jsonl")
    assert old.gold.final is None and old.annotations[0].due == ""


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(format="warrant/3"), "format 'warrant/3' is not one this Warrant reads"),
    (lambda d: d["annotations"][0].update(final=True), "only the gold has a final mark"),
    (lambda d: d["gold"].update(final="yes"), "final must be true or false"),
    (lambda d: d["annotations"][0].update(due="17/05/2031"), "is not a date"),
])
def test_the_reader_refuses_bad_version_2_fields(change, message):
    line = json.loads(dump_document(sample_records()[0]))
    change(line)
    with pytest.raises(jsonl.FormatError, match=message):
        read_jsonl(json.dumps(line).encode(), name="x.jsonl")


def test_crlf_moves_are_listed_for_the_report():
    line = {"id": "d", "text": "A.\r\nB c.", "gold": {"spans": [
        {"id": "T1", "start": 4, "end": 8, "label": "Claim"}]}}
    [record] = read_jsonl(json.dumps(line).encode(), name="x.jsonl")
    assert [m.describe() for m in record.moved] == ["T1 4-8 -> 3-7 (CRLF line ends became \\n)"]
