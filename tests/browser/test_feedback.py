"""The student's feedback view in real Chromium: colour-coded, only once released (issue 5)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotator.models import AnnotationSet
from tests.agreement_helpers import TEXT, annotate
from tests.browser.colours import underline_colour
from tests.factories import DocumentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def graded(project, members):
    document = DocumentFactory(project=project, text=TEXT, title="Keep sanctions")
    gold = annotate(project, document, "gold-maker",
                    [(61, 80, "MajorClaim"), (0, 14, "Reason"), (16, 36, "Evidence")])
    AnnotationSet.objects.filter(pk=gold.pk).update(annotator=None, is_gold=True, gold_final=True)
    gold.annotator.memberships.all().delete()
    annotate(project, document, "annotator",
             [(61, 80, "MajorClaim"), (0, 9, "Reason"), (48, 59, "Claim")])
    return document


def colour(page, selector):
    """The segment's underline as painted, 8-bit sRGB (the light theme draws the outcome
    colours as they are: all are darker than its cap, warrant.css --mark-l)."""
    return tuple(underline_colour(page, selector)[:3])


def near(painted, expected):
    return max(abs(a - b) for a, b in zip(painted, expected, strict=True)) <= 1


def test_feedback_appears_only_after_release_and_is_colour_coded(page_for, members, project,
                                                                  graded):
    student = page_for(members["annotator"])
    student.goto(reverse("feedback", kwargs={"slug": project.slug}))
    expect(student.locator("#not-released")).to_be_visible()

    manager = page_for(members["manager"])
    manager.goto(reverse("grades", kwargs={"slug": project.slug}))
    manager.click("#release-button")
    expect(manager.locator("#release-state")).to_contain_text("released")

    student.reload()
    expect(student.locator("#grade-figures")).to_contain_text("0.333")
    student.click("text=Keep sanctions")
    expect(student.locator("h1")).to_contain_text("Your spans against the gold")
    text = student.locator("#feedback-text")
    expect(text.locator('.g[data-t="MajorClaim ✓"]')).to_have_text("We should keep them")
    expect(text.locator('.g[data-t="Reason ≈"]')).to_have_text("Sanctions")
    expect(text.locator('.g[data-t="Claim +"]')).to_have_text("Prices rose")
    expect(text.locator('.g[data-t="Evidence −"]')).to_have_text("Exports fell sharply")
    # Each class has its own colour (underline) in the real rendered page.
    colours = {
        name: colour(student, f'#feedback-text .g[data-t="{name}"]')
        for name in ("MajorClaim ✓", "Reason ≈", "Claim +", "Evidence −")
    }
    assert near(colours["MajorClaim ✓"], (4, 120, 87)), colours
    assert near(colours["Reason ≈"], (180, 83, 9)), colours
    assert near(colours["Claim +"], (185, 28, 28)), colours
    assert near(colours["Evidence −"], (109, 40, 217)), colours
    expect(student.locator('#feedback-legend [data-outcome="missed"]')).to_have_text("1")

    # Hidden again: the student's page says so and the document is refused.
    manager.click("#release-button")
    expect(manager.locator("#release-state")).to_contain_text("not released")
    response = student.goto(student.url)
    assert response.status == 403
