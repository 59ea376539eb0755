"""Rules the database itself enforces, on SQLite and PostgreSQL alike."""

import pytest
from django.db import IntegrityError, transaction

from annotator.models import AnnotationSet, Relation, Span
from tests.factories import AnnotationSetFactory, DocumentFactory, SpanFactory, UserFactory


def _label(project, name="Claim"):
    return project.span_labels.get(name=name)


@pytest.mark.django_db
def test_span_must_start_before_it_ends(project, document):
    aset = AnnotationSetFactory(document=document)
    for start, end in [(5, 5), (6, 5)]:
        with pytest.raises(IntegrityError), transaction.atomic():
            Span.objects.create(annotation_set=aset, label=_label(project), start=start, end=end)
    assert aset.spans.count() == 0


@pytest.mark.django_db
def test_one_annotation_set_per_annotator_per_document(document):
    user = UserFactory()
    AnnotationSet.objects.create(document=document, annotator=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        AnnotationSet.objects.create(document=document, annotator=user)
    assert document.annotation_sets.count() == 1


@pytest.mark.django_db
def test_one_gold_set_per_document_and_gold_has_no_annotator(document):
    AnnotationSet.objects.create(document=document, is_gold=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        AnnotationSet.objects.create(document=document, is_gold=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        AnnotationSet.objects.create(document=document, is_gold=True, annotator=UserFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        AnnotationSet.objects.create(document=document, is_gold=False, annotator=None)
    assert document.annotation_sets.count() == 1


@pytest.mark.django_db
def test_relation_endpoints_must_be_in_the_relations_set(project, document):
    mine = AnnotationSetFactory(document=document)
    theirs = AnnotationSetFactory(document=document)
    a = SpanFactory(annotation_set=mine, start=0, end=5)
    b = SpanFactory(annotation_set=mine, start=6, end=10)
    foreign = SpanFactory(annotation_set=theirs, start=6, end=10)
    supports = project.relation_types.get(name="supports")
    Relation.objects.create(annotation_set=mine, source=a, target=b, type=supports)
    with pytest.raises(IntegrityError), transaction.atomic():
        Relation.objects.create(annotation_set=mine, source=a, target=foreign, type=supports)
    with pytest.raises(IntegrityError), transaction.atomic():
        Relation.objects.create(annotation_set=theirs, source=a, target=b, type=supports)
    # Moving an existing relation's endpoint into another set is refused too.
    relation = mine.relations.get()
    relation.target = foreign
    with pytest.raises(IntegrityError), transaction.atomic():
        relation.save()
    assert Relation.objects.count() == 1


@pytest.mark.django_db
def test_relation_cannot_link_a_span_to_itself(project):
    span = SpanFactory(annotation_set=AnnotationSetFactory(document=DocumentFactory(
        project=project)))
    with pytest.raises(IntegrityError), transaction.atomic():
        Relation.objects.create(annotation_set=span.annotation_set, source=span, target=span,
                                type=project.relation_types.get(name="attacks"))


@pytest.mark.django_db
def test_hotkeys_are_unique_within_a_project(project):
    claim = project.span_labels.get(name="Claim")
    claim.hotkey = "m"  # MajorClaim's key
    with pytest.raises(IntegrityError), transaction.atomic():
        claim.save()
