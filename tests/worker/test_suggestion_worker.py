"""A suggestion model trained on a real Celery worker (issue 16, point 1): the job row
shows its status and progress while it runs, and ends with the model, its data
version, training time and held-out figures; the model then suggests."""

from __future__ import annotations

import pytest

from annotator.models import AnnotationSet, JobStatus, SuggestionModel
from annotator.selectors.suggestions import reference_data, set_suggestions
from annotator.services.suggestions import suggestion_model_request, suggestion_settings_update
from tests.agreement_helpers import annotate, celery_broker
from tests.factories import AnnotationSetFactory, DocumentFactory
from tests.live import wait_until
from tests.suggestion_briefs import make_brief

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

RUN_TIMEOUT = 120


def test_a_worker_trains_the_model_with_progress_and_held_out_figures(
    project, members, queue, start_worker, redis_url
):
    for seed in range(12):
        brief = make_brief(seed)
        doc = DocumentFactory(project=project, external_id=f"b{seed}", text=brief.text)
        annotate(project, doc, "alice", brief.spans, brief.relations)
    AnnotationSet.objects.filter(document__project=project).update(status="submitted")
    worker = start_worker(queue, extra_env={"WARRANT_SUGGESTION_TEST_DELAY": "1.5"})
    with celery_broker(redis_url, queue=queue):
        model = suggestion_model_request(project=project, requested_by=members["manager"])
    assert SuggestionModel.objects.get(pk=model.pk).status == JobStatus.PENDING
    wait_until(lambda: SuggestionModel.objects.filter(pk=model.pk,
                                                      status=JobStatus.RUNNING).exists(),
               RUN_TIMEOUT, "the worker to start training", [worker])
    wait_until(lambda: SuggestionModel.objects.filter(pk=model.pk, status=JobStatus.DONE).exists()
               or SuggestionModel.objects.filter(pk=model.pk, status=JobStatus.FAILED).exists(),
               RUN_TIMEOUT, "the worker to finish training", [worker])
    model.refresh_from_db()
    assert model.status == JobStatus.DONE, model.error
    assert model.progress == 1.0 and model.attempts == 1 and model.finished_at
    assert model.sets == 12 and len(model.documents) == 12
    assert model.data_version == reference_data(project).data_version
    assert model.training_seconds > 0
    assert model.heldout["documents"] == 2 and model.heldout["exact"]["f1"] > 0.5
    # The web process applies what the worker trained.
    suggestion_settings_update(project=project, enabled=True, recommenders=["model"])
    fresh = DocumentFactory(project=project, text=make_brief(90).text)
    mine = AnnotationSetFactory(document=fresh, annotator=members["annotator"])
    shown = set_suggestions(annotation_set=mine, user=members["annotator"])
    assert {s.recommender for s in shown.spans} == {"model"} and shown.relations
