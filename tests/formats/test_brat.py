import pytest

from annotator.formats.brat import pair_brat_files, read_brat, write_brat
from annotator.formats.records import AnnotationRecord, FormatError, RelationRecord, SpanRecord

TEXT = "We must act. Sanctions work 👍 well.\nSo extend them."
ANN = (
    "T1\tClaim 0 12\tWe must act.\n"
    "T2\tReason 13 35\tSanctions work 👍 well.\n"
    "R1\tsupports Arg1:T2 Arg2:T1\t\n"
    "A1\tStance T1 For\n"
    "A2\tHedged T2\n"
    "#1\tAnnotatorNotes T2\tcheck the source\n"
)


def _read(text: str, ann: str, **names):
    return read_brat(
        text.encode(),
        ann.encode(),
        txt_name=names.get("txt_name", "doc.txt"),
        ann_name=names.get("ann_name", "doc.ann"),
    )


def test_reads_spans_relations_attributes_and_notes():
    record = _read(TEXT, ANN)
    [annotation] = record.annotations
    assert annotation.annotator == ""
    assert annotation.status == "submitted"
    assert annotation.spans == [
        SpanRecord("T1", 0, 12, "Claim", "We must act.", {"Stance": "For"}),
        SpanRecord(
            "T2", 13, 35, "Reason", "Sanctions work 👍 well.", {"Hedged": True}, "check the source"
        ),
    ]
    assert annotation.relations == [RelationRecord("R1", "T2", "T1", "supports")]
    assert record.external_id == "doc"
    assert record.source_format == "brat"
    assert record.original == TEXT.encode()
    assert record.original_name == "doc.txt"
    assert record.meta == {}


def test_offsets_count_code_points_after_emoji():
    text = "👍👍 Claim here"
    record = _read(text, "T1\tClaim 3 8\tClaim\n")
    assert record.annotations[0].spans[0].text == "Claim"


def test_crlf_text_is_normalised_and_offsets_move():
    text = "Line one.\r\nLine two is a claim.\r\n"
    record = _read(text, "T1\tClaim 11 31\tLine two is a claim.\n")
    span = record.annotations[0].spans[0]
    assert record.text == "Line one.\nLine two is a claim.\n"
    assert (span.start, span.end) == (10, 30)
    assert record.text[span.start : span.end] == "Line two is a claim."


def test_crlf_in_the_ann_file_is_accepted():
    record = _read(TEXT, ANN.replace("\n", "\r\n"))
    assert len(record.annotations[0].spans) == 2


def test_span_outside_text_names_file_line_and_span():
    ann = "T1\tClaim 0 12\tWe must act.\nT7\tClaim 40 90\tbeyond\n"
    with pytest.raises(FormatError) as caught:
        _read(TEXT, ann, ann_name="corpus/doc.ann")
    message = str(caught.value)
    assert message.startswith("corpus/doc.ann:2: ")
    assert "T7" in message and "outside the text" in message


def test_span_text_mismatch_is_refused():
    with pytest.raises(
        FormatError, match=r"^doc\.ann:1: span T1 \(0 12\): its text 'We must ACT\.'"
    ):
        _read(TEXT, "T1\tClaim 0 12\tWe must ACT.\n")


def test_discontinuous_span_is_refused_clearly():
    with pytest.raises(FormatError) as caught:
        _read(TEXT, "T3\tClaim 0 5;7 9\tWe mu ac\n")
    assert str(caught.value) == ("doc.ann:1: discontinuous span T3 (0 5;7 9) is not supported yet")


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("E1\tAct:T1 Theme:T2", "events"),
        ("N1\tReference T1 Wikipedia:534366\tBarack Obama", "normalisations"),
        ("*\tEquiv T1 T2", "equivalences"),
    ],
)
def test_events_normalisations_and_equivalences_are_refused(line, what):
    with pytest.raises(FormatError, match=rf"^doc\.ann:3: .*{what}.*not supported"):
        _read(TEXT, "T1\tClaim 0 12\tWe must act.\n\n" + line + "\n")


def test_relation_to_missing_span_is_refused_with_line():
    with pytest.raises(FormatError, match=r"^doc\.ann:2: relation R1 Arg2 refers to T9"):
        _read(TEXT, "T1\tClaim 0 12\tWe must act.\nR1\tsupports Arg1:T1 Arg2:T9\n")


def test_duplicate_span_id_is_refused():
    with pytest.raises(FormatError, match=r"^doc\.ann:2: duplicate id T1 \(first on line 1\)"):
        _read(TEXT, "T1\tClaim 0 12\tWe must act.\nT1\tClaim 0 2\tWe\n")


def test_attribute_on_a_relation_is_skipped():
    ann = "T1\tClaim 0 12\tWe must act.\nT2\tClaim 13 22\tSanctions\n"
    ann += "R1\tsupports Arg1:T2 Arg2:T1\nA1\tConfident R1\n"
    record = _read(TEXT, ann)
    assert all(span.attributes == {} for span in record.annotations[0].spans)


