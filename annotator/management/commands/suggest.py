"""``manage.py suggest SLUG [--recommender cues|model|external] [--document ID …] [--json]``
and ``manage.py suggest SLUG --evaluate [--folds K] [--json]``.

The first computes suggestions now, whether or not the project shows them yet; with
``--json`` it prints one JSON object a line: each suggested span (``document``,
``label``, ``start``, ``end``, ``text``, ``confidence``, ``recommender``, ``cue``)
and each suggested relation (``document``, ``type``, ``source``, ``target``, the
ends given by ``start``, ``end`` and ``label``). ``document`` is the document's
id in the project (its external id). The second scores each recommender against
the project's final gold (or its submitted sets where there is no gold), with
K-fold cross-validation by document for the model (docs/suggestions.md).
"""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from annotator.models import Document, JobStatus
from annotator.selectors.suggestions import (
    latest_model,
    recommenders_for,
    suggestion_evaluation,
    suggestion_settings,
)
from annotator.services.suggestions import suggestion_model_request
from annotator.suggest.types import RECOMMENDERS, RecommenderError

from ._base import WarrantCommand, get_project

#: How long --train waits for a worker to finish the job.
TRAIN_TIMEOUT_SECONDS = 600


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_evaluation(report: dict) -> str:
    """The evaluation as plain-text tables, one per recommender."""
    lines = [f"Suggestions of {report['project']}: {report['documents']} document(s), "
             f"reference: {report['reference']} ({report['sets']} set(s))", ""]
    for name, figures in report["recommenders"].items():
        if "error" in figures:
            lines += [f"{name}: {figures['error']}", ""]
            continue
        how = (f"{figures['folds']}-fold cross-validation by document" if "folds" in figures
               else "no training, every document")
        lines.append(f"{name} ({how})")
        labels = sorted(figures["exact"]["per_label"])
        width = max([len("label"), len("all")] + [len(x) for x in labels])
        lines.append(f"{'label':<{width}}  {'exact P':>7} {'exact R':>7} {'exact F1':>8}  "
                     f"{'ovl P':>7} {'ovl R':>7} {'ovl F1':>7}  {'sugg.':>5} {'ref.':>5}")
        rows = [(x, figures["exact"]["per_label"][x], figures["overlap"]["per_label"][x])
                for x in labels] + [("all", figures["exact"], figures["overlap"])]
        for label, exact, overlap in rows:
            lines.append(
                f"{label:<{width}}  {_fmt(exact['precision']):>7} {_fmt(exact['recall']):>7} "
                f"{_fmt(exact['f1']):>8}  {_fmt(overlap['precision']):>7} "
                f"{_fmt(overlap['recall']):>7} {_fmt(overlap['f1']):>7}  "
                f"{exact['suggested']:>5} {exact['reference']:>5}")
        rel = figures["relations"]
        lines.append(f"relations: P {_fmt(rel['precision'])}, R {_fmt(rel['recall'])}, "
                     f"F1 {_fmt(rel['f1'])} ({rel['suggested']} suggested, "
                     f"{rel['reference']} in the reference)")
        for point in figures.get("learning_curve", []):
            lines.append(f"  learning from {point['fraction']:.0%} ({point['documents']:g} "
                         f"document(s) a fold): exact F1 {_fmt(point['exact_f1'])}, overlap F1 "
                         f"{_fmt(point['overlap_f1'])}, relations F1 "
                         f"{_fmt(point['relations_f1'])}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


class Command(WarrantCommand):
    help = "Compute a project's suggestions now, or measure each recommender's quality."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--recommender", choices=RECOMMENDERS, action="append",
                            help="cues, model or external (repeat for several; default: the "
                                 "project's choice, else cues)")
        parser.add_argument("--document", nargs="+", metavar="ID", default=None,
                            help="the documents' ids in the project (default: every document)")
        parser.add_argument("--json", action="store_true",
                            help="one JSON object a line (with --evaluate: one JSON report)")
        parser.add_argument("--evaluate", action="store_true",
                            help="score each recommender against the gold or submitted sets")
        parser.add_argument("--folds", type=int, default=5,
                            help="cross-validation folds for --evaluate (default 5)")
        parser.add_argument("--train", action="store_true",
                            help="train the project's model first (on the worker when one is "
                                 "configured) and wait for it")

    def handle(self, *args, **options):
        project = get_project(options["slug"])
        settings_row = suggestion_settings(project)
        names = options["recommender"] or (
            list(settings_row.recommenders) if settings_row.recommenders else ["cues"])
        if options["folds"] < 2:
            raise CommandError("--folds must be at least 2")
        if options["train"]:
            self._train(project)
        if options["evaluate"]:
            if options["document"]:
                raise CommandError("--evaluate covers every document: leave out --document")
            names = options["recommender"] or list(RECOMMENDERS if settings_row.external_url
                                                   else ("cues", "model"))
            try:
                report = suggestion_evaluation(project=project, names=names,
                                               folds=options["folds"])
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            if options["json"]:
                self.stdout.write(json.dumps(report, ensure_ascii=False))
            else:
                self.stdout.write(format_evaluation(report), ending="")
            return
        documents = self._documents(project, options["document"])
        if "model" in names and latest_model(project) is None:
            raise CommandError("the project has no trained model yet: add --train, or train "
                               "one from the project's Suggestions page")
        from annotator.selectors.projects import project_schema

        schema = project_schema(project)
        for document in documents:
            notes: list[str] = []
            recommenders = recommenders_for(project=project, settings_row=settings_row,
                                            names=names, document=document, notes=notes)
            if notes:
                raise CommandError(notes[0])
            for recommender in recommenders:
                try:
                    found = recommender.suggest(document.text, schema)
                except RecommenderError as exc:
                    raise CommandError(str(exc)) from None
                self._print(document, found, options["json"])

    def _documents(self, project, ids):
        docs = Document.objects.filter(project=project).only("id", "external_id", "text",
                                                            "title")
        if not ids:
            return list(docs.order_by("position", "id"))
        by_external = {d.external_id: d for d in docs.filter(external_id__in=ids)}
        out = []
        for value in ids:
            doc = by_external.get(value)
            if doc is None and value.isdigit():
                doc = docs.filter(pk=int(value)).first()
            if doc is None:
                raise CommandError(f"no document {value!r} in project {project.slug}")
            out.append(doc)
        return out

    def _print(self, document, found, as_json: bool) -> None:
        text = document.text
        doc_id = document.external_id
        if as_json:
            for s in found.spans:
                self.stdout.write(json.dumps({"document": doc_id, **s.to_dict(text)},
                                             ensure_ascii=False))
            for r in found.relations:
                self.stdout.write(json.dumps({"document": doc_id, "type": r.type,
                                              "source": r.source.to_dict(),
                                              "target": r.target.to_dict()},
                                             ensure_ascii=False))
            return
        for s in found.spans:
            excerpt = text[s.start:s.end].replace("\n", " ")
            excerpt = excerpt if len(excerpt) <= 70 else excerpt[:67] + "..."
            self.stdout.write(f"{doc_id}  {s.label:<12} {s.start:>6}-{s.end:<6} "
                              f"{s.confidence:.2f}  {s.recommender}: {s.cue}  | {excerpt}")
        for r in found.relations:
            self.stdout.write(f"{doc_id}  {r.type} {r.source.label}[{r.source.start}-"
                              f"{r.source.end}] -> {r.target.label}[{r.target.start}-"
                              f"{r.target.end}]  {r.confidence:.2f}")

    def _train(self, project) -> None:
        """Train now: in-process in the embedded mode (no broker), else on a worker."""
        import time

        from django.conf import settings
        from django.db import transaction

        from annotator.services.suggestions import suggestion_model_train

        eager = settings.CELERY_TASK_ALWAYS_EAGER
        with transaction.atomic():
            row = suggestion_model_request(project=project)
        if eager:
            suggestion_model_train(model_id=row.pk)
        deadline = time.monotonic() + TRAIN_TIMEOUT_SECONDS
        while True:
            row.refresh_from_db(fields=["status", "error"])
            if row.status in (JobStatus.DONE, JobStatus.FAILED):
                break
            if time.monotonic() > deadline:
                raise CommandError(f"training job #{row.pk} did not finish within "
                                   f"{TRAIN_TIMEOUT_SECONDS} s (is a worker running?)")
            time.sleep(0.5)
        if row.status == JobStatus.FAILED:
            raise CommandError(f"training failed: {row.error}")
        self.stderr.write(f"Trained model #{row.pk}.")
