r"""Scale: big briefs, big projects, agreement on every worker, light web processes (issue 12).

    .venv/bin/python benchmarks/scale.py                      # the whole table
    .venv/bin/python benchmarks/scale.py --documents 10000    # a smaller big project
    .venv/bin/python benchmarks/scale.py --base /work/h12-base   # and the same on older code
    .venv/bin/python benchmarks/scale.py --only brief,memory     # some probes

Each probe runs in a child process on a fresh PostgreSQL database (on the
server DATABASE_URL names, else postgres@127.0.0.1:5432), migrated by the code
it measures, which is dropped afterwards. ``--base DIR`` runs the same probes
on another checkout (``git worktree add DIR COMMIT``) in the same session, so
that ratios are measured on the same noisy machine; a probe the older code
cannot run (no batch API, no chunked agreement) says so.

Probes, and the rows of the issue's table they give:

* ``brief``: one brief of 1 MB (160,000 words) with two annotators' sets of
  5,000 spans and 2,000 relations and a final gold of 5,000 spans
  (``tests/scale.py``, bulk inserts). Times, queries and bytes of the API's set
  list and set detail, the curation page, the annotate page, the feedback page,
  the agreement disagreement view and a JSONL export, in this process through
  Django's test client (server time, no network). A statement running over
  30 s is cancelled and the row says "timeout".
* ``project``: ``--documents`` briefs (100,000) of 120 words, 300 students,
  three assigned per brief, 10% of the sets (30,000 at 100,000) submitted with
  about 40 spans and 20 relations (COPY in batches of 10,000 briefs).
  Times every list page, dashboard and the API's document list as the
  manager, with the searches (one matching every title) and the deepest pages
  of the long lists, the agreement page with a finished run (written directly:
  a real run's figures on a sample, given to the 2,800 briefs with two
  submissions), and the pages a student sees; then ``assign --per-document 3``
  on a second project of as many briefs without assignments. Both projects are
  written once per session by the oldest checkout measured and copied for each
  (``--project-fixture DB`` names one written before, by ``--probe project
  --build-only`` on a migrated database).
* ``agreement``: ``--agreement-documents`` briefs (10,000) x 3 annotators, all
  submitted; the run in one process (the embedded mode, up to 20,000 briefs),
  then on 1 and on 2 Celery workers (``--workers``; real worker processes,
  Redis), with peak memory per worker and the run's own timings. The project
  is written once per session (COPY) into a fixture database that each
  checkout's probe copies (``CREATE DATABASE ... TEMPLATE``); ``--agreement-fixture``
  names one written before.
* ``autoruns``: 200 briefs x 3 annotators, 600 submissions one after the other
  with their automatic agreement runs as production runs them: on real Celery
  workers (the largest of ``--workers``) through Redis, each run waiting
  WARRANT_AGREEMENT_COALESCE_SECONDS (30) for the submissions that follow and
  reading only the chunks whose sets changed. CPU seconds of the workers
  (their processes and children, from /proc) from the first submission until
  no run is pending or running.
* ``memory``: gunicorn with 5 workers, idle 5 s after it answers: the
  resident memory of the workers.
* ``batch``: the comparison harness's workload (200 briefs x 3 annotators x 40
  spans + 20 relations, submitted) through ``POST /api/annotation-sets/N/batch/``
  (on a database that already holds an earlier project's same work, submitted and
  ANALYZEd, not an empty span table) from 8 client threads, each on a kept-alive
  connection, against Warrant as production runs it: gunicorn (4 workers) with Redis
  and a real Celery worker (2 processes) that computes the automatic agreement runs
  the submissions ask for (a Redis database of its own, WARRANT_BENCH_BATCH_REDIS_URL, default
  db 12). Submissions per second, the median server time, and how long the
  worker took after the last submission to finish the runs.
  ``--labelstudio URL`` (with ``--labelstudio-token`` or LABEL_STUDIO_TOKEN, a
  user's legacy API token) sends the same 600 submissions, in the same run just
  before Warrant's, to a Label Studio you started: a project with the
  equivalent labelling config (``LABEL_STUDIO_CONFIG``), the 200 briefs
  imported as tasks, then one ``POST /api/tasks/N/annotations/`` per submission
  (40 ``labels`` regions and 20 ``relation`` items of its result JSON) from 8
  threads. Label Studio is not a dependency and none of it is here. To run it
  (version 1.23.2 gave the figures of issue 12), outside the repository::

      python3 -m venv /work/ls-venv && /work/ls-venv/bin/pip install label-studio gunicorn
      createdb -h 127.0.0.1 -U postgres ls_bench
      export DJANGO_DB=default POSTGRE_NAME=ls_bench POSTGRE_HOST=127.0.0.1 \
        POSTGRE_USER=postgres POSTGRE_PASSWORD=postgres \
        COLLECT_ANALYTICS=false LATEST_VERSION_CHECK=false SENTRY_DSN= \
        FRONTEND_SENTRY_DSN= LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true \
        LABEL_STUDIO_USERNAME=bench@example.com LABEL_STUDIO_PASSWORD=bench-password-1 \
        LABEL_STUDIO_USER_TOKEN=<40 hex digits> LABEL_STUDIO_BASE_DATA_DIR=/work/ls-data
      label-studio start --no-browser -p 8089 --enable-legacy-api-token  # migrates, user
      # its own server is Django's runserver; like Warrant, 4 gunicorn workers:
      DJANGO_SETTINGS_MODULE=core.settings.label_studio SECRET_KEY=<50 characters> \
        gunicorn core.wsgi:application --workers 4 --bind 127.0.0.1:8090 \
        --pythonpath /work/ls-venv/lib/python3.11/site-packages/label_studio
      LABEL_STUDIO_TOKEN=<the token> .venv/bin/python benchmarks/scale.py --only batch \
        --labelstudio http://127.0.0.1:8090

  (the variables turn off its usage reports, version check and error reporting:
  it needs no internet access). The earlier sessions' batch figures ran
  gunicorn without a broker: every submission's automatic agreement run was
  computed in its request (tasks run in-process when no broker is configured).

Not here: ``benchmarks/load_annotate.py`` (50 clients saving spans in the
browser's way), the annotate page and every kind of edit
(``benchmarks/annotate_page.py``) and the span save's server time against another
checkout, in turns (``benchmarks/span_save.py``: the table's "span save" row).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.util
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBES = ("brief", "project", "agreement", "autoruns", "memory", "batch")
STATEMENT_TIMEOUT_MS = 30_000
#: The agreement probe runs in one process (the embedded mode) up to this many briefs:
#: beyond, the one-process run is the workers' chunks one after the other, for minutes.
IN_PROCESS_DOCUMENTS = 20_000
# 4 web workers as in the earlier sessions' batch figures (compose.yaml's default is 3),
# and a worker of 2 processes, compose.yaml's default (those figures had no worker).
BATCH_WEB_WORKERS = 4
BATCH_WORKER_CONCURRENCY = 2


# --------------------------------------------------------------------------- driver


def _server() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    return "postgres://postgres@127.0.0.1:5432/postgres"


def _database(server: str, name: str, *, drop: bool = False, template: str | None = None) -> str:
    import psycopg

    parts = urllib.parse.urlsplit(server)
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop:
            conn.execute(f'CREATE DATABASE "{name}"'
                         + (f' TEMPLATE "{template}"' if template else ""))
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def _fixture(code: Path, args, fixtures: dict, probe: str = "agreement") -> tuple[str | None, dict]:
    """The database holding the agreement probe's project (or the project probe's, with
    ``probe="project"``), built once per session and copied (CREATE DATABASE ...
    TEMPLATE) for each checkout, which migrates its copy forward:
    100,000 briefs x 3 sets x 40 spans take many minutes to write even with COPY.
    ``--agreement-fixture DB`` (``--project-fixture DB``) names one built beforehand
    (by ``--probe agreement --build-only`` on a migrated database)."""
    given = args.project_fixture if probe == "project" else args.agreement_fixture
    if given:
        return given, {"fixture": given}
    size = args.documents if probe == "project" else args.agreement_documents
    migrations = sorted(p.name for p in (code / "annotator" / "migrations").glob("0*.py"))
    key = hashlib.sha1(json.dumps([migrations, size] + (["project"] if probe == "project"
                                                          else [])).encode()).hexdigest()
    if key not in fixtures:
        name = f"warrant_scale_fixture_{key[:10]}"
        url = _database(_server(), name)
        env = _env(code, url, DATABASE_STATEMENT_TIMEOUT="0")
        began = time.monotonic()
        done = subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=code,
                              env=env, capture_output=True, text=True)
        if not done.returncode:
            done = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--probe", probe,
                 "--build-only", "--agreement-documents", str(args.agreement_documents),
                 "--documents", str(args.documents)],
                cwd=code, env=env, capture_output=True, text=True)
        if done.returncode:
            _database(_server(), name, drop=True)
            return None, {"error": (done.stderr or done.stdout)[-800:]}
        fixtures[key] = (name, {"fixture_build_seconds": time.monotonic() - began})
    return fixtures[key]


def _env(code: Path, database_url: str, **extra) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "warrant-scale-benchmark-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(code),
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": tempfile.mkdtemp(prefix="warrant-scale-media-"),
    }
    env.pop("CELERY_BROKER_URL", None)
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def run_probe(probe: str, code: Path, args, fixtures: dict) -> dict:
    name = f"warrant_scale_{probe}_{uuid.uuid4().hex[:6]}"
    template, built = None, {}
    if probe in ("agreement", "project"):
        # The big project is written by the oldest code measured (--base), and each
        # checkout migrates its copy forward, as a database that has lived would be.
        builder = args.base.resolve() if probe == "project" and args.base else code
        template, built = _fixture(builder, args, fixtures, probe)
        if template is None:
            return built
    url = _database(_server(), name, template=template)
    # Fixtures and runs of 100,000 briefs hold statements longer than production's 30 s.
    env = _env(code, url, DATABASE_STATEMENT_TIMEOUT="0")
    try:
        migrate = subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=code,
                                 env=env, capture_output=True, text=True)
        if migrate.returncode:
            return {"error": migrate.stderr[-500:]}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--probe", probe,
               "--documents", str(args.documents),
               "--agreement-documents", str(args.agreement_documents),
               "--workers", args.workers] + (["--prebuilt"] if template else [])
        if args.labelstudio and probe == "batch":
            cmd += ["--labelstudio", args.labelstudio]
            env["LABEL_STUDIO_TOKEN"] = args.labelstudio_token or os.environ.get(
                "LABEL_STUDIO_TOKEN", "")
        done = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True)
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
        if done.returncode or not lines:
            return {"error": (done.stderr or done.stdout)[-800:]}
        return {**built, **json.loads(lines[-1])}
    finally:
        _database(_server(), name, drop=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--agreement-documents", type=int, default=10_000)
    parser.add_argument("--base", type=Path, help="another checkout to measure the same way")
    parser.add_argument("--only", default=",".join(PROBES))
    parser.add_argument("--workers", default="1,2",
                        help="worker counts of the agreement probe (default 1,2)")
    parser.add_argument("--agreement-fixture",
                        help="an existing database holding the agreement probe's project")
    parser.add_argument("--project-fixture",
                        help="an existing database holding the project probe's projects "
                             "(built by --probe project --build-only on a migrated database)")
    parser.add_argument("--keep-fixtures", action="store_true",
                        help="keep the fixture databases built by this session")
    parser.add_argument("--labelstudio", metavar="URL",
                        help="a running Label Studio: the batch probe sends it the same "
                             "submissions in the same run (token: --labelstudio-token or "
                             "LABEL_STUDIO_TOKEN)")
    parser.add_argument("--labelstudio-token", default="",
                        help="a legacy API token of a Label Studio user")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--prebuilt", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        _setup()
        print(json.dumps(globals()[f"probe_{args.probe}"](args)))
        return 0
    trees = [("this", ROOT)] + ([("base", args.base.resolve())] if args.base else [])
    results: dict[str, dict[str, dict]] = {}
    fixtures: dict[str, tuple] = {}
    try:
        for probe in args.only.split(","):
            for label, code in trees:
                began = time.monotonic()
                print(f"[{probe} on {label} ({code}), load {os.getloadavg()}]", flush=True)
                results.setdefault(probe, {})[label] = result = run_probe(probe, code, args,
                                                                          fixtures)
                print(f"  {json.dumps(result)[:2000]}  ({time.monotonic() - began:.0f} s, "
                      f"load {os.getloadavg()})", flush=True)
    finally:
        if not args.keep_fixtures:
            for name, _ in fixtures.values():
                _database(_server(), name, drop=True)
    _table(results, [t[0] for t in trees])
    return 0


def _fmt_ms(seconds) -> str:
    if seconds is None:
        return "—"
    if isinstance(seconds, str):
        return seconds
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _cell(results, probe, tree, key, fmt=_fmt_ms) -> str:
    result = results.get(probe, {}).get(tree)
    if result is None:
        return "not run"
    if "error" in result:
        return "error"
    value = result
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return fmt(value) if value is not None else "—"


def _page(p) -> str:
    if not isinstance(p, dict):
        return str(p)
    parts = [_fmt_ms(p.get("seconds"))]
    if p.get("queries") is not None:
        parts.append(f"{p['queries']} q")
    if p.get("bytes") is not None:
        parts.append(f"{p['bytes'] / 1e6:.2f} MB")
    if p.get("status") not in (None, 200):
        parts.append(f"status {p['status']}")
    return ", ".join(parts)


def _table(results, trees) -> None:
    head = "| what | " + " | ".join(trees) + " | target |"
    print("\n" + head + "\n|" + " --- |" * (len(trees) + 2))

    def row(what, probe, key, target, fmt=_page):
        cells = [_cell(results, probe, t, key, fmt) for t in trees]
        print(f"| {what} | " + " | ".join(cells) + f" | {target} |")

    row("API set list, big brief", "brief", "pages.api_set_list", "< 100 ms")
    row("API set detail, big brief", "brief", "pages.api_set_detail", "< 1 s, < 15 queries")
    row("curation page, big brief", "brief", "pages.curation", "< 1 s, < 2 MB")
    row("annotate page, big brief (issue 13)", "brief", "pages.annotate", "< 300 ms")
    row("feedback page, big brief", "brief", "pages.feedback", "—")
    row("agreement disagreement view, big brief", "brief", "pages.agreement_document", "—")
    row("JSONL export, big brief", "brief", "export_jsonl", "—", _fmt_ms)
    row("slowest page of the big project", "project", "slowest", "< 200 ms", _slowest)
    row("assign 3 per document, big project", "project", "assign_seconds", "< 1 min",
        _fmt_ms)
    row("agreement, one process", "agreement", "in_process", "—", _fmt_ms)
    row("agreement, 1 worker", "agreement", "workers_1.seconds", "—", _fmt_ms)
    row("agreement, 2 workers", "agreement", "workers_2.seconds", "< 6 s at 10,000",
        _fmt_ms)
    row("peak memory per worker (2 workers)", "agreement", "workers_2.peak_mib", "< 512 MiB",
        lambda v: f"{v:.0f} MiB")
    row("600 submissions with automatic runs, CPU", "autoruns", "cpu_seconds", "< 30 s",
        _fmt_ms)
    row("batch API, 8 clients, submissions/s", "batch", "submissions_per_s",
        "≥ Label Studio's (next row)", lambda v: f"{v:.2f}")
    row("Label Studio, same submissions, 8 clients", "batch",
        "labelstudio.submissions_per_s", "—", lambda v: f"{v:.2f}")
    row("idle memory, 5 gunicorn workers", "memory", "total_mib", "< 400 MB",
        lambda v: f"{v:.0f} MiB")
    for tree in trees:
        pages = results.get("project", {}).get(tree, {}).get("pages")
        if pages:
            print(f"\nbig project pages ({tree}): "
                  + "; ".join(f"{k} {_page(v)}" for k, v in pages.items()))


def _slowest(pages) -> str:
    return str(pages)


# --------------------------------------------------------------------------- probes


def _setup() -> None:
    import django

    django.setup()


def _scale_module():
    """tests/scale.py of this checkout (the fixture builder), whatever code is measured."""
    spec = importlib.util.spec_from_file_location("scale_fixtures", ROOT / "tests" / "scale.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _timed_get(client, url, *, repeat: int = 2) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    best, queries, size, status = None, None, None, None
    for _ in range(repeat):
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
        began = time.perf_counter()
        try:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
        except Exception as exc:  # a cancelled statement: the old set list
            return {"seconds": f"timeout ({type(exc).__name__})"}
        took = time.perf_counter() - began
        best = took if best is None else min(best, took)
        queries, size, status = len(captured), len(response.content), response.status_code
    return {"seconds": best, "queries": queries, "bytes": size, "status": status}


def probe_brief(args) -> dict:
    from django.test import Client
    from django.urls import reverse

    scale = _scale_module()
    began = time.perf_counter()
    built = scale.build_project(slug="bigbrief", documents=1, students=2, spans=5000,
                               relations=2000, words=160_000, with_jobs=False)
    build_s = time.perf_counter() - began
    doc = built.documents[0]
    own = built.sets[0]
    client = Client()
    slug = built.project.slug
    pages = {}
    client.force_login(built.users["manager"])
    pages["api_set_list"] = _timed_get(client, reverse(
        "api-annotation-set-list", kwargs={"slug": slug, "document_id": doc.pk}))
    pages["api_set_detail"] = _timed_get(client, reverse(
        "api-annotation-set-detail", kwargs={"set_id": own.pk}))
    client.force_login(built.users["curator"])
    pages["curation"] = _timed_get(client, reverse(
        "curation-document", kwargs={"slug": slug, "document_id": doc.pk}))
    client.force_login(built.users["annotator"])
    pages["annotate"] = _timed_get(client, reverse(
        "annotate", kwargs={"slug": slug, "document_id": doc.pk}))
    pages["feedback"] = _timed_get(client, reverse(
        "feedback-document", kwargs={"slug": slug, "document_id": doc.pk}))
    from annotator.services.agreement import agreement_run_execute, agreement_run_request

    began = time.perf_counter()
    run = agreement_run_execute(run_id=agreement_run_request(project=built.project).pk)
    agreement_s = time.perf_counter() - began
    client.force_login(built.users["manager"])
    pages["agreement_document"] = _timed_get(client, reverse(
        "agreement-document", kwargs={"slug": slug, "document_id": doc.pk}))
    from annotator.services.export_jobs import export_job_execute, export_job_request

    began = time.perf_counter()
    job = export_job_request(project=built.project, requested_by=built.users["manager"],
                             format="jsonl")
    job = export_job_execute(job_id=job.pk)
    export_s = time.perf_counter() - began
    return {"build_seconds": build_s, "characters": len(doc.text), "pages": pages,
            "agreement_seconds": agreement_s, "agreement_status": run.status,
            "export_jsonl": export_s, "export_status": job.status}


def _copy(model, columns: list[str], rows) -> None:
    """``rows`` into ``model``'s table by PostgreSQL COPY (columns by field name)."""
    from django.db import connection

    table = model._meta.db_table
    names = ", ".join(f'"{model._meta.get_field(c).column}"' for c in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY {table} ({names}) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)


