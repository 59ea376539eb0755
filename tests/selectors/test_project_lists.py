"""A project's counts and lists read the sets' own copy of their document's project and
position (migration 0015), kept by the database: they must say exactly what the old
queries through ``document__project`` said, on a project that has lived (issue 12).

Each test compares with the old definition, computed here in Python from the sets
found through their documents, on a fixture with the awkward cases: gold sets (one
final), sets never started, started, submitted, reopened, overdue or not, a member
removed with their work kept, documents out of id order and tied in position, one
document with more assignments than a page, and a second project with the same
annotators.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.urls import reverse

from annotator.models import AnnotationSet, AnnotationStatus, Document
from annotator.selectors.agreement import agreement_submitted_annotators
from annotator.selectors.assignments import AssignmentsInOrder, project_assignments
from annotator.selectors.progress import (
    progress_annotator_names,
    progress_by_annotator,
    progress_by_document,
    progress_documents,
    progress_totals,
)
from annotator.services.annotations import annotation_set_reopen, annotation_set_submit
from annotator.services.members import membership_remove
from tests.factories import DocumentFactory, MembershipFactory, ProjectFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2030, 6, 1)
PAST, FUTURE = dt.date(2030, 1, 1), dt.date(2031, 1, 1)


@pytest.fixture
def lived_in(project, members):
    project.allow_reopen = True
    project.save()
    # Usernames out of id order, so that the order by name is not the order of rows.
    students = [
        MembershipFactory(project=project, user=UserFactory(username=name)).user
        for name in ("zed", "amy", "kim", "bob")
    ]
    zed, amy, kim, bob = students
    # Positions out of id order, two of them tied (the id breaks the tie).
    docs = [
        DocumentFactory(project=project, title=f"Brief {n}", position=pos)
        for n, pos in enumerate([5, 1, 3, 3, 0, 2, 4])
    ]

    def give(doc, user, status="assigned", due=None):
        return AnnotationSet.objects.create(document=doc, annotator=user, status=status, due=due)

    for doc, (a, b, c) in zip(docs, [(zed, amy, kim), (amy, kim, bob), (kim, bob, zed),
                                     (bob, zed, amy), (zed, kim, bob), (amy, bob, zed),
                                     (kim, zed, amy)], strict=True):
        give(doc, a, "submitted", due=PAST)  # submitted late: not overdue
        give(doc, b, "in_progress", due=PAST)  # overdue
        give(doc, c, "assigned", due=FUTURE if doc.position % 2 else None)
    # One document with more assignments than a page of two.
    for user in (members["manager"], members["curator"]):
        give(docs[4], user, "assigned", due=PAST)
    # Gold: never counted as an assignment.
    AnnotationSet.objects.create(document=docs[0], is_gold=True, status="in_progress")
    AnnotationSet.objects.create(document=docs[1], is_gold=True, gold_final=True,
                                 status="submitted")
    # Submitted, then reopened, then submitted and reopened once more.
    again = AnnotationSet.objects.get(document=docs[2], annotator=kim)
    for _ in range(2):
        again = annotation_set_reopen(annotation_set=again, expected_version=again.version)
        if _ == 0:
            again = annotation_set_submit(annotation_set=again, expected_version=again.version)
    # A member who leaves: their untouched assignments go, their work stays.
    leaver = MembershipFactory(project=project, user=UserFactory(username="lea")).user
    give(docs[3], leaver, "in_progress", due=PAST)
    give(docs[5], leaver, "assigned")
    give(docs[6], leaver, "submitted")
    membership_remove(project=project, user=leaver)
    # Another project, the same people: none of this may show.
    other = ProjectFactory(slug="elsewhere")
    for k, user in enumerate(students):
        give(DocumentFactory(project=other, position=k), user,
             ["submitted", "assigned", "in_progress", "submitted"][k], due=PAST)
    return project


def _old_sets(project):
    """The old definition: a project's assignments found through their documents."""
    return AnnotationSet.objects.filter(document__project=project, is_gold=False)


def _tally(rows) -> dict:
    counts = Counter()
    for status, due in rows:
        counts[status] += 1
        counts["overdue"] += due is not None and due < TODAY and status != "submitted"
    return {"assigned": counts["assigned"], "in_progress": counts["in_progress"],
            "submitted": counts["submitted"], "overdue": counts["overdue"]}


def _row(r) -> dict:
    return {"assigned": r.assigned, "in_progress": r.in_progress, "submitted": r.submitted,
            "overdue": r.overdue}


def test_every_set_carries_its_documents_project_and_position(lived_in):
    pairs = AnnotationSet.objects.values_list(
        "project_id", "document__project_id", "document_position", "document__position")
    assert pairs and all(a == b and c == d for a, b, c, d in pairs)
    # A set saved from a stale instance (None in Python) keeps its copy...
    aset = AnnotationSet.objects.filter(project=lived_in).first()
    stale = AnnotationSet(pk=aset.pk, document_id=aset.document_id,
                          annotator_id=aset.annotator_id, status=aset.status, due=aset.due,
                          version=aset.version, created_at=aset.created_at)
    stale.save()
    assert AnnotationSet.objects.filter(pk=aset.pk, project=lived_in).exists()
    # ...and a document that moves takes its sets along.
    Document.objects.filter(pk=aset.document_id).update(position=99)
    assert set(AnnotationSet.objects.filter(document_id=aset.document_id)
               .values_list("document_position", flat=True)) == {99}


