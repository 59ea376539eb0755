"""Random annotated documents for the metric tests, and naive reference code."""

from __future__ import annotations

import re

import numpy as np

from annotator.metrics.types import AnnotatorWork, DocumentAnnotations, Relation, Span

WORDS = ("we", "must", "act", "now", "because", "costs", "rise", "and", "data", "show", "it")
LABELS = ("Claim", "Evidence", "Reason")
TYPES = ("supports", "attacks")


def random_documents(
    seed: int,
    *,
    n_documents: int = 6,
    annotators: tuple[str, ...] = ("ann", "ben", "cat"),
    varying: bool = False,
    max_spans: int = 6,
) -> list[DocumentAnnotations]:
    """Small documents with overlapping, nested and jittered spans and relations."""
    rng = np.random.default_rng(seed)
    documents = []
    for d in range(n_documents):
        words = rng.choice(WORDS, size=int(rng.integers(5, 25)))
        seps = rng.choice([" ", "  ", "\n", " \t"], size=len(words))
        text = "".join(w + s for w, s in zip(words, seps, strict=True))
        n = len(text)
        if varying:
            k = int(rng.integers(1, len(annotators) + 1))
            names = sorted(rng.choice(annotators, size=k, replace=False).tolist())
        else:
            names = list(annotators)
        base = []
        for _ in range(int(rng.integers(0, max_spans + 1))):
            start = int(rng.integers(0, n - 1))
            base.append((start, int(rng.integers(start + 1, min(n, start + 15) + 1)),
                         str(rng.choice(LABELS))))
        work = {}
        for name in names:
            spans = []
            for start, end, label in base:
                if rng.random() < 0.2:
                    continue
                if rng.random() < 0.3:
                    start = int(np.clip(start + rng.integers(-2, 3), 0, n - 1))
                    end = int(np.clip(end + rng.integers(-2, 3), start + 1, n))
                if rng.random() < 0.2:
                    label = str(rng.choice(LABELS))
                spans.append(Span(f"T{len(spans) + 1}", start, end, label))
            relations = []
            if len(spans) >= 2:
                for _ in range(int(rng.integers(0, 4))):
                    s, t = rng.choice(len(spans), size=2, replace=False)
                    relations.append(Relation(spans[s].id, spans[t].id, str(rng.choice(TYPES))))
            work[name] = AnnotatorWork(spans, relations)
        documents.append(DocumentAnnotations(f"d{d}", text, work))
    return documents


def naive_categories(text: str, spans: list[Span], unit: str) -> list[str]:
    """Category of every unit, one token (or character) at a time."""
    bounds = ([(m.start(), m.end()) for m in re.finditer(r"\S+", text)] if unit == "token"
              else [(i, i + 1) for i in range(len(text))])
    out = []
    for start, end in bounds:
        labels = sorted({s.label for s in spans if s.start < end and start < s.end})
        out.append("+".join(labels) if labels else "O")
    return out


def reliability_matrix(documents, annotators, unit="token", label=None):
    """(annotators, all units of documents with >= 2 annotators) of category codes, nan missing.

    With ``label``, the value is 1 when the unit's category contains it, else 0.
    """
    columns, names = [], {}
    for doc in documents:
        present = [a for a in annotators if a in doc.work]
        if len(present) < 2:
            continue
        rows = {}
        for a in present:
            cats = naive_categories(doc.text, doc.work[a].spans, unit)
            if label is None:
                rows[a] = [names.setdefault(c, len(names)) for c in cats]
            else:
                rows[a] = [float(label in c.split("+")) for c in cats]
        n_units = len(next(iter(rows.values())))
        block = np.full((len(annotators), n_units), np.nan)
        for i, a in enumerate(annotators):
            if a in rows:
                block[i] = rows[a]
        columns.append(block)
    return np.concatenate(columns, axis=1) if columns else np.zeros((len(annotators), 0))
