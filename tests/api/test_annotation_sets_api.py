"""Annotation sets, spans and relations over the API.

Reads follow the pages' rule: one's own set always; every set for managers and
curators; peers' sets for annotators only when the project is not blind.
Writes go through annotator.services.annotations with the set's version: only
the owner writes their set (the gold set: ``gold.curate``); a stale version is
409 and changes nothing.
"""

import pytest

from annotator.models import AnnotationSet, Relation, Span
from annotator.services import annotations as annotation_services
from tests.api.conftest import detail
from tests.conftest import ALL_ACTORS
from tests.factories import AnnotationSetFactory, DocumentFactory

# fmt: off
READ_STATUS = {
    #                  manager curator annotator viewer non_member anonymous
    "set-list":       (200,    200,    200,      200,   404,       401),
    "own-set":        (200,    200,    200,      403,   404,       401),
    "peer-set":       (200,    200,    403,      403,   404,       401),
    "gold-set":       (200,    200,    403,      403,   404,       401),
}
# The annotator's own set: only its owner writes it.
WRITE_STATUS = {
    #                  manager curator annotator viewer non_member anonymous
    "span-create":    (403,    403,    201,      403,   404,       401),
    "span-update":    (403,    403,    200,      403,   404,       401),
    "span-delete":    (403,    403,    200,      403,   404,       401),
    "relation-create": (403,   403,    201,      403,   404,       401),
    "relation-delete": (403,   403,    200,      403,   404,       401),
    "submit":         (403,    403,    200,      403,   404,       401),
    # A manager may reopen a student's submitted set (recorded: issue 11).
    "reopen":         (200,    403,    200,      403,   404,       401),
}
# The gold set: managers and curators (gold.curate).
GOLD_WRITE_STATUS = (201, 201, 403, 403, 404, 401)
# fmt: on


def matrix(table):
    return [
        (key, actor, status)
        for key, statuses in table.items()
        for actor, status in zip(ALL_ACTORS, statuses, strict=True)
    ]


@pytest.fixture
def annotated(sets, project, members):
    """The annotator's set with a Reason supporting a Claim (version 3)."""
    own = sets["own"]
    claim_label = project.span_labels.get(name="Claim")
    reason_label = project.span_labels.get(name="Reason")
    user = members["annotator"]
    text = own.document.text  # "Brief N. Sanctions work. First, exports fell (Reuters). ..."
    c0 = text.index("Sanctions")
    r0 = text.index("First")
    claim = annotation_services.span_create(
        annotation_set=own, label=claim_label, start=c0, end=c0 + 15, expected_version=0,
        user=user,
    )
    reason = annotation_services.span_create(
        annotation_set=own, label=reason_label, start=r0, end=r0 + 30, expected_version=1,
        user=user,
    )
    relation = annotation_services.relation_create(
        annotation_set=own,
        source=reason,
        target=claim,
        type=project.relation_types.get(name="supports"),
        expected_version=2,
        user=user,
    )
    return {"set": own, "claim": claim, "reason": reason, "relation": relation}


def write_request(key, aset, annotated):
    """(method, url, body) of a write on ``aset`` at its current version."""
    aset.refresh_from_db()
    version = aset.version
    base = f"/api/annotation-sets/{aset.pk}"
    claim, reason, relation = annotated["claim"], annotated["reason"], annotated["relation"]
    if key == "span-create":
        return "post", f"{base}/spans/", {"label": "Evidence", "start": 34, "end": 41,
                                          "version": version}
    if key == "span-update":
        return "patch", f"{base}/spans/{claim.pk}/", {"note": "the thesis", "version": version}
    if key == "span-delete":
        return "delete", f"{base}/spans/{reason.pk}/?version={version}", None
    if key == "relation-create":
        return "post", f"{base}/relations/", {"source": claim.pk, "target": reason.pk,
                                              "type": "attacks", "version": version}
    if key == "relation-delete":
        return "delete", f"{base}/relations/{relation.pk}/?version={version}", None
    if key == "submit":
        return "post", f"{base}/submit/", {"version": version}
    if key == "reopen":
        annotation_services.annotation_set_submit(annotation_set=aset, expected_version=version)
        return "post", f"{base}/reopen/", {"version": version + 1}
    raise AssertionError(key)


def send(client, method, url, body):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


