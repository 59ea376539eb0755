"""Writes for suggestions: the project's settings, training models, accepting and
dismissing a set's suggestions.

Accepting goes through the annotation services (``span_create``,
``relation_create``, ``spans_and_relations_create``): an accepted suggestion is
an ordinary span, checked, versioned and undone like any other, that remembers
the recommender it came from (``Span.suggested_by``). Only what the set shows
now can be accepted, so that the mark is true. Dismissing is not an edit of the
set: it needs no version, and the dismissed suggestion does not come back in
that set.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotator.models import (
    AnnotationSet,
    DismissedSuggestion,
    JobStatus,
    Membership,
    Project,
    RelationType,
    Role,
    Span,
    SpanLabel,
    SuggestionAudience,
    SuggestionModel,
    SuggestionSettings,
)
from annotator.selectors.projects import project_schema
from annotator.selectors.suggestions import (
    SetSuggestions,
    reference_data,
    reference_sets_documents,
    set_suggestions,
    submissions_count,
    suggestion_settings,
)
from annotator.suggest.types import RECOMMENDERS, Endpoint

from .annotations import NewSpan, relation_create, span_create, spans_and_relations_create
from .errors import WarrantError
from .jobs import job_enqueue, slow_down_for_tests

logger = logging.getLogger(__name__)

#: A project learns from at least this many documents; fewer teach a CRF nothing.
MIN_TRAINING_DOCUMENTS = 2
#: The share of documents held out to measure a model, when there are enough of them.
HELDOUT_SHARE = 0.2
#: Held-out figures need at least this many documents (else the model is measured on none).
MIN_DOCUMENTS_FOR_HELDOUT = 5
#: The external recommender may take this long at most (seconds): the page waits for it.
MAX_EXTERNAL_TIMEOUT = 30.0
#: A model's progress is written at most this often (seconds).
PROGRESS_WRITE_INTERVAL = 0.5


# --------------------------------------------------------------------------- settings


def external_url_allowed(url: str) -> bool:
    """Whether the site lets projects use ``url`` (``WARRANT_SUGGEST_EXTERNAL_URLS``).

    The web process posts briefs to that address, so the site's operator lists the
    prefixes a manager may choose; none are allowed when the list is empty.
    """
    return any(url.startswith(prefix) for prefix in settings.WARRANT_SUGGEST_EXTERNAL_URLS)


@transaction.atomic
def suggestion_settings_update(
    *,
    project: Project,
    enabled: bool,
    recommenders: Sequence[str],
    audience: str = SuggestionAudience.ALL,
    chosen: Sequence[str] = (),
    retrain_after: int = 10,
    min_confidence: float = 0.3,
    accept_threshold: float = 0.6,
    external_url: str = "",
    external_timeout: float = 5.0,
) -> SuggestionSettings:
    """Set how the project suggests. ``chosen`` are annotators' usernames.

    Raises WarrantError naming the first bad value; nothing changes then.
    """
    recommenders = list(dict.fromkeys(recommenders))
    unknown = [r for r in recommenders if r not in RECOMMENDERS]
    if unknown:
        raise WarrantError(f"unknown recommender {unknown[0]!r}: choose among "
                           f"{', '.join(RECOMMENDERS)}")
    if enabled and not recommenders:
        raise WarrantError("choose at least one recommender to turn suggestions on")
    if audience not in SuggestionAudience.values:
        raise WarrantError(f"unknown audience {audience!r}: all or chosen")
    for name, value in (("the shown threshold", min_confidence),
                        ("the accept-all threshold", accept_threshold)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise WarrantError(f"{name} must be a number from 0 to 1")
    if isinstance(retrain_after, bool) or not isinstance(retrain_after, int) or not (
            0 <= retrain_after <= 100_000):
        raise WarrantError("retrain after must be a whole number of submissions (0: never)")
    external_url = (external_url or "").strip()
    if "external" in recommenders and not external_url:
        raise WarrantError("the external recommender needs its address (URL)")
    if external_url:
        if not external_url.startswith(("http://", "https://")):
            raise WarrantError("the external recommender's address must start with http:// or "
                               "https://")
        if not external_url_allowed(external_url):
            raise WarrantError(
                "this site does not allow that external recommender: its operator lists the "
                "allowed addresses in WARRANT_SUGGEST_EXTERNAL_URLS")
    if (isinstance(external_timeout, bool) or not isinstance(external_timeout, int | float)
            or not 0 < external_timeout <= MAX_EXTERNAL_TIMEOUT):
        raise WarrantError(f"the external timeout must be more than 0 and at most "
                           f"{MAX_EXTERNAL_TIMEOUT:g} seconds")
    users = []
    if audience == SuggestionAudience.CHOSEN:
        names = sorted(set(chosen))
        members = dict(Membership.objects.filter(
            project=project, role=Role.ANNOTATOR, user__username__in=names
        ).values_list("user__username", "user_id"))
        missing = [n for n in names if n not in members]
        if missing:
            raise WarrantError(f"{missing[0]!r} is not an annotator of this project")
        users = list(members.values())
    row, _ = SuggestionSettings.objects.get_or_create(project=project)
    row.enabled = bool(enabled)
    row.recommenders = recommenders
    row.audience = audience
    row.retrain_after = retrain_after
    row.min_confidence = float(min_confidence)
    row.accept_threshold = float(accept_threshold)
    row.external_url = external_url
    row.external_timeout = float(external_timeout)
    row.save()
    row.chosen.set(users)
    if row.enabled and "model" in recommenders:
        transaction.on_commit(partial(_train_if_due, project.pk))
    return row


def suggestion_audience_half(*, project: Project, seed: int | None = None) -> list[str]:
    """Choose half of the project's annotators at random (rounded down) to see suggestions;
    their usernames, sorted. The other half annotates without, for comparison."""
    names = sorted(Membership.objects.filter(project=project, role=Role.ANNOTATOR)
                   .values_list("user__username", flat=True))
    picked = sorted(random.Random(seed).sample(names, len(names) // 2))
    return picked


# --------------------------------------------------------------------------- training


def _enqueue(model_id: int) -> None:
    from annotator.tasks import suggestion_model_train_task  # tasks import this module

    job_enqueue(suggestion_model_train_task, SuggestionModel, model_id, what="training")


@transaction.atomic
def suggestion_model_request(
    *, project: Project, requested_by=None, automatic: bool = False
) -> SuggestionModel:
    """Ask for a model trained on the project's work now; the training job's row.

    The job runs on the worker once this transaction commits. When a job is
    already waiting, that one is returned: it will read the newest work too.
    """
    for _ in range(3):
        pending = suggestion_models_pending(project)
        if pending is not None:
            return pending
        try:
            with transaction.atomic():
                row = SuggestionModel.objects.create(
                    project=project, requested_by=requested_by, automatic=automatic,
                    submissions=submissions_count(project),
                )
        except IntegrityError:
            continue
        transaction.on_commit(partial(_enqueue, row.pk))
        return row
    raise WarrantError("training is being requested concurrently; try again")


def suggestion_models_pending(project: Project) -> SuggestionModel | None:
    return (SuggestionModel.objects.filter(project=project, status=JobStatus.PENDING)
            .defer("model").first())


def _train_if_due(project_id: int) -> SuggestionModel | None:
    """Request a model when the project uses one and enough new work came in."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return None
    row = suggestion_settings(project)
    if not (row.enabled and "model" in row.recommenders):
        return None
    last = (SuggestionModel.objects.filter(project=project)
            .exclude(status=JobStatus.FAILED).order_by("-id")
            .values_list("submissions", flat=True).first())
    count = submissions_count(project)
    if last is None:  # the first model, as soon as there is enough to learn from
        due = len(reference_sets_documents(project)) >= MIN_TRAINING_DOCUMENTS
    else:
        due = row.retrain_after > 0 and count - last >= row.retrain_after
    if not due:
        return None
    return suggestion_model_request(project=project, automatic=True)


