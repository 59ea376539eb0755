"""The schema editor's attribute table and AIF column, and the citation setting."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotator.models import Project
from annotator.selectors.projects import project_schema
from tests.web.test_manage import editor_post, settings_post


def test_the_new_project_page_shows_the_presets_attributes_and_aif(client_for):
    body = client_for("viewer").get(reverse("project-new")).content.decode()
    assert 'name="attr-0-name" value="stance"' in body
    assert 'name="attr-0-values" value="for, against"' in body
    assert 'name="attr-1-values" value="statistic, quotation, event, study"' in body
    assert '<option value="conflict" selected>conflict</option>' in body


def test_a_project_is_created_with_typed_attributes_and_aif(client_for, members):
    response = client_for("viewer").post(reverse("project-new"), editor_post(**{
        "attr-count": "3",
        "attr-0-label": "Claim", "attr-0-name": "stance", "attr-0-type": "choice",
        "attr-0-values": "for, against", "attr-0-hotkey": "f",
        "attr-1-label": "Premise", "attr-1-name": "negated", "attr-1-type": "boolean",
        "attr-2-label": "", "attr-2-name": "",
        "type-0-aif": "rephrase",
    }))
    assert response.status_code == 302
    spec = project_schema(Project.objects.get(slug="policy-101"))
    stance = spec.label("Claim").attribute("stance")
    assert (stance.type, stance.values, stance.hotkey) == ("choice", ("for", "against"), "f")
    assert spec.label("Premise").attribute("negated").type == "boolean"
    assert spec.relation_types[0].aif == "rephrase"


@pytest.mark.parametrize(("change", "message"), [
    ({"attr-0-label": "Warrant"}, "its label &#x27;Warrant&#x27; is not among the span labels"),
    ({"attr-0-values": ""}, "a choice needs a non-empty list of values"),
    ({"attr-0-hotkey": "c"}, "is a label&#x27;s hotkey"),
    ({"attr-0-type": "number"}, "is not one of choice, boolean, text"),
])
def test_a_bad_attribute_row_is_shown_and_nothing_is_created(client_for, change, message):
    data = editor_post(**{"attr-count": "1", "attr-0-label": "Claim", "attr-0-name": "stance",
                          "attr-0-type": "choice", "attr-0-values": "for, against"})
    data.update(change)
    response = client_for("viewer").post(reverse("project-new"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="form-error"' in body and message in body
    assert 'name="attr-0-name" value="stance"' in body  # the row comes back as typed
    assert not Project.objects.filter(slug="policy-101").exists()


def _rows_of(project):
    """The settings page's schema rows of ``project`` as it sends them back unchanged."""
    spec = project_schema(project)
    data = {"label-count": str(len(spec.span_labels)), "type-count": "0"}
    attributes = [(lab.name, a) for lab in spec.span_labels for a in lab.attributes]
    data["attr-count"] = str(len(attributes))
    for i, lab in enumerate(spec.span_labels):
        data.update({f"label-{i}-name": lab.name, f"label-{i}-colour": lab.colour,
                     f"label-{i}-hotkey": lab.hotkey})
    for i, (name, a) in enumerate(attributes):
        data.update({f"attr-{i}-label": name, f"attr-{i}-name": a.name,
                     f"attr-{i}-type": a.type, f"attr-{i}-values": ", ".join(a.values),
                     f"attr-{i}-hotkey": a.hotkey})
    return data


def test_settings_edit_remove_and_add_attributes_and_save_the_citation(client_for, project):
    url = reverse("project-settings", kwargs={"slug": project.slug})
    body = client_for("manager").get(url).content.decode()
    assert 'name="attr-0-label" value="Claim"' in body
    data = settings_post(project, citation="@article{x, title={Briefs}}", **_rows_of(project))
    data.update({"attr-0-values": "for, against, neutral",  # stance widened
                 "attr-1-name": "",                          # Evidence's kind removed
                 "attr-count": "3", "attr-2-label": "Reason", "attr-2-name": "explicit",
                 "attr-2-type": "boolean"})
    response = client_for("manager").post(url, data)
    assert response.status_code == 302, response.content.decode()[-800:]
    project.refresh_from_db()
    spec = project_schema(project)
    assert spec.label("Claim").attribute("stance").values == ("for", "against", "neutral")
    assert spec.label("Evidence").attributes == ()
    assert spec.label("Reason").attribute("explicit").type == "boolean"
    assert project.citation == "@article{x, title={Briefs}}"
    assert "@article{x, title={Briefs}}" in client_for("manager").get(url).content.decode()
