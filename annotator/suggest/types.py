"""Plain records that every recommender returns and learns from.

No Django here (DESIGN.md, "Layers"): a recommender reads a document's text, the
project's schema (:class:`annotator.formats.schema.SchemaSpec`) and, when it
wants, the spans the annotator has already drawn, and returns
:class:`Suggestions`. Offsets are code points into the canonical text, ``start``
inclusive, ``end`` exclusive, as everywhere in Warrant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from annotator.formats.schema import SchemaSpec

__all__ = [
    "RECOMMENDERS",
    "AnnotatedDocument",
    "Endpoint",
    "Recommender",
    "RecommenderError",
    "RelationSuggestion",
    "SpanSuggestion",
    "Suggestions",
]

#: The recommenders a project can choose, in the order a page lists them.
RECOMMENDERS = ("cues", "model", "external")


class RecommenderError(Exception):
    """A recommender that could not answer; ``str()`` is one line for the user."""


@dataclass(frozen=True, slots=True, order=True)
class Endpoint:
    """A relation's end: a span known by its range and label (suggested or drawn)."""

    start: int
    end: int
    label: str

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "label": self.label}


@dataclass(frozen=True, slots=True)
class SpanSuggestion:
    """A proposed span: ``text[start:end]`` could carry ``label``.

    ``confidence`` is in ``[0, 1]``; ``cue`` says in a few words what produced it
    ("numbered item 2", "parenthesised citation", "CRF").
    """

    label: str
    start: int
    end: int
    confidence: float
    recommender: str
    cue: str = ""

    @property
    def key(self) -> str:
        """What identifies the suggestion in a set (a dismissal remembers this)."""
        return f"span:{self.label}:{self.start}:{self.end}"

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.start, self.end, self.label)

    def to_dict(self, text: str | None = None) -> dict:
        out = {"label": self.label, "start": self.start, "end": self.end}
        if text is not None:
            out["text"] = text[self.start:self.end]
        out.update(confidence=round(self.confidence, 4), recommender=self.recommender,
                   cue=self.cue)
        return out


@dataclass(frozen=True, slots=True)
class RelationSuggestion:
    """A proposed relation of ``type`` from ``source`` to ``target``."""

    type: str
    source: Endpoint
    target: Endpoint
    confidence: float
    recommender: str
    cue: str = ""

    @property
    def key(self) -> str:
        s, t = self.source, self.target
        return f"relation:{self.type}:{s.label}:{s.start}:{s.end}:{t.label}:{t.start}:{t.end}"

    def to_dict(self) -> dict:
        return {"type": self.type, "source": self.source.to_dict(),
                "target": self.target.to_dict(), "confidence": round(self.confidence, 4),
                "recommender": self.recommender, "cue": self.cue}


@dataclass(slots=True)
class Suggestions:
    spans: list[SpanSuggestion] = field(default_factory=list)
    relations: list[RelationSuggestion] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AnnotatedDocument:
    """A document with one person's (or the gold's) spans and relations, to learn from
    or to evaluate against. ``relations`` are ``(source index, target index, type)``
    into ``spans``; ``group`` keeps the folds of a cross-validation by document."""

    text: str
    spans: tuple[Endpoint, ...] = ()
    relations: tuple[tuple[int, int, str], ...] = ()
    group: str = ""


class Recommender(Protocol):
    """What every recommender offers: a name and suggestions for one text.

    ``drawn`` are the spans already in the annotation set (the annotator's own):
    a recommender may link to them, and its suggestions that repeat one are
    dropped by the caller.
    """

    name: str

    def suggest(
        self, text: str, schema: SchemaSpec, *, drawn: tuple[Endpoint, ...] = ()
    ) -> Suggestions: ...
