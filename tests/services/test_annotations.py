"""The rules of annotation writes: versions, status, schema, undo."""

from __future__ import annotations

import json

import pytest

from annotator.models import AnnotationSet, Relation, Span
from annotator.models.actions import AnnotationAction
from annotator.services import annotations as svc
from annotator.services.errors import ConflictError, WarrantError
from tests.factories import AnnotationSetFactory, DocumentFactory, SpanFactory

TEXT = "Sanctions work. 👍 Exports fell by 40% (Reuters). Prices rose."


@pytest.fixture
def aset(project, members):
    document = DocumentFactory(project=project, text=TEXT)
    return AnnotationSetFactory(document=document, annotator=members["annotator"])


def label(project, name):
    return project.span_labels.get(name=name)


def rtype(project, name):
    return project.relation_types.get(name=name)


def make(aset, name, phrase, version=None, **kwargs):
    start = TEXT.index(phrase)
    return svc.span_create(
        annotation_set=aset,
        label=label(aset.document.project, name),
        start=start,
        end=start + len(phrase),
        expected_version=aset.version if version is None else version,
        **kwargs,
    )


def test_span_create_snaps_to_words_and_trims_whitespace(aset, project):
    start = TEXT.index("ports fe")
    span = svc.span_create(
        annotation_set=aset, label=label(project, "Evidence"), start=start - 1,
        end=start + 8, expected_version=0,
    )
    assert TEXT[span.start : span.end] == "Exports fell"


def test_span_create_without_snapping_only_trims_whitespace(aset, project):
    start = TEXT.index("ports fell")
    span = svc.span_create(
        annotation_set=aset, label=label(project, "Claim"), start=start, end=start + 6,
        expected_version=0, snap=False,
    )
    assert TEXT[span.start : span.end] == "ports"


def test_span_create_counts_code_points_after_an_emoji(aset):
    span = make(aset, "Evidence", "Exports fell by 40%")
    assert TEXT[span.start : span.end] == "Exports fell by 40%"


def test_first_edit_starts_the_set_and_every_edit_bumps_the_version(aset):
    assert aset.status == "assigned"
    make(aset, "Claim", "Sanctions work.")
    make(aset, "Evidence", "Exports fell")
    aset.refresh_from_db()
    assert (aset.status, aset.version) == ("in_progress", 2)
    assert aset.started_at is not None


def test_a_stale_version_is_refused_with_a_conflict_and_nothing_changes(aset):
    make(aset, "Claim", "Sanctions work.")
    with pytest.raises(ConflictError, match=r"changed elsewhere.*reload"):
        make(aset, "Evidence", "Exports fell", version=0)
    assert Span.objects.filter(annotation_set=aset).count() == 1
    assert AnnotationSet.objects.get(pk=aset.pk).version == 1


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [(0, 0, "outside"), (5, 999, "outside"), (15, 16, "only whitespace")],
)
def test_span_create_refuses_bad_ranges(aset, project, start, end, message):
    with pytest.raises(WarrantError, match=message):
        svc.span_create(annotation_set=aset, label=label(project, "Claim"), start=start,
                        end=end, expected_version=0)
    assert AnnotationSet.objects.get(pk=aset.pk).version == 0


def test_the_same_label_on_the_same_text_twice_is_refused(aset):
    make(aset, "Claim", "Sanctions work.")
    with pytest.raises(WarrantError, match="already marked Claim"):
        make(aset, "Claim", "Sanctions work.")


def test_a_span_save_writes_the_span_and_its_log_row_together_or_neither(aset):
    """On PostgreSQL one statement writes the version, the span and its log row (issue 12.5):
    what it hands back is what it stored, and a refusal the set's row gives writes nothing."""
    span = make(aset, "Claim", "Sanctions work.", user=aset.annotator, note="first",
                attributes={})
    stored = Span.objects.get(pk=span.pk)
    fields = ("annotation_set_id", "label_id", "start", "end", "attributes", "note",
              "external_id", "suggested_by", "created_at")
    assert [getattr(stored, f) for f in fields] == [getattr(span, f) for f in fields]
    action = AnnotationAction.objects.get(annotation_set=aset)
    assert (action.kind, action.version, action.user_id, action.undone) == (
        "span_create", 1, aset.annotator_id, False)
    assert action.payload == {"span": span.pk, "start": span.start, "end": span.end,
                              "label": "Claim"}
    assert AnnotationSet.objects.get(pk=aset.pk).status == "in_progress"
    # Submitted elsewhere: this copy of the set still says in progress.
    AnnotationSet.objects.filter(pk=aset.pk).update(status="submitted")
    with pytest.raises(WarrantError, match="submitted: reopen"):
        make(aset, "Evidence", "Exports fell")
    assert Span.objects.filter(annotation_set=aset).count() == 1
    assert AnnotationAction.objects.filter(annotation_set=aset).count() == 1
    assert AnnotationSet.objects.get(pk=aset.pk).version == 1


