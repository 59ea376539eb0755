"""The annotation page's endpoints, once per role (issue 3)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from annotator.models import AnnotationSet, Span
from tests.conftest import ALL_ACTORS
from tests.factories import AnnotationSetFactory, SpanFactory


@pytest.fixture
def own_set(document, members):
    return AnnotationSetFactory(document=document, annotator=members["annotator"])


def url(name, document, **extra):
    kwargs = {"slug": document.project.slug, "document_id": document.pk, **extra}
    return reverse(name, kwargs=kwargs)


def claim(project):
    return project.span_labels.get(name="Claim").pk


# Who may open the annotator's set: its owner (editable), managers and curators
# (read-only); in a blind project nobody else; anonymous users log in first.
PAGE_STATUS = {
    "manager": 200, "curator": 200, "annotator": 200, "viewer": 403, "non_member": 404,
    "anonymous": 302,
}


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_opening_the_annotators_set_per_role(client_for, actor, document, own_set):
    response = client_for(actor).get(url("annotate", document) + f"?set={own_set.pk}")
    assert response.status_code == PAGE_STATUS[actor]
    if response.status_code == 200:
        editable = actor == "annotator"
        assert (b'data-editable="true"' in response.content) is editable
        assert (b"read-only" in response.content) is not editable


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_creating_a_span_per_role_only_in_ones_own_set(client_for, actor, document, own_set,
                                                       project):
    response = client_for(actor).post(
        url("annotate-span-create", document),
        {"label": claim(project), "start": 0, "end": 5, "expected_version": 0},
        HTTP_HX_REQUEST="true",
    )
    expected = {"annotator": 200, "anonymous": 302, "non_member": 404}.get(actor, 403)
    assert response.status_code == expected
    assert Span.objects.filter(annotation_set=own_set).count() == (actor == "annotator")


def test_a_user_without_a_set_gets_404_and_managers_a_chooser(client_for, document, own_set):
    assert client_for("annotator").get(url("annotate", document)).status_code == 200
    response = client_for("manager").get(url("annotate", document))
    assert response.status_code == 200
    assert f"?set={own_set.pk}".encode() in response.content
    assert client_for("viewer").get(url("annotate", document)).status_code == 404


def test_open_projects_let_annotators_read_their_peers_sets(client_for, document, project,
                                                           members):
    from tests.factories import MembershipFactory, UserFactory

    peer = UserFactory(username="peer")
    MembershipFactory(project=project, user=peer, role="annotator")
    peer_set = AnnotationSetFactory(document=document, annotator=peer)
    page = url("annotate", document) + f"?set={peer_set.pk}"
    assert client_for("annotator").get(page).status_code == 403
    project.blind = False
    project.save()
    response = client_for("annotator").get(page)
    assert response.status_code == 200
    assert b'data-editable="false"' in response.content


def test_span_save_answers_in_one_request_with_header_and_event(client_for, document,
                                                                own_set, project):
    response = client_for("annotator").post(
        url("annotate-span-create", document),
        {"label": claim(project), "start": 2, "end": 4, "expected_version": 0},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    # No panels: the page draws its outline, warnings and relations from the event's change
    # (panels.js), so the save reads nothing of the set; it needs no second request either.
    assert 'id="panels"' not in body and 'id="outline-title"' not in body
    assert 'id="set-meta"' in body and 'hx-swap-oob="true"' in body and "In progress" in body
    assert 'class="blk"' not in body  # no text: the page draws the span from the event
    event = json.loads(response["HX-Trigger-After-Swap"])["warrant:saved"]
    span = Span.objects.get()
    assert event["version"] == 1 and event["select"] == span.pk
    assert event["change"] == {"spans": [[span.pk, span.label_id, span.start, span.end]],
                               "relations": [], "removed_spans": [], "removed_relations": []}
    assert response["X-Warrant-Version"] == "1"


def test_deleting_a_span_empties_the_editor_that_showed_it(client_for, document, own_set,
                                                          project):
    client = client_for("annotator")
    client.post(url("annotate-span-create", document),
                {"label": claim(project), "start": 2, "end": 4, "expected_version": 0},
                HTTP_HX_REQUEST="true")
    span = Span.objects.get()
    response = client.post(url("annotate-span-delete", document, span_id=span.pk),
                           {"expected_version": 1}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="span-editor"' in body and 'hx-swap-oob="true"' in body
    assert "No span selected" in body
    assert not Span.objects.exists()


def test_a_stale_version_answers_409_with_a_line_to_show(client_for, document, own_set,
                                                         project):
    client = client_for("annotator")
    data = {"label": claim(project), "start": 0, "end": 5, "expected_version": 0}
    assert client.post(url("annotate-span-create", document), data,
                       HTTP_HX_REQUEST="true").status_code == 200
    data["start"], data["end"] = 20, 25
    response = client.post(url("annotate-span-create", document), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/plain")
    assert "reload the page" in response.content.decode()


def test_a_refusal_answers_400_with_the_reason(client_for, document, own_set, project):
    evidence = project.span_labels.get(name="Evidence")
    a = SpanFactory(annotation_set=own_set, label=evidence, start=0, end=5)
    b = SpanFactory(annotation_set=own_set, label=evidence, start=6, end=10)
    response = client_for("annotator").post(
        url("annotate-relation-create", document),
        {"source": a.pk, "target": b.pk, "expected_version": 0,
         "type": project.relation_types.get(name="supports").pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert response.content.decode().startswith("supports cannot link Evidence to Evidence")


def test_without_javascript_a_form_post_redirects_back_with_the_message(
    client_for, document, own_set, project
):
    span = SpanFactory(annotation_set=own_set, start=0, end=5)
    client = client_for("annotator")
    response = client.post(url("annotate-span", document, span_id=span.pk),
                           {"note": "seen", "expected_version": 0})
    assert response.status_code == 302
    span.refresh_from_db()
    assert span.note == "seen"
    response = client.post(url("annotate-span", document, span_id=span.pk),
                           {"note": "stale", "expected_version": 0}, follow=True)
    assert b"changed elsewhere" in response.content
    # A new span too (its view reverses the page's address only when it needs it).
    made = {"label": claim(project), "start": 6, "end": 10, "expected_version": 1}
    response = client.post(url("annotate-span-create", document), made)
    assert response.status_code == 302 and response["Location"] == url("annotate", document)
    response = client.post(url("annotate-span-create", document), made, follow=True)
    assert b"changed elsewhere" in response.content
    assert Span.objects.filter(annotation_set=own_set).count() == 2


def test_span_editor_shows_a_form_to_the_owner_only(client_for, document, own_set):
    span = SpanFactory(annotation_set=own_set, start=0, end=5, note="a note")
    editor = url("annotate-span", document, span_id=span.pk)
    owner = client_for("annotator").get(editor)
    assert owner.status_code == 200 and b'id="span-label"' in owner.content
    manager = client_for("manager").get(editor + f"?set={own_set.pk}")
    assert manager.status_code == 200
    assert b'id="span-label"' not in manager.content and b"a note" in manager.content


def test_the_page_carries_the_text_as_blocks_and_the_set_as_compact_data(client_for, document,
                                                                         own_set):
    span = SpanFactory(annotation_set=own_set, start=0, end=5)
    body = client_for("annotator").get(url("annotate", document)).content.decode()
    assert "No major claim" in body
    data = json.loads(body.split('id="set-data" type="application/json">')[1].split("<")[0])
    assert data == {"spans": [[span.pk, span.label_id, 0, 5]], "relations": []}
    assert f'<span class="blk" id="blk-0" data-s="0">{document.text[:20]}' in body


def test_panels_with_data_hand_the_set_back_to_the_script(client_for, document, own_set):
    span = SpanFactory(annotation_set=own_set, start=0, end=5)
    response = client_for("annotator").get(url("annotate-panels", document) + "?data=1")
    event = json.loads(response["HX-Trigger-After-Swap"])["warrant:data"]
    assert event["spans"] == [[span.pk, span.label_id, 0, 5]] and event["version"] == 0


def test_submit_and_reopen_redirect_the_page(client_for, document, own_set):
    client = client_for("annotator")
    response = client.post(url("annotate-submit", document), {"expected_version": 0},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"].endswith("/annotate/")
    assert AnnotationSet.objects.get(pk=own_set.pk).status == "submitted"
    page = client.get(url("annotate", document))
    assert b'data-editable="false"' in page.content and b"Reopen" in page.content
    client.post(url("annotate-reopen", document), {"expected_version": 1}, HTTP_HX_REQUEST="true")
    assert AnnotationSet.objects.get(pk=own_set.pk).status == "in_progress"


def test_guidelines_are_sanitised(client_for, document, own_set, project):
    project.guidelines = "**Bold** <script>alert(1)</script> [x](javascript:alert(2))"
    project.save()
    body = client_for("annotator").get(url("annotate", document)).content.decode()
    assert "<strong>Bold</strong>" in body
    assert "alert(1)" not in body and "javascript:" not in body


def test_the_text_is_escaped(client_for, project, members):
    from tests.factories import DocumentFactory

    document = DocumentFactory(project=project, text="<b>bold</b> & co")
    AnnotationSetFactory(document=document, annotator=members["annotator"])
    body = client_for("annotator").get(url("annotate", document)).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in body


def test_next_document_skips_submitted_sets(client_for, project, members):
    from tests.factories import DocumentFactory

    docs = [DocumentFactory(project=project, position=i) for i in range(3)]
    sets = [AnnotationSetFactory(document=d, annotator=members["annotator"]) for d in docs]
    sets[1].status = "submitted"
    sets[1].save()
    body = client_for("annotator").get(url("annotate", docs[0])).content.decode()
    assert f'id="next-doc" href="{url("annotate", docs[2])}"' in body


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_label_chips_have_enough_contrast(project):
    """White chip text on each preset colour meets WCAG AA (4.5:1)."""
    for label in project.span_labels.all():
        ratio = (1.05) / (_luminance(label.colour) + 0.05)
        assert ratio >= 4.5, (label.name, label.colour, round(ratio, 2))


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_undo_and_redo_per_role_only_in_ones_own_set(client_for, actor, document, own_set,
                                                     project):
    from annotator.services.annotations import annotation_set_undo, span_create

    span_create(annotation_set=own_set, label=project.span_labels.get(name="Claim"), start=0,
                end=5, expected_version=0)
    annotation_set_undo(annotation_set=own_set, expected_version=1)
    response = client_for(actor).post(url("annotate-redo", document), {"expected_version": 2},
                                      HTTP_HX_REQUEST="true")
    expected = {"annotator": 200, "anonymous": 302, "non_member": 404}.get(actor, 403)
    assert response.status_code == expected
    assert Span.objects.filter(annotation_set=own_set).count() == (actor == "annotator")
    if actor == "annotator":
        event = json.loads(response["HX-Trigger-After-Swap"])["warrant:saved"]
        assert event["version"] == 3 and event["message"].startswith("Redone")
        again = client_for(actor).post(url("annotate-redo", document), {"expected_version": 3},
                                       HTTP_HX_REQUEST="true")
        assert again.status_code == 400 and b"nothing to redo" in again.content


# ---------------------------------------------------------------- issue 13: mark all, boundaries,
# paged panels; issue 12.5/12.9: one bounded request per save, a light page


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_marking_all_matches_per_role_only_in_ones_own_set(client_for, actor, document, own_set,
                                                           project):
    response = client_for(actor).post(
        url("annotate-spans-bulk", document),
        {"label": claim(project), "ranges": json.dumps([[0, 5], [6, 10]]), "expected_version": 0},
        HTTP_HX_REQUEST="true",
    )
    expected = {"annotator": 200, "anonymous": 302, "non_member": 404}.get(actor, 403)
    assert response.status_code == expected
    assert Span.objects.filter(annotation_set=own_set).count() == (2 if actor == "annotator" else 0)
    if actor == "annotator":
        event = json.loads(response["HX-Trigger-After-Swap"])["warrant:saved"]
        assert len(event["change"]["spans"]) == 2 and event["message"].startswith("Marked 2")


@pytest.mark.parametrize("ranges, message", [
    ("not json", "list of [start, end] pairs"),
    ('{"a": 1}', "list of [start, end] pairs"),
    ("[[0]]", "pair of offsets"),
    ('[["a", 3]]', "whole numbers"),
    ("[[0, 99999]]", "outside the text"),
    ("[]", "nothing to mark"),
])
def test_marking_all_refuses_bad_ranges_and_changes_nothing(client_for, document, own_set,
                                                            project, ranges, message):
    response = client_for("annotator").post(
        url("annotate-spans-bulk", document),
        {"label": claim(project), "ranges": ranges, "expected_version": 0},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Span.objects.exists()
    assert AnnotationSet.objects.get(pk=own_set.pk).version == 0


def test_moving_a_boundary_answers_with_the_moved_span(client_for, document, own_set):
    span = SpanFactory(annotation_set=own_set, start=0, end=5)
    response = client_for("annotator").post(
        url("annotate-span", document, span_id=span.pk),
        {"end": 10, "snap": "0", "expected_version": 0}, HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    span.refresh_from_db()
    event = json.loads(response["HX-Trigger-After-Swap"])["warrant:saved"]
    assert event["change"]["spans"] == [[span.pk, span.label_id, 0, span.end]]
    assert event["message"].startswith("Moved")
    bad = client_for("annotator").post(
        url("annotate-span", document, span_id=span.pk),
        {"start": "x", "expected_version": 1}, HTTP_HX_REQUEST="true",
    )
    assert bad.status_code == 400 and b"whole number" in bad.content


def _many_spans(aset, n):
    text = aset.document.text
    label = aset.document.project.span_labels.get(name="Claim")
    spans = [SpanFactory.build(annotation_set=aset, label=label, start=i, end=i + 3)
             for i in range(0, 3 * n, 3)]
    assert spans[-1].end <= len(text)
    return Span.objects.bulk_create(spans)


@pytest.fixture
def long_document(project):
    from tests.factories import DocumentFactory

    return DocumentFactory(project=project, text="word " * 3000)


def test_the_outline_is_paged_and_the_panels_request_clamps_its_pages(client_for,
                                                                        long_document,
                                                                        members, project):
    aset = AnnotationSetFactory(document=long_document, annotator=members["annotator"])
    _many_spans(aset, 150)
    client = client_for("annotator")
    first = client.get(url("annotate", long_document)).content.decode()
    assert first.count('class="node jump"') == 100
    assert "1 to 100 of 150" in first and 'rel="next"' in first
    second = client.get(url("annotate-panels", long_document) + "?outline_page=2").content.decode()
    assert second.count('class="node jump"') == 50 and "101 to 150 of 150" in second
    saved = client.post(
        url("annotate-span-create", long_document),
        {"label": claim(project), "start": 600, "end": 603, "expected_version": 0},
        HTTP_HX_REQUEST="true",
    )
    # The save's answer has no panels (the page redraws them: panels.js); read again, the
    # pages are clamped to the pages there are.
    assert b"node jump" not in saved.content
    again = client.get(url("annotate-panels", long_document)
                       + "?outline_page=2&relation_page=9").content.decode()
    assert "101 to 151 of 151" in again and 'data-outline-page="2"' in again
    assert 'data-relation-page="1"' in again


# What a save may read of the set's spans and relations: the rows it writes or looks up by
# id, offsets or endpoint, never the whole set (the page draws its panels itself).
_WHOLE_SET_READS = ("UNION ALL",)


def _queries(call, saves: dict | None = None, name: str = "") -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200, response.content[:300]
    if saves is not None:
        saves[name] = (len(response.content), [q["sql"] for q in captured.captured_queries])
    return len(captured.captured_queries)


def _page_and_save_queries(client, project, document, spans, saves=None) -> dict[str, int]:
    """Queries of the page, the panels and each kind of save, in a row of edits; ``saves``
    gets each save's answer size and SQL."""
    supports = project.relation_types.get(name="supports")
    attacks = project.relation_types.get(name="attacks")
    version = 0

    def post(name, data, **extra):
        nonlocal version
        response = client.post(url(name, document, **extra),
                               {**data, "expected_version": version}, HTTP_HX_REQUEST="true")
        version += 1
        return response

    def save(kind, name, data, **extra):
        return _queries(lambda: post(name, data, **extra), saves, kind)

    last = spans[-1].end + 3
    reason = project.span_labels.get(name="Reason").pk
    claim_id = claim(project)
    bulk = json.dumps([[last + 5, last + 9], [last + 10, last + 14]])
    counts = {
        "page": _queries(lambda: client.get(url("annotate", document))),
        "panels": _queries(lambda: client.get(url("annotate-panels", document))),
        "span save": save("span save", "annotate-span-create",
                          {"label": claim_id, "start": last, "end": last + 4}),
        "relabel": save("relabel", "annotate-span", {"label": reason}, span_id=spans[0].pk),
        "boundary": save("boundary", "annotate-span", {"end": spans[1].end + 3, "snap": "0"},
                         span_id=spans[1].pk),
        "link": save("link", "annotate-relation-create", {
            "source": spans[2].pk, "target": spans[4].pk, "type": supports.pk}),
    }
    link = spans[2].outgoing.get(target=spans[4])
    counts |= {
        "retype": save("retype", "annotate-relation-update", {"type": attacks.pk},
                       relation_id=link.pk),
        "unlink": save("unlink", "annotate-relation-delete", {}, relation_id=link.pk),
        "undo": save("undo", "annotate-undo", {}),
        "redo": save("redo", "annotate-redo", {}),
        "mark all": save("mark all", "annotate-spans-bulk", {"label": claim_id, "ranges": bulk}),
        "delete": save("delete", "annotate-span-delete", {}, span_id=spans[3].pk),
    }
    return counts


