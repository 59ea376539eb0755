"""Benchmark: the annotation page and its save path, against an older checkout (issues 12, 13).

    .venv/bin/python benchmarks/annotate_page.py
    git archive fae2792 | (mkdir -p /tmp/warrant-base && tar -x -C /tmp/warrant-base)
    .venv/bin/python benchmarks/annotate_page.py --base /tmp/warrant-base --rounds 40

Each checkout is measured in a child process on a fresh PostgreSQL database
(on the server DATABASE_URL names, else postgres@127.0.0.1:5432), migrated by
its own code and dropped afterwards, so that both are measured in the same
session on the same noisy machine; the table gives the ratios.

What is measured, with Django's test client in the child (the whole request:
middleware, permission checks, queries, templates; server time is what
Warrant's Server-Timing header reports):

* the page of three briefs: 2,000 words with 120 spans and 70 relations;
  20,000 words with 1,000 spans and 600 relations (issue 12.9: 1,054 KiB of
  HTML before, target < 400 KiB); 1 MB (160,000 words) with 5,000 spans and
  2,000 relations (target < 300 ms): its weight, server time and queries;
* the save path on the first two briefs (issue 12.5: target <= 3 ms median
  server time and one request): every kind of edit the page makes, --rounds
  times each at different places, each write form-encoded as the page sends it
  (htmx). An edit costs its write request, plus, when
  the write's answer does not carry the panels, the panels request the page
  then sends (the page before issue 13 did); "server ms" and "queries" are
  the sum over the requests of one edit;
* with --browser (default on), requests per action in real Chromium: the
  child starts the checkout's own server, logs in, makes a span with the
  keyboard, deletes it and undoes that, and counts the requests each action
  sends (the span editor's own read after a selection is listed apart).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib.util
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_WORD_LIST = (
    "sanctions tariffs exports imports growth prices policy government reform evidence "
    "report study data shows because therefore however although inflation trade market "
    "countries regime pressure effective costly households firms banks oil gas currency "
    "the a of to and in that is was for on with as by it not be are this have"
)
WORDS = tuple(_WORD_LIST.split())
LABELS = ("MajorClaim", "Claim", "Reason", "Evidence")
# (name, words, spans, relations)
BRIEFS = (("2k", 2_000, 120, 70), ("20k", 20_000, 1_000, 600), ("1MB", 160_000, 5_000, 2_000))
SAVE_BRIEFS = ("2k", "20k")
PASSWORD = "pw-annotate-bench-1"


def _scale_driver():
    """benchmarks/scale.py of this checkout: its fresh-database and environment helpers."""
    spec = importlib.util.spec_from_file_location("scale_driver", ROOT / "benchmarks" / "scale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- driver


def run_checkout(code: Path, args) -> dict:
    driver = _scale_driver()
    name = f"warrant_annotate_{uuid.uuid4().hex[:6]}"
    url = driver._database(driver._server(), name)
    static = tempfile.mkdtemp(prefix="warrant-annotate-static-")
    env = driver._env(code, url, STATIC_ROOT=static)
    try:
        for command in (["migrate", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
            done = subprocess.run([sys.executable, "manage.py", *command], cwd=code, env=env,
                                  capture_output=True, text=True)
            if done.returncode:
                return {"error": done.stderr[-800:]}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--probe", "--rounds",
               str(args.rounds), "--repeat", str(args.repeat)]
        if not args.browser:
            cmd.append("--no-browser")
        done = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True)
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
        if done.returncode or not lines:
            return {"error": (done.stderr or done.stdout)[-1500:]}
        return json.loads(lines[-1])
    finally:
        driver._database(driver._server(), name, drop=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="an older checkout to measure the same way")
    parser.add_argument("--rounds", type=int, default=30, help="edits of each kind per brief")
    parser.add_argument("--repeat", type=int, default=7, help="page requests per brief")
    parser.add_argument("--no-browser", dest="browser", action="store_false")
    parser.add_argument("--base-first", action="store_true",
                        help="measure --base before this checkout (the machine's load drifts: "
                        "run both orders)")
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        import django

        django.setup()
        print(json.dumps(probe(args)))
        return 0
    trees = [("this", ROOT)] + ([("base", args.base.resolve())] if args.base else [])
    if args.base_first:
        trees.reverse()
    results = {}
    for label, code in trees:
        began = time.monotonic()
        print(f"[{label}: {code}]", flush=True)
        results[label] = run_checkout(code, args)
        if "error" in results[label]:
            print(results[label]["error"])
            return 1
        print(f"  done in {time.monotonic() - began:.0f} s", flush=True)
    table(results)
    return 0


# --------------------------------------------------------------------------- the probe


def _text(rng: random.Random, n_words: int) -> str:
    sentences, words = [], 0
    while words < n_words:
        length = rng.randint(8, 24)
        sentence = " ".join(rng.choice(WORDS) for _ in range(length))
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
        words += length
    return "\n\n".join(" ".join(sentences[i : i + 5]) for i in range(0, len(sentences), 5)) + "\n"


def _brief(project, user, rng, name: str, words: int, spans: int, relations: int):
    from annotator.models import AnnotationSet, Document, Relation, Span
    from annotator.services.imports import content_hash
    from annotator.text.tokens import token_offsets

    text = _text(rng, words)
    document = Document.objects.create(
        project=project, external_id=f"brief-{name}", title=f"{name} brief", text=text,
        content_hash=content_hash(text), original=text.encode(), source_format="text",
    )
    aset = AnnotationSet.objects.create(document=document, annotator=user, status="in_progress")
    labels = {lab.name: lab for lab in project.span_labels.all()}
    tokens = token_offsets(text)
    rows = []
    for _ in range(spans):
        first = rng.randrange(len(tokens) - 30)
        rows.append(Span(annotation_set=aset, label=labels[rng.choice(LABELS)],
                         start=tokens[first][0], end=tokens[first + rng.randint(2, 25)][1]))
    made = Span.objects.bulk_create(rows)
    types = {t.name: t for t in project.relation_types.all()}
    seen, links = set(), []
    while len(links) < relations:
        source, target = rng.sample(made, 2)
        kind = "attacks" if target.label.name == "Evidence" else "supports"
        if (source.pk, target.pk, kind) not in seen:
            seen.add((source.pk, target.pk, kind))
            links.append(Relation(annotation_set=aset, source=source, target=target,
                                  type=types[kind]))
    Relation.objects.bulk_create(links)
    return document, aset


def _server_ms(response) -> float:
    return float(response["Server-Timing"].split("dur=")[1])


def _request(client, method: str, url: str, data=None) -> tuple[float, int, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        if method == "get":
            response = client.get(url)
        else:  # form-encoded, as htmx.ajax sends it from the page (not the test client's multipart)
            response = client.post(url, urllib.parse.urlencode(data), HTTP_HX_REQUEST="true",
                                   content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return _server_ms(response), len(captured.captured_queries), response


def _panels_come_along(response) -> bool:
    """Whether a write's answer lets the page show its panels without a second request:
    they are in it, or its event carries the change the page draws them from (issue 12)."""
    if b'id="panels"' in response.content:
        return True
    event = json.loads(response.get("HX-Trigger-After-Swap") or "{}").get("warrant:saved", {})
    return "change" in event


def _page(client, url: str, repeat: int) -> dict:
    times, queries, body = [], 0, b""
    for _ in range(repeat):
        ms, queries, response = _request(client, "get", url)
        times.append(ms)
        body = response.content
    return {"server_ms": statistics.median(times), "queries": queries, "kib": len(body) / 1024,
            "gzip_kib": len(gzip.compress(body)) / 1024}


def _saves(client, project, aset, user, rng, rounds: int) -> dict:
    """Every kind of edit, ``rounds`` times; per kind: server ms and queries per edit
    (the write, plus the panels request when the write's answer lacks them), requests."""
    from django.urls import reverse

    from annotator.services.annotations import span_create
    from annotator.services.errors import WarrantError
    from annotator.text.tokens import token_offsets

    document = aset.document
    kwargs = {"slug": project.slug, "document_id": document.pk}
    panels_url = reverse("annotate-panels", kwargs=kwargs)
    labels = {lab.name: lab for lab in project.span_labels.all()}
    attacks = project.relation_types.get(name="attacks")
    tokens = token_offsets(document.text)
    names = {"annotate-span-create", "annotate-span", "annotate-relation-create",
             "annotate-relation-delete", "annotate-span-delete", "annotate-undo"}
    can = {name: True for name in names}
    with contextlib.suppress(Exception):
        can["annotate-redo"] = bool(reverse("annotate-redo", kwargs=kwargs))
    out: dict[str, dict] = {}

    def edit(kind: str, name: str, data: dict, **extra) -> None:
        aset.refresh_from_db(fields=["version"])
        url = reverse(name, kwargs={**kwargs, **extra})
        ms, queries, response = _request(client, "post", url,
                                         {**data, "expected_version": aset.version})
        requests = 1
        if not _panels_come_along(response):  # the page asks for them next
            more_ms, more_queries, _ = _request(client, "get", panels_url)
            ms, queries, requests = ms + more_ms, queries + more_queries, 2
        row = out.setdefault(kind, {"server_ms": [], "queries": 0, "requests": 0})
        row["server_ms"].append(ms)
        row["queries"], row["requests"] = queries, requests

    done = 0
    while done < rounds:
        k = rng.randrange(len(tokens) - 8)
        edit("span save", "annotate-span-create",
             {"label": labels["Claim"].pk, "start": tokens[k][0], "end": tokens[k + 1][1],
              "snap": "1"})
        pair = []
        for _ in range(2):  # two fresh spans without relations, not timed
            j = rng.randrange(len(tokens) - 5)
            aset.refresh_from_db(fields=["version"])
            with contextlib.suppress(WarrantError):
                pair.append(span_create(annotation_set=aset, label=labels["Claim"],
                                        start=tokens[j][0], end=tokens[j + 2][1],
                                        expected_version=aset.version, user=user))
        if len(pair) < 2:
            continue
        source, target = pair
        edit("relabel", "annotate-span", {"label": labels["Reason"].pk}, span_id=source.pk)
        edit("link", "annotate-relation-create",
             {"source": source.pk, "target": target.pk, "type": attacks.pk})
        edit("unlink", "annotate-relation-delete", {},
             relation_id=source.outgoing.get().pk)
        edit("delete span", "annotate-span-delete", {}, span_id=source.pk)
        edit("undo", "annotate-undo", {})
        if can.get("annotate-redo"):
            edit("redo", "annotate-redo", {})
            target.refresh_from_db()
            edit("move end", "annotate-span", {"end": target.end + 1, "snap": "1"},
                 span_id=target.pk)
        done += 1
    return {
        kind: {"server_ms": statistics.median(row["server_ms"]), "queries": row["queries"],
               "requests": row["requests"]}
        for kind, row in out.items()
    }


def probe(args) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from annotator.formats.schema import load_schema
    from annotator.models import Membership
    from annotator.services.projects import project_create

    rng = random.Random(13)
    user = get_user_model().objects.create_user("bench-annotator", password=PASSWORD)
    project = project_create(slug="bench", name="Bench", schema=load_schema("argument"),
                             guidelines="Mark the **major claim** first.")
    Membership.objects.create(project=project, user=user, role="annotator")
    client = Client()
    client.force_login(user)
    result: dict = {"pages": {}, "saves": {}}
    briefs = {}
    for name, words, spans, relations in BRIEFS:
        briefs[name] = _brief(project, user, rng, name, words, spans, relations)
        document = briefs[name][0]
        url = reverse("annotate", kwargs={"slug": project.slug, "document_id": document.pk})
        result["pages"][name] = _page(client, url, args.repeat)
    for name in SAVE_BRIEFS:
        result["saves"][name] = _saves(client, project, briefs[name][1], user, rng, args.rounds)
    if args.browser:
        result["browser"] = _browser(project, briefs["2k"][0])
    return result


# --------------------------------------------------------------------------- in Chromium


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _browser(project, document) -> dict:
    """Requests each action sends from the page, counted in Chromium."""
    from django.urls import reverse
    from playwright.sync_api import sync_playwright

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload",
         "--insecure"], env={**os.environ, "DJANGO_ALLOW_ASYNC_UNSAFE": "true"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.1)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                args=["--headless", "--no-sandbox", "--disable-gpu",
                      "--disable-background-networking", "--disable-component-update",
                      "--no-first-run"])
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{base}/accounts/login/")
            page.fill("input[name=username]", "bench-annotator")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit], input[type=submit]")
            page.wait_for_load_state("networkidle")
            url = reverse("annotate", kwargs={"slug": project.slug, "document_id": document.pk})
            page.goto(base + url)
            page.wait_for_selector("#annotate-root[data-ready=true]")
            page.wait_for_load_state("networkidle")
            seen: list[str] = []
            traffic = {"open": 0, "last": time.monotonic()}

            def started(request):
                seen.append(f"{request.method} {request.url[len(base):]}")
                traffic["open"] += 1
                traffic["last"] = time.monotonic()

            def ended(_request):
                traffic["open"] -= 1
                traffic["last"] = time.monotonic()

            page.on("request", started)
            page.on("requestfinished", ended)
            page.on("requestfailed", ended)

            def action(keys: list[str]) -> dict:
                seen.clear()
                for key in keys:
                    page.keyboard.press(key)
                # Quiet: nothing in flight and nothing new for a second (the editor's read
                # waits 120 ms after a selection).
                while traffic["open"] or time.monotonic() - traffic["last"] < 1.0:
                    page.wait_for_timeout(100)
                asked = [r for r in seen if "/static/" not in r]
                editor = [r for r in asked if r.startswith("GET") and "/spans/" in r]
                return {"requests": len(asked) - len(editor), "editor_reads": len(editor),
                        "seen": asked}

            page.locator("#doc-text").focus()
            out = {"make a span (keys)": action(["ArrowRight", "Shift+ArrowRight", "c"])}
            out["delete it (x)"] = action(["x"])
            out["undo (u)"] = action(["u"])
            browser.close()
        return out
    finally:
        server.terminate()
        server.wait(timeout=10)


