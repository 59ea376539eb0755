"""Attributes in the label schema and the AIF mapping of relation types (formats/schema.py)."""

from __future__ import annotations

import pytest

from annotator.formats.records import FormatError
from annotator.formats.schema import (
    AttributeSpec,
    SpanLabelSpec,
    default_aif,
    load_schema,
    parse_schema,
)


def schema_with(*attributes, hotkey="c"):
    return {"span_labels": [{"name": "Claim", "hotkey": hotkey, "attributes": list(attributes)},
                            {"name": "Premise", "hotkey": "p"}]}


def test_the_argument_preset_has_stance_on_claim_and_kind_on_evidence():
    spec = load_schema("argument")
    stance = spec.label("Claim").attribute("stance")
    kind = spec.label("Evidence").attribute("kind")
    assert (stance.type, stance.values) == ("choice", ("for", "against"))
    assert (kind.type, kind.values) == ("choice", ("statistic", "quotation", "event", "study"))
    assert spec.label("Reason").attributes == ()
    assert spec.attribute_names() == ["stance", "kind"]


def test_the_three_types_parse_and_survive_to_dict_and_back():
    data = schema_with(
        {"name": "stance", "type": "choice", "values": ["for", "against"], "hotkey": "f"},
        {"name": "negated", "type": "boolean", "description": "Says 'not'"},
        {"name": "source", "type": "text"},
    )
    spec = parse_schema(data)
    assert spec.label("Claim").attributes == (
        AttributeSpec("stance", "choice", ("for", "against"), "f"),
        AttributeSpec("negated", "boolean", (), "", "Says 'not'"),
        AttributeSpec("source", "text"),
    )
    assert parse_schema(spec.to_dict()) == spec


@pytest.mark.parametrize(("attribute", "message"), [
    ({"name": "2x", "type": "text"}, "attribute name '2x' must start with a letter"),
    ({"name": "stance", "type": "number"}, "type 'number' is not one of choice, boolean, text"),
    ({"name": "stance", "type": "choice"}, "a choice needs a non-empty list of values"),
    ({"name": "stance", "type": "choice", "values": ["for", "for"]}, "listed twice"),
    ({"name": "stance", "type": "choice", "values": [" for"]}, "without spaces at either end"),
    ({"name": "stance", "type": "text", "values": ["a"]}, "only a choice has values"),
    ({"name": "stance", "type": "text", "hotkey": "c"}, "is a label's hotkey"),
    ({"name": "stance", "type": "text", "hotkey": "s"}, "reserved by the annotation page"),
    ({"name": "stance", "type": "text", "hotkey": "ab"}, "must be one key"),
])
def test_a_bad_attribute_is_refused_in_one_line(attribute, message):
    with pytest.raises(FormatError, match=message):
        parse_schema(schema_with(attribute))


def test_two_attributes_of_one_label_may_not_share_a_name_or_a_hotkey():
    with pytest.raises(FormatError, match="has attribute 'a' twice"):
        parse_schema(schema_with({"name": "a"}, {"name": "a"}))
    with pytest.raises(FormatError, match="used by two attributes of 'Claim'"):
        parse_schema(schema_with({"name": "a", "hotkey": "g"}, {"name": "b", "hotkey": "g"}))


def test_the_same_attribute_hotkey_may_serve_two_labels():
    spec = parse_schema({"span_labels": [
        {"name": "Claim", "attributes": [{"name": "negated", "type": "boolean", "hotkey": "g"}]},
        {"name": "Reason", "attributes": [{"name": "negated", "type": "boolean", "hotkey": "g"}]},
    ]})
    assert [lab.attribute("negated").hotkey for lab in spec.span_labels] == ["g", "g"]


def test_clean_attributes_checks_each_type_and_drops_unset_values():
    label = SpanLabelSpec("Claim", "#000000", attributes=(
        AttributeSpec("stance", "choice", ("for", "against")),
        AttributeSpec("negated", "boolean"),
        AttributeSpec("source", "text"),
    ))
    assert label.clean_attributes(
        {"stance": "for", "negated": False, "source": "IMF", "x": None}
    ) == {"stance": "for", "negated": False, "source": "IMF"}
    for bad, message in [
        ({"stance": "maybe"}, "one of for, against"),
        ({"negated": "yes"}, "yes/no"),
        ({"source": 3}, "takes text"),
        ({"source": "x" * 201}, "at most 200"),
        ({"source": "two\nlines"}, "one line"),
        ({"weight": "1"}, "label Claim has no attribute 'weight' \\(its attributes: stance"),
        (["stance"], "mapping"),
    ]:
        with pytest.raises(ValueError, match=message):
            label.clean_attributes(bad)


@pytest.mark.parametrize(("name", "kind"), [
    ("supports", "inference"), ("Support", "inference"), ("evidence_for", "inference"),
    ("reason", "inference"), ("evidence", "inference"),
    ("attacks", "conflict"), ("Attack", "conflict"), ("Partial-Attack", "conflict"),
    ("rephrase", "rephrase"), ("sequence", "none"), ("elaborates", "none"),
])
def test_aif_defaults_by_name(name, kind):
    assert default_aif(name) == kind
    spec = parse_schema({"span_labels": [{"name": "A"}], "relation_types": [{"name": name}]})
    assert spec.relation_types[0].aif == kind


def test_a_declared_aif_overrides_the_name_and_a_bad_one_is_refused():
    spec = parse_schema({"span_labels": [{"name": "A"}],
                         "relation_types": [{"name": "supports", "aif": "none"}]})
    assert spec.relation_types[0].aif == "none"
    with pytest.raises(FormatError, match="aif 'RA' is not one of"):
        parse_schema({"span_labels": [{"name": "A"}],
                      "relation_types": [{"name": "supports", "aif": "RA"}]})