def test_page_and_saves_run_as_many_queries_for_10_as_for_200_spans(client_for, project,
                                                                     members):
    """Bounded work (issue 12.1, 12.5): the page, the panels and every kind of save; a save
    reads none of the set beyond the rows it touches and answers as much for 200 spans as
    for 10 (the page draws its panels itself)."""
    from annotator.models import Relation
    from tests.factories import DocumentFactory

    counts, saves = {}, {}
    supports = project.relation_types.get(name="supports")
    for n in (10, 200):
        document = DocumentFactory(project=project, text=f"word{n} " + "word " * 3000)
        aset = AnnotationSetFactory(document=document, annotator=members["annotator"])
        spans = _many_spans(aset, n)
        Relation.objects.bulk_create([
            Relation(annotation_set=aset, source=a, target=b, type=supports)
            for a, b in zip(spans[::2], spans[1::2], strict=False)
        ])
        saves[n] = {}
        counts[n] = _page_and_save_queries(client_for("annotator"), project, document, spans,
                                           saves[n])
    assert counts[10] == counts[200]
    # Session, user, the set with its role and labels (one statement on PostgreSQL); the
    # write: on PostgreSQL one statement (the version with the check for a repeated span,
    # the row and the log), elsewhere BEGIN, those three, COMMIT. Before the page drew
    # its own panels: 12.
    from django.db import connection

    assert counts[10]["span save"] <= (2 if connection.vendor == "postgresql" else 8), counts[10]
    if connection.vendor == "postgresql":
        # A link: session with user and set, its two spans, the schema's types, the write
        # in one statement (the version with the check for a repeated link, the row and the
        # log) and the source's relations for its editor. Before: 12.
        assert counts[10]["link"] <= 5, counts[10]
        # A relabel: session with user and set, the span, its relations (the schema's check
        # of the new label, then its editor), the write in one statement (the version with
        # the checks that the span is still there and, moved or relabelled, not repeated,
        # the row and the log); a move reads the relations after the write, for the
        # editor. Before: 9 each (with BEGIN and COMMIT, or a savepoint, around the write).
        assert counts[10]["relabel"] <= 4 and counts[10]["boundary"] <= 4, counts[10]
        # A new type: session with user and set, the relation with its ends' labels, the
        # type, the write in one statement (the version with the checks that the relation
        # is still there and repeats none, the row and the log). Before: 9.
        assert counts[10]["retype"] <= 4, counts[10]
        # A deletion: session with user and set, the span (prepared; its label is the
        # set's read's), the write in one statement, which logs the rows of the relations
        # it deletes with the span from their DELETE. Before: 4 (the relations read first).
        assert counts[10]["delete"] <= 3, counts[10]
    for kind, (size, sql) in saves[200].items():
        # The same answer, give or take the digits of larger ids.
        assert abs(size - saves[10][kind][0]) < 100, (kind, size, saves[10][kind][0])
        for query in sql:
            assert not any(mark in query for mark in _WHOLE_SET_READS), (kind, query)
            if query.startswith("SELECT") and ('FROM "annotator_span"' in query
                                               or 'FROM "annotator_relation"' in query):
                narrowed = ('"id" =', '"id" IN', '"source_id" =', '"target_id" =',
                            '"end" =', '"start" >=', "LIMIT 1")
                assert any(m in query for m in narrowed), (kind, query)