def test_a_label_of_another_project_is_refused(aset):
    from tests.factories import ProjectFactory

    other = ProjectFactory()
    with pytest.raises(WarrantError, match="not part of this project"):
        svc.span_create(annotation_set=aset, label=label(other, "Claim"), start=0, end=5,
                        expected_version=0)


def test_a_submitted_set_takes_no_edits(aset):
    svc.annotation_set_submit(annotation_set=aset, expected_version=0)
    with pytest.raises(WarrantError, match="submitted: reopen"):
        make(aset, "Claim", "Sanctions work.")


def test_span_update_relabels_sets_attributes_and_note(aset, project):
    span = make(aset, "Reason", "Sanctions work.")
    svc.span_update(span=span, expected_version=aset.version, label=label(project, "Claim"),
                    attributes={"stance": "for"}, note="  headline ")
    span.refresh_from_db()
    assert (span.label.name, span.attributes, span.note) == ("Claim", {"stance": "for"},
                                                             "headline")
    assert AnnotationSet.objects.get(pk=aset.pk).version == 2


def test_span_update_refuses_a_relabel_that_breaks_a_relation(aset, project):
    claim = make(aset, "Claim", "Sanctions work.")
    evidence = make(aset, "Evidence", "Exports fell by 40%")
    svc.relation_create(annotation_set=aset, source=evidence, target=claim,
                        type=rtype(project, "evidence_for"), expected_version=aset.version)
    with pytest.raises(WarrantError, match="cannot relabel to Claim: evidence_for cannot link"):
        svc.span_update(span=evidence, expected_version=aset.version, label=label(project, "Claim"))


def test_span_update_refuses_bad_attributes(aset):
    span = make(aset, "Claim", "Sanctions work.")
    with pytest.raises(WarrantError, match="attribute"):
        svc.span_update(span=span, expected_version=aset.version, attributes={"x": [1, 2]})


def test_span_delete_takes_its_relations_with_it(aset, project):
    claim = make(aset, "Claim", "Sanctions work.")
    evidence = make(aset, "Evidence", "Exports fell by 40%")
    svc.relation_create(annotation_set=aset, source=evidence, target=claim,
                        type=rtype(project, "evidence_for"), expected_version=aset.version)
    svc.span_delete(span=claim, expected_version=aset.version)
    assert list(Span.objects.filter(annotation_set=aset)) == [evidence]
    assert not Relation.objects.exists()


def test_deleting_what_is_gone_without_a_version_change_is_refused_and_changes_nothing(
        aset, project):
    """A row removed behind the set's version (the admin edits the table directly): the
    delete says so, and neither the version nor the action log moves."""
    a = make(aset, "Evidence", "Exports fell by 40%")
    b = make(aset, "Claim", "Sanctions work.")
    relation = svc.relation_create(annotation_set=aset, source=a, target=b,
                                   type=rtype(project, "supports"), expected_version=2)
    Relation.objects.filter(pk=relation.pk).delete()
    Span.objects.filter(pk=b.pk).delete()
    logged = AnnotationAction.objects.count()
    with pytest.raises(WarrantError, match="this relation was already deleted"):
        svc.relation_delete(relation=relation, expected_version=3)
    with pytest.raises(WarrantError, match="this span was already deleted"):
        svc.span_delete(span=b, expected_version=3)
    with pytest.raises(ConflictError):
        svc.span_delete(span=a, expected_version=2)
    assert AnnotationSet.objects.get(pk=aset.pk).version == 3
    assert AnnotationAction.objects.count() == logged
    svc.span_delete(span=a, expected_version=3)
    assert not Span.objects.filter(annotation_set=aset).exists()
    assert AnnotationSet.objects.get(pk=aset.pk).version == 4


