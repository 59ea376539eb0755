"""manage.py backup / restore: one summary line, refusals in one line, nothing half-done."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.services.test_backup import (
    PASSWORD,
    build_rich_project,
    canonical,
    empty_the_instance,
    row_counts,
    with_lines,
)

ROOT = Path(__file__).resolve().parents[2]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def rich(db, django_capture_on_commit_callbacks):
    return build_rich_project(django_capture_on_commit_callbacks)


def test_backup_then_restore_into_an_empty_instance(rich, tmp_path, client):
    before = canonical("demo")
    path = tmp_path / "demo.warrant.gz"
    out = run("backup", "demo", "-o", str(path))
    assert out.count("\n") == 1 and "backed up demo" in out and "2 document(s)" in out
    assert path.stat().st_mode & 0o077 == 0  # password hashes: readable by the owner only
    empty_the_instance()

    out = run("restore", str(path))

    assert out.count("\n") == 1
    assert out.startswith("restored demo: 2 document(s)") and "6 user(s) created" in out
    assert canonical("demo") == before
    assert client.login(username="instructor", password=PASSWORD)


def test_backup_refuses_to_overwrite_a_file_unless_forced(rich, tmp_path):
    path = tmp_path / "demo.gz"
    path.write_bytes(b"precious")
    with pytest.raises(CommandError, match="exists already: use --force"):
        run("backup", "demo", "-o", str(path))
    assert path.read_bytes() == b"precious"
    run("backup", "demo", "-o", str(path), "--force")
    assert gzip.decompress(path.read_bytes()).startswith(b'{"created_at"')


def test_a_failed_backup_leaves_no_file_at_all(rich, tmp_path, monkeypatch):
    def half_then_fail(project, out):
        out.write(b"half a backup")
        raise RuntimeError("disk full")

    monkeypatch.setattr("annotator.management.commands.backup.project_backup", half_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        run("backup", "demo", "-o", str(tmp_path / "demo.gz"))
    assert list(tmp_path.iterdir()) == []


def test_backup_of_an_unknown_project_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="no project with slug 'nope'"):
        run("backup", "nope", "-o", str(tmp_path / "x.gz"))
    assert list(tmp_path.iterdir()) == []


def test_restore_with_a_new_slug_makes_a_copy(rich, tmp_path):
    path = tmp_path / "demo.gz"
    run("backup", "demo", "-o", str(path))
    out = run("restore", str(path), "--slug", "demo-2")
    assert out.startswith("restored demo-2:") and "6 existing user(s) reused" in out
    assert "join code was in use" in out
    assert canonical("demo-2", skip_project=("slug", "join_code")) == \
        canonical("demo", skip_project=("slug", "join_code"))


def test_restore_names_the_existing_users_it_reused(rich, tmp_path):
    """Same username, same person: whoever restores sees who got the file's roles."""
    path = tmp_path / "demo.gz"
    run("backup", "demo", "-o", str(path))
    out = run("restore", str(path), "--slug", "demo-2")
    assert out.count("\n") == 1
    assert ("6 existing user(s) reused (passwords unchanged): alice, bob, carol, cora, "
            "instructor, victor") in out


XSS = "<img src=x onerror=alert(1)>"


def _label_named_with_markup(records):
    label = next(r for r in records if r.get("kind") == "span_label")
    for doc in (r for r in records if r.get("kind") == "document"):
        for s in doc["annotation_sets"]:
            for span in s["spans"]:
                if span["label"] == label["name"]:
                    span["label"] = XSS
    label["name"] = XSS


def _tampered_offsets(records):
    doc = next(r for r in records if r.get("kind") == "document")
    doc["annotation_sets"][0]["spans"][0]["start"] = -3


# The damaged files are restored under a new slug, so that the damage is what is refused.
@pytest.mark.parametrize("make_bad, slug, message", [
    (lambda data: data, [], "slug 'demo' exists already"),  # the original is still there
    (lambda data: data[: len(data) // 2], ["--slug", "x"], "truncated"),
    (lambda data: b"PK\x03\x04 not a backup", ["--slug", "x"], "not gzip-compressed"),
    (lambda data: with_lines(data, _tampered_offsets), ["--slug", "x"], "start"),
    # A label the schema editor would refuse (issue 11, point 5).
    (lambda data: with_lines(data, _label_named_with_markup), ["--slug", "x"],
     r"line 3 \(span_label\): name '<img src=x onerror=alert\(1\)>' must start with a letter"),
])
def test_restore_refusals_are_one_line_and_change_nothing(
    rich, tmp_path, make_bad, slug, message
):
    good = tmp_path / "good.gz"
    run("backup", "demo", "-o", str(good))
    bad = tmp_path / "bad.gz"
    bad.write_bytes(make_bad(good.read_bytes()))
    counts = row_counts()
    with pytest.raises(CommandError, match=message) as info:
        run("restore", str(bad), *slug)
    assert "\n" not in str(info.value)
    assert row_counts() == counts


def test_restore_of_a_missing_file_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run("restore", str(tmp_path / "absent.gz"))


def test_a_real_restore_of_a_bad_file_exits_non_zero_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(WARRANT_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings.local")

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    assert manage("migrate", "-v0").returncode == 0
    assert manage("demo", "--password", PASSWORD).returncode == 0
    good = tmp_path / "demo.gz"
    assert manage("backup", "demo", "-o", str(good)).returncode == 0
    bad = tmp_path / "bad.file"
    bad.write_bytes(good.read_bytes()[:-100])
    assert manage("shell", "-c", "from annotator.models import Project; "
                  "Project.objects.filter(slug='demo').update(slug='old')").returncode == 0

    result = manage("restore", str(bad))

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "truncated" in lines[0] and "Traceback" not in result.stderr
    tampered = tmp_path / "tampered.gz"
    tampered.write_bytes(with_lines(good.read_bytes(), _label_named_with_markup))
    result = manage("restore", str(tampered))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "(span_label): name '<img" in lines[0], result.stderr
    listing = manage("shell", "-c", "from annotator.models import Project; "
                     "print(sorted(Project.objects.values_list('slug', flat=True)))")
    assert listing.stdout.strip().splitlines()[-1] == "['old']"
    ok = manage("restore", str(good))
    assert ok.returncode == 0 and ok.stdout.startswith("restored demo:"), ok.stderr

