"""brat's ``annotation.conf``: read it as a Warrant schema, write a schema as one.

The format (brat's documentation, https://brat.nlplab.org/configuration.html, and
the parser brat itself uses, nlplab/brat ``server/src/projectconfig.py``,
``__parse_configs`` and ``__read_term_hierarchy``):

- sections start with a line ``[entities]``, ``[relations]``, ``[events]`` or
  ``[attributes]``; lines starting with ``#`` are comments, lines of hyphens are
  menu separators; other sections are ignored;
- a line is ``TERMS ARGS``: the terms are ``|``-separated names (the first is the
  one stored in ``.ann`` files, the others are aliases), a leading ``!`` marks a
  type that groups others but cannot be annotated itself; the args are
  comma-separated ``KEY:TYPE|TYPE``;
- in ``[entities]`` the indent gives the hierarchy (a child is indented one more
  than its parent); an argument that names a parent type stands for it and the
  types below it;
- ``<NAME>=VALUE`` defines a macro that the later lines of the section expand;
  ``<ENTITY>`` (and ``<ANY>``) stand for every entity type;
- ``[relations]``: ``Type Arg1:A|B, Arg2:C`` allows every listed Arg1 type with
  every listed Arg2 type; a type may take several lines; ``<REL-TYPE>:symmetric``
  makes it undirected; ``<OVERLAP>`` lines and ``ENTITY-NESTING`` say how spans may
  overlap and are not relation types;
- ``[attributes]``: ``Name Arg:<ENTITY>|Claim, Value:v1|v2`` is one of the values,
  and ``Name Arg:Claim`` without values is a yes/no flag (brat's "binary"
  attribute); brat's older form lists the values as keys (``Name Arg:X, v1:glyph,
  v2:glyph``), read the same; ``<DEFAULT>`` and ``<GLYPH-POS>`` are display hints.

What Warrant takes: the entity types become span labels, relation types their
allowed (source, target) pairs, attributes of entities the labels' attributes
(a choice, or yes/no). Events are not Warrant annotations: ``[events]`` is read
only to know its names, and an argument or attribute that applies to events only
is left out. Attributes of relations (``Arg:<RELATION>``) are free in Warrant
(any relation may hold any), so they need no declaration.

What brat cannot say (colours, hotkeys, descriptions, how AIF sees a relation
type, free-text attributes) :func:`write_annotation_conf` writes on one comment
line ``#warrant {json}`` at the end, which brat skips and :func:`read_annotation_conf`
reads, so that a Warrant brat export imports back to the same schema. The
sections stay the authority: the line only adds to the labels, types and
attributes that they declare (plus text attributes of declared labels).

A value holding a space, ``%``, ``|`` or ``,`` cannot stand in a brat line; it is
percent-encoded (RFC 3986), as the ``.ann`` writer does (:mod:`annotator.formats.brat`).
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, unquote

from .records import FormatError
from .schema import ANY_LABEL, RESERVED_HOTKEYS, SchemaSpec, parse_schema

__all__ = ["CONF_NAME", "read_annotation_conf", "write_annotation_conf"]

CONF_NAME = "annotation.conf"
BRAT_ANY = "<ENTITY>"
_WILDCARDS = {"<ENTITY>", "<ANY>"}
_EXTRAS = "#warrant "
_SECTION = re.compile(r"^\s*\[(.*)\]\s*$")
_SEPARATOR = re.compile(r"^\s*-+\s*$")
_MACRO = re.compile(r"^<([a-zA-Z_-]+)>=\s*(.*?)\s*$")
_LINE = re.compile(r"^(\s*)(\S+)(?:\s+(.*))?$")
_ARG = re.compile(r"^(\S*?):(\S*)$")
_NESTING = "ENTITY-NESTING"
_DISPLAY_KEYS = {"<DEFAULT>", "<GLYPH-POS>"}
# Readable on white; a label the conf declares takes the next one.
_COLOURS = ["#1d4ed8", "#047857", "#b91c1c", "#b45309", "#7c3aed", "#0e7490", "#be185d",
            "#4d7c0f", "#a16207", "#475569"]


class _Node:
    def __init__(self, name: str, unused: bool, args: list[tuple[str, list[str]]], line: int):
        self.name, self.unused, self.args, self.line = name, unused, args, line


def _sections(text: str, name: str) -> tuple[dict[str, list[_Node]], dict[str, list[str]], str]:
    """Each section's lines as nodes; the entity hierarchy (parent -> types below it);
    the ``#warrant`` line's JSON ("" when none)."""
    nodes: dict[str, list[_Node]] = {}
    below: dict[str, list[str]] = {}
    extras = ""
    section = ""
    macros: dict[str, str] = {}
    parents: dict[int, str] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if line.startswith(_EXTRAS):
            extras = line[len(_EXTRAS):]
            continue
        found = _SECTION.match(line)
        if found:
            section, macros, parents = found.group(1).strip(), {}, {}
            nodes.setdefault(section, [])
            continue
        if not line.strip() or line.lstrip().startswith("#") or _SEPARATOR.match(line):
            continue
        if section not in ("entities", "relations", "events", "attributes"):
            continue
        macro = _MACRO.match(line)
        if macro:
            macros[f"<{macro.group(1)}>"] = macro.group(2)
            continue
        for key, value in macros.items():
            line = line.replace(key, value)
        parsed = _LINE.match(line)
        if parsed is None:  # pragma: no cover - _LINE matches any line with a non-space
            raise FormatError(f"cannot read this line: {line[:60]!r}", file=name, line=number)
        indent, terms, rest = parsed.groups()
        term = next((t.strip() for t in terms.split("|") if t.strip()), "")
        unused = term.startswith("!")
        term = term.lstrip("!")
        if not term:
            raise FormatError("a line without a type name", file=name, line=number)
        args: list[tuple[str, list[str]]] = []
        for arg in (rest or "").split(","):
            arg = arg.strip()
            if not arg:
                continue
            kv = _ARG.match(arg)
            if kv is None:
                raise FormatError(f"{term}: cannot read {arg!r} as KEY:TYPE", file=name,
                                  line=number)
            values = [v.strip() for v in kv.group(2).split("|") if v.strip()]
            args.append((kv.group(1), values))
        if section == "entities":
            depth = len(indent)
            if depth and depth - 1 not in parents:
                raise FormatError(f"{term} is indented with no type above it", file=name,
                                  line=number)
            parents = {d: t for d, t in parents.items() if d < depth}
            for ancestor in parents.values():
                below.setdefault(ancestor, []).append(term)
            parents[depth] = term
        nodes[section].append(_Node(term, unused, args, number))
    return nodes, below, extras


