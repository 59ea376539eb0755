"""Reads for suggestions: a project's settings, what a model learns from, and the
suggestions an annotation set shows.

The blind rule. A model trained on a project's submitted sets and final golds is
applied to other briefs freely: what it learned is generalisation, not anyone's
spans. Applied to a brief it learned from, though, a CRF gives back much of the
work it read there, near verbatim. So a model is never applied to a document it
learned from for someone who may not read every set of that document (an
annotator in a blind project, or anyone but managers and curators, who read the
gold). Cues and the external recommender see only the text, the schema and the
annotator's own spans, so they are not limited.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

from annotator.formats.schema import SchemaSpec
from annotator.models import (
    AnnotationSet,
    AnnotationStatus,
    DismissedSuggestion,
    Document,
    JobStatus,
    Project,
    Relation,
    RelationType,
    Span,
    SpanLabel,
    SuggestionAudience,
    SuggestionModel,
    SuggestionSettings,
)
from annotator.suggest.types import (
    AnnotatedDocument,
    Endpoint,
    RecommenderError,
    RelationSuggestion,
    SpanSuggestion,
)

from .permissions import has_permission
from .projects import project_schema

logger = logging.getLogger(__name__)

#: Loaded models kept per process (a model is a few MB; a worker or web process
#: serves a handful of projects at a time).
MODEL_CACHE_SIZE = 4
_models: OrderedDict[int, object] = OrderedDict()


def suggestion_settings(project: Project) -> SuggestionSettings:
    """The project's settings (unsaved defaults, suggestions off, when never set)."""
    found = SuggestionSettings.objects.filter(project=project).first()
    return found or SuggestionSettings(project=project)


# --------------------------------------------------------------------------- training data


@dataclass
class ReferenceData:
    """What a model learns from, or what suggestions are scored against."""

    documents: list[AnnotatedDocument]
    document_ids: list[int]
    data_version: str
    #: "gold", "submitted sets" or "gold and submitted sets": what the reference was.
    reference: str
    sets: int = 0


def reference_sets(project: Project, *, document_ids: Sequence[int] | None = None):
    """(set id, document id, version) of each document's reference: its final gold when
    it has one, else its submitted sets."""
    sets = AnnotationSet.objects.filter(document__project=project)
    if document_ids is not None:
        sets = sets.filter(document_id__in=list(document_ids))
    gold = list(sets.filter(is_gold=True, gold_final=True).order_by()
                .values_list("id", "document_id", "version"))
    gold_docs = {doc for _, doc, _ in gold}
    submitted = [row for row in sets.filter(is_gold=False, status=AnnotationStatus.SUBMITTED)
                 .order_by().values_list("id", "document_id", "version")
                 if row[1] not in gold_docs]
    return gold, submitted


def reference_sets_documents(project: Project) -> set[int]:
    """The ids of the documents that have submitted work or a final gold."""
    gold, submitted = reference_sets(project)
    return {doc for _, doc, _ in gold + submitted}


def submissions_count(project: Project) -> int:
    """Submitted sets and final golds: what a retraining threshold counts."""
    return AnnotationSet.objects.filter(document__project=project).filter(
        status=AnnotationStatus.SUBMITTED).exclude(is_gold=True, gold_final=False).count()


