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
        RelationRecord("R1", "T2", "T1", "reason", {"group": "reasons-1"}),
        RelationRecord("R2", "T3", "T1", "reason", {"group": "reasons-1"}),
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


def test_multi_source_links_share_a_group_and_every_trimmed_offset_is_listed(corpora):
    from annotator.formats.readers import read_paths

    records = {r.external_id: r for r in read_paths([corpora / "cdcp" / "train"])}
    record = records["00528"]
    data = json.loads((corpora / "cdcp" / "train" / "00528.ann.json").read_text())
    multi = [(key, n) for key in ("reasons", "evidences")
             for n, (sources, _t) in enumerate(data.get(key) or [], start=1)
             if sources[0] != sources[1]]
    assert multi  # the sample was chosen for them (SOURCE.md)
    relations = record.annotations[0].relations
    for key, n in multi:
        grouped = [r for r in relations if r.attributes.get("group") == f"{key}-{n}"]
        sources, _target = data[key][n - 1]
        assert len(grouped) == sources[1] - sources[0] + 1
    assert all(not r.attributes for r in relations
               if r.attributes.get("group") is None)
    # Each listed move is a real one: the file's offsets differ from the span's.
    offsets = data["prop_offsets"]
    spans = {s.id: s for s in record.annotations[0].spans}
    moved = {m.span: m for m in record.moved}
    for index, (start, end) in enumerate(offsets):
        span = spans[f"T{index + 1}"]
        if (span.start, span.end) != (start, end):
            move = moved[span.id]
            assert (move.old_start, move.old_end, move.start, move.end) == (
                start, end, span.start, span.end)
            assert move.reason == "whitespace at the ends trimmed"
        else:
            assert span.id not in moved
    assert moved  # CDCP's propositions carry their spaces