def _free_hotkey(name: str, taken: set[str]) -> str:
    for char in name.lower():
        if char.isalpha() and char.isascii() and char not in taken and char not in RESERVED_HOTKEYS:
            taken.add(char)
            return char
    return ""


def read_annotation_conf(text: str, *, name: str = CONF_NAME) -> dict | None:
    """The schema an ``annotation.conf`` declares, as :func:`parse_schema` takes it.

    Returns ``None`` when the file declares no entity type (brat then falls back
    on its default configuration: there is no schema to take).

    Raises
    ------
    FormatError
        One line naming the file (and line) on what cannot be read: an argument
        that is not ``KEY:TYPE``, a relation without two arguments, a type an
        argument names that no section declares, a name Warrant cannot hold.
    """
    nodes, below, extras_text = _sections(text, name)
    entities = nodes.get("entities", [])
    labels = [node.name for node in entities if not node.unused]
    if not labels:
        return None
    events = {node.name for node in nodes.get("events", [])}
    relation_names = {node.name for node in nodes.get("relations", [])}
    every = {node.name for node in entities}

    def label_ends(types: list[str], node: _Node, what: str) -> list[str] | None:
        """Label names (or "*") for an argument's types; None when they are all events
        or relations (not Warrant's to declare)."""
        out: list[str] = []
        other = False
        for kind in types:
            if kind in _WILDCARDS:
                out.append(ANY_LABEL)
            elif kind in every:
                out += [t for t in [kind, *below.get(kind, [])] if t in labels]
            elif kind in events or kind in relation_names or kind in ("<EVENT>", "<RELATION>"):
                other = True
            else:
                raise FormatError(f"{what} {node.name} names {kind!r}, which is not a type "
                                  "of this file", file=name, line=node.line)
        if ANY_LABEL in out:
            return [ANY_LABEL]
        if not out and other:
            return None
        return list(dict.fromkeys(out))

    relations: dict[str, dict] = {}
    for node in nodes.get("relations", []):
        if node.name.startswith("<") or node.name == _NESTING:
            continue
        plain = [(key, types) for key, types in node.args if not key.startswith("<")]
        special = dict(node.args)
        if len(plain) != 2:
            raise FormatError(f"relation {node.name} needs two arguments (Arg1, Arg2), "
                              f"not {len(plain)}", file=name, line=node.line)
        sources = label_ends(plain[0][1], node, "relation")
        targets = label_ends(plain[1][1], node, "relation")
        if sources is None or targets is None:
            continue  # between events: not a Warrant relation
        entry = relations.setdefault(node.name, {"name": node.name, "directed": True,
                                                 "allowed": []})
        if "symmetric" in "-".join(special.get("<REL-TYPE>", [])).split("-"):
            entry["directed"] = False
        if not node.unused:
            for source in sources:
                for target in targets:
                    if [source, target] not in entry["allowed"]:
                        entry["allowed"].append([source, target])

    attributes: dict[str, list[dict]] = {}
    for node in nodes.get("attributes", []):
        args = dict(node.args)
        if "Arg" not in args:
            raise FormatError(f"attribute {node.name} needs Arg:TYPE", file=name, line=node.line)
        targets = label_ends(args["Arg"], node, "attribute")
        if targets is None:
            continue  # of events or relations only
        values = list(args.get("Value", []))
        if "Value" not in args:  # brat's older form: every other key is a value
            values = [key for key, _ in node.args if key != "Arg" and key not in _DISPLAY_KEYS]
        values = [unquote(v) for v in values]
        declared = ({"name": node.name, "type": "choice", "values": values} if values
                    else {"name": node.name, "type": "boolean"})
        for label in labels if targets == [ANY_LABEL] else targets:
            held = attributes.setdefault(label, [])
            same = next((a for a in held if a["name"] == node.name), None)
            if same is None:
                held.append(dict(declared))
            elif same != declared:
                raise FormatError(f"attribute {node.name} of {label} is declared twice, "
                                  "differently", file=name, line=node.line)

    schema = {
        "span_labels": [{"name": label, "attributes": attributes.get(label, [])}
                        for label in labels],
        "relation_types": list(relations.values()),
    }
    _apply_extras(schema, extras_text, name)
    taken = {lab["hotkey"] for lab in schema["span_labels"] if lab.get("hotkey")}
    for index, label in enumerate(schema["span_labels"]):
        label.setdefault("colour", _COLOURS[index % len(_COLOURS)])
        if "hotkey" not in label:  # the #warrant line may say "none"
            label["hotkey"] = _free_hotkey(label["name"], taken)
    parse_schema(schema, source=name)  # one line on what Warrant cannot hold
    return schema


