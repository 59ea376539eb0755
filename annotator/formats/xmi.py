"""UIMA CAS XMI with its type system, as INCEpTION imports and exports it (via dkpro-cassis).

INCEpTION's "UIMA CAS XMI" format is one ``.xmi`` per document and annotator
with a ``TypeSystem.xml`` beside it (INCEpTION user guide, "Formats: UIMA CAS
XMI"). Annotation layers a project defines are types ``webanno.custom.<Layer>``
(subtypes of ``uima.tcas.Annotation``): a span layer carries its features
(strings, booleans); a relation layer carries ``Governor`` and ``Dependent``,
references to annotations of the span layer it is attached to (INCEpTION user
guide, "Layers": relation layers; the same names in WebAnno). Offsets in XMI
count UTF-16 code units (Java strings); cassis converts them to code points
when it reads and back when it writes (``cassis.cas.Utf16CodepointOffsetConverter``).

Written here (and read back):

- span layer ``webanno.custom.ArgumentUnit`` with the feature ``label`` (the
  span's label), one string feature per attribute of the schema (yes/no as
  ``true``/``false``) and ``note``;
- relation layer ``webanno.custom.ArgumentRelation`` with ``Governor`` (the
  source), ``Dependent`` (the target) and ``label`` (the type);
- ``DocumentMetaData`` (DKPro Core) with the document's id and title.

Read: every ``webanno.custom.*`` annotation type. A relation layer is one with
``Governor`` and ``Dependent``; its type is the ``label`` feature's value (or
the first string feature's, else the layer's name). A span's label is its
``label`` feature (or ``value``, else the first string feature, else the layer's
name); its other string and boolean features are attributes. Other types
(tokens, sentences, DKPro's named entities) are not Warrant's and are skipped.
cassis is imported inside the functions: web processes start without it.
"""

from __future__ import annotations

import io

from annotator.formats.records import (
    AnnotationRecord,
    DocumentRecord,
    FormatError,
    RelationRecord,
    SpanRecord,
)
from annotator.text.newlines import normalize_newlines

__all__ = ["TYPESYSTEM_NAME", "read_xmi", "typesystem_xml", "write_xmi"]

#: The type system's file name beside the ``.xmi`` files (INCEpTION's).
TYPESYSTEM_NAME = "TypeSystem.xml"
SPAN_TYPE = "webanno.custom.ArgumentUnit"
RELATION_TYPE = "webanno.custom.ArgumentRelation"
METADATA_TYPE = "de.tudarmstadt.ukp.dkpro.core.api.metadata.type.DocumentMetaData"
_CUSTOM = "webanno.custom."
_LABEL_FEATURES = ("label", "value")
_STRING = "uima.cas.String"
_BOOLEAN = "uima.cas.Boolean"


def _typesystem(attribute_names: list[str]):
    from cassis import TypeSystem

    ts = TypeSystem()
    meta = ts.create_type(METADATA_TYPE, supertypeName="uima.tcas.DocumentAnnotation")
    for feature in ("documentTitle", "documentId", "documentUri"):
        ts.create_feature(meta, feature, _STRING)
    unit = ts.create_type(SPAN_TYPE, supertypeName="uima.tcas.Annotation")
    ts.create_feature(unit, "label", _STRING)
    ts.create_feature(unit, "note", _STRING)
    for name in attribute_names:
        if name not in ("label", "note"):
            ts.create_feature(unit, name, _STRING)
    relation = ts.create_type(RELATION_TYPE, supertypeName="uima.tcas.Annotation")
    ts.create_feature(relation, "Governor", SPAN_TYPE)
    ts.create_feature(relation, "Dependent", SPAN_TYPE)
    ts.create_feature(relation, "label", _STRING)
    return ts


def typesystem_xml(attribute_names: list[str]) -> str:
    """The ``TypeSystem.xml`` of an export whose spans may hold ``attribute_names``."""
    return _typesystem(attribute_names).to_xml()


