"""Each sample corpus of ../shared/corpora imported and exported in every format: what each
file holds is read from the file itself and compared with the source files (their counts,
from the independent counters of tests/formats/test_corpora.py, and every span's offsets and
label, every relation's endpoints and type) and with the export's summary."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import Counter
from dataclasses import dataclass

import pytest

from annotator.formats.jsonl import read_jsonl
from annotator.formats.readers import read_paths, read_upload
from annotator.formats.schema import default_aif
from annotator.services.exports import EXPORT_FORMATS, export_write
from annotator.services.imports import documents_import
from tests.formats.test_corpora import CORPORA, _data_folders, _raw_counts

_TOKEN = re.compile(r"\S+")


@dataclass
class Held:
    """What one export's files hold, read from them."""

    documents: int
    #: (document, start, end, label) of every span, as a multiset.
    spans: Counter
    #: (document, source span, target span, type) of every relation, spans as
    #: (start, end, label); None when the format holds no relation.
    relations: Counter | None


def _members(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _held_records(records) -> Held:
    spans, relations = Counter(), Counter()
    for record in records:
        for annotation in [*record.annotations, *([record.gold] if record.gold else [])]:
            by_id = {s.id: (s.start, s.end, s.label) for s in annotation.spans}
            spans.update((record.external_id, *by_id[s.id]) for s in annotation.spans)
            relations.update((record.external_id, by_id[r.source], by_id[r.target], r.type)
                             for r in annotation.relations)
    return Held(len(records), spans, relations)


def _held_jsonl(path):
    return _held_records(read_jsonl(path.read_bytes(), name=path.name))


def _held_xmi(path):
    # Read back through dkpro-cassis (the importer), which INCEpTION's files go through too.
    return _held_records(read_upload(path.name, path.read_bytes()))


_T_LINE = re.compile(r"^(T\d+)\t(\S+) (\d+) (\d+)\t")
_R_LINE = re.compile(r"^(R\d+)\t(\S+) Arg1:(T\d+) Arg2:(T\d+)")


def _held_brat(path):
    """The .ann lines parsed here, by the standoff format's own rules."""
    spans, relations = Counter(), Counter()
    anns = {name: data.decode() for name, data in _members(path).items() if name.endswith(".ann")}
    for name, ann in anns.items():
        document = name.rsplit("/", 1)[-1][: -len(".ann")]
        by_id = {}
        for line in ann.splitlines():
            if match := _T_LINE.match(line):
                by_id[match[1]] = (int(match[3]), int(match[4]), match[2])
                spans[(document, *by_id[match[1]])] += 1
        for line in ann.splitlines():
            if match := _R_LINE.match(line):
                relations[(document, by_id[match[3]], by_id[match[4]], match[2])] += 1
    return Held(len(anns), spans, relations)


def _held_csv(path):
    members = _members(path)
    spans_rows = list(csv.DictReader(io.StringIO(members["spans.csv"].decode())))
    relation_rows = list(csv.DictReader(io.StringIO(members["relations.csv"].decode())))
    by_key = {(r["document"], r["annotator"], r["span_id"]):
              (int(r["start"]), int(r["end"]), r["label"]) for r in spans_rows}
    spans = Counter((r["document"], int(r["start"]), int(r["end"]), r["label"])
                    for r in spans_rows)
    relations = Counter(
        (r["document"], by_key[(r["document"], r["annotator"], r["source_span_id"])],
         by_key[(r["document"], r["annotator"], r["target_span_id"])], r["type"])
        for r in relation_rows
    )
    return Held(len({r["document"] for r in spans_rows}), spans, relations)


def _held_aif(path):
    """Spans from the I-nodes (offsets in ``warrant.spans``), relations as I → RA/CA/MA → I;
    AIF keeps the kind of a relation, not its type's name (compared through default_aif)."""
    spans, relations = Counter(), Counter()
    graphs = [json.loads(data) for data in _members(path).values()]
    for graph in graphs:
        document = graph["warrant"]["document"]
        info = graph["warrant"]["spans"]
        kinds = {n["nodeID"]: n["type"] for n in graph["nodes"]}
        for node_id, span in info.items():
            assert graph["text"][span["start"] : span["end"]] == next(
                n["text"] for n in graph["nodes"] if n["nodeID"] == node_id)
            spans[(document, span["start"], span["end"], span["label"])] += 1
        into = {e["toID"]: e["fromID"] for e in graph["edges"] if kinds[e["toID"]] != "I"}
        for edge in graph["edges"]:
            scheme = edge["fromID"]
            if kinds[scheme] in ("RA", "CA", "MA"):
                source, target = info[into[scheme]], info[edge["toID"]]
                relations[(document, (source["start"], source["end"], source["label"]),
                           (target["start"], target["end"], target["label"]),
                           kinds[scheme])] += 1
    return Held(len(graphs), spans, relations)


def _held_hf(path):
    import pyarrow.parquet as pq

    spans, relations, documents = Counter(), Counter(), 0
    for file in path.rglob("*.parquet"):
        if file.parent.name != "gold":
            continue
        table = pq.read_table(file)
        # Labels and types are ClassLabels: their names are in the schema's metadata.
        features = json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]
        labels = features["spans"]["feature"]["label"]["names"]
        types = features["relations"]["feature"]["type"]["names"]
        for row in table.to_pylist():
            documents += 1
            by_id = {s["id"]: (s["start"], s["end"], labels[s["label"]]) for s in row["spans"]}
            spans.update((row["id"], *by_id[s["id"]]) for s in row["spans"])
            relations.update((row["id"], by_id[r["source"]], by_id[r["target"]],
                              types[r["type"]]) for r in row["relations"])
    return Held(documents, spans, relations)


