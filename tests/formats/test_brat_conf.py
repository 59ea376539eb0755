"""brat's annotation.conf becomes the schema on import, and the export writes one that
imports back to the same schema."""

import io
import zipfile

import pytest

from annotator.formats.brat_conf import read_annotation_conf, write_annotation_conf
from annotator.formats.readers import read_paths, read_upload
from annotator.formats.records import FormatError
from annotator.formats.schema import ARGUMENT_PRESET, parse_schema
from annotator.models import AnnotationSet, RelationType, Span, SpanLabel
from annotator.selectors.projects import project_schema
from annotator.services.errors import WarrantError
from annotator.services.exports import export_write
from annotator.services.imports import documents_import
from annotator.services.projects import schema_apply
from tests.factories import DocumentFactory, ProjectFactory

# Written as brat's configuration page documents the file: a hierarchy with an
# abstract type, a macro, <ENTITY>, several lines for one type, a symmetric type,
# an event (not Warrant's), a binary attribute, a valued one in both of brat's forms,
# and an attribute of relations (free in Warrant).
HAND_WRITTEN = """\
# -*- Mode: Text; tab-width: 8; indent-tabs-mode: nil; coding: utf-8; -*-
[entities]
!ArgumentComponent
\tMajorClaim
\tClaim
\tPremise|Prem
-------
Source

[relations]
<ARG>=MajorClaim|Claim|Premise
Support\tArg1:Premise, Arg2:Claim|MajorClaim
Support\tArg1:Source, Arg2:Premise
Attack\tArg1:ArgumentComponent, Arg2:<ARG>
Same\tArg1:<ENTITY>, Arg2:<ENTITY>, <REL-TYPE>:symmetric-transitive
<OVERLAP>\tArg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>
Cause\tArg1:Happening, Arg2:Happening

[events]
Happening\tAgent?:<ENTITY>

[attributes]
Negated\tArg:Premise
Stance\tArg:Claim|MajorClaim, Value:for|against
Strength\tArg:ArgumentComponent, weak:W, strong:S, <DEFAULT>:weak
Certainty\tArg:<EVENT>, Value:low|high
Implicit\tArg:<RELATION>
"""


def test_a_hand_written_conf_reads_as_brat_documents_it():
    schema = read_annotation_conf(HAND_WRITTEN, name="annotation.conf")
    spec = parse_schema(schema)
    assert spec.label_names() == ["MajorClaim", "Claim", "Premise", "Source"]
    types = {rel.name: rel for rel in spec.relation_types}
    assert set(types) == {"Support", "Attack", "Same"}  # Cause links events only
    assert set(types["Support"].allowed) == {
        ("Premise", "Claim"), ("Premise", "MajorClaim"), ("Source", "Premise")}
    # The abstract parent stands for the three types below it.
    assert len(types["Attack"].allowed) == 9
    assert types["Same"].allowed == (("*", "*"),) and not types["Same"].directed
    assert types["Support"].aif == "inference" and types["Attack"].aif == "conflict"
    attributes = {lab.name: {a.name: (a.type, a.values) for a in lab.attributes}
                  for lab in spec.span_labels}
    assert attributes["Premise"] == {"Negated": ("boolean", ()),
                                     "Strength": ("choice", ("weak", "strong"))}
    assert attributes["Claim"] == {"Stance": ("choice", ("for", "against")),
                                   "Strength": ("choice", ("weak", "strong"))}
    assert attributes["Source"] == {}
    # Hotkeys: the first free letter of each name.
    assert [lab.hotkey for lab in spec.span_labels] == ["m", "c", "p", "o"]


@pytest.mark.parametrize(("conf", "message"), [
    ("[entities]\nClaim\n[relations]\nSupport\tArg1:Claim\n", r":4: relation Support needs two"),
    ("[entities]\nClaim\n[relations]\nSupport\tArg1:Claim, Arg2:Nope\n", r"names 'Nope'"),
    ("[entities]\nClaim\n[attributes]\nStance\tValue:a|b\n", r"Stance needs Arg:TYPE"),
    ("[entities]\nClaim\n[relations]\nSupport\tArg1 Claim\n",
     r"Support: cannot read 'Arg1 Claim' as KEY:TYPE"),
    ("[entities]\n1Claim\n", r"name '1Claim' must start with a letter"),
    ("[entities]\n\tClaim\n", r"indented with no type above it"),
])
def test_a_conf_warrant_cannot_read_is_one_line_naming_file_and_line(conf, message):
    with pytest.raises(FormatError, match=message) as caught:
        read_annotation_conf(conf, name="c/annotation.conf")
    assert str(caught.value).startswith("c/annotation.conf")
    assert "\n" not in str(caught.value)


def test_a_conf_without_entities_declares_nothing():
    assert read_annotation_conf("[entities]\n\n[relations]\n") is None