def test_a_span_of_another_set_is_not_deleted_through_ones_own(aset, project, members):
    """A span of another set, handed in as if it were in one's own: refused as gone, and
    neither set changes."""
    other = AnnotationSetFactory(document=DocumentFactory(project=project, text=TEXT + " More."),
                                 annotator=members["annotator"])
    foreign = make(other, "Claim", "Prices rose.")
    foreign.annotation_set = aset
    versions = (aset.version, other.version)
    with pytest.raises(WarrantError, match="this span was already deleted"):
        svc.span_delete(span=foreign, expected_version=aset.version)
    assert Span.objects.filter(pk=foreign.pk, annotation_set=other).exists()
    assert tuple(AnnotationSet.objects.filter(pk__in=(aset.pk, other.pk)).order_by(
        "pk" if aset.pk < other.pk else "-pk").values_list("version", flat=True)) == versions
    assert not AnnotationAction.objects.filter(annotation_set=aset).exists()


def test_relation_create_refuses_a_type_the_schema_does_not_allow_and_says_why(aset, project):
    a = make(aset, "Evidence", "Exports fell by 40%")
    b = make(aset, "Evidence", "Prices rose.")
    with pytest.raises(WarrantError) as refused:
        svc.relation_create(annotation_set=aset, source=a, target=b,
                            type=rtype(project, "supports"), expected_version=aset.version)
    assert str(refused.value) == (
        "supports cannot link Evidence to Evidence: supports may only go from any label to "
        "MajorClaim, Claim or Reason"
    )


def test_relation_create_refuses_self_links_duplicates_and_other_sets(aset, project, members):
    a = make(aset, "Evidence", "Exports fell by 40%")
    b = make(aset, "Claim", "Sanctions work.")
    supports = rtype(project, "supports")
    with pytest.raises(WarrantError, match="itself"):
        svc.relation_create(annotation_set=aset, source=a, target=a, type=supports,
                            expected_version=aset.version)
    svc.relation_create(annotation_set=aset, source=a, target=b, type=supports,
                        expected_version=aset.version)
    with pytest.raises(WarrantError, match="already linked"):
        svc.relation_create(annotation_set=aset, source=a, target=b, type=supports,
                            expected_version=aset.version)
    foreign = SpanFactory(annotation_set=AnnotationSetFactory(document=aset.document,
                                                              annotator=members["curator"]))
    with pytest.raises(WarrantError, match="must belong to this annotation set"):
        svc.relation_create(annotation_set=aset, source=a, target=foreign, type=supports,
                            expected_version=aset.version)


def test_relation_delete_bumps_the_version(aset, project):
    a = make(aset, "Evidence", "Exports fell by 40%")
    b = make(aset, "Claim", "Sanctions work.")
    relation = svc.relation_create(annotation_set=aset, source=a, target=b,
                                   type=rtype(project, "supports"), expected_version=2)
    svc.relation_delete(relation=relation, expected_version=3)
    assert not Relation.objects.exists()
    assert AnnotationSet.objects.get(pk=aset.pk).version == 4


def test_submit_and_reopen_move_the_status(aset):
    svc.annotation_set_submit(annotation_set=aset, expected_version=0)
    assert (aset.status, aset.version) == ("submitted", 1)
    assert aset.submitted_at is not None
    with pytest.raises(WarrantError, match="already submitted"):
        svc.annotation_set_submit(annotation_set=aset, expected_version=1)
    svc.annotation_set_reopen(annotation_set=aset, expected_version=1)
    assert (aset.status, aset.version, aset.submitted_at) == ("in_progress", 2, None)


def test_reopen_only_while_the_project_allows_it(aset, project):
    project.allow_reopen = False
    project.save()
    aset.document.project = project
    svc.annotation_set_submit(annotation_set=aset, expected_version=0)
    with pytest.raises(WarrantError, match="does not allow reopening"):
        svc.annotation_set_reopen(annotation_set=aset, expected_version=1)


def test_submit_with_a_stale_version_is_a_conflict(aset):
    make(aset, "Claim", "Sanctions work.")
    with pytest.raises(ConflictError):
        svc.annotation_set_submit(annotation_set=aset, expected_version=0)


def test_start_moves_assigned_to_in_progress(aset):
    svc.annotation_set_start(annotation_set=aset, expected_version=0)
    assert (aset.status, aset.version) == ("in_progress", 1)


