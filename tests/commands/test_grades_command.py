"""`manage.py grades SLUG -o FILE`: the same CSV as the page's download."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotator.models import AnnotationSet
from annotator.selectors.grading import grades_csv
from tests.agreement_helpers import TEXT, annotate
from tests.factories import DocumentFactory


@pytest.fixture
def graded(project, members):
    document = DocumentFactory(project=project, text=TEXT)
    gold = annotate(project, document, "gold-maker", [(61, 80, "MajorClaim")])
    AnnotationSet.objects.filter(pk=gold.pk).update(annotator=None, is_gold=True, gold_final=True)
    gold.annotator.memberships.all().delete()
    annotate(project, document, "annotator", [(61, 80, "MajorClaim")])
    return document


def test_grades_to_a_file(project, graded, tmp_path, capsys):
    out = tmp_path / "grades.csv"
    call_command("grades", project.slug, "-o", str(out))
    text = out.read_text(encoding="utf-8")
    assert text == grades_csv(project=project)
    assert text.splitlines()[0].startswith("student,span_f1_exact,span_f1_overlap,relation_f1,")
    assert text.splitlines()[1].startswith("annotator,1.0000,1.0000,,0,0,0,1,1")
    assert "1 student(s); grades written to" in capsys.readouterr().out


def test_grades_to_standard_output(project, graded, capsys):
    call_command("grades", project.slug)
    assert capsys.readouterr().out == grades_csv(project=project)


def test_unknown_project_is_one_line(db):
    with pytest.raises(CommandError, match="no project with slug 'nope'"):
        call_command("grades", "nope", "-o", "/tmp/x.csv")


def test_unwritable_file_is_one_line(project, tmp_path):
    with pytest.raises(CommandError, match="No such file or directory"):
        call_command("grades", project.slug, "-o", str(tmp_path / "missing" / "g.csv"))
