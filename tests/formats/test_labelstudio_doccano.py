"""Label Studio JSON and doccano JSONL in, shaped as those tools document their exports
(https://labelstud.io/guide/task_format; doccano's "Export data": ``label`` triples or
``entities`` with ``relations``), told apart from Warrant's own files by their content."""

from __future__ import annotations

import json

import pytest

from annotator.formats.readers import read_upload
from annotator.formats.records import FormatError
from annotator.services.imports import documents_import

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
