"""The student's feedback view in real Chromium: colour-coded, only once released (issue 5)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotator.models import AnnotationSet
from tests.agreement_helpers import TEXT, annotate
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
    return page.eval_on_selector(selector, "el => getComputedStyle(el).backgroundImage")


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
    assert "rgb(4, 120, 87)" in colours["MajorClaim ✓"]
    assert "rgb(180, 83, 9)" in colours["Reason ≈"]
    assert "rgb(185, 28, 28)" in colours["Claim +"]
    assert "rgb(109, 40, 217)" in colours["Evidence −"]
    expect(student.locator('#feedback-legend [data-outcome="missed"]')).to_have_text("1")

    # Hidden again: the student's page says so and the document is refused.
    manager.click("#release-button")
    expect(manager.locator("#release-state")).to_contain_text("not released")
    response = student.goto(student.url)
    assert response.status == 403
