"""Label schemas as plain data: the ``argument`` preset, JSON files, checks.

A schema is a dict::

    {"span_labels": [{"name": "Claim", "colour": "#2b6cb0", "hotkey": "c",
                      "description": "...",
                      "attributes": [{"name": "stance", "type": "choice",
                                      "values": ["for", "against"], "hotkey": "f",
                                      "description": "..."}]}],
     "relation_types": [{"name": "supports", "directed": true, "description": "...",
                         "allowed": [["*", "Claim"]], "aif": "inference"}]}

``allowed`` lists the permitted (source label, target label) pairs; ``"*"``
stands for any label of the schema. An empty ``allowed`` list permits nothing.

Attributes belong to a label. Their ``type`` is ``choice`` (one of ``values``),
``boolean`` (yes/no: ``true``/``false``) or ``text`` (a short line); a span
holds at most one value per attribute, and an attribute left unset is simply
absent from the span's ``attributes``. An attribute's optional ``hotkey`` works
on the selected span (a choice steps through its values, a yes/no toggles), so
it may repeat on another label but not clash with a label's hotkey.

``aif`` says how the Argument Interchange Format sees a relation type (Chesñevar
et al. 2006, "Towards an argument interchange format", Knowledge Engineering
Review 21(4); the AIF+ node kinds of Reed et al. 2010): ``inference`` becomes an
RA node, ``conflict`` a CA node, ``rephrase`` an MA node and ``none`` is not
written to AIF (and is named as left out). When a schema omits it the name
decides (:func:`default_aif`).
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
RESERVED_HOTKEYS = frozenset({"s", "t", "x", "u", "n", "?", "j", "k", "[", "]", "/"})

_ARGUMENT_LABELS = ["MajorClaim", "Claim", "Reason"]

#: What an attribute may be: one of a list of values, yes/no, or a short text.
ATTRIBUTE_TYPES = ("choice", "boolean", "text")
#: How AIF sees a relation type: RA (inference), CA (conflict), MA (rephrase) or not at all.
AIF_KINDS = ("inference", "conflict", "rephrase", "none")
#: Attributes are a few flags per label (stance, kind), not a payload store.
MAX_ATTRIBUTES_PER_LABEL = 20
#: A choice is a short menu; a longer list of values is a label set of its own.
MAX_CHOICE_VALUES = 50
#: "Short text": a word or a phrase, as brat and INCEpTION string features hold.
MAX_ATTRIBUTE_CHARS = 200
#: A choice value is a word or a short phrase shown in a menu.
MAX_VALUE_CHARS = 64

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
            "attributes": [
                {
                    "name": "stance",
                    "type": "choice",
                    "values": ["for", "against"],
                    "hotkey": "f",
                    "description": "Whether the brief argues for the claim or against it.",
                },
            ],
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
            "attributes": [
                {
                    "name": "kind",
                    "type": "choice",
                    "values": ["statistic", "quotation", "event", "study"],
                    "hotkey": "i",
                    "description": "What sort of fact backs the reason.",
                },
            ],
        },
    ],
    "relation_types": [
        {
            "name": "supports",
            "directed": True,
            "aif": "inference",
            "description": "The source gives a reason to accept the target.",
            "allowed": [[ANY_LABEL, label] for label in _ARGUMENT_LABELS],
        },
        {
            "name": "attacks",
            "directed": True,
            "aif": "conflict",
            "description": "The source gives a reason to reject the target.",
            "allowed": [[ANY_LABEL, ANY_LABEL]],
        },
        {
            "name": "evidence_for",
            "directed": True,
            "aif": "inference",
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


_AIF_BY_NAME = {
    # Support in AbstRCT, supports/evidence_for in Warrant, reason/evidence in CDCP.
    "inference": ("support", "supports", "evidence", "evidence_for", "reason", "reasons",
                  "sup", "exa", "example", "inference"),
    # Attack/Partial-Attack in AbstRCT, attacks in Warrant, reb/und in arg-microtexts.
    "conflict": ("attack", "attacks", "partial-attack", "partial_attack", "rebut",
                 "rebuts", "rebuttal", "undercut", "undercuts", "reb", "und", "conflict",
                 "contradicts"),
    "rephrase": ("rephrase", "rephrases", "paraphrase"),
}


def default_aif(type_name: str) -> str:
    """How AIF sees a relation type that does not say: decided by its name.

    >>> [default_aif(n) for n in ("Support", "Partial-Attack", "rephrase", "sequence")]
    ['inference', 'conflict', 'rephrase', 'none']
    """
    name = type_name.strip().lower()
    for kind, names in _AIF_BY_NAME.items():
        if name in names:
            return kind
    return "none"


@dataclass(frozen=True)
class AttributeSpec:
    """One attribute of a label: ``choice`` (one of ``values``), ``boolean`` or ``text``."""

    name: str
    type: str
    values: tuple[str, ...] = ()
    hotkey: str = ""
    description: str = ""

    def check(self, value: object) -> object:
        """The value as stored, or ``ValueError`` saying why it cannot be this attribute's."""
        if self.type == "boolean":
            if not isinstance(value, bool):
                raise ValueError(f"attribute {self.name!r} is yes/no (true or false), "
                                 f"not {value!r}")
            return value
        if not isinstance(value, str):
            raise ValueError(f"attribute {self.name!r} takes text, not {value!r}")
        if self.type == "choice":
            if value not in self.values:
                raise ValueError(f"attribute {self.name!r} is one of {', '.join(self.values)} "
                                 f"(not {value!r})")
            return value
        if len(value) > MAX_ATTRIBUTE_CHARS:
            raise ValueError(f"attribute {self.name!r} is at most {MAX_ATTRIBUTE_CHARS} "
                             "characters")
        if "\n" in value or "\r" in value:
            raise ValueError(f"attribute {self.name!r} is one line of text")
        return value

    def to_dict(self) -> dict:
        out: dict = {"name": self.name, "type": self.type}
        if self.type == "choice":
            out["values"] = list(self.values)
        out["hotkey"] = self.hotkey
        out["description"] = self.description
        return out


