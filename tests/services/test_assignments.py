from collections import Counter

import pytest

from annotator.models import AnnotationSet
from annotator.services.assignments import assignment_csv, assignments_make
from annotator.services.errors import WarrantError
from tests.factories import DocumentFactory, MembershipFactory, UserFactory


def _class(project, students: int, documents: int):
    for i in range(students):
        MembershipFactory(project=project, user=UserFactory(username=f"s{i:02d}"),
                          role="annotator")
    return [DocumentFactory(project=project) for _ in range(documents)]


def _loads(project):
    return Counter(AnnotationSet.objects.filter(document__project=project, is_gold=False)
                   .values_list("annotator__username", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("students, documents, k", [(3, 10, 2), (5, 7, 3), (7, 13, 2), (4, 4, 4)])
def test_each_document_gets_k_distinct_annotators_with_loads_within_one(project, students,
                                                                        documents, k):
    _class(project, students, documents)
    created = assignments_make(project=project, per_document=k, seed=3)
    assert len(created) == documents * k
    per_doc = Counter(s.document_id for s in created)
    assert set(per_doc.values()) == {k}
    pairs = {(s.document_id, s.annotator_id) for s in created}
    assert len(pairs) == len(created)  # distinct annotators per document
    loads = _loads(project)
    assert len(loads) == students
    assert max(loads.values()) - min(loads.values()) <= 1


@pytest.mark.django_db
def test_existing_assignments_are_kept_and_a_rerun_adds_nothing(project):
    docs = _class(project, 3, 4)
    AnnotationSet.objects.create(document=docs[0], annotator=project.memberships.get(
        user__username="s02").user, status="submitted")
    assignments_make(project=project, per_document=2)
    assert AnnotationSet.objects.get(document=docs[0], annotator__username="s02").status \
        == "submitted"
    assert docs[0].annotation_sets.count() == 2
    assert assignments_make(project=project, per_document=2) == []


@pytest.mark.django_db
def test_same_seed_gives_the_same_table(project):
    _class(project, 4, 6)
    assignments_make(project=project, per_document=2, seed=42)
    first = assignment_csv(project)
    AnnotationSet.objects.all().delete()
    assignments_make(project=project, per_document=2, seed=42)
    assert assignment_csv(project) == first
    assert first.splitlines()[0] == "document,annotator,status,due"


@pytest.mark.django_db
def test_more_annotators_per_document_than_students_is_refused(project):
    _class(project, 2, 3)
    with pytest.raises(WarrantError, match="has 2 annotator"):
        assignments_make(project=project, per_document=3)
    assert AnnotationSet.objects.count() == 0
