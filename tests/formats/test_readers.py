import io
import zipfile

import pytest

from annotator.formats import readers
from annotator.formats.jsonl import dump_jsonl
from annotator.formats.readers import (
    MAX_COMPRESSION_RATIO,
    SUPPORTED_EXTENSIONS,
    read_paths,
    read_upload,
    read_uploads,
)
from annotator.formats.records import DocumentRecord, FormatError

BRIEF = b"Extend the sanctions\n\nThey cut revenue by a third."
TXT = b"We must act. Sanctions work."
ANN = (
    b"T1\tClaim 0 12\tWe must act.\n"
    b"T2\tReason 13 28\tSanctions work.\n"
    b"R1\tsupports Arg1:T2 Arg2:T1\n"
)


def _zip(members: dict[str, bytes], *, level: int = 6) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_supported_extensions_cover_the_design():
    assert {
        ".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".jsonl", ".ann", ".zip",
        ".json",  # Label Studio's export; doccano's is a .jsonl told apart by its keys
        ".xmi",  # UIMA CAS XMI with its TypeSystem.xml (INCEpTION)
    } == set(SUPPORTED_EXTENSIONS)


@pytest.mark.parametrize(
    ("name", "data", "source_format"),
    [
        ("brief.txt", BRIEF, "text"),
        ("brief.md", b"# Extend the sanctions\n\nThey cut revenue.", "markdown"),
        ("brief.MARKDOWN", b"# Extend\n\nThey cut revenue.", "markdown"),
        ("brief.html", b"<html><body><p>They cut revenue by a third.</p></body></html>", "html"),
        ("brief.htm", b"<p>They cut revenue by a third.</p>", "html"),
    ],
)
def test_upload_dispatches_on_extension(name, data, source_format):
    [record] = read_upload(name, data)
    assert record.source_format == source_format
    assert record.original == data


def test_upload_jsonl_gives_every_document():
    data = dump_jsonl([DocumentRecord("a", "text a"), DocumentRecord("b", "text b")]).encode()
    assert [r.external_id for r in read_upload("corpus.jsonl", data)] == ["a", "b"]


def test_unsupported_extension_names_the_file():
    with pytest.raises(FormatError, match=r"^slides\.pptx: unsupported file type '\.pptx'"):
        read_upload("slides.pptx", b"PK")


def test_lone_ann_upload_asks_for_its_txt():
    with pytest.raises(FormatError, match=r"^doc\.ann: a brat \.ann file needs .*doc\.txt"):
        read_upload("doc.ann", ANN)


def test_txt_and_ann_uploaded_together_are_brat():
    [record] = read_uploads([("doc.ann", ANN), ("doc.txt", TXT), ("other.txt", BRIEF)])[:1]
    assert record.source_format == "brat"
    assert len(record.annotations[0].spans) == 2
    assert record.original == TXT


def test_zip_of_brat_pairs_and_briefs_reads_all_in_name_order():
    data = _zip(
        {
            "corpus/b.txt": BRIEF,
            "corpus/a.txt": TXT,
            "corpus/a.ann": ANN,
            "corpus/c.md": b"# C\n\nA markdown brief.",
            "corpus/LICENSE": b"not a document",
            "corpus/annotation.conf": b"[entities]",
            "__MACOSX/corpus/._a.txt": b"\x00\x05resource fork",
            "corpus/.DS_Store": b"\x00",
        }
    )
    records = read_upload("class.zip", data)
    assert [(r.external_id, r.source_format) for r in records] == [
        ("a", "brat"),
        ("b", "text"),
        ("c", "markdown"),
    ]
    assert records[0].original_name == "class.zip/corpus/a.txt"


def test_error_inside_zip_names_archive_and_member():
    data = _zip({"briefs/bad.txt": b"caf\xe9", "briefs/good.txt": BRIEF})
    with pytest.raises(FormatError, match=r"^class\.zip/briefs/bad\.txt: not valid UTF-8"):
        read_upload("class.zip", data)


def test_brat_span_error_inside_zip_names_member_line_and_span():
    bad_ann = b"T1\tClaim 0 12\tWe must act.\nT2\tClaim 20 400\tx\n"
    data = _zip({"d/doc.txt": TXT, "d/doc.ann": bad_ann})
    with pytest.raises(FormatError, match=r"^up\.zip/d/doc\.ann:2: span T2 \(20 400\)"):
        read_upload("up.zip", data)


@pytest.mark.parametrize(
    "member", ["../evil.txt", "a/../../evil.txt", "/etc/evil.txt", "C:/evil.txt", "a\\..\\evil.txt"]
)
def test_zip_with_unsafe_path_is_refused(member):
    data = _zip({"ok.txt": BRIEF, member: BRIEF})
    with pytest.raises(FormatError, match=r"refused") as caught:
        read_upload("evil.zip", data)
    assert str(caught.value).startswith("evil.zip/")


