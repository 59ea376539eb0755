"""CoNLL: BIO per label column over \\S+ tokens, and the report of what it cannot hold."""

from annotator.formats.conll import conll_block, conll_header
from annotator.formats.records import AnnotationRecord, RelationRecord, SpanRecord
from annotator.services.exports import export_write
from annotator.text.tokens import token_offsets
from tests.formats.export_samples import TEXT_1, import_sample

LABELS = ["MajorClaim", "Claim", "Reason", "Evidence"]
TEXT = "Sanctions work 👩‍💻 well because exports fell."


def tags(block, label):
    column = 3 + LABELS.index(label)
    return [line.split("\t")[column] for line in block.text.splitlines()[1:-1]]


def test_nested_spans_of_different_labels_are_both_represented():
    annotation = AnnotationRecord(spans=[
        SpanRecord("T1", 0, len(TEXT), "Claim"),
        SpanRecord("T2", TEXT.index("because"), len(TEXT), "Reason"),
    ])
    block = conll_block("b1", TEXT, annotation, LABELS)
    assert tags(block, "Claim") == ["B-Claim"] + ["I-Claim"] * 6
    assert tags(block, "Reason") == ["O"] * 4 + ["B-Reason", "I-Reason", "I-Reason"]
    assert tags(block, "Evidence") == ["O"] * 7
    assert block.problems == []


def test_tokens_are_whitespace_runs_with_code_point_offsets():
    block = conll_block("b1", TEXT, AnnotationRecord(), LABELS)
    lines = [line.split("\t") for line in block.text.splitlines()[1:-1]]
    assert [(form, int(s), int(e)) for form, s, e, *_ in lines] == [
        (TEXT[s:e], s, e) for s, e in token_offsets(TEXT)
    ]
    assert lines[2][0] == "👩‍💻" and (int(lines[2][1]), int(lines[2][2])) == (15, 18)


def test_overlapping_spans_of_the_same_label_keep_the_first_and_report_the_other():
    annotation = AnnotationRecord(spans=[
        SpanRecord("T2", 10, 24, "Claim"),
        SpanRecord("T1", 0, 14, "Claim"),
    ])
    block = conll_block("b1", TEXT, annotation, LABELS, who="alice")
    assert tags(block, "Claim") == ["B-Claim", "I-Claim", "O", "O", "O", "O", "O"]
    [problem] = block.problems
    assert (problem.document, problem.annotator) == ("b1", "alice")
    assert problem.item.startswith("span T2") and "left out" in problem.problem


def test_adjacent_spans_of_the_same_label_are_separated_by_b():
    annotation = AnnotationRecord(spans=[
        SpanRecord("T1", 0, 14, "Claim"), SpanRecord("T2", 15, 23, "Claim"),
    ])
    block = conll_block("b1", TEXT, annotation, LABELS)
    assert tags(block, "Claim")[:4] == ["B-Claim", "I-Claim", "B-Claim", "I-Claim"]
    assert block.problems == []


def test_what_bio_cannot_hold_is_reported():
    annotation = AnnotationRecord(
        spans=[
            SpanRecord("T1", 3, 12, "Claim", attributes={"x": True}, note="hm"),
            SpanRecord("T2", 14, 15, "Reason"),  # a space only
            SpanRecord("T3", 0, 4, "Warrant"),  # no column
        ],
        relations=[RelationRecord("R1", "T1", "T3", "supports")],
    )
    problems = [p.problem for p in conll_block("b1", TEXT, annotation, LABELS).problems]
    assert problems == [
        "label 'Warrant' has no column",
        "starts inside a token: widened to whole tokens",
        "ends inside a token: widened to whole tokens",
        "covers no token (whitespace only)",
        "relations have no place in BIO",
        "attributes have no place in BIO",
        "notes have no place in BIO",
    ]


def test_header_names_every_column():
    assert conll_header(LABELS).split() == [
        "#", "global.columns", "=", "FORM", "START", "END", *LABELS
    ]


def test_export_writes_a_file_per_annotation_set_source_and_the_report(project, tmp_path):
    import_sample(project)
    summary = export_write(project=project, format="conll", path=tmp_path / "out")
    out = tmp_path / "out"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "README.txt", "annotators/alice.conll", "gold.conll", "report.tsv",
    ]  # bob's set is in progress: left out, and README.txt says so
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert "Only submitted work is here" in readme
    assert "This export left out 1 unfinished annotation set (1 in_progress)" in readme
    gold = (out / "gold.conll").read_text(encoding="utf-8")
    assert gold.startswith(conll_header(LABELS) + "# document = brief-1\n")
    assert gold.count("# document = ") == 2  # brief-3 has no gold
    assert len(gold.split("# document = brief-1\n")[1].split("\n\n")[0].splitlines()) == len(
        token_offsets(TEXT_1)
    )
    report = (out / "report.tsv").read_text(encoding="utf-8").splitlines()
    assert report[0] == "document\tannotator\titem\tproblem"
    assert "brief-1\talice\tspan T3 (Claim 15-30)\tshares tokens with an earlier Claim span: " \
           "left out" in report
    assert summary.unrepresented == len(report) - 1


def test_gold_only_scope_writes_only_the_gold(project, tmp_path):
    import_sample(project)
    export_write(project=project, format="conll", path=tmp_path / "out.zip", scope="gold")
    import zipfile

    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert sorted(zf.namelist()) == ["README.txt", "gold.conll", "report.tsv"]
