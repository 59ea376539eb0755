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
import io
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
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
    assert {k: getattr(counts, k) for k in expected} == expected
    assert counts.total == old.count()


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


def _on_sqlite(tmp_path, script: str) -> None:
    """Migrate a fresh SQLite database, run ``script`` in it; it ends by printing "kept"."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'warrant.sqlite3'}",
           "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    for args in (["migrate", "-v", "0"], ["shell", "-c", script]):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("kept")


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
    _on_sqlite(tmp_path, script)


@pytest.mark.parametrize("cap", [10_000, 4])
@pytest.mark.parametrize("query", ["a", "zed", "Brief 3", "BRIEF", "e", "lea", "nobody"])
def test_a_search_of_the_assignments_finds_the_old_rows_in_the_old_order(
    lived_in, query, cap, monkeypatch
):
    """The first ``SEARCH_CAP`` matches, in the old order, and a count that stops there."""
    from django.db.models import Q

    from annotator.selectors import assignments
    from annotator.selectors.assignments import AssignmentsMatching

    monkeypatch.setattr(assignments, "SEARCH_CAP", cap)
    old = list(_old_sets(lived_in).filter(
        Q(annotator__username__icontains=query) | Q(document__title__icontains=query)
    ).order_by("document__position", "document_id", "annotator__username"))
    found = AssignmentsMatching(project=lived_in, query=query)
    assert len(found) == min(len(old), cap)
    assert found.capped == (len(old) > cap)
    old = old[:cap]
    for size in (1, 2, 5):
        for start in range(0, len(old) + 1):
            assert [a.pk for a in found[start : start + size]] == [
                a.pk for a in old[start : start + size]], (start, size)


def test_a_search_that_matches_more_than_the_cap_says_so(client_for, lived_in, monkeypatch):
    from annotator.selectors import assignments

    monkeypatch.setattr(assignments, "SEARCH_CAP", 4)
    url = reverse("assignments", kwargs={"slug": lived_in.slug})
    response = client_for("manager").get(url, {"q": "Brief"})
    assert response.context["capped"] and response.context["page"].paginator.count == 4
    assert "more than 4" in response.content.decode()
    response = client_for("manager").get(url, {"q": "lea"})
    assert not response.context["capped"]
    assert "more than" not in response.content.decode()


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


# ------------------------------------------------------------------ the kept counts


def _kept_counts() -> dict:
    """What the database keeps (migration 0018), zeros left out."""
    from annotator.models import AssignmentCount

    return {(c.project_id, c.annotator_id, c.status, c.due): c.n
            for c in AssignmentCount.objects.all() if c.n}


def _recount() -> dict:
    """The same counts taken from the sets, each found through its document."""
    from annotator.models import NO_DUE

    counts = Counter(
        (project, annotator, status, due or NO_DUE)
        for project, annotator, status, due in AnnotationSet.objects.filter(is_gold=False)
        .values_list("document__project_id", "annotator_id", "status", "due")
    )
    return dict(counts)


def test_the_kept_counts_equal_a_recount_after_every_write_path(lived_in, members):
    """Every way the code writes, moves or deletes sets keeps the counts the progress
    dashboard and the documents page add up."""
    from annotator.formats.records import AnnotationRecord, DocumentRecord, SpanRecord
    from annotator.models import AssignmentCount, Project, SpanLabel
    from annotator.services.annotations import span_create
    from annotator.services.assignments import (
        assignment_create,
        assignment_delete,
        assignment_reassign,
        assignment_set_due,
        assignments_make,
        project_deadline_set,
    )
    from annotator.services.backup import project_backup, project_restore
    from annotator.services.imports import documents_import
    from annotator.services.projects import project_delete

    steps = []

    def check(step):
        steps.append(step)
        assert _kept_counts() == _recount(), step

    check("a project that has lived (reopened, removed member, gold)")
    students = {u.username: u for u in
                get_user_model().objects.filter(username__in=["amy", "bob", "kim", "zed"])}
    # A first span starts an assigned set; submit; reopen.
    aset = AnnotationSet.objects.filter(project=lived_in, status="assigned").first()
    label = SpanLabel.objects.filter(project=lived_in).first()
    span_create(annotation_set=aset, label=label, start=0, end=4,
                expected_version=aset.version, user=aset.annotator)
    check("a span starts the set")
    aset.refresh_from_db()
    aset = annotation_set_submit(annotation_set=aset, expected_version=aset.version)
    check("submit")
    annotation_set_reopen(annotation_set=aset, expected_version=aset.version)
    check("reopen")
    # By hand: create, reassign, due date, delete; the project's deadline.
    doc = DocumentFactory(project=lived_in, title="By hand", position=8)
    made = assignment_create(document=doc, annotator=students["amy"], due=PAST)
    check("assignment_create")
    made = assignment_reassign(assignment=made, annotator=students["bob"])
    check("assignment_reassign")
    made = assignment_set_due(assignment=made, due=FUTURE)
    check("assignment_set_due")
    assignment_set_due(assignment=made, due=None)
    check("assignment_set_due(None)")
    assignment_delete(assignment=made)
    check("assignment_delete")
    project_deadline_set(project=lived_in, due=FUTURE)
    check("project_deadline_set")
    # The balanced run (one array insert), bulk inserts, a queryset update.
    for k in range(3):
        DocumentFactory(project=lived_in, position=20 + k)
    assert assignments_make(project=lived_in, per_document=2, seed=5)
    check("assignments_make")
    extra = DocumentFactory(project=lived_in, position=30)
    AnnotationSet.objects.bulk_create(
        [AnnotationSet(document=extra, annotator=u, due=PAST) for u in students.values()]
        + [AnnotationSet(document=extra, is_gold=True)])
    check("bulk_create")
    AnnotationSet.objects.filter(document=extra).update(status="in_progress")
    check("a queryset update")
    # An import with annotators' sets and a gold.
    documents_import(project=lived_in, records=[DocumentRecord(
        external_id="imported", text="Taxes rise. Schools gain.", title="Imported",
        annotations=[AnnotationRecord(annotator="kim", status="submitted",
                                      spans=[SpanRecord("T1", 0, 5, label.name)]),
                     AnnotationRecord(annotator="zed", status="in_progress", due="2030-02-01")],
        gold=AnnotationRecord(status="submitted"))])
    check("documents_import")
    # A document deleted (its sets go with it), a document moved to another project.
    Document.objects.filter(pk=extra.pk).delete()
    check("a document deleted")
    other = Project.objects.get(slug="elsewhere")
    Document.objects.filter(pk=doc.pk).update(project=other)
    moved = DocumentFactory(project=lived_in, position=40)
    AnnotationSet.objects.create(document=moved, annotator=students["kim"], status="submitted")
    Document.objects.filter(pk=moved.pk).update(project=other, position=9)
    check("a document moved to another project")
    # A backup restored beside it, as a copy.
    buffer = io.BytesIO()
    project_backup(lived_in, buffer)
    project_restore(io.BytesIO(buffer.getvalue()), slug="copy")
    check("project_restore")
    # The whole project: nothing of it stays counted, not even at zero.
    project_delete(project=lived_in, confirm=lived_in.slug)
    check("project_delete")
    assert not AssignmentCount.objects.filter(project_id=lived_in.pk).exists()
    assert AssignmentCount.objects.filter(project=other).exists()


def test_the_counts_are_kept_on_sqlite_too(tmp_path):
    """The embedded default keeps them with row triggers: the same write paths, on a
    freshly migrated SQLite database, compared with a recount after each."""
    script = """