def _copy_lines(model, columns: list[str], lines) -> None:
    """COPY of rows already written as COPY's text lines (numbers and empty strings only:
    no escaping), joined in blocks: several times faster than a row at a time."""
    from django.db import connection

    table = model._meta.db_table
    names = ", ".join(f'"{model._meta.get_field(c).column}"' for c in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY {table} ({names}) FROM STDIN"
    ) as copy:
        block = []
        for line in lines:
            block.append(line)
            if len(block) == 50_000:
                copy.write("".join(block))
                block = []
        if block:
            copy.write("".join(block))


def _reserve_ids(model, count: int) -> list[int]:
    """``count`` consecutive ids from ``model``'s identity sequence, so that COPY's rows can
    point at each other (relations at spans) without reading them back. The benchmark is
    the only writer: one ``setval`` moves the sequence past them."""
    from django.db import connection

    if not count:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))")
        first = cursor.fetchone()[0]
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)",
                       [first + count - 1])
    return list(range(first, first + count))


_TOKEN = re.compile(r"\S+")


def _token_bounds(text: str) -> list[tuple[int, int]]:
    """``tests/scale.py``'s ``_token_bounds`` (runs of non-space), by a regular expression."""
    return [m.span() for m in _TOKEN.finditer(text)]


def _brief_text(rng: random.Random, words: int, vocabulary: list[str]) -> str:
    """``tests/scale.py``'s ``brief_text``, the same draws (``choice`` is ``_randbelow``)."""
    below, n = rng._randbelow, len(vocabulary)
    out = [vocabulary[below(n)] for _ in range(words)]
    for i in range(11, words, 12):
        out[i] += "."
    for i in range(119, words, 120):
        out[i] += "\n\n"
    return " ".join(out).replace("\n\n ", "\n\n")


