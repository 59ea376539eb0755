"""Suggestions in a project (issue 16, points 1-3): settings, training jobs, a set's
suggestions, accepting through the span service, dismissing, and the blind rule."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotator.models import (
    AnnotationSet,
    DismissedSuggestion,
    JobStatus,
    Membership,
    Span,
    SuggestionModel,
    SuggestionSettings,
)
from annotator.selectors.suggestions import reference_data, set_suggestions
from annotator.services.annotations import (
    annotation_set_redo,
    annotation_set_submit,
    annotation_set_undo,
)
from annotator.services.demo import demo_brief_text
from annotator.services.errors import WarrantError
from annotator.services.suggestions import (
    suggestion_audience_half,
    suggestion_model_request,
    suggestion_settings_update,
    suggestions_accept,
    suggestions_accept_all,
    suggestions_dismiss,
)
from tests.agreement_helpers import annotate
from tests.factories import AnnotationSetFactory, DocumentFactory, UserFactory
from tests.suggestion_briefs import make_brief

pytestmark = pytest.mark.django_db

REASON_1 = "Traffic in the harbour district has become unbearable."


@pytest.fixture
def demo_set(project, members):
    suggestion_settings_update(project=project, enabled=True, recommenders=["cues"])
    document = DocumentFactory(project=project, text=demo_brief_text())
    return AnnotationSetFactory(document=document, annotator=members["annotator"])


def _key(aset, label, phrase):
    start = aset.document.text.index(phrase)
    return f"span:{label}:{start}:{start + len(phrase)}"


# --------------------------------------------------------------------------- settings


def test_suggestions_are_off_until_a_manager_turns_them_on(project, members):
    document = DocumentFactory(project=project, text=demo_brief_text())
    aset = AnnotationSetFactory(document=document, annotator=members["annotator"])
    shown = set_suggestions(annotation_set=aset, user=members["annotator"])
    assert not shown.shown and shown.reason == "Suggestions are off in this project."
    assert not SuggestionSettings.objects.exists()


@pytest.mark.parametrize(("change", "message"), [
    ({"recommenders": ["oracle"]}, "unknown recommender 'oracle'"),
    ({"recommenders": []}, "choose at least one recommender"),
    ({"recommenders": ["external"]}, "needs its address"),
    ({"recommenders": ["external"], "external_url": "http://10.0.0.1/"},
     "does not allow that external recommender"),
    ({"min_confidence": 1.5}, "from 0 to 1"),
    ({"audience": "chosen", "chosen": ["viewer"]}, "'viewer' is not an annotator"),
    ({"retrain_after": None}, "whole number"),
    ({"external_timeout": 120}, "at most 30"),
])
def test_bad_settings_are_refused_and_change_nothing(project, members, change, message):
    suggestion_settings_update(project=project, enabled=False, recommenders=["cues"])
    values = {"enabled": True, "recommenders": ["cues"], **change}
    with pytest.raises(WarrantError, match=message):
        suggestion_settings_update(project=project, **values)
    row = SuggestionSettings.objects.get(project=project)
    assert (row.enabled, row.recommenders) == (False, ["cues"])


def test_an_allowed_external_recommender_is_kept(project, settings):
    settings.WARRANT_SUGGEST_EXTERNAL_URLS = ["http://127.0.0.1:8999/"]
    row = suggestion_settings_update(project=project, enabled=True, recommenders=["external"],
                                     external_url="http://127.0.0.1:8999/suggest",
                                     external_timeout=2)
    assert (row.external_url, row.external_timeout) == ("http://127.0.0.1:8999/suggest", 2.0)


def test_half_the_annotators_chosen_at_random_see_suggestions(project, members):
    for name in ("a1", "a2", "a3", "a4", "a5"):
        Membership.objects.create(project=project, user=UserFactory(username=name),
                                  role="annotator")
    picked = suggestion_audience_half(project=project, seed=3)
    assert len(picked) == 3 and picked == suggestion_audience_half(project=project, seed=3)
    suggestion_settings_update(project=project, enabled=True, recommenders=["cues"],
                               audience="chosen", chosen=picked)
    document = DocumentFactory(project=project, text=demo_brief_text())
    shown = {}
    for member in Membership.objects.filter(project=project, role="annotator"):
        aset = AnnotationSetFactory(document=document, annotator=member.user)
        shown[member.user.username] = set_suggestions(annotation_set=aset,
                                                      user=member.user).shown
    assert sorted(n for n, s in shown.items() if s) == picked
    left_out = next(n for n in shown if n not in picked)
    assert "some annotators only" in set_suggestions(
        annotation_set=AnnotationSet.objects.get(document=document,
                                                 annotator__username=left_out),
        user=members["annotator"]).reason


# --------------------------------------------------------------------------- a set's suggestions


def test_a_sets_suggestions_leave_out_drawn_spans_and_dismissed_ones(demo_set, members):
    user = members["annotator"]
    first = set_suggestions(annotation_set=demo_set, user=user)
    assert first.shown and len(first.spans) >= 15 and first.relations
    key = _key(demo_set, "Reason", REASON_1)
    assert key in {s.key for s in first.spans}
    start = demo_set.document.text.index(REASON_1)
    Span.objects.create(annotation_set=demo_set, start=start, end=start + len(REASON_1),
                        label=demo_set.document.project.span_labels.get(name="Reason"))
    again = set_suggestions(annotation_set=demo_set, user=user)
    assert key not in {s.key for s in again.spans}
    # Its relations stay: their end is now the drawn span.
    assert any(r.source.start == start for r in again.relations)
    dismissed = again.spans[0].key
    assert suggestions_dismiss(annotation_set=demo_set, keys=[dismissed, dismissed],
                               user=user) == 1
    assert suggestions_dismiss(annotation_set=demo_set, keys=[dismissed], user=user) == 1
    assert DismissedSuggestion.objects.filter(annotation_set=demo_set).count() == 1
    assert dismissed not in {s.key for s in set_suggestions(annotation_set=demo_set,
                                                            user=user).spans}
    with pytest.raises(WarrantError, match="is not a suggestion"):
        suggestions_dismiss(annotation_set=demo_set, keys=["drop table"], user=user)


def test_the_gold_set_shows_no_suggestions(demo_set, members):
    gold = AnnotationSet.objects.create(document=demo_set.document, is_gold=True)
    assert "not the gold" in set_suggestions(annotation_set=gold, user=members["curator"]).reason


def test_a_sets_suggestions_cost_the_same_queries_on_a_bigger_set(demo_set, members, project):
    user = members["annotator"]
    set_suggestions(annotation_set=demo_set, user=user)  # warm the per-request caches
    with CaptureQueriesContext(connection) as small:
        set_suggestions(annotation_set=demo_set, user=user)
    labels = list(project.span_labels.all())
    for k in range(200):
        Span.objects.create(annotation_set=demo_set, start=k, end=k + 3, label=labels[k % 4])
    with CaptureQueriesContext(connection) as big:
        set_suggestions(annotation_set=demo_set, user=user)
    assert len(big) == len(small) <= 10


# --------------------------------------------------------------------------- accepting


def test_accepting_one_suggestion_is_span_create_and_undo_redo_keep_its_mark(demo_set, members):
    user = members["annotator"]
    accepted = suggestions_accept(annotation_set=demo_set,
                                  keys=[_key(demo_set, "Reason", REASON_1)],
                                  expected_version=0, user=user)
    span = accepted.spans[0]
    assert (span.label.name, span.suggested_by) == ("Reason", "cues")
    assert demo_set.version == 1 and demo_set.status == "in_progress"
    assert demo_set.actions.get().kind == "span_create"
    annotation_set_undo(annotation_set=demo_set, expected_version=1, user=user)
    assert not Span.objects.filter(annotation_set=demo_set).exists()
    annotation_set_redo(annotation_set=demo_set, expected_version=2, user=user)
    assert Span.objects.get(annotation_set=demo_set).suggested_by == "cues"


def test_accepting_a_relation_brings_its_suggested_ends_in_one_edit(demo_set, members):
    user = members["annotator"]
    shown = set_suggestions(annotation_set=demo_set, user=user)
    relation = next(r for r in shown.relations if r.type == "supports")
    accepted = suggestions_accept(annotation_set=demo_set, keys=[relation.key],
                                  expected_version=0, user=user)
    assert len(accepted.spans) == 2 and len(accepted.relations) == 1
    made = accepted.relations[0]
    assert (made.source.label.name, made.target.label.name, made.type.name) == (
        "Reason", "MajorClaim", "supports")
    assert demo_set.actions.count() == 1
    annotation_set_undo(annotation_set=demo_set, expected_version=1, user=user)
    assert not demo_set.spans.exists() and not demo_set.relations.exists()
    annotation_set_redo(annotation_set=demo_set, expected_version=2, user=user)
    assert demo_set.relations.count() == 1
    assert set(demo_set.spans.values_list("suggested_by", flat=True)) == {"cues"}


def test_a_relation_between_drawn_spans_is_undone_with_the_edit_that_made_it(demo_set, members):
    user = members["annotator"]
    shown = set_suggestions(annotation_set=demo_set, user=user)
    relation = next(r for r in shown.relations if r.type == "supports")
    ends = [s.key for s in shown.spans if s.endpoint in (relation.source, relation.target)]
    suggestions_accept(annotation_set=demo_set, keys=ends, expected_version=0, user=user)
    # Both ends drawn now: the relation alone goes through relation_create.
    again = set_suggestions(annotation_set=demo_set, user=user)
    assert relation.key in {r.key for r in again.relations}
    accepted = suggestions_accept(annotation_set=demo_set, keys=[relation.key],
                                  expected_version=1, user=user)
    assert len(accepted.relations) == 1 and not accepted.spans
    annotation_set_undo(annotation_set=demo_set, expected_version=2, user=user)
    assert not demo_set.relations.exists() and demo_set.spans.count() == 2


def test_accept_all_takes_what_reaches_the_threshold_as_one_edit(demo_set, members, project):
    user = members["annotator"]
    suggestion_settings_update(project=project, enabled=True, recommenders=["cues"],
                               accept_threshold=0.8)
    accepted = suggestions_accept_all(annotation_set=demo_set, expected_version=0, user=user)
    assert [s.label.name for s in accepted.spans] == ["Reason"] * 5
    assert accepted.relations == []  # the major claim (0.65) was not accepted
    assert demo_set.actions.count() == 1
    with pytest.raises(WarrantError, match="no suggestion is at least 80% confident"):
        suggestions_accept_all(annotation_set=demo_set, expected_version=1, user=user)


def test_a_stale_or_unknown_suggestion_changes_nothing(demo_set, members):
    user = members["annotator"]
    with pytest.raises(WarrantError, match="no longer shown"):
        suggestions_accept(annotation_set=demo_set, keys=["span:Reason:0:4"],
                           expected_version=0, user=user)
    from annotator.services.errors import ConflictError

    with pytest.raises(ConflictError):
        suggestions_accept(annotation_set=demo_set, keys=[_key(demo_set, "Reason", REASON_1)],
                           expected_version=7, user=user)
    demo_set.refresh_from_db()
    assert demo_set.version == 0 and not demo_set.spans.exists()


# --------------------------------------------------------------------------- the model


def _annotated_briefs(project, count, username="alice", *, first=0):
    docs = []
    for seed in range(first, first + count):
        brief = make_brief(seed)
        doc = DocumentFactory(project=project, external_id=f"b{seed}", text=brief.text)
        annotate(project, doc, username, brief.spans, brief.relations)
        docs.append(doc)
    AnnotationSet.objects.filter(document__project=project).update(status="submitted")
    return docs


def test_a_model_is_trained_as_a_job_row_with_its_held_out_figures(project, members):
    docs = _annotated_briefs(project, 10)
    model = suggestion_model_request(project=project, requested_by=members["manager"])
    model.refresh_from_db()  # the test settings run tasks in-process, at the commit
    # pytest-django's transaction never commits: run the task's body directly.
    if model.status == JobStatus.PENDING:
        from annotator.services.suggestions import suggestion_model_train

        suggestion_model_train(model_id=model.pk)
        model.refresh_from_db()
    assert model.status == JobStatus.DONE, model.error
    assert model.progress == 1.0 and model.training_seconds > 0
    assert sorted(model.documents) == sorted(d.pk for d in docs)
    assert model.sets == 10 and model.spans == sum(len(make_brief(s).spans) for s in range(10))
    assert model.data_version == reference_data(project).data_version
    assert model.heldout["documents"] == 2 and model.heldout["exact"]["f1"] > 0.5
    assert model.model[:4] == b"WSM1"


def test_training_with_too_few_documents_fails_visibly(project, members):
    _annotated_briefs(project, 1)
    from annotator.services.suggestions import suggestion_model_train

    model = SuggestionModel.objects.create(project=project)
    suggestion_model_train(model_id=model.pk)
    model.refresh_from_db()
    assert model.status == JobStatus.FAILED
    assert "1 document(s) with submitted work or a final gold" in model.error
    # Running it again leaves the finished job alone.
    suggestion_model_train(model_id=model.pk)
    assert SuggestionModel.objects.get(pk=model.pk).error == model.error


def test_a_final_gold_stands_for_its_documents_sets(project, members):
    docs = _annotated_briefs(project, 2)
    gold = annotate(project, docs[0], "goldmaker", [(0, 8, "Claim")])
    AnnotationSet.objects.filter(pk=gold.pk).update(annotator=None, is_gold=True,
                                                   gold_final=True, status="submitted")
    data = reference_data(project)
    assert data.reference == "gold and submitted sets" and data.sets == 2
    first = next(d for d in data.documents if d.group == docs[0].external_id)
    assert [(e.start, e.end, e.label) for e in first.spans] == [(0, 8, "Claim")]


def test_new_submissions_retrain_the_model_after_the_configured_number(
        project, members, django_capture_on_commit_callbacks):
    suggestion_settings_update(project=project, enabled=True, recommenders=["cues", "model"],
                               retrain_after=2)
    _annotated_briefs(project, 3)
    SuggestionModel.objects.create(project=project, status=JobStatus.DONE, submissions=3)
    extra = _annotated_briefs(project, 2, first=50)
    AnnotationSet.objects.filter(document__in=extra).update(status="in_progress")
    for doc, expected in zip(extra, (0, 1), strict=True):
        aset = AnnotationSet.objects.get(document=doc)
        with django_capture_on_commit_callbacks(execute=True):
            annotation_set_submit(annotation_set=aset, expected_version=aset.version)
        pending = SuggestionModel.objects.filter(project=project, automatic=True).count()
        assert pending == expected


# --------------------------------------------------------------------------- the blind rule


def test_in_a_blind_project_the_model_does_not_suggest_on_a_brief_it_learned_from(
        project, members):
    from annotator.services.suggestions import suggestion_model_train

    suggestion_settings_update(project=project, enabled=True, recommenders=["model"])
    docs = _annotated_briefs(project, 4)
    model = SuggestionModel.objects.create(project=project)
    suggestion_model_train(model_id=model.pk)
    assert SuggestionModel.objects.get(pk=model.pk).status == JobStatus.DONE
    learned_from = docs[0]
    bob = AnnotationSetFactory(document=learned_from, annotator=members["annotator"])
    shown = set_suggestions(annotation_set=bob, user=members["annotator"])
    assert shown.shown and shown.spans == []
    assert "the blind rule" in shown.notes[0]
    # A new brief: the model suggests there.
    fresh = DocumentFactory(project=project, text=make_brief(77).text)
    mine = AnnotationSetFactory(document=fresh, annotator=members["annotator"])
    assert set_suggestions(annotation_set=mine, user=members["annotator"]).spans
    # A manager, who reads every set of the brief anyway, gets them on the learned brief.
    manager_set = AnnotationSetFactory(document=learned_from, annotator=members["manager"])
    assert set_suggestions(annotation_set=manager_set, user=members["manager"]).spans
