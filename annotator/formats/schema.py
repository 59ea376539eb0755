"""Label schemas as plain data: the ``argument`` preset, JSON files, checks.

A schema is a dict::

    {"span_labels": [{"name": "Claim", "colour": "#2b6cb0", "hotkey": "c",
                      "description": "..."}],
     "relation_types": [{"name": "supports", "directed": true, "description": "...",
                         "allowed": [["*", "Claim"]]}]}

``allowed`` lists the permitted (source label, target label) pairs; ``"*"``
stands for any label of the schema. An empty ``allowed`` list permits nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .bounded_json import JSONTooDeep, json_loads
from .records import FormatError

ANY_LABEL = "*"
#: What a label or relation type may be called: the schema editor, imports that
#: add labels and the admin (the models' validator) all hold names to it.
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
NAME_RULE = "must start with a letter and hold only letters, digits, '_' or '-' (at most 64)"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# Keys the annotation page uses for itself; a label cannot take them.
RESERVED_HOTKEYS = frozenset({"s", "t", "x", "u", "n", "?", "j", "k", "[", "]"})

_ARGUMENT_LABELS = ["MajorClaim", "Claim", "Reason"]

ARGUMENT_PRESET: dict = {
    "span_labels": [
        {
            "name": "MajorClaim",
            "colour": "#b91c1c",
            "hotkey": "m",
            "description": "The brief's headline claim: the position the whole text argues for.",
        },
        {
            "name": "Claim",
            "colour": "#1d4ed8",
            "hotkey": "c",
            "description": "A contestable statement that the brief argues for or against.",
        },
        {
            "name": "Reason",
            "colour": "#047857",
            "hotkey": "r",
            "description": "One of the reasons given for a claim (often numbered: 'five reasons').",
        },
        {
            "name": "Evidence",
            "colour": "#b45309",
            "hotkey": "e",
            "description": "Facts behind a reason: quoted news, statistics, officials' statements.",
        },
    ],
    "relation_types": [
        {
            "name": "supports",
            "directed": True,
            "description": "The source gives a reason to accept the target.",
            "allowed": [[ANY_LABEL, label] for label in _ARGUMENT_LABELS],
        },
        {
            "name": "attacks",
            "directed": True,
            "description": "The source gives a reason to reject the target.",
            "allowed": [[ANY_LABEL, ANY_LABEL]],
        },
        {
            "name": "evidence_for",
            "directed": True,
            "description": "The source (evidence) backs the target.",
            "allowed": [["Evidence", label] for label in _ARGUMENT_LABELS],
        },
    ],
}

PRESETS = {"argument": ARGUMENT_PRESET}


def pair_allowed(allowed, source_label: str, target_label: str) -> bool:
    """Whether ``allowed`` (a list of [source, target] pairs, ``"*"`` any) admits the pair."""
    return any(
        src in (ANY_LABEL, source_label) and tgt in (ANY_LABEL, target_label)
        for src, tgt in allowed
    )


@dataclass(frozen=True)
class SpanLabelSpec:
    name: str
    colour: str
    hotkey: str = ""
    description: str = ""


@dataclass(frozen=True)
class RelationTypeSpec:
    name: str
    allowed: tuple[tuple[str, str], ...]
    directed: bool = True
    description: str = ""

    def allows(self, source_label: str, target_label: str) -> bool:
        return pair_allowed(self.allowed, source_label, target_label)


@dataclass(frozen=True)
class SchemaSpec:
    span_labels: tuple[SpanLabelSpec, ...]
    relation_types: tuple[RelationTypeSpec, ...] = field(default_factory=tuple)

    def label_names(self) -> list[str]:
        return [label.name for label in self.span_labels]

    def to_dict(self) -> dict:
        return {
            "span_labels": [
                {
                    "name": lab.name,
                    "colour": lab.colour,
                    "hotkey": lab.hotkey,
                    "description": lab.description,
                }
                for lab in self.span_labels
            ],
            "relation_types": [
                {
                    "name": rel.name,
                    "directed": rel.directed,
                    "description": rel.description,
                    "allowed": [list(pair) for pair in rel.allowed],
                }
                for rel in self.relation_types
            ],
        }


def parse_schema(data: object, *, source: str = "schema") -> SchemaSpec:
    """Check a schema dict and return it as a :class:`SchemaSpec`.

    Raises
    ------
    FormatError
        One line naming what is wrong: duplicate names or hotkeys, a bad
        colour, a relation pair naming a label the schema lacks.
    """
    if not isinstance(data, dict):
        raise FormatError("a schema is a JSON object with span_labels and relation_types",
                          file=source)
    raw_labels = data.get("span_labels")
    if not isinstance(raw_labels, list) or not raw_labels:
        raise FormatError("span_labels must be a non-empty list", file=source)
    labels: list[SpanLabelSpec] = []
    seen_names: set[str] = set()
    seen_keys: set[str] = set()
    for i, raw in enumerate(raw_labels):
        if not isinstance(raw, dict):
            raise FormatError(f"span_labels[{i}] must be an object", file=source)
        name = str(raw.get("name", ""))
        if not NAME.match(name):
            raise FormatError(f"span_labels[{i}]: name {name!r} {NAME_RULE}", file=source)
        if name in seen_names:
            raise FormatError(f"span label {name!r} is defined twice", file=source)
        colour = str(raw.get("colour", raw.get("color", "#64748b")))
        if not _COLOUR.match(colour):
            raise FormatError(f"span label {name!r}: colour {colour!r} is not #rrggbb",
                              file=source)
        hotkey = str(raw.get("hotkey", "") or "")
        if hotkey:
            if len(hotkey) != 1 or not hotkey.isprintable() or hotkey.isspace():
                raise FormatError(f"span label {name!r}: hotkey {hotkey!r} must be one key",
                                  file=source)
            hotkey = hotkey.lower()
            if hotkey in RESERVED_HOTKEYS:
                raise FormatError(
                    f"span label {name!r}: hotkey {hotkey!r} is reserved by the annotation page",
                    file=source,
                )
            if hotkey in seen_keys:
                raise FormatError(f"hotkey {hotkey!r} is used by two labels", file=source)
            seen_keys.add(hotkey)
        seen_names.add(name)
        labels.append(SpanLabelSpec(name, colour.lower(), hotkey, str(raw.get("description", ""))))

    relations: list[RelationTypeSpec] = []
    seen_rel: set[str] = set()
    for i, raw in enumerate(data.get("relation_types") or []):
        if not isinstance(raw, dict):
            raise FormatError(f"relation_types[{i}] must be an object", file=source)
        name = str(raw.get("name", ""))
        if not NAME.match(name):
            raise FormatError(f"relation_types[{i}]: name {name!r} {NAME_RULE}", file=source)
        if name in seen_rel:
            raise FormatError(f"relation type {name!r} is defined twice", file=source)
        allowed_raw = raw.get("allowed", [[ANY_LABEL, ANY_LABEL]])
        if not isinstance(allowed_raw, list):
            raise FormatError(f"relation type {name!r}: allowed must be a list of pairs",
                              file=source)
        allowed: list[tuple[str, str]] = []
        for pair in allowed_raw:
            if not (isinstance(pair, list | tuple) and len(pair) == 2):
                raise FormatError(
                    f"relation type {name!r}: {pair!r} is not a [source, target] pair",
                    file=source,
                )
            for end in pair:
                if end != ANY_LABEL and end not in seen_names:
                    raise FormatError(
                        f"relation type {name!r} names label {end!r}, which the schema lacks",
                        file=source,
                    )
            allowed.append((str(pair[0]), str(pair[1])))
        seen_rel.add(name)
        relations.append(
            RelationTypeSpec(name, tuple(allowed), bool(raw.get("directed", True)),
                             str(raw.get("description", "")))
        )
    return SchemaSpec(tuple(labels), tuple(relations))


def load_schema(name_or_path: str) -> SchemaSpec:
    """A preset by name (``argument``) or a JSON schema file by path."""
    if name_or_path in PRESETS:
        return parse_schema(PRESETS[name_or_path], source=name_or_path)
    try:
        with open(name_or_path, encoding="utf-8") as fh:
            data = json_loads(fh.read())
    except FileNotFoundError:
        raise FormatError(
            f"no such preset or file (presets: {', '.join(sorted(PRESETS))})", file=name_or_path
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"cannot read schema: {exc}", file=name_or_path) from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"not valid JSON: {exc.msg}", file=name_or_path, line=exc.lineno) \
            from None
    except JSONTooDeep as exc:
        raise FormatError(f"the schema {exc}", file=name_or_path) from None
    return parse_schema(data, source=name_or_path)