def _apply_extras(schema: dict, extras_text: str, name: str) -> None:
    """Add what the ``#warrant`` line says to the labels and types the sections declare."""
    if not extras_text:
        return
    try:
        extras = json.loads(extras_text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"the #warrant line is not valid JSON: {exc.msg}", file=name) \
            from None
    if not isinstance(extras, dict):
        raise FormatError("the #warrant line is not a JSON object", file=name)
    label_extras = extras.get("labels") or {}
    for label in schema["span_labels"]:
        more = label_extras.get(label["name"])
        if not isinstance(more, dict):
            continue
        for key in ("colour", "hotkey", "description"):
            if isinstance(more.get(key), str):
                label[key] = more[key]
        declared = {a["name"]: a for a in label["attributes"]}
        for attribute in more.get("attributes") or []:
            if not isinstance(attribute, dict):
                continue
            same = declared.get(attribute.get("name"))
            if same is None and attribute.get("type") == "text":
                label["attributes"].append(dict(attribute))
            elif same is not None and same["type"] == attribute.get("type"):
                for key in ("hotkey", "description"):
                    if isinstance(attribute.get(key), str):
                        same[key] = attribute[key]
        # In the order Warrant had them (the sections hold no text attribute).
        order = [a.get("name") for a in more.get("attributes") or [] if isinstance(a, dict)]
        label["attributes"].sort(
            key=lambda a: order.index(a["name"]) if a["name"] in order else len(order))
    type_extras = extras.get("relation_types") or {}
    for relation in schema["relation_types"]:
        more = type_extras.get(relation["name"])
        if isinstance(more, dict):
            for key in ("aif", "description"):
                if isinstance(more.get(key), str):
                    relation[key] = more[key]


