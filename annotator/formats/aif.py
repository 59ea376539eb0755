"""AIF JSON export: one argument graph per annotation set, for OVA and AIFdb.

The Argument Interchange Format (AIF; Chesñevar et al. 2006, "Towards an
argument interchange format", Knowledge Engineering Review 21(4); the
specification of the Argumentation Research Group, University of Dundee,
8 November 2011, http://www.arg.dundee.ac.uk/aif) represents an argument as a
graph of information nodes (I) and scheme nodes: rule applications (RA,
inference) and conflict applications (CA). Its JSON form is the one AIFdb
serves and OVA loads (AIFdb Web Services, http://www.arg.dundee.ac.uk/?page_id=749;
the xAIF documentation of the ``xaif`` package): an object with ``nodes``
(``nodeID``, ``text``, ``type``, ``timestamp``), ``edges`` (``edgeID``,
``fromID``, ``toID``, ``formEdgeID``), ``locutions`` (``nodeID``,
``personID``, ...), ``participants`` and ``schemefulfillments``. Following
Inference Anchoring Theory, as AIFdb corpora do, each proposition (I) is
anchored in the text by a locution (L) through an illocutionary connection (YA).

The mapping:

- every span becomes an I-node (its text), an L-node (the same text, as said by
  the annotator, who is the only participant) and a YA-node ``Asserting`` with
  edges L → YA → I;
- ``supports`` and ``evidence_for`` relations become an RA-node ``Default
  Inference`` with edges source I → RA → target I;
- ``attacks`` relations become a CA-node ``Default Conflict`` with edges
  source I → CA → target I;
- a relation of another type (a custom schema) cannot be placed in AIF and is
  listed in the graph's ``warrant.unrepresented``, not written as an edge.

Every edge joins two nodes of the graph (no dangling edge). Node ids are
strings of consecutive integers from 1, as AIFdb writes them. The key
``warrant`` holds what AIF has no field for: the document id, the annotator,
and for each I-node the span's id, label and code point offsets into ``text``
(the document's canonical text).

Only submitted work: AIF has no field for how far an annotator got, so an
export holds the annotation sets that annotators submitted and the gold; a set
still assigned or in progress is left out (by ``annotator.services.exports``,
whose summary counts them), and a graph without nodes means "found no
argument". The canonical JSONL export keeps every set with its status.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from annotator.formats._export_common import FolderSink, ZipSink, annotation_sets, safe_file_stem
from annotator.formats.records import AnnotationRecord, DocumentRecord

__all__ = ["CA_TYPES", "RA_TYPES", "aif_graph", "write_aif"]

#: Relation types written as inference (RA) and as conflict (CA).
RA_TYPES = frozenset({"supports", "evidence_for"})
CA_TYPES = frozenset({"attacks"})
#: Scheme names AIFdb uses for the default inference, conflict and assertion.
RA_TEXT = "Default Inference"
CA_TEXT = "Default Conflict"
YA_TEXT = "Asserting"


def aif_graph(
    record: DocumentRecord, annotation: AnnotationRecord, *, timestamp: str = ""
) -> dict:
    """Return the AIF JSON object for one annotation set of one document.

    Parameters
    ----------
    record : DocumentRecord
        The document (its id and canonical text).
    annotation : AnnotationRecord
        The set (an annotator's, or the gold with ``annotator`` empty).
    timestamp : str
        Written on every node (``YYYY-MM-DD HH:MM:SS``, AIFdb's form); empty by default so
        that the same data gives the same file.

    Examples
    --------
    >>> from annotator.formats.records import RelationRecord, SpanRecord
    >>> doc = DocumentRecord("b1", "Sanctions work. Exports fell.")
    >>> a = AnnotationRecord("ann", spans=[SpanRecord("T1", 0, 15, "Claim"),
    ...     SpanRecord("T2", 16, 29, "Evidence")],
    ...     relations=[RelationRecord("R1", "T2", "T1", "evidence_for")])
    >>> graph = aif_graph(doc, a)
    >>> [(n["nodeID"], n["type"], n["text"])
    ...  for n in graph["nodes"]]  # doctest: +NORMALIZE_WHITESPACE
    [('1', 'I', 'Sanctions work.'), ('2', 'L', 'ann: Sanctions work.'), ('3', 'YA', 'Asserting'),
     ('4', 'I', 'Exports fell.'), ('5', 'L', 'ann: Exports fell.'), ('6', 'YA', 'Asserting'),
     ('7', 'RA', 'Default Inference')]
    >>> [(e["fromID"], e["toID"]) for e in graph["edges"]][-2:]
    [('4', '7'), ('7', '1')]
    """
    speaker = annotation.annotator or "gold"
    nodes: list[dict] = []
    edges: list[dict] = []
    locutions: list[dict] = []
    i_node_of: dict[str, str] = {}
    spans_info: dict[str, dict] = {}
    unrepresented: list[dict] = []

    def node(text: str, kind: str) -> str:
        node_id = str(len(nodes) + 1)
        nodes.append({"nodeID": node_id, "text": text, "type": kind, "timestamp": timestamp})
        return node_id

    def edge(source: str, target: str) -> None:
        edges.append(
            {
                "edgeID": str(len(edges) + 1),
                "fromID": source,
                "toID": target,
                "formEdgeID": None,
            }
        )

    for span in annotation.spans:
        text = record.text[span.start : span.end]
        i_node = node(text, "I")
        l_node = node(f"{speaker}: {text}", "L")
        ya_node = node(YA_TEXT, "YA")
        edge(l_node, ya_node)
        edge(ya_node, i_node)
        locutions.append(
            {"nodeID": l_node, "personID": "1", "timestamp": timestamp, "start": None,
             "end": None, "source": None}
        )
        i_node_of[span.id] = i_node
        spans_info[i_node] = {
            "span": span.id,
            "label": span.label,
            "start": span.start,
            "end": span.end,
            "locution": l_node,
        }

    for relation in annotation.relations:
        if relation.type in RA_TYPES:
            kind, scheme = "RA", RA_TEXT
        elif relation.type in CA_TYPES:
            kind, scheme = "CA", CA_TEXT
        else:
            unrepresented.append({"relation": relation.id, "type": relation.type,
                                  "reason": "no AIF scheme for this relation type"})
            continue
        source, target = i_node_of.get(relation.source), i_node_of.get(relation.target)
        if source is None or target is None:
            unrepresented.append({"relation": relation.id, "type": relation.type,
                                  "reason": "an endpoint is not a span of this set"})
            continue
        scheme_node = node(scheme, kind)
        edge(source, scheme_node)
        edge(scheme_node, target)

    return {
        "nodes": nodes,
        "edges": edges,
        "locutions": locutions,
        "participants": [{"participantID": "1", "firstname": speaker, "surname": ""}],
        "schemefulfillments": [],
        "text": record.text,
        "warrant": {
            "document": record.external_id,
            "title": record.title,
            "annotator": annotation.annotator,
            "gold": not annotation.annotator,
            "offsets": "Unicode code points into text, start inclusive, end exclusive",
            "spans": spans_info,
            "unrepresented": unrepresented,
        },
    }


def write_aif(
    records: Iterable[DocumentRecord], sink: FolderSink | ZipSink, *, timestamp: str = ""
) -> int:
    """Write ``gold/<document>.json`` and ``annotators/<name>/<document>.json`` into ``sink``.

    ``timestamp`` (AIFdb's ``YYYY-MM-DD HH:MM:SS``, normally the time of the export)
    is written on every node and locution. Returns the number of relations that
    could not be written (see ``warrant.unrepresented``).
    """
    unrepresented = 0
    for record in records:
        stem = safe_file_stem(record.external_id)
        for where, annotation in annotation_sets(record):
            graph = aif_graph(record, annotation, timestamp=timestamp)
            unrepresented += len(graph["warrant"]["unrepresented"])
            sink.write_text(f"{where}/{stem}.json", json.dumps(graph, ensure_ascii=False))
    return unrepresented