@dataclass(frozen=True)
class SpanLabelSpec:
    name: str
    colour: str
    hotkey: str = ""
    description: str = ""
    attributes: tuple[AttributeSpec, ...] = ()

    def attribute(self, name: str) -> AttributeSpec | None:
        return next((a for a in self.attributes if a.name == name), None)

    def clean_attributes(self, attributes: object) -> dict:
        """Check a span's attributes against this label; returns them as stored.

        ``None`` and ``""`` mean "unset" and are dropped. Raises ``ValueError``
        naming the first attribute that the label does not declare or whose value
        does not fit its type.
        """
        if not isinstance(attributes, dict):
            raise ValueError("attributes must be a mapping of names to values")
        clean: dict = {}
        for name, value in attributes.items():
            if value is None or value == "":
                continue
            spec = self.attribute(name) if isinstance(name, str) else None
            if spec is None:
                declared = ", ".join(a.name for a in self.attributes) or "none"
                raise ValueError(
                    f"label {self.name} has no attribute {name!r} (its attributes: {declared})"
                )
            clean[name] = spec.check(value)
        return clean


@dataclass(frozen=True)
class RelationTypeSpec:
    name: str
    allowed: tuple[tuple[str, str], ...]
    directed: bool = True
    description: str = ""
    aif: str = ""

    def __post_init__(self):
        if not self.aif:
            object.__setattr__(self, "aif", default_aif(self.name))

    def allows(self, source_label: str, target_label: str) -> bool:
        return pair_allowed(self.allowed, source_label, target_label)


@dataclass(frozen=True)
class SchemaSpec:
    span_labels: tuple[SpanLabelSpec, ...]
    relation_types: tuple[RelationTypeSpec, ...] = field(default_factory=tuple)

    def label_names(self) -> list[str]:
        return [label.name for label in self.span_labels]

    def label(self, name: str) -> SpanLabelSpec | None:
        return next((lab for lab in self.span_labels if lab.name == name), None)

    def attribute_names(self) -> list[str]:
        """Every attribute name of the schema once, in label then attribute order."""
        names: list[str] = []
        for lab in self.span_labels:
            names.extend(a.name for a in lab.attributes if a.name not in names)
        return names

    def to_dict(self) -> dict:
        return {
            "span_labels": [
                {
                    "name": lab.name,
                    "colour": lab.colour,
                    "hotkey": lab.hotkey,
                    "description": lab.description,
                    "attributes": [a.to_dict() for a in lab.attributes],
                }
                for lab in self.span_labels
            ],
            "relation_types": [
                {
                    "name": rel.name,
                    "directed": rel.directed,
                    "description": rel.description,
                    "allowed": [list(pair) for pair in rel.allowed],
                    "aif": rel.aif,
                }
                for rel in self.relation_types
            ],
        }


