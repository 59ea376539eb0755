"""arg-microtexts <arggraph> reader, and how readers.py pairs .xml and .ann.json with a .txt.

The microtext here is hand-written so that every edge type of arggraph.dtd (seg
through a joint, sup, exa, reb, und, add) is mapped even without ../shared/corpora.
"""

import doctest
import io
import json
import re
import zipfile

import pytest

from annotator.formats import microtexts
from annotator.formats.microtexts import read_microtext
from annotator.formats.readers import read_paths, read_upload, read_uploads
from annotator.formats.records import FormatError, RelationRecord

# CRLF after the first sentence and a line break inside e4, where the XML has a space.
TXT = (
    "Cities should ban cars.\r\n"
    "Cars pollute the air and cause noise. For example, Paris\nhas smog. "
    "But cars are convenient. Buses are convenient too, and bikes as well. Thanks for reading."
)
XML = """<?xml version='1.0' encoding='UTF-8'?>
<arggraph id="micro_t001" topic_id="ban_cars" stance="pro">
  <edu id="e1"><![CDATA[Cities should ban cars.]]></edu>
  <edu id="e2"><![CDATA[Cars pollute the air]]></edu>
  <edu id="e3"><![CDATA[and cause noise.]]></edu>
  <edu id="e4"><![CDATA[For example, Paris has smog.]]></edu>
  <edu id="e5"><![CDATA[But cars are convenient.]]></edu>
  <edu id="e6"><![CDATA[Buses are convenient too,]]></edu>
  <edu id="e7"><![CDATA[and bikes as well.]]></edu>
  <edu id="e8"><![CDATA[Thanks for reading.]]></edu>
  <joint id="j1"/>
  <adu id="a1" type="pro"/>
  <adu id="a2" type="pro"/>
  <adu id="a3" type="pro"/>
  <adu id="a4" type="opp"/>
  <adu id="a5" type="pro"/>
  <adu id="a6" type="pro"/>
  <edge id="c10" src="e1" trg="a1" type="seg"/>
  <edge id="c11" src="e2" trg="j1" type="seg"/>
  <edge id="c12" src="e3" trg="j1" type="seg"/>
  <edge id="c13" src="j1" trg="a2" type="seg"/>
  <edge id="c14" src="e4" trg="a3" type="seg"/>
  <edge id="c15" src="e5" trg="a4" type="seg"/>
  <edge id="c16" src="e6" trg="a5" type="seg"/>
  <edge id="c17" src="e7" trg="a6" type="seg"/>
  <edge id="c1" src="a2" trg="a1" type="sup"/>
  <edge id="c2" src="a3" trg="a2" type="exa"/>
  <edge id="c3" src="a4" trg="a1" type="reb"/>
  <edge id="c4" src="a5" trg="c3" type="und"/>
  <edge id="c5" src="a6" trg="c4" type="add"/>
</arggraph>
"""


def _read(xml: str = XML, txt: str = TXT):
    return read_microtext(
        txt.encode(), xml.encode(), txt_name="micro_t001.txt", xml_name="micro_t001.xml"
    )


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_every_adu_becomes_a_span_over_its_edus_in_the_canonical_text():
    record = _read()
    [annotation] = record.annotations
    assert record.text == TXT.replace("\r\n", "\n")
    assert [(s.id, s.label, s.text, s.attributes) for s in annotation.spans] == [
        ("a1", "MajorClaim", "Cities should ban cars.", {"role": "pro", "edus": "e1"}),
        (
            "a2",
            "Claim",
            "Cars pollute the air and cause noise.",
            {"role": "pro", "edus": "e2,e3"},
        ),
        ("a3", "Claim", "For example, Paris\nhas smog.", {"role": "pro", "edus": "e4"}),
        ("a4", "Claim", "But cars are convenient.", {"role": "opp", "edus": "e5"}),
        ("a5", "Claim", "Buses are convenient too,", {"role": "pro", "edus": "e6"}),
        ("a6", "Claim", "and bikes as well.", {"role": "pro", "edus": "e7"}),
    ]
    assert all(record.text[s.start : s.end] == s.text for s in annotation.spans)
    assert record.external_id == "micro_t001"
    assert record.source_format == "microtexts"
    assert record.original == TXT.encode()
    assert record.cleaning is None