def reference_data(project: Project, *, document_ids: Sequence[int] | None = None
                   ) -> ReferenceData:
    """Every document's reference sets as :class:`AnnotatedDocument` (one per set)."""
    gold, submitted = reference_sets(project, document_ids=document_ids)
    rows = gold + submitted
    digest = hashlib.sha256()
    for set_id, _, version in sorted(rows):
        digest.update(f"{set_id}:{version};".encode())
    kind = ("gold and submitted sets" if gold and submitted
            else "gold" if gold else "submitted sets")
    doc_ids = sorted({doc for _, doc, _ in rows})
    docs = dict(((pk, (ext, text)) for pk, ext, text in
                 Document.objects.filter(pk__in=doc_ids).values_list("id", "external_id",
                                                                      "text")))
    labels = dict(SpanLabel.objects.filter(project=project).values_list("id", "name"))
    types = dict(RelationType.objects.filter(project=project).values_list("id", "name"))
    set_ids = [set_id for set_id, _, _ in rows]
    spans: dict[int, list[tuple[int, Endpoint]]] = {set_id: [] for set_id in set_ids}
    for set_id, span_id, start, end, label_id in (
        Span.objects.filter(annotation_set_id__in=set_ids).order_by("start", "-end", "id")
        .values_list("annotation_set_id", "id", "start", "end", "label_id")
        .iterator(chunk_size=10_000)
    ):
        spans[set_id].append((span_id, Endpoint(start, end, labels[label_id])))
    relations: dict[int, list[tuple[int, int, str]]] = {set_id: [] for set_id in set_ids}
    for set_id, source, target, type_id in (
        Relation.objects.filter(annotation_set_id__in=set_ids).order_by("id")
        .values_list("annotation_set_id", "source_id", "target_id", "type_id")
        .iterator(chunk_size=10_000)
    ):
        relations[set_id].append((source, target, types[type_id]))
    out = []
    for set_id, doc_id, _ in sorted(rows, key=lambda r: (r[1], r[0])):
        index = {span_id: k for k, (span_id, _) in enumerate(spans[set_id])}
        external_id, text = docs[doc_id]
        out.append(AnnotatedDocument(
            text,
            tuple(e for _, e in spans[set_id]),
            tuple((index[s], index[t], kind_) for s, t, kind_ in relations[set_id]),
            group=external_id,
        ))
    return ReferenceData(out, doc_ids, digest.hexdigest(), kind, sets=len(rows))


# --------------------------------------------------------------------------- models


def latest_model(project: Project) -> SuggestionModel | None:
    """The newest trained model of the project (without its bytes), or None."""
    return (SuggestionModel.objects.filter(project=project, status=JobStatus.DONE)
            .defer("model").order_by("-finished_at", "-id").first())


def suggestion_models(project: Project):
    return SuggestionModel.objects.filter(project=project).defer("model")


def loaded_model(row: SuggestionModel):
    """The :class:`~annotator.suggest.learned.LearnedModel` of a row, loaded once per process."""
    from annotator.suggest.learned import LearnedModel

    model = _models.get(row.pk)
    if model is None:
        data = SuggestionModel.objects.filter(pk=row.pk).values_list("model", flat=True).first()
        model = LearnedModel.from_bytes(bytes(data or b""))
        _models[row.pk] = model
        while len(_models) > MODEL_CACHE_SIZE:
            _models.popitem(last=False)
    _models.move_to_end(row.pk)
    return model


# --------------------------------------------------------------------------- a set's suggestions


@dataclass
class SetSuggestions:
    """What a set shows: suggestions, or why there are none (``reason``)."""

    shown: bool
    reason: str = ""
    spans: list[SpanSuggestion] = field(default_factory=list)
    relations: list[RelationSuggestion] = field(default_factory=list)
    #: One line per recommender that could not answer (the external server's timeout...).
    errors: list[str] = field(default_factory=list)
    #: One line per recommender left out on purpose (the blind rule, no model yet).
    notes: list[str] = field(default_factory=list)
    accept_threshold: float = 0.6
    model: SuggestionModel | None = None


def shows_suggestions(settings_row: SuggestionSettings, annotation_set: AnnotationSet) -> str:
    """Why ``annotation_set`` shows no suggestions ("" when it shows them)."""
    if not settings_row.enabled or not settings_row.recommenders:
        return "Suggestions are off in this project."
    if annotation_set.is_gold:
        return "Suggestions are for annotators' sets, not the gold standard."
    if settings_row.audience == SuggestionAudience.CHOSEN and not (
        settings_row.pk and settings_row.chosen.filter(pk=annotation_set.annotator_id).exists()
    ):
        return "This project shows suggestions to some annotators only, not in this set."
    return ""


