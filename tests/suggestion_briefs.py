"""Briefs made up for the suggestion tests and benchmarks/suggestions.py, with their
annotation: a headline, a recommendation, numbered reasons, cited evidence and
statistics, and the supports / evidence_for links between them.

Deterministic for a seed. Not every evidence sentence carries a citation and the
annotation does not follow the cues everywhere (it marks a reason's first
sentence only, and leaves some statistics unmarked), so that a learned model has
something to learn beyond them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

CITIES = ["Northport", "Eastvale", "Lindholm", "Brackley", "Corran", "Mirefield", "Tavistow"]
POLICIES = ["introduce a congestion charge", "ban new coal boilers", "fund free school meals",
            "build protected cycle lanes", "raise the tobacco tax", "open libraries on Sundays",
            "cap rents in the centre", "plant ten thousand street trees"]
SUBJECTS = ["Traffic", "Air quality", "Child health", "Local trade", "Public safety",
            "The city budget", "Housing", "Tourism", "School results", "Noise"]
VERBS = ["has worsened", "would improve", "depends on it", "has suffered", "needs this",
         "is at stake", "would benefit most"]
SOURCES = ["Northport Herald", "Transport Review", "City Budget Office", "Environmental Agency",
           "Civic Pulse poll", "Radio Eastvale", "Health Survey"]
FILLER = ["Residents have raised the matter at every council meeting.",
          "The question has come up before.", "Other cities are watching closely.",
          "Few expected the change to be so quick.", "This is not a new debate."]
ORDINALS = ["two", "three", "four", "five", "six", "seven", "eight", "nine"]


@dataclass
class Brief:
    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    relations: list[tuple[int, int, str]] = field(default_factory=list)

    def add(self, piece: str, label: str | None = None, *, at: int | None = None) -> int:
        """Append ``piece``; with ``label``, mark it (or its part from ``at``) and return
        the span's index."""
        start = len(self.text)
        self.text += piece
        if label is None:
            return -1
        self.spans.append((start if at is None else start + at, len(self.text), label))
        return len(self.spans) - 1


def make_brief(seed: int, *, reasons: int = 4, evidence_per_reason: int = 2) -> Brief:
    """One brief: about 200 words at the defaults (55 a reason with three pieces of evidence)."""
    rng = random.Random(seed)
    city, policy = rng.choice(CITIES), rng.choice(POLICIES)
    count = ORDINALS[min(reasons, len(ORDINALS) + 1) - 2] if reasons >= 2 else str(reasons)
    brief = Brief("")
    brief.add(f"{city} Should {policy.title()}: {count.title()} Reasons\n\n")
    claim = brief.add(f"{city} should {policy} before the end of next year.", "MajorClaim")
    brief.add(f" The case rests on {count} reasons, each backed by evidence.\n\n")
    for r in range(reasons):
        subject = rng.choice(SUBJECTS)
        brief.add(f"{r + 1}. ")
        reason = brief.add(f"{subject} {rng.choice(VERBS)} in {city}.", "Reason")
        brief.relations.append((reason, claim, "supports"))
        brief.add("\n")
        for e in range(evidence_per_reason):
            number = rng.randint(2, 98)
            amount = rng.randint(1, 900)
            source = rng.choice(SOURCES)
            year = rng.randint(2015, 2025)
            kind = rng.random()
            if kind < 0.55:
                ev = brief.add(f"{subject} figures fell by {number} percent over {amount} days",
                               "Evidence")
                brief.add(f" ({source}, {year}).")
            elif kind < 0.8:
                ev = brief.add(f"A survey of {amount},{number:03d} people found that {number} "
                               f"percent agree", "Evidence")
                brief.add(f", according to the {source}.")
            else:
                ev = brief.add("\"The situation cannot go on like this,\"", "Evidence")
                brief.add(f" an official told the {source} ({source}, {year}).")
            brief.relations.append((ev, reason, "evidence_for"))
            if e + 1 < evidence_per_reason:
                brief.add(" ")
        if rng.random() < 0.5:
            brief.add(" " + rng.choice(FILLER))
        brief.add("\n\n")
    brief.add(f"The council should vote on this in the autumn. {rng.choice(FILLER)}\n")
    return brief


def brief_of_words(seed: int, words: int) -> Brief:
    """A brief of about ``words`` words (reasons with three pieces of evidence each)."""
    reasons = max(2, round(words / 55))
    return make_brief(seed, reasons=reasons, evidence_per_reason=3)