def test_past_the_first_panel_page_a_span_adds_only_its_compact_data(client_for, members,
                                                                    project):
    """A light page (issue 12.9): no markup per span beyond the panels' first pages."""
    from tests.factories import DocumentFactory

    sizes = {}
    for n in (200, 600):
        document = DocumentFactory(project=project, text=f"word{n} " + "word " * 3000)
        aset = AnnotationSetFactory(document=document, annotator=members["annotator"])
        _many_spans(aset, n)
        sizes[n] = len(client_for("annotator").get(url("annotate", document)).content)
    per_span = (sizes[600] - sizes[200]) / 400
    assert per_span < 30, per_span  # [id, label, start, end], and nothing else


def test_the_editor_saves_typed_attributes_of_the_spans_label(client_for, document, own_set,
                                                              project):
    claim_label = project.span_labels.get(name="Claim")
    project.span_labels.filter(name="Reason").update(
        attributes=[{"name": "strong", "type": "boolean"}, {"name": "who", "type": "text"}])
    span = SpanFactory(annotation_set=own_set, label=claim_label, start=0, end=5)
    client = client_for("annotator")
    editor = client.get(url("annotate-span", document, span_id=span.pk)).content.decode()
    assert 'id="attr-stance"' in editor and '<option value="against">' in editor

    def save(data, version):
        return client.post(url("annotate-span", document, span_id=span.pk),
                           {**data, "expected_version": version}, HTTP_HX_REQUEST="true")

    response = save({"label": claim_label.pk, "attributes_form": claim_label.pk,
                     "attr-stance": "against", "note": ""}, 0)
    assert response.status_code == 200
    span.refresh_from_db()
    assert span.attributes == {"stance": "against"}
    refused = save({"attributes_form": claim_label.pk, "attr-stance": "maybe"}, 1)
    assert refused.status_code == 400 and b"one of for, against" in refused.content
    # Fields drawn for another label are not this label's: they are left alone.
    reason = project.span_labels.get(name="Reason")
    response = save({"label": reason.pk, "attributes_form": claim_label.pk,
                     "attr-stance": "for"}, 1)
    assert response.status_code == 200
    span.refresh_from_db()
    assert (span.label_id, span.attributes) == (reason.pk, {})
    response = save({"attributes_form": reason.pk, "attr-strong": "yes", "attr-who": " IMF "}, 2)
    span.refresh_from_db()
    assert span.attributes == {"strong": True, "who": "IMF"}
    refused = save({"attributes_form": reason.pk, "attr-strong": "perhaps"}, 3)
    assert refused.status_code == 400 and b"yes or no" in refused.content


