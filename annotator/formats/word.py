"""Read a Word brief (.docx): paragraphs, headings, lists, tables, footnotes and endnotes.

The body is read in order with python-docx's XML elements: each paragraph is a
block (runs, hyperlinks and tracked insertions included; deletions, field codes
and text boxes left out); a list item keeps its marker ("- " for a bullet,
"3. " or "c. " for a numbered item, counted as Word counts them, three spaces
per level of nesting); a table is one block with a line per row, its cells
joined by " | ". Blocks are separated by a blank line, the items of one list by
a line end, as the HTML reader does.

A footnote or endnote reference becomes "[1]" (footnotes) or "[i]" (endnotes)
where it stands, numbered in order of appearance as Word shows them, and the
notes follow at the end under the headings "Footnotes" and "Endnotes".
Headers and footers live in parts of their own and are not read: a .docx has no
page residue to clean.

Title: the first paragraph in the Title style, else the first Heading 1, else
the document's Title property, else the first line (:mod:`annotator.text.titles`).

The package is a zip archive: it is checked against the archive bounds of
:mod:`annotator.formats.readers` before python-docx opens it, and python-docx is
imported inside the reader, so web processes load it only for a .docx.
"""

from __future__ import annotations

import io
import zipfile

from annotator.formats._common import external_id_from_name
from annotator.formats.records import CleaningReport, DocumentRecord, FormatError
from annotator.text.newlines import normalize_newlines
from annotator.text.titles import Candidate, pick_title

__all__ = ["read_docx"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# Never shown as the paragraph's text: deletions, moved-away text, field codes,
# drawings and text boxes (their content is repeated in a fallback), properties.
_SKIP = frozenset(
    _W + tag
    for tag in ("del", "moveFrom", "drawing", "pict", "object", "txbxContent", "instrText",
                "delText", "rPr", "pPr", "footnotePr", "endnotePr", "commentReference")
) | {_MC + "AlternateContent"}
_NOTE_SEPARATORS = frozenset({"separator", "continuationSeparator", "continuationNotice"})
_DAMAGED = (
    "cannot be read as a Word .docx file (it is damaged, password-protected, or another "
    "format); open it in Word and save it as .docx again"
)


def read_docx(data: bytes, *, name: str, clean: bool = True) -> DocumentRecord:
    """Read a .docx brief (see the module docstring).

    Parameters
    ----------
    data : bytes
        The file as uploaded.
    name : str
        File name (or ``archive.zip/member``), used for the id and in errors.
    clean : bool
        Kept for the readers' common signature: a .docx has no page residue, so
        nothing is removed (the report says so).

    Returns
    -------
    DocumentRecord
        ``source_format`` ``"docx"``.

    Raises
    ------
    FormatError
        If the file is not a readable .docx package, is over the archive bounds,
        or holds no text.
    """
    _check_package(data, name=name)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
        reader = _Reader(document)
        blocks = reader.body_blocks()
        property_title = document.core_properties.title or ""
    except FormatError:
        raise
    except (PackageNotFoundError, KeyError, ValueError, AttributeError, TypeError,
            zipfile.BadZipFile, SyntaxError):
        # lxml's XMLSyntaxError is a SyntaxError; python-docx raises the others
        # on missing or malformed parts.
        raise FormatError(_DAMAGED, file=name) from None
    blocks += reader.note_blocks()
    text, _ = normalize_newlines(_join(blocks))
    if not text.strip():
        raise FormatError("the document has no text", file=name)
    candidates = [Candidate(t, "the Title style") for t in reader.titles]
    candidates += [Candidate(t, "the first Heading 1") for t in reader.headings_1[:1]]
    if property_title:
        candidates.append(Candidate(property_title, "the document's Title property"))
    title, source = pick_title(candidates, text=text)
    return DocumentRecord(
        external_id=external_id_from_name(name),
        text=text,
        title=title,
        title_source=source,
        original=data,
        original_name=name,
        source_format="docx",
        cleaning=CleaningReport() if clean else None,
    )


def _check_package(data: bytes, *, name: str) -> None:
    """Refuse what is not a zip package, or one past the archive bounds (a zip bomb)."""
    from annotator.formats.readers import (
        MAX_COMPRESSION_RATIO,
        MAX_UNCOMPRESSED_BYTES,
        RATIO_CHECK_MIN_BYTES,
    )

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            members = package.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise FormatError(_DAMAGED, file=name) from None
    if sum(info.file_size for info in members) > MAX_UNCOMPRESSED_BYTES:
        raise FormatError(
            f"the .docx unpacks to more than {MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MiB",
            file=name,
        )
    for info in members:
        if info.file_size >= RATIO_CHECK_MIN_BYTES and (
            info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
        ):
            raise FormatError(
                f"{info.filename} in the .docx is compressed more than "
                f"{MAX_COMPRESSION_RATIO}:1, refused as a possible zip bomb",
                file=name,
            )


def _join(blocks: list[tuple[str, str]]) -> str:
    """Blocks with a blank line between them, a line end between items of one list."""
    out: list[str] = []
    previous = ""
    for kind, text in blocks:
        if out:
            out.append("\n" if kind == previous == "item" else "\n\n")
        out.append(text)
        previous = kind
    return "".join(out)


def _roman(number: int) -> str:
    numerals = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
    out = []
    for value, numeral in numerals:
        while number >= value:
            out.append(numeral)
            number -= value
    return "".join(out)


def _letters(number: int) -> str:
    # Word counts a, b, ... z, aa, bb, ... (ECMA-376 Part 1, 17.18.59, lowerLetter).
    return chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)


