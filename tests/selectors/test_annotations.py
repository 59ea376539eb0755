"""Outline, warnings, text segments and queues of the annotation page."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import PermissionDenied

from annotator.selectors.annotations import (
    BLOCK_CHARS,
    RelationRow,
    SpanRow,
    annotation_queue,
    annotation_queue_next,
    annotation_set_access,
    argument_outline,
    segments,
    text_blocks,
)
from tests.factories import AnnotationSetFactory, DocumentFactory

LABELS = {1: "MajorClaim", 2: "Claim", 3: "Reason", 4: "Evidence"}
TYPES = {1: "supports", 2: "attacks", 3: "evidence_for"}


def span(i, label, start):
    return SpanRow(i, label, start, start + 5)


def test_outline_is_a_tree_from_the_major_claim_with_attacks_marked():
    spans = [span(1, 1, 0), span(2, 3, 10), span(3, 4, 20), span(4, 2, 30), span(5, 2, 40)]
    relations = [RelationRow(1, 2, 1, 1), RelationRow(2, 3, 2, 3), RelationRow(3, 4, 1, 2)]
    outline = argument_outline(spans, relations, LABELS, TYPES)
    assert [(r.span_id, r.depth, r.via, r.attack) for r in outline.rows] == [
        (1, 0, "", False), (2, 1, "supports", False), (3, 2, "evidence_for", False),
        (4, 1, "attacks", True),
    ]
    assert outline.unlinked == [5]
    assert outline.warnings == []


def test_warnings_point_at_the_spans():
    spans = [span(1, 3, 0), span(2, 4, 10), span(3, 2, 20)]
    outline = argument_outline(spans, [], LABELS, TYPES)
    assert [(w.message.split(":")[0].rstrip("."), w.span_ids) for w in outline.warnings] == [
        ("No major claim", ()),
        ("A reason that supports nothing", (1,)),
        ("Evidence linked to nothing", (2,)),
    ]


def test_a_cycle_is_found_and_the_outline_stays_finite():
    spans = [span(1, 1, 0), span(2, 2, 10), span(3, 3, 20)]
    relations = [RelationRow(1, 2, 3, 1), RelationRow(2, 3, 2, 1), RelationRow(3, 2, 1, 1)]
    outline = argument_outline(spans, relations, LABELS, TYPES)
    cycles = [w for w in outline.warnings if w.message.startswith("A cycle")]
    assert [c.span_ids for c in cycles] == [(2, 3)]
    assert any(r.repeat for r in outline.rows)
    assert {r.span_id for r in outline.rows} == {1, 2, 3}


def test_a_long_chain_does_not_hit_the_recursion_limit():
    n = 5000
    spans = [span(i, 2, i * 10) for i in range(1, n + 1)]
    relations = [RelationRow(i, i + 1, i, 1) for i in range(1, n)]
    outline = argument_outline(spans, relations, LABELS, TYPES)
    assert outline.rows[-1].depth == n - 1


def test_text_blocks_cover_the_text_and_cut_at_line_ends():
    text = ("word " * 400 + "\n") * 5
    blocks = text_blocks(text)
    assert blocks[0][0] == 0 and blocks[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(blocks))
    assert all(text[end - 1] in " \n" for _, end in blocks[:-1])
    assert all(end - start < 3 * BLOCK_CHARS for start, end in blocks)


def test_segments_split_at_span_boundaries_and_give_nested_spans_their_own_lane():
    text = "abcdefghij"
    outer, inner, crossing = SpanRow(1, 1, 0, 6), SpanRow(2, 2, 2, 4), SpanRow(3, 3, 5, 9)
    segs = segments(text, (0, 10), [outer, inner, crossing])
    assert [(s.start, s.end) for s in segs] == [(0, 2), (2, 4), (4, 5), (5, 6), (6, 9), (9, 10)]
    lanes = [{lane: sp.id for lane, sp in s.lanes.items()} for s in segs]
    assert lanes == [{0: 1}, {0: 1, 1: 2}, {0: 1}, {0: 1, 1: 3}, {1: 3}, {}]
    assert [[sp.id for sp in s.starting] for s in segs] == [[1], [2], [], [3], [], []]


@pytest.mark.django_db
def test_blind_project_access_and_read_only_for_managers(project, members):
    document = DocumentFactory(project=project)
    own = AnnotationSetFactory(document=document, annotator=members["annotator"])
    access = annotation_set_access(user=members["annotator"], project=project,
                                   document=document)
    assert access.own and access.editable
    seen = annotation_set_access(user=members["manager"], project=project, document=document,
                                 set_id=own.pk)
    assert seen.annotation_set == own and not seen.editable
    with pytest.raises(PermissionDenied):
        annotation_set_access(user=members["viewer"], project=project, document=document,
                              set_id=own.pk)


@pytest.mark.django_db
def test_queue_next_wraps_and_skips_submitted(project, members):
    docs = [DocumentFactory(project=project, position=i) for i in range(3)]
    sets = [AnnotationSetFactory(document=d, annotator=members["annotator"]) for d in docs]
    sets[0].status = "submitted"
    sets[0].save()
    queue = annotation_queue(user=members["annotator"], project=project)
    assert [s.pk for s in queue] == [s.pk for s in sets]
    assert annotation_queue_next(queue=queue, current_document_id=docs[2].pk) == sets[1]
    assert annotation_queue_next(queue=queue, current_document_id=docs[1].pk) == sets[2]


def test_a_writes_own_set_read_in_sql_is_the_orms_row(project, members):
    """The annotation page's writes read the user's set, its document, project, role and
    labels in one written-out query on PostgreSQL (issue 12.5): the same objects as the
    ORM's query, field for field, with the same fields left unread."""
    from annotator.models import SpanLabel
    from annotator.selectors import annotations as sel

    document = DocumentFactory(project=project, text="Sanctions work. Prices rose.",
                               meta={"source": "wire", "n": [1, 2]})
    aset = AnnotationSetFactory(document=document, annotator=members["annotator"])
    SpanLabel.objects.filter(project=project, name="Claim").update(
        attributes={"stance": {"type": "choice", "choices": ["for", "against"]}})
    user = members["annotator"]
    found = sel.own_annotation_set(user=user, slug=project.slug, document_id=document.pk)
    orm = sel._own_set_orm(user, project.slug, document.pk)
    for mine, theirs in ((found, orm), (found.document, orm.document),
                         (found.document.project, orm.document.project)):
        assert type(mine) is type(theirs) and mine.pk == theirs.pk
        assert mine.get_deferred_fields() == theirs.get_deferred_fields()
        for f in type(mine)._meta.concrete_fields:
            if f.attname not in mine.get_deferred_fields():
                assert getattr(mine, f.attname) == getattr(theirs, f.attname), f.attname
    assert found.document.meta == {"source": "wire", "n": [1, 2]}
    assert user._warrant_roles[project.pk] == orm.member_role == "annotator"
    labels = project.span_labels.order_by("position", "name")
    assert [(lab.pk, lab.name, lab.attributes) for lab in
            found.document.project._span_labels_by_id.values()] == [
        (lab.pk, lab.name, lab.attributes) for lab in labels]
    assert found.pk == aset.pk
    # Nobody else's set, and no set of a brief in another project under this slug.
    assert sel.own_annotation_set(user=members["curator"], slug=project.slug,
                                  document_id=document.pk) is None
    assert sel.own_annotation_set(user=user, slug="elsewhere", document_id=document.pk) is None
