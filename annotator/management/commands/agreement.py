"""``manage.py agreement SLUG [--unit token|char] [--json]``.

With a broker configured the run goes through the worker, like one started from
the page: the command asks for the run, then polls its row until it is done. A
broker that cannot be reached is one line and a non-zero exit, before anything
is written. With no broker (the embedded mode) the run is computed here.
"""

from __future__ import annotations

import json
import time

from django.core.management.base import CommandError
from kombu.utils.url import maybe_sanitize_url

from annotator.metrics.units import UNITS
from annotator.models import AgreementRun, JobStatus
from annotator.selectors.agreement import ACTIVE_STATUSES, REPORT_FIGURES
from annotator.selectors.agreement_report import AgreementReportGone, agreement_report_chunks
from annotator.services.agreement import agreement_run_execute, agreement_run_request
from annotator.services.agreement_reports import agreement_report_ready
from annotator.services.backup import warrant_version
from annotator.tasks import agreement_run_task

from ._base import WarrantCommand, get_project

#: How long to wait for the worker by default. A 10,000-brief project takes a
#: few minutes; a run that has not started after this is waiting for a worker.
DEFAULT_TIMEOUT_SECONDS = 600
#: How often the run's row is read while waiting.
POLL_SECONDS = 0.5
#: Connecting to the broker: one quick retry, so that a stopped Redis is
#: reported in about a second rather than after kombu's default back-off.
BROKER_CONNECT_TIMEOUT_SECONDS = 2


def _fmt(value) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def _node(part: dict, path: tuple[str, ...]) -> dict:
    for key in path:
        part = part[key]
    return part


def format_report(report: dict, intervals: dict | None, run: AgreementRun) -> str:
    """The report as plain-text tables."""
    lines = []
    annotators = ", ".join(report["annotators"]) or "none"
    took = run.timings.get("total") if run.timings else None
    lines.append(
        f"Agreement of {report['project']}: {report['documents']} document(s), "
        f"unit {report['unit']}, annotators {annotators}"
        + (f" (run #{run.pk}, {took:.1f} s)" if took is not None else f" (run #{run.pk})")
    )
    lines.append("")
    bounds = (intervals or {}).get("intervals", {})
    confidence = round(100 * (intervals or {}).get("confidence", 0.95))
    width = max(len(label) for label, _, _ in REPORT_FIGURES)
    lines.append(f"{'figure':<{width}}  {'value':>9}  {confidence}% interval")
    for label, path, key in REPORT_FIGURES:
        value = _node(report["overall"], path)["value"]
        ci = bounds.get(key) if key else None
        if ci and ci.get("low") is not None:
            interval = f"[{ci['low']:.3f}, {ci['high']:.3f}]"
        else:
            interval = "undefined" if ci else "-"
        lines.append(f"{label:<{width}}  {_fmt(value):>9}  {interval}")

    overall = report["overall"]
    alpha = overall["krippendorff_alpha"].get("per_label", {})
    unitizing = overall["unitizing_alpha"].get("per_label", {})
    exact = overall["span_f1"]["exact"].get("per_label", {})
    labels = sorted(set(alpha) | set(unitizing) | set(exact))
    if labels:
        lw = max(len("label"), *(len(name) for name in labels))
        lines += ["", f"{'label':<{lw}}  {'alpha':>9}  {'unitizing':>9}  {'span F1':>9}"]
        for name in labels:
            lines.append(
                f"{name:<{lw}}  {_fmt(alpha.get(name)):>9}  {_fmt(unitizing.get(name)):>9}  "
                f"{_fmt(exact.get(name)):>9}"
            )
    per_type = overall["relation_f1"].get("per_type", {})
    if per_type:
        tw = max(len("relation type"), *(len(name) for name in per_type))
        lines += ["", f"{'relation type':<{tw}}  {'F1':>9}"]
        lines += [f"{name:<{tw}}  {_fmt(v):>9}" for name, v in sorted(per_type.items())]
    pairs = overall["cohen_kappa"].get("pairs") or {}
    if pairs:
        pw = max(len("pair"), *(len(p) for p in pairs))
        lines += [
            "",
            f"{'pair':<{pw}}  {'kappa':>9}  {'span F1':>9}  {'rel. F1':>9}",
        ]
        span_pairs = overall["span_f1"]["exact"].get("pairs") or {}
        rel_pairs = overall["relation_f1"].get("pairs") or {}
        for pair, kappa in pairs.items():
            lines.append(
                f"{pair:<{pw}}  {_fmt(kappa):>9}  {_fmt(span_pairs.get(pair)):>9}  "
                f"{_fmt(rel_pairs.get(pair)):>9}"
            )
    return "\n".join(lines)


