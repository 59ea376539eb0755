"""The annotate page's weight (issue 12, point 9): a 20,000-word brief with 1,000 spans and
600 relations weighed 1,054 KiB of HTML; the page must stay under 400 KiB with every
feature (spans, chips, arcs' data, outline, editor) there."""

from __future__ import annotations

import json
import random

import pytest
from django.urls import reverse

from annotator.models import Membership
from benchmarks.annotate_page import BRIEFS, _brief

pytestmark = pytest.mark.django_db

LIMIT_BYTES = 400 * 1024


def test_the_page_of_a_20000_word_brief_with_1000_spans_is_under_400_kib(client, project,
                                                                        members):
    annotator = members["annotator"]
    assert Membership.objects.filter(project=project, user=annotator).exists()
    (_, words, spans, relations), = [b for b in BRIEFS if b[0] == "20k"]
    document, aset = _brief(project, annotator, random.Random(13), "20k", words, spans,
                            relations)
    client.force_login(annotator)
    response = client.get(reverse("annotate", kwargs={"slug": project.slug,
                                                      "document_id": document.pk}))
    assert response.status_code == 200
    html = response.content
    assert len(html) < LIMIT_BYTES, f"{len(html) / 1024:.0f} KiB"
    # Nothing was dropped to get there: every span and relation is in the data the page's
    # script draws from.
    page = html.decode()
    data = json.loads(page.split('<script id="set-data" type="application/json">', 1)[1]
                      .split("</script>", 1)[0])
    assert sorted(map(tuple, data["spans"])) == sorted(
        aset.spans.values_list("id", "label_id", "start", "end"))
    assert sorted(map(tuple, data["relations"])) == sorted(
        aset.relations.values_list("id", "source_id", "target_id", "type_id"))
    assert len(data["spans"]) == spans and len(data["relations"]) == relations
    assert f"{spans} spans" in page
