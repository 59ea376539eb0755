"""Benchmark: the annotation page of a long brief, and one span save.

    .venv/bin/python benchmarks/annotate_page.py
    .venv/bin/python benchmarks/annotate_page.py --repeat 50 --saves 300

Two briefs are written into a fresh SQLite file (or the PostgreSQL database
DATABASE_URL names): 20,000 words with 1,000 spans and 600 relations, and
2,000 words with 120 spans and 70 relations. With Django's test client (the
whole request: middleware, permission checks, queries, templates), it times

* opening the page (median and 90th percentile of ``--repeat`` requests) and
  its weight, plain and gzipped;
* the outline/relations refresh a save triggers (``annotate-panels``);
* one span save through the htmx endpoint, and the ``span_create`` service
  alone (median of ``--saves`` saves at different places), with the number of
  queries each makes;
* the other writes of the page through their htmx endpoints: relabel a span,
  link two spans, delete the link, delete a span, undo (median of
  ``--saves // 5`` rounds, at least 10), with their query counts.

Server time is what Warrant's Server-Timing header reports (from the first
middleware in to the response out); the test client's own work is printed
beside it. Targets (issue 3, 2-core machine): the long page under 150 ms of server time,
the 2,000-word page under 60 ms, a save under 5 ms median.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

_WORD_LIST = (
    "sanctions tariffs exports imports growth prices policy government reform evidence "
    "report study data shows because therefore however although inflation trade market "
    "countries regime pressure effective costly households firms banks oil gas currency "
    "the a of to and in that is was for on with as by it not be are this have"
)
WORDS = tuple(_WORD_LIST.split())
LABELS = ("MajorClaim", "Claim", "Reason", "Evidence")


def _setup(tmp_dir: str) -> None:
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp_dir}/bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("WARRANT_DATA_DIR", tmp_dir)
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def _text(rng: random.Random, n_words: int) -> str:
    sentences, words = [], 0
    while words < n_words:
        length = rng.randint(8, 24)
        sentence = " ".join(rng.choice(WORDS) for _ in range(length))
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
        words += length
    return "\n\n".join(" ".join(sentences[i : i + 5]) for i in range(0, len(sentences), 5)) + "\n"


def _brief(project, user, rng, *, words: int, spans: int, relations: int):
    from annotator.models import AnnotationSet, Document, Relation, Span
    from annotator.services.imports import content_hash
    from annotator.text.tokens import token_offsets

    text = _text(rng, words)
    document = Document.objects.create(
        project=project, external_id=f"brief-{words}", title=f"{words:,}-word brief", text=text,
        content_hash=content_hash(text), original=text.encode(), source_format="text",
    )
    aset = AnnotationSet.objects.create(document=document, annotator=user, status="in_progress")
    labels = {lab.name: lab for lab in project.span_labels.all()}
    tokens = token_offsets(text)
    rows = []
    for _ in range(spans):
        first = rng.randrange(len(tokens) - 30)
        last = first + rng.randint(2, 25)
        rows.append(
            Span(annotation_set=aset, label=labels[rng.choice(LABELS)],
                 start=tokens[first][0], end=tokens[last][1])
        )
    made = Span.objects.bulk_create(rows)
    types = {t.name: t for t in project.relation_types.all()}
    seen, links = set(), []
    while len(links) < relations:
        source, target = rng.sample(made, 2)
        kind = "supports" if target.label.name != "Evidence" else "attacks"
        if (source.pk, target.pk, kind) in seen:
            continue
        seen.add((source.pk, target.pk, kind))
        links.append(Relation(annotation_set=aset, source=source, target=target, type=types[kind]))
    Relation.objects.bulk_create(links)
    return document, aset


def _time(call, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def _server_ms(response) -> float:
    """Server time of a response, from the Server-Timing header Warrant sets on it."""
    return float(response["Server-Timing"].split("dur=")[1])


def _summary(times: list[float]) -> str:
    times = sorted(times)
    p90 = times[int(0.9 * (len(times) - 1))]
    return f"median {statistics.median(times):6.1f} ms, p90 {p90:6.1f} ms"


def _post(client, url: str, data: dict, aset) -> tuple[float, int]:
    """POST ``data`` with the set's current version as htmx; its time (ms) and query count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    aset.refresh_from_db(fields=["version"])
    data = {**data, "expected_version": aset.version}
    with CaptureQueriesContext(connection) as captured:
        t0 = time.perf_counter()
        response = client.post(url, data, HTTP_HX_REQUEST="true")
        elapsed = (time.perf_counter() - t0) * 1000
    assert response.status_code == 200, (url, response.content)
    return elapsed, len(captured.captured_queries)


