"""Small annotated projects for the agreement tests (services, pages, API, command, worker)."""

from __future__ import annotations

from contextlib import contextmanager

from kombu import pools

from annotator.models import AnnotationSet, AnnotationStatus, Membership, Relation, Span
from annotator.tasks import agreement_run_task
from tests.factories import DocumentFactory, UserFactory

TEXT = "Sanctions work. Exports fell sharply (Reuters). Prices rose. We should keep them."


def annotate(project, document, username, spans, relations=(), *, status="submitted"):
    """Give ``username`` (made an annotator of ``project``) a set on ``document``.

    ``spans`` are ``(start, end, label)``; ``relations`` are ``(i, j, type)``
    between spans by index.
    """
    user = UserFactory(username=username)
    Membership.objects.get_or_create(project=project, user=user, defaults={"role": "annotator"})
    aset = AnnotationSet.objects.create(
        document=document,
        annotator=user,
        status=status,
        version=1,
        submitted_at=None,
    )
    labels = {lab.name: lab for lab in project.span_labels.all()}
    types = {t.name: t for t in project.relation_types.all()}
    made = [
        Span.objects.create(annotation_set=aset, label=labels[label], start=start, end=end)
        for start, end, label in spans
    ]
    for i, j, rel_type in relations:
        Relation.objects.create(
            annotation_set=aset, source=made[i], target=made[j], type=types[rel_type]
        )
    return aset


def annotated_project(project, *, documents: int = 2):
    """Two documents, annotated by alice and bob (submitted) and carol (not submitted).

    On the first document alice and bob agree on the claim and the evidence but
    label the reason differently; on the second they agree on everything.
    """
    docs = []
    for k in range(documents):
        doc = DocumentFactory(
            project=project, external_id=f"brief-{k + 1}", text=f"{TEXT} ({k + 1})"
        )
        docs.append(doc)
        same = k > 0
        annotate(
            project,
            doc,
            "alice",
            [(0, 15, "Claim"), (16, 36, "Reason"), (37, 46, "Evidence")],
            [(1, 0, "supports"), (2, 1, "evidence_for")],
        )
        annotate(
            project,
            doc,
            "bob",
            [(0, 15, "Claim"), (16, 36, "Reason" if same else "Evidence"), (37, 46, "Evidence")],
            [(1, 0, "supports")],
        )
        annotate(project, doc, "carol", [(0, 15, "MajorClaim")], status=AnnotationStatus.ASSIGNED)
    return docs


@contextmanager
def celery_broker(url: str, *, queue: str | None = None):
    """Make this process send tasks to a real broker instead of running them in-process.

    The test settings run tasks eagerly; Celery reads its configuration once,
    so the app's configuration is changed and its cached connection pools and
    queue declarations are dropped (and again on the way out).
    """
    app = agreement_run_task.app
    keys = ("task_always_eager", "broker_url", "task_default_queue")
    saved = {key: app.conf[key] for key in keys}

    def reset():
        pools.reset()  # kombu's connection and producer pools, keyed by broker
        app._pool = None
        app.__dict__.pop("amqp", None)  # cached queues, router and producer pool

    reset()
    app.conf.update(
        task_always_eager=False,
        broker_url=url,
        task_default_queue=queue or saved["task_default_queue"],
    )
    try:
        yield app
    finally:
        reset()
        app.conf.update(saved)


def full_report(run) -> dict:
    """The whole report of the finished ``run`` as its readers give it (the API, the
    download, the command): its summary with ``by_document`` read from its ranks (the
    stored report no longer holds it), or its stored report for an older run."""
    from annotator.models import AgreementRun
    from annotator.selectors.agreement_report import LazyObject, agreement_report_of
    from annotator.services.agreement_reports import agreement_report_ready

    run = agreement_report_ready(run=AgreementRun.objects.defer("report", "plan").get(pk=run.pk))
    report = agreement_report_of(run)
    return {key: dict(value.members()) if isinstance(value, LazyObject) else value
            for key, value in report.items()}


def reference_report(run) -> dict:
    """What the finished ``run``'s stored report was before runs stored it without
    ``by_document``: its stored summary with the ``by_document`` of one reading of its
    data in this process (``metrics.report.build_report``, not the run's ranks), stored
    whole and read back, so that its keys come in the order the database gives them
    (jsonb's on PostgreSQL; as written on SQLite, ``by_document`` after ``overall``)."""
    from annotator.metrics.report import build_report
    from annotator.models import AgreementRun, JobStatus
    from annotator.selectors.agreement import agreement_data

    run = AgreementRun.objects.get(pk=run.pk)
    params = run.parameters or {}
    data = agreement_data(project=run.project, documents=params.get("documents"),
                          annotators=params.get("annotators"))
    one = build_report(run.project.slug, data.documents, unit=params.get("unit", "token"),
                       annotators=data.annotators)
    summary = run.report_summary
    keys = [*one, *(key for key in summary if key not in one)]
    report = {key: one["by_document"] if key == "by_document" else summary[key]
              for key in keys}
    scratch = AgreementRun.objects.create(project=run.project, status=JobStatus.FAILED,
                                          report=report)
    try:
        return AgreementRun.objects.get(pk=scratch.pk).report
    finally:
        scratch.delete()
