"""UIMA CAS XMI both ways, as INCEpTION reads and writes it: a TypeSystem.xml beside
one .xmi per document and annotator, custom layers ``webanno.custom.*`` (a span layer
with its features; a relation layer with Governor and Dependent), UTF-16 offsets."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from annotator.formats.readers import read_upload
from annotator.formats.records import FormatError
from annotator.formats.schema import parse_schema
from annotator.models import AnnotationSet, Span
from annotator.services.exports import export_write
from annotator.services.imports import documents_import
from annotator.text.utf16 import codepoints_to_utf16
from tests.factories import ProjectFactory
from tests.formats.export_samples import TEXT_1, import_sample, sample_schema


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def test_an_xmi_export_imports_back_with_its_annotators_gold_and_attributes(project,
                                                                            tmp_path):
    import_sample(project)
    summary = export_write(project=project, format="xmi", path=tmp_path / "x.zip")
    data = (tmp_path / "x.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = sorted(zf.namelist())
        gold_1 = zf.read("gold/brief-1.xmi").decode()
    assert names[0] == "TypeSystem.xml" and "annotators/alice/brief-1.xmi" in names
    # XMI counts UTF-16 code units (Java strings): after 👩‍💻 a code point offset grows.
    begins = {int(b) for b in re.findall(r'<custom:ArgumentUnit [^>]*begin="(\d+)"', gold_1)}
    assert codepoints_to_utf16(TEXT_1, 26) in begins and 26 not in begins
    copy = ProjectFactory(slug="copy", schema=parse_schema(sample_schema()))
    report = documents_import(project=copy, records=read_upload("x.zip", data))
    assert report.spans == summary.spans and report.relations == summary.relations
    pairs = {(s.document.external_id, s.annotator.username if s.annotator else "gold")
             for s in AnnotationSet.objects.filter(document__project=copy)
             .select_related("document", "annotator")}
    assert ("brief-1", "alice") in pairs and ("brief-1", "gold") in pairs
    strong = Span.objects.get(annotation_set__document__project=copy, label__name="Reason",
                              annotation_set__is_gold=True)
    assert strong.attributes == {"strong": True}
    assert TEXT_1[strong.start:strong.end] == TEXT_1[26:45]


def test_an_inception_project_layer_of_its_own_reads_as_labels_attributes_and_relations():
    """Built as INCEpTION documents a custom span layer and a relation layer attached to it."""
    from cassis import Cas, TypeSystem

    ts = TypeSystem()
    unit = ts.create_type("webanno.custom.Argument", supertypeName="uima.tcas.Annotation")
    ts.create_feature(unit, "ArgType", "uima.cas.String")
    ts.create_feature(unit, "Explicit", "uima.cas.Boolean")
    link = ts.create_type("webanno.custom.ArgRel", supertypeName="uima.tcas.Annotation")
    ts.create_feature(link, "Governor", "webanno.custom.Argument")
    ts.create_feature(link, "Dependent", "webanno.custom.Argument")
    ts.create_feature(link, "role", "uima.cas.String")
    token = ts.create_type("de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.Token",
                           supertypeName="uima.tcas.Annotation")
    cas = Cas(typesystem=ts)
    cas.sofa_string = "Cities 🚗 should ban cars. They pollute."
    claim = unit(begin=0, end=25, ArgType="claim", Explicit=True)
    premise = unit(begin=26, end=38, ArgType="premise")
    cas.add_all([claim, premise, token(begin=0, end=6),
                 link(begin=26, end=38, Governor=premise, Dependent=claim, role="support")])
    data = _zip({"doc1/annotator.xmi": cas.to_xmi().encode(),
                 "TypeSystem.xml": ts.to_xml().encode()})
    [record] = read_upload("inception.zip", data)
    [work] = record.annotations
    assert [(s.label, s.text, s.attributes) for s in work.spans] == [
        ("claim", "Cities 🚗 should ban cars.", {"Explicit": True}),
        ("premise", "They pollute", {}),  # a feature left unset stays unset
    ]
    assert [(r.source, r.target, r.type) for r in work.relations] == [("T2", "T1", "support")]


def test_an_xmi_without_its_type_system_is_refused_by_name():
    with pytest.raises(FormatError, match=r"needs its TypeSystem\.xml beside it"):
        read_upload("x.zip", _zip({"a/doc.xmi": b"<xmi/>"}))
