import json

import pytest

from annotator.formats.records import FormatError
from annotator.formats.schema import ARGUMENT_PRESET, load_schema, parse_schema
from annotator.models import Membership, Project
from annotator.selectors.projects import project_schema
from annotator.services.errors import WarrantError
from annotator.services.projects import project_create
from tests.factories import UserFactory


@pytest.mark.django_db
def test_argument_preset_has_the_labels_hotkeys_and_relation_rules_of_the_issue():
    project = project_create(slug="p1", schema=load_schema("argument"))
    labels = {lab.name: lab.hotkey for lab in project.span_labels.all()}
    assert labels == {"MajorClaim": "m", "Claim": "c", "Reason": "r", "Evidence": "e"}
    schema = project_schema(project)
    rel = {r.name: r for r in schema.relation_types}
    assert set(rel) == {"supports", "attacks", "evidence_for"}
    for target in ("MajorClaim", "Claim", "Reason"):
        assert rel["supports"].allows("Evidence", target)
        assert rel["evidence_for"].allows("Evidence", target)
    assert not rel["supports"].allows("Claim", "Evidence")
    assert not rel["evidence_for"].allows("Reason", "Claim")
    assert not rel["evidence_for"].allows("Evidence", "Evidence")
    assert rel["attacks"].allows("Evidence", "Evidence")


@pytest.mark.django_db
def test_project_creator_becomes_manager_and_schema_round_trips():
    user = UserFactory()
    project = project_create(slug="p2", name="Two", schema=load_schema("argument"),
                             created_by=user)
    assert Membership.objects.get(project=project, user=user).role == "manager"
    assert project_schema(project).to_dict() == parse_schema(ARGUMENT_PRESET).to_dict()


@pytest.mark.django_db
def test_schema_from_a_json_file(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({
        "span_labels": [{"name": "Premise", "colour": "#112233", "hotkey": "p"},
                        {"name": "Conclusion", "colour": "#445566", "hotkey": "o"}],
        "relation_types": [{"name": "support", "allowed": [["Premise", "Conclusion"]]}],
    }))
    project = project_create(slug="custom", schema=load_schema(str(path)))
    assert [lab.name for lab in project.span_labels.all()] == ["Premise", "Conclusion"]
    assert project.relation_types.get().allowed == [["Premise", "Conclusion"]]


@pytest.mark.parametrize("schema, message", [
    ({"span_labels": []}, "non-empty"),
    ({"span_labels": [{"name": "A", "hotkey": "a"}, {"name": "B", "hotkey": "a"}]}, "two labels"),
    ({"span_labels": [{"name": "A", "colour": "red"}]}, "#rrggbb"),
    ({"span_labels": [{"name": "A"}], "relation_types": [{"name": "r", "allowed": [["A", "Z"]]}]},
     "lacks"),
    ({"span_labels": [{"name": "A", "hotkey": "u"}]}, "reserved"),
])
def test_bad_schemas_are_refused_with_a_reason(schema, message):
    with pytest.raises(FormatError, match=message):
        parse_schema(schema)


def test_missing_schema_file_names_the_presets(tmp_path):
    with pytest.raises(FormatError, match="argument"):
        load_schema(str(tmp_path / "nope.json"))


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["", "Has Space", "UPPER", "-lead", "x" * 65])
def test_bad_slugs_are_refused_and_nothing_is_created(slug):
    with pytest.raises(WarrantError):
        project_create(slug=slug, schema=load_schema("argument"))
    assert Project.objects.count() == 0


@pytest.mark.django_db
def test_duplicate_slug_is_refused():
    project_create(slug="same", schema=load_schema("argument"))
    with pytest.raises(WarrantError, match="already exists"):
        project_create(slug="same", schema=load_schema("argument"))