def suggestions_after_submission(*, project_id: int) -> SuggestionModel | None:
    """Retrain after ``retrain_after`` new submissions (a few small queries; never raises).

    Called through ``transaction.on_commit`` by ``annotation_set_submit``.
    """
    try:
        with transaction.atomic():
            return _train_if_due(project_id)
    except Exception:
        logger.exception("could not request a suggestion model for project %s", project_id)
        return None


class _Progress:
    def __init__(self, model_id: int):
        self.model_id = model_id
        self.last = 0.0

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_WRITE_INTERVAL:
            self.last = now
            SuggestionModel.objects.filter(pk=self.model_id, status=JobStatus.RUNNING).update(
                progress=min(max(float(fraction), 0.0), 1.0))


def suggestion_model_train(*, model_id: int) -> SuggestionModel | None:
    """Train model ``model_id`` (idempotent: a finished job is left alone).

    With enough documents, a share of them (``HELDOUT_SHARE``, chosen by a hash of
    their ids, so the same from one training to the next) is held out: a first model
    learns from the rest and is measured on them; then the stored model learns from
    every document.
    """
    from annotator.suggest.evaluate import Tally
    from annotator.suggest.learned import train_model

    started = SuggestionModel.objects.filter(
        pk=model_id, status__in=[JobStatus.PENDING, JobStatus.RUNNING]
    ).update(status=JobStatus.RUNNING, started_at=timezone.now(), progress=0.0)
    if not started:
        return SuggestionModel.objects.filter(pk=model_id).defer("model").first()
    row = SuggestionModel.objects.select_related("project").defer("model").get(pk=model_id)
    SuggestionModel.objects.filter(pk=model_id).update(attempts=row.attempts + 1)
    progress = _Progress(model_id)
    try:
        slow_down_for_tests("WARRANT_SUGGESTION_TEST_DELAY")
        project = row.project
        schema = project_schema(project)
        data = reference_data(project)
        groups = sorted({d.group for d in data.documents})
        if len(groups) < MIN_TRAINING_DOCUMENTS:
            raise WarrantError(
                f"the project has {len(groups)} document(s) with submitted work or a final "
                f"gold; a model needs at least {MIN_TRAINING_DOCUMENTS}")
        began = time.perf_counter()
        heldout = None
        if len(groups) >= MIN_DOCUMENTS_FOR_HELDOUT:
            held = set(sorted(groups, key=_stable_hash)[: max(1, round(HELDOUT_SHARE
                                                                       * len(groups)))])
            model, _ = train_model([d for d in data.documents if d.group not in held], schema,
                                   progress=lambda f: progress(0.4 * f))
            tally = Tally()
            cache = {}
            for doc in data.documents:
                if doc.group in held:
                    if doc.text not in cache:
                        cache[doc.text] = model.suggest(doc.text, schema)
                    tally.add(cache[doc.text], doc)
            heldout = {**tally.figures(), "documents": len(held),
                       "training_documents": len(groups) - len(held),
                       "reference": data.reference}
            final, report = train_model(data.documents, schema,
                                        progress=lambda f: progress(0.45 + 0.55 * f))
        else:
            final, report = train_model(data.documents, schema, progress=progress)
        seconds = time.perf_counter() - began
        SuggestionModel.objects.filter(pk=model_id).update(
            status=JobStatus.DONE, progress=1.0, model=final.to_bytes(),
            data_version=data.data_version, documents=data.document_ids, sets=data.sets,
            spans=report.spans, training_seconds=round(seconds, 3), heldout=heldout,
            error="", finished_at=timezone.now(),
        )
    except Exception as exc:
        if not isinstance(exc, WarrantError):
            logger.exception("training suggestion model %s failed", model_id)
        SuggestionModel.objects.filter(pk=model_id).update(
            status=JobStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now())
    return SuggestionModel.objects.filter(pk=model_id).defer("model").first()