def test_progress_counts_equal_the_old_definition(lived_in):
    old = _old_sets(lived_in)
    assert _row(progress_totals(project=lived_in, today=TODAY)) == _tally(
        old.values_list("status", "due"))
    names = list(progress_annotator_names(project=lived_in))
    assert names == sorted(set(old.values_list("annotator__username", flat=True))
                           | {"annotator", "amy", "bob", "kim", "zed"})
    assert "lea" in names  # removed, but their work stays and is counted
    for row in progress_by_annotator(project=lived_in, today=TODAY):
        assert _row(row) == _tally(old.filter(annotator__username=row.name)
                                   .values_list("status", "due")), row.name
    documents = list(progress_documents(project=lived_in))
    for row in progress_by_document(project=lived_in, today=TODAY, documents=documents):
        assert _row(row) == _tally(old.filter(document_id=row.document_id)
                                   .values_list("status", "due")), row.name


@pytest.mark.parametrize(("actor", "blind"), [("manager", False), ("annotator", True),
                                              ("annotator", False), ("viewer", False)])
def test_the_documents_pages_counts_equal_the_old_definition(
    client_for, lived_in, monkeypatch, actor, blind
):
    import annotator.web.projects as projects_views

    monkeypatch.setattr(projects_views.timezone, "localdate", lambda: TODAY)
    lived_in.blind = blind
    lived_in.save()
    response = client_for(actor).get(reverse("project-detail", kwargs={"slug": lived_in.slug}))
    counts = response.context["counts"]
    old = _old_sets(lived_in)
    if actor == "annotator" and blind:
        old = old.filter(annotator__username="annotator")
    expected = _tally(old.values_list("status", "due"))
    assert {k: counts[k] for k in expected} == expected
    assert counts["total"] == old.count()


def test_who_submitted_equals_the_old_definition(lived_in):
    old = sorted(set(_old_sets(lived_in).filter(status=AnnotationStatus.SUBMITTED)
                     .values_list("annotator__username", flat=True)))
    assert agreement_submitted_annotators(project=lived_in) == old
    assert "lea" in old


def test_the_assignment_list_is_in_the_old_order_on_every_page(lived_in):
    old = list(_old_sets(lived_in).order_by(
        "document__position", "document_id", "annotator__username"))
    assert list(project_assignments(project=lived_in)) == old
    for size in range(1, len(old) + 2):
        for start in range(0, len(old) + 1):
            # A fresh list for each slice, as each request makes one.
            got = AssignmentsInOrder(project=lived_in)[start : start + size]
            assert [a.pk for a in got] == [a.pk for a in old[start : start + size]], (
                start, size)
    assert len(AssignmentsInOrder(project=lived_in)) == len(old)


def test_the_assignments_page_shows_the_old_rows_page_by_page(client_for, lived_in,
                                                              monkeypatch):
    from annotator.web import paging

    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    old = list(_old_sets(lived_in).order_by(
        "document__position", "document_id", "annotator__username"))
    url = reverse("assignments", kwargs={"slug": lived_in.slug})
    seen = []
    for number in range(1, -(-len(old) // 2) + 1):
        page = client_for("manager").get(url, {"page": number}).context["page"]
        seen += [a.pk for a in page.object_list]
    assert seen == [a.pk for a in old]


def test_the_column_is_kept_on_sqlite_too(tmp_path):
    """The embedded default: migrate a fresh SQLite database, then write sets the ways
    the code does (create, bulk insert, update from a stale instance)."""
    script = """
from annotator.models import AnnotationSet, Document, Project
from django.contrib.auth import get_user_model
p = Project.objects.create(slug="a", name="a")
q = Project.objects.create(slug="b", name="b")
d = Document.objects.create(project=p, external_id="x", text="t", content_hash="h",
                            original=b"", position=4)
u = get_user_model().objects.create(username="u")
s = AnnotationSet.objects.create(document=d, annotator=u)
AnnotationSet.objects.bulk_create([AnnotationSet(document=d, is_gold=True)])
s.status = "submitted"; s.save()
AnnotationSet.objects.filter(pk=s.pk).update(project=q, document_position=0)
rows = set(AnnotationSet.objects.values_list("project_id", "document_position"))
assert rows == {(p.pk, 4)}, rows
Document.objects.filter(pk=d.pk).update(project=q, position=7)
rows = set(AnnotationSet.objects.values_list("project_id", "document_position"))
assert rows == {(q.pk, 7)}, rows
print("kept")
"""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'warrant.sqlite3'}",
           "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    for args in (["migrate", "-v", "0"], ["shell", "-c", script]):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("kept")


@pytest.mark.parametrize("query", ["a", "zed", "Brief 3", "BRIEF", "e", "lea", "nobody"])
def test_a_search_of_the_assignments_finds_the_old_rows_in_the_old_order(lived_in, query):
    from django.db.models import Q

    from annotator.selectors.assignments import AssignmentsMatching

    old = list(_old_sets(lived_in).filter(
        Q(annotator__username__icontains=query) | Q(document__title__icontains=query)
    ).order_by("document__position", "document_id", "annotator__username"))
    found = AssignmentsMatching(project=lived_in, query=query)
    assert len(found) == len(old)
    for size in (1, 2, 5):
        for start in range(0, len(old) + 1):
            assert [a.pk for a in found[start : start + size]] == [
                a.pk for a in old[start : start + size]], (start, size)


def test_the_assignment_run_writes_the_copies_it_brings(lived_in):
    """The assignment's array insert gives each row its document's project and
    position itself (the trigger then stays out of its way on PostgreSQL)."""
    from annotator.services.assignments import assignments_make

    for k in range(3):
        DocumentFactory(project=lived_in, position=10 - k)
    made = assignments_make(project=lived_in, per_document=3, seed=3)
    assert made
    rows = AnnotationSet.objects.filter(pk__in=[a.pk for a in made]).values_list(
        "project_id", "document__project_id", "document_position", "document__position")
    assert len(rows) == len(made) and all(a == b and c == d for a, b, c, d in rows)
