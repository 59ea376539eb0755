"""Several recommenders' suggestions as one list for an annotation set."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from .types import Endpoint, RelationSuggestion, SpanSuggestion, Suggestions

__all__ = ["combine"]


def combine(
    results: Iterable[Suggestions],
    *,
    drawn: Collection[Endpoint] = (),
    drawn_relations: Collection[tuple[Endpoint, Endpoint, str]] = (),
    dismissed: Collection[str] = (),
    keep_drawn: bool = False,
) -> Suggestions:
    """One suggestion per span and per relation, none that repeats the set's work.

    Of suggestions for the same label and range (from several recommenders), the most
    confident stays. A suggestion for a span or a relation the set already has, or
    that the annotator dismissed (by :attr:`SpanSuggestion.key`), is left out, and
    so is a relation whose ends are neither drawn nor suggested any more. With
    ``keep_drawn`` the suggestions that repeat a drawn span stay (a page hides them
    while the span is there, and shows them again if an undo takes it away).

    >>> a = Suggestions([SpanSuggestion("Claim", 0, 4, 0.4, "cues"),
    ...                  SpanSuggestion("Reason", 5, 9, 0.9, "cues")])
    >>> b = Suggestions([SpanSuggestion("Claim", 0, 4, 0.7, "model")])
    >>> [(s.label, s.recommender) for s in combine([a, b], drawn=[Endpoint(5, 9, "Reason")]).spans]
    [('Claim', 'model')]
    """
    dismissed = set(dismissed)
    drawn = set(drawn)
    spans: dict[Endpoint, SpanSuggestion] = {}
    relations: dict[str, RelationSuggestion] = {}
    for result in results:
        for s in result.spans:
            e = s.endpoint
            if (e in drawn and not keep_drawn) or s.key in dismissed:
                continue
            if e not in spans or s.confidence > spans[e].confidence:
                spans[e] = s
        for r in result.relations:
            if r.key not in relations or r.confidence > relations[r.key].confidence:
                relations[r.key] = r
    have = {(s, t, kind) for s, t, kind in drawn_relations}
    alive = drawn | set(spans)
    kept = [r for key, r in relations.items()
            if key not in dismissed and (r.source, r.target, r.type) not in have
            and r.source in alive and r.target in alive]
    return Suggestions(
        sorted(spans.values(), key=lambda s: (s.start, -s.end, s.label)),
        sorted(kept, key=lambda r: (r.source.start, r.target.start, r.type)),
    )
