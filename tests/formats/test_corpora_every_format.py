"""Each sample corpus of ../shared/corpora imported and exported in every format: what each
file holds is counted from the file itself and compared with the source files' counts
(independent counters of tests/formats/test_corpora.py) and with the export's summary."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest

from annotator.formats.jsonl import read_jsonl
from annotator.formats.readers import read_paths, read_upload
from annotator.services.exports import EXPORT_FORMATS, export_write
from annotator.services.imports import documents_import
from tests.formats.test_corpora import CORPORA, _data_folders, _raw_counts


def _members(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _count_jsonl(path):
    records = read_jsonl(path.read_bytes(), name=path.name)
    sets = [a for r in records for a in [*r.annotations, *([r.gold] if r.gold else [])]]
    spans = {(r.external_id, s.start, s.end, s.label) for r in records
             for a in [*r.annotations, *([r.gold] if r.gold else [])] for s in a.spans}
    return (len(records), sum(len(a.spans) for a in sets), sum(len(a.relations) for a in sets),
            spans)


def _count_brat(path):
    members = _members(path)
    anns = [data.decode() for name, data in members.items() if name.endswith(".ann")]
    lines = [line for ann in anns for line in ann.splitlines()]
    return (len(anns), sum(line.startswith("T") for line in lines),
            sum(line.startswith("R") for line in lines))


def _count_csv(path):
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    return len({row["document"] for row in rows}), len(rows), None


def _count_aif(path):
    graphs = [json.loads(data) for data in _members(path).values()]
    return (len(graphs),
            sum(n["type"] == "I" for g in graphs for n in g["nodes"]),
            sum(n["type"] in ("RA", "CA", "MA") for g in graphs for n in g["nodes"]))


def _count_xmi(path):
    records = read_upload(path.name, path.read_bytes())
    sets = [a for r in records for a in [*r.annotations, *([r.gold] if r.gold else [])]]
    return (len(records), sum(len(a.spans) for a in sets), sum(len(a.relations) for a in sets))


def _count_conll(path):
    members = _members(path)
    text = "".join(data.decode() for name, data in members.items() if name.endswith(".conll"))
    begins = len(re.findall(r"\tB-", text))
    return text.count("# document = "), begins, None


def _count_hf(path):
    import pyarrow.parquet as pq

    gold = [f for f in path.rglob("*.parquet") if f.parent.name == "gold"]
    rows = [row for f in gold for row in pq.read_table(f).to_pylist()]
    return len(rows), sum(len(r["spans"]) for r in rows), sum(len(r["relations"]) for r in rows)


COUNTERS = {"jsonl": _count_jsonl, "brat": _count_brat, "csv": _count_csv,
            "aif": _count_aif, "xmi": _count_xmi, "conll": _count_conll, "hf": _count_hf}


def test_every_format_has_a_counter():
    assert set(COUNTERS) == set(EXPORT_FORMATS)


@pytest.mark.parametrize("corpus", list(CORPORA))
def test_a_corpus_exports_in_every_format_with_the_counts_of_its_files(db, project,
                                                                       shared_corpora, corpus,
                                                                       tmp_path):
    records = read_paths(_data_folders(shared_corpora, corpus))
    documents, spans, relations = _raw_counts(shared_corpora, corpus)
    documents_import(project=project, records=records, add_labels=True)
    source_offsets = {(r.external_id, s.start, s.end, s.label)
                      for r in records for a in r.annotations for s in a.spans}

    for fmt, spec in EXPORT_FORMATS.items():
        path = tmp_path / (fmt if fmt == "hf" else f"{fmt}{spec.suffix}")
        summary = export_write(project=project, format=fmt, path=path, scope="gold")
        counted = COUNTERS[fmt](path)
        assert summary.documents == documents, fmt
        assert (summary.spans, summary.unrepresented) == (spans, summary.unrepresented), fmt
        if fmt == "conll":
            # Nested spans share tokens: a B- tag per span that starts a token run, at most.
            assert counted[0] == documents and 0 < counted[1] <= spans, fmt
            continue
        assert counted[0] == documents, fmt
        assert counted[1] == spans, fmt
        if counted[2] is not None:
            # What the file holds is what the summary says it wrote; only AIF leaves out
            # (types the schema maps to no AIF node), and then it says so.
            assert counted[2] == summary.relations, fmt
            assert summary.relations + summary.unrepresented == relations or fmt == "conll", fmt
        if fmt == "jsonl":
            assert counted[3] == source_offsets  # offsets and labels as the source gave them