def _stable_hash(name: str) -> str:
    import hashlib

    return hashlib.sha256(name.encode()).hexdigest()


# --------------------------------------------------------------------------- accepting


@dataclass(frozen=True)
class Accepted:
    spans: list[Span]
    relations: list
    message: str


def _find(shown: SetSuggestions, keys: Sequence[str]):
    spans = {s.key: s for s in shown.spans}
    relations = {r.key: r for r in shown.relations}
    wanted_spans, wanted_relations = [], []
    for key in dict.fromkeys(keys):
        if key in spans:
            wanted_spans.append(spans[key])
        elif key in relations:
            wanted_relations.append(relations[key])
        else:
            raise WarrantError("that suggestion is no longer shown (it was accepted, "
                               "dismissed or changed): reload the suggestions")
    return wanted_spans, wanted_relations


@transaction.atomic
def suggestions_accept(
    *,
    annotation_set: AnnotationSet,
    keys: Sequence[str],
    expected_version: int,
    user=None,
) -> Accepted:
    """Accept the suggestions ``keys`` (each a suggestion's ``key``) as one edit.

    A relation whose end is a suggestion brings that suggestion along. One span
    goes through ``span_create``, one relation between drawn spans through
    ``relation_create``, anything more through ``spans_and_relations_create``:
    one undo takes it back whole.
    """
    if not keys:
        raise WarrantError("choose a suggestion to accept")
    shown = set_suggestions(annotation_set=annotation_set, user=user)
    if not shown.shown:
        raise WarrantError(shown.reason)
    spans, relations = _find(shown, keys)
    by_end = {s.endpoint: s for s in shown.spans}
    for r in relations:
        for end in (r.source, r.target):
            if end in by_end and by_end[end] not in spans:
                spans.append(by_end[end])
    project_id = annotation_set.document.project_id
    labels = {lab.name: lab for lab in SpanLabel.objects.filter(project_id=project_id)}
    types = {t.name: t for t in RelationType.objects.filter(project_id=project_id)}
    drawn = {}
    if relations:
        for span in Span.objects.filter(annotation_set=annotation_set).select_related("label"):
            drawn.setdefault(Endpoint(span.start, span.end, span.label.name), span)
    if len(spans) == 1 and not relations:
        s = spans[0]
        span = span_create(annotation_set=annotation_set, label=labels[s.label], start=s.start,
                           end=s.end, expected_version=expected_version, user=user,
                           snap=False, suggested_by=s.recommender)
        return Accepted([span], [], f"Accepted the suggested {s.label}.")
    if not spans and len(relations) == 1:
        r = relations[0]
        relation = relation_create(annotation_set=annotation_set, source=drawn[r.source],
                                   target=drawn[r.target], type=types[r.type],
                                   expected_version=expected_version, user=user)
        return Accepted([], [relation], f"Accepted the suggested {r.type} relation.")
    index = {s.endpoint: k for k, s in enumerate(spans)}

    def ref(end: Endpoint):
        return index[end] if end in index else drawn[end]

    created, made = spans_and_relations_create(
        annotation_set=annotation_set,
        spans=[NewSpan(labels[s.label], s.start, s.end, s.recommender) for s in spans],
        relations=[(ref(r.source), ref(r.target), types[r.type]) for r in relations],
        expected_version=expected_version, user=user,
    )
    return Accepted(created, made, f"Accepted {len(created)} suggested span(s) and "
                                   f"{len(made)} relation(s).")