def write_xmi(record: DocumentRecord, annotation: AnnotationRecord,
              attribute_names: list[str]) -> str:
    """One annotation set of one document as XMI (with :func:`typesystem_xml` beside it)."""
    from cassis import Cas

    ts = _typesystem(attribute_names)
    cas = Cas(typesystem=ts)
    cas.sofa_string = record.text
    cas.sofa_mime = "text/plain"
    Meta, Unit, Link = (ts.get_type(n) for n in (METADATA_TYPE, SPAN_TYPE, RELATION_TYPE))
    cas.add(Meta(begin=0, end=len(record.text), documentId=record.external_id,
                 documentTitle=record.title or record.external_id))
    units = {}
    for span in annotation.spans:
        values = {
            name: ("true" if value is True else "false" if value is False else str(value))
            for name, value in span.attributes.items() if name in attribute_names
        }
        unit = Unit(begin=span.start, end=span.end, label=span.label,
                    note=span.note or None, **values)
        cas.add(unit)
        units[span.id] = unit
    for relation in annotation.relations:
        source, target = units[relation.source], units[relation.target]
        cas.add(Link(begin=target.begin, end=target.end, Governor=source, Dependent=target,
                     label=relation.type))
    return cas.to_xmi(pretty_print=True)


def _string_features(t) -> list[str]:
    return [f.name for f in t.all_features
            if f.rangeType.name in (_STRING, _BOOLEAN) and f.name not in ("sofa",)]


def read_xmi(xmi: bytes, typesystem: bytes, *, xmi_name: str, ts_name: str) -> DocumentRecord:
    """Read one INCEpTION XMI document with its type system (see the module docstring)."""
    from cassis import load_cas_from_xmi, load_typesystem

    try:
        ts = load_typesystem(io.BytesIO(typesystem))
    except Exception as exc:  # cassis raises lxml's and its own errors
        raise FormatError(f"not a UIMA type system: {str(exc)[:120]}", file=ts_name) from None
    try:
        cas = load_cas_from_xmi(io.BytesIO(xmi), typesystem=ts, lenient=True)
    except Exception as exc:
        raise FormatError(f"not a UIMA CAS XMI of this type system: {str(exc)[:120]}",
                          file=xmi_name) from None
    original = cas.sofa_string or ""
    text, offsets = normalize_newlines(original)
    custom = [t for t in ts.get_types() if t.name.startswith(_CUSTOM)]
    relation_types = [t for t in custom
                      if {"Governor", "Dependent"} <= {f.name for f in t.all_features}]
    span_types = [t for t in custom if t not in relation_types]
    spans: list[SpanRecord] = []
    id_of: dict[int, str] = {}
    for t in span_types:
        features = _string_features(t)
        label_feature = next((f for f in _LABEL_FEATURES if f in features),
                             features[0] if features else None)
        for fs in cas.select(t.name):
            label = fs.get(label_feature) if label_feature else None
            label = str(label) if label else t.name.removeprefix(_CUSTOM)
            if not 0 <= fs.begin < fs.end <= len(original):
                raise FormatError(f"annotation {fs.xmiID} ({fs.begin}, {fs.end}) is outside "
                                  "the text or empty", file=xmi_name)
            start, end = offsets.map(fs.begin), offsets.map(fs.end)
            attributes = {}
            for name in features:
                value = fs.get(name)
                if name in (label_feature, "note") or value is None or value == "":
                    continue
                attributes[name] = value if isinstance(value, bool) else str(value)
            span_id = f"T{len(spans) + 1}"
            id_of[fs.xmiID] = span_id
            spans.append(SpanRecord(span_id, start, end, label, text[start:end], attributes,
                                    str(fs.get("note") or "") if "note" in features else ""))
    relations: list[RelationRecord] = []
    for t in relation_types:
        features = [f for f in _string_features(t)]
        label_feature = next((f for f in _LABEL_FEATURES if f in features),
                             features[0] if features else None)
        for fs in cas.select(t.name):
            governor, dependent = fs.get("Governor"), fs.get("Dependent")
            if governor is None or dependent is None or governor.xmiID not in id_of \
                    or dependent.xmiID not in id_of:
                raise FormatError(f"relation {fs.xmiID} joins annotations that are not spans "
                                  "of a custom layer", file=xmi_name)
            label = fs.get(label_feature) if label_feature else None
            relations.append(RelationRecord(
                f"R{len(relations) + 1}", id_of[governor.xmiID], id_of[dependent.xmiID],
                str(label) if label else t.name.removeprefix(_CUSTOM)))
    title, external_id = "", ""
    for fs in cas.select_all_annotations():
        if fs.type.name == METADATA_TYPE:
            title = str(fs.get("documentTitle") or "")
            external_id = str(fs.get("documentId") or "")
    from annotator.formats._common import external_id_from_name

    return DocumentRecord(
        external_id=external_id or external_id_from_name(xmi_name),
        text=text,
        title=title,
        annotations=[AnnotationRecord(annotator="", spans=spans, relations=relations)],
        original=xmi,
        original_name=xmi_name,
        source_format="xmi",
    )
