"""The Hugging Face export for training: ClassLabel features in the Parquet metadata as
``datasets`` writes it, the token/BIO configurations, agreement intervals in the card,
the project's description, and an empty export that loads."""

import json
import os

import pytest
import yaml

os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
import datasets
import pyarrow.parquet as pq

from annotator.formats.records import AnnotationRecord, DocumentRecord, SpanRecord
from annotator.models import AgreementRun, AnnotationSet, JobStatus, Project
from annotator.services.exports import export_write
from annotator.services.imports import documents_import
from tests.factories import DocumentFactory, ProjectFactory, UserFactory
from tests.formats.export_samples import TEXT_1, import_sample
from tests.formats.test_hf import LABELS, expected_features


def load(folder, tmp_path, name=None):
    return datasets.load_dataset(str(folder), name, cache_dir=str(tmp_path / "hf-cache"))


def front_matter(folder) -> dict:
    readme = (folder / "README.md").read_text(encoding="utf-8")
    return yaml.safe_load(readme.split("---\n")[1])


def test_class_labels_are_in_the_parquet_metadata_as_datasets_writes_them(project, tmp_path):
    import_sample(project)
    folder = tmp_path / "hf"
    export_write(project=project, format="hf", path=folder, scope="gold")
    [path] = (folder / "gold").glob("*.parquet")
    schema = pq.read_schema(path)
    expected = expected_features(annotators=False)
    # The metadata is what datasets itself writes for these features ...
    assert json.loads(schema.metadata[b"huggingface"]) == json.loads(
        expected.arrow_schema.metadata[b"huggingface"])
    assert schema.remove_metadata() == expected.arrow_schema.remove_metadata()
    # ... so the file alone, without the card, gives the ClassLabels back.
    assert datasets.Features.from_arrow_schema(schema) == expected
    alone = datasets.Dataset.from_parquet(str(path), cache_dir=str(tmp_path / "c"))
    label = alone.features["spans"].feature["label"]
    assert [label.int2str(s["label"]) for row in alone for s in row["spans"]]
    assert label.names == LABELS


def test_the_bio_configurations_tag_every_token_per_label(project, tmp_path):
    import_sample(project)
    folder = tmp_path / "hf"
    export_write(project=project, format="hf", path=folder)
    configs = [c["config_name"] for c in front_matter(folder)["configs"]]
    assert configs == ["gold", "annotators", "gold_bio", "annotators_bio"]
    bio = load(folder, tmp_path, "gold_bio")
    rows = {row["id"]: row for split in bio for row in bio[split]}
    row = rows["brief-1"]
    # Tokens are the runs of non-whitespace (DESIGN.md), with their offsets.
    assert row["tokens"] == TEXT_1.split()
    assert all(TEXT_1[s:e] == t for t, s, e in zip(row["tokens"], row["starts"], row["ends"],
                                                   strict=True))
    features = bio[next(iter(bio))].features
    assert features["tags_Claim"].feature.names == ["O", "B-Claim", "I-Claim"]
    assert set(features) == {"id", "tokens", "starts", "ends"} | {f"tags_{x}" for x in LABELS}
    # Expected tags, from the gold spans of the span configuration: a token is in a span
    # when they share a character; the first such token is B.
    d = load(folder, tmp_path, "gold")
    gold = {r["id"]: r for split in d for r in d[split]}
    names = d[next(iter(d))].features["spans"].feature["label"].names
    for label in LABELS:
        tags = ["O"] * len(row["tokens"])
        for span in gold["brief-1"]["spans"]:
            if names[span["label"]] != label:
                continue
            inside = [i for i, (s, e) in enumerate(zip(row["starts"], row["ends"], strict=True))
                      if s < span["end"] and e > span["start"]]
            tags[inside[0]] = f"B-{label}"
            for i in inside[1:]:
                tags[i] = f"I-{label}"
        column = features[f"tags_{label}"].feature
        assert [column.int2str(t) for t in row[f"tags_{label}"]] == tags, label
    annotators = load(folder, tmp_path, "annotators_bio")
    assert {r["annotator"] for split in annotators for r in annotators[split]} == {"alice"}


