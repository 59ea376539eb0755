"""Label Studio JSON and doccano JSONL in, shaped as those tools document their exports
(https://labelstud.io/guide/task_format; doccano's "Export data": ``label`` triples or
``entities`` with ``relations``), told apart from Warrant's own files by their content."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from annotator.formats.jsonl import read_jsonl
from annotator.formats.readers import read_upload
from annotator.formats.records import FormatError
from annotator.services.exports import export_write
from annotator.services.imports import documents_import
from tests.factories import ProjectFactory

TEXT = "Sanctions work 👍 well. Exports fell by 40%."


def _ls_span(rid, start, end, label, text=TEXT):
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels",
            "origin": "manual",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}}


def _utf16(text, offset):
    return len(text[:offset].encode("utf-16-le")) // 2


def labelstudio_export() -> bytes:
    claim_end = TEXT.index(" Exports")
    ev_start = TEXT.index("Exports")
    # Label Studio counts in the browser: UTF-16 code units, so the emoji counts twice.
    evidence = _ls_span("ev1", _utf16(TEXT, ev_start), _utf16(TEXT, len(TEXT)), "Evidence")
    evidence["value"]["text"] = TEXT[ev_start:]
    tasks = [{
        "id": 7, "data": {"text": TEXT}, "project": 3,
        "annotations": [
            {"id": 1, "completed_by": 12, "was_cancelled": False, "ground_truth": False,
             "result": [_ls_span("cl1", 0, claim_end, "Claim"), evidence,
                        {"from_id": "ev1", "to_id": "cl1", "type": "relation",
                         "direction": "right", "labels": ["supports"]},
                        {"id": "c", "type": "choices", "from_name": "q", "to_name": "text",
                         "value": {"choices": ["good"]}}]},
            {"id": 2, "completed_by": {"id": 13, "email": "bea@example.org"},
             "was_cancelled": False, "ground_truth": True,
             "result": [_ls_span("g1", 0, claim_end, "Claim")]},
            {"id": 3, "completed_by": 14, "was_cancelled": True, "result": []},
        ],
        "predictions": [],
    }]
    return json.dumps(tasks).encode()


def test_a_label_studio_export_reads_spans_relations_gold_and_utf16_offsets():
    [record] = read_upload("project-3-at-2024.json", labelstudio_export())
    assert record.external_id == "task-7" and record.source_format == "labelstudio"
    [work] = record.annotations
    assert work.annotator == "labelstudio-12"
    assert [(s.id, s.label, s.text) for s in work.spans] == [
        ("cl1", "Claim", "Sanctions work 👍 well."), ("ev1", "Evidence", "Exports fell by 40%.")]
    assert [(r.source, r.target, r.type) for r in work.relations] == [("ev1", "cl1", "supports")]
    assert [(s.label, s.text) for s in record.gold.spans] == [("Claim", "Sanctions work 👍 well.")]
    assert [m.span for m in record.moved] == ["ev1"]  # UTF-16 offsets converted, and listed


def test_a_label_studio_span_that_fits_no_offsets_is_refused():
    tasks = json.loads(labelstudio_export())
    tasks[0]["annotations"][0]["result"][0]["value"]["text"] = "something else"
    with pytest.raises(FormatError, match=r"task 7 result cl1: offsets .* do not fit"):
        read_upload("ls.json", json.dumps(tasks).encode())


def test_a_doccano_export_of_either_shape_reads_and_is_told_from_canonical_jsonl():
    lines = [
        {"id": 1, "text": TEXT, "label": [[0, 22, "Claim"]], "Comments": []},
        {"id": 2, "text": "We act. It helps.",
         "entities": [{"id": 5, "label": "Claim", "start_offset": 0, "end_offset": 7},
                      {"id": 6, "label": "Reason", "start_offset": 8, "end_offset": 17}],
         "relations": [{"id": 1, "from_id": 6, "to_id": 5, "type": "supports"}]},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    first, second = read_upload("all.jsonl", data)
    assert first.source_format == "doccano" and first.external_id == "doccano-1"
    assert [(s.label, s.text) for s in first.annotations[0].spans] == [
        ("Claim", "Sanctions work 👍 well.")]
    assert first.meta == {"id": 1, "Comments": []}
    assert [(r.source, r.target, r.type) for r in second.annotations[0].relations] == [
        ("T6", "T5", "supports")]


def test_both_import_into_a_project_in_one_step(project):
    report = documents_import(project=project, records=read_upload("ls.json",
                                                                   labelstudio_export()),
                              add_labels=True)
    assert report.spans == 3 and report.relations == 1
    assert set(project.memberships.values_list("user__username", flat=True)) >= {
        "labelstudio-12"}


def _sets(project):
    """Every set of a project as (document, whose, spans, relations), offsets and labels."""
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "all.jsonl"
        export_write(project=project, format="jsonl", path=path)
        records = read_jsonl(path.read_bytes(), name="all.jsonl")
    for record in records:
        sets = [("gold", record.gold)] if record.gold else []
        sets += [(a.annotator, a) for a in record.annotations]
        for who, aset in sets:
            spans = {s.id: (s.start, s.end, s.label) for s in aset.spans}
            out[(record.external_id, who)] = (
                sorted(spans.values()),
                sorted((spans[r.source], spans[r.target], r.type) for r in aset.relations))
    return out


def test_label_studio_round_trip_warrant_to_label_studio_and_back(project, tmp_path):
    """A Label Studio file in, Warrant's Label Studio export out, and that file in again
    into a new project: the same documents, annotators, gold, spans and relations; the
    exported offsets are the file's own UTF-16 ones."""
    documents_import(project=project, records=read_upload("ls.json", labelstudio_export()),
                     add_labels=True)
    summary = export_write(project=project, format="labelstudio", path=tmp_path / "out.json")
    exported = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    original = json.loads(labelstudio_export())
    assert summary.spans == 3 and summary.relations == 1 and summary.left_out == []
    offsets = {(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
               for task in exported for a in task["annotations"] for r in a["result"]
               if r["type"] == "labels"}
    claim_end = TEXT.index(" Exports")
    # Label Studio's unit, UTF-16 (the fixture gives the Claim in code points, which the
    # reader also accepts; the export writes what Label Studio itself writes).
    assert offsets == {(0, _utf16(TEXT, claim_end), "Claim"),
                       (_utf16(TEXT, TEXT.index("Exports")), _utf16(TEXT, len(TEXT)), "Evidence")}
    [evidence] = [r for r in original[0]["annotations"][0]["result"] if r.get("id") == "ev1"]
    assert (evidence["value"]["start"], evidence["value"]["end"], "Evidence") in offsets
    again = ProjectFactory(slug="again")
    documents_import(project=again, records=read_upload("out.json", (tmp_path / "out.json")
                                                        .read_bytes()), add_labels=True)
    assert _sets(again) == _sets(project)
    assert set(_sets(project)) == {("task-7", "gold"), ("task-7", "labelstudio-12")}


def test_doccano_round_trip_through_warrant_keeps_every_offset(project, tmp_path):
    """doccano's JSONL in, Warrant's exports out: every doccano span and relation is there,
    at doccano's own offsets (doccano counts characters, as Warrant does)."""
    lines = [
        {"id": 1, "text": TEXT, "label": [[0, 22, "Claim"], [23, len(TEXT), "Evidence"]]},
        {"id": 2, "text": "We act. It helps.",
         "entities": [{"id": 5, "label": "Claim", "start_offset": 0, "end_offset": 7},
                      {"id": 6, "label": "Reason", "start_offset": 8, "end_offset": 17}],
         "relations": [{"id": 1, "from_id": 6, "to_id": 5, "type": "supports"}]},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    documents_import(project=project, records=read_upload("all.jsonl", data), add_labels=True)
    held = _sets(project)
    whose = {doc: who for doc, who in held}
    assert held[("doccano-1", whose["doccano-1"])] == (
        [(0, 22, "Claim"), (23, len(TEXT), "Evidence")], [])
    assert held[("doccano-2", whose["doccano-2"])] == (
        [(0, 7, "Claim"), (8, 17, "Reason")], [((8, 17, "Reason"), (0, 7, "Claim"), "supports")])
    # ... and out to Label Studio (UTF-16): the emoji before "Exports" counts twice there.
    export_write(project=project, format="labelstudio", path=tmp_path / "ls.json")
    tasks = {t["data"]["warrant_id"]: t for t in json.loads((tmp_path / "ls.json").read_text())}
    values = [r["value"] for a in tasks["doccano-1"]["annotations"] for r in a["result"]]
    assert [(v["start"], v["end"], v["text"]) for v in values] == [
        (0, 23, TEXT[0:22]), (24, len(TEXT) + 1, TEXT[23:])]
