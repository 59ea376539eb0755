"""The recommender learned from a project: spans by a CRF, relations by a classifier.

Design note — spans as BIO with overlaps. Each line of a brief (a paragraph, a
heading, a numbered item) is one sequence of word tokens
(:func:`segments.word_tokens`), tagged ``B-Label``, ``I-Label`` or ``O`` by a
linear-chain CRF (CRFsuite, Okazaki 2007, through python-crfsuite; L-BFGS with
L1 and L2 penalties). BIO cannot hold two spans on one token, so when a training
set has overlapping or nested spans, the longer span (then the earlier) keeps its
tokens and the other is left out of that sequence; :attr:`TrainingReport.spans_left_out`
counts them. A span that crosses a line boundary is cut there. The features of a
token are its word, shape and affixes, its neighbours' words, where it stands
(sentence and line start, numbered item, inside brackets or quotes, position in the
brief), and the role the structure-cue recommender gives it: the model learns how
far this project's annotators follow the cues, and learns the rest from their work.
A span's confidence is the mean of its tokens' marginal probabilities.

Relations: every ordered pair of spans of a document (of the nearest
:data:`PAIR_WINDOW` spans on either side in a long brief) is one example, of class
``none`` or of its relation type, for a multinomial logistic regression
(scikit-learn) on the two labels, their distance and order, whether they share a
line or a sentence, whether the target is the first or the nearest span of its
label, the source's first word and the cue recommender's relation between them.
A pair becomes a suggestion when its most probable class is a type the schema
allows there with probability at least :data:`RELATION_THRESHOLD`; each span then
keeps its most probable outgoing relation (argument structures are mostly trees).
The classifier's weights are stored as plain numbers, so that suggesting needs
neither scikit-learn nor NumPy, only python-crfsuite.
"""

from __future__ import annotations

import json
import math
import os
import struct
import tempfile
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from annotator.formats.schema import SchemaSpec

from .cues import CueRecommender
from .segments import lines, sentences, word_tokens
from .types import (
    AnnotatedDocument,
    Endpoint,
    RecommenderError,
    RelationSuggestion,
    SpanSuggestion,
    Suggestions,
)

__all__ = ["LearnedModel", "TrainingReport", "train_model"]

#: Pairs of spans further apart than this (in spans, in start order) are not
#: considered in a brief with more spans than twice this.
PAIR_WINDOW = 25
#: A pair's most probable type must reach this probability to be suggested.
RELATION_THRESHOLD = 0.4
#: CRF training: L-BFGS iterations and penalties. 60 iterations reach a plateau on
#: the demo-like briefs of benchmarks/suggestions.py and keep 1,000 briefs under a minute.
CRF_ITERATIONS = 60
CRF_C1 = 0.05
CRF_C2 = 0.01
#: Features seen fewer times than this are dropped: a smaller model, no overfitting to
#: one-off words.
CRF_MIN_FREQUENCY = 2
_MAGIC = b"WSM1"


@dataclass
class TrainingReport:
    documents: int = 0
    sequences: int = 0
    tokens: int = 0
    spans: int = 0
    spans_left_out: int = 0
    relation_pairs: int = 0
    seconds: float = 0.0
    labels: list[str] = field(default_factory=list)
    relation_types: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- features


def _shape(word: str) -> str:
    if word.isdigit():
        return "d"
    if word.isupper() and len(word) > 1:
        return "X"
    if word[:1].isupper():
        return "Xx"
    if word.isalpha():
        return "x"
    if any(c.isdigit() for c in word):
        return "xd"
    return "p"


def _bucket(value: int, edges: Sequence[int]) -> int:
    return bisect_right(edges, value)


@dataclass
class _Line:
    tokens: list[tuple[int, int]]
    features: list[list[str]]