def test_edge_types_map_to_supports_and_attacks_and_undercuts_hit_the_source():
    [annotation] = _read().annotations
    assert annotation.relations == [
        RelationRecord("c1", "a2", "a1", "supports"),  # sup
        RelationRecord("c2", "a3", "a2", "supports"),  # exa
        RelationRecord("c3", "a4", "a1", "attacks"),  # reb
        RelationRecord("c4", "a5", "a4", "attacks"),  # und of c3: its source a4
        RelationRecord("c5", "a6", "a4", "attacks"),  # add to c4: same type and target
    ]


def test_what_the_mapping_loses_is_kept_in_meta():
    assert _read().meta == {
        "arggraph": {"id": "micro_t001", "topic_id": "ban_cars", "stance": "pro"},
        "central_claim": "a1",
        "edge_types": {"c1": "sup", "c2": "exa", "c3": "reb", "c4": "und", "c5": "add"},
        "undercuts": [{"edge": "c4", "source": "a5", "undercut_edge": "c3", "mapped_target": "a4"}],
        "added_sources": [{"edge": "c5", "source": "a6", "joins": "c4"}],
    }


def test_without_a_single_proponent_root_no_adu_is_the_major_claim():
    # a4 (opp) no longer rebuts anything: two roots, a1 and a4, and a4 is an opponent
    # ... but a1 is still the only *proponent* root.
    xml = XML.replace('<edge id="c3" src="a4" trg="a1" type="reb"/>', "").replace(
        '<edge id="c4" src="a5" trg="c3" type="und"/>',
        '<edge id="c4" src="a5" trg="a1" type="sup"/>',
    )
    assert _read(xml).meta["central_claim"] == "a1"
    # Two proponent roots: none is marked.
    xml = XML.replace('<edge id="c1" src="a2" trg="a1" type="sup"/>', "").replace(
        '<edge id="c2" src="a3" trg="a2" type="exa"/>',
        '<edge id="c2" src="a3" trg="a1" type="exa"/>',
    )
    record = _read(xml)
    assert record.meta["central_claim"] is None
    assert {s.label for s in record.annotations[0].spans} == {"Claim"}


def test_an_edu_missing_from_the_text_names_the_xml_and_the_edu():
    txt = TXT.replace("But cars are convenient.", "But cars are handy.")
    with pytest.raises(FormatError, match=r"^micro_t001\.xml: EDU e5 \('But cars are conv"):
        _read(txt=txt)


def test_edus_are_searched_forward_so_order_matters():
    swapped = TXT.replace("Cities should ban cars.\r\n", "") + " Cities should ban cars."
    with pytest.raises(FormatError, match=r"EDU e2 .* after offset"):
        _read(txt=swapped)


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ('type="opp"', 'type="con"', r"ADU a4 has type 'con'"),
        ('type="exa"', 'type="ex"', r"edge c2 has type 'ex'"),
        (
            'trg="c3" type="und"',
            'trg="a4" type="und"',
            r"und edge c4 must point at an argumentative",
        ),
        ('src="a2" trg="a1"', 'src="a2" trg="a9"', r"sup edge c1 ends at 'a9'"),
        ('<adu id="a6" type="pro"/>', '<adu id="a5" type="pro"/>', r"duplicate id 'a5'"),
        ('<edge id="c17" src="e7" trg="a6" type="seg"/>', "", r"ADU a6 has no EDU"),
    ],
)
def test_malformed_graphs_are_refused_naming_the_xml(old, new, reason):
    with pytest.raises(FormatError, match=rf"^micro_t001\.xml(:\d+)?: .*{reason}"):
        _read(XML.replace(old, new, 1))


def test_another_xml_document_is_refused():
    xml = XML.replace("<arggraph ", "<graph ").replace("</arggraph>", "</graph>")
    with pytest.raises(FormatError, match=r"^micro_t001\.xml: expected an <arggraph> document"):
        _read(xml)


def test_not_well_formed_xml_names_the_line():
    with pytest.raises(FormatError, match=r"^micro_t001\.xml:3: not well-formed XML"):
        _read(XML.replace("</edu>", "</ed>", 1))


