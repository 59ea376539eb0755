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
- each relation type says how AIF sees it (the schema's ``aif``, by default
  from the type's name: ``formats.schema.default_aif``): an ``inference``
  (supports, evidence_for, Support, reason…) becomes an RA-node ``Default
  Inference`` with edges source I → RA → target I; a ``conflict`` (attacks,
  Attack, Partial-Attack…) a CA-node ``Default Conflict``; a ``rephrase`` an
  MA-node ``Default Rephrase`` (AIF+, Reed et al. 2010);
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
from collections import Counter
from collections.abc import Iterable

from annotator.formats._export_common import FolderSink, ZipSink, annotation_sets, safe_file_stem
from annotator.formats.records import AnnotationRecord, DocumentRecord
from annotator.formats.schema import default_aif

__all__ = ["SCHEME_NODES", "aif_graph", "write_aif"]

#: The scheme node each AIF kind of relation type becomes, with the name AIFdb gives it.
SCHEME_NODES = {
    "inference": ("RA", "Default Inference"),
    "conflict": ("CA", "Default Conflict"),
    "rephrase": ("MA", "Default Rephrase"),
}
YA_TEXT = "Asserting"


def aif_graph(
    record: DocumentRecord, annotation: AnnotationRecord, *, timestamp: str = "",
    aif_kinds: dict[str, str] | None = None,
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
    aif_kinds : dict, optional
        Relation type -> ``inference``, ``conflict``, ``rephrase`` or ``none`` (the
        schema's mapping); a type it does not name is mapped by its name.

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
        aif = (aif_kinds or {}).get(relation.type) or default_aif(relation.type)
        if aif not in SCHEME_NODES:
            unrepresented.append({"relation": relation.id, "type": relation.type,
                                  "reason": "the schema maps this relation type to no AIF node"})
            continue
        kind, scheme = SCHEME_NODES[aif]
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
    records: Iterable[DocumentRecord], sink: FolderSink | ZipSink, *, timestamp: str = "",
    aif_kinds: dict[str, str] | None = None,
) -> tuple[int, Counter]:
    """Write ``gold/<document>.json`` and ``annotators/<name>/<document>.json`` into ``sink``.

    ``timestamp`` (AIFdb's ``YYYY-MM-DD HH:MM:SS``, normally the time of the export)
    is written on every node and locution. Returns how many relations were
    written as scheme nodes, and how many were not, by type (see
    ``warrant.unrepresented`` in each graph).
    """
    written = 0
    left_out: Counter = Counter()
    for record in records:
        stem = safe_file_stem(record.external_id)
        for where, annotation in annotation_sets(record):
            graph = aif_graph(record, annotation, timestamp=timestamp, aif_kinds=aif_kinds)
            missing = graph["warrant"]["unrepresented"]
            left_out.update(item["type"] for item in missing)
            written += len(annotation.relations) - len(missing)
            sink.write_text(f"{where}/{stem}.json", json.dumps(graph, ensure_ascii=False))
    return written, left_out