def test_submit_and_reopen_each_start_an_automatic_agreement_run(
    aset, django_capture_on_commit_callbacks
):
    from annotator.models import AgreementRun

    with django_capture_on_commit_callbacks(execute=True):
        svc.annotation_set_submit(annotation_set=aset, expected_version=0)
    first = AgreementRun.objects.get()
    assert first.automatic and first.status == "done"  # in-process in the tests
    with django_capture_on_commit_callbacks(execute=True):
        svc.annotation_set_reopen(annotation_set=aset, expected_version=aset.version)
    assert AgreementRun.objects.filter(automatic=True).count() == 2


def test_undo_reverts_each_kind_of_edit_newest_first(aset, project):
    claim = make(aset, "Claim", "Sanctions work.")
    evidence = make(aset, "Evidence", "Exports fell by 40%")
    relation = svc.relation_create(annotation_set=aset, source=evidence, target=claim,
                                   type=rtype(project, "evidence_for"),
                                   expected_version=aset.version)
    svc.span_update(span=claim, expected_version=aset.version, note="check")
    evidence_id = evidence.pk
    svc.span_delete(span=evidence, expected_version=aset.version)
    assert not Relation.objects.exists()

    undone = svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
    assert "deleted span is back" in undone.message
    assert [s.pk for s in undone.spans] == [evidence_id]
    assert Relation.objects.get().pk == relation.pk  # same ids: later log entries still point
    svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
    assert Span.objects.get(pk=claim.pk).note == ""
    svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
    assert not Relation.objects.exists()
    svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
    svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
    assert not Span.objects.filter(annotation_set=aset).exists()
    with pytest.raises(WarrantError, match="nothing to undo"):
        svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
    assert AnnotationAction.objects.filter(annotation_set=aset, undone=True).count() == 5


def test_undo_checks_the_version_too(aset):
    make(aset, "Claim", "Sanctions work.")
    with pytest.raises(ConflictError):
        svc.annotation_set_undo(annotation_set=aset, expected_version=0)
    assert Span.objects.filter(annotation_set=aset).count() == 1


def test_describe_allowed_groups_pairs_by_source():
    assert svc.describe_allowed([["Evidence", "Claim"], ["Evidence", "Reason"]], "x") == (
        "x may only go from Evidence to Claim or Reason"
    )
    assert svc.describe_allowed([], "x") == "the schema allows no x relation at all"


@pytest.mark.parametrize("change, message", [
    ({"note": "bad \x00 byte"}, "cannot be stored"),
    ({"note": "half a pair \ud83d"}, "cannot be stored"),
    ({"attributes": {"stance": "for\x00"}}, "cannot be stored"),
    ({"attributes": {"stance": float("nan")}}, "takes text"),
])
def test_text_no_database_can_hold_is_refused_and_nothing_changes(aset, change, message):
    span = make(aset, "Claim", "Sanctions work.")
    version = aset.version
    with pytest.raises(WarrantError, match=message):
        svc.span_update(span=span, expected_version=version, **change)
    span.refresh_from_db()
    aset.refresh_from_db()
    assert (span.note, span.attributes, aset.version) == ("", {}, version)


# ---------------------------------------------------------------- issue 13: redo, boundaries,
# many spans at once; undo and redo round-trip the set byte for byte


def dump(aset) -> bytes:
    """Every stored field of the set's spans and relations, ids and times included."""
    spans = list(Span.objects.filter(annotation_set=aset).order_by("id").values())
    relations = list(Relation.objects.filter(annotation_set=aset).order_by("id").values())
    return json.dumps({"spans": spans, "relations": relations}, sort_keys=True,
                      default=str).encode()


def canonical(aset) -> tuple[bytes, bytes]:
    """The set as the canonical JSONL export writes it, and as the API's set detail
    answers it (to its annotator): what leaves Warrant, byte for byte."""
    from rest_framework.test import APIClient

    from annotator.formats.jsonl import dump_jsonl
    from annotator.models import Document
    from annotator.selectors.export_records import export_document_records

    records = export_document_records(
        aset.document.project, sets=AnnotationSet.objects.filter(pk=aset.pk),
        documents=Document.objects.filter(pk=aset.document_id))
    client = APIClient()
    client.force_authenticate(aset.annotator)
    detail = client.get(f"/api/annotation-sets/{aset.pk}/")
    assert detail.status_code == 200
    body = json.loads(detail.content)
    body.pop("version", None)  # the set's version counts edits, undo and redo included
    body.pop("updated_at", None)
    return dump_jsonl(records).encode(), json.dumps(body, sort_keys=True).encode()