from collections import Counter
from annotator.models import NO_DUE, AnnotationSet, AssignmentCount, Document, Project
from django.contrib.auth import get_user_model
def check(step):
    kept = {(c.project_id, c.annotator_id, c.status, c.due): c.n
            for c in AssignmentCount.objects.all() if c.n}
    recount = dict(Counter((p, a, s, d or NO_DUE) for p, a, s, d in
        AnnotationSet.objects.filter(is_gold=False).values_list(
            "document__project_id", "annotator_id", "status", "due")))
    assert kept == recount, (step, kept, recount)
    assert not AssignmentCount.objects.filter(n__lte=0).exists(), step
import datetime as dt
p = Project.objects.create(slug="a", name="a")
q = Project.objects.create(slug="b", name="b")
d = Document.objects.create(project=p, external_id="x", text="t", content_hash="h",
                            original=b"", position=4)
e = Document.objects.create(project=p, external_id="y", text="u", content_hash="i",
                            original=b"", position=5)
u, v = (get_user_model().objects.create(username=n) for n in "uv")
s = AnnotationSet.objects.create(document=d, annotator=u); check("create")
AnnotationSet.objects.bulk_create([AnnotationSet(document=d, is_gold=True),
    AnnotationSet(document=e, annotator=u, due=dt.date(2030, 1, 1)),
    AnnotationSet(document=e, annotator=v)]); check("bulk_create")
s.status = "submitted"; s.save(); check("save")
AnnotationSet.objects.filter(document=e).update(status="in_progress", due=None); check("update")
AnnotationSet.objects.filter(pk=s.pk).update(project=q, document_position=0); check("stale")
s.annotator = v; s.delete(); check("delete")
Document.objects.filter(pk=e.pk).update(project=q, position=7); check("moved")
from annotator.selectors.assignments import AssignmentsMatching
f = Document.objects.create(project=p, external_id="z", text="w", content_hash="j",
                            original=b"", position=1, title="Brief u")
AnnotationSet.objects.bulk_create([AnnotationSet(document=f, annotator=u),
                                   AnnotationSet(document=f, annotator=v)])
found = AssignmentsMatching(project=p, query="u")  # by name (u), by title (v's)
assert len(found) == 2 and not found.capped, len(found)
assert [a.pk for a in found[0:2]] == list(AnnotationSet.objects.filter(
    project=p, is_gold=False).order_by("document_position", "annotator__username")
    .values_list("pk", flat=True)), "search"
Document.objects.filter(pk=e.pk).delete(); check("document deleted")
print("kept")
"""
    _on_sqlite(tmp_path, script)


def test_the_home_pages_document_counts_equal_a_count_of_each_projects_documents(
    lived_in, members
):
    from annotator.models import Project
    from annotator.selectors.projects import projects_for_user

    empty = ProjectFactory(slug="empty")
    MembershipFactory(project=empty, user=members["manager"], role="manager")
    admin = get_user_model().objects.create_superuser("root", password="pw-root-123456")
    for user in (members["manager"], get_user_model().objects.get(username="amy"), admin):
        got = {p.slug: p.document_count for p in projects_for_user(user)}
        assert got and got == {
            p.slug: Document.objects.filter(project=p).count()
            for p in (Project.objects.all() if user.is_superuser
                      else Project.objects.filter(memberships__user=user))
        }, user.username
    assert got["empty"] == 0 and got[lived_in.slug] == 7
