"""The structure-cue recommender: the skeleton a brief announces, without training.

Briefs say how they are built. This recommender reads those cues and proposes:

=========================  ==========  ==========  ============================================
cue                        role        confidence  span
=========================  ==========  ==========  ============================================
numbered item ("2. …")     reason      0.75        the item's first sentence, without the number
  … of an announced count  reason      0.85        ("five reasons" and items 1-5 are there)
ordinal opener ("First,")  reason      0.6         the sentence ("The second reason …" too)
additive opener            reason      0.4         the sentence ("Moreover, …", "In addition, …")
recommendation, opening    major claim 0.65        first "should/must/ought to/need to" sentence
                                                   of the first three lines
headline                   major claim 0.4         the title line, before a colon (0.5 with a
                                                   modal); only when the brief has more lines
recommendation, closing    major claim 0.4         the last such sentence, when the opening
                                                   has none
parenthesised citation     evidence    0.6         the sentence before "(Source, 2025)"
  … "according to"         evidence    0.6         the sentence before ", according to"
quoted statement           evidence    0.5 / 0.65  a quotation of four words or more beside a
                                                   verb of saying (0.65 when it opens a cited
                                                   sentence, which it then stands for)
statistic                  evidence    0.35        a sentence with a count, a percentage or an
                                                   amount, and no citation
reported objection         claim       0.5         X in "critics argue that X"
=========================  ==========  ==========  ============================================

Relations follow position: each reason ``supports`` the major claim (a drawn
one first, else the most confident candidate), each piece of evidence is
``evidence_for`` the nearest reason before it, and a reported objection
``attacks`` the major claim. A relation's confidence is the lower of its two
ends' times 0.9.

Roles become the project's labels and relation types through
:data:`ROLE_LABELS` and :data:`ROLE_TYPES` (the first name the schema has,
compared without case); a role the schema has no label for is left out, and so
is a relation the schema does not allow between the two labels. Of two
suggestions with the same label that overlap, the more confident one stays.
"""

from __future__ import annotations

import re

from annotator.formats.schema import SchemaSpec

from .segments import Sentence, lines, sentences
from .types import Endpoint, RelationSuggestion, SpanSuggestion, Suggestions

__all__ = ["ROLE_LABELS", "ROLE_TYPES", "CueRecommender", "label_for_role", "type_for_role"]

#: The labels each role can take, in order of preference (compared without case). The
#: argument preset's names first, then those of AbstRCT, arg-microtexts and CDCP.
ROLE_LABELS = {
    "major_claim": ("MajorClaim", "Major_Claim", "Major-Claim", "CentralClaim", "Thesis",
                    "Conclusion", "policy"),
    "reason": ("Reason", "Premise", "Claim", "value"),
    "evidence": ("Evidence", "Premise", "Fact", "Data", "Grounds", "testimony"),
    "claim": ("Claim", "Premise", "value"),
}
#: The relation types each relation role can take, by name first; failing those, any type
#: that AIF sees as ``aif`` and that allows the two labels.
ROLE_TYPES = {
    "supports": (("supports", "support", "sup", "reason"), "inference"),
    "evidence_for": (("evidence_for", "evidence", "supports", "support", "sup"), "inference"),
    "attacks": (("attacks", "attack", "reb", "rebut", "rebuts"), "conflict"),
}