def _big_project(slug: str, n_docs: int, *, students: int, per_doc: int, submitted: float,
                 spans: int, relations: int, words: int, seed: int = 0):
    """A project of ``n_docs`` briefs, ``per_doc`` students assigned each, a share of the
    sets submitted with ``spans`` spans and ``relations`` relations; written with COPY in
    batches of 10,000 briefs (ids reserved from the sequences), then VACUUM ANALYZEd, as a
    database that has lived would be.

    The rows are right by construction, so the COPYs run with the session's triggers off
    (``session_replication_role = replica``: no foreign-key checks, no relation endpoint
    check, no per-row trigger of migration 0015), the sets' project and document position
    written directly; 100,000 briefs of the agreement probe took 36 min with them on."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from annotator.formats.schema import load_schema
    from annotator.models import (
        AnnotationSet,
        Document,
        Membership,
        Relation,
        RelationType,
        Role,
        Span,
        SpanLabel,
    )
    from annotator.services.imports import content_hash
    from annotator.services.projects import project_create

    scale = _scale_module()
    rng = random.Random(seed)
    project = project_create(slug=slug, name=slug, schema=load_schema("argument"))
    User = get_user_model()
    manager = User.objects.create_user(username=f"{slug}-manager", password="pw-scale-1")
    users = User.objects.bulk_create(
        [User(username=f"{slug}-s{k:04d}") for k in range(students)])
    Membership.objects.bulk_create(
        [Membership(project=project, user=manager, role=Role.MANAGER)]
        + [Membership(project=project, user=u, role=Role.ANNOTATOR) for u in users])
    label_ids = list(SpanLabel.objects.filter(project=project).values_list("id", flat=True))
    type_ids = list(RelationType.objects.filter(project=project).values_list("id", flat=True))
    now = timezone.now()
    stamp = now.isoformat()
    batch = 10_000
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        for begin in range(0, n_docs, batch):
            texts = [f"Brief {i}.\n\n" + _brief_text(rng, words, scale.WORDS)
                     for i in range(begin, min(n_docs, begin + batch))]
            doc_ids = _reserve_ids(Document, len(texts))
            _copy(Document, ["id", "project", "external_id", "title", "text", "content_hash",
                             "original", "original_name", "source_format", "meta", "cleaning",
                             "position", "created_at"],
                  ((doc_ids[k], project.pk, f"brief-{begin + k}", f"Brief {begin + k}", t,
                    content_hash(t), t.encode(), "", "text", "{}", "{}", begin + k, now)
                   for k, t in enumerate(texts)))
            set_rows = []  # (document index, annotator id, submitted)
            for k in range(len(texts)):
                first = (begin + k) * per_doc
                for j in range(per_doc):
                    set_rows.append((k, users[(first + j) % students].pk,
                                     rng.random() < submitted))
            set_ids = _reserve_ids(AnnotationSet, len(set_rows))
            _copy(AnnotationSet, ["id", "document", "project", "document_position", "annotator",
                                  "is_gold", "status", "version", "gold_final", "created_at",
                                  "updated_at", "started_at", "submitted_at"],
                  ((set_ids[i], doc_ids[k], project.pk, begin + k, user, False,
                    "submitted" if done else "assigned", 1 if done else 0, False, now, now,
                    now if done else None, now if done else None)
                   for i, (k, user, done) in enumerate(set_rows)))
            span_rows, relation_rows = [], []
            bounds: dict[int, list] = {}
            for i, (k, _, done) in enumerate(set_rows):
                if not done or not spans:
                    continue
                if k not in bounds:
                    bounds = {k: _token_bounds(texts[k])}  # a brief's sets are together
                rows = scale.span_rows(rng, bounds[k], spans, label_ids)
                first = len(span_rows)
                span_rows += [(set_ids[i], lab, s, e) for s, e, lab in rows]
                relation_rows += [(set_ids[i], first + j + 1, first + j,
                                   type_ids[j % len(type_ids)])
                                  for j in range(min(relations, len(rows) - 1))]
            span_ids = _reserve_ids(Span, len(span_rows))
            _copy_lines(Span, ["id", "annotation_set", "label", "start", "end", "attributes",
                               "note", "external_id", "suggested_by", "created_at"],
                        (f"{span_ids[i]}\t{aset}\t{lab}\t{s}\t{e}\t{{}}\t\t\t\t{stamp}\n"
                         for i, (aset, lab, s, e) in enumerate(span_rows)))
            _copy_lines(Relation, ["annotation_set", "source", "target", "type", "attributes",
                                   "external_id", "created_at"],
                        (f"{aset}\t{span_ids[src]}\t{span_ids[dst]}\t{typ}\t{{}}\t\t{stamp}\n"
                         for aset, src, dst, typ in relation_rows))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
    _recount_assignments(project)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum would have done by now
    return project, manager


def _recount_assignments(project) -> None:
    """What the triggers of migration 0018 would have counted from the sets written
    with them off (code without that migration has nothing to count)."""
    from django.db import connection

    from annotator import models

    if not hasattr(models, "AssignmentCount"):
        return
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM annotator_assignmentcount WHERE project_id = %s",
                       [project.pk])
        cursor.execute(
            "INSERT INTO annotator_assignmentcount (project_id, annotator_id, status, due, n) "
            "SELECT project_id, annotator_id, status, COALESCE(due, %s), COUNT(*) "
            "FROM annotator_annotationset WHERE project_id = %s AND NOT is_gold "
            "GROUP BY 1, 2, 3, 4", [models.NO_DUE, project.pk])


def _finished_run(project) -> dict:
    """A finished agreement run of the big project, written directly: its summary and
    per-document figures are those of a real run on a sample of 30 briefs x 3
    annotators (computed here in one process), given to each brief of the big
    project that has two submitted sets or more, ranked as a run would rank them.
    Computing a run of 100,000 briefs is the agreement probe's business."""
    from django.db.models import Count, Q
    from django.utils import timezone

    from annotator.models import AgreementDocumentRank, AgreementRun, AnnotationSet
    from annotator.services import agreement as service

    sample, _ = _big_project("agreementsample", 30, students=3, per_doc=3, submitted=1.0,
                             spans=40, relations=20, words=120, seed=7)
    run = service.agreement_run_execute(
        run_id=service.agreement_run_request(project=sample).pk)
    run = AgreementRun.objects.get(pk=run.pk)
    fields = ("figures", "disagreement", "alpha", "span_f1", "relation_f1")
    sample_ranks = list(AgreementDocumentRank.objects.filter(run=run).values(*fields))
    if run.status != "done" or not sample_ranks:
        return {"error": f"the sample run is {run.status}, {len(sample_ranks)} ranks"}
    docs = list(
        AnnotationSet.objects.filter(project=project, is_gold=False)
        .values("document_id", "document__external_id")
        .annotate(n=Count("pk", filter=Q(status="submitted")))
        .filter(n__gte=2).order_by("document_id")
        .values_list("document_id", "document__external_id"))
    now = timezone.now()
    summary = run.report_summary or {
        k: v for k, v in (run.report or {}).items() if k != "by_document"}
    big = AgreementRun.objects.create(
        project=project, status="done", progress=1.0, parameters=run.parameters,
        data_version=run.data_version, started_at=now, finished_at=now,
        report=summary, report_summary=summary)
    order = sorted(range(len(docs)), key=lambda k: (
        -(sample_ranks[k % len(sample_ranks)]["disagreement"] or -1), k))
    placed = {"position"} & {f.name for f in AgreementDocumentRank._meta.fields}
    ranks = [
        AgreementDocumentRank(
            run=big, rank=rank, external_id=docs[k][1], document_id=docs[k][0],
            **sample_ranks[k % len(sample_ranks)],
            **({"position": k + 1} if placed else {}))
        for rank, k in enumerate(order, start=1)
    ]
    AgreementDocumentRank.objects.bulk_create(ranks, batch_size=5000)
    return {"ranked": len(ranks)}


