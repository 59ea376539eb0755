"""The Hugging Face export: split, card, and ``datasets.load_dataset`` on the folder, offline."""

import os
import zipfile

import pytest
import yaml

# ``datasets`` reads these when it is imported: no network, no shared cache.
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
import datasets

from annotator.formats.hf import SPLITS, CardInfo, dataset_card, document_split
from annotator.formats.records import (
    AnnotationRecord,
    DocumentRecord,
    SpanRecord,
)
from annotator.models import AgreementRun, JobStatus
from annotator.services.exports import export_write
from annotator.services.imports import documents_import
from tests.formats.export_samples import TEXT_1, import_sample

LABELS = ["MajorClaim", "Claim", "Reason", "Evidence"]  # the argument preset's order
TYPES = ["supports", "attacks", "evidence_for"]
EXPECTED_SPAN = {
    "id": datasets.Value("string"),
    "start": datasets.Value("int32"),
    "end": datasets.Value("int32"),
    "label": datasets.ClassLabel(names=LABELS),
    "text": datasets.Value("string"),
    "attributes": datasets.Value("string"),
    "note": datasets.Value("string"),
    "suggested_by": datasets.Value("string"),
}
EXPECTED_RELATION = {k: datasets.Value("string") for k in ("id", "source", "target")} | {
    "type": datasets.ClassLabel(names=TYPES)}


def expected_features(*, annotators: bool) -> "datasets.Features":
    fields = {k: datasets.Value("string") for k in ("id", "title", "text", "meta")}
    if annotators:
        fields |= {"annotator": datasets.Value("string"), "status": datasets.Value("string")}
    fields |= {"spans": datasets.List(EXPECTED_SPAN), "relations": datasets.List(EXPECTED_RELATION)}
    return datasets.Features(fields)


def front_matter(readme: str) -> dict:
    assert readme.startswith("---\n")
    return yaml.safe_load(readme.split("---\n")[1])


@pytest.fixture
def many_documents(project):
    """The sample plus 40 briefs with a gold span each, so that every split has rows."""
    import_sample(project)
    records = []
    for n in range(40):
        text = f"Brief number {n} argues that sanctions work."
        gold = AnnotationRecord(spans=[SpanRecord("T1", 16 + len(str(n)), len(text), "Claim")])
        records.append(DocumentRecord(external_id=f"extra-{n}", text=text, gold=gold))
    documents_import(project=project, records=records)
    return project


def load(folder, tmp_path, name=None):
    return datasets.load_dataset(str(folder), name, cache_dir=str(tmp_path / "hf-cache"))


def test_the_split_is_a_pure_function_of_document_id_and_seed():
    ids = [f"brief-{n}" for n in range(200)]
    first = [document_split(i, seed=3) for i in ids]
    assert first == [document_split(i, seed=3) for i in ids]
    assert first != [document_split(i, seed=4) for i in ids]
    assert set(first) == set(SPLITS)


def test_bad_split_ratios_are_refused():
    with pytest.raises(ValueError, match="sum"):
        document_split("x", ratios=(0.5, 0.5, 0.5))


def test_datasets_loads_the_exported_folder_offline_with_the_expected_features(
    many_documents, tmp_path
):
    folder = tmp_path / "dataset"
    summary = export_write(project=many_documents, format="hf", path=folder, options={"seed": 1})
    assert summary.documents == 43

    gold = load(folder, tmp_path)  # the default configuration is the gold
    assert set(gold) == set(SPLITS)
    for split in SPLITS:
        assert gold[split].features == expected_features(annotators=False)
    assert sum(gold[split].num_rows for split in SPLITS) == 42  # brief-3 has no gold
    for split in SPLITS:  # the split of each row is the documented function of its id
        assert all(document_split(i, seed=1) == split for i in gold[split]["id"])

    rows = {row["id"]: row for split in SPLITS for row in gold[split]}
    brief = rows["brief-1"]
    assert brief["text"] == TEXT_1
    assert [(s["id"], LABELS[s["label"]], s["start"], s["end"]) for s in brief["spans"]] == [
        ("T1", "Claim", 0, 24),
        ("T2", "Reason", 26, 45),
        ("T3", "MajorClaim", TEXT_1.index("So:"), len(TEXT_1)),
    ]
    for span in brief["spans"]:  # offsets are code points: Python slicing gives the text
        assert brief["text"][span["start"] : span["end"]] == span["text"]
    assert brief["spans"][1]["attributes"] == '{"strong": true}'
    assert brief["spans"][2]["note"] == "the headline"
    assert {(r["source"], r["target"], TYPES[r["type"]]) for r in brief["relations"]} == {
        ("T1", "T3", "supports"),
        ("T2", "T1", "attacks"),
    }

    annotators = load(folder, tmp_path, "annotators")
    assert annotators[next(iter(annotators))].features == expected_features(annotators=True)
    sets = sorted(
        (row["id"], row["annotator"], row["status"], len(row["spans"]))
        for split in annotators
        for row in annotators[split]
    )
    assert sets == [  # bob's set is in progress: left out
        ("brief-1", "alice", "submitted", 3),
        ("brief-2", "alice", "submitted", 1),
    ]
    assert summary.unfinished_sets == 1
    # A document's annotators' rows are in the split of its gold row.
    for split in annotators:
        assert all(document_split(i, seed=1) == split for i in annotators[split]["id"])