_NUMBERED = re.compile(r"(?:(\d{1,2})[.)]|\((\d{1,2})\))\s+(?=\S)")
_ORDINAL = re.compile(
    r"(?:(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)(?:ly)?"
    r"(?: of all)?|finally|lastly|last but not least)\s*,"
    r"|(?:the|a|my|our)\s+(?:first|second|third|fourth|fifth|sixth|final|last|main|other)"
    r"\s+(?:reason|argument|point|point is|problem|benefit|advantage)\b"
    r"|another\s+(?:reason|argument|point|problem|benefit|advantage)\b",
    re.IGNORECASE,
)
_ADDITIVE = re.compile(
    r"(?:moreover|furthermore|in addition|additionally|besides|what is more|also)\s*,",
    re.IGNORECASE,
)
_MODAL = re.compile(
    r"\b(?:should|must|ought to|needs? to|has to|have to|shall)\b", re.IGNORECASE
)
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10}
_ANNOUNCED = re.compile(
    r"\b(two|three|four|five|six|seven|eight|nine|ten|\d{1,2})\s+(?:\w+\s+)?"
    r"(?:reasons|arguments|points|grounds|steps|benefits)\b",
    re.IGNORECASE,
)
# A citation: brackets holding a year (1900-2099), "et al." or a page reference.
_CITATION = re.compile(r"\s*\(([^()]*(?:\b(?:19|20)\d\d\b|et al\.|\bp\.\s*\d)[^()]*)\)")
_ACCORDING = re.compile(r",?\s+according to\b", re.IGNORECASE)
_QUOTE = re.compile(r"[\"“]([^\"“”\n]{3,}?)[\"”]")
_SAYING = re.compile(
    r"\b(?:said|says|say|told|tells|argued|argues|wrote|writes|called|calls|stated|states|"
    r"warned|warns|noted|notes|added|adds|explained|explains|according to|put it)\b",
    re.IGNORECASE,
)
_STATISTIC = re.compile(
    r"\b\d{1,3}(?:,\d{3})+\b|\b\d+(?:\.\d+)?\s*(?:%|percent\b|per cent\b)"
    r"|\b\d+(?:\.\d+)?\s+(?:million|billion|thousand)\b|\b\d+(?:\.\d+)?\s*(?:km|kg|mg|euros?|"
    r"dollars?|pounds?)\b|[$€£]\s?\d",
    re.IGNORECASE,
)
_OBJECTION = re.compile(
    r"\b(?:critics|opponents|sceptics|skeptics|some(?: people)?|others|many)\s+"
    r"(?:argue|say|claim|contend|object|fear|worry|believe)\s+that\s+",
    re.IGNORECASE,
)
#: Where a reported objection ends and the brief's answer begins.
_TURN = re.compile(r";\s*(?:but|yet|however)?,?|,\s*(?:but|yet|however)\b,?", re.IGNORECASE)
_TRAILING = " \t,;:.!?"
# A heading is short: past this many words a first line is a sentence, not a title.
_HEADLINE_MAX_WORDS = 20
# Evidence shorter than this many words is a fragment, not a fact.
_MIN_EVIDENCE_WORDS = 3


def label_for_role(schema: SchemaSpec, role: str) -> str | None:
    """The schema's label for a role (:data:`ROLE_LABELS`), or None."""
    names = {name.lower(): name for name in schema.label_names()}
    for candidate in ROLE_LABELS[role]:
        if candidate.lower() in names:
            return names[candidate.lower()]
    return None


def type_for_role(schema: SchemaSpec, role: str, source: str, target: str) -> str | None:
    """The schema's relation type for a relation role between two labels, or None."""
    names, aif = ROLE_TYPES[role]
    allowing = [t for t in schema.relation_types
                if t.allows(source, target) or (not t.directed and t.allows(target, source))]
    by_name = {t.name.lower(): t.name for t in allowing}
    for candidate in names:
        if candidate in by_name:
            return by_name[candidate]
    return next((t.name for t in allowing if t.aif == aif), None)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1] in _TRAILING:
        end -= 1
    return start, end


def _words(text: str) -> int:
    return len(text.split())