def _one_key(key: object, what: str, source: str) -> str:
    hotkey = str(key or "")
    if not hotkey:
        return ""
    if len(hotkey) != 1 or not hotkey.isprintable() or hotkey.isspace():
        raise FormatError(f"{what}: hotkey {hotkey!r} must be one key", file=source)
    hotkey = hotkey.lower()
    if hotkey in RESERVED_HOTKEYS:
        raise FormatError(f"{what}: hotkey {hotkey!r} is reserved by the annotation page",
                          file=source)
    return hotkey


def parse_attributes(
    raw: object, *, label: str, source: str = "schema"
) -> tuple[AttributeSpec, ...]:
    """Check the ``attributes`` list of the label named ``label``."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise FormatError(f"span label {label!r}: attributes must be a list", file=source)
    if len(raw) > MAX_ATTRIBUTES_PER_LABEL:
        raise FormatError(f"span label {label!r}: at most {MAX_ATTRIBUTES_PER_LABEL} "
                          "attributes", file=source)
    out: list[AttributeSpec] = []
    seen: set[str] = set()
    keys: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise FormatError(f"span label {label!r}: attributes[{i}] must be an object",
                              file=source)
        name = str(item.get("name", ""))
        what = f"attribute {name!r} of {label!r}"
        if not NAME.match(name):
            raise FormatError(f"span label {label!r}: attribute name {name!r} {NAME_RULE}",
                              file=source)
        if name in seen:
            raise FormatError(f"span label {label!r} has attribute {name!r} twice", file=source)
        kind = str(item.get("type", "text"))
        if kind not in ATTRIBUTE_TYPES:
            raise FormatError(f"{what}: type {kind!r} is not one of {', '.join(ATTRIBUTE_TYPES)}",
                              file=source)
        values: tuple[str, ...] = ()
        if kind == "choice":
            raw_values = item.get("values")
            if not isinstance(raw_values, list) or not raw_values:
                raise FormatError(f"{what}: a choice needs a non-empty list of values",
                                  file=source)
            if len(raw_values) > MAX_CHOICE_VALUES:
                raise FormatError(f"{what}: at most {MAX_CHOICE_VALUES} values", file=source)
            for value in raw_values:
                if (not isinstance(value, str) or not value.strip() or value != value.strip()
                        or len(value) > MAX_VALUE_CHARS or "\n" in value):
                    raise FormatError(
                        f"{what}: value {value!r} must be 1-{MAX_VALUE_CHARS} characters on "
                        "one line, without spaces at either end", file=source)
            if len(set(raw_values)) != len(raw_values):
                raise FormatError(f"{what}: a value is listed twice", file=source)
            values = tuple(raw_values)
        elif item.get("values"):
            raise FormatError(f"{what}: only a choice has values (this is {kind})", file=source)
        hotkey = _one_key(item.get("hotkey"), what, source)
        if hotkey:
            if hotkey in keys:
                raise FormatError(f"hotkey {hotkey!r} is used by two attributes of {label!r}",
                                  file=source)
            keys.add(hotkey)
        seen.add(name)
        out.append(AttributeSpec(name, kind, values, hotkey, str(item.get("description", ""))))
    return tuple(out)


def parse_schema(data: object, *, source: str = "schema") -> SchemaSpec:
    """Check a schema dict and return it as a :class:`SchemaSpec`.

    Raises
    ------
    FormatError
        One line naming what is wrong: duplicate names or hotkeys, a bad
        colour, a relation pair naming a label the schema lacks, an attribute
        of an unknown type or whose hotkey is a label's.
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
        hotkey = _one_key(raw.get("hotkey"), f"span label {name!r}", source)
        if hotkey:
            if hotkey in seen_keys:
                raise FormatError(f"hotkey {hotkey!r} is used by two labels", file=source)
            seen_keys.add(hotkey)
        seen_names.add(name)
        attributes = parse_attributes(raw.get("attributes"), label=name, source=source)
        labels.append(SpanLabelSpec(name, colour.lower(), hotkey, str(raw.get("description", "")),
                                    attributes))
    for lab in labels:
        for attribute in lab.attributes:
            if attribute.hotkey and attribute.hotkey in seen_keys:
                raise FormatError(
                    f"attribute {attribute.name!r} of {lab.name!r}: hotkey "
                    f"{attribute.hotkey!r} is a label's hotkey", file=source)

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
        aif = str(raw.get("aif") or default_aif(name))
        if aif not in AIF_KINDS:
            raise FormatError(
                f"relation type {name!r}: aif {aif!r} is not one of {', '.join(AIF_KINDS)}",
                file=source,
            )
        seen_rel.add(name)
        relations.append(
            RelationTypeSpec(name, tuple(allowed), bool(raw.get("directed", True)),
                             str(raw.get("description", "")), aif)
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


# ------------------------------------------------------------- attributes found in data

_NOT_NAME_CHARS = re.compile(r"[^A-Za-z0-9_\-]+")


def attribute_name_for(key: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A name that :data:`NAME` accepts for an attribute key found in data.

    Keys that already qualify are kept; others lose what a name may not hold
    and get a letter in front; a clash with ``taken`` gets a number.

    >>> attribute_name_for("stance"), attribute_name_for("2nd opinion?")
    ('stance', 'a2nd_opinion')
    """
    if NAME.match(key) and key not in taken:
        return key
    base = _NOT_NAME_CHARS.sub("_", key).strip("_") or "attribute"
    if not base[0].isalpha():
        base = "a" + base
    base = base[:60]
    name, n = base, 1
    while name in taken or not NAME.match(name):
        n += 1
        name = f"{base}{n}"
    return name


def plain_attribute_value(value: object) -> str | bool | None:
    """A value found in data as an attribute can hold it: text or yes/no (None: unset).

    Numbers become their JSON text, a list of words its words joined by commas
    (arg-microtexts' EDU ids), anything else its JSON text: nothing is lost.

    >>> [plain_attribute_value(v) for v in (True, 3, 0.5, ["e1", "e2"], None, "pro")]
    [True, '3', '0.5', 'e1,e2', None, 'pro']
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, list) and all(
        isinstance(v, str) and v and "," not in v and not v.isspace() for v in value
    ):
        return ",".join(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


#: A value list this short, of words, found for an attribute reads as a menu.
_INFERRED_CHOICE_MAX = 12


def infer_attribute(name: str, values: list[object], *, choice: bool = False) -> AttributeSpec:
    """The declaration of an attribute that data holds but no schema declared.

    Yes/no when every value is ``True``/``False``; with ``choice``, a choice of
    the values found when they are a few short words; text otherwise.

    >>> infer_attribute("negated", [True, False]).type
    'boolean'
    >>> infer_attribute("role", ["pro", "opp", "pro"], choice=True).values
    ('opp', 'pro')
    >>> infer_attribute("url", ["http://a.example/x"]).type
    'text'
    """
    found = [v for v in values if v is not None and v != ""]
    if found and all(isinstance(v, bool) for v in found):
        return AttributeSpec(name, "boolean")
    words = sorted({str(v) for v in found})
    if (choice and words and len(words) <= _INFERRED_CHOICE_MAX
            and all(isinstance(v, str) for v in found)
            and all(len(w) <= MAX_VALUE_CHARS and w == w.strip() and "\n" not in w
                    for w in words)):
        return AttributeSpec(name, "choice", tuple(words))
    return AttributeSpec(name, "text")


def declare_found_attributes(
    found: dict[str, list[object]], *, old_names: dict[str, str] | None = None
) -> list[dict]:
    """Declarations for the attributes one label's spans held before attributes were typed.

    ``found`` maps each (valid) name to its values as :func:`plain_attribute_value`
    gives them; ``old_names`` maps a name to the key it had, when it was renamed.
    Yes/no when every value is true/false; ``stance`` a choice of for/against when
    that is all it holds (the menu the annotation page offered); text otherwise.
    Names whose values are all empty are not declared. Sorted by name.

    >>> declare_found_attributes({"stance": ["for"], "n": ["3"], "ok": [True], "x": [None]})
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'name': 'n', 'type': 'text', 'hotkey': '', 'description': ''},
     {'name': 'ok', 'type': 'boolean', 'hotkey': '', 'description': ''},
     {'name': 'stance', 'type': 'choice', 'values': ['for', 'against'], 'hotkey': '',
      'description': ''}]
    """
    declared = []
    for name, values in sorted(found.items()):
        held = [v for v in values if v is not None]
        if not held:
            continue
        if name == "stance" and set(held) <= {"for", "against"}:
            spec = AttributeSpec(name, "choice", ("for", "against"))
        else:
            spec = AttributeSpec(name, infer_attribute(name, held).type)
        old = (old_names or {}).get(name, name)
        if old != name:
            spec = AttributeSpec(spec.name, spec.type, spec.values,
                                 description=f"was {old!r} before typed attributes")
        declared.append(spec.to_dict())
    return declared
