"""Plain records that every format reads into and writes from.

No Django here: importers turn files into these records, exporters turn them
into files, and ``annotator.services`` moves them in and out of the database.
All offsets are code points into ``DocumentRecord.text`` (``start`` inclusive,
``end`` exclusive), as ../DESIGN.md fixes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class FormatError(ValueError):
    """Input that cannot be read; ``str()`` is one line naming file, line and reason."""

    def __init__(self, reason: str, *, file: str = "", line: int | None = None):
        self.reason = reason
        self.file = file
        self.line = line
        where = file
        if line is not None:
            where = f"{where}:{line}" if where else f"line {line}"
        super().__init__(f"{where}: {reason}" if where else reason)


@dataclass
class SpanRecord:
    id: str
    start: int
    end: int
    label: str
    text: str | None = None
    attributes: dict = field(default_factory=dict)
    note: str = ""
    #: The recommender whose accepted suggestion the span is ("" when drawn by hand); the
    #: Hugging Face export carries it, for studies of suggestions' effect.
    suggested_by: str = ""


@dataclass
class RelationRecord:
    id: str
    source: str
    target: str
    type: str
    #: Free attributes of the link; ``group`` ties the links that share a source
    #: range in the corpus (a CDCP reason from propositions 1-2 is two links, one group).
    attributes: dict = field(default_factory=dict)


@dataclass
class AnnotationRecord:
    """One person's work on one document (or the gold, with ``annotator`` empty)."""

    annotator: str = ""
    status: str = "submitted"
    spans: list[SpanRecord] = field(default_factory=list)
    relations: list[RelationRecord] = field(default_factory=list)
    #: The assignment's due date (ISO ``YYYY-MM-DD``), or "" for none.
    due: str = ""
    #: The gold's *final* mark (it grades students); None when the file does not
    #: say, and then a submitted gold is final.
    final: bool | None = None


# Source formats whose text arrives without offsets: the only ones that are cleaned,
# and whose import can be re-run from the original upload.
UNANNOTATED_FORMATS = frozenset({"text", "markdown", "html", "pdf", "docx"})

# The report shows a few removed lines so that a person can check the cleaning.
MAX_SAMPLES = 5
_SAMPLE_MAX_CHARS = 80


@dataclass
class CleaningReport:
    """What boilerplate cleaning removed from a text that arrived without offsets.

    ``removed`` lists every removed line as ``[offset, reason, line]``: the
    offset, in the cleaned text, where the line stood (before the kept text
    that followed it), so that a page can show what went beside what stayed.
    """

    removed_lines: int = 0
    removed_chars: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    removed: list[list] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.removed_lines > 0

    def note_sample(self, line: str) -> None:
        """Keep ``line`` (shortened) as a sample, up to ``MAX_SAMPLES`` distinct ones."""
        sample = line.strip()[:_SAMPLE_MAX_CHARS]
        if sample and len(self.samples) < MAX_SAMPLES and sample not in self.samples:
            self.samples.append(sample)


@dataclass(frozen=True)
class OffsetMove:
    """A span whose offsets a reader changed from the file's, and why."""

    annotator: str  # "" for the gold
    span: str
    old_start: int
    old_end: int
    start: int
    end: int
    reason: str

    def describe(self) -> str:
        who = f"{self.annotator}'s " if self.annotator else ""
        return (f"{who}{self.span} {self.old_start}-{self.old_end} -> {self.start}-{self.end} "
                f"({self.reason})")


@dataclass
class DocumentRecord:
    external_id: str
    text: str
    title: str = ""
    meta: dict = field(default_factory=dict)
    annotations: list[AnnotationRecord] = field(default_factory=list)
    gold: AnnotationRecord | None = None
    # The upload as it arrived, byte for byte, and where it came from.
    original: bytes = b""
    original_name: str = ""
    source_format: str = ""
    # Where the reader found the title ("the page's <h1>"); empty when the file named it.
    title_source: str = ""
    # None when the text was not cleaned (cleaning off, or text that came with offsets).
    cleaning: CleaningReport | None = None
    # Spans whose offsets the reader moved (trimmed whitespace, CRLF line ends), for the report.
    moved: list[OffsetMove] = field(default_factory=list)
    # The schema its collection declares (brat's annotation.conf), as parse_schema takes
    # it, and the file that declares it: the import makes it the project's schema.
    schema: dict | None = None
    schema_source: str = ""
    # The line of ``original_name`` it was read from, for a file of many documents
    # (JSONL): an error found when it is written names that line. Where a record was
    # read is not part of it: two equal documents stay equal.
    line: int | None = field(default=None, compare=False)