def test_the_span_editor_escapes_what_users_wrote_and_its_forms_pass_the_csrf_check(
        document, own_set, project, members):
    """The editor is built in Python (web/annotate.py, not a template): every value a user
    wrote is escaped, and its forms carry a CSRF token the middleware accepts."""
    import re

    from django.test import Client

    project.span_labels.filter(name="Claim").update(attributes=[
        {"name": "who", "type": "text", "description": 'Who says <b>"so"</b>'}])
    claim_label = project.span_labels.get(name="Claim")
    span = SpanFactory(annotation_set=own_set, label=claim_label, start=0, end=5,
                       note="<script>alert(1)</script>",
                       attributes={"who": '"><img src=x>', "<extra>": "&amp;"})
    client = Client(enforce_csrf_checks=True)
    client.force_login(members["annotator"])
    editor = client.get(url("annotate-span", document, span_id=span.pk)).content.decode()
    assert "<script>" not in editor and "<img" not in editor and "<b>" not in editor
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in editor
    assert 'value="&quot;&gt;&lt;img src=x&gt;"' in editor
    assert 'id="attr-&lt;extra&gt;"' in editor and 'value="&amp;amp;"' in editor
    assert "Who says &lt;b&gt;&quot;so&quot;&lt;/b&gt;" in editor
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', editor).group(1)
    delete = url("annotate-span-delete", document, span_id=span.pk)
    assert f'action="{delete}"' in editor
    refused = client.post(delete, {"expected_version": 0}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403 and Span.objects.filter(pk=span.pk).exists()
    response = client.post(delete, {"expected_version": 0, "csrfmiddlewaretoken": token},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and not Span.objects.filter(pk=span.pk).exists()


@pytest.mark.parametrize("name, data", [("annotate-span", {"note": "n"}),
                                        ("annotate-span-delete", {})])
def test_a_write_to_a_span_not_in_ones_own_set_is_404_and_changes_nothing(
        client_for, document, own_set, members, name, data):
    """Another set's span, an id no span has, one beyond PostgreSQL's bigint: 404 (the
    write reads the span by a prepared statement on PostgreSQL, annotate._own_span)."""
    other = AnnotationSetFactory(document=document, annotator=members["curator"])
    theirs = SpanFactory(annotation_set=other, start=0, end=5)
    mine = SpanFactory(annotation_set=own_set, start=6, end=10)
    client = client_for("annotator")
    for span_id in (theirs.pk, mine.pk + 1000, 2**63, 10**30):
        response = client.post(url(name, document, span_id=span_id),
                               {**data, "expected_version": own_set.version},
                               HTTP_HX_REQUEST="true")
        assert response.status_code == 404, (span_id, response.status_code)
    assert AnnotationSet.objects.get(pk=own_set.pk).version == own_set.version
    assert sorted(Span.objects.values_list("pk", "note")) == [(theirs.pk, ""), (mine.pk, "")]


def test_undoing_a_span_save_deletes_it_and_its_relations_in_one_statement(client_for, project,
                                                                            document, own_set):
    """Undo of a new span (the commonest undo): the span and the relations drawn to it since
    are deleted, their rows kept for redo, by one statement on PostgreSQL (services.
    annotations._take_away); redo puts the span back with its id."""
    from django.db import connection

    client = client_for("annotator")
    saved = client.post(url("annotate-span-create", document),
                        {"label": claim(project), "start": 0, "end": 5, "expected_version": 0},
                        HTTP_HX_REQUEST="true")
    assert saved.status_code == 200
    span_id = json.loads(saved["HX-Trigger-After-Swap"])["warrant:saved"]["select"]
    undo = _queries(lambda: client.post(url("annotate-undo", document), {"expected_version": 1},
                                        HTTP_HX_REQUEST="true"))
    assert not Span.objects.filter(pk=span_id).exists()
    # Session with user and set; the action to undo; the version; the span's and its
    # relations' DELETE with their rows; the action marked undone (and the transaction's
    # two ends, a savepoint here). Before: 11.
    if connection.vendor == "postgresql":
        assert undo <= 7, undo
    redone = client.post(url("annotate-redo", document), {"expected_version": 2},
                         HTTP_HX_REQUEST="true")
    assert redone.status_code == 200
    assert Span.objects.filter(pk=span_id, annotation_set=own_set, start=0, end=5).exists()
