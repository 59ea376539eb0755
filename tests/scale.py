"""Projects of a chosen size, built with bulk inserts, for the bounded-work tests
and ``benchmarks/scale.py``.

``build_project`` makes one project with a member per role, ``documents``
briefs of ``words`` words each, ``annotators`` students each assigned every
brief with ``spans`` spans and ``relations`` relations per set (submitted), a
final gold on every brief, one finished agreement run and one finished export
job. Everything is deterministic. The same call with bigger numbers is the
"big" fixture of the query-count tests: a page must run the same number of
queries on both.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

WORDS = [
    "sanctions", "tariffs", "exports", "imports", "growth", "prices", "policy", "government",
    "reform", "evidence", "claim", "reason", "because", "therefore", "however", "report",
    "minister", "data", "shows", "fell", "rose",
]


@dataclass
class ScaleProject:
    project: object
    users: dict  # role -> user ("annotator" is the first student)
    students: list
    documents: list
    sets: list = field(default_factory=list)  # the students' sets, in document order
    gold: list = field(default_factory=list)


def brief_text(rng: random.Random, words: int) -> str:
    """``words`` words of prose, a full stop every 12 words and a paragraph every 120."""
    out = []
    for i in range(words):
        out.append(rng.choice(WORDS))
        if i % 12 == 11:
            out[-1] += "."
        if i % 120 == 119:
            out[-1] += "\n\n"
    return " ".join(out).replace("\n\n ", "\n\n")


def _token_bounds(text: str) -> list[tuple[int, int]]:
    bounds, start = [], None
    for i, ch in enumerate(text):
        if ch.isspace():
            if start is not None:
                bounds.append((start, i))
                start = None
        elif start is None:
            start = i
    if start is not None:
        bounds.append((start, len(text)))
    return bounds


def span_rows(
    rng: random.Random, tokens, count: int, label_ids: list[int]
) -> list[tuple[int, int, int]]:
    """``count`` non-overlapping (start, end, label_id) spans of 1-3 tokens, in order."""
    count = min(count, len(tokens) // 2)
    stride = len(tokens) // max(count, 1)
    rows = []
    for k in range(count):
        first = k * stride
        last = min(first + rng.randint(0, 2), first + stride - 1, len(tokens) - 1)
        rows.append((tokens[first][0], tokens[last][1], rng.choice(label_ids)))
    return rows


def build_project(
    *,
    slug: str,
    documents: int = 3,
    students: int = 2,
    spans: int = 5,
    relations: int = 2,
    words: int = 200,
    extra_members: int = 0,
    seed: int = 0,
    with_jobs: bool = True,
) -> ScaleProject:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from annotator.formats.schema import load_schema
    from annotator.models import (
        AnnotationSet,
        AnnotationStatus,
        Document,
        ExportJob,
        JobStatus,
        Membership,
        Relation,
        RelationType,
        Role,
        Span,
        SpanLabel,
    )
    from annotator.services.imports import content_hash
    from annotator.services.projects import project_create

    rng = random.Random(seed)
    User = get_user_model()
    project = project_create(slug=slug, name=f"Scale {slug}", schema=load_schema("argument"))
    project.grades_released = True
    project.save(update_fields=["grades_released"])
    users = {}
    for role in ("manager", "curator", "annotator", "viewer"):
        users[role] = User.objects.create_user(username=f"{slug}-{role}", password="pw-scale-1")
    pupils = [users["annotator"]] + [
        User.objects.create_user(username=f"{slug}-student-{k}") for k in range(1, students)
    ]
    extras = User.objects.bulk_create(
        [User(username=f"{slug}-extra-{k}") for k in range(extra_members)]
    )
    Membership.objects.bulk_create(
        [Membership(project=project, user=users[r], role=r) for r in ("manager", "curator",
                                                                       "viewer")]
        + [Membership(project=project, user=u, role=Role.ANNOTATOR) for u in pupils + extras]
    )
    label_ids = list(SpanLabel.objects.filter(project=project).values_list("id", flat=True))
    type_ids = list(RelationType.objects.filter(project=project).values_list("id", flat=True))
    texts = [f"Brief {i}.\n\n" + brief_text(rng, words) for i in range(documents)]
    docs = Document.objects.bulk_create(
        [
            Document(
                project=project,
                external_id=f"brief-{i}",
                title=f"Brief {i}",
                text=text,
                content_hash=content_hash(text),
                original=text.encode(),
                source_format="text",
                position=i,
            )
            for i, text in enumerate(texts)
        ]
    )
    now = timezone.now()
    student_sets = AnnotationSet.objects.bulk_create(
        [
            AnnotationSet(
                document=d,
                annotator=u,
                status=AnnotationStatus.SUBMITTED,
                version=1,
                started_at=now,
                submitted_at=now,
            )
            for d in docs
            for u in pupils
        ]
    )
    gold_sets = AnnotationSet.objects.bulk_create(
        [
            AnnotationSet(
                document=d, is_gold=True, gold_final=True, status=AnnotationStatus.SUBMITTED
            )
            for d in docs
        ]
    )
    plans = []
    span_objs = []
    for aset in [*student_sets, *gold_sets]:
        tokens = _token_bounds(aset.document.text)
        rows = span_rows(rng, tokens, spans, label_ids)
        plans.append((aset, len(span_objs), len(rows)))
        span_objs += [
            Span(annotation_set=aset, label_id=lab, start=s, end=e) for s, e, lab in rows
        ]
    created = Span.objects.bulk_create(span_objs, batch_size=5000)
    relation_objs = []
    for aset, first, n in plans:
        for k in range(min(relations, n - 1)):
            relation_objs.append(
                Relation(
                    annotation_set=aset,
                    source_id=created[first + k + 1].pk,
                    target_id=created[first + k].pk,
                    type_id=type_ids[k % len(type_ids)],
                )
            )
    Relation.objects.bulk_create(relation_objs, batch_size=5000)
    if with_jobs:
        from annotator.services.agreement import agreement_run_execute, agreement_run_request

        run = agreement_run_request(project=project)
        agreement_run_execute(run_id=run.pk)
        ExportJob.objects.create(
            project=project, format="jsonl", status=JobStatus.DONE, progress=1.0, finished_at=now
        )
    return ScaleProject(
        project=project,
        users=users,
        students=pupils,
        documents=docs,
        sets=student_sets,
        gold=gold_sets,
    )


def delete_project(project) -> None:
    """Delete a built project and its users (spans first: labels are PROTECTed)."""
    from django.contrib.auth import get_user_model

    from annotator.models import Relation, Span

    Relation.objects.filter(annotation_set__document__project=project).delete()
    Span.objects.filter(annotation_set__document__project=project).delete()
    slug = project.slug
    project.delete()
    get_user_model().objects.filter(username__startswith=f"{slug}-").delete()