def probe_project(args) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from annotator.models import AnnotationSet, Document, Project
    from annotator.services.assignments import assignments_make

    n = args.documents
    began = time.perf_counter()
    if args.prebuilt:
        project = Project.objects.get(slug="bigproject")
        manager = get_user_model().objects.get(username="bigproject-manager")
        build_s, n = None, project.documents.count()
    else:
        project, manager = _big_project("bigproject", n, students=300, per_doc=3,
                                        submitted=0.1, spans=40, relations=20, words=120)
        build_s = time.perf_counter() - began
    if args.build_only:
        _big_project("assignproject", n, students=300, per_doc=0, submitted=0,
                     spans=0, relations=0, words=20)
        return {"documents": n, "build_seconds": time.perf_counter() - began}
    run = _finished_run(project)
    client = Client()
    client.force_login(manager)
    slug = project.slug
    doc = Document.objects.filter(project=project).order_by("position").first()
    # A student with submitted work, for the pages as they see them.
    student = AnnotationSet.objects.filter(
        project=project, is_gold=False, status="submitted").order_by("pk").first()
    as_student = Client()
    as_student.force_login(student.annotator)
    urls = {
        "home": reverse("home"),
        "documents": reverse("project-detail", kwargs={"slug": slug}),
        "documents_search": reverse("project-detail", kwargs={"slug": slug}) + "?q=Brief+77",
        "documents_last_page": reverse("project-detail", kwargs={"slug": slug})
        + f"?page={max(1, n // 50)}",
        "document": reverse("document-detail", kwargs={"slug": slug, "document_id": doc.pk}),
        "members": reverse("members", kwargs={"slug": slug}),
        "assignments": reverse("assignments", kwargs={"slug": slug}),
        # The deepest pages cost what the first does (a page past the end is the last).
        "assignments_middle": reverse("assignments", kwargs={"slug": slug})
        + f"?page={max(1, 3 * n // 100)}",
        "assignments_last_page": reverse("assignments", kwargs={"slug": slug})
        + f"?page={max(1, 3 * n // 50) + 1}",
        "assignments_search": reverse("assignments", kwargs={"slug": slug}) + "?q=s0042",
        # A term in every title: one page and a count, not every match sorted.
        "assignments_search_all": reverse("assignments", kwargs={"slug": slug}) + "?q=Brief",
        "assignments_search_all_page_9": reverse("assignments", kwargs={"slug": slug})
        + "?q=Brief&page=9",
        "progress": reverse("progress", kwargs={"slug": slug}),
        "progress_last_pages": reverse("progress", kwargs={"slug": slug})
        + f"?documents={max(1, n // 50) + 1}&annotators=99",
        "curation": reverse("curation", kwargs={"slug": slug}),
        "agreement": reverse("agreement", kwargs={"slug": slug}),
        "grades": reverse("grades", kwargs={"slug": slug}),
        "exports": reverse("exports", kwargs={"slug": slug}),
        "settings": reverse("project-settings", kwargs={"slug": slug}),
        "api_documents": reverse("api-document-list", kwargs={"slug": slug}),
        "api_project": reverse("api-project-detail", kwargs={"slug": slug}),
    }
    pages = {name: _timed_get(client, url) for name, url in urls.items()}
    student_urls = {
        "student_home": reverse("home"),
        "student_documents": reverse("project-detail", kwargs={"slug": slug}),
        "student_documents_last_page": reverse("project-detail", kwargs={"slug": slug})
        + f"?page={max(1, n // 50)}",
        "student_progress": reverse("progress", kwargs={"slug": slug}),
        "student_feedback": reverse("feedback", kwargs={"slug": slug}),
        "student_agreement": reverse("agreement", kwargs={"slug": slug}),
    }
    pages.update({name: _timed_get(as_student, url) for name, url in student_urls.items()})
    timed = {k: v["seconds"] for k, v in pages.items() if isinstance(v.get("seconds"), float)
             and v.get("status", 200) == 200}
    slowest = max(timed, key=timed.get) if timed else None

    # Assigning: a second project of as many briefs, nobody assigned yet.
    if args.prebuilt:
        other = Project.objects.get(slug="assignproject")
    else:
        other, _ = _big_project("assignproject", n, students=300, per_doc=0, submitted=0,
                                spans=0, relations=0, words=20)
    began = time.perf_counter()
    try:
        made = len(assignments_make(project=other, per_document=3, seed=1))
        assign_s = time.perf_counter() - began
    except Exception as exc:
        made, assign_s = 0, f"failed ({type(exc).__name__})"
    from annotator.selectors import progress

    kept = None
    if hasattr(progress, "assignment_counts"):  # the kept counts say what a recount says
        today = datetime.date.today()
        recount = AnnotationSet.objects.filter(project=project, is_gold=False).aggregate(
            **progress.status_counts(today))
        row = progress.assignment_counts(project=project, today=today)
        kept = ({name: getattr(row, name) for name in recount} == recount
                and row.total == 3 * n)
    return {
        "documents": n,
        "counts_kept_right": kept,
        "sets": AnnotationSet.objects.filter(document__project=project).count(),
        "submitted": AnnotationSet.objects.filter(document__project=project,
                                                  status="submitted").count(),
        "build_seconds": build_s,
        "agreement_run": run,
        "pages": pages,
        "slowest": f"{slowest}: {_page(pages[slowest])}" if slowest else "—",
        "assigned": made,
        "assign_seconds": assign_s,
    }