def test_a_same_label_span_the_bio_columns_cannot_hold_is_named_in_the_summary(project,
                                                                              tmp_path):
    text = "Sanctions work well today."
    gold = AnnotationRecord(spans=[SpanRecord("T1", 0, 19, "Claim"),
                                   SpanRecord("T2", 10, 14, "Claim")])
    documents_import(project=project, records=[DocumentRecord("d", text, gold=gold)])
    summary = export_write(project=project, format="hf", path=tmp_path / "hf", scope="gold")
    assert summary.left_out == [
        "1 span(s) from the gold_bio/annotators_bio configurations (a span of the same label "
        "shares their tokens, or they cover none); the gold and annotators configurations "
        "hold every span"]
    assert summary.spans == 2


def test_the_card_gives_the_intervals_of_the_latest_run_with_its_id_and_date(project,
                                                                            tmp_path):
    import_sample(project)
    report = {"unit": "token", "documents": 12, "annotators": ["alice", "bob"],
              "overall": {"krippendorff_alpha": {"value": 0.712, "per_label": {}},
                          "cohen_kappa": {"value": 0.7, "pairs": {}},
                          "span_f1": {"exact": {"value": 0.5}}},
              "by_document": {}}
    intervals = {"n_resamples": 1000, "confidence": 0.95, "seed": 0, "intervals": {
        "krippendorff_alpha": {"low": 0.61, "high": 0.8, "undefined": 0},
        "cohen_kappa": {"low": None, "high": None, "undefined": 1000},
        "span_f1_exact": {"low": 0.4, "high": 0.6, "undefined": 0}}}
    run = AgreementRun.objects.create(project=project, status=JobStatus.DONE, report=report,
                                      intervals=intervals)
    AgreementRun.objects.filter(pk=run.pk).update(finished_at="2026-03-01T10:00:00Z")
    export_write(project=project, format="hf", path=tmp_path / "hf")
    card = (tmp_path / "hf" / "README.md").read_text(encoding="utf-8")
    assert f"From agreement run #{run.pk}, finished 2026-03-01 10:00 UTC." in card
    assert "| measure | value | 95% interval |" in card
    assert "| Krippendorff's alpha (nominal) | 0.712 | [0.610, 0.800] |" in card
    assert "| Cohen's kappa (mean over pairs) | 0.700 | none |" in card
    assert "| Span F1, exact | 0.500 | [0.400, 0.600] |" in card
    assert "percentile bootstrap intervals over documents (1000 resamples" in card


def test_the_card_says_when_there_is_no_run_and_gives_the_projects_description(project,
                                                                              tmp_path):
    import_sample(project)
    Project.objects.filter(pk=project.pk).update(
        description="Policy briefs on sanctions, annotated by a seminar.")
    project.refresh_from_db()
    export_write(project=project, format="hf", path=tmp_path / "hf")
    card = (tmp_path / "hf" / "README.md").read_text(encoding="utf-8")
    assert "# Sanctions briefs\n\nPolicy briefs on sanctions, annotated by a seminar.\n" in card
    assert "No agreement run has been computed for this project yet" in card


@pytest.mark.parametrize("case", ["no document", "no submitted set"])
def test_an_empty_export_still_loads_with_the_same_features(db, tmp_path, case):
    project = ProjectFactory(slug="empty")
    scope = "both"
    if case == "no submitted set":
        document = DocumentFactory(project=project)
        AnnotationSet.objects.create(document=document, annotator=UserFactory(),
                                     status="in_progress")
        scope = "annotators"
    folder = tmp_path / "hf"
    summary = export_write(project=project, format="hf", path=folder, scope=scope)
    meta = front_matter(folder)  # the card parses
    wanted = (["gold", "annotators", "gold_bio", "annotators_bio"] if scope == "both"
              else ["annotators", "annotators_bio"])
    assert [c["config_name"] for c in meta["configs"]] == wanted
    for config in wanted:
        # datasets refuses an empty split without streaming, even the file its own
        # Dataset.to_parquet writes for an empty dataset, which this one is like.
        loaded = datasets.load_dataset(str(folder), config, streaming=True)
        assert list(loaded) == ["train"] and list(loaded["train"]) == []
        if config in ("gold", "annotators"):
            assert loaded["train"].features == expected_features(
                annotators=config == "annotators")
        path = folder / config / "train.parquet"
        assert pq.ParquetFile(path).metadata.num_rows == 0
        assert datasets.Features.from_arrow_schema(pq.read_schema(path)) == (
            loaded["train"].features)
        assert pq.read_table(path).num_rows == 0
    body = (folder / "README.md").read_text(encoding="utf-8")
    assert "This export holds no row" in body
    assert summary.spans == 0
