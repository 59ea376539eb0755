"""brat standoff: a ``.txt`` document with a ``.ann`` file of annotations beside it.

Supported ``.ann`` lines (https://brat.nlplab.org/standoff.html):

- ``T1<TAB>Label START END<TAB>text`` - a text-bound annotation (a span);
- ``R1<TAB>Type Arg1:T1 Arg2:T2`` - a relation, ``Arg1`` is the source;
- ``A1<TAB>Name T1 Value`` / ``M1<TAB>Name T1`` - an attribute of a span or of
  a relation (``R1``); a binary attribute is stored as ``True``;
- ``#1<TAB>AnnotatorNotes T1<TAB>note`` - a note on a span (notes on other
  annotations are skipped).

Events (``E``), normalisations (``N``), equivalences (``*``) and ``=`` lines are
refused with a :class:`FormatError`, and so are discontinuous spans
(``T3<TAB>Claim 0 5;7 9``): Warrant spans are contiguous.

Offsets: brat counts Unicode characters, i.e. code points, the same unit as
Warrant. brat's own server reads the ``.txt`` into a Python ``str`` and checks
the text column of each ``T`` line against ``self._document_text[start:end]``
(nlplab/brat, ``server/src/annotation.py``, ``TextAnnotations._parse_textbound_annotation``,
commit c667cd1a); the format page says "character offsets". The AbstRCT corpus
confirms it: ``23075680.txt`` has U+00B2 characters before its first span, whose
offsets are right in code points and wrong in bytes.

Attribute values: brat's are one word. Warrant writes every value it holds:
``True`` as a binary attribute, ``False`` as the word ``false``, numbers as
their text, and text with its whitespace and ``%`` percent-encoded (RFC 3986,
``%20`` for a space); the reader decodes a ``%XX`` escape, so any value comes
back as it was.

Line ends: the ``.txt`` is normalised to ``\\n`` and every offset is moved with
it (:mod:`annotator.text.newlines`); the text column is checked against the
original text. The text is never cleaned. A text column cannot hold a line
break, so brat (and :func:`write_brat`) write a span's newlines as spaces; the
reader accepts that.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from urllib.parse import quote, unquote

from annotator.formats._common import decode_utf8, external_id_from_name, first_line_title
from annotator.formats.records import (
    AnnotationRecord,
    DocumentRecord,
    FormatError,
    RelationRecord,
    SpanRecord,
)
from annotator.text.newlines import normalize_newlines

__all__ = ["pair_brat_files", "read_brat", "write_brat"]

_SPAN_ID = re.compile(r"T\d+")
_RELATION_ID = re.compile(r"R\d+")
_OFFSETS = re.compile(r"(\d+) (\d+)")
_NAME = re.compile(r"\S+")

_UNSUPPORTED = {
    "E": "events (E lines)",
    "N": "normalisations (N lines)",
    "*": "equivalences (* lines)",
    "=": "'=' lines",
}


def read_brat(
    txt_bytes: bytes, ann_bytes: bytes, *, txt_name: str, ann_name: str
) -> DocumentRecord:
    """Read one brat document and its annotations.

    Parameters
    ----------
    txt_bytes, ann_bytes : bytes
        The ``.txt`` and ``.ann`` files as uploaded.
    txt_name, ann_name : str
        Their names, used for the document id and in errors.

    Returns
    -------
    DocumentRecord
        One annotation set with annotator ``""`` (the caller decides whose it is)
        and status ``"submitted"``; ``original`` holds the ``.txt`` bytes.

    Raises
    ------
    FormatError
        On undecodable files, malformed or unsupported lines, discontinuous
        spans, spans outside the text or whose text column does not match, and
        dangling or duplicate ids; the message names the ``.ann`` file, the line
        and the id.
    """
    original_text = decode_utf8(txt_bytes, name=txt_name)
    ann_text = decode_utf8(ann_bytes, name=ann_name)
    text, offsets = normalize_newlines(original_text)

    spans: dict[str, SpanRecord] = {}
    relations: list[tuple[int, RelationRecord]] = []
    attributes: list[tuple[int, str, str, object]] = []
    notes: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}

    for number, raw in enumerate(ann_text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue

        def fail(reason: str, line_number: int = number) -> FormatError:
            return FormatError(reason, file=ann_name, line=line_number)

        ann_id, _, rest = line.partition("\t")
        kind = ann_id[:1]
        if kind in _UNSUPPORTED:
            raise fail(f"{ann_id}: brat {_UNSUPPORTED[kind]} are not supported")
        if kind not in "TRAM#" or not rest:
            raise fail(f"cannot read this line as brat standoff: {line[:60]!r}")
        if kind != "#":
            if ann_id in seen:
                raise fail(f"duplicate id {ann_id} (first on line {seen[ann_id]})")
            seen[ann_id] = number

        if kind == "T":
            span = _read_span(ann_id, rest, original_text, text, offsets, fail)
            spans[ann_id] = span
        elif kind == "R":
            fields = rest.split("\t", 1)[0].split()
            if len(fields) != 3:
                raise fail(f"relation {ann_id} must read 'Type Arg1:T1 Arg2:T2'")
            args = dict(field.split(":", 1) for field in fields[1:] if ":" in field)
            if set(args) != {"Arg1", "Arg2"}:
                raise fail(f"relation {ann_id} must have arguments Arg1 and Arg2")
            relations.append(
                (number, RelationRecord(ann_id, args["Arg1"], args["Arg2"], fields[0]))
            )
        elif kind in "AM":
            fields = rest.split("\t", 1)[0].split()
            if len(fields) not in (2, 3):
                raise fail(f"attribute {ann_id} must read 'Name T1' or 'Name T1 Value'")
            value: object = fields[2] if len(fields) == 3 else True
            attributes.append((number, fields[1], fields[0], value))
        else:  # "#" note: "#1<TAB>AnnotatorNotes T1<TAB>text"
            head, _, note = rest.partition("\t")
            fields = head.split()
            if len(fields) != 2:
                raise fail(f"note {ann_id} must read 'AnnotatorNotes T1<TAB>note'")
            notes.append((number, fields[1], note))

    for number, relation in relations:
        for role, target in (("Arg1", relation.source), ("Arg2", relation.target)):
            if target not in spans:
                raise FormatError(
                    f"relation {relation.id} {role} refers to {target}, "
                    "which is not a text-bound annotation in this file",
                    file=ann_name,
                    line=number,
                )
    relation_of = {relation.id: relation for _, relation in relations}
    for number, target, name, value in attributes:
        if isinstance(value, str) and "%" in value:
            value = unquote(value)
        if target in spans:
            spans[target].attributes[name] = value
        elif target in relation_of:
            relation_of[target].attributes[name] = value
        elif _SPAN_ID.fullmatch(target) or _RELATION_ID.fullmatch(target):
            raise FormatError(
                f"attribute {name} refers to {target}, which is not in this file",
                file=ann_name,
                line=number,
            )
    for _number, target, note in notes:
        if target in spans:
            span = spans[target]
            span.note = f"{span.note}\n{note}" if span.note else note

    annotation = AnnotationRecord(
        annotator="",
        status="submitted",
        spans=list(spans.values()),
        relations=[relation for _, relation in relations],
    )
    return DocumentRecord(
        external_id=external_id_from_name(txt_name),
        text=text,
        title=first_line_title(text),
        annotations=[annotation],
        original=txt_bytes,
        original_name=txt_name,
        source_format="brat",
    )


def _read_span(ann_id, rest, original_text, text, offsets, fail) -> SpanRecord:
    head, tab, column = rest.partition("\t")
    label, _, positions = head.partition(" ")
    positions = positions.strip()
    if ";" in positions:
        raise fail(f"discontinuous span {ann_id} ({positions}) is not supported yet")
    match = _OFFSETS.fullmatch(positions)
    if not label or match is None:
        raise fail(f"text-bound annotation {ann_id} must read 'Label START END<TAB>text'")
    start, end = int(match.group(1)), int(match.group(2))
    if not start < end <= len(original_text):
        raise fail(
            f"span {ann_id} ({start} {end}) is outside the text "
            f"({len(original_text)} characters) or empty"
        )
    expected = original_text[start:end]
    if tab and column not in (expected, _one_line(expected)):
        raise fail(
            f"span {ann_id} ({start} {end}): its text {_clip(column)!r} does not match "
            f"the document text there {_clip(expected)!r}"
        )
    new_start, new_end = offsets.map(start), offsets.map(end)
    return SpanRecord(
        id=ann_id, start=new_start, end=new_end, label=label, text=text[new_start:new_end]
    )


def _one_line(value: str) -> str:
    return value.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def _clip(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def write_brat(text: str, annotation: AnnotationRecord) -> str:
    """Return the ``.ann`` content for one annotation set on ``text``.

    Span ids of the form ``T<n>`` and relation ids ``R<n>`` are kept, with the
    lines in record order, so ``read_brat(text, write_brat(text, a))`` gives
    ``a`` back. Otherwise all spans are renumbered ``T1...`` in span order
    ``(start, end, label)`` (and relations ``R1...`` in record order), which is
    deterministic.

    Parameters
    ----------
    text : str
        Canonical text the offsets point into (the ``.txt`` to write beside it).
    annotation : AnnotationRecord
        Spans, relations, attributes (``A`` lines) and notes (``#`` lines).

    Returns
    -------
    str
        The ``.ann`` file, one annotation per line, ending with a newline.

    Raises
    ------
    ValueError
        If a label, type or attribute cannot be written in brat (whitespace in
        a name, a value that is not a one-word string or ``True``), a span is
        outside the text or a relation refers to a missing span.

    Examples
    --------
    >>> from annotator.formats.records import AnnotationRecord, SpanRecord
    >>> a = AnnotationRecord(spans=[SpanRecord("x", 0, 3, "Claim")])
    >>> write_brat("Act now", a)
    'T1\\tClaim 0 3\\tAct\\n'
    """
    spans = list(annotation.spans)
    if all(_SPAN_ID.fullmatch(span.id) for span in spans):
        span_ids = {span.id: span.id for span in spans}
    else:
        spans.sort(key=lambda span: (span.start, span.end, span.label))
        span_ids = {span.id: f"T{number}" for number, span in enumerate(spans, start=1)}
    relations = annotation.relations
    if all(_RELATION_ID.fullmatch(relation.id) for relation in relations):
        relation_ids = [relation.id for relation in relations]
    else:
        relation_ids = [f"R{number}" for number in range(1, len(relations) + 1)]

    lines: list[str] = []
    attribute_lines: list[str] = []
    note_lines: list[str] = []
    for span in spans:
        span_id = span_ids[span.id]
        _check_name(span.label, f"label of span {span.id}")
        if not 0 <= span.start < span.end <= len(text):
            raise ValueError(f"span {span.id} ({span.start}, {span.end}) is outside the text")
        covered = _one_line(text[span.start : span.end])
        lines.append(f"{span_id}\t{span.label} {span.start} {span.end}\t{covered}")
        for name, value in span.attributes.items():
            _check_name(name, f"attribute name on span {span.id}")
            attribute_lines.append(_attribute_line(len(attribute_lines) + 1, name, span_id, value))
        if span.note:
            number = len(note_lines) + 1
            note_lines.append(f"#{number}\tAnnotatorNotes {span_id}\t{_one_line(span.note)}")
    for relation, relation_id in zip(relations, relation_ids, strict=True):
        _check_name(relation.type, f"type of relation {relation.id}")
        for end in (relation.source, relation.target):
            if end not in span_ids:
                raise ValueError(f"relation {relation.id} refers to missing span {end}")
        lines.append(
            f"{relation_id}\t{relation.type} "
            f"Arg1:{span_ids[relation.source]} Arg2:{span_ids[relation.target]}\t"
        )
        for name, value in relation.attributes.items():
            _check_name(name, f"attribute name on relation {relation.id}")
            attribute_lines.append(
                _attribute_line(len(attribute_lines) + 1, name, relation_id, value)
            )
    return "".join(f"{line}\n" for line in lines + attribute_lines + note_lines)


def _attribute_line(number: int, name: str, target: str, value: object) -> str:
    """One ``A`` line; any value Warrant holds (see "Attribute values" above).

    >>> _attribute_line(1, "kind", "T2", "peer reviewed")
    'A1\\tkind T2 peer%20reviewed'
    >>> unquote("peer%20reviewed")
    'peer reviewed'
    """
    if value is True:
        return f"A{number}\t{name} {target}"
    word = "false" if value is False else str(value)
    if not word:
        raise ValueError(f"attribute {name} on {target} is empty")
    word = "".join(c if not (c.isspace() or c == "%") else quote(c) for c in word)
    return f"A{number}\t{name} {target} {word}"


def _check_name(value: str, what: str) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(f"{what} {value!r} cannot be written in brat (one word, no spaces)")


def pair_brat_files(names: Iterable[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Split file names into brat pairs and the rest.

    ``foo.txt`` with ``foo.ann`` in the same folder is a brat pair; ``foo.txt``
    alone is plain text; ``foo.ann`` alone is left over (its reader reports it).

    Parameters
    ----------
    names : iterable of str
        Paths with ``/`` separators (as in a zip) or local paths.

    Returns
    -------
    pairs : list of (str, str)
        ``(txt name, ann name)``, sorted by the ``.txt`` name.
    leftovers : list of str
        Every other name, sorted.

    Examples
    --------
    >>> pair_brat_files(["b.txt", "a.ann", "a.txt", "c.md"])
    ([('a.txt', 'a.ann')], ['b.txt', 'c.md'])
    """
    names = list(dict.fromkeys(names))
    by_stem: dict[str, dict[str, str]] = {}
    for name in names:
        path = PurePosixPath(name.replace("\\", "/"))
        suffix = path.suffix.lower()
        if suffix in (".txt", ".ann"):
            by_stem.setdefault(str(path.with_suffix("")), {})[suffix] = name
    pairs: list[tuple[str, str]] = []
    paired: set[str] = set()
    for found in by_stem.values():
        if ".txt" in found and ".ann" in found:
            pairs.append((found[".txt"], found[".ann"]))
            paired.update(found.values())
    leftovers = sorted(name for name in names if name not in paired)
    return sorted(pairs), leftovers