def _edits(aset, project):
    """Each kind of edit, as a function of the set that makes it (after a common start)."""
    def claim():
        return Span.objects.get(annotation_set=aset, label__name="Claim")

    def evidence():
        return Span.objects.get(annotation_set=aset, label__name="Evidence")

    def version():
        return AnnotationSet.objects.get(pk=aset.pk).version

    def relation():
        return Relation.objects.get(annotation_set=aset)

    start = TEXT.index("Prices")
    return {
        "span_create": lambda: svc.span_create(
            annotation_set=aset, label=label(project, "Reason"), start=start,
            end=start + 6, expected_version=version()),
        "relabel": lambda: svc.span_update(
            span=claim(), label=label(project, "MajorClaim"), expected_version=version()),
        "attributes and note": lambda: svc.span_update(
            span=claim(), attributes={"stance": "for"}, note="why", expected_version=version()),
        "boundaries": lambda: svc.span_update(
            span=evidence(), start=TEXT.index("fell"), end=TEXT.index("40%") + 3,
            expected_version=version()),
        "span_delete": lambda: svc.span_delete(span=evidence(), expected_version=version()),
        "relation_create": lambda: svc.relation_create(
            annotation_set=aset, source=claim(), target=evidence(),
            type=rtype(project, "attacks"), expected_version=version()),
        "relation type change": lambda: svc.relation_update(
            relation=relation(), type=rtype(project, "supports"), expected_version=version()),
        "relation_delete": lambda: svc.relation_delete(
            relation=relation(), expected_version=version()),
        "spans and relations at once (accepting suggestions)": lambda: (
            svc.spans_and_relations_create(
                annotation_set=aset,
                spans=[svc.NewSpan(label(project, "Reason"), start, start + 6,
                                   suggested_by="cues")],
                relations=[(0, claim(), rtype(project, "supports")),
                           (evidence(), claim(), rtype(project, "attacks"))],
                expected_version=version())),
        "spans_create": lambda: svc.spans_create(
            annotation_set=aset, label=label(project, "Claim"),
            ranges=[[TEXT.index("Prices"), TEXT.index("Prices") + 6],
                    [TEXT.index("Reuters"), TEXT.index("Reuters") + 7]],
            expected_version=version()),
    }


@pytest.mark.parametrize("kind", list(_edits(None, None)))
def test_undo_and_redo_of_every_edit_kind_round_trip_the_set_byte_for_byte(aset, project,
                                                                          kind):
    claim = make(aset, "Claim", "Sanctions work.")
    evidence = make(aset, "Evidence", "Exports fell by 40%")
    svc.relation_create(annotation_set=aset, source=evidence, target=claim,
                        type=rtype(project, "evidence_for"), expected_version=aset.version)
    before, before_out = dump(aset), canonical(aset)
    _edits(aset, project)[kind]()
    aset.refresh_from_db()
    after, after_out = dump(aset), canonical(aset)
    assert after != before and after_out[0] != before_out[0] and after_out[1] != before_out[1]
    for _ in range(2):
        svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
        assert dump(aset) == before
        assert canonical(aset) == before_out
        svc.annotation_set_redo(annotation_set=aset, expected_version=aset.version)
        assert dump(aset) == after
        assert canonical(aset) == after_out


def test_a_relation_type_change_follows_the_schema_and_changes_nothing_when_refused(aset,
                                                                                   project):
    claim = make(aset, "Claim", "Sanctions work.")
    evidence = make(aset, "Evidence", "Exports fell by 40%")
    relation = svc.relation_create(annotation_set=aset, source=evidence, target=claim,
                                   type=rtype(project, "evidence_for"),
                                   expected_version=aset.version)
    svc.relation_create(annotation_set=aset, source=claim, target=evidence,
                        type=rtype(project, "attacks"), expected_version=aset.version)
    aset.refresh_from_db()
    before, version = dump(aset), aset.version
    backwards = Relation.objects.get(annotation_set=aset, type__name="attacks")
    for target, kind, message in (
        (relation, "evidence_for", "already evidence_for"),
        # supports may not end on an Evidence span in the argument preset.
        (backwards, "supports", "supports"),
    ):
        with pytest.raises(WarrantError, match=message):
            svc.relation_update(relation=target, type=rtype(project, kind),
                                expected_version=version)
    with pytest.raises(ConflictError):
        svc.relation_update(relation=relation, type=rtype(project, "supports"),
                            expected_version=version - 1)
    aset.refresh_from_db()
    assert (dump(aset), aset.version) == (before, version)
    changed = svc.relation_update(relation=relation, type=rtype(project, "attacks"),
                                  expected_version=version)
    assert changed.type.name == "attacks" and changed.pk == relation.pk
    assert AnnotationAction.objects.filter(annotation_set=aset).order_by("id").last().kind == (
        "relation_update")