def test_the_written_conf_reads_back_to_the_same_schema():
    preset = parse_schema(ARGUMENT_PRESET)
    data = {**ARGUMENT_PRESET}
    data["span_labels"] = [*ARGUMENT_PRESET["span_labels"], {
        "name": "Source", "colour": "#123456", "description": "Who said it",
        "attributes": [
            {"name": "url", "type": "text", "description": "where"},
            {"name": "kind", "type": "choice", "values": ["peer reviewed", "a|b, c", "50%"]},
            {"name": "checked", "type": "boolean", "hotkey": "y"},
        ]}]
    data["relation_types"] = [*ARGUMENT_PRESET["relation_types"],
                              {"name": "restates", "directed": False, "allowed": [],
                               "aif": "rephrase"}]
    spec = parse_schema(data)
    conf = write_annotation_conf(spec)
    lines = conf.splitlines()
    assert lines[:5] == ["[entities]", "MajorClaim", "Claim", "Reason", "Evidence"]
    assert "attacks\tArg1:<ENTITY>, Arg2:<ENTITY>" in lines
    assert "supports\tArg1:<ENTITY>, Arg2:MajorClaim|Claim|Reason" in lines
    assert "!restates\tArg1:<ENTITY>, Arg2:<ENTITY>, <REL-TYPE>:symmetric" in lines
    assert "stance\tArg:Claim, Value:for|against" in lines
    assert "kind\tArg:Source, Value:peer%20reviewed|a%7Cb%2C%20c|50%25" in lines
    assert "checked\tArg:Source" in lines
    assert "*" not in "\n".join(line for line in lines if not line.startswith("#"))
    assert parse_schema(read_annotation_conf(conf)) == spec
    assert parse_schema(read_annotation_conf(write_annotation_conf(preset))) == preset


def _zip(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_abstrct_conf_becomes_the_schema_of_a_project_without_documents(db, shared_corpora):
    project = ProjectFactory(slug="abstrct")
    assert "Reason" in {lab.name for lab in project.span_labels.all()}  # the preset
    records = [r for r in read_paths([shared_corpora / "abstrct"]) if r.source_format == "brat"]
    assert {r.schema_source for r in records} == {
        str(shared_corpora / "abstrct" / "annotation.conf")}
    report = documents_import(project=project, records=records)  # no --add-labels needed
    spec = project_schema(project)
    assert spec.label_names() == ["Premise", "Claim", "MajorClaim"]
    assert [rel.name for rel in spec.relation_types] == ["Support", "Attack", "Partial-Attack"]
    assert ("Claim", "MajorClaim") in spec.relation_types[0].allowed
    assert ("Premise", "MajorClaim") not in spec.relation_types[2].allowed
    [line] = [line for line in report.lines() if line.startswith("the schema is now")]
    assert line.startswith("the schema is now abstrct/annotation.conf's: Premise, Claim, "
                           "MajorClaim; relation types Support, Attack, Partial-Attack")
    assert "removed the unused MajorClaim" not in line and "Reason" in line
    assert report.relations == 26


def test_the_conf_adds_to_a_project_with_documents_and_a_conflict_is_one_line(db):
    project = ProjectFactory(slug="mixed")
    DocumentFactory(project=project)
    conf = ("[entities]\nClaim\nPremise\n[relations]\nSupport\tArg1:Premise, Arg2:Claim\n"
            "[attributes]\nstance\tArg:Claim, Value:for\nhedged\tArg:Premise\n")
    upload = _zip({"c/annotation.conf": conf, "c/a.txt": "We must act. Because.",
                   "c/a.ann": "T1\tClaim 0 12\tWe must act.\nT2\tPremise 13 21\tBecause.\n"
                              "R1\tSupport Arg1:T2 Arg2:T1\t\nA1\thedged T2\n"})
    report = documents_import(project=project, records=read_upload("c.zip", upload))
    assert "Reason" in {lab.name for lab in project.span_labels.all()}  # nothing removed
    premise = SpanLabel.objects.get(project=project, name="Premise")
    assert premise.attributes == [{"name": "hedged", "type": "boolean", "hotkey": "",
                                   "description": ""}]
    assert RelationType.objects.get(project=project, name="Support").allowed == [
        ["Premise", "Claim"]]
    assert "added to the schema: Premise, Support (relation)" in report.lines()
    assert report.relations == 1

    clash = _zip({"d/annotation.conf": conf.replace("Value:for", "Value:yes|no"),
                  "d/b.txt": "Other text.", "d/b.ann": ""})
    documents = project.documents.count()
    with pytest.raises(WarrantError, match=r"^d/annotation.conf: attribute stance of Claim "
                                           r"is one of yes\|no there but one of for\|against"):
        documents_import(project=project, records=read_upload("d.zip", clash))
    wider = _zip({"e/annotation.conf": conf.replace("Arg2:Claim", "Arg2:Claim|Premise"),
                  "e/b.txt": "Other text.", "e/b.ann": ""})
    with pytest.raises(WarrantError, match=r"Support allows Premise -> Premise, which the "):
        documents_import(project=project, records=read_upload("e.zip", wider))
    assert project.documents.count() == documents


def test_brat_export_imports_back_to_the_same_schema(db, tmp_path):
    project = ProjectFactory(slug="source")
    data = {**ARGUMENT_PRESET, "span_labels": [*ARGUMENT_PRESET["span_labels"], {
        "name": "Source", "colour": "#123456", "hotkey": "o",
        "attributes": [{"name": "url", "type": "text"},
                       {"name": "checked", "type": "boolean"}]}]}
    schema_apply(project=project, schema=parse_schema(data), exact_attributes=True)
    document = DocumentFactory(project=project, text="Act now. Because.")
    gold = AnnotationSet.objects.create(document=document, is_gold=True, gold_final=True,
                                        status="submitted")
    Span.objects.create(annotation_set=gold, start=9, end=17, label=SpanLabel.objects.get(
        project=project, name="Source"), attributes={"url": "http://x.example/a b",
                                                     "checked": True})
    export_write(project=project, format="brat", path=tmp_path / "b.zip", scope="gold")
    again = ProjectFactory(slug="again")
    report = documents_import(project=again, records=read_upload("b.zip", (
        tmp_path / "b.zip").read_bytes()))
    assert project_schema(again) == project_schema(project)
    assert report.spans == 1