def _other_writes(client, project, aset, user, tokens, rng, rounds: int) -> None:
    """Time relabel, link, unlink, delete and undo through their htmx endpoints."""
    from django.urls import reverse

    from annotator.services.annotations import span_create
    from annotator.services.errors import WarrantError

    kwargs = {"slug": project.slug, "document_id": aset.document_id}
    labels = {lab.name: lab for lab in project.span_labels.all()}
    attacks = project.relation_types.get(name="attacks")
    times: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    done = 0
    while done < rounds:
        pair = []
        for _ in range(2):  # two fresh spans without relations, not timed
            k = rng.randrange(len(tokens) - 5)
            aset.refresh_from_db(fields=["version"])
            with contextlib.suppress(WarrantError):  # already marked there: try elsewhere
                pair.append(span_create(annotation_set=aset, label=labels["Claim"],
                                        start=tokens[k][0], end=tokens[k + 2][1],
                                        expected_version=aset.version, user=user))
        if len(pair) < 2:
            continue
        source, target = pair
        steps = [
            ("relabel", lambda s=source: reverse(
                "annotate-span", kwargs={**kwargs, "span_id": s.pk}),
             {"label": labels[("Reason", "Evidence")[done % 2]].pk}),
            ("link", lambda: reverse("annotate-relation-create", kwargs=kwargs),
             {"source": source.pk, "target": target.pk, "type": attacks.pk}),
            ("unlink", lambda s=source: reverse(
                "annotate-relation-delete",
                kwargs={**kwargs, "relation_id": s.outgoing.get().pk}), {}),
            ("delete span", lambda s=source: reverse(
                "annotate-span-delete", kwargs={**kwargs, "span_id": s.pk}), {}),
            ("undo", lambda: reverse("annotate-undo", kwargs=kwargs), {}),
        ]
        for name, url, data in steps:
            elapsed, queries = _post(client, url(), data, aset)
            times.setdefault(name, []).append(elapsed)
            counts[name] = queries
        done += 1
    for name, values in times.items():
        print(f"  {name + ',':12} HTTP (htmx endpoint): {_summary(values)}; "
              f"{counts[name]} queries")


def bench(repeat: int, saves: int) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from annotator.formats.schema import load_schema
    from annotator.models import Membership, User
    from annotator.services.annotations import span_create
    from annotator.services.projects import project_create
    from annotator.text.tokens import token_offsets

    call_command("migrate", verbosity=0)
    rng = random.Random(3)
    user = User.objects.create_user("bench-annotator", password="x")
    project = project_create(slug="bench", name="Bench", schema=load_schema("argument"),
                             guidelines="Mark the **major claim** first.")
    Membership.objects.create(project=project, user=user, role="annotator")
    client = Client()
    client.force_login(user)
    print(f"database: {os.environ['DATABASE_URL'].split('@')[-1]}")

    for words, n_spans, n_relations in [(20_000, 1_000, 600), (2_000, 120, 70)]:
        document, aset = _brief(project, user, rng, words=words, spans=n_spans,
                                relations=n_relations)
        kwargs = {"slug": project.slug, "document_id": document.pk}
        page_url = reverse("annotate", kwargs=kwargs)
        panels_url = reverse("annotate-panels", kwargs=kwargs)
        response = client.get(page_url)
        assert response.status_code == 200, response.status_code
        body = response.content
        page = _time(lambda url=page_url: client.get(url), repeat)
        page_server = [_server_ms(client.get(page_url)) for _ in range(repeat)]
        panels = _time(lambda url=panels_url: client.get(url), repeat)
        print(f"\n{words:,} words, {n_spans:,} spans, {n_relations} relations")
        print(f"  page, server time (Server-Timing): {_summary(page_server)}")
        print(f"  page:   {_summary(page)}; {len(body) / 1024:.0f} KiB "
              f"({len(gzip.compress(body)) / 1024:.0f} KiB gzipped)")
        print(f"  panels refresh after a save: {_summary(panels)}")

        tokens = token_offsets(document.text)
        label = project.span_labels.get(name="Claim")
        create_url = reverse("annotate-span-create", kwargs=kwargs)
        aset.refresh_from_db()
        picks = rng.sample(range(len(tokens) - 5), saves * 2)

        for sync in ("FULL", "NORMAL") if connection.vendor == "sqlite" else ("",):
            if sync:
                # FULL (SQLite's default) syncs the disk at every commit; in WAL mode
                # NORMAL is safe from corruption and syncs at checkpoints instead.
                connection.cursor().execute(f"PRAGMA synchronous={sync}")
            chosen = picks[:saves] if sync != "NORMAL" else picks[saves:]
            http_times, server_times, service_times = [], [], []
            for n, k in enumerate(chosen):
                aset.refresh_from_db(fields=["version"])
                if n % 2:
                    t0 = time.perf_counter()
                    span_create(annotation_set=aset, label=label, start=tokens[k][0],
                                end=tokens[k + 1][1], expected_version=aset.version, user=user)
                    service_times.append((time.perf_counter() - t0) * 1000)
                    continue
                data = {"label": label.pk, "start": tokens[k][0], "end": tokens[k + 1][1],
                        "expected_version": aset.version, "snap": "1"}
                t0 = time.perf_counter()
                response = client.post(create_url, data, HTTP_HX_REQUEST="true")
                http_times.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, response.content
                server_times.append(_server_ms(response))
            note = f" (synchronous={sync})" if sync else ""
            print(f"  span save{note}, server time (Server-Timing): {_summary(server_times)}")
            print(f"  span save{note}, HTTP through the test client: {_summary(http_times)}")
            print(f"  span save{note}, span_create service:  {_summary(service_times)}")

        # A span over three tokens: no save above made that one.
        k = rng.randrange(len(tokens) - 5)
        _, http_queries = _post(client, create_url, {
            "label": label.pk, "start": tokens[k][0], "end": tokens[k + 2][1], "snap": "1",
        }, aset)
        print(f"  span save, queries: {http_queries} (HTTP, session and user included; "
              "BEGIN and COMMIT count as one each)")
        _other_writes(client, project, aset, user, tokens, rng, max(10, saves // 5))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="page requests to time")
    parser.add_argument("--saves", type=int, default=200, help="span saves to time")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="warrant-bench-") as tmp:
        _setup(tmp)
        bench(args.repeat, args.saves)


if __name__ == "__main__":
    main()
