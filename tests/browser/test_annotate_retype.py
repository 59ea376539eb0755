"""A relation's type changed in the relation list, by mouse and by keyboard, and undone and
redone back to the same set byte for byte (issue 13: every edit kind round-trips)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from annotator.models import Relation
from tests.factories import AnnotationSetFactory, DocumentFactory
from tests.services.test_annotations import dump

from .helpers import make_span, open_page, wait_saved

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = "Sanctions on Ruritania should be lifted. Exports fell by 40% (Reuters)."


@pytest.fixture
def linked(project, members):
    document = DocumentFactory(project=project, text=TEXT)
    aset = AnnotationSetFactory(document=document, annotator=members["annotator"])
    claim = make_span(aset, "Claim", "Sanctions on Ruritania should be lifted.")
    evidence = make_span(aset, "Evidence", "Exports fell by 40%")
    relation = Relation.objects.create(
        annotation_set=aset, source=evidence, target=claim,
        type=project.relation_types.get(name="evidence_for"))
    return document, aset, relation


def _type(relation) -> str:
    return Relation.objects.get(pk=relation.pk).type.name


def test_change_a_relations_type_by_mouse_then_undo_and_redo(page_for, members, linked):
    document, aset, relation = linked
    page = page_for(members["annotator"])
    open_page(page, document)
    before = dump(aset)
    menu = page.locator(f"#relation-type-{relation.pk}")
    menu.click()
    menu.select_option(label="attacks")
    wait_saved(page, "—attacks→")
    assert _type(relation) == "attacks"
    changed = dump(aset)
    # The arc follows: drawn as an attack (dashed and red), labelled with its new type.
    expect(page.locator("#links .arc-label").first).to_contain_text("attacks")
    page.locator("#doc-text").focus()
    page.keyboard.press("u")
    wait_saved(page, "Undone")
    assert dump(aset) == before
    expect(page.locator(f"#relation-type-{relation.pk}")).to_have_value(
        str(relation.type_id))
    page.keyboard.press("Shift+U")
    wait_saved(page, "Redone")
    assert dump(aset) == changed


def test_change_a_relations_type_by_keyboard_then_undo_and_redo(page_for, members, linked):
    document, aset, relation = linked
    page = page_for(members["annotator"])
    open_page(page, document)
    start = dump(aset)
    menu = page.locator(f"#relation-type-{relation.pk}")
    menu.focus()
    # The menu offers the types the schema allows from Evidence to a Claim, in order:
    # supports, attacks, evidence_for.
    expect(menu.locator("option")).to_have_text(["supports", "attacks", "evidence_for"])
    page.keyboard.press("ArrowUp")
    wait_saved(page, "—attacks→")
    assert _type(relation) == "attacks"
    attacked = dump(aset)
    # Focus stays on the menu, drawn anew with the answer: the next key goes on.
    expect(page.locator(f"#relation-type-{relation.pk}")).to_be_focused()
    page.keyboard.press("ArrowUp")
    wait_saved(page, "—supports→")
    assert _type(relation) == "supports"
    types = {t.name: str(t.pk) for t in document.project.relation_types.all()}
    menu = page.locator(f"#relation-type-{relation.pk}")
    page.locator("#doc-text").focus()
    page.keyboard.press("u")
    expect(menu).to_have_value(types["attacks"])  # each step's answer redraws the menu
    assert dump(aset) == attacked
    page.keyboard.press("Control+z")
    expect(menu).to_have_value(types["evidence_for"])
    assert dump(aset) == start
    page.keyboard.press("Control+y")
    expect(menu).to_have_value(types["attacks"])
    assert dump(aset) == attacked


def test_a_type_the_schema_refuses_for_the_pair_is_a_400_and_changes_nothing(client, members,
                                                                            linked):
    from django.urls import reverse

    document, aset, relation = linked
    # Evidence -> Claim, then the other way round: evidence_for must start at Evidence.
    Relation.objects.filter(pk=relation.pk).update(source=relation.target,
                                                   target=relation.source)
    aset.refresh_from_db()
    before = dump(aset)
    client.force_login(members["annotator"])
    url = reverse("annotate-relation-update", kwargs={
        "slug": document.project.slug, "document_id": document.pk, "relation_id": relation.pk})
    supports = document.project.relation_types.get(name="supports")
    response = client.post(url, {"type": supports.pk, "expected_version": aset.version},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert b"supports cannot link Claim to Evidence" in response.content
    response = client.post(url, {"type": 0, "expected_version": aset.version},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and b"choose a relation type" in response.content
    assert dump(aset) == before
