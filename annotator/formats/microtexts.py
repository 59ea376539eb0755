"""arg-microtexts (Peldszus & Stede): ``micro_b001.txt`` + ``micro_b001.xml`` (``<arggraph>``).

Sources: Andreas Peldszus, Manfred Stede. An annotated corpus of argumentative
microtexts. Proceedings of the 1st European Conference on Argumentation (ECA), Lisbon
2015 (published 2016); the corpus at https://github.com/peldszus/arg-microtexts, commit
6707c133, with its DTD ``corpus/arggraph.dtd`` (copied, with a format note, to
../shared/corpora/arg-microtexts/SOURCE.md); the scheme is described in Peldszus & Stede,
"From argument diagrams to argumentation mining in texts: a survey", IJCINI 7(1), 2013.
Each text is a ``.txt`` and an XML argumentation graph without character offsets:

- ``<edu id="e1">text</edu>`` - elementary discourse units, in text order;
- ``<joint id="j1"/>`` - two or more adjacent EDUs that count only together;
- ``<adu id="a1" type="pro|opp"/>`` - an argumentative unit and its dialectical role
  (proponent, opponent);
- ``<edge id="c1" src=".." trg=".." type=".."/>`` with ``type`` one of ``seg``
  (segmentation: EDU -> ADU, EDU -> joint, joint -> ADU), ``sup`` (support), ``exa``
  (support by example), ``reb`` (rebutting attack), ``und`` (undercutting attack: its
  target is another *edge*, the inference it challenges) and ``add`` (an additional
  premise: its target is the edge of the linked argument it joins);
- ``<arggraph id=.. topic_id=.. stance="pro|con|unclear">`` - the root.

Mapping to Warrant, decided here:

- Offsets: the ``.txt`` is the canonical text (newlines normalised, never cleaned).
  Each EDU is found in it by searching forward from the end of the previous EDU,
  first verbatim (its own leading and trailing whitespace stripped), then with any run
  of whitespace matching any run; an EDU that is not found is a :class:`FormatError`
  naming the ``.xml`` and the EDU id. Upstream ``' '.join(edus) == txt`` holds for
  every English text, so the verbatim search always succeeds there.
- Spans: one per ADU, id = the ADU id, covering its EDUs (through joints) from the
  first EDU's start to the last EDU's end. The label is ``MajorClaim`` for the
  central claim - the one proponent ADU that is the source of no ``sup``/``exa``/
  ``reb``/``und``/``add`` edge (every microtext is a tree rooted there; when there
  is not exactly one such ADU, none is marked) - and ``Claim`` for every other ADU.
  These are labels of the built-in ``argument`` preset, whose ``supports`` relation
  only accepts a target of those labels; the dialectical role is kept as the span
  attribute ``{"role": "pro"}`` / ``{"role": "opp"}`` and the EDU ids as ``{"edus": "e1,e2"}``.
- Relations: one per argumentative edge, id = the edge id. ``sup`` and ``exa`` become
  ``supports``; ``reb`` becomes ``attacks``; ``und`` becomes ``attacks`` from its
  source to the *source ADU of the undercut edge* - lossy, since a Warrant relation
  joins two spans and cannot target a relation; ``add`` becomes a relation of the
  same type and target as the (mapped) edge it joins, from the additional premise.
- What the mapping loses is kept in ``DocumentRecord.meta``: ``"edge_types"`` (edge id ->
  original type, so ``exa`` and ``add`` can be told apart from ``sup``),
  ``"undercuts"`` (``{"edge", "source", "undercut_edge", "mapped_target"}`` for
  every ``und``), ``"added_sources"`` (``{"edge", "source", "joins"}`` for every
  ``add``), ``"central_claim"`` (ADU id or ``None``) and ``"arggraph"`` (the root's
  ``id``, ``topic_id`` and ``stance``).

The XML is untrusted: entity declarations (``<!ENTITY``, the "billion laughs"
expansion) are refused before parsing, and external DTDs are never fetched
(:mod:`xml.etree.ElementTree` does not resolve them).

Examples
--------
>>> xml = b'''<arggraph id="m1">
...   <edu id="e1">We should act.</edu><edu id="e2">It helps.</edu>
...   <adu id="a1" type="pro"/><adu id="a2" type="pro"/>
...   <edge id="c1" src="e1" trg="a1" type="seg"/><edge id="c2" src="e2" trg="a2" type="seg"/>
...   <edge id="c3" src="a2" trg="a1" type="sup"/>
... </arggraph>'''
>>> record = read_microtext(b"We should act. It helps.", xml, txt_name="m1.txt", xml_name="m1.xml")
>>> [(s.id, s.label, s.start, s.end) for s in record.annotations[0].spans]
[('a1', 'MajorClaim', 0, 14), ('a2', 'Claim', 15, 24)]
>>> record.annotations[0].relations
[RelationRecord(id='c3', source='a2', target='a1', type='supports', attributes={})]
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

from annotator.formats._common import (
    base_name,
    decode_utf8,
    external_id_from_name,
    first_line_title,
)
from annotator.formats.records import (
    AnnotationRecord,
    DocumentRecord,
    FormatError,
    RelationRecord,
    SpanRecord,
)
from annotator.text.newlines import normalize_newlines

__all__ = [
    "ADU_LABEL",
    "ADU_ROLES",
    "CENTRAL_CLAIM_LABEL",
    "EDGE_TYPES",
    "RELATION_TYPES",
    "read_microtext",
]

# arggraph.dtd, %AduType; and %EdgeType;.
ADU_ROLES = frozenset({"pro", "opp"})
EDGE_TYPES = frozenset({"seg", "sup", "exa", "add", "reb", "und"})
# Argumentative edge type -> Warrant relation type (``add`` and ``und`` are resolved
# through the edge they point at, see the module docstring).
RELATION_TYPES = {"sup": "supports", "exa": "supports", "reb": "attacks", "und": "attacks"}
CENTRAL_CLAIM_LABEL = "MajorClaim"
ADU_LABEL = "Claim"

_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
# An EDU shown in an error is cut to this many characters.
_SNIPPET_CHARS = 60


def read_microtext(
    txt_bytes: bytes, xml_bytes: bytes, *, txt_name: str, xml_name: str
) -> DocumentRecord:
    """Read one microtext and its argumentation graph.

    Parameters
    ----------
    txt_bytes, xml_bytes : bytes
        The ``.txt`` and the ``<arggraph>`` ``.xml`` as uploaded.
    txt_name, xml_name : str
        Their names, for the document id and errors.

    Returns
    -------
    DocumentRecord
        One annotation set (annotator ``""``, status ``"submitted"``) with a span per
        ADU and a relation per argumentative edge; ``source_format`` ``"microtexts"``,
        ``original`` the ``.txt`` bytes, ``meta`` what the mapping loses (see the module
        docstring).

    Raises
    ------
    FormatError
        If the XML is malformed, declares entities, is not an ``<arggraph>``, has an
        unknown ADU role or edge type, a missing or duplicate id, an edge to an id
        that does not exist, an ADU without EDUs, or an EDU not found in the text.
    """
    text, _ = normalize_newlines(decode_utf8(txt_bytes, name=txt_name))
    root = _parse(xml_bytes, xml_name)

    def fail(reason: str) -> FormatError:
        return FormatError(reason, file=xml_name)

    ids: set[str] = set()

    def element_id(element: ElementTree.Element) -> str:
        value = element.get("id")
        if not value:
            raise fail(f"<{element.tag}> without an id")
        if value in ids:
            raise fail(f"duplicate id {value!r}")
        ids.add(value)
        return value

    edus = {element_id(e): e.text or "" for e in root.findall("edu")}
    joints = {element_id(e) for e in root.findall("joint")}
    roles: dict[str, str] = {}
    for element in root.findall("adu"):
        adu = element_id(element)
        role = element.get("type")
        if role not in ADU_ROLES:
            raise fail(f"ADU {adu} has type {role!r}; expected one of {sorted(ADU_ROLES)}")
        roles[adu] = role
    edges: dict[str, tuple[str, str, str]] = {}
    for element in root.findall("edge"):
        edge = element_id(element)
        src, trg, kind = element.get("src"), element.get("trg"), element.get("type")
        if kind not in EDGE_TYPES:
            raise fail(f"edge {edge} has type {kind!r}; expected one of {sorted(EDGE_TYPES)}")
        if not src or not trg:
            raise fail(f"edge {edge} needs both src and trg")
        edges[edge] = (src, trg, kind)
    for edge, (src, trg, kind) in edges.items():
        _check_edge(edge, src, trg, kind, edus, joints, roles, edges, fail)

    edu_offsets = _locate_edus(text, edus, txt_name=txt_name, fail=fail)
    members = _adu_edus(edges)

    argumentative = {e: v for e, v in edges.items() if v[2] != "seg"}
    sources = {src for src, _, _ in argumentative.values()}
    roots = [adu for adu, role in roles.items() if role == "pro" and adu not in sources]
    central_claim = roots[0] if len(roots) == 1 else None

    spans: list[SpanRecord] = []
    for adu, role in roles.items():
        units = members.get(adu, [])
        if not units:
            raise fail(f"ADU {adu} has no EDU (no seg edge leads to it)")
        for unit in units:
            if unit not in edu_offsets:
                raise fail(f"joint {unit} of ADU {adu} has no EDU (no seg edge leads to it)")
        units.sort(key=lambda unit: edu_offsets[unit])
        start, end = edu_offsets[units[0]][0], edu_offsets[units[-1]][1]
        label = CENTRAL_CLAIM_LABEL if adu == central_claim else ADU_LABEL
        # EDU ids joined by commas: an attribute holds text (formats/schema.py).
        attributes = {"role": role, "edus": ",".join(units)}
        spans.append(SpanRecord(adu, start, end, label, text[start:end], attributes))

    mapped: dict[str, tuple[str, str]] = {}
    relations: list[RelationRecord] = []
    undercuts: list[dict] = []
    added_sources: list[dict] = []
    for edge, (src, trg, kind) in argumentative.items():
        relation_type, target = _resolve(edge, argumentative, mapped, fail)
        relations.append(RelationRecord(edge, src, target, relation_type))
        if kind == "und":
            undercuts.append(
                {"edge": edge, "source": src, "undercut_edge": trg, "mapped_target": target}
            )
        elif kind == "add":
            added_sources.append({"edge": edge, "source": src, "joins": trg})

    graph = {key: root.get(key) for key in ("id", "topic_id", "stance") if root.get(key)}
    meta = {
        "arggraph": graph,
        "central_claim": central_claim,
        "edge_types": {edge: kind for edge, (_, _, kind) in argumentative.items()},
        "undercuts": undercuts,
        "added_sources": added_sources,
    }
    return DocumentRecord(
        external_id=external_id_from_name(txt_name),
        text=text,
        title=first_line_title(text),
        meta=meta,
        annotations=[AnnotationRecord(annotator="", spans=spans, relations=relations)],
        original=txt_bytes,
        original_name=txt_name,
        source_format="microtexts",
    )


def _parse(xml_bytes: bytes, xml_name: str) -> ElementTree.Element:
    if _ENTITY_DECLARATION.search(xml_bytes):
        raise FormatError(
            "XML entity declarations (<!ENTITY) are not read: they can expand without bound",
            file=xml_name,
        )
    try:
        root = ElementTree.fromstring(xml_bytes)
    except ElementTree.ParseError as error:
        line, _column = error.position
        raise FormatError(f"not well-formed XML: {error.msg}", file=xml_name, line=line) from None
    if root.tag != "arggraph":
        raise FormatError(
            f"expected an <arggraph> document (arg-microtexts), found <{root.tag}>",
            file=xml_name,
        )
    return root


def _check_edge(edge, src, trg, kind, edus, joints, roles, edges, fail) -> None:
    """Check an edge's ends against arggraph.dtd's comment on each edge type."""
    if kind == "seg":
        if src not in edus and src not in joints:
            raise fail(f"segmentation edge {edge} starts at {src!r}, not an EDU or joint")
        if trg not in roles and trg not in joints:
            raise fail(f"segmentation edge {edge} ends at {trg!r}, not an ADU or joint")
        if src in joints and trg in joints:
            raise fail(f"segmentation edge {edge} joins two joints")
        return
    if src not in roles:
        raise fail(f"{kind} edge {edge} starts at {src!r}, which is not an ADU")
    if kind in ("und", "add"):
        if trg not in edges or edges[trg][2] == "seg":
            raise fail(f"{kind} edge {edge} must point at an argumentative edge, not {trg!r}")
    elif trg not in roles:
        raise fail(f"{kind} edge {edge} ends at {trg!r}, which is not an ADU")


def _locate_edus(
    text: str, edus: dict[str, str], *, txt_name: str, fail
) -> dict[str, tuple[int, int]]:
    """Find each EDU in ``text``, in order, searching forward from the previous one."""
    offsets: dict[str, tuple[int, int]] = {}
    cursor = 0
    for edu, content in edus.items():
        needle = content.strip()
        if not needle:
            raise fail(f"EDU {edu} is empty")
        start = text.find(needle, cursor)
        if start >= 0:
            end = start + len(needle)
        else:
            # Same words, any whitespace between them (a line break in the .txt).
            pattern = r"\s+".join(re.escape(word) for word in needle.split())
            match = re.compile(pattern).search(text, cursor)
            if match is None:
                snippet = " ".join(needle.split())[:_SNIPPET_CHARS]
                raise fail(
                    f"EDU {edu} ({snippet!r}) is not in {base_name(txt_name)} after offset {cursor}"
                )
            start, end = match.span()
        offsets[edu] = (start, end)
        cursor = end
    return offsets


def _adu_edus(edges: dict[str, tuple[str, str, str]]) -> dict[str, list[str]]:
    """ADU id -> ids of its EDUs, through joints (EDU -> joint -> ADU)."""
    into: dict[str, list[str]] = {}
    for src, trg, kind in edges.values():
        if kind == "seg":
            into.setdefault(trg, []).append(src)
    result: dict[str, list[str]] = {}
    for trg, sources in into.items():
        units: list[str] = []
        for src in sources:
            # A joint's EDUs; an EDU leads to no joint, so this is one level deep.
            units += into.get(src, [src])
        result[trg] = units
    return result


def _resolve(edge, argumentative, mapped, fail, seen=()) -> tuple[str, str]:
    """Warrant relation type and target span of an argumentative edge."""
    if edge in mapped:
        return mapped[edge]
    if edge in seen:
        raise fail(f"edges {' -> '.join([*seen, edge])} form a cycle")
    _src, trg, kind = argumentative[edge]
    if kind == "und":
        # The undercut challenges the inference of edge ``trg``; its source stands in.
        result = (RELATION_TYPES["und"], argumentative[trg][0])
    elif kind == "add":
        # An additional premise joins the argument of edge ``trg``: same type and target.
        result = _resolve(trg, argumentative, mapped, fail, (*seen, edge))
    else:
        result = (RELATION_TYPES[kind], trg)
    mapped[edge] = result
    return result
