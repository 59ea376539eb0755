"""What every export shares: unfinished sets left out (except JSONL), and file modes."""

import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from annotator.models import AnnotationSet, AnnotationStatus, Document
from annotator.services import exports
from annotator.services.exports import EXPORT_FORMATS, export_write
from tests.agreement_helpers import annotate
from tests.formats.export_samples import import_sample

SUBMITTED_ONLY = sorted(name for name, spec in EXPORT_FORMATS.items() if spec.submitted_only)


@pytest.fixture
def sample(project):
    """The export sample (bob's set on brief-1 is in progress) plus carol, assigned, no span."""
    import_sample(project)
    annotate(project, Document.objects.get(external_id="brief-2"), "carol", [],
             status=AnnotationStatus.ASSIGNED)
    return project


def output(fmt: str, tmp_path: Path) -> Path:
    return tmp_path / ("out" + EXPORT_FORMATS[fmt].suffix)


def member_names(path: Path) -> list[str]:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            return zf.namelist()
    return []


def test_only_jsonl_keeps_unfinished_sets():
    assert [name for name, spec in EXPORT_FORMATS.items() if not spec.submitted_only] == ["jsonl"]
    assert SUBMITTED_ONLY == ["aif", "brat", "conll", "csv", "hf", "labelstudio", "xmi"]


@pytest.mark.parametrize("fmt", SUBMITTED_ONLY)
def test_formats_without_a_status_leave_out_unfinished_sets_and_count_them(
    sample, tmp_path, fmt
):
    path = output(fmt, tmp_path)
    summary = export_write(project=sample, format=fmt, path=path)
    # gold 6 spans + alice 4; bob's one span (in progress) is not there; CoNLL
    # holds no relation and says so.
    relations = 0 if fmt == "conll" else 5
    assert (summary.documents, summary.spans, summary.relations) == (3, 10, relations)
    assert summary.unfinished == {"in_progress": 1, "assigned": 1}
    assert summary.unfinished_sets == 2
    assert summary.left_out_note().startswith(
        "left out 2 unfinished annotation sets (1 assigned, 1 in_progress): "
        "this format holds only submitted sets and the gold"
    )
    names = member_names(path)
    assert not any("bob" in name or "carol" in name for name in names)
    if fmt == "csv":
        with zipfile.ZipFile(path) as zf:
            assert not any(b"bob" in zf.read(name) for name in zf.namelist())
    if fmt == "hf":
        with zipfile.ZipFile(path) as zf:
            card = zf.read("README.md").decode()
        assert "This export left out 2 unfinished annotation sets." in card


def test_jsonl_keeps_every_set_with_its_status(sample, tmp_path):
    path = tmp_path / "out.jsonl"
    summary = export_write(project=sample, format="jsonl", path=path)
    assert (summary.spans, summary.unfinished_sets, summary.left_out_note()) == (11, 0, "")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    statuses = {
        (line["id"], a["annotator"]): a["status"] for line in lines for a in line["annotations"]
    }
    assert statuses == {
        ("brief-1", "alice"): "submitted",
        ("brief-1", "bob"): "in_progress",
        ("brief-2", "alice"): "submitted",
        ("brief-2", "carol"): "assigned",
    }


def test_the_gold_is_exported_whatever_its_status(sample, tmp_path):
    AnnotationSet.objects.filter(document__project=sample, is_gold=True).update(
        status=AnnotationStatus.IN_PROGRESS
    )
    summary = export_write(project=sample, format="csv", path=tmp_path / "gold.zip", scope="gold")
    assert (summary.spans, summary.unfinished_sets) == (6, 0)


def test_the_gold_scope_leaves_nothing_out(sample, tmp_path):
    summary = export_write(project=sample, format="brat", path=tmp_path / "b.zip", scope="gold")
    assert (summary.unfinished_sets, summary.left_out_note()) == (0, "")


# --- file modes ----------------------------------------------------------------------


@pytest.fixture(params=[0o022, 0o027], ids=["umask022", "umask027"])
def umask(request):
    old = os.umask(request.param)
    exports.process_umask.cache_clear()
    yield request.param
    os.umask(old)
    exports.process_umask.cache_clear()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_umask_is_read_without_changing_it(umask):
    assert exports.process_umask() == umask
    assert os.umask(umask) == umask  # still in place


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("jsonl", "out.jsonl"), ("csv", "out.zip"), ("brat", "out.zip"), ("conll", "out.zip"),
     ("hf", "out.zip")],
)
def test_exported_files_get_the_mode_of_the_umask(sample, tmp_path, umask, fmt, name):
    path = tmp_path / name
    export_write(project=sample, format=fmt, path=path)
    assert mode(path) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


@pytest.mark.parametrize("fmt", ["aif", "brat", "conll", "csv", "hf"])
def test_exported_folders_get_the_mode_of_the_umask(sample, tmp_path, umask, fmt):
    folder = tmp_path / "out"
    export_write(project=sample, format=fmt, path=folder)
    assert mode(folder) == 0o777 & ~umask
    for path in folder.rglob("*"):
        assert mode(path) == (0o777 if path.is_dir() else 0o666) & ~umask, path