def _marker(number_format: str, number: int) -> str:
    if number_format == "bullet":
        return "- "
    if number_format == "none":
        return ""
    if number_format == "lowerLetter":
        return f"{_letters(number)}. "
    if number_format == "upperLetter":
        return f"{_letters(number).upper()}. "
    if number_format == "lowerRoman":
        return f"{_roman(number)}. "
    if number_format == "upperRoman":
        return f"{_roman(number).upper()}. "
    return f"{number}. "


class _Reader:
    """Walks one document's body; knows its styles, numbering and notes."""

    def __init__(self, document) -> None:
        self.document = document
        self.titles: list[str] = []
        self.headings_1: list[str] = []
        self._styles = self._read_styles()
        self._levels = self._read_numbering()
        self._counters: dict[tuple[str, int], int] = {}
        self._notes = {kind: self._read_notes(kind) for kind in ("footnote", "endnote")}
        # Notes in order of their first reference: (kind, id).
        self._referenced: dict[str, list[str]] = {"footnote": [], "endnote": []}

    # -- definitions ---------------------------------------------------------------

    def _read_styles(self) -> dict[str, tuple[str, tuple[str, int] | None, str]]:
        """styleId -> (name, (numId, level) or None, basedOn)."""
        styles = {}
        for style in self.document.styles.element.iter(_W + "style"):
            style_id = style.get(_W + "styleId") or ""
            name_element = style.find(_W + "name")
            name = name_element.get(_W + "val") if name_element is not None else style_id
            based_on = style.find(_W + "basedOn")
            styles[style_id] = (
                name or style_id,
                self._numbering_of(style.find(_W + "pPr")),
                based_on.get(_W + "val") if based_on is not None else "",
            )
        return styles

    @staticmethod
    def _numbering_of(properties) -> tuple[str, int] | None:
        if properties is None:
            return None
        numbering = properties.find(_W + "numPr")
        if numbering is None:
            return None
        num_id = numbering.find(_W + "numId")
        level = numbering.find(_W + "ilvl")
        if num_id is None:
            return None
        level_value = level.get(_W + "val") if level is not None else "0"
        return num_id.get(_W + "val") or "0", int(level_value or 0)

    def _read_numbering(self) -> dict[tuple[str, int], tuple[str, int]]:
        """(numId, level) -> (number format, start)."""
        try:
            numbering = self.document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return {}
        abstract: dict[str, dict[int, tuple[str, int]]] = {}
        for definition in numbering.iter(_W + "abstractNum"):
            levels = {}
            for level in definition.iter(_W + "lvl"):
                number_format = level.find(_W + "numFmt")
                start = level.find(_W + "start")
                levels[int(level.get(_W + "ilvl") or 0)] = (
                    number_format.get(_W + "val") if number_format is not None else "decimal",
                    int(start.get(_W + "val") or 1) if start is not None else 1,
                )
            abstract[definition.get(_W + "abstractNumId") or ""] = levels
        levels_of: dict[tuple[str, int], tuple[str, int]] = {}
        for num in numbering.iter(_W + "num"):
            num_id = num.get(_W + "numId") or ""
            reference = num.find(_W + "abstractNumId")
            if reference is None:
                continue
            for level, (number_format, start) in abstract.get(
                reference.get(_W + "val") or "", {}
            ).items():
                levels_of[(num_id, level)] = (number_format, start)
            for override in num.iter(_W + "lvlOverride"):
                start = override.find(_W + "startOverride")
                level = int(override.get(_W + "ilvl") or 0)
                if start is not None and (num_id, level) in levels_of:
                    levels_of[(num_id, level)] = (
                        levels_of[(num_id, level)][0], int(start.get(_W + "val") or 1)
                    )
        return levels_of

    def _read_notes(self, kind: str) -> dict[str, str]:
        from docx.opc.constants import RELATIONSHIP_TYPE as RT
        from docx.oxml import parse_xml

        wanted = RT.FOOTNOTES if kind == "footnote" else RT.ENDNOTES
        notes: dict[str, str] = {}
        for relationship in self.document.part.rels.values():
            if relationship.reltype != wanted or relationship.is_external:
                continue
            root = parse_xml(relationship.target_part.blob)
            for note in root.iter(_W + kind):
                if note.get(_W + "type") in _NOTE_SEPARATORS:
                    continue
                paragraphs = [self._text(p).strip() for p in note.iter(_W + "p")]
                notes[note.get(_W + "id") or ""] = " ".join(p for p in paragraphs if p)
        return notes

    # -- the body ------------------------------------------------------------------

    def body_blocks(self) -> list[tuple[str, str]]:
        blocks: list[tuple[str, str]] = []
        self._walk(self.document.element.body, blocks)
        return blocks

    def _walk(self, container, blocks: list[tuple[str, str]]) -> None:
        for child in container:
            if child.tag == _W + "p":
                block = self._paragraph(child)
                if block is not None:
                    blocks.append(block)
            elif child.tag == _W + "tbl":
                rows = self._table_rows(child)
                if rows:
                    blocks.append(("table", "\n".join(rows)))
            elif child.tag in (_W + "sdt", _W + "sdtContent", _W + "customXml"):
                self._walk(child, blocks)

    def _style(self, paragraph) -> tuple[str, tuple[str, int] | None]:
        """The paragraph's style name and its numbering (its own, else its styles')."""
        properties = paragraph.find(_W + "pPr")
        numbering = self._numbering_of(properties)
        style_element = properties.find(_W + "pStyle") if properties is not None else None
        style_id = style_element.get(_W + "val") if style_element is not None else "Normal"
        name = self._styles.get(style_id, (style_id, None, ""))[0]
        seen = set()
        while numbering is None and style_id in self._styles and style_id not in seen:
            seen.add(style_id)
            _, numbering, style_id = self._styles[style_id]
        return name, numbering

    def _paragraph(self, paragraph) -> tuple[str, str] | None:
        lines = (" ".join(line.split()) for line in self._text(paragraph).split("\n"))
        text = "\n".join(line for line in lines if line)
        if not text:
            return None
        name, numbering = self._style(paragraph)
        lowered = name.casefold()
        if lowered == "title":
            self.titles.append(text)
            return ("heading", text)
        if lowered.startswith("heading"):
            if lowered == "heading 1":
                self.headings_1.append(text)
            return ("heading", text)
        if numbering is not None and numbering[0] != "0":
            return ("item", self._list_marker(numbering) + text)
        return ("paragraph", text)

    def _list_marker(self, numbering: tuple[str, int]) -> str:
        num_id, level = numbering
        number_format, start = self._levels.get((num_id, level), ("bullet", 1))
        key = (num_id, level)
        self._counters[key] = self._counters.get(key, start - 1) + 1
        # A new item at this level restarts the levels below it.
        for deeper in [k for k in self._counters if k[0] == num_id and k[1] > level]:
            del self._counters[deeper]
        return "   " * level + _marker(number_format, self._counters[key])

    def _table_rows(self, table) -> list[str]:
        rows = []
        for row in table.iter(_W + "tr"):
            if row.getparent() is not table:
                continue  # a nested table's rows are read with their cell
            cells = []
            for cell in row.findall(_W + "tc"):
                paragraphs = [self._text(p).strip() for p in cell.iter(_W + "p")]
                value = " ".join(" ".join(p.split()) for p in paragraphs if p)
                cells.append(value)
            if any(cells):
                rows.append(" | ".join(cells))
        return rows

    def _text(self, element) -> str:
        parts: list[str] = []
        self._collect(element, parts)
        return "".join(parts)

    def _collect(self, element, parts: list[str]) -> None:
        for child in element:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP:
                continue
            if tag == _W + "t":
                parts.append(child.text or "")
            elif tag in (_W + "tab", _W + "ptab"):
                parts.append(" ")
            elif tag in (_W + "br", _W + "cr"):
                parts.append("\n")
            elif tag == _W + "noBreakHyphen":
                parts.append("-")
            elif tag == _W + "footnoteReference":
                parts.append(self._reference("footnote", child.get(_W + "id") or ""))
            elif tag == _W + "endnoteReference":
                parts.append(self._reference("endnote", child.get(_W + "id") or ""))
            elif tag == _W + "p":
                # A paragraph inside a paragraph's content (rare): a line of its own.
                parts.append("\n")
                self._collect(child, parts)
            else:
                self._collect(child, parts)

    def _reference(self, kind: str, note_id: str) -> str:
        if note_id not in self._notes[kind]:
            return ""
        order = self._referenced[kind]
        if note_id not in order:
            order.append(note_id)
        number = order.index(note_id) + 1
        return f"[{number}]" if kind == "footnote" else f"[{_roman(number)}]"

    def note_blocks(self) -> list[tuple[str, str]]:
        blocks: list[tuple[str, str]] = []
        for kind, heading in (("footnote", "Footnotes"), ("endnote", "Endnotes")):
            notes = [
                (number, self._notes[kind][note_id])
                for number, note_id in enumerate(self._referenced[kind], start=1)
                if self._notes[kind][note_id]
            ]
            if not notes:
                continue
            blocks.append(("heading", heading))
            for number, text in notes:
                label = f"[{number}]" if kind == "footnote" else f"[{_roman(number)}]"
                blocks.append(("item", f"{label} {text}"))
        return blocks
