"""``manage.py agreement``: in-process in the embedded mode, one line on bad input.

Through a real worker: tests/worker/test_agreement_worker.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotator.models import AgreementRun, JobStatus
from tests.agreement_helpers import annotated_project, celery_broker, reference_report

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def run(*args) -> str:
    out = StringIO()
    call_command("agreement", *args, stdout=out)
    return out.getvalue()


def test_json_is_the_report_of_the_run_with_its_intervals_run_version_and_conventions(
    project, members
):
    annotated_project(project)
    report = json.loads(run("sanctions", "--json"))
    stored = AgreementRun.objects.get()
    assert stored.status == JobStatus.DONE and stored.requested_by is None
    whole = reference_report(stored)  # its documents read in process
    assert {k: report[k] for k in whole} == whole
    assert set(report) == {"project", "unit", "documents", "annotators", "overall", "by_document",
                           "intervals", "run", "warrant_version", "conventions"}
    assert report["intervals"] == stored.intervals
    assert report["run"]["id"] == stored.pk
    assert report["conventions"]["pooling"].startswith("overall pools every document")
    assert report["unit"] == "token" and report["annotators"] == ["alice", "bob"]


def test_char_unit(project, members):
    annotated_project(project)
    assert json.loads(run("sanctions", "--unit", "char", "--json"))["unit"] == "char"


def test_table_is_readable(project, members):
    annotated_project(project)
    text = run("sanctions")
    stored = AgreementRun.objects.get()
    assert text.startswith(
        "Agreement of sanctions: 2 document(s), unit token, annotators alice, bob"
    )
    alpha = stored.report["overall"]["krippendorff_alpha"]["value"]
    ci = stored.intervals["intervals"]["krippendorff_alpha"]
    row = next(line for line in text.splitlines() if line.startswith("Krippendorff's alpha"))
    assert row.split()[-3:] == [f"{alpha:.3f}", f"[{ci['low']:.3f},", f"{ci['high']:.3f}]"]
    for line in ("95% interval", "Reason", "supports", "alice|bob"):
        assert line in text


def test_undefined_figures_print_undefined(project):
    text = run("sanctions")  # no submitted set: nothing to pair
    assert "undefined" in text


def test_a_pending_run_left_behind_is_computed(project, members):
    annotated_project(project)
    stale = AgreementRun.objects.create(project=project, parameters={
        "unit": "token", "documents": None, "annotators": None})
    run("sanctions", "--json")
    stale.refresh_from_db()
    assert stale.status == JobStatus.DONE and AgreementRun.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "no project with slug 'nope'"),
        (["sanctions", "--unit", "word"], "unknown unit 'word' (units: token, char)"),
        (["sanctions", "--timeout", "0"], "--timeout must be a positive number"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(project, args, message):
    with pytest.raises(CommandError) as error:
        run(*args)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert not AgreementRun.objects.exists()


def test_a_failed_run_is_a_command_error(project, members):
    from annotator.models import AnnotationSet, Span

    annotated_project(project)
    aset = AnnotationSet.objects.filter(annotator__username="alice").first()
    Span.objects.create(
        annotation_set=aset, label=project.span_labels.get(name="Claim"), start=0, end=9999
    )
    with pytest.raises(CommandError, match=r"agreement run #\d+ failed: ValueError: .*outside"):
        run("sanctions")


def test_an_unreachable_broker_is_one_line_and_no_run(project, members):
    annotated_project(project)
    with celery_broker("redis://127.0.0.1:1/0"), pytest.raises(CommandError) as error:
        run("sanctions")
    message = str(error.value)
    assert message.startswith("cannot reach the Celery broker at redis://127.0.0.1:1/0")
    assert "\n" not in message
    assert not AgreementRun.objects.exists()


def test_the_real_command_exits_non_zero_with_one_line(tmp_path):
    """Through manage.py in a subprocess: exit status and stderr as a user sees them."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite3",
        "WARRANT_DATA_DIR": str(tmp_path),
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "agreement", "ghost"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert done.returncode != 0
    assert done.stderr.strip() == "CommandError: no project with slug 'ghost'"
