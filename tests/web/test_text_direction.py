"""Every page that shows a brief's text lets each paragraph take its direction from the
text (``dir="auto"``, per paragraph by ``unicode-bidi: plaintext``), and quotes span
texts in ``<bdi>`` (issue 14, point 3). Chromium's side: tests/browser/test_rtl.py."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from annotator.models import AnnotationSet
from annotator.services.agreement import agreement_run_execute, agreement_run_request
from tests.agreement_helpers import annotate, annotated_project
from tests.factories import AnnotationSetFactory, DocumentFactory

URDU = (
    "حکومت کو بجلی پر دی جانے والی سبسڈی ختم کر دینی چاہیے۔ "
    "اس سبسڈی پر ہر سال اربوں روپے خرچ ہوتے ہیں۔"
)
CLAIM = (0, URDU.index("۔") + 1, "MajorClaim")
REASON = (URDU.index("اس"), len(URDU), "Reason")
TEXT_ELEMENT = re.compile(r'<div[^>]*class="(?:doc-text|document-text)[^"]*"[^>]*>')


def text_elements(body: str) -> list[str]:
    found = TEXT_ELEMENT.findall(body)
    assert found, "no text on the page"
    return found


@pytest.fixture
def urdu(project, members):
    document = DocumentFactory(project=project, text=URDU, title="بجلی کی سبسڈی")
    annotate(project, document, "alice", [CLAIM, REASON], [(1, 0, "supports")])
    annotate(project, document, "bob", [CLAIM])
    return document


def test_the_text_pages_give_direction_by_paragraph(client_for, project, members, urdu):
    kw = {"slug": project.slug, "document_id": urdu.pk}
    AnnotationSetFactory(document=urdu, annotator=members["annotator"])
    pages = {
        "annotator": [reverse("annotate", kwargs=kw)],
        "curator": [reverse("curation-document", kwargs=kw),
                    reverse("curation-document", kwargs=kw) + "?view=side"],
        "manager": [reverse("document-detail", kwargs=kw)],
    }
    for actor, urls in pages.items():
        client = client_for(actor)
        for url in urls:
            body = client.get(url).content.decode()
            for element in text_elements(body):
                assert 'dir="auto"' in element, (url, element)
    # The curation lists quote the spans' texts isolated from the line around them.
    body = client_for("curator").get(reverse("curation-document", kwargs=kw)).content.decode()
    assert '“<bdi class="quote">اس سبسڈی پر ہر سال اربوں روپے خرچ ہوتے ہیں۔</bdi>”' in body
    # The boundary editor's passage too.
    assert '<div class="boundary-text doc-text compact-text" dir="auto">' in body


def test_the_feedback_page_gives_direction_by_paragraph(client_for, project, members, urdu):
    gold = annotate(project, urdu, "gold-maker", [CLAIM, REASON], [(1, 0, "supports")])
    AnnotationSet.objects.filter(pk=gold.pk).update(annotator=None, is_gold=True, gold_final=True)
    url = reverse("feedback-document", kwargs={"slug": project.slug, "document_id": urdu.pk})
    body = client_for("manager").get(url + "?student=alice").content.decode()
    for element in text_elements(body):
        assert 'dir="auto"' in element
    assert '“<bdi class="quote">حکومت کو بجلی پر دی جانے والی سبسڈی ختم کر دینی' in body


def test_the_agreement_document_page_gives_direction_by_paragraph(client_for, project, members):
    docs = annotated_project(project)
    agreement_run_execute(run_id=agreement_run_request(project=project).pk)
    url = reverse("agreement-document", kwargs={"slug": project.slug, "document_id": docs[0].pk})
    body = client_for("manager").get(url).content.decode()
    for element in text_elements(body):
        assert 'dir="auto"' in element