class _Reading:
    """A brief read once: its lines' tokens and features, and the cue recommender's view."""

    def __init__(self, text: str, schema: SchemaSpec):
        self.text = text
        cues = CueRecommender().suggest(text, schema)
        self.cue_relations = cues.relations
        sents = sentences(text)
        sent_starts = [s.start for s in sents]
        all_lines = lines(text)
        n_lines = max(len(all_lines), 1)
        # The cue role covering each position: a sorted list of cue spans.
        cue_spans = sorted(cues.spans, key=lambda s: (s.start, -s.end))
        self.lines: list[_Line] = []
        for number, (lo, hi) in enumerate(all_lines):
            toks = word_tokens(text, lo, hi)
            words = [text[a:b] for a, b in toks]
            lower = [w.lower() for w in words]
            numbered = len(words) > 1 and words[0].isdigit() and words[1] in ".)"
            where = f"line={_bucket(number, (1, 2, 3, 6, 12))}"
            rel = f"pos={min(9, 10 * number // n_lines)}"
            feats = []
            depth = 0
            quoted = False
            for i, (a, _b) in enumerate(toks):
                w = lower[i]
                s_index = bisect_right(sent_starts, a) - 1
                sent_start = s_index >= 0 and sents[s_index].start == a
                f = [
                    "b", f"w={w}", f"s3={w[-3:]}", f"p3={w[:3]}", f"sh={_shape(words[i])}",
                    where, rel,
                    f"w-1={lower[i - 1] if i else '<l>'}",
                    f"w+1={lower[i + 1] if i + 1 < len(words) else '</l>'}",
                    f"w-2={lower[i - 2] if i > 1 else '<l>'}",
                    f"w+2={lower[i + 2] if i + 2 < len(words) else '</l>'}",
                ]
                if sent_start:
                    f.append("sent_start")
                    nth = s_index - bisect_right(sent_starts, lo - 1) + 1
                    f.append(f"sent_in_line={min(nth, 3)}")
                if i == 0:
                    f.append("line_start")
                if numbered:
                    f.append("numbered_line")
                if w == "(":
                    depth += 1
                if depth > 0:
                    f.append("in_brackets")
                if w in ('"', "“", "”"):
                    quoted = not quoted if w == '"' else w == "“"
                if quoted:
                    f.append("in_quotes")
                if w == ")":
                    depth = max(depth - 1, 0)
                for cue in cue_spans:
                    if cue.start > a:
                        break
                    if cue.end > a:
                        role = f"cue={cue.label}"
                        f.append(role)
                        f.append(f"{role}|{'B' if cue.start == a else 'I'}")
                        f.append(f"cuewhy={cue.cue.split(' ')[0]}")
                        break
                feats.append(f)
            self.lines.append(_Line(toks, feats))


def _tags(line: _Line, spans: Sequence[Endpoint]) -> tuple[list[str], int]:
    """BIO tags of a line's tokens for ``spans``; the number of spans left out (overlaps)."""
    tags = ["O"] * len(line.tokens)
    starts = [a for a, _ in line.tokens]
    lo = line.tokens[0][0] if line.tokens else 0
    hi = line.tokens[-1][1] if line.tokens else 0
    left_out = 0
    for span in sorted(spans, key=lambda s: (-(s.end - s.start), s.start)):
        if span.end <= lo or span.start >= hi:
            continue
        first = bisect_right(starts, span.start - 1)
        covered = [k for k in range(first, len(starts)) if starts[k] < span.end
                   and line.tokens[k][1] > span.start]
        if not covered:
            continue
        if any(tags[k] != "O" for k in covered):
            left_out += 1
            continue
        for n, k in enumerate(covered):
            tags[k] = ("B-" if n == 0 else "I-") + span.label
    return tags, left_out


def _decode(line: _Line, tags: Sequence[str]) -> list[tuple[int, int, str, list[int]]]:
    """Spans of a tagged line: (start, end, label, token indices); a stray I- begins one."""
    out = []
    current = None
    for k, tag in enumerate(tags):
        kind, _, label = tag.partition("-")
        if kind == "I" and current is not None and current[2] == label:
            current[3].append(k)
            continue
        if current is not None:
            out.append(current)
            current = None
        if kind in ("B", "I"):
            current = [line.tokens[k][0], 0, label, [k]]
    if current is not None:
        out.append(current)
    return [(c[0], line.tokens[c[3][-1]][1], c[2], c[3]) for c in out]