def _brat_end(label: str) -> str:
    return BRAT_ANY if label == ANY_LABEL else label


def _value(value: str) -> str:
    return "".join(quote(c) if c.isspace() or c in "%|," else c for c in value)


def write_annotation_conf(schema: SchemaSpec) -> str:
    """The ``annotation.conf`` of a schema; :func:`read_annotation_conf` reads it back to
    the same schema (same labels, pairs, attributes, colours, hotkeys, AIF kinds).

    A brat relation line allows every ``Arg1`` type with every ``Arg2`` type, so the
    pairs are grouped by source and sources with the same targets share a line; a
    type that allows no pair is written ``!type`` (declared, not annotatable).

    Examples
    --------
    >>> from annotator.formats.schema import parse_schema
    >>> spec = parse_schema({"span_labels": [{"name": "Claim"}, {"name": "Reason"}],
    ...     "relation_types": [{"name": "supports", "allowed": [["Reason", "Claim"]]}]})
    >>> write_annotation_conf(spec).splitlines()[:6]
    ['[entities]', 'Claim', 'Reason', '', '[relations]', 'supports\\tArg1:Reason, Arg2:Claim']
    """
    out = ["[entities]", *schema.label_names(), "", "[relations]"]
    for relation in schema.relation_types:
        symmetric = "" if relation.directed else ", <REL-TYPE>:symmetric"
        targets_by_source: dict[str, list[str]] = {}
        for source, target in relation.allowed:
            targets = targets_by_source.setdefault(_brat_end(source), [])
            if _brat_end(target) not in targets:
                targets.append(_brat_end(target))
        if not targets_by_source:
            out.append(f"!{relation.name}\tArg1:{BRAT_ANY}, Arg2:{BRAT_ANY}{symmetric}")
            continue
        sources_by_targets: dict[tuple[str, ...], list[str]] = {}
        for source, targets in targets_by_source.items():
            sources_by_targets.setdefault(tuple(targets), []).append(source)
        for targets, sources in sources_by_targets.items():
            out.append(f"{relation.name}\tArg1:{'|'.join(sources)}, "
                       f"Arg2:{'|'.join(targets)}{symmetric}")
    out += ["", "[events]", "", "[attributes]"]
    # One line per attribute definition, with every label that has it.
    lines: dict[tuple, list[str]] = {}
    for label in schema.span_labels:
        for attribute in label.attributes:
            if attribute.type != "text":
                lines.setdefault((attribute.name, attribute.values), []).append(label.name)
    for (attribute_name, values), owners in lines.items():
        value = f", Value:{'|'.join(_value(v) for v in values)}" if values else ""
        out.append(f"{attribute_name}\tArg:{'|'.join(owners)}{value}")
    extras = {
        "labels": {
            label.name: {"colour": label.colour, "hotkey": label.hotkey,
                         "description": label.description,
                         "attributes": [a.to_dict() for a in label.attributes]}
            for label in schema.span_labels
        },
        "relation_types": {relation.name: {"aif": relation.aif,
                                           "description": relation.description}
                           for relation in schema.relation_types},
    }
    out += ["", "# Warrant's colours, hotkeys, descriptions, AIF kinds and text attributes "
                "(brat skips comments)",
            _EXTRAS + json.dumps(extras, ensure_ascii=False, sort_keys=True), ""]
    return "\n".join(out)
