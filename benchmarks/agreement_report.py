r"""Peak memory and time of the readers of a finished run's report (issue 12, point 1).

    .venv/bin/python benchmarks/agreement_page.py --build DB --documents 10000 --annotators 300
    .venv/bin/python benchmarks/agreement_report.py --fixture DB --base /work/base-checkout

On ``benchmarks/agreement_page.py``'s fixture (a project of ``--documents`` briefs
with one finished run), copied and migrated for this checkout and for ``--base``
(as that benchmark does), each reader runs in a fresh process as the manager,
through Django's test client with the answer read to its end and dropped: the
page's download, the API's report and run, and the project's backup (to
/dev/null). A process's peak resident memory (``ru_maxrss``) is measured above
its resident memory after one small request (Django and the app loaded); time is
the best of ``--repeat`` and the first (which, on this checkout, places the
run's ranks). The checkouts run in turn, twice, so that a drift of the load shows.

Measured 2026-12-07 on the 10,000-brief fixture (300 annotators, 19 MB report),
PostgreSQL, this 2-core machine shared with other work (load averages 3.6-4.5
before the passes), against 1e869d6 (before the streamed readers), best of 2:

    reader        streamed: s, peak MiB    stored report: s, peak MiB
    download      2.25, 29                 3.29, 226
    API report    1.45, 28                 1.46, 146
    API run       2.02, 26                 2.15, 130
    backup        142, 27                  117, 101  (time: noise of the load)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READERS = ("download", "api_report", "api_run", "backup")


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_bench",
                                                  ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure(reader: str, repeat: int) -> dict:
    _module("scale")._setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from annotator.models import AgreementRun, Project

    project = Project.objects.get(slug="agreementpage")
    run = AgreementRun.objects.filter(project=project, status="done").latest("id")
    client = Client()
    client.force_login(get_user_model().objects.get(username="agreementpage-manager"))
    slug = project.slug
    urls = {
        "download": reverse("agreement-report", kwargs={"slug": slug, "run_id": run.pk}),
        "api_report": reverse("api-agreement", kwargs={"slug": slug}),
        "api_run": reverse("api-agreement-run", kwargs={"run_id": run.pk}),
    }

    def once() -> int:
        if reader == "backup":
            from annotator.services.backup import project_backup

            with open(os.devnull, "wb") as sink:
                project_backup(project, sink)
            return 0
        response = client.get(urls[reader])
        assert response.status_code == 200, response.status_code
        if response.streaming:
            return sum(len(piece) for piece in response.streaming_content)
        return len(response.content)

    client.get(reverse("api-project-detail", kwargs={"slug": slug}))  # load what a request does
    before = _rss_kib()
    times, size = [], 0
    for _ in range(repeat):
        began = time.perf_counter()
        size = once()
        times.append(time.perf_counter() - began)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"first": times[0], "best": min(times), "bytes": size,
            "peak_mib": max(peak - before, 0) / 1024, "base_rss_mib": before / 1024}


def _run(code: Path, fixture: str, repeat: int) -> dict:
    scale = _module("scale")
    name = f"warrant_agreement_report_{os.getpid()}"
    url = scale._database(scale._server(), name, template=fixture)
    env = scale._env(code, url, DATABASE_STATEMENT_TIMEOUT="0")
    python = str(code / ".venv" / "bin" / "python")
    results: dict = {}
    try:
        done = subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=code, env=env,
                              capture_output=True, text=True)
        if done.returncode:
            return {"error": done.stderr[-500:]}
        for reader in READERS:
            done = subprocess.run([python, str(Path(__file__).resolve()), "--measure", reader,
                                   "--repeat", str(repeat)], cwd=code, env=env,
                                  capture_output=True, text=True)
            lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
            results[reader] = (json.loads(lines[-1]) if not done.returncode and lines
                               else {"error": (done.stderr or done.stdout)[-800:]})
        return results
    finally:
        scale._database(scale._server(), name, drop=True)


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixture", metavar="DB", help="agreement_page.py's fixture")
    parser.add_argument("--base", type=Path, help="another checkout to measure the same way")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure", choices=READERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.repeat)))
        return 0
    if not args.fixture:
        parser.error("--fixture DB")
    trees = [("this", ROOT)] + ([("base", args.base.resolve())] if args.base else [])
    results: dict[str, list] = {name: [] for name, _ in trees}
    loads = []
    for _ in range(2):
        for name, code in trees:
            loads.append(f"{name} {_load()}")
            results[name].append(_run(code, args.fixture, args.repeat))
    loads.append(f"end {_load()}")
    print("load averages (1, 5, 15 min) before each pass: " + "; ".join(loads))
    header = "".join(f"{name + ' best/first s, peak MiB':>34}" for name, _ in trees)
    print(f"{'reader':<12}{header}")
    for reader in READERS:
        cells = []
        for name, _ in trees:
            runs = [r.get(reader, {}) for r in results[name]]
            good = [r for r in runs if "best" in r]
            if not good:
                cells.append("error")
                continue
            cells.append(f"{min(r['best'] for r in good):.2f}/{good[0]['first']:.2f}, "
                         f"{max(r['peak_mib'] for r in good):.0f}")
        print(f"{reader:<12}" + "".join(f"{c:>34}" for c in cells))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