def snapshot(aset):
    aset.refresh_from_db()
    return (
        aset.version,
        aset.status,
        sorted(Span.objects.filter(annotation_set=aset).values_list("id", "label", "note")),
        sorted(Relation.objects.filter(annotation_set=aset).values_list("id", "type")),
    )


# --------------------------------------------------------------------------- reads


@pytest.mark.parametrize(("which", "actor", "status"), matrix(READ_STATUS))
def test_read_status_per_actor(api_for, project, document, sets, which, actor, status):
    if which == "set-list":
        url = f"/api/projects/{project.slug}/documents/{document.pk}/annotation-sets/"
    else:
        url = f"/api/annotation-sets/{sets[which.removesuffix('-set')].pk}/"
    response = api_for(actor).get(url)
    assert response.status_code == status
    if status >= 400:
        detail(response)


@pytest.mark.parametrize(
    ("actor", "blind", "expected"),
    [
        ("manager", True, ["annotator", "peer", None]),
        ("curator", True, ["annotator", "peer", None]),
        ("annotator", True, ["annotator"]),
        ("annotator", False, ["annotator", "peer"]),
        ("viewer", True, []),
        # An open project lets every member read the others' sets (not the gold),
        # as its project page lists them and the set's own endpoint opens them.
        ("viewer", False, ["annotator", "peer"]),
    ],
)
def test_set_list_shows_the_sets_the_user_may_open(
    api_for, project, document, sets, actor, blind, expected
):
    project.blind = blind
    project.save()
    url = f"/api/projects/{project.slug}/documents/{document.pk}/annotation-sets/"
    client = api_for(actor)
    body = client.get(url).json()
    assert [s["annotator"] for s in body["results"]] == expected
    # The list and each set's own endpoint apply one rule.
    for aset in sets.values():
        listed = aset.pk in {s["id"] for s in body["results"]}
        opened = client.get(f"/api/annotation-sets/{aset.pk}/").status_code == 200
        assert listed == opened, (actor, blind, aset.pk)


def test_an_open_project_lets_annotators_read_their_peers_sets_but_not_the_gold(
    api_for, project, sets
):
    project.blind = False
    project.save()
    client = api_for("annotator")
    assert client.get(f"/api/annotation-sets/{sets['peer'].pk}/").status_code == 200
    assert client.get(f"/api/annotation-sets/{sets['gold'].pk}/").status_code == 403


def test_set_detail_has_spans_with_their_text_and_relations_by_span_id(api_for, annotated):
    own = annotated["set"]
    body = api_for("annotator").get(f"/api/annotation-sets/{own.pk}/").json()
    assert body["version"] == 3
    assert body["status"] == "in_progress"
    assert body["editable"] is True
    claim, reason = annotated["claim"], annotated["reason"]
    assert [(s["label"], s["start"], s["end"], s["text"]) for s in body["spans"]] == [
        ("Claim", claim.start, claim.end, "Sanctions work."),
        ("Reason", reason.start, reason.end, "First, exports fell (Reuters)."),
    ]
    assert body["relations"] == [
        {
            "id": annotated["relation"].pk,
            "source": annotated["reason"].pk,
            "target": annotated["claim"].pk,
            "type": "supports",
            "attributes": {},
            "external_id": "",
        }
    ]


def test_someone_elses_set_is_not_editable_for_a_curator(api_for, annotated):
    body = api_for("curator").get(f"/api/annotation-sets/{annotated['set'].pk}/").json()
    assert body["editable"] is False
    assert len(body["spans"]) == 2


def test_unknown_set_is_404_with_a_message(api_for, members):
    response = api_for("manager").get("/api/annotation-sets/999999/")
    assert response.status_code == 404
    detail(response)


# --------------------------------------------------------------------------- writes


@pytest.mark.parametrize(("key", "actor", "status"), matrix(WRITE_STATUS))
def test_write_status_per_actor_and_refusals_change_nothing(
    api_for, annotated, key, actor, status
):
    own = annotated["set"]
    method, url, body = write_request(key, own, annotated)
    before = snapshot(own)
    response = send(api_for(actor), method, url, body)
    assert response.status_code == status, response.content
    if status >= 400:
        detail(response)
        assert snapshot(own) == before
    else:
        own.refresh_from_db()
        assert own.version == before[0] + 1
        assert response.json()["version"] == own.version