# --------------------------------------------------------------------------- relation pairs


def _pair_features(text: str, spans: Sequence[Endpoint], i: int, j: int, sent_starts,
                   line_starts, cue_links: dict) -> list[str]:
    s, t = spans[i], spans[j]
    distance = j - i
    sign = "+" if distance > 0 else "-"
    magnitude = _bucket(abs(distance), (2, 3, 4, 6, 9, 15))
    same_line = bisect_right(line_starts, s.start) == bisect_right(line_starts, t.start)
    same_sentence = bisect_right(sent_starts, s.start) == bisect_right(sent_starts, t.start)
    first_of_label = all(spans[k].label != t.label for k in range(j))
    nearest_before = t.start < s.start and all(
        spans[k].label != t.label for k in range(j + 1, i))
    nearest_after = t.start > s.start and all(
        spans[k].label != t.label for k in range(i + 1, j))
    first_word = text[s.start:s.end].split(maxsplit=1)[0].lower() if s.end > s.start else ""
    pair = f"{s.label}>{t.label}"
    f = ["b", f"src={s.label}", f"tgt={t.label}", f"pair={pair}",
         f"dist={sign}{magnitude}", f"pair|dist={pair}|{sign}{magnitude}",
         f"src_word={first_word}"]
    if same_line:
        f += ["same_line", f"pair|same_line={pair}"]
    if same_sentence:
        f.append("same_sentence")
    if first_of_label:
        f += ["tgt_first_of_label", f"pair|tgt_first={pair}"]
    if nearest_before:
        f += ["tgt_nearest_before", f"pair|nearest_before={pair}"]
    if nearest_after:
        f += ["tgt_nearest_after", f"pair|nearest_after={pair}"]
    cue = cue_links.get((i, j))
    if cue:
        f += [f"cue={cue}", f"pair|cue={pair}|{cue}"]
    return f


def _pairs(text: str, spans: Sequence[Endpoint], cue_relations) -> list[tuple[int, int, list]]:
    """The candidate pairs ``(i, j, features)`` of spans sorted by start."""
    sent_starts = [s.start for s in sentences(text)]
    line_starts = [a for a, _ in lines(text)]
    # The cue recommender's links, carried to the spans that overlap their ends.
    index_of = {}
    for k, s in enumerate(spans):
        index_of.setdefault((s.start, s.end), k)

    def overlapping(e: Endpoint) -> int | None:
        if (e.start, e.end) in index_of:
            return index_of[(e.start, e.end)]
        return next((k for k, s in enumerate(spans) if s.start < e.end and e.start < s.end),
                    None)

    cue_links = {}
    for rel in cue_relations:
        a, b = overlapping(rel.source), overlapping(rel.target)
        if a is not None and b is not None and a != b:
            cue_links[(a, b)] = rel.type
    window = len(spans) if len(spans) <= 2 * PAIR_WINDOW else PAIR_WINDOW
    out = []
    for i in range(len(spans)):
        for j in range(max(0, i - window), min(len(spans), i + window + 1)):
            if i != j:
                out.append((i, j, _pair_features(text, spans, i, j, sent_starts, line_starts,
                                                 cue_links)))
    return out


# --------------------------------------------------------------------------- the model


class _Trainer:
    """python-crfsuite's trainer, reporting its iterations."""

    def __new__(cls, on_iteration: Callable[[int], None]):
        import pycrfsuite

        class Trainer(pycrfsuite.Trainer):
            def on_iteration(self, log, info):
                on_iteration(int(info.get("num", 0)))

        return Trainer(verbose=False)


