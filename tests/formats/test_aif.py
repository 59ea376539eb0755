"""AIF JSON: I, L, YA, RA and CA nodes, and no dangling edge."""

import json
import zipfile
from collections import Counter

from annotator.formats.aif import aif_graph
from annotator.formats.records import AnnotationRecord, DocumentRecord, RelationRecord, SpanRecord
from annotator.services.exports import export_write
from tests.formats.export_samples import import_sample

TEXT = "Sanctions work. Exports fell 40%. Prices rose. Yet trade moved to China."


def sample_graph():
    spans = [
        SpanRecord("T1", 0, 15, "Claim"),
        SpanRecord("T2", 16, 33, "Evidence"),
        SpanRecord("T3", 34, 46, "Reason"),
        SpanRecord("T4", 47, len(TEXT), "Reason"),
    ]
    relations = [
        RelationRecord("R1", "T2", "T3", "evidence_for"),
        RelationRecord("R2", "T3", "T1", "supports"),
        RelationRecord("R3", "T4", "T1", "attacks"),
        RelationRecord("R4", "T4", "T2", "restates"),  # no AIF scheme
    ]
    record = DocumentRecord("b1", TEXT, title="Trade")
    return aif_graph(record, AnnotationRecord("alice", spans=spans, relations=relations),
                     timestamp="2024-05-01 10:00:00")


def assert_well_formed(graph):
    nodes = {n["nodeID"]: n for n in graph["nodes"]}
    assert len(nodes) == len(graph["nodes"])
    assert len({e["edgeID"] for e in graph["edges"]}) == len(graph["edges"])
    for edge in graph["edges"]:  # no dangling edge
        assert edge["fromID"] in nodes and edge["toID"] in nodes
    for locution in graph["locutions"]:
        assert nodes[locution["nodeID"]]["type"] == "L"
        assert locution["personID"] in {p["participantID"] for p in graph["participants"]}
    incoming = Counter(e["toID"] for e in graph["edges"])
    outgoing = Counter(e["fromID"] for e in graph["edges"])
    for node in graph["nodes"]:
        if node["type"] in {"RA", "CA", "YA"}:  # a scheme node joins one premise to one conclusion
            assert (incoming[node["nodeID"]], outgoing[node["nodeID"]]) == (1, 1)
    return nodes


def test_every_span_is_an_i_node_anchored_by_a_locution_through_ya():
    graph = sample_graph()
    nodes = assert_well_formed(graph)
    assert Counter(n["type"] for n in graph["nodes"]) == {
        "I": 4, "L": 4, "YA": 4, "RA": 2, "CA": 1
    }
    edges = {(e["fromID"], e["toID"]) for e in graph["edges"]}
    for i_node, info in graph["warrant"]["spans"].items():
        assert nodes[i_node]["type"] == "I"
        assert nodes[i_node]["text"] == TEXT[info["start"] : info["end"]]
        l_node = info["locution"]
        [ya] = [t for f, t in edges if f == l_node]
        assert nodes[ya] == {"nodeID": ya, "text": "Asserting", "type": "YA",
                             "timestamp": "2024-05-01 10:00:00"}
        assert (ya, i_node) in edges


def test_supports_and_evidence_for_are_ra_and_attacks_are_ca():
    graph = sample_graph()
    nodes = assert_well_formed(graph)
    i_of = {info["span"]: node for node, info in graph["warrant"]["spans"].items()}
    links = set()
    for node in graph["nodes"]:
        if node["type"] in {"RA", "CA"}:
            [source] = [e["fromID"] for e in graph["edges"] if e["toID"] == node["nodeID"]]
            [target] = [e["toID"] for e in graph["edges"] if e["fromID"] == node["nodeID"]]
            links.add((node["type"], node["text"], source, target))
    assert links == {
        ("RA", "Default Inference", i_of["T2"], i_of["T3"]),
        ("RA", "Default Inference", i_of["T3"], i_of["T1"]),
        ("CA", "Default Conflict", i_of["T4"], i_of["T1"]),
    }
    assert nodes  # keeps the helper's check explicit


def test_a_relation_type_without_a_scheme_is_reported_not_drawn():
    graph = sample_graph()
    assert graph["warrant"]["unrepresented"] == [
        {"relation": "R4", "type": "restates",
         "reason": "the schema maps this relation type to no AIF node"}
    ]


def test_corpus_relation_types_map_by_name_and_the_schema_decides():
    """AbstRCT's Support/Attack/Partial-Attack and CDCP's reason/evidence all reach AIF."""
    doc = DocumentRecord("d", "A b. C d. E f.")
    spans = [SpanRecord("T1", 0, 4, "Claim"), SpanRecord("T2", 5, 9, "Premise"),
             SpanRecord("T3", 10, 14, "Premise")]
    relations = [RelationRecord("R1", "T2", "T1", "Support"),
                 RelationRecord("R2", "T3", "T1", "Partial-Attack"),
                 RelationRecord("R3", "T3", "T2", "reason"),
                 RelationRecord("R4", "T2", "T3", "sequence")]
    graph = aif_graph(doc, AnnotationRecord("", spans=spans, relations=relations))
    assert Counter(n["type"] for n in graph["nodes"] if n["type"] in ("RA", "CA", "MA")) == {
        "RA": 2, "CA": 1}
    assert [u["relation"] for u in graph["warrant"]["unrepresented"]] == ["R4"]
    graph = aif_graph(doc, AnnotationRecord("", spans=spans, relations=relations),
                      aif_kinds={"sequence": "rephrase", "Support": "none"})
    assert Counter(n["type"] for n in graph["nodes"] if n["type"] in ("RA", "CA", "MA")) == {
        "RA": 1, "CA": 1, "MA": 1}
    assert [u["relation"] for u in graph["warrant"]["unrepresented"]] == ["R1"]


def test_the_summary_counts_the_relations_the_files_hold_and_names_the_rest(project, tmp_path):
    import_sample(project)
    project.relation_types.filter(name="attacks").update(aif="none")
    summary = export_write(project=project, format="aif", path=tmp_path / "aif.zip")
    in_files = 0
    with zipfile.ZipFile(tmp_path / "aif.zip") as zf:
        for name in zf.namelist():
            graph = json.loads(zf.read(name))
            in_files += sum(n["type"] in ("RA", "CA", "MA") for n in graph["nodes"])
    assert summary.relations == in_files == 4  # gold 1 + 2, alice 1; R2 attacks left out
    assert summary.unrepresented == 1
    assert "1 attacks relation(s): the schema maps attacks to no AIF node" in (
        summary.left_out_note())


def test_export_zip_has_a_graph_per_document_and_annotation_set(project, tmp_path):
    import_sample(project)
    summary = export_write(project=project, format="aif", path=tmp_path / "aif.zip")
    with zipfile.ZipFile(tmp_path / "aif.zip") as zf:
        names = sorted(zf.namelist())
        assert names == [
            "annotators/alice/brief-1.json", "annotators/alice/brief-2.json",
            "gold/brief-1.json", "gold/brief-2.json",
        ]  # bob's set is in progress: left out
        graphs = {name: json.loads(zf.read(name)) for name in names}
    for graph in graphs.values():
        assert_well_formed(graph)
    gold = graphs["gold/brief-1.json"]
    assert gold["warrant"]["document"] == "brief-1" and gold["warrant"]["gold"] is True
    assert Counter(n["type"] for n in gold["nodes"])["CA"] == 1  # R2 attacks
    assert summary.unrepresented == 0