@pytest.mark.parametrize(
    ("actor", "status"), list(zip(ALL_ACTORS, GOLD_WRITE_STATUS, strict=True))
)
def test_gold_set_is_written_by_those_who_curate(api_for, sets, actor, status):
    gold = sets["gold"]
    body = {"label": "Claim", "start": 0, "end": 8, "version": 0}
    response = api_for(actor).post(f"/api/annotation-sets/{gold.pk}/spans/", body, format="json")
    assert response.status_code == status
    assert gold.spans.count() == (1 if status == 201 else 0)
    if status >= 400:
        detail(response)


def test_a_manager_writes_their_own_set(api_for, members, document):
    mine = AnnotationSetFactory(document=document, annotator=members["manager"])
    body = {"label": "Claim", "start": 0, "end": 8, "version": 0}
    response = api_for("manager").post(f"/api/annotation-sets/{mine.pk}/spans/", body,
                                        format="json")
    assert response.status_code == 201


def test_span_create_answers_with_the_stored_span_and_the_new_version(api_for, sets, document):
    own = sets["own"]
    start = document.text.index("Sanctions")
    body = {"label": "Claim", "start": start, "end": start + 15, "version": 0, "note": "first"}
    response = api_for("annotator").post(f"/api/annotation-sets/{own.pk}/spans/", body,
                                         format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["version"] == 1
    span = Span.objects.get(pk=data["span"]["id"])
    assert (span.start, span.end, span.label.name, span.note) == (
        start, start + 15, "Claim", "first"
    )
    assert data["span"]["text"] == "Sanctions work."


def test_offsets_are_code_points_with_emoji_before_the_span(api_for, project, members):
    text = "🌍🌍 Sanctions work. Exports fell."
    document = DocumentFactory(project=project, text=text)
    own = AnnotationSetFactory(document=document, annotator=members["annotator"])
    start = text.index("Sanctions")  # 3 code points in; 5 UTF-16 code units
    assert start == 3
    body = {"label": "Claim", "start": start, "end": start + 15, "version": 0}
    response = api_for("annotator").post(f"/api/annotation-sets/{own.pk}/spans/", body,
                                         format="json")
    assert response.status_code == 201
    assert response.json()["span"]["text"] == "Sanctions work."


def test_whitespace_is_trimmed_and_snap_grows_to_whole_words(api_for, sets, document):
    own = sets["own"]
    client = api_for("annotator")
    url = f"/api/annotation-sets/{own.pk}/spans/"
    # document.text starts "Brief N. Sanctions work. ..."
    start = document.text.index("Sanctions")
    trimmed = client.post(url, {"label": "Claim", "start": start - 1, "end": start + 9,
                                "version": 0}, format="json").json()
    assert trimmed["span"]["text"] == "Sanctions"
    snapped = client.post(url, {"label": "Reason", "start": start + 1, "end": start + 3,
                                "version": 1, "snap": True}, format="json").json()
    assert snapped["span"]["text"] == "Sanctions"


def test_stale_version_is_409_with_a_message_and_nothing_is_written(api_for, annotated):
    own = annotated["set"]
    before = snapshot(own)
    client = api_for("annotator")
    stale = {"label": "Evidence", "start": 34, "end": 41, "version": 1}
    response = client.post(f"/api/annotation-sets/{own.pk}/spans/", stale, format="json")
    assert response.status_code == 409
    assert "changed elsewhere" in detail(response)
    response = client.delete(f"/api/annotation-sets/{own.pk}/spans/{annotated['claim'].pk}/"
                             "?version=2")
    assert response.status_code == 409
    detail(response)
    assert snapshot(own) == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"label": "Verdict", "start": 0, "end": 5}, "unknown span label"),
        ({"label": "Claim", "start": 0, "end": 10_000}, "outside the text"),
        ({"label": "Claim", "start": 5, "end": 5}, "outside the text"),
        ({"label": "Claim", "start": -1, "end": 5}, "start"),
        ({"label": "Claim", "start": 0}, "end"),
        ({"label": "Claim", "start": 0, "end": 5, "attributes": []}, "attributes"),
        ({"label": "Claim", "start": 0, "end": 5, "note": "x" * 5000}, "note"),
    ],
)
def test_bad_span_input_is_400_with_a_message(api_for, sets, body, message):
    own = sets["own"]
    response = api_for("annotator").post(
        f"/api/annotation-sets/{own.pk}/spans/", {**body, "version": 0}, format="json"
    )
    assert response.status_code == 400
    assert message in detail(response)
    assert own.spans.count() == 0


