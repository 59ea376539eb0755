r"""The agreement pages with a finished run on a big project (issue 12).

    .venv/bin/python benchmarks/agreement_page.py --build DB --documents 10000 --annotators 300
    .venv/bin/python benchmarks/agreement_page.py --fixture DB --base /work/h26-base

``--build DB`` writes the fixture once: ``--documents`` briefs of 120 words, 3 of
``--annotators`` students on each, every set submitted with 40 spans and 20
relations (``benchmarks/scale.py``'s COPY builder), then one agreement run
computed in this process. ``--fixture DB`` copies it (``CREATE DATABASE ...
TEMPLATE``) for this checkout and for ``--base`` (another checkout, its own
``.venv``), migrates each copy with its own code, and times as the manager,
through Django's test client (server time, no network; best of ``--repeat``):
the agreement page, its deepest page of documents, the run's finished status
partial, the disagreement view of one document, and the API's report and run.
Each checkout runs in turn, twice (this one, the base, this one, the base), so
that a drift of the machine's load shows.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _scale():
    spec = importlib.util.spec_from_file_location("scale_bench", ROOT / "benchmarks" / "scale.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def build(args) -> dict:
    scale = _scale()
    scale._setup()
    from annotator.services.agreement import agreement_run_execute, agreement_run_request

    began = time.perf_counter()
    project, _ = scale._big_project("agreementpage", args.documents, students=args.annotators,
                                    per_doc=3, submitted=1.0, spans=40, relations=20, words=120)
    built = time.perf_counter() - began
    began = time.perf_counter()
    run = agreement_run_execute(run_id=agreement_run_request(project=project).pk)
    return {"build_seconds": built, "run_seconds": time.perf_counter() - began,
            "run_status": run.status, "error": run.error[:300]}


def measure(args) -> dict:
    scale = _scale()
    scale._setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from annotator.models import AgreementRun, Project

    project = Project.objects.get(slug="agreementpage")
    run = AgreementRun.objects.filter(project=project, status="done").latest("id")
    client = Client()
    client.force_login(get_user_model().objects.get(username="agreementpage-manager"))
    doc = project.documents.order_by("position").first()
    last = -(-project.documents.count() // 50)
    slug = project.slug
    urls = {
        "page": reverse("agreement", kwargs={"slug": slug}),
        "page_last": reverse("agreement", kwargs={"slug": slug}) + f"?page={last}",
        "status_done": reverse("agreement-run-status", kwargs={"slug": slug, "run_id": run.pk}),
        "document": reverse("agreement-document", kwargs={"slug": slug, "document_id": doc.pk}),
        "api_report": reverse("api-agreement", kwargs={"slug": slug}),
        "api_run": reverse("api-agreement-run", kwargs={"run_id": run.pk}),
    }
    return {name: scale._timed_get(client, url, repeat=args.repeat) for name, url in urls.items()}


def _run(code: Path, fixture: str, args) -> dict:
    scale = _scale()
    name = f"warrant_agreement_page_{os.getpid()}"
    url = scale._database(scale._server(), name, template=fixture)
    env = scale._env(code, url, DATABASE_STATEMENT_TIMEOUT="0")
    python = str(code / ".venv" / "bin" / "python")
    try:
        done = subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=code, env=env,
                              capture_output=True, text=True)
        if done.returncode:
            return {"error": done.stderr[-500:]}
        done = subprocess.run([python, str(Path(__file__).resolve()), "--measure",
                               "--repeat", str(args.repeat)], cwd=code, env=env,
                              capture_output=True, text=True)
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
        if done.returncode or not lines:
            return {"error": (done.stderr or done.stdout)[-800:]}
        return json.loads(lines[-1])
    finally:
        scale._database(scale._server(), name, drop=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", metavar="DB", help="write the fixture into this new database")
    parser.add_argument("--fixture", metavar="DB", help="the fixture to measure on")
    parser.add_argument("--base", type=Path, help="another checkout to measure the same way")
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--annotators", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args)))
        return 0
    if args.build:
        scale = _scale()
        url = scale._database(scale._server(), args.build)
        env = scale._env(ROOT, url, DATABASE_STATEMENT_TIMEOUT="0")
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env,
                       check=True)
        os.environ.update(env)
        print(json.dumps(build(args)))
        return 0
    if not args.fixture:
        parser.error("--build DB or --fixture DB")
    trees = [("this", ROOT)] + ([("base", args.base.resolve())] if args.base else [])
    results: dict[str, list] = {name: [] for name, _ in trees}
    for _ in range(2):
        for name, code in trees:
            results[name].append(_run(code, args.fixture, args))
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    pages = [p for p in results["this"][0] if p != "error"]
    print(f"load averages after: {' '.join(load)}")
    print(f"{'page':<12}" + "".join(f"{name + ' ms (q, KB)':>30}" for name, _ in trees))
    for page in pages:
        cells = []
        for name, _ in trees:
            runs = [r.get(page, {}) for r in results[name]]
            best = min((r["seconds"] for r in runs if isinstance(r.get("seconds"), float)),
                       default=None)
            first = runs[0]
            cells.append("—" if best is None else
                         f"{best * 1000:.0f} ({first.get('queries')}, "
                         f"{(first.get('bytes') or 0) // 1024})")
        print(f"{page:<12}" + "".join(f"{c:>30}" for c in cells))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
