"""A small annotated project for the export tests: gold and two annotators.

The texts hold non-BMP characters (offsets are code points), spans nest and
overlap, and relations of every preset type are there.
"""

import copy

from annotator.formats.records import AnnotationRecord, DocumentRecord, RelationRecord, SpanRecord
from annotator.formats.schema import ARGUMENT_PRESET, parse_schema
from annotator.services.imports import documents_import
from annotator.services.projects import schema_apply

TEXT_1 = "Sanctions work 👩‍💻 well. \U0001d518nless they leak.\nSo: extend them now."
TEXT_2 = "Exports fell by 40% (Reuters). Prices rose. Therefore the policy works."
TEXT_3 = "A brief with nobody's spans yet."


def _span(text, span_id, start, end, label, **extra):
    return SpanRecord(span_id, start, end, label, text[start:end], **extra)


def sample_records() -> list[DocumentRecord]:
    t1, t2 = TEXT_1, TEXT_2
    so = t1.index("So:")
    return [
        DocumentRecord(
            external_id="brief-1",
            title="Sanctions",
            text=t1,
            meta={"source": "PR"},
            gold=AnnotationRecord(
                spans=[
                    _span(t1, "T1", 0, 24, "Claim"),
                    _span(t1, "T2", 26, 45, "Reason", attributes={"strong": True}),
                    _span(t1, "T3", so, len(t1), "MajorClaim", note="the headline"),
                ],
                relations=[
                    RelationRecord("R1", "T1", "T3", "supports"),
                    RelationRecord("R2", "T2", "T1", "attacks"),
                ],
            ),
            annotations=[
                AnnotationRecord(
                    annotator="alice",
                    spans=[
                        _span(t1, "T1", 0, 24, "Claim"),
                        _span(t1, "T2", 10, 22, "Evidence"),  # nested in T1
                        _span(t1, "T3", 15, 30, "Claim"),  # overlaps T1, same label
                    ],
                    relations=[RelationRecord("R1", "T2", "T1", "evidence_for")],
                ),
                AnnotationRecord(
                    annotator="bob",
                    status="in_progress",
                    spans=[_span(t1, "T1", 3, 12, "Claim")],  # starts inside a token
                ),
            ],
        ),
        DocumentRecord(
            external_id="brief-2",
            title="Exports",
            text=t2,
            gold=AnnotationRecord(
                spans=[
                    _span(t2, "T1", 0, 30, "Evidence"),
                    _span(t2, "T2", 31, 43, "Evidence"),
                    _span(t2, "T3", 44, len(t2), "MajorClaim"),
                ],
                relations=[
                    RelationRecord("R1", "T1", "T3", "evidence_for"),
                    RelationRecord("R2", "T2", "T3", "evidence_for"),
                ],
            ),
            annotations=[
                AnnotationRecord(
                    annotator="alice",
                    spans=[_span(t2, "T1", 44, len(t2), "Claim")],
                ),
            ],
        ),
        DocumentRecord(external_id="brief-3", title="Empty", text=TEXT_3),
    ]


def sample_schema() -> dict:
    """The argument preset plus the yes/no attribute the sample's gold Reason holds."""
    schema = copy.deepcopy(ARGUMENT_PRESET)
    reason = next(lab for lab in schema["span_labels"] if lab["name"] == "Reason")
    reason["attributes"] = [{"name": "strong", "type": "boolean"}]
    return schema


def import_sample(project):
    """Import ``sample_records()`` into ``project`` (the schema of ``sample_schema()``)."""
    schema_apply(project=project, schema=parse_schema(sample_schema()))
    return documents_import(project=project, records=sample_records())