def test_the_dataset_card_has_front_matter_labels_offsets_and_no_agreement_note(
    many_documents, tmp_path
):
    folder = tmp_path / "dataset"
    export_write(project=many_documents, format="hf", path=folder,
                 options={"license": "cc-by-4.0", "language": ["en", "de"]})
    readme = (folder / "README.md").read_text(encoding="utf-8")
    meta = front_matter(readme)
    assert meta["license"] == "cc-by-4.0"
    assert meta["language"] == ["en", "de"]
    assert "token-classification" in meta["task_categories"]
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert configs["gold"]["default"] is True
    assert {f["split"]: f["path"] for f in configs["gold"]["data_files"]} == {
        s: f"gold/{s}.parquet" for s in SPLITS
    }
    for config in configs.values():
        for data_file in config["data_files"]:
            assert (folder / data_file["path"]).is_file()
    info = {i["config_name"]: i for i in meta["dataset_info"]}
    declared = datasets.Features._from_yaml_list(info["gold"]["features"])
    assert declared == expected_features(annotators=False)
    assert sum(s["num_examples"] for s in info["gold"]["splits"]) == 42

    body = readme.split("---\n", 2)[2]
    assert "A contestable statement that the brief argues for or against." in body  # Claim
    assert "evidence_for" in body
    assert "Unicode code points" in body
    assert "No agreement run has been computed" in body


def test_the_card_gives_the_latest_finished_agreement_run(many_documents, tmp_path):
    report = {
        "project": "sanctions", "unit": "token", "documents": 2, "annotators": ["alice", "bob"],
        "overall": {
            "krippendorff_alpha": {"value": 0.712, "per_label": {"Claim": 0.66}},
            "cohen_kappa": {"value": None, "pairs": {}},
            "span_f1": {"exact": {"value": 0.5}, "overlap": {"value": 0.8},
                        "jaccard50": {"value": 0.75}},
        },
        "by_document": {},
    }
    AgreementRun.objects.create(project=many_documents, status=JobStatus.DONE, report=report)
    AgreementRun.objects.create(project=many_documents, status=JobStatus.FAILED)
    folder = tmp_path / "dataset"
    export_write(project=many_documents, format="hf", path=folder)
    body = (folder / "README.md").read_text(encoding="utf-8")
    assert "No agreement run" not in body
    assert "| Krippendorff's alpha (nominal) | 0.712 |" in body
    assert "| Cohen's kappa (mean over pairs) | undefined |" in body
    assert "| Span F1, overlap | 0.800 |" in body
    assert "| Claim | 0.660 |" in body


def test_the_zip_form_unpacks_to_a_loadable_folder(project, tmp_path):
    import_sample(project)
    archive = tmp_path / "dataset.zip"
    export_write(project=project, format="hf", path=archive, scope="gold")
    with zipfile.ZipFile(archive) as zf:
        assert "README.md" in zf.namelist()
        assert not any(n.startswith("annotators/") for n in zf.namelist())
        zf.extractall(tmp_path / "unpacked")
    gold = load(tmp_path / "unpacked", tmp_path)
    assert sorted(r["id"] for split in gold for r in gold[split]) == ["brief-1", "brief-2"]


