"""Plain input records for the agreement engine.

They mirror the canonical JSONL shape (DESIGN.md) without any Django or
storage concern, so the metrics can be tested, benchmarked and reused alone.
Offsets are Unicode code points into the document's canonical text, ``start``
inclusive, ``end`` exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["UNITS", "AnnotatorWork", "DocumentAnnotations", "Relation", "Span"]

#: The units kappa and alpha count (DESIGN.md): ``\S+`` tokens, or characters.
#: Here rather than in ``units`` so that pages can offer them without numpy.
UNITS = ("token", "char")


@dataclass(frozen=True, slots=True)
class Span:
    """One labelled span of one annotator: ``text[start:end]`` carries ``label``."""

    id: str
    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class Relation:
    """A directed relation between two spans (ids) of the same annotator."""

    source: str
    target: str
    type: str


@dataclass(slots=True)
class AnnotatorWork:
    """One annotator's submitted work on one document."""

    spans: list[Span] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)


@dataclass(slots=True)
class DocumentAnnotations:
    """A document and the work of every annotator who submitted it.

    ``work`` maps an annotator's name to their work; annotators who did not
    submit the document are absent (they are not counted as having annotated
    nothing).
    """

    id: str
    text: str
    work: dict[str, AnnotatorWork] = field(default_factory=dict)