def test_redo_goes_back_in_the_order_undo_went_and_stops_at_a_new_edit(aset, project):
    make(aset, "Claim", "Sanctions work.")
    make(aset, "Evidence", "Exports fell by 40%")
    make(aset, "Reason", "Prices rose.")
    states = [dump(aset)]
    for _ in range(3):
        svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
        states.append(dump(aset))
    for expected in reversed(states[:-1]):
        svc.annotation_set_redo(annotation_set=aset, expected_version=aset.version)
        assert dump(aset) == expected
    with pytest.raises(WarrantError, match="nothing to redo"):
        svc.annotation_set_redo(annotation_set=aset, expected_version=aset.version)

    svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
    svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
    make(aset, "Claim", "Reuters")  # a new edit clears the redo stack
    with pytest.raises(WarrantError, match="nothing to redo"):
        svc.annotation_set_redo(annotation_set=aset, expected_version=aset.version)
    svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
    svc.annotation_set_redo(annotation_set=aset, expected_version=aset.version)  # that one only
    assert [s.label.name for s in Span.objects.filter(annotation_set=aset)] == ["Claim", "Claim"]
    with pytest.raises(WarrantError, match="nothing to redo"):
        svc.annotation_set_redo(annotation_set=aset, expected_version=aset.version)


def test_redo_checks_the_version_and_a_submitted_set(aset):
    make(aset, "Claim", "Sanctions work.")
    svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
    with pytest.raises(ConflictError):
        svc.annotation_set_redo(annotation_set=aset, expected_version=0)
    assert not Span.objects.filter(annotation_set=aset).exists()
    svc.annotation_set_submit(annotation_set=aset, expected_version=aset.version)
    with pytest.raises(WarrantError, match="submitted"):
        svc.annotation_set_redo(annotation_set=aset, expected_version=aset.version)


def test_moving_a_boundary_snaps_or_trims_and_refuses_a_duplicate(aset, project):
    span = make(aset, "Evidence", "Exports fell by 40%")
    svc.span_update(span=span, end=TEXT.index("40%") + 1, snap=True,
                    expected_version=aset.version)
    assert TEXT[span.start : span.end] == "Exports fell by 40"  # "4" completed, "%" not added
    svc.span_update(span=span, start=TEXT.index("fell") - 1, expected_version=aset.version)
    assert TEXT[span.start : span.end] == "fell by 40"  # the space trimmed
    other = make(aset, "Evidence", "Exports fell")
    version = aset.version
    with pytest.raises(WarrantError, match="already marked Evidence"):
        svc.span_update(span=other, start=span.start, end=span.end, expected_version=version)
    with pytest.raises(WarrantError, match="outside the text"):
        svc.span_update(span=other, end=len(TEXT) + 1, expected_version=version)
    assert AnnotationSet.objects.get(pk=aset.pk).version == version


def test_a_span_deletion_logs_the_span_and_its_relations_rows_as_they_were(aset, project):
    """The log row keeps what undo puts back: the span's row and those of the relations that
    went with it, in id order (on PostgreSQL written by the deleting statement itself)."""
    from datetime import datetime

    claim = make(aset, "Claim", "Sanctions work.")
    evidence = make(aset, "Evidence", "Exports fell by 40%")
    reason = make(aset, "Reason", "Prices rose.")
    for source, kind in ((evidence, "supports"), (reason, "attacks")):
        svc.relation_create(annotation_set=aset, source=source, target=claim,
                            type=rtype(project, kind), expected_version=aset.version)
    relations = list(Relation.objects.filter(target=claim).order_by("id"))
    before, span_row = [svc._relation_row(r) for r in relations], svc._span_row(claim)
    svc.span_delete(span=claim, expected_version=aset.version)
    action = AnnotationAction.objects.filter(annotation_set=aset).order_by("-id").first()
    assert action.kind == "span_delete" and action.payload["span"] == span_row
    logged = action.payload["relations"]
    assert [{**row, "created_at": None} for row in logged] == [
        {**row, "created_at": None} for row in before]
    assert [datetime.fromisoformat(row["created_at"]) for row in logged] == [
        r.created_at for r in relations]
    assert not Relation.objects.filter(pk__in=[r.pk for r in relations]).exists()


