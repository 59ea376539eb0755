"""Readying a finished agreement run for the readers of its report (issue 12, point 1).

``selectors.agreement_report`` writes a run's report from its ``report_summary``
and its ``AgreementDocumentRank`` rows by ``position``: the place of each
document among the keys of the report's ``by_document`` as the database would give
them back. The pooling writes it with the ranks; for a run ranked without it (before
it did, or from its stored report) it is filled here, once per run and in one
statement, the first time a reader needs it:

- on PostgreSQL, by jsonb's own order of an object's keys (length in bytes, then
  bytewise), which the external ids alone determine;
- on SQLite, which keeps a JSON object's keys as written, by the stored report's
  ``by_document`` when it still holds it, else by the documents' order in the
  project (the order a run reads them in: the same unless documents were moved or
  deleted since the run).

A writer of rank rows may leave ``position`` null.
"""

from __future__ import annotations

from django.db import connection, transaction

from annotator.models import AgreementDocumentRank, AgreementRun, Document, JobStatus
from annotator.selectors.agreement_report import agreement_run_ranked

__all__ = ["agreement_report_ready", "agreement_run_positions"]


def agreement_run_positions(*, run: AgreementRun) -> None:
    """Fill the ``position`` of ``run``'s rank rows that have none (all at once)."""
    ranks = AgreementDocumentRank._meta.db_table
    if connection.vendor == "postgresql":
        sql = (
            f'UPDATE {ranks} AS r SET position = o.n FROM ('
            f'  SELECT id, row_number() OVER (ORDER BY octet_length(external_id), '
            f'  external_id COLLATE "C") - 1 AS n FROM {ranks} WHERE run_id = %s'
            f') AS o WHERE r.id = o.id AND r.position IS NULL'
        )
        params = [run.pk]
    elif AgreementRun.objects.filter(pk=run.pk, report__by_document__isnull=False).exists():
        runs = AgreementRun._meta.db_table
        sql = (
            f"UPDATE {ranks} SET position = o.n FROM ("
            f"  SELECT j.key AS key, row_number() OVER (ORDER BY j.id) - 1 AS n"
            f"  FROM {runs} AS a, json_each(a.report, '$.by_document') AS j WHERE a.id = %s"
            f") AS o WHERE {ranks}.run_id = %s AND {ranks}.external_id = o.key"
            f" AND {ranks}.position IS NULL"
        )
        params = [run.pk, run.pk]
    else:
        documents = Document._meta.db_table
        sql = (
            f"UPDATE {ranks} SET position = o.n FROM ("
            f"  SELECT r.id AS id, row_number() OVER (ORDER BY d.id IS NULL, d.position, d.id,"
            f"  r.external_id) - 1 AS n FROM {ranks} AS r LEFT JOIN {documents} AS d"
            f"  ON d.id = r.document_id WHERE r.run_id = %s"
            f") AS o WHERE {ranks}.id = o.id AND {ranks}.position IS NULL"
        )
        params = [run.pk]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def agreement_report_ready(*, run: AgreementRun) -> AgreementRun:
    """``run`` (finished) as ``selectors.agreement_report.agreement_report_of`` reads it
    without decoding its whole report: ranked, if it is the project's newest finished
    run and finished before ranks existed (``agreement_run_finished``, once), and its
    ranks placed. Returns the run without its report and plan.
    """
    if run.status == JobStatus.DONE and run.report_summary is None:
        from annotator.services.agreement import agreement_run_finished

        newest = agreement_run_finished(project=run.project)
        if newest is not None and newest.pk == run.pk:
            run = newest
    if run.report_summary is not None:
        _, unplaced = agreement_run_ranked(run)
        if unplaced:
            agreement_run_positions(run=run)
    return run
