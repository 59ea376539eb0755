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


def test_span_save_answers_with_blocks_header_and_event(client_for, document, own_set,
                                                        project):
    response = client_for("annotator").post(
        url("annotate-span-create", document),
        {"label": claim(project), "start": 2, "end": 4, "expected_version": 0},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="blk-0" data-s="0" hx-swap-oob="true"' in body
    assert 'id="set-meta"' in body and "In progress" in body
    event = json.loads(response["HX-Trigger-After-Swap"])["warrant:saved"]
    span = Span.objects.get()
    assert event["version"] == 1 and event["select"] == span.pk
    assert event["span"] == [span.pk, span.label_id, span.start, span.end]
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


def test_span_editor_shows_a_form_to_the_owner_only(client_for, document, own_set):
    span = SpanFactory(annotation_set=own_set, start=0, end=5, note="a note")
    editor = url("annotate-span", document, span_id=span.pk)
    owner = client_for("annotator").get(editor)
    assert owner.status_code == 200 and b'id="span-label"' in owner.content
    manager = client_for("manager").get(editor + f"?set={own_set.pk}")
    assert manager.status_code == 200
    assert b'id="span-label"' not in manager.content and b"a note" in manager.content


def test_panels_carry_outline_warnings_relations_and_span_data(client_for, document, own_set):
    span = SpanFactory(annotation_set=own_set, start=0, end=5)
    response = client_for("annotator").get(url("annotate-panels", document))
    body = response.content.decode()
    assert "No major claim" in body
    data = json.loads(body.split('id="span-data" type="application/json">')[1].split("<")[0])
    assert data == {"spans": [[span.pk, span.label_id, 0, 5]], "relations": []}


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