def _worker_peak_mib(pids) -> float:
    peak = 0.0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            pass
    return peak


def _children(pid: int) -> list[int]:
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("PPid:") and int(line.split()[1]) == pid:
                out.append(int(status.parent.name))
    return out


def probe_agreement(args) -> dict:
    from django.conf import settings

    from annotator.models import AgreementRun, Project
    from annotator.services import agreement as service

    n = args.agreement_documents
    began = time.perf_counter()
    if args.prebuilt:
        project = Project.objects.get(slug="agreementproject")
        out = {"documents": project.documents.count()}
    else:
        project, _ = _big_project("agreementproject", n, students=3, per_doc=3, submitted=1.0,
                                  spans=40, relations=20, words=600)
        out = {"documents": n, "build_seconds": time.perf_counter() - began}
    if args.build_only:
        return out
    chunked = hasattr(service, "agreement_run_pool")

    def clear():
        AgreementRun.objects.all().delete()
        if chunked:
            from annotator.models import AgreementChunk

            AgreementChunk.objects.all().delete()

    if n <= IN_PROCESS_DOCUMENTS:
        clear()
        began = time.perf_counter()
        run = service.agreement_run_execute(
            run_id=service.agreement_run_request(project=project).pk)
        out["in_process"] = time.perf_counter() - began
        out["in_process_status"] = run.status
        out["in_process_peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if not chunked:
        out["workers_1"] = out["workers_2"] = {"seconds": "no chunked runs in this code"}
        return out
    # A Redis database of the benchmark's own (tests use 14 and their own queues).
    redis = os.environ.get("WARRANT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    for count in [int(c) for c in args.workers.split(",")]:
        clear()
        # The default queue on a Redis database of the benchmark's own: the
        # coordinator's chunk tasks go where the workers listen, as in production.
        queue = "celery"
        _flush(redis)
        env = {**os.environ, "CELERY_BROKER_URL": redis}
        with tempfile.TemporaryDirectory() as tmp, _broker(redis, queue):
            workers = [_start_worker(env, queue, Path(tmp) / f"w{k}.log")
                       for k in range(count)]
            try:
                began = time.perf_counter()
                requested = datetime.datetime.now()
                run = service.agreement_run_request(project=project)
                while not AgreementRun.objects.filter(
                    pk=run.pk, status__in=("done", "failed")
                ).exists():
                    time.sleep(0.2)
                    if time.perf_counter() - began > 900:
                        break
                took = time.perf_counter() - began
                run.refresh_from_db()
                pools = [c for w in workers for c in _children(w.pid)]
                out[f"workers_{count}"] = {
                    "seconds": took, "status": run.status, "error": run.error[:300],
                    "chunks": len((run.plan or {}).get("chunks", [])),
                    "peak_mib": _worker_peak_mib(pools),
                    "peak_mib_each": [round(_worker_peak_mib([pid])) for pid in pools],
                    "timings": run.timings,
                    "planned_in": (run.plan or {}).get("planned_in"),
                    "timeline": _timeline(Path(tmp), requested),
                }
            finally:
                for w in workers:
                    os.killpg(w.pid, 15)
                    w.wait(timeout=30)
    out["chunk_documents"] = settings.WARRANT_AGREEMENT_CHUNK_DOCUMENTS
    return out


#: A task's arrival in a worker's log (``--loglevel=INFO``).
_RECEIVED = re.compile(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): INFO/MainProcess\] "
                       r"Task annotator\.tasks\.agreement_(\w+)_task\[")