class CueRecommender:
    """Suggestions from the cues a brief gives of its own structure (module docstring)."""

    name = "cues"

    def suggest(
        self, text: str, schema: SchemaSpec, *, drawn: tuple[Endpoint, ...] = ()
    ) -> Suggestions:
        found: list[tuple[str, int, int, float, str]] = []  # role, start, end, confidence, cue
        sents = sentences(text)
        found += self._reasons(text, sents)
        found += self._major_claims(text, sents)
        found += self._evidence(text, sents)
        found += self._objections(text, sents)
        spans: list[SpanSuggestion] = []
        roles: dict[SpanSuggestion, str] = {}
        for role, start, end, confidence, cue in found:
            label = label_for_role(schema, role)
            if label is None or end <= start:
                continue
            suggestion = SpanSuggestion(label, start, end, confidence, self.name, cue)
            spans.append(suggestion)
            roles[suggestion] = role
        spans = _most_confident(spans)
        return Suggestions(spans, self._relations(schema, spans, roles, drawn))

    # ----------------------------------------------------------------- spans

    def _reasons(self, text: str, sents: list[Sentence]) -> list:
        announced = None
        head = text[: sents[min(len(sents), 6) - 1].end] if sents else ""
        match = _ANNOUNCED.search(head)
        if match:
            word = match.group(1).lower()
            announced = int(word) if word.isdigit() else _NUMBER_WORDS[word]
        numbered = []
        for sentence in sents:
            if not sentence.first_in_line:
                continue
            item = _NUMBERED.match(text, sentence.start, sentence.end)
            if item:
                number = int(item.group(1) or item.group(2))
                numbered.append((number, item.end(), sentence.end))
        numbers = {n for n, _, _ in numbered}
        complete = announced is not None and numbers >= set(range(1, announced + 1))
        out = []
        for number, start, end in numbered:
            if complete and number <= announced:
                out.append(("reason", start, end, 0.85,
                            f"numbered item {number} of the {announced} announced"))
            else:
                out.append(("reason", start, end, 0.75, f"numbered item {number}"))
        for sentence in sents:
            if _NUMBERED.match(text, sentence.start, sentence.end):
                continue
            if _ORDINAL.match(text, sentence.start, sentence.end):
                out.append(("reason", sentence.start, sentence.end, 0.6, "ordinal opener"))
            elif _ADDITIVE.match(text, sentence.start, sentence.end):
                out.append(("reason", sentence.start, sentence.end, 0.4, "additive opener"))
        return out

    def _major_claims(self, text: str, sents: list[Sentence]) -> list:
        out = []
        all_lines = lines(text)
        body = [s for s in sents if not (s.line == 0 and len(all_lines) > 1)]
        heading = None
        if len(all_lines) > 1:
            lo, hi = all_lines[0]
            first = text[lo:hi]
            if _words(first) <= _HEADLINE_MAX_WORDS and first.rstrip()[-1:] not in ".!?":
                cut = re.search(r"\s*[:\u2013\u2014]\s", first)  # colon, en or em dash
                start, end = _trim(text, lo, lo + cut.start() if cut else hi)
                if end > start:
                    modal = _MODAL.search(text, start, end) is not None
                    heading = ("major_claim", start, end, 0.5 if modal else 0.4, "headline")
        opening = [s for s in body if s.line <= 3 and not _NUMBERED.match(text, s.start, s.end)
                   and _MODAL.search(text, s.start, s.end)]
        if opening:
            s = opening[0]
            out.append(("major_claim", s.start, s.end, 0.65,
                        "recommendation in the opening"))
        else:
            closing = [s for s in body if s.line >= max(all_lines and len(all_lines) - 2, 1)
                       and _MODAL.search(text, s.start, s.end)]
            if closing:
                s = closing[-1]
                out.append(("major_claim", s.start, s.end, 0.4,
                            "recommendation in the conclusion"))
        if heading:
            out.append(heading)
        return out

    def _evidence(self, text: str, sents: list[Sentence]) -> list:
        out = []
        for s in sents:
            if _NUMBERED.match(text, s.start, s.end):
                continue
            citation = _CITATION.search(text, s.start, s.end)
            quote = self._statement(text, s)
            if citation:
                before = text[s.start:citation.start()]
                if quote and quote[0] - s.start <= 1:
                    out.append(("evidence", quote[0], quote[1], 0.65, "quoted statement, cited"))
                    continue
                according = _ACCORDING.search(before)
                end = s.start + according.start() if according else citation.start()
                begin = s.start
                # "Critics argue that X; yet Y (Source, 2025)": the citation backs Y.
                if _OBJECTION.search(text, s.start, end):
                    turn = _TURN.search(text, s.start, end)
                    begin = turn.end() if turn else begin
                start, end = _trim(text, begin, end)
                if _words(text[start:end]) >= _MIN_EVIDENCE_WORDS:
                    cue = "according to, cited" if according else "parenthesised citation"
                    out.append(("evidence", start, end, 0.6, cue))
                continue
            if quote:
                out.append(("evidence", quote[0], quote[1], 0.5, "quoted statement"))
                continue
            according = _ACCORDING.search(text, s.start, s.end)
            if according:
                start, end = _trim(text, s.start, according.start())
                if _words(text[start:end]) >= _MIN_EVIDENCE_WORDS:
                    out.append(("evidence", start, end, 0.6, "according to"))
                    continue
            if _STATISTIC.search(text, s.start, s.end):
                start, end = _trim(text, s.start, s.end)
                if _words(text[start:end]) >= _MIN_EVIDENCE_WORDS:
                    out.append(("evidence", start, end, 0.35, "statistic"))
        return out

    def _statement(self, text: str, s: Sentence) -> tuple[int, int] | None:
        """A quoted statement of the sentence (with its quotation marks), or None."""
        for match in _QUOTE.finditer(text, s.start, s.end):
            depth = text.count("(", s.start, match.start()) - text.count(")", s.start,
                                                                         match.start())
            if depth > 0 or _words(match.group(1)) < 4:
                continue
            if _SAYING.search(text, s.start, s.end):
                return match.span()
        return None

    def _objections(self, text: str, sents: list[Sentence]) -> list:
        out = []
        for s in sents:
            match = _OBJECTION.search(text, s.start, s.end)
            if not match:
                continue
            stop = _TURN.search(text, match.end(), s.end)
            start, end = _trim(text, match.end(), stop.start() if stop else s.end)
            if _words(text[start:end]) >= _MIN_EVIDENCE_WORDS:
                out.append(("claim", start, end, 0.5, "reported objection"))
        return out

    # ----------------------------------------------------------------- relations

    def _relations(self, schema: SchemaSpec, spans: list[SpanSuggestion],
                   roles: dict[SpanSuggestion, str], drawn: tuple[Endpoint, ...]):
        labels = {role: label_for_role(schema, role) for role in ROLE_LABELS}
        # Drawn spans take part by their label: the annotator's major claim wins.
        pool: list[tuple[Endpoint, str, float]] = [
            (s.endpoint, roles[s], s.confidence) for s in spans
        ]
        for endpoint in drawn:
            for role in ("major_claim", "reason"):
                if labels[role] == endpoint.label:
                    pool.append((endpoint, role, 1.0))
                    break
        claims = sorted((p for p in pool if p[1] == "major_claim"),
                        key=lambda p: (-p[2], p[0].start))
        reasons = sorted((p for p in pool if p[1] == "reason"), key=lambda p: p[0].start)
        out: list[RelationSuggestion] = []

        def link(role: str, source, target, cue: str) -> None:
            if source[0] == target[0]:
                return
            rtype = type_for_role(schema, role, source[0].label, target[0].label)
            if rtype is not None:
                out.append(RelationSuggestion(rtype, source[0], target[0],
                                              0.9 * min(source[2], target[2]), self.name, cue))

        claim = claims[0] if claims else None
        for s in spans:
            role = roles[s]
            me = (s.endpoint, role, s.confidence)
            if role == "reason" and claim is not None:
                link("supports", me, claim, "reason for the major claim")
            elif role == "claim" and claim is not None:
                link("attacks", me, claim, "objection to the major claim")
            elif role == "evidence":
                before = [r for r in reasons if r[0].start < s.start]
                if before:
                    link("evidence_for", me, before[-1], "evidence after the reason")
        return out


def _most_confident(spans: list[SpanSuggestion]) -> list[SpanSuggestion]:
    """Of overlapping suggestions with one label, the most confident (then the first)."""
    kept: list[SpanSuggestion] = []
    for s in sorted(spans, key=lambda s: (-s.confidence, s.start, -s.end)):
        if not any(k.label == s.label and k.start < s.end and s.start < k.end for k in kept):
            kept.append(s)
    return sorted(kept, key=lambda s: (s.start, -s.end, s.label))
