"""The external recommender: suggestions from a model served elsewhere, over HTTP.

Protocol ``warrant-suggest/1`` (docs/suggestions.md has it with an example
server). Warrant sends one POST with a JSON body::

    {"protocol": "warrant-suggest/1",
     "document": {"id": "brief-171", "text": "..."},
     "schema": {"span_labels": [{"name": "Claim", "description": "..."}],
                "relation_types": [{"name": "supports", "directed": true,
                                    "allowed": [["*", "Claim"]]}]},
     "spans": [{"start": 0, "end": 42, "label": "Claim"}]}

``spans`` are those the annotator has drawn already (their own set's only). The
server answers 200 with::

    {"spans": [{"label": "Claim", "start": 0, "end": 42, "confidence": 0.9,
                "cue": "my-model v3"}],
     "relations": [{"type": "supports", "confidence": 0.7,
                    "source": {"start": 50, "end": 80, "label": "Reason"},
                    "target": {"start": 0, "end": 42, "label": "Claim"}}]}

Offsets are code points of ``text`` (Python ``str`` indices), ``end`` exclusive;
``confidence`` is optional (default 0.5), in [0, 1]; ``relations`` is optional.
An answer that breaks these rules is refused whole with the reason (the first
bad item named), so that a server's bug shows instead of half its suggestions.
Any other status, a body that is not JSON, a connection error or no answer
within the timeout is a :class:`RecommenderError` whose message says which.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from annotator.formats.schema import SchemaSpec

from .types import Endpoint, RecommenderError, RelationSuggestion, SpanSuggestion, Suggestions

__all__ = ["MAX_ANSWER_BYTES", "PROTOCOL", "ExternalRecommender", "parse_answer"]

PROTOCOL = "warrant-suggest/1"
#: An answer larger than this is refused: suggestions for one brief are a few kB.
MAX_ANSWER_BYTES = 5 * 1024 * 1024
#: At most this many suggestions from one answer (a brief has tens of spans, not thousands).
MAX_SUGGESTIONS = 2000


class ExternalRecommender:
    """Posts the text and schema to ``url`` and reads back suggestions."""

    name = "external"

    def __init__(self, url: str, *, timeout: float = 5.0, document_id: str = ""):
        if not url.startswith(("http://", "https://")):
            raise RecommenderError(f"the external recommender's address {url!r} is not "
                                   "an http:// or https:// URL")
        self.url = url
        self.timeout = timeout
        self.document_id = document_id

    def suggest(
        self, text: str, schema: SchemaSpec, *, drawn: tuple[Endpoint, ...] = ()
    ) -> Suggestions:
        body = json.dumps({
            "protocol": PROTOCOL,
            "document": {"id": self.document_id, "text": text},
            "schema": {
                "span_labels": [{"name": lab.name, "description": lab.description}
                                for lab in schema.span_labels],
                "relation_types": [{"name": t.name, "directed": t.directed,
                                    "allowed": [list(p) for p in t.allowed]}
                                   for t in schema.relation_types],
            },
            "spans": [e.to_dict() for e in drawn],
        }).encode("utf-8")
        request = urllib.request.Request(
            self.url, data=body, method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     "User-Agent": "Warrant suggestions"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode("utf-8", "replace").strip().splitlines()
            raise RecommenderError(
                f"the external recommender answered HTTP {exc.code}"
                + (f": {detail[0][:200]}" if detail else "")) from None
        except TimeoutError:
            raise RecommenderError(
                f"the external recommender did not answer within {self.timeout:g} s") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise RecommenderError(
                    f"the external recommender did not answer within {self.timeout:g} s"
                ) from None
            raise RecommenderError(
                f"cannot reach the external recommender at {self.url}: {reason}") from None
        except OSError as exc:
            raise RecommenderError(
                f"cannot reach the external recommender at {self.url}: {exc}") from None
        if len(raw) > MAX_ANSWER_BYTES:
            raise RecommenderError(
                f"the external recommender's answer is larger than {MAX_ANSWER_BYTES} bytes")
        try:
            answer = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RecommenderError(
                f"the external recommender's answer is not JSON ({exc})") from None
        return parse_answer(answer, text, schema, recommender=self.name)


def _number(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecommenderError(f"the external recommender's {what} is not a whole number")
    return value


def _confidence(item: dict, what: str) -> float:
    value = item.get("confidence", 0.5)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise RecommenderError(f"the external recommender's {what} has a confidence "
                               "outside [0, 1]")
    return float(value)


def _endpoint(item, text: str, labels: set[str], what: str) -> Endpoint:
    if not isinstance(item, dict):
        raise RecommenderError(f"the external recommender's {what} is not an object")
    start = _number(item.get("start"), f"{what}'s start")
    end = _number(item.get("end"), f"{what}'s end")
    label = item.get("label")
    if label not in labels:
        raise RecommenderError(f"the external recommender's {what} has label {label!r}, "
                               "which the project's schema does not have")
    if not 0 <= start < end <= len(text):
        raise RecommenderError(f"the external recommender's {what} {start}-{end} is outside "
                               f"the text (0-{len(text)})")
    return Endpoint(start, end, label)


def parse_answer(answer, text: str, schema: SchemaSpec, *, recommender: str) -> Suggestions:
    """Check a ``warrant-suggest/1`` answer and turn it into :class:`Suggestions`.

    >>> from annotator.formats.schema import load_schema
    >>> got = parse_answer({"spans": [{"label": "Claim", "start": 0, "end": 2}]}, "We act",
    ...                    load_schema("argument"), recommender="external")
    >>> got.spans[0].label, got.spans[0].confidence
    ('Claim', 0.5)
    """
    if not isinstance(answer, dict) or not isinstance(answer.get("spans", None), list):
        raise RecommenderError("the external recommender's answer has no list of spans")
    relations = answer.get("relations", [])
    if not isinstance(relations, list):
        raise RecommenderError("the external recommender's relations are not a list")
    if len(answer["spans"]) + len(relations) > MAX_SUGGESTIONS:
        raise RecommenderError(f"the external recommender sent more than {MAX_SUGGESTIONS} "
                               "suggestions")
    labels = set(schema.label_names())
    types = {t.name: t for t in schema.relation_types}
    spans = []
    for n, item in enumerate(answer["spans"]):
        what = f"span {n + 1}"
        e = _endpoint(item, text, labels, what)
        cue = item.get("cue", "")
        spans.append(SpanSuggestion(e.label, e.start, e.end, _confidence(item, what),
                                    recommender, cue if isinstance(cue, str) else ""))
    out = []
    for n, item in enumerate(relations):
        what = f"relation {n + 1}"
        if not isinstance(item, dict):
            raise RecommenderError(f"the external recommender's {what} is not an object")
        rtype = types.get(item.get("type"))
        if rtype is None:
            raise RecommenderError(f"the external recommender's {what} has type "
                                   f"{item.get('type')!r}, which the schema does not have")
        source = _endpoint(item.get("source"), text, labels, f"{what}'s source")
        target = _endpoint(item.get("target"), text, labels, f"{what}'s target")
        if not (rtype.allows(source.label, target.label)
                or (not rtype.directed and rtype.allows(target.label, source.label))):
            raise RecommenderError(f"the external recommender's {what}: {rtype.name} cannot "
                                   f"link {source.label} to {target.label} in this schema")
        cue = item.get("cue", "")
        out.append(RelationSuggestion(rtype.name, source, target, _confidence(item, what),
                                      recommender, cue if isinstance(cue, str) else ""))
    return Suggestions(spans, out)