def _timeline(logs: Path, since: datetime.datetime) -> list[str]:
    """When each agreement task of the run reached which worker, in seconds after the
    request ("1.14 w0 chunk"): a worker takes its next task when it finished the last
    one (one process each, acknowledging late with a prefetch of one), so the gaps are
    the tasks' times."""
    events = []
    for log in sorted(logs.glob("w*.log")):
        for stamp, task in _RECEIVED.findall(log.read_text(errors="replace")):
            at = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
            if at >= since:
                events.append(((at - since).total_seconds(), log.stem, task))
    return [f"{at:.2f} {worker} {task}" for at, worker, task in sorted(events)]


def _start_worker(env: dict, queue: str, log_path: Path, *,
                  concurrency: int = 1, cwd: Path | None = None) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115 - the child writes to it
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
         f"--concurrency={concurrency}", "--loglevel=INFO", "-Q", queue, "--without-mingle",
         "--without-gossip", "-n", f"{log_path.stem}-{uuid.uuid4().hex[:6]}@%h"],
        env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    deadline = time.monotonic() + 60
    while b" ready." not in log_path.read_bytes():
        if time.monotonic() > deadline or worker.poll() is not None:
            raise RuntimeError(log_path.read_text()[-2000:])
        time.sleep(0.2)
    return worker


def _flush(url: str) -> None:
    """Drop the benchmark queue's messages left by an interrupted run (only its keys)."""
    import redis

    client = redis.Redis.from_url(url)
    client.delete("celery", "unacked", "unacked_index", "unacked_mutex")
    client.close()


class _broker:
    """Send this process's tasks to Redis, on ``queue`` (the probe runs eagerly otherwise)."""

    def __init__(self, url: str, queue: str):
        self.url, self.queue = url, queue

    def __enter__(self):
        from kombu import pools

        from config.celery import app

        self.app, self.pools = app, pools
        self.saved = {k: app.conf[k] for k in ("task_always_eager", "broker_url",
                                               "task_default_queue")}
        self._reset()
        app.conf.update(task_always_eager=False, broker_url=self.url,
                        task_default_queue=self.queue)
        return self

    def _reset(self):
        self.pools.reset()
        self.app._pool = None
        self.app.__dict__.pop("amqp", None)

    def __exit__(self, *exc):
        self._reset()
        self.app.conf.update(self.saved)