def recommenders_for(
    *, project: Project, settings_row: SuggestionSettings, names: Sequence[str],
    document: Document, user=None, notes: list[str] | None = None,
) -> list:
    """The recommenders ``names`` for a document, as ``user`` may use them.

    ``notes`` collects why a chosen recommender was left out. ``user`` None is the
    command line, which reads everything.
    """
    from annotator.suggest.cues import CueRecommender
    from annotator.suggest.external import ExternalRecommender

    notes = notes if notes is not None else []
    out = []
    for name in names:
        if name == "cues":
            out.append(CueRecommender())
        elif name == "model":
            row = latest_model(project)
            if row is None:
                notes.append("The project's model is not trained yet.")
            elif (document.pk in set(row.documents) and user is not None
                  and not has_permission(user, project, "annotation_set.view_any")):
                notes.append("The model learned from other people's work on this brief, "
                             "so it does not suggest here (the blind rule).")
            else:
                out.append(loaded_model(row))
        elif name == "external":
            if not settings_row.external_url:
                notes.append("No external recommender is configured.")
            else:
                out.append(ExternalRecommender(settings_row.external_url,
                                               timeout=settings_row.external_timeout,
                                               document_id=document.external_id))
    return out


def set_suggestions(*, annotation_set: AnnotationSet, user, schema: SchemaSpec | None = None,
                    hide_drawn: bool = True) -> SetSuggestions:
    """The suggestions ``annotation_set`` shows ``user`` now (a fixed number of queries).

    The caller has checked that ``user`` may read the set. Suggestions that repeat a
    span or relation of the set, that the annotator dismissed, or that are less
    confident than the project's threshold are left out (those that repeat a drawn
    span stay with ``hide_drawn`` False).
    """
    from annotator.suggest.combine import combine

    document = annotation_set.document
    project = document.project
    settings_row = suggestion_settings(project)
    why = shows_suggestions(settings_row, annotation_set)
    if why:
        return SetSuggestions(shown=False, reason=why)
    schema = schema or project_schema(project)
    result = SetSuggestions(shown=True, accept_threshold=settings_row.accept_threshold)
    recommenders = recommenders_for(project=project, settings_row=settings_row,
                                    names=settings_row.recommenders, document=document,
                                    user=user, notes=result.notes)
    labels = dict(SpanLabel.objects.filter(project=project).values_list("id", "name"))
    types = dict(RelationType.objects.filter(project=project).values_list("id", "name"))
    drawn_rows = {pk: Endpoint(start, end, labels[label]) for pk, start, end, label in
                  Span.objects.filter(annotation_set=annotation_set).order_by()
                  .values_list("id", "start", "end", "label_id")}
    drawn_relations = [(drawn_rows[s], drawn_rows[t], types[k]) for s, t, k in
                       Relation.objects.filter(annotation_set=annotation_set).order_by()
                       .values_list("source_id", "target_id", "type_id")]
    dismissed = set(DismissedSuggestion.objects.filter(annotation_set=annotation_set)
                    .values_list("key", flat=True))
    drawn = tuple(sorted(set(drawn_rows.values())))
    answers = []
    for recommender in recommenders:
        try:
            answers.append(recommender.suggest(document.text, schema, drawn=drawn))
        except RecommenderError as exc:
            result.errors.append(str(exc))
        except Exception as exc:  # a recommender's bug must not break the annotation page
            logger.exception("recommender %s failed on set %s", recommender.name,
                             annotation_set.pk)
            result.errors.append(f"the {recommender.name} recommender failed: {exc}")
    combined = combine(answers, drawn=drawn, drawn_relations=drawn_relations,
                       dismissed=dismissed, keep_drawn=not hide_drawn)
    floor = settings_row.min_confidence
    result.spans = [s for s in combined.spans if s.confidence >= floor]
    kept = {s.endpoint for s in result.spans} | set(drawn)
    result.relations = [r for r in combined.relations if r.confidence >= floor
                        and r.source in kept and r.target in kept]
    return result


# --------------------------------------------------------------------------- evaluation