class LearnedModel:
    """A trained model: apply it with :meth:`suggest`, store it with :meth:`to_bytes`."""

    name = "model"

    def __init__(self, crf: bytes, relations: dict, meta: dict):
        self._crf = crf
        self._relations = relations
        self.meta = meta
        self._tagger = None

    # --- storage

    def to_bytes(self) -> bytes:
        head = json.dumps({"relations": self._relations, "meta": self.meta},
                          separators=(",", ":")).encode()
        return _MAGIC + struct.pack(">I", len(head)) + head + self._crf

    @classmethod
    def from_bytes(cls, data: bytes) -> LearnedModel:
        if data[:4] != _MAGIC:
            raise RecommenderError("the stored model is not a Warrant suggestion model")
        (size,) = struct.unpack(">I", data[4:8])
        head = json.loads(data[8:8 + size])
        return cls(bytes(data[8 + size:]), head["relations"], head["meta"])

    def _crf_tagger(self):
        if self._tagger is None:
            import pycrfsuite

            tagger = pycrfsuite.Tagger()
            tagger.open_inmemory(self._crf)
            self._tagger = tagger
        return self._tagger

    # --- applying

    def suggest(
        self, text: str, schema: SchemaSpec, *, drawn: tuple[Endpoint, ...] = ()
    ) -> Suggestions:
        names = set(schema.label_names())
        reading = _Reading(text, schema)
        spans: list[SpanSuggestion] = []
        if self._crf:
            tagger = self._crf_tagger()
            for line in reading.lines:
                if not line.tokens:
                    continue
                tagger.set(line.features)
                tags = tagger.tag()
                for start, end, label, tokens in _decode(line, tags):
                    if label not in names:
                        continue
                    confidence = sum(tagger.marginal(tags[k], k) for k in tokens) / len(tokens)
                    spans.append(SpanSuggestion(label, start, end, confidence, self.name, "CRF"))
        return Suggestions(spans, self._link(text, schema, spans, drawn, reading))

    def _link(self, text, schema, spans, drawn, reading) -> list[RelationSuggestion]:
        weights = self._relations
        if not weights.get("classes") or len(weights["classes"]) < 2:
            return []
        confidence = {s.endpoint: s.confidence for s in spans}
        for e in drawn:
            confidence[e] = 1.0
        ends = sorted(confidence, key=lambda e: (e.start, -e.end, e.label))
        types = {t.name: t for t in schema.relation_types}
        best: dict[int, tuple[float, str, int]] = {}
        for i, j, feats in _pairs(text, ends, reading.cue_relations):
            probs = _softmax(weights, feats)
            k = max(range(len(probs)), key=probs.__getitem__)
            rtype = weights["classes"][k]
            if rtype == "none" or probs[k] < RELATION_THRESHOLD or rtype not in types:
                continue
            src, tgt = ends[i], ends[j]
            spec = types[rtype]
            if not (spec.allows(src.label, tgt.label)
                    or (not spec.directed and spec.allows(tgt.label, src.label))):
                continue
            if i not in best or probs[k] > best[i][0]:
                best[i] = (probs[k], rtype, j)
        out = []
        for i, (p, rtype, j) in sorted(best.items()):
            src, tgt = ends[i], ends[j]
            if src in confidence and tgt in confidence:
                out.append(RelationSuggestion(rtype, src, tgt, p * min(confidence[src],
                                                                        confidence[tgt]),
                                              self.name, "classifier"))
        return out