def test_card_lists_only_splits_that_have_rows():
    card = dataset_card(CardInfo(name="P", slug="p"), {"annotators": {"train": 3}})
    meta = front_matter(card)
    assert [c["config_name"] for c in meta["configs"]] == ["annotators"]
    assert meta["configs"][0]["data_files"] == [
        {"split": "train", "path": "annotators/train.parquet"}
    ]


@pytest.fixture
def without_gold(project):
    """Annotators' sets only: no document has a gold standard yet."""
    records = [
        DocumentRecord(
            external_id=f"brief-{n}",
            text=TEXT_1,
            annotations=[AnnotationRecord(annotator="alice",
                                          spans=[SpanRecord("T1", 0, 24, "Claim")])],
        )
        for n in range(3)
    ]
    documents_import(project=project, records=records)
    return project


GOLD_DEFAULT = 'gold = load_dataset("path/to/this/folder")  # the default configuration: gold'
ANNOTATORS_DEFAULT = (
    'annotators = load_dataset("path/to/this/folder")  # the default configuration: annotators'
)


def test_with_a_gold_the_card_loads_the_gold_by_default(project, tmp_path):
    import_sample(project)
    folder = tmp_path / "dataset"
    export_write(project=project, format="hf", path=folder)
    body = (folder / "README.md").read_text(encoding="utf-8").split("---\n", 2)[2]
    assert GOLD_DEFAULT in body
    assert 'annotators = load_dataset("path/to/this/folder", "annotators")' in body
    assert ANNOTATORS_DEFAULT not in body
    assert "This export left out 1 unfinished annotation set." in body  # bob's
    assert load(folder, tmp_path)["train"].features == expected_features(annotators=False)


@pytest.mark.parametrize("case", ["no gold yet", "scope annotators"])
def test_without_gold_rows_the_card_loads_the_annotators_by_default(
    project, tmp_path, case, request
):
    if case == "no gold yet":
        request.getfixturevalue("without_gold")
        scope = "both"
    else:
        import_sample(project)
        scope = "annotators"
    folder = tmp_path / "dataset"
    export_write(project=project, format="hf", path=folder, scope=scope)
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert [c["config_name"] for c in front_matter(readme)["configs"]] == [
        "annotators", "annotators_bio"]
    body = readme.split("---\n", 2)[2]
    assert ANNOTATORS_DEFAULT in body
    assert "gold = load_dataset" not in body
    assert "the default configuration is `annotators`" in body

    # What the card says is what ``load_dataset(folder)`` gives.
    default = load(folder, tmp_path)
    for split in default:
        assert default[split].features == expected_features(annotators=True)
    rows = [(r["id"], r["annotator"], r["status"]) for split in default for r in default[split]]
    assert rows and all(status == "submitted" for _, _, status in rows)
    assert {annotator for _, annotator, _ in rows} == {"alice"}


def test_a_card_with_no_row_says_there_is_nothing_to_load():
    card = dataset_card(CardInfo(name="P", slug="p", scope="gold"), {})
    assert "load_dataset" not in card
    assert "nothing to load" in card


def test_the_card_cites_the_project_counts_each_label_and_says_no_policy_briefs(project,
                                                                                tmp_path):
    from annotator.models import Project
    from annotator.services.exports import export_write
    from tests.formats.export_samples import import_sample

    import_sample(project)
    Project.objects.filter(pk=project.pk).update(citation="@misc{briefs, title={Briefs}}")
    project.refresh_from_db()
    export_write(project=project, format="hf", path=tmp_path / "hf", scope="gold")
    card = (tmp_path / "hf" / "README.md").read_text(encoding="utf-8")
    assert "## Citation\n\n```bibtex\n@misc{briefs, title={Briefs}}\n```" in card
    assert "policy briefs" not in card
    # The gold holds Claim 1, Reason 1, MajorClaim 2, Evidence 2 (export_samples).
    for label, n in {"MajorClaim": 2, "Claim": 1, "Reason": 1, "Evidence": 2}.items():
        assert f"| span {label} | {n} |" in card
    assert "| relation evidence_for | 2 |" in card and "| relation attacks | 1 |" in card
