"""Benchmark: pull a whole project through the API, one set at a time versus in bulk.

    .venv/bin/python benchmarks/bulk_api.py                  # 1,000 briefs x 3 annotators
    .venv/bin/python benchmarks/bulk_api.py --documents 200

A project of N briefs x 3 annotators (~40 spans, ~20 relations each, all
submitted) is generated into a fresh SQLite file (``generate_project`` of
``benchmarks/agreement_run.py``; DATABASE_URL may name PostgreSQL instead). A
manager then pulls every annotation, through DRF's test client (the whole
request and response cycle in process, no network):

- **per set** (what a client had to do before the bulk API): the document list,
  page by page at the largest page size; for each document its detail (the text)
  and its set list; for each set its detail (spans and relations);
- **bulk**: ``GET /api/projects/SLUG/annotations.jsonl``, one streamed request.

Printed: requests, wall seconds and the ratio, and a check that both ways
carry the same number of spans and relations.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setup(tmp_dir: str) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp_dir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("WARRANT_DATA_DIR", tmp_dir)
    os.environ["DEBUG"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["ALLOWED_HOSTS"] = "testserver"  # DRF's test client
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("REDIS_URL", None)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def per_set(client, slug: str) -> tuple[int, int, int]:
    """Every set through the per-document endpoints: (requests, spans, relations)."""
    requests = spans = relations = 0
    url = f"/api/projects/{slug}/documents/?page_size=200"
    documents = []
    while url:
        page = client.get(url).json()
        requests += 1
        documents.extend(page["results"])
        url = page["next"]
    for document in documents:
        client.get(f"/api/projects/{slug}/documents/{document['id']}/").json()
        sets = client.get(f"/api/projects/{slug}/documents/{document['id']}/annotation-sets/"
                          "?page_size=200").json()["results"]
        requests += 2
        for aset in sets:
            body = client.get(f"/api/annotation-sets/{aset['id']}/").json()
            requests += 1
            spans += len(body["spans"])
            relations += len(body["relations"])
    return requests, spans, relations


def bulk(client, slug: str) -> tuple[int, int, int]:
    """Everything through the bulk stream: (requests, spans, relations)."""
    import json

    response = client.get(f"/api/projects/{slug}/annotations.jsonl")
    spans = relations = 0
    for line in b"".join(response.streaming_content).splitlines():
        document = json.loads(line)
        for aset in [*document["annotations"], *([document["gold"]] if document["gold"] else [])]:
            spans += len(aset["spans"])
            relations += len(aset["relations"])
    return 1, spans, relations


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="warrant-bulk-bench-") as tmp:
        _setup(tmp)
        from agreement_run import generate_project
        from django.contrib.auth import get_user_model
        from rest_framework.test import APIClient

        from annotator.models import Membership, Role

        slug = f"bulk-{args.documents}"
        clock = time.perf_counter()
        project = generate_project(slug=slug, documents=args.documents)
        print(f"{args.documents:,} briefs generated in {time.perf_counter() - clock:.1f} s")
        manager = get_user_model().objects.create_user("bench-manager")
        Membership.objects.create(project=project, user=manager, role=Role.MANAGER)
        client = APIClient()
        client.force_authenticate(manager)
        rows = []
        for name, pull in (("per set", per_set), ("bulk", bulk)):
            clock = time.perf_counter()
            requests, spans, relations = pull(client, slug)
            seconds = time.perf_counter() - clock
            rows.append((name, requests, seconds, spans, relations))
            print(f"  {name:<8}{requests:>8,} requests{seconds:>9.1f} s"
                  f"{spans:>10,} spans{relations:>9,} relations")
        (_, r0, s0, sp0, rl0), (_, r1, s1, sp1, rl1) = rows
        assert (sp0, rl0) == (sp1, rl1), "both ways must carry the same annotations"
        print(f"  bulk / per set: {r1 / r0:.4f} of the requests, {s1 / s0:.3f} of the time "
              f"({s0 / s1:.1f}x faster)")


if __name__ == "__main__":
    main()