def test_updating_a_span_gone_without_a_version_change_is_refused_and_changes_nothing(
        aset, project):
    """A relabel, a move or a note of a span (or a relation's new type) removed behind the
    set's version says so; a
    stale version is a conflict first; neither refusal moves the version or the log (on
    PostgreSQL the write is one statement: nothing of it may happen alone)."""
    gone = make(aset, "Evidence", "Exports fell by 40%")
    kept = make(aset, "Claim", "Sanctions work.")
    link = svc.relation_create(annotation_set=aset, source=gone, target=kept,
                               type=rtype(project, "supports"), expected_version=aset.version)
    Span.objects.filter(pk=gone.pk).delete()  # and the relation with it
    logged, version = AnnotationAction.objects.count(), aset.version
    with pytest.raises(WarrantError, match="this relation was already deleted"):
        svc.relation_update(relation=link, type=rtype(project, "attacks"),
                            expected_version=version)
    for change in ({"label": label(project, "Claim")}, {"end": gone.end - 4}, {"note": "n"}):
        with pytest.raises(WarrantError, match="this span was already deleted"):
            svc.span_update(span=gone, expected_version=version, **change)
    with pytest.raises(ConflictError):
        svc.span_update(span=kept, expected_version=version - 1, note="stale")
    assert AnnotationSet.objects.get(pk=aset.pk).version == version
    assert AnnotationAction.objects.count() == logged
    assert Span.objects.get(pk=kept.pk).note == ""


def test_a_span_update_writes_the_row_the_version_and_its_log_together(aset, project):
    span = make(aset, "Evidence", "Exports fell by 40%")
    version = aset.version
    svc.span_update(span=span, expected_version=version, label=label(project, "Claim"),
                    note="  from Reuters ", start=TEXT.index("fell"))
    row = Span.objects.get(pk=span.pk)
    assert (row.label.name, TEXT[row.start:row.end], row.note) == ("Claim", "fell by 40%",
                                                                  "from Reuters")
    stored = AnnotationSet.objects.get(pk=aset.pk)
    assert stored.version == aset.version == version + 1 and stored.status == aset.status
    action = AnnotationAction.objects.filter(annotation_set=aset).order_by("-id").first()
    assert (action.kind, action.version) == ("span_update", version + 1)
    evidence = label(project, "Evidence").pk
    assert action.payload == {
        "span": span.pk,
        "old": {"label": evidence, "start": TEXT.index("Exports"), "note": ""},
        "new": {"label": row.label_id, "start": row.start, "note": "from Reuters"},
    }
    # Undone, the span is back as it was, in one more version.
    svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
    row = Span.objects.get(pk=span.pk)
    assert (row.label_id, TEXT[row.start:row.end], row.note) == (evidence,
                                                                "Exports fell by 40%", "")


def test_spans_create_marks_many_ranges_in_one_action_and_skips_marked_ones(aset, project):
    make(aset, "Claim", "Prices")
    ranges = [[TEXT.index(w), TEXT.index(w) + len(w)] for w in ("Prices", "Reuters", "Export")]
    spans = svc.spans_create(annotation_set=aset, label=label(project, "Claim"),
                             ranges=ranges, expected_version=aset.version)
    assert sorted(TEXT[s.start : s.end] for s in spans) == ["Exports", "Reuters"]  # snapped
    assert AnnotationAction.objects.filter(annotation_set=aset).count() == 2
    with pytest.raises(WarrantError, match="already marked"):
        svc.spans_create(annotation_set=aset, label=label(project, "Claim"), ranges=ranges,
                         expected_version=aset.version)
    with pytest.raises(WarrantError, match="more than"):
        svc.spans_create(annotation_set=aset, label=label(project, "Claim"),
                         ranges=[[0, 1]] * (svc.MAX_SPANS_PER_ACTION + 1),
                         expected_version=aset.version)
    svc.annotation_set_undo(annotation_set=aset, expected_version=aset.version)
    assert [TEXT[s.start : s.end] for s in Span.objects.filter(annotation_set=aset)] == ["Prices"]