def _held_conll(path):
    """Each B- tag as (document, start of its token, label); BIO holds no relation."""
    spans = Counter()
    documents = 0
    for name, data in _members(path).items():
        if not name.endswith(".conll"):
            continue
        lines = data.decode().splitlines()
        columns = lines[0].split(" = ")[1].split()
        document = None
        for line in lines[1:]:
            if line.startswith("# document = "):
                document = line[len("# document = "):]
                documents += 1
            elif line and not line.startswith("#"):
                cells = dict(zip(columns, line.split("\t"), strict=True))
                for label in columns[3:]:
                    if cells[label] == f"B-{label}":
                        spans[(document, int(cells["START"]), label)] += 1
    return Held(documents, spans, None)


def _held_labelstudio(path):
    """The gold (``ground_truth``) of each task, its UTF-16 offsets turned into code points
    here, by decoding the UTF-16 prefix."""
    spans, relations, documents = Counter(), Counter(), 0

    def codepoints(text, units):
        return len(text.encode("utf-16-le")[: 2 * units].decode("utf-16-le"))

    for task in json.loads(path.read_text(encoding="utf-8")):
        documents += 1
        doc, text = task["data"]["warrant_id"], task["data"]["text"]
        for annotation in task["annotations"]:
            if not annotation["ground_truth"]:
                continue
            by_id = {}
            for item in annotation["result"]:
                if item["type"] == "labels":
                    value = item["value"]
                    start, end = codepoints(text, value["start"]), codepoints(text, value["end"])
                    assert text[start:end] == value["text"]
                    by_id[item["id"]] = (start, end, value["labels"][0])
                    spans[(doc, *by_id[item["id"]])] += 1
            for item in annotation["result"]:
                if item["type"] == "relation":
                    relations[(doc, by_id[item["from_id"]], by_id[item["to_id"]],
                               item["labels"][0])] += 1
    return Held(documents, spans, relations)


READERS = {"jsonl": _held_jsonl, "labelstudio": _held_labelstudio, "brat": _held_brat,
           "csv": _held_csv, "aif": _held_aif,
           "xmi": _held_xmi, "conll": _held_conll, "hf": _held_hf}


def test_every_format_has_a_reader():
    assert set(READERS) == set(EXPORT_FORMATS)


def _first_token_starts(text: str, start: int, end: int) -> int:
    return next(m.start() for m in _TOKEN.finditer(text) if m.end() > start and m.start() < end)


@pytest.mark.parametrize("corpus", list(CORPORA))
def test_a_corpus_exports_in_every_format_with_the_counts_and_offsets_of_its_files(
    db, project, shared_corpora, corpus, tmp_path
):
    records = read_paths(_data_folders(shared_corpora, corpus))
    documents, span_count, relation_count = _raw_counts(shared_corpora, corpus)
    documents_import(project=project, records=records, add_labels=True)
    source = _held_records(records)
    assert (source.documents, sum(source.spans.values()), sum(source.relations.values())) == (
        documents, span_count, relation_count)
    texts = {r.external_id: r.text for r in records}

    for fmt, spec in EXPORT_FORMATS.items():
        path = tmp_path / (fmt if fmt == "hf" else f"{fmt}{spec.suffix}")
        summary = export_write(project=project, format=fmt, path=path, scope="gold")
        held = READERS[fmt](path)
        assert held.documents == summary.documents == documents, fmt
        if fmt == "conll":
            # One B- tag per span that starts a token run in its label's column, at the
            # first token the span touches; nested spans of one label share tokens, so a
            # few are left out, and the report counts them.
            expected = Counter((doc, _first_token_starts(texts[doc], start, end), label)
                               for doc, start, end, label in source.spans)
            assert not held.spans - expected, fmt
            assert sum(held.spans.values()) + summary.unrepresented >= span_count, fmt
            assert summary.relations == 0 and f"{relation_count} relation(s)" in \
                summary.left_out_note(), fmt
            continue
        # Every span where the source put it, with its label; the summary counts the file.
        assert held.spans == source.spans, fmt
        assert summary.spans == sum(held.spans.values()), fmt
        assert summary.relations == sum(held.relations.values()), fmt
        if fmt == "aif":
            # AIF keeps how a relation argues (RA, CA), not the type's name; a type it
            # cannot place is left out and named, never claimed.
            kinds = {"inference": "RA", "conflict": "CA", "rephrase": "MA"}
            expected = Counter()
            for (doc, s, t, kind), n in source.relations.items():
                if default_aif(kind) in kinds:
                    expected[(doc, s, t, kinds[default_aif(kind)])] += n
            assert held.relations == expected, fmt
            assert summary.relations + summary.unrepresented == relation_count, fmt
        else:
            assert held.relations == source.relations, fmt
            assert summary.unrepresented == 0 and "relation" not in summary.left_out_note(), fmt
