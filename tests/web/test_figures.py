"""Undefined figures print "—" everywhere, as the pages' legends say (issue 14)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import Context, Template

from annotator.templatetags.warrant_figures import UNDEFINED, figure

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "—"), (float("nan"), "—"), (float("inf"), "—"), ("", "—"), ("n/a", "—"),
     (0, "0.000"), (0.0, "0.000"), (1, "1.000"), (-0.25, "-0.250"), (0.12345, "0.123")],
)
def test_figure_prints_three_decimals_or_a_dash(value, shown):
    assert figure(value) == shown


def test_figure_filter_in_a_template():
    template = Template("{% load warrant_figures %}{{ a|figure }} {{ b|figure }} {{ b|figure:1 }}")
    assert template.render(Context({"a": None, "b": 0.25})) == "— 0.250 0.2"
    assert UNDEFINED == "—"


def test_no_template_prints_undefined_for_a_figure():
    """The word may be prose in a legend; it is never what a figure prints as."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r'%\}\s*undefined\s*\{%|default_if_none:"undefined"|>undefined<', text):
            offenders.append(path.name)
    assert offenders == []