def test_span_text_with_newline_written_as_space_is_accepted():
    text = "first line\nsecond line"
    record = _read(text, "T1\tClaim 6 17\tline second\n")
    assert record.annotations[0].spans[0].text == "line\nsecond"


def test_invalid_utf8_ann_names_the_ann_file():
    with pytest.raises(FormatError, match=r"^doc\.ann: not valid UTF-8"):
        read_brat(b"text", b"T1\tClaim 0 1\t\xff\n", txt_name="doc.txt", ann_name="doc.ann")


def test_write_then_read_gives_the_same_annotation():
    record = _read(TEXT, ANN)
    written = write_brat(record.text, record.annotations[0])
    again = _read(record.text, written)
    assert again.annotations == record.annotations
    assert again.text == record.text


def test_write_renumbers_non_brat_ids_in_span_order():
    annotation = AnnotationRecord(
        annotator="alice",
        spans=[
            SpanRecord("s-b", 13, 22, "Reason", attributes={"Stance": "For"}),
            SpanRecord("s-a", 0, 12, "Claim", note="two\nlines"),
        ],
        relations=[RelationRecord("rel-x", "s-b", "s-a", "supports")],
    )
    assert write_brat(TEXT, annotation) == (
        "T1\tClaim 0 12\tWe must act.\n"
        "T2\tReason 13 22\tSanctions\n"
        "R1\tsupports Arg1:T2 Arg2:T1\t\n"
        "A1\tStance T2 For\n"
        "#1\tAnnotatorNotes T1\ttwo lines\n"
    )
    again = _read(TEXT, write_brat(TEXT, annotation)).annotations[0]
    assert [(s.id, s.start, s.end, s.label) for s in again.spans] == [
        ("T1", 0, 12, "Claim"),
        ("T2", 13, 22, "Reason"),
    ]
    assert again.relations == [RelationRecord("R1", "T2", "T1", "supports")]


def test_write_refuses_labels_brat_cannot_hold_but_writes_any_value():
    with pytest.raises(ValueError, match="one word"):
        write_brat(TEXT, AnnotationRecord(spans=[SpanRecord("T1", 0, 2, "Major Claim")]))
    with pytest.raises(ValueError, match="one word"):
        write_brat(TEXT, AnnotationRecord(spans=[SpanRecord("T1", 0, 2, "Claim",
                                                            attributes={"the score": "1"})]))
    span = SpanRecord("T1", 0, 2, "Claim", attributes={"Score": 0.5})
    assert "A1\tScore T1 0.5\n" in write_brat(TEXT, AnnotationRecord(spans=[span]))


def test_pair_brat_files_pairs_only_within_the_same_folder():
    pairs, leftovers = pair_brat_files(
        ["a/x.txt", "a/x.ann", "b/x.ann", "c/y.txt", "notes.md", "a/z.TXT", "a/z.ann"]
    )
    assert pairs == [("a/x.txt", "a/x.ann"), ("a/z.TXT", "a/z.ann")]
    assert leftovers == ["b/x.ann", "c/y.txt", "notes.md"]


def test_abstrct_samples_import_with_their_spans(corpora):
    folder = corpora / "abstrct"
    txt_files = sorted(folder.rglob("*.txt"))
    assert len(txt_files) == 4
    for txt in txt_files:
        ann = txt.with_suffix(".ann")
        record = read_brat(txt.read_bytes(), ann.read_bytes(), txt_name=txt.name, ann_name=ann.name)
        annotation = record.annotations[0]
        expected_spans = sum(line.startswith("T") for line in ann.read_text().splitlines())
        assert len(annotation.spans) == expected_spans > 0
        for span in annotation.spans:
            assert span.text == record.text[span.start : span.end]
        # Text never cleaned: the canonical text is the file (it has no CR).
        assert record.text == txt.read_text(encoding="utf-8")


def test_abstrct_offsets_are_code_points_after_non_ascii(corpora):
    txt = corpora / "abstrct" / "train" / "neoplasm_train" / "23075680.txt"
    ann = txt.with_suffix(".ann")
    record = read_brat(txt.read_bytes(), ann.read_bytes(), txt_name=txt.name, ann_name=ann.name)
    assert "\u00b2" in record.text[: min(s.start for s in record.annotations[0].spans)]
    assert len(record.annotations[0].relations) == 10


def test_abstrct_round_trip_through_write(corpora):
    txt = corpora / "abstrct" / "test" / "glaucoma_test" / "10080213.txt"
    ann = txt.with_suffix(".ann")
    record = read_brat(txt.read_bytes(), ann.read_bytes(), txt_name=txt.name, ann_name=ann.name)
    again = read_brat(
        record.text.encode(),
        write_brat(record.text, record.annotations[0]).encode(),
        txt_name=txt.name,
        ann_name=ann.name,
    )
    assert again.annotations == record.annotations