def suggestions_accept_all(
    *, annotation_set: AnnotationSet, expected_version: int, user=None,
    threshold: float | None = None,
) -> Accepted:
    """Accept every shown suggestion at least as confident as the project's threshold
    (or ``threshold``), relations included when both their ends are drawn or accepted."""
    shown = set_suggestions(annotation_set=annotation_set, user=user)
    if not shown.shown:
        raise WarrantError(shown.reason)
    floor = shown.accept_threshold if threshold is None else threshold
    spans = [s for s in shown.spans if s.confidence >= floor]
    ends = {s.endpoint for s in spans}
    drawn = set(Span.objects.filter(annotation_set=annotation_set).values_list(
        "start", "end", "label__name"))
    drawn_ends = {Endpoint(*row) for row in drawn}
    relations = [r for r in shown.relations if r.confidence >= floor
                 and all(e in ends or e in drawn_ends for e in (r.source, r.target))]
    if not spans and not relations:
        raise WarrantError(f"no suggestion is at least {floor:.0%} confident")
    return suggestions_accept(annotation_set=annotation_set,
                              keys=[s.key for s in spans] + [r.key for r in relations],
                              expected_version=expected_version, user=user)


@transaction.atomic
def suggestions_dismiss(*, annotation_set: AnnotationSet, keys: Sequence[str], user=None) -> int:
    """Dismiss suggestions in a set (they do not come back there); how many were given."""
    keys = [k for k in dict.fromkeys(keys) if isinstance(k, str) and k]
    if not keys:
        raise WarrantError("choose a suggestion to dismiss")
    for key in keys:
        if len(key) > 400 or not key.startswith(("span:", "relation:")):
            raise WarrantError(f"{key[:60]!r} is not a suggestion")
    user = user if user is not None and getattr(user, "is_authenticated", False) else None
    DismissedSuggestion.objects.bulk_create(
        [DismissedSuggestion(annotation_set=annotation_set, key=k, user=user) for k in keys],
        ignore_conflicts=True,
    )
    return len(keys)


def suggestion_users(project: Project) -> list[str]:
    """Usernames of the annotators chosen to see suggestions."""
    row = suggestion_settings(project)
    if not row.pk:
        return []
    return sorted(row.chosen.values_list("username", flat=True))