def suggestion_evaluation(
    *, project: Project, names: Sequence[str], folds: int = 5, progress=None
) -> dict:
    """Each recommender's figures against the project's reference work (suggest/evaluate.py).

    Cues and the external recommender are scored on every document; the model by
    K-fold cross-validation by document with its learning curve. The same JSON as
    ``manage.py suggest SLUG --evaluate --json``.
    """
    from annotator.suggest.evaluate import by_label, cross_validate, evaluate_fixed
    from annotator.suggest.learned import train_model

    schema = project_schema(project)
    data = reference_data(project)
    settings_row = suggestion_settings(project)
    out = {"project": project.slug, "documents": len(data.document_ids), "sets": data.sets,
           "reference": data.reference, "reference_spans": by_label(data.documents),
           "folds": folds, "recommenders": {}}
    if not data.documents:
        raise ValueError("the project has no submitted work or final gold to compare with")
    say = progress or (lambda line: None)
    for name in names:
        say(name)
        if name == "cues":
            from annotator.suggest.cues import CueRecommender

            out["recommenders"][name] = evaluate_fixed(CueRecommender(), data.documents, schema)
        elif name == "external":
            if not settings_row.external_url:
                out["recommenders"][name] = {"error": "no external recommender is configured"}
                continue
            from annotator.suggest.external import ExternalRecommender

            out["recommenders"][name] = evaluate_fixed(
                ExternalRecommender(settings_row.external_url,
                                    timeout=settings_row.external_timeout),
                data.documents, schema)
        elif name == "model":
            out["recommenders"][name] = cross_validate(
                lambda docs: train_model(docs, schema)[0], data.documents, schema, folds=folds)
        else:
            raise ValueError(f"unknown recommender {name!r}")
    return out


# --------------------------------------------------------------------------- study figures

#: The two groups of spans the figures are split into.
SPLIT_GROUPS = ("suggested", "hand")


def suggestion_split(*, project: Project, set_ids: Sequence[int]) -> dict | None:
    """Agreement split by spans that came from an accepted suggestion and spans drawn by hand.

    For the submitted sets ``set_ids`` (an agreement run's), per group: ``spans``;
    ``pair_f1_exact``, the span F1 (exact) between every two annotators of a document
    counting only that group's spans on both sides, pooled over pairs and documents
    (``2 sum |A ∩ B| / sum (|A| + |B|)``; exact matching is one to one, since a set holds
    a label on a range once); and ``gold_precision_exact``, the share of the group's
    spans that the document's final gold has exactly (over documents with a final
    gold). None (no section) when no span of these sets came from a suggestion.
    Undefined figures are None. Reads the spans once, streamed: it runs on the worker,
    with the agreement run.
    """
    from itertools import combinations

    rows = (Span.objects.filter(annotation_set_id__in=list(set_ids)).order_by()
            .values_list("annotation_set_id", "annotation_set__document_id", "start", "end",
                         "label_id", "suggested_by"))
    if not Span.objects.filter(annotation_set_id__in=list(set_ids)).exclude(
            suggested_by="").exists():
        return None
    by_doc: dict[int, dict[int, dict[str, set]]] = {}
    recommenders: dict[str, int] = {}
    for set_id, doc_id, start, end, label_id, suggested_by in rows.iterator(chunk_size=10_000):
        group = "suggested" if suggested_by else "hand"
        if suggested_by:
            recommenders[suggested_by] = recommenders.get(suggested_by, 0) + 1
        sets = by_doc.setdefault(doc_id, {})
        sets.setdefault(set_id, {g: set() for g in SPLIT_GROUPS})[group].add(
            (start, end, label_id))
    gold: dict[int, set] = {}
    for doc_id, start, end, label_id in (
            Span.objects.filter(annotation_set__is_gold=True, annotation_set__gold_final=True,
                                annotation_set__document_id__in=list(by_doc)).order_by()
            .values_list("annotation_set__document_id", "start", "end", "label_id")
            .iterator(chunk_size=10_000)):
        gold.setdefault(doc_id, set()).add((start, end, label_id))
    out: dict = {"recommenders": dict(sorted(recommenders.items()))}
    for group in SPLIT_GROUPS:
        spans = matched = sizes = 0
        in_gold = with_gold = 0
        for doc_id, sets in by_doc.items():
            for a, b in combinations(sorted(sets), 2):
                sa, sb = sets[a][group], sets[b][group]
                matched += len(sa & sb)
                sizes += len(sa) + len(sb)
            for spans_of in sets.values():
                mine = spans_of[group]
                spans += len(mine)
                if doc_id in gold:
                    with_gold += len(mine)
                    in_gold += len(mine & gold[doc_id])
        out[group] = {
            "spans": spans,
            "pair_f1_exact": None if sizes == 0 else round(2 * matched / sizes, 4),
            "gold_precision_exact": None if with_gold == 0 else round(in_gold / with_gold, 4),
        }
    return out