def probe_autoruns(args) -> dict:
    from django.conf import settings

    from annotator.models import AgreementRun, AnnotationSet
    from annotator.services.annotations import annotation_set_submit

    project, _ = _big_project("autoruns", 200, students=3, per_doc=3, submitted=0.0,
                              spans=0, relations=0, words=600)
    scale = _scale_module()
    rng = random.Random(1)
    from annotator.models import Relation, RelationType, Span, SpanLabel

    label_ids = list(SpanLabel.objects.filter(project=project).values_list("id", flat=True))
    type_ids = list(RelationType.objects.filter(project=project).values_list("id", flat=True))
    sets = list(AnnotationSet.objects.filter(document__project=project)
                .select_related("document"))
    for aset in sets:  # the work is there; the submissions are what is measured
        rows = scale.span_rows(rng, scale._token_bounds(aset.document.text), 40, label_ids)
        spans = Span.objects.bulk_create([Span(annotation_set=aset, label_id=lab, start=s,
                                               end=e) for s, e, lab in rows])
        Relation.objects.bulk_create([
            Relation(annotation_set=aset, source_id=spans[k + 1].pk, target_id=spans[k].pk,
                     type_id=type_ids[k % len(type_ids)]) for k in range(20)])
    AnnotationSet.objects.filter(pk__in=[s.pk for s in sets]).update(status="in_progress")
    rng.shuffle(sets)
    # As in production: the automatic runs go to real workers through Redis, wait
    # WARRANT_AGREEMENT_COALESCE_SECONDS (submissions meanwhile share the run), and
    # read only the chunks whose sets changed. Measured: the workers' CPU seconds.
    redis = os.environ.get("WARRANT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    _flush(redis)
    env = {**os.environ, "CELERY_BROKER_URL": redis}
    count = max(int(c) for c in args.workers.split(","))
    with tempfile.TemporaryDirectory() as tmp, _broker(redis, "celery"):
        workers = [_start_worker(env, "celery", Path(tmp) / f"w{k}.log") for k in range(count)]
        try:
            time.sleep(1.0)
            cpu_before = _tree_cpu_seconds([w.pid for w in workers])
            began = time.perf_counter()
            for aset in sets:
                aset.refresh_from_db()
                annotation_set_submit(annotation_set=aset, expected_version=aset.version)
            submitted = time.perf_counter() - began
            while AgreementRun.objects.filter(project=project,
                                              status__in=("pending", "running")).exists():
                time.sleep(0.5)
                if time.perf_counter() - began > 1800:
                    break
            wall = time.perf_counter() - began
            cpu = _tree_cpu_seconds([w.pid for w in workers]) - cpu_before
        finally:
            for w in workers:
                os.killpg(w.pid, 15)
                w.wait(timeout=30)
    runs = AgreementRun.objects.filter(project=project)
    return {"submissions": len(sets), "workers": count, "submit_seconds": submitted,
            "wall_seconds": wall, "cpu_seconds": cpu, "runs": runs.count(),
            "runs_done": runs.filter(status="done").count(),
            "coalesce_seconds": settings.WARRANT_AGREEMENT_COALESCE_SECONDS}


def _tree_cpu_seconds(pids) -> float:
    """User + system CPU of processes and their children (live ones, and the
    reaped ones their parents accounted), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        for p in [pid, *_children(pid)]:
            try:
                fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # utime, stime, cutime, cstime are fields 14-17 of stat (11-14 after the name).
            total += sum(int(f) for f in fields[11:15]) / ticks
    return total


class _gunicorn:
    """gunicorn serving the measured code on a free loopback port, until the block ends."""

    def __init__(self, workers: int, env: dict | None = None):
        self.workers = workers
        self.env = env

    def __enter__(self):
        import socket
        import urllib.request

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.tmp = tempfile.TemporaryDirectory()
        log = open(Path(self.tmp.name) / "gunicorn.log", "wb")
        self.master = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
             f"127.0.0.1:{self.port}", "--workers", str(self.workers),
             "--no-control-socket"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        return self

    def __exit__(self, *exc):
        os.killpg(self.master.pid, 15)
        self.master.wait(timeout=20)
        self.tmp.cleanup()


def probe_memory(args) -> dict:
    with _gunicorn(5) as web:
        time.sleep(5)
        rss = []
        for pid in _children(web.master.pid):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss.append(int(line.split()[1]) / 1024)
    return {"workers": len(rss), "total_mib": sum(rss),
            "per_worker_mib": statistics.mean(rss) if rss else None}


#: Label Studio's labelling config equivalent to the ``argument`` preset: the span
#: labels and the relation types (Label Studio keeps no allowed pairs).
LABEL_STUDIO_CONFIG = """<View>
  <Relations>
    <Relation value="supports"/><Relation value="attacks"/><Relation value="evidence_for"/>
  </Relations>
  <Labels name="label" toName="text">
    <Label value="MajorClaim"/><Label value="Claim"/><Label value="Reason"/>
    <Label value="Evidence"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>"""
BATCH_CLIENTS = 8
BATCH_LABELS = ("Claim", "Reason", "Evidence", "MajorClaim")


def _batch_workload(project) -> list[dict]:
    """One submission per set: its document's text, 40 spans and 20 relations."""
    from annotator.models import AnnotationSet

    scale = _scale_module()
    rng = random.Random(2)
    work = []
    for aset in (AnnotationSet.objects.filter(document__project=project)
                 .select_related("document").order_by("pk")):
        rows = scale.span_rows(rng, scale._token_bounds(aset.document.text), 40, [0])
        work.append({"set": aset.pk, "annotator": aset.annotator_id,
                     "document": aset.document_id, "text": aset.document.text,
                     "spans": [(s, e, BATCH_LABELS[k % 4]) for k, (s, e, _) in enumerate(rows)],
                     "relations": [(k + 1, k, "attacks") for k in range(20)]})
    return work


def _post_concurrently(base_url: str, requests: list[tuple[str, dict, str]],
                       clients: int = BATCH_CLIENTS) -> dict:
    """POST every (path, headers, body) from ``clients`` threads, each on one kept-alive
    connection: the statuses, the wall time and the median server time (Server-Timing)."""
    import http.client

    parts = urllib.parse.urlsplit(base_url)
    queue = list(reversed(requests))
    statuses: list[int] = []
    server_ms: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        while True:
            with lock:
                if not queue:
                    break
                path, headers, body = queue.pop()
            conn.request("POST", parts.path.rstrip("/") + path, body=body,
                         headers={**headers, "Content-Type": "application/json"})
            response = conn.getresponse()
            answer = response.read()
            timing = response.getheader("Server-Timing") or ""
            with lock:
                statuses.append(response.status)
                if response.status >= 300 and len(errors) < 3:
                    errors.append(answer[:300].decode(errors="replace"))
                if "dur=" in timing:
                    server_ms.append(float(timing.split("dur=")[1].split(",")[0]
                                           .split(";")[0]))
        conn.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - began
    ok = sum(1 for code in statuses if code in (200, 201))
    return {"submissions": len(statuses), "created": ok, "seconds": took,
            "submissions_per_s": ok / took,
            "server_ms_median": statistics.median(server_ms) if server_ms else None,
            "other_statuses": sorted(set(statuses) - {200, 201}), "errors": errors,
            "load_average": os.getloadavg()}


def _labelstudio(url: str, token: str, work: list[dict]) -> dict:
    """The same submissions to a running Label Studio: a project with the equivalent
    config, one task per brief, then one POST /api/tasks/N/annotations/ per submission
    (its result JSON: 40 ``labels`` regions and 20 ``relation`` items)."""
    import urllib.request

    headers = {"Authorization": f"Token {token}"}

    def call(method: str, path: str, payload=None):
        request = urllib.request.Request(
            url.rstrip("/") + path, method=method, headers={
                **headers, "Content-Type": "application/json"},
            data=None if payload is None else json.dumps(payload).encode())
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read() or b"null")

    project = call("POST", "/api/projects/", {"title": f"warrant-bench-{uuid.uuid4().hex[:6]}",
                                               "label_config": LABEL_STUDIO_CONFIG})
    documents = sorted({w["document"]: w["text"] for w in work}.items())
    call("POST", f"/api/projects/{project['id']}/import",
         [{"data": {"text": text, "warrant_document": doc}} for doc, text in documents])
    task_of = {}
    page = 1
    while len(task_of) < len(documents):
        listing = call("GET", f"/api/tasks/?project={project['id']}&page={page}"
                              "&page_size=100&fields=all")
        tasks = listing["tasks"] if isinstance(listing, dict) else listing
        if not tasks:
            break
        for task in tasks:
            task_of[task["data"]["warrant_document"]] = task["id"]
        page += 1
    requests = []
    for w in work:
        text = w["text"]
        result = [{"id": f"T{k}", "from_name": "label", "to_name": "text", "type": "labels",
                   "value": {"start": s, "end": e, "text": text[s:e], "labels": [label]}}
                  for k, (s, e, label) in enumerate(w["spans"])]
        result += [{"from_id": f"T{a}", "to_id": f"T{b}", "type": "relation",
                    "direction": "right", "labels": [rtype]} for a, b, rtype in w["relations"]]
        body = json.dumps({"result": result, "was_cancelled": False, "ground_truth": False,
                           "lead_time": 60.0})
        requests.append((f"/api/tasks/{task_of[w['document']]}/annotations/", headers, body))
    out = _post_concurrently(url, requests)
    out["project"] = project["id"]
    out["annotations_stored"] = call("GET", f"/api/projects/{project['id']}/")[
        "total_annotations_number"]
    return out