def test_a_relation_the_schema_forbids_is_400_with_the_reason(api_for, annotated):
    own = annotated["set"]
    body = {"source": annotated["claim"].pk, "target": annotated["reason"].pk,
            "type": "evidence_for", "version": 3}
    response = api_for("annotator").post(f"/api/annotation-sets/{own.pk}/relations/", body,
                                         format="json")
    assert response.status_code == 400
    assert "evidence_for" in detail(response)


def test_a_relation_to_a_span_of_another_set_is_400(api_for, annotated, sets, project):
    peer_span = Span.objects.create(
        annotation_set=sets["peer"], label=project.span_labels.get(name="Claim"), start=0, end=5
    )
    own = annotated["set"]
    body = {"source": annotated["reason"].pk, "target": peer_span.pk, "type": "supports",
            "version": 3}
    response = api_for("annotator").post(f"/api/annotation-sets/{own.pk}/relations/", body,
                                         format="json")
    assert response.status_code == 400
    assert "not in this annotation set" in detail(response)


def test_a_submitted_set_refuses_edits_until_reopened(api_for, annotated):
    own = annotated["set"]
    client = api_for("annotator")
    submitted = client.post(f"/api/annotation-sets/{own.pk}/submit/", {"version": 3},
                            format="json")
    assert submitted.json() | {"submitted_at": None} == {
        "id": own.pk, "status": "submitted", "version": 4, "submitted_at": None
    }
    edit = client.patch(f"/api/annotation-sets/{own.pk}/spans/{annotated['claim'].pk}/",
                        {"note": "late", "version": 4}, format="json")
    assert edit.status_code == 400
    assert "reopen" in detail(edit)
    reopened = client.post(f"/api/annotation-sets/{own.pk}/reopen/", {"version": 4},
                           format="json")
    assert reopened.json()["status"] == "in_progress"


def test_reopen_is_refused_when_the_project_forbids_it(api_for, annotated, project):
    project.allow_reopen = False
    project.save()
    own = annotated["set"]
    client = api_for("annotator")
    client.post(f"/api/annotation-sets/{own.pk}/submit/", {"version": 3}, format="json")
    response = client.post(f"/api/annotation-sets/{own.pk}/reopen/", {"version": 4},
                           format="json")
    assert response.status_code == 400
    detail(response)


def test_relabel_through_patch_and_delete_takes_its_relations(api_for, annotated):
    own = annotated["set"]
    client = api_for("annotator")
    patched = client.patch(f"/api/annotation-sets/{own.pk}/spans/{annotated['claim'].pk}/",
                           {"label": "MajorClaim", "version": 3}, format="json")
    assert patched.status_code == 200
    assert patched.json()["span"]["label"] == "MajorClaim"
    deleted = client.delete(f"/api/annotation-sets/{own.pk}/spans/{annotated['claim'].pk}/"
                            "?version=4")
    assert deleted.json() == {"version": 5}
    assert not Relation.objects.filter(annotation_set=own).exists()


def test_delete_without_a_version_is_400(api_for, annotated):
    own = annotated["set"]
    response = api_for("annotator").delete(
        f"/api/annotation-sets/{own.pk}/relations/{annotated['relation'].pk}/"
    )
    assert response.status_code == 400
    assert "version" in detail(response)


def test_a_span_of_another_set_is_404_in_this_sets_url(api_for, annotated, sets, project):
    peer_span = Span.objects.create(
        annotation_set=sets["peer"], label=project.span_labels.get(name="Claim"), start=0, end=5
    )
    own = annotated["set"]
    response = api_for("annotator").delete(
        f"/api/annotation-sets/{own.pk}/spans/{peer_span.pk}/?version=3"
    )
    assert response.status_code == 404
    detail(response)
    assert Span.objects.filter(pk=peer_span.pk).exists()


def test_form_encoded_writes_are_refused_with_415(api_for, sets):
    own = sets["own"]
    response = api_for("annotator").post(
        f"/api/annotation-sets/{own.pk}/spans/",
        {"label": "Claim", "start": 0, "end": 5, "version": 0},
    )
    assert response.status_code == 415
    detail(response)
    assert AnnotationSet.objects.get(pk=own.pk).version == 0