class Command(WarrantCommand):
    help = (
        "Compute and print a project's agreement report (through the Celery worker when "
        "a broker is configured, in this process otherwise)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--unit", default="token", help="token (default) or char")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print exactly the report JSON"
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=DEFAULT_TIMEOUT_SECONDS,
            help=f"seconds to wait for the worker (default {DEFAULT_TIMEOUT_SECONDS})",
        )

    def handle(self, *args, slug, unit, as_json, timeout, **options):
        if unit not in UNITS:
            raise CommandError(f"unknown unit {unit!r} (units: {', '.join(UNITS)})")
        if timeout <= 0:
            raise CommandError("--timeout must be a positive number of seconds")
        project = get_project(slug)
        app = agreement_run_task.app
        if app.conf.task_always_eager:
            run = agreement_run_request(project=project, unit=unit)
            # The embedded mode ran it when the request committed; a run left
            # pending by a process that stopped is computed now (idempotent).
            run = agreement_run_execute(run_id=run.pk)
        else:
            self._check_broker(app)
            run = agreement_run_request(project=project, unit=unit)
            run = self._wait(run.pk, timeout, options["verbosity"])
        if run.status == JobStatus.FAILED:
            raise CommandError(f"agreement run #{run.pk} failed: {run.error}")
        # The run again without its report (megabytes): agreement_run_execute may hand
        # back the whole row.
        run = agreement_report_ready(
            run=AgreementRun.objects.defer("report", "plan").get(pk=run.pk))
        if as_json:
            # json.dumps(document, indent=2, ensure_ascii=False), written as it is read.
            try:
                chunks = agreement_report_chunks(
                    run, version=warrant_version(),
                    encoder=json.JSONEncoder(indent=2, ensure_ascii=False))
            except AgreementReportGone as exc:
                raise CommandError(str(exc)) from None
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
            self.stdout.write("")
        else:
            # The tables read only the summary (the report without by_document).
            report = run.report_summary
            if report is None:  # a run ranked by nothing yet: its stored report
                report = AgreementRun.objects.values_list("report", flat=True).get(pk=run.pk)
            self.stdout.write(format_report(report, run.intervals, run))

    def _check_broker(self, app) -> None:
        url = maybe_sanitize_url(app.conf.broker_url)
        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(
                    max_retries=1,
                    interval_start=0,
                    interval_step=0,
                    timeout=BROKER_CONNECT_TIMEOUT_SECONDS,
                )
        except Exception as exc:
            raise CommandError(
                f"cannot reach the Celery broker at {url} ({exc}); start it, or unset "
                "CELERY_BROKER_URL and REDIS_URL to compute in this process"
            ) from None

    def _wait(self, run_id: int, timeout: float, verbosity: int) -> AgreementRun:
        deadline = time.monotonic() + timeout
        last = None
        while True:
            status, progress = (
                AgreementRun.objects.filter(pk=run_id).values_list("status", "progress").get()
            )
            if status not in ACTIVE_STATUSES:
                return AgreementRun.objects.defer("report", "plan").get(pk=run_id)
            if verbosity >= 2 and (status, progress) != last:
                self.stderr.write(f"run #{run_id}: {status} {progress:.0%}")
                last = (status, progress)
            if time.monotonic() >= deadline:
                raise CommandError(
                    f"agreement run #{run_id} is still {status} after {timeout:g} s; "
                    "is a worker running? (celery -A config worker)"
                )
            time.sleep(POLL_SECONDS)