def test_zip_bomb_member_is_refused():
    # 4 MiB of one byte deflates to a few KiB: a ratio far above the limit.
    data = _zip({"bomb.txt": b"a" * (4 * 1024 * 1024)}, level=9)
    assert len(data) * MAX_COMPRESSION_RATIO < 4 * 1024 * 1024
    with pytest.raises(FormatError, match=r"^bomb\.zip/bomb\.txt: compressed \d+:1.*zip bomb"):
        read_upload("bomb.zip", data)


def test_zip_larger_than_the_uncompressed_limit_is_refused(monkeypatch):
    monkeypatch.setattr(readers, "MAX_UNCOMPRESSED_BYTES", 1000)
    data = _zip({"a.txt": BRIEF * 12, "b.txt": BRIEF * 12})  # 2 x 600 bytes
    with pytest.raises(FormatError, match=r"^big\.zip: the archive unpacks to more than 1000 b"):
        read_upload("big.zip", data)


def test_zip_with_too_many_members_is_refused(monkeypatch):
    monkeypatch.setattr(readers, "MAX_ZIP_MEMBERS", 3)
    data = _zip({f"{i}.txt": BRIEF for i in range(4)})
    with pytest.raises(FormatError, match="holds 4 files; at most 3"):
        read_upload("many.zip", data)


def test_zip_nested_once_is_read_and_twice_is_refused():
    inner = _zip({"inner.txt": BRIEF})
    [record] = read_upload("outer.zip", _zip({"group/inner.zip": inner}))
    assert record.original_name == "outer.zip/group/inner.zip/inner.txt"
    deeper = _zip({"middle.zip": _zip({"inner.zip": inner})})
    with pytest.raises(FormatError, match=r"^deep\.zip/middle\.zip/inner\.zip: .*nested"):
        read_upload("deep.zip", deeper)


def test_not_a_zip_and_empty_zip_are_refused():
    with pytest.raises(FormatError, match=r"^x\.zip: not a valid \.zip archive"):
        read_upload("x.zip", b"this is text")
    with pytest.raises(FormatError, match=r"^y\.zip: no documents found"):
        read_upload("y.zip", _zip({"README": b"nothing"}))


def test_folder_is_read_recursively_sorted_with_brat_pairs(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "doc.txt").write_bytes(TXT)
    (tmp_path / "b" / "doc.ann").write_bytes(ANN)
    (tmp_path / "a.md").write_bytes(b"# A\n\nFirst brief.")
    (tmp_path / "c.txt").write_bytes(BRIEF)
    (tmp_path / "notes.odt").write_bytes(b"skipped")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.txt").write_bytes(BRIEF)
    records = read_paths([tmp_path])
    assert [(r.external_id, r.source_format) for r in records] == [
        ("a", "markdown"),
        ("doc", "brat"),
        ("c", "text"),
    ]


def test_file_paths_pair_with_an_ann_beside_them(tmp_path):
    (tmp_path / "doc.txt").write_bytes(TXT)
    (tmp_path / "doc.ann").write_bytes(ANN)
    [from_txt] = read_paths([str(tmp_path / "doc.txt")])
    [from_ann] = read_paths([str(tmp_path / "doc.ann")])
    assert from_txt.source_format == from_ann.source_format == "brat"


def test_missing_path_and_unsupported_file_are_refused(tmp_path):
    with pytest.raises(FormatError, match="no such file or folder"):
        read_paths([tmp_path / "missing.txt"])
    (tmp_path / "deck.key").write_bytes(b"slides")
    with pytest.raises(FormatError, match=r"deck\.key: unsupported file type '\.key'"):
        read_paths([tmp_path / "deck.key"])


def test_abstrct_folder_imports_every_brat_document(corpora):
    records = [r for r in read_paths([corpora / "abstrct"]) if r.source_format == "brat"]
    assert [r.external_id for r in records] == ["10080213", "10561201", "21871978", "23075680"]
    assert sum(len(r.annotations[0].spans) for r in records) > 20
    assert all(r.cleaning is None for r in records)


def _jsonl(prefix: str, n: int) -> bytes:
    return dump_jsonl(DocumentRecord(external_id=f"{prefix}{i}", text=f"Brief {i}.")
                      for i in range(n)).encode()


def test_reading_reports_the_share_of_bytes_read_as_it_goes():
    files = [("a.jsonl", _jsonl("a", 20)), ("b.txt", BRIEF), ("c.jsonl", _jsonl("c", 20))]
    shares: list[float] = []
    records = read_uploads(files, progress=shares.append, progress_interval=0)
    assert len(records) == 41
    # Within each JSONL line by line, not only at the ends of the files: it rises
    # steadily to the whole upload.
    assert shares == sorted(shares) and shares[0] < 0.05 and shares[-1] == 1.0
    assert len(set(shares)) >= 40
    size_a = len(files[0][1])
    total = sum(len(data) for _, data in files)
    assert size_a / total in shares and (size_a + len(BRIEF)) / total in shares


def test_reading_progress_is_throttled():
    shares: list[float] = []
    read_uploads([("a.jsonl", _jsonl("a", 200))], progress=shares.append,
                 progress_interval=3600)
    assert shares == [0.0]  # the first call only, not one a line