def _softmax(weights: dict, feats: list[str]) -> list[float]:
    coef = weights["coef"]
    scores = []
    for k, bias in enumerate(weights["intercept"]):
        row = coef[k]
        scores.append(bias + sum(row.get(f, 0.0) for f in feats))
    if weights.get("binary"):
        z = scores[0]
        p = 1.0 / (1.0 + math.exp(-z)) if z > -50 else 0.0
        return [1.0 - p, p]
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def train_model(
    documents: Sequence[AnnotatedDocument],
    schema: SchemaSpec,
    *,
    progress: Callable[[float], None] | None = None,
    iterations: int = CRF_ITERATIONS,
) -> tuple[LearnedModel, TrainingReport]:
    """Train the span CRF and the relation classifier on ``documents``.

    Parameters
    ----------
    documents : sequence of AnnotatedDocument
        One per annotation set to learn from (a document annotated twice comes twice).
    schema : SchemaSpec
        Spans and relations outside it are left out.
    progress : callable, optional
        Called with the fraction done (0-1) now and then.

    Returns
    -------
    (LearnedModel, TrainingReport)
    """
    if not documents:
        raise ValueError("nothing to learn from: no annotated documents")
    began = time.perf_counter()
    report = TrainingReport(documents=len({d.group or id(d) for d in documents}))
    names = set(schema.label_names())
    types = {t.name for t in schema.relation_types}
    say = progress or (lambda fraction: None)
    readings: dict[str, _Reading] = {}

    def read(text: str) -> _Reading:
        if text not in readings:
            readings[text] = _Reading(text, schema)
        return readings[text]

    trainer = _Trainer(lambda n: say(0.3 + 0.5 * min(n, iterations) / iterations))
    pair_x: list[list[str]] = []
    pair_y: list[str] = []
    labels: set[str] = set()
    for number, doc in enumerate(documents):
        reading = read(doc.text)
        spans = [s for s in doc.spans if s.label in names]
        report.spans += len(spans)
        for line in reading.lines:
            if not line.tokens:
                continue
            tags, left_out = _tags(line, spans)
            report.spans_left_out += left_out
            labels.update(t[2:] for t in tags if t != "O")
            trainer.append(line.features, tags)
            report.sequences += 1
            report.tokens += len(tags)
        # Relation examples over the set's own spans.
        order = sorted(range(len(doc.spans)), key=lambda k: (doc.spans[k].start,
                                                               -doc.spans[k].end))
        rank = {k: n for n, k in enumerate(order)}
        ends = [doc.spans[k] for k in order]
        linked = {}
        for src, tgt, rtype in doc.relations:
            if rtype in types and src in rank and tgt in rank:
                linked[(rank[src], rank[tgt])] = rtype
        for i, j, feats in _pairs(doc.text, ends, reading.cue_relations):
            pair_x.append(feats)
            pair_y.append(linked.get((i, j), "none"))
        if number % 50 == 0:
            say(0.3 * (number + 1) / len(documents))
    report.labels = sorted(labels)
    report.relation_pairs = len(pair_x)
    crf = b""
    if labels:
        trainer.set_params({"c1": CRF_C1, "c2": CRF_C2, "max_iterations": iterations,
                            "feature.possible_transitions": True,
                            "feature.minfreq": CRF_MIN_FREQUENCY})
        with tempfile.TemporaryDirectory(prefix="warrant-crf-") as folder:
            path = os.path.join(folder, "model.crfsuite")
            trainer.train(path)
            with open(path, "rb") as handle:
                crf = handle.read()
    say(0.8)
    relations = _train_relations(pair_x, pair_y)
    report.relation_types = [c for c in relations.get("classes", []) if c != "none"]
    report.seconds = time.perf_counter() - began
    say(1.0)
    meta = {"labels": report.labels, "relation_types": report.relation_types,
            "documents": report.documents, "sets": len(documents)}
    return LearnedModel(crf, relations, meta), report


def _train_relations(x: list[list[str]], y: list[str]) -> dict:
    """Fit the pair classifier; its weights as plain numbers (empty with one class only)."""
    classes = sorted(set(y))
    if len(classes) < 2:
        return {}
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform({f: 1 for f in feats} for feats in x)
    classifier = LogisticRegression(max_iter=300, C=1.0)
    classifier.fit(matrix, y)
    names = vectorizer.get_feature_names_out()
    coef = []
    for row in classifier.coef_:
        coef.append({str(names[k]): round(float(w), 5) for k, w in enumerate(row)
                     if abs(w) >= 1e-4})
    return {"classes": [str(c) for c in classifier.classes_],
            "intercept": [float(b) for b in classifier.intercept_],
            "coef": coef, "binary": len(classifier.classes_) == 2}
