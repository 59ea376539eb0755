import json

import pytest

from annotator.formats.cdcp import read_cdcp
from annotator.formats.records import FormatError, RelationRecord

TEXT = "Texts will not work. Consumers must pay for texts  and this is against the law."


def _read(ann: dict, text: str = TEXT):
    return read_cdcp(
        text.encode(), json.dumps(ann).encode(), txt_name="00528.txt", ann_name="00528.ann.json"
    )


def _ann(**overrides) -> dict:
    ann = {
        "prop_labels": ["value", "fact", "fact"],
        "prop_offsets": [[0, 20], [20, 51], [51, 79]],
        "reasons": [[[1, 2], 0]],
        "evidences": [],
        "url": {},
    }
    ann.update(overrides)
    return ann


def test_propositions_become_trimmed_spans_and_ranges_become_relations():
    record = _read(_ann())
    [annotation] = record.annotations
    assert [(s.id, s.label, s.text) for s in annotation.spans] == [
        ("T1", "value", "Texts will not work."),
        ("T2", "fact", "Consumers must pay for texts"),
        ("T3", "fact", "and this is against the law."),
    ]
    assert annotation.relations == [
        RelationRecord("R1", "T2", "T1", "reason"),
        RelationRecord("R2", "T3", "T1", "reason"),
    ]
    assert record.external_id == "00528"
    assert record.source_format == "cdcp"
    assert record.text == TEXT


def test_url_becomes_a_span_attribute():
    record = _read(_ann(url={"1": "http://example.org/x"}))
    assert record.annotations[0].spans[1].attributes == {"url": "http://example.org/x"}


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"prop_offsets": [[0, 20], [20, 51], [51, 900]]}, r"proposition 2 \(T3\).*outside"),
        ({"prop_labels": ["value"]}, "1 prop_labels but 3 prop_offsets"),
        ({"reasons": [[[1, 5], 0]]}, "outside 0..2"),
        ({"evidences": [[1, 0]]}, r"expected \[\[first, last\], target\]"),
    ],
)
def test_bad_annotations_are_refused_naming_the_json_file(overrides, reason):
    with pytest.raises(FormatError, match=rf"^00528\.ann\.json: .*{reason}"):
        _read(_ann(**overrides))


def test_cdcp_samples_import(corpora):
    folder = corpora / "cdcp" / "train"
    texts = sorted(folder.glob("*.txt"))
    assert len(texts) == 4
    for txt in texts:
        ann = folder / f"{txt.stem}.ann.json"
        record = read_cdcp(txt.read_bytes(), ann.read_bytes(), txt_name=txt.name, ann_name=ann.name)
        raw = json.loads(ann.read_text())
        annotation = record.annotations[0]
        assert len(annotation.spans) == len(raw["prop_labels"])
        assert all(s.text == s.text.strip() and s.text for s in annotation.spans)
        links = raw["reasons"] + raw["evidences"]
        assert len(annotation.relations) == sum(last - first + 1 for (first, last), _ in links)