def probe_batch(args) -> dict:
    """The batch workload through Warrant as production runs it (gunicorn, Redis and a
    Celery worker that computes the automatic agreement runs), and through Label Studio
    in the same run when ``--labelstudio`` names one."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.urls import NoReverseMatch, reverse

    from annotator.models import AgreementRun
    from annotator.services.tokens import api_token_create

    try:
        reverse("api-annotation-set-batch", kwargs={"set_id": 1})
    except NoReverseMatch:
        return {"submissions_per_s": "no batch API in this code"}
    # An earlier project's submitted work first, as on a database that has lived: with the
    # span table ANALYZEd empty, PostgreSQL plans the checks of every relation insert (its
    # foreign keys, the endpoint trigger) as sequential scans of it and keeps those plans
    # while the 24,000 spans arrive (300-570 million rows read, 18-26 s of PostgreSQL's CPU
    # for the 600 submissions instead of 5.5) unless autovacuum happens to ANALYZE in time:
    # Warrant's figure went from 18 to 34 submissions/s between runs, 59-61 with this.
    _big_project("batchearlier", 200, students=3, per_doc=3, submitted=1.0, spans=40,
                 relations=20, words=600, seed=1)
    project, _ = _big_project("batch", 200, students=3, per_doc=3, submitted=0.0, spans=0,
                              relations=0, words=600)
    work = _batch_workload(project)
    users = get_user_model().objects.in_bulk({w["annotator"] for w in work})
    tokens = {pk: api_token_create(user=user).key for pk, user in users.items()}
    requests = []
    for w in work:
        spans = [{"id": f"T{k}", "label": label, "start": s, "end": e}
                 for k, (s, e, label) in enumerate(w["spans"])]
        relations = [{"source": f"T{a}", "target": f"T{b}", "type": rtype}
                     for a, b, rtype in w["relations"]]
        requests.append((f"/api/annotation-sets/{w['set']}/batch/",
                         {"Authorization": f"Token {tokens[w['annotator']]}"},
                         json.dumps({"version": 0, "spans": spans, "relations": relations,
                                     "submit": True})))
    out = {}
    if args.labelstudio:
        token = args.labelstudio_token or os.environ.get("LABEL_STUDIO_TOKEN", "")
        out["labelstudio"] = _labelstudio(args.labelstudio, token, work)
    redis = os.environ.get("WARRANT_BENCH_BATCH_REDIS_URL", "redis://127.0.0.1:6379/12")
    _flush(redis)
    env = {**os.environ, "CELERY_BROKER_URL": redis}
    with tempfile.TemporaryDirectory() as tmp:
        worker = _start_worker(env, "celery", Path(tmp) / "worker.log",
                               concurrency=BATCH_WORKER_CONCURRENCY)
        try:
            with _gunicorn(BATCH_WEB_WORKERS, env=env) as web:
                warrant = _post_concurrently(f"http://127.0.0.1:{web.port}", requests)
            # The automatic runs the submissions asked for, done on the worker after them.
            began = time.perf_counter()
            while AgreementRun.objects.filter(project=project,
                                              status__in=("pending", "running")).exists():
                if time.perf_counter() - began > 600:
                    break
                time.sleep(0.5)
            warrant["runs_settled_after_s"] = time.perf_counter() - began
            warrant["agreement_runs"] = dict(
                AgreementRun.objects.filter(project=project).values_list("status")
                .annotate(n=Count("id")))
        finally:
            os.killpg(worker.pid, 15)
            worker.wait(timeout=30)
        _flush(redis)
    out.update(warrant)
    if "labelstudio" in out:
        out["warrant_over_labelstudio"] = (out["submissions_per_s"]
                                           / out["labelstudio"]["submissions_per_s"])
    return out


if __name__ == "__main__":
    sys.exit(main())
