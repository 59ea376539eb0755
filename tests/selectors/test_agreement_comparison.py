"""The side-by-side comparison of one document: every stretch's labels per annotator
equal a direct count of the spans over it, with nested and overlapping spans."""

from __future__ import annotations

import random

import pytest

from annotator.models import AnnotationSet, Span, SpanLabel
from annotator.selectors.agreement import agreement_document_comparison
from tests.factories import DocumentFactory, UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(3))
def test_each_stretch_has_the_labels_of_the_spans_over_it(project, seed):
    rng = random.Random(seed)
    text = " ".join(rng.choice(["tariffs", "fell", "so", "prices", "rose"]) for _ in range(80))
    document = DocumentFactory(project=project, text=text, content_hash=f"h{seed}")
    labels = list(SpanLabel.objects.filter(project=project))
    spans = {}
    for name in ("ann", "ben", "cat"):
        aset = AnnotationSet.objects.create(document=document, annotator=UserFactory(
            username=f"{name}{seed}"), status="submitted")
        rows = []
        for _ in range(25):  # overlapping, nested, repeated boundaries
            start = rng.randrange(0, len(text) - 1)
            end = rng.randrange(start + 1, min(len(text), start + 60) + 1)
            rows.append(Span(annotation_set=aset, label=rng.choice(labels), start=start,
                             end=end))
        Span.objects.bulk_create(rows)
        spans[aset.annotator.username] = [(s.start, s.end, s.label.name) for s in rows]
    comparison = agreement_document_comparison(project=project, document=document)
    assert comparison.segments and comparison.segments[-1].end == len(text)
    for seg in comparison.segments:
        for name, mine in spans.items():
            expected = tuple(sorted({lab for a, b, lab in mine if a < seg.end and b > seg.start}))
            assert seg.labels[name] == expected, (seg.start, seg.end, name)