def test_entity_declarations_are_refused_before_parsing():
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE arggraph [<!ENTITY lol "lol">]>\n' + XML.split("\n", 1)[1]
    )
    with pytest.raises(FormatError, match=r"^micro_t001\.xml: XML entity declarations"):
        _read(bomb)


def test_the_module_examples_hold():
    result = doctest.testmod(microtexts, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# --- readers.py: pairs beside a .txt ---------------------------------------------------

CDCP_TXT = b"Texts will not work. Consumers must pay for texts."
CDCP_ANN = json.dumps(
    {
        "prop_labels": ["value", "fact"],
        "prop_offsets": [[0, 20], [20, 50]],
        "reasons": [[[1, 1], 0]],
    }
).encode()


def test_uploads_pair_xml_and_ann_json_with_their_txt():
    records = read_uploads(
        [
            ("micro_t001.xml", XML.encode()),
            ("micro_t001.txt", TXT.encode()),
            ("00001.ann.json", CDCP_ANN),
            ("00001.txt", CDCP_TXT),
            ("plain.txt", b"Just a brief."),
        ]
    )
    assert [(r.external_id, r.source_format) for r in records] == [
        ("00001", "cdcp"),
        ("micro_t001", "microtexts"),
        ("plain", "text"),
    ]
    assert len(records[0].annotations[0].relations) == 1


def test_zip_and_folder_pair_them_too(tmp_path):
    members = {
        "c/micro_t001.txt": TXT.encode(),
        "c/micro_t001.xml": XML.encode(),
        "c/00001.txt": CDCP_TXT,
        "c/00001.ann.json": CDCP_ANN,
        "c/other.json": b"{}",  # not .ann.json: skipped in a container
        "c/arggraph.dtd": b"<!ELEMENT edu (#PCDATA)>",
    }
    records = read_upload("corpus.zip", _zip(members))
    assert [r.source_format for r in records] == ["cdcp", "microtexts"]
    assert records[1].original_name == "corpus.zip/c/micro_t001.txt"
    for name, data in members.items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
    assert [r.source_format for r in read_paths([tmp_path])] == ["cdcp", "microtexts"]


@pytest.mark.parametrize("given", ["micro_t001.txt", "micro_t001.xml"])
def test_a_file_given_by_name_pairs_with_its_partner(tmp_path, given):
    (tmp_path / "micro_t001.txt").write_text(TXT, newline="")
    (tmp_path / "micro_t001.xml").write_text(XML)
    [record] = read_paths([tmp_path / given])
    assert record.source_format == "microtexts"


@pytest.mark.parametrize("given", ["00001.txt", "00001.ann.json"])
def test_a_cdcp_file_given_by_name_pairs_with_its_partner(tmp_path, given):
    (tmp_path / "00001.txt").write_bytes(CDCP_TXT)
    (tmp_path / "00001.ann.json").write_bytes(CDCP_ANN)
    [record] = read_paths([tmp_path / given])
    assert record.source_format == "cdcp"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("micro_t001.xml", XML.encode(), r"an arg-microtexts \.xml file needs .*micro_t001\.txt"),
        ("00001.ann.json", CDCP_ANN, r"a CDCP \.ann\.json file needs .*00001\.txt"),
        ("data.json", b"{}", r"not a Label Studio export"),
    ],
)
def test_annotation_files_alone_and_plain_json_are_refused(name, data, reason):
    with pytest.raises(FormatError, match=rf"^{re.escape(name)}: {reason}"):
        read_upload(name, data)


def test_a_lone_xml_in_a_folder_is_refused_naming_it(tmp_path):
    (tmp_path / "brief.txt").write_bytes(b"A brief.")
    (tmp_path / "graph.xml").write_text(XML)
    with pytest.raises(FormatError, match=r"graph\.xml: an arg-microtexts \.xml file needs"):
        read_paths([tmp_path])


def test_a_txt_with_two_annotation_files_is_refused():
    with pytest.raises(FormatError, match=r"^doc\.txt: more than one annotation file.*doc\.ann"):
        read_uploads([("doc.txt", TXT.encode()), ("doc.xml", XML.encode()), ("doc.ann", b"")])