# --------------------------------------------------------------------------- the table


def _ratio(new, old) -> str:
    if new is None or old is None or not old:
        return ""
    return f"{new / old:.2f}x"


def table(results: dict) -> None:
    this, base = results["this"], results.get("base")
    head = f"{'':34} {'this':>22}" + (f" {'base':>22} {'this/base':>10}" if base else "")
    print("\nThe page (server time median; HTML; queries)")
    print(head)
    for name, *_ in BRIEFS:
        for key, unit in (("server_ms", "ms"), ("kib", "KiB"), ("gzip_kib", "KiB gzip"),
                          ("queries", "queries")):
            new = this["pages"][name][key]
            line = f"  {name + ' ' + key:32} {new:>15.1f} {unit:<6}"
            if base:
                old = base["pages"][name][key]
                line += f" {old:>15.1f} {unit:<6} {_ratio(new, old):>10}"
            print(line)
    print("\nOne edit (write + the panels request the page sends after it, if any)")
    print(head)
    for name in SAVE_BRIEFS:
        for kind, row in this["saves"][name].items():
            old = (base or {}).get("saves", {}).get(name, {}).get(kind)
            for key, unit in (("server_ms", "ms"), ("queries", "queries"),
                              ("requests", "requests")):
                line = f"  {name + ' ' + kind + ' ' + key:32} {row[key]:>15.1f} {unit:<8}"
                if base:
                    line += (f" {old[key]:>13.1f} {unit:<8} {_ratio(row[key], old[key]):>10}"
                             if old else f" {'(none)':>22}")
                print(line)
    if "browser" in this:
        print("\nRequests per action in Chromium (writes and panels; the editor's reads apart)")
        for action, row in this["browser"].items():
            line = f"  {action:32} {row['requests']:>5} (+{row['editor_reads']} editor)"
            if base and "browser" in base:
                old = base["browser"][action]
                line += f"   base: {old['requests']} (+{old['editor_reads']} editor)"
            print(line)
            print(f"      this: {row['seen']}")
            if base and "browser" in base:
                print(f"      base: {base['browser'][action]['seen']}")


if __name__ == "__main__":
    sys.exit(main())
