"""The demo project: a sample brief, an instructor, three students, and two
students' annotations, so that every page has something to show."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from importlib import resources

from django.contrib.auth import get_user_model
from django.db import transaction

from annotator.formats.records import (
    AnnotationRecord,
    DocumentRecord,
    RelationRecord,
    SpanRecord,
)
from annotator.formats.schema import load_schema
from annotator.models import Project, Role
from annotator.services.agreement import agreement_run_request
from annotator.services.assignments import assignments_make
from annotator.services.imports import documents_import
from annotator.services.members import members_add
from annotator.services.projects import project_create

DEMO_SLUG = "demo"
INSTRUCTOR = "instructor"
STUDENTS = ("alice", "bob", "carol")

GUIDELINES = """\
# Guidelines

Mark the **argument structure** of each brief.

- **MajorClaim** (`m`): the brief's headline position, usually in the title or first paragraph.
- **Claim** (`c`): another contestable statement the brief argues for.
- **Reason** (`r`): each numbered reason given for the major claim.
- **Evidence** (`e`): facts behind a reason: statistics, quoted news, officials' statements,
  with their citation in parentheses.

Link each reason to what it **supports**, each piece of evidence to the reason it is
**evidence for**, and mark counter-arguments that **attack** a claim.
Spans cover whole words and never start or end with a space.
"""


def demo_brief_text() -> str:
    return resources.files("annotator.demo").joinpath("brief.txt").read_text(encoding="utf-8")


def _span(text: str, sid: str, label: str, phrase: str, occurrence: int = 0) -> SpanRecord:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(phrase, start + 1)
    return SpanRecord(id=sid, start=start, end=start + len(phrase), label=label, text=phrase)


def _alice(text: str) -> AnnotationRecord:
    s = [
        _span(text, "T1", "MajorClaim", "Northport should introduce a daily congestion charge "
              "for private cars entering the harbour district before the end of next year"),
        _span(text, "T2", "Reason", "Traffic in the harbour district has become unbearable."),
        _span(text, "T3", "Evidence", "Average speeds on the ring road fell to 11 km/h at rush "
              "hour last winter, down from 19 km/h five years earlier"),
        _span(text, "T4", "Reason", "Charging works where it has been tried."),
        _span(text, "T5", "Evidence", "traffic across the cordon fell by about a fifth and "
              "stayed lower for a decade"),
        _span(text, "T6", "Reason", "The money would pay for better buses."),
        _span(text, "T7", "Reason", "Cleaner air would save lives."),
        _span(text, "T8", "Evidence", "Nitrogen dioxide levels on Harbour Street exceeded the "
              "legal limit on 61 days last year"),
        _span(text, "T9", "Reason", "Most residents already support it."),
        _span(text, "T10", "Claim", "the charge would hurt shop owners in the district"),
    ]
    r = [
        RelationRecord("R1", "T2", "T1", "supports"),
        RelationRecord("R2", "T3", "T2", "evidence_for"),
        RelationRecord("R3", "T4", "T1", "supports"),
        RelationRecord("R4", "T5", "T4", "evidence_for"),
        RelationRecord("R5", "T6", "T1", "supports"),
        RelationRecord("R6", "T7", "T1", "supports"),
        RelationRecord("R7", "T8", "T7", "evidence_for"),
        RelationRecord("R8", "T9", "T1", "supports"),
        RelationRecord("R9", "T10", "T1", "attacks"),
    ]
    return AnnotationRecord(annotator="alice", status="submitted", spans=s, relations=r)


def _bob(text: str) -> AnnotationRecord:
    s = [
        _span(text, "T1", "MajorClaim", "Northport should introduce a daily congestion charge "
              "for private cars entering the harbour district"),
        _span(text, "T2", "Reason", "Traffic in the harbour district has become unbearable."),
        _span(text, "T3", "Evidence", "The city's transport office counted 142,000 cars "
              "crossing the district boundary on an average weekday"),
        _span(text, "T4", "Reason", "Charging works where it has been tried."),
        _span(text, "T5", "Evidence", "\"The queues simply did not come back,\""),
        _span(text, "T6", "Reason", "The money would pay for better buses."),
        _span(text, "T7", "Evidence", "A charge of 8 euros a day would raise an estimated 96 "
              "million euros a year"),
        _span(text, "T8", "Reason", "Cleaner air would save lives."),
        _span(text, "T9", "Claim", "Most residents already support it."),
        _span(text, "T10", "Evidence", "58 percent backed a charge if the revenue went to "
              "public transport"),
    ]
    r = [
        RelationRecord("R1", "T2", "T1", "supports"),
        RelationRecord("R2", "T3", "T2", "evidence_for"),
        RelationRecord("R3", "T4", "T1", "supports"),
        RelationRecord("R4", "T5", "T4", "evidence_for"),
        RelationRecord("R5", "T6", "T1", "supports"),
        RelationRecord("R6", "T7", "T6", "evidence_for"),
        RelationRecord("R7", "T8", "T1", "supports"),
        RelationRecord("R8", "T9", "T1", "supports"),
        RelationRecord("R9", "T10", "T9", "evidence_for"),
    ]
    return AnnotationRecord(annotator="bob", status="submitted", spans=s, relations=r)


@dataclass
class DemoAccounts:
    project: Project
    passwords: dict[str, str]
    created: bool


@transaction.atomic
def demo_create(*, password: str | None = None) -> DemoAccounts:
    """Create the demo project, or reset its users' passwords if it exists."""
    User = get_user_model()
    passwords = {}
    users = {}
    for username in (INSTRUCTOR, *STUDENTS):
        user, _ = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.org"}
        )
        passwords[username] = password or secrets.token_urlsafe(9)
        user.set_password(passwords[username])
        user.save()
        users[username] = user

    project = Project.objects.filter(slug=DEMO_SLUG).first()
    if project is not None:
        return DemoAccounts(project=project, passwords=passwords, created=False)

    project = project_create(
        slug=DEMO_SLUG,
        name="Demo: congestion pricing brief",
        schema=load_schema("argument"),
        created_by=users[INSTRUCTOR],
        guidelines=GUIDELINES,
        annotators_per_document=3,
    )
    members_add(project=project, role=Role.ANNOTATOR, usernames=list(STUDENTS))
    text = demo_brief_text()
    record = DocumentRecord(
        external_id="congestion-pricing",
        title=text.splitlines()[0],
        text=text,
        meta={"source": "written for the Warrant demo", "fictional": True},
        annotations=[_alice(text), _bob(text)],
        original=text.encode("utf-8"),
        original_name="congestion-pricing.txt",
        source_format="text",
    )
    documents_import(project=project, records=[record])
    assignments_make(project=project, per_document=3)
    # So that the Agreement tab has figures from the start (computed after the commit).
    agreement_run_request(project=project, requested_by=users[INSTRUCTOR])
    return DemoAccounts(project=project, passwords=passwords, created=True)
