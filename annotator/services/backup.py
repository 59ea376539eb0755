"""Back a project up to one file and restore it into another (or the same) instance.

The file is gzip-compressed JSON Lines, one record a line, so that a project
of any size is written and read a document at a time::

    {"format": "warrant-backup", "version": 1, "warrant": "0.1.0", "created_at": "…",
     "project": "slug"}                                   header
    {"kind": "project", …every field of Project…}
    {"kind": "span_label", …}  {"kind": "relation_type", …}        the schema
    {"kind": "user", "username": …, "password": "<hash>", …}       members and authors
    {"kind": "membership", "user": "alice", "role": "annotator", …}
    {"kind": "document", …, "original": "<base64>",
     "annotation_sets": [{…, "spans": […], "relations": […], "actions": […]}]}
    {"kind": "agreement_run", …, "requested_by": "instructor", …}
    {"kind": "end", "counts": {…}}                         proves the file is whole

Design note (ids). The file holds no database id. Users are named by username,
labels and relation types by name, documents by their position in the file;
spans and relations get a ``key`` numbered within their document (in id order,
so that they come back in the same order), and relations name their endpoints by
key. The undo log (``AnnotationAction``) stores ids in its payloads, some of
objects that no longer exist (a deleted span that undo would bring back): those
get keys too, numbered after the live ones, and a restore reserves fresh ids for
them from the database's sequence, so that undo after a restore re-creates the
span under an id nothing else will take. Because the keys follow only the data,
backing up a restored project writes the same records again.

Design note (what is left out). Export jobs: their files are temporary
downloads, so their rows are not carried. Users' ``is_staff`` and
``is_superuser`` flags, groups and permissions: a backup file must not be able
to create an administrator. An agreement run's ``data_version`` fingerprints
database ids; the file says instead whether the run covered the data as it was
at backup time (``data_current``), and a restore recomputes the fingerprint for
the new ids, so that "changed since this run" stays true or false as it was.

Design note (what a restore checks). Every value is checked for what the
database holds it to: its type, its choices, its length, null, an integer's
range, and the shape of a JSON value (the type of the field's default, which the
pages rely on); the database checks its constraints. What a file writes is also
held to the rules of every other way in, since a file can be edited by hand
(a label named ``<img src=x onerror=alert(1)>``): the schema is checked by the
schema import's own parser (formats/schema.parse_schema: names, colours,
hotkeys, attribute declarations, allowed pairs, AIF kinds), each span's
attributes by its label's declaration and each relation's by the annotation
service's rule, and usernames by the user model's validator (what sign-up, the
members CSV and the admin run). A backup checks the same before it writes, so
that a backup that succeeds restores: data that predates a rule (a label named
``Major Claim`` before migration 0006) is named, to be corrected in the admin
first. Left alone: a member's e-mail (shown escaped, mailed to no one; addresses
were not checked before the members CSV began to) and the project's own text
fields, which only their length bounds.

The file holds password hashes: it is as sensitive as the database.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import metadata
from itertools import chain
from typing import IO, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    validate_slug,
)
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from annotator.formats.bounded_json import JSONTooDeep, json_loads
from annotator.formats.records import FormatError
from annotator.formats.schema import (
    SchemaSpec,
    attribute_name_for,
    declare_found_attributes,
    default_aif,
    parse_schema,
    plain_attribute_value,
)
from annotator.models import (
    AgreementRun,
    AnnotationAction,
    AnnotationSet,
    Document,
    Membership,
    Project,
    Relation,
    RelationType,
    SetReopening,
    Span,
    SpanLabel,
)
from annotator.models.actions import ActionKind
from annotator.models.jobs import JobStatus
from annotator.selectors.agreement import agreement_data_version
from annotator.selectors.agreement_report import (
    AgreementReportGone,
    agreement_report_of,
    json_chunks,
)

from .agreement import agreement_run_rank
from .annotations import check_relation_attributes
from .errors import WarrantError
from .imports import content_hash
from .projects import new_join_code
from .rows import create_keeping_times

FORMAT = "warrant-backup"
VERSION = 2
#: Version 1 files (before typed attributes) restore too: the fields added since
#: take their defaults, relation types their AIF mapping by name, and the free
#: attributes spans held are declared on their labels as migration 0009 does.
READABLE_VERSIONS = (1, 2)
ADDED_IN_VERSION_2 = {
    "project": {"citation": ""},
    "span_label": {"attributes": []},
    "relation_type": {"aif": None},  # None: decided by the type's name
    "relation": {"attributes": {}},
}
#: Documents read per round of queries while writing: enough to keep the number
#: of queries low, few enough that memory does not grow with the project.
DOCUMENTS_PER_BATCH = 50
#: The longest line (one record) a backup holds, as a multiple of the upload limit.
#: The longest record is a document's: its text and its original upload in base64
#: (4/3 of the upload), JSON-escaped, with its annotation sets and undo log; four
#: uploads hold that with room to spare. A restore reads no longer line, so that a
#: hostile file (a gzip bomb: one line of gigabytes from a file of kilobytes)
#: cannot take more memory than this; a backup refuses to write one, so that every
#: backup that succeeds can be restored on an instance with the same upload limit.
LINE_LIMIT_IN_UPLOADS = 4
#: The most a backup file holds once decompressed (64 GiB): far more than any
#: project Warrant is built for, and a bound on the time a gzip bomb made of
#: many short lines can take.
MAX_BACKUP_BYTES = 64 * 1024**3
#: An agreement run restored while it was pending or running has no task left to
#: finish it: it is restored as failed, with this error.
INTERRUPTED = "interrupted: restored from a backup while it was running"
#: The user fields a backup carries. Not is_staff, is_superuser, groups or
#: permissions: restoring a file must never make anyone an administrator.
USER_FIELDS = (
    "username", "email", "first_name", "last_name", "is_active", "password",
    "date_joined", "last_login",
)

# Which fields of each model are written as they are (every concrete field that
# is neither the id nor a link to another row: the links are written by name or key).


def max_line_bytes() -> int:
    """The longest line of a backup file, newline included (see LINE_LIMIT_IN_UPLOADS)."""
    return LINE_LIMIT_IN_UPLOADS * settings.WARRANT_MAX_UPLOAD_BYTES


def _plain_fields(model: type[models.Model], *, skip: tuple[str, ...] = ()) -> list[models.Field]:
    return [
        f for f in model._meta.concrete_fields
        if not f.primary_key and not f.is_relation and f.name not in skip
    ]


def _fields() -> dict[str, list[models.Field]]:
    User = get_user_model()
    return {
        "project": _plain_fields(Project),
        "span_label": _plain_fields(SpanLabel),
        "relation_type": _plain_fields(RelationType),
        "user": [User._meta.get_field(name) for name in USER_FIELDS],
        "membership": _plain_fields(Membership),
        "document": _plain_fields(Document),
        # The set's copy of its document's position is the database's (migration 0015).
        "annotation_set": _plain_fields(AnnotationSet, skip=("document_position",)),
        "span": _plain_fields(Span),
        "relation": _plain_fields(Relation),
        "action": _plain_fields(AnnotationAction),
        "set_reopening": _plain_fields(SetReopening),
        # data_version is replaced by data_current (see the design note).
        "agreement_run": _plain_fields(AgreementRun),
    }


# --------------------------------------------------------------------------- values


def _encode(f: models.Field, value: Any) -> Any:
    if value is None or isinstance(f, models.JSONField):
        return value
    if isinstance(f, models.BinaryField):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _row(obj: models.Model, fields: list[models.Field]) -> dict:
    return {f.name: _encode(f, getattr(obj, f.attname)) for f in fields}


def _decode(f: models.Field, value: Any, where: str) -> Any:
    """A value from the file, checked the way the model would check it."""
    if value is None:
        if not f.null:
            raise WarrantError(f"{where}: {f.name} may not be empty (null)")
        return None
    if isinstance(f, models.JSONField):
        expected = type(f.get_default()) if f.has_default() else dict
        if not isinstance(value, expected):
            shape = "a list" if expected is list else "an object (a mapping)"
            raise WarrantError(f"{where}: {f.name} must be {shape}")
        return value
    if isinstance(f, models.BinaryField):
        if not isinstance(value, str):
            raise WarrantError(f"{where}: {f.name} must be base64 text")
        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise WarrantError(f"{where}: {f.name} is not valid base64") from None
    if isinstance(f, models.DateTimeField) and not isinstance(value, str):
        raise WarrantError(f"{where}: {f.name} must be an ISO date and time")
    if isinstance(f, models.BooleanField) and not isinstance(value, bool):
        raise WarrantError(f"{where}: {f.name} must be true or false")
    if isinstance(f, models.CharField | models.TextField) and not isinstance(value, str):
        raise WarrantError(f"{where}: {f.name} must be text")
    if isinstance(f, models.IntegerField) and (
        isinstance(value, bool) or not isinstance(value, int)
    ):
        raise WarrantError(f"{where}: {f.name} must be a whole number")
    try:
        clean = f.to_python(value)
        if isinstance(f, models.DateTimeField) and timezone.is_naive(clean):
            raise ValidationError("has no time zone")
        if f.choices and clean not in {c for c, _ in f.flatchoices}:
            raise ValidationError(f"{clean!r} is not one of the choices")
        for validator in f.validators:
            # What the database holds the value to, not the form rules (see the design note).
            if isinstance(validator, DATABASE_LIMITS):
                validator(clean)
    except ValidationError as exc:
        raise WarrantError(f"{where}: {f.name} {'; '.join(exc.messages)}") from None
    return clean


#: The validators a restore runs: a column's length and an integer's range.
DATABASE_LIMITS = (MaxLengthValidator, MinValueValidator, MaxValueValidator)


def _names(value: Any) -> bool:
    """Whether ``value`` is null or a list of names (a run's documents or annotators)."""
    return value is None or (isinstance(value, list) and all(isinstance(x, str) for x in value))


def _int_key(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WarrantError(f"{where}: key {value!r} must be a whole number")
    return value


def _take(
    record: dict, fields: list[models.Field], where: str, *, links: tuple[str, ...] = ()
) -> dict:
    """The model values of ``record``; every field must be there and nothing else."""
    if not isinstance(record, dict):
        raise WarrantError(f"{where}: not a record")
    expected = {f.name for f in fields} | set(links) | {"kind"}
    missing = sorted(expected - set(record) - {"kind"})
    if missing:
        raise WarrantError(f"{where}: missing key {missing[0]!r}")
    extra = sorted(set(record) - expected)
    if extra:
        raise WarrantError(f"{where}: unknown key {extra[0]!r} (made by a newer Warrant?)")
    return {f.attname: _decode(f, record[f.name], where) for f in fields}


# --------------------------------------------------------------------------- rules

_SCHEMA_ITEM = {"span_labels": "span label", "relation_types": "relation type"}


def _schema_rows(label_rows: list[dict], type_rows: list[dict]) -> SchemaSpec:
    """The schema these rows make, checked by the schema import's parser.

    Raises FormatError (one line) for anything the schema import or the schema
    editor would refuse. No labels and no relation types: an empty schema.
    """
    if not label_rows and not type_rows:
        return SchemaSpec(())
    return parse_schema({"span_labels": label_rows, "relation_types": type_rows}, source="")


def _schema_reason(exc: FormatError, lines: dict[str, list] | None = None) -> tuple[str, str]:
    """(where, why) of a schema refusal: the record's line when ``lines`` tells it."""
    reason = exc.reason
    for key, what in _SCHEMA_ITEM.items():
        prefix = f"{key}["
        if reason.startswith(prefix) and "]: " in reason:
            index, why = reason[len(prefix):].split("]: ", 1)
            at = lines.get(key) if lines else None
            if at and index.isdigit() and int(index) < len(at):
                return f"line {at[int(index)]} ({what.replace(' ', '_')})", why
            return what, why
    return "the schema", reason


def _check_username(username: str, where: str) -> None:
    try:
        get_user_model().username_validator(username)
    except ValidationError as exc:
        raise WarrantError(f"{where}: username {username!r}: {' '.join(exc.messages)}") \
            from None


def _check_span_attributes(schema: SchemaSpec, label: str, attributes: Any, where: str) -> None:
    spec = schema.label(label)
    if spec is None:
        return  # an unknown label is refused by its caller
    try:
        spec.clean_attributes(attributes)
    except ValueError as exc:
        raise WarrantError(f"{where}: {exc}") from None


def _check_relation_attributes(attributes: Any, where: str) -> None:
    try:
        check_relation_attributes(attributes)
    except WarrantError as exc:
        raise WarrantError(f"{where}: {exc}") from None


# --------------------------------------------------------------------------- backup


@dataclass
class BackupReport:
    counts: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        return _summary(self.counts)


def _summary(counts: Counter) -> str:
    return (
        f"{counts['document']} document(s), {counts['annotation_set']} annotation set(s), "
        f"{counts['span']} span(s), {counts['relation']} relation(s), "
        f"{counts['membership']} member(s), {counts['agreement_run']} agreement run(s), "
        f"{counts['action']} undo action(s)"
    )


def warrant_version() -> str:
    try:
        return metadata.version("warrant")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


class _Keys:
    """Numbers the spans (or relations) of one document: live ones first, in id order."""

    def __init__(self, live_ids: list[int]):
        self.by_id = {pk: n for n, pk in enumerate(live_ids, start=1)}

    def __call__(self, pk: Any) -> Any:
        if not isinstance(pk, int) or isinstance(pk, bool):
            return pk  # not an id: left as it is
        if pk not in self.by_id:  # gone: an object only the undo log remembers
            self.by_id[pk] = len(self.by_id) + 1
        return self.by_id[pk]


def _translate_payload(
    kind: str,
    payload: Any,
    *,
    span: Callable[[Any], Any],
    relation: Callable[[Any], Any],
    label: Callable[[Any], Any],
    rtype: Callable[[Any], Any],
) -> Any:
    """Rewrite the links in an undo payload (see annotation_set_undo for its shapes).

    Used both ways: ids to keys and names when writing, keys and names back to
    the new ids when restoring. What it does not know is copied unchanged.
    """
    if not isinstance(payload, dict):
        return payload
    out = dict(payload)

    def span_row(row):
        if not isinstance(row, dict):
            return row
        row = dict(row)
        if "id" in row:
            row["id"] = span(row["id"])
        if "label" in row:
            row["label"] = label(row["label"])
        return row

    def relation_row(row):
        if not isinstance(row, dict):
            return row
        row = dict(row)
        for name in ("source", "target"):
            if name in row:
                row[name] = span(row[name])
        if "id" in row:
            row["id"] = relation(row["id"])
        if "type" in row:
            row["type"] = rtype(row["type"])
        return row

    if kind in (ActionKind.SPAN_CREATE, ActionKind.SPAN_UPDATE) and "span" in out:
        out["span"] = span(out["span"])  # span_create's "label" is a name already
    if kind == ActionKind.SPANS_CREATE and isinstance(out.get("spans"), list):
        out["spans"] = [span(pk) for pk in out["spans"]]
    if kind in (ActionKind.SPAN_CREATE, ActionKind.SPANS_CREATE):  # what an undo removed
        if isinstance(out.get("rows"), list):
            out["rows"] = [span_row(r) for r in out["rows"]]
        if isinstance(out.get("relations"), list):
            out["relations"] = [relation_row(r) for r in out["relations"]]
    if kind == ActionKind.SPAN_UPDATE:
        for name in ("old", "new"):
            if isinstance(out.get(name), dict) and "label" in out[name]:
                out[name] = {**out[name], "label": label(out[name]["label"])}
    if kind == ActionKind.SPAN_DELETE:
        out["span"] = span_row(out.get("span"))
        if isinstance(out.get("relations"), list):
            out["relations"] = [relation_row(r) for r in out["relations"]]
    if kind == ActionKind.RELATION_CREATE and "relation" in out:
        out["relation"] = relation(out["relation"])
    if kind == ActionKind.RELATION_CREATE and "row" in out:  # what an undo removed
        out["row"] = relation_row(out["row"])
    if kind == ActionKind.RELATION_DELETE:
        out["relation"] = relation_row(out.get("relation"))
    return out


def _document_records(project: Project, fields: dict, names: dict) -> Iterator[dict]:
    ids = list(project.documents.order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), DOCUMENTS_PER_BATCH):
        batch = ids[start : start + DOCUMENTS_PER_BATCH]
        documents = Document.objects.filter(id__in=batch).order_by("id")
        sets = AnnotationSet.objects.filter(document_id__in=batch).select_related("annotator")
        spans = Span.objects.filter(annotation_set__document_id__in=batch)
        relations = Relation.objects.filter(annotation_set__document_id__in=batch)
        actions = AnnotationAction.objects.filter(
            annotation_set__document_id__in=batch
        ).select_related("user")
        sets_of: dict[int, list] = {}
        for s in sets.order_by("id"):
            sets_of.setdefault(s.document_id, []).append(s)
        spans_of: dict[int, list] = {}
        for s in spans.order_by("id"):
            spans_of.setdefault(s.annotation_set_id, []).append(s)
        relations_of: dict[int, list] = {}
        for r in relations.order_by("id"):
            relations_of.setdefault(r.annotation_set_id, []).append(r)
        actions_of: dict[int, list] = {}
        for a in actions.order_by("id"):
            actions_of.setdefault(a.annotation_set_id, []).append(a)
        for document in documents:
            doc_sets = sets_of.get(document.pk, [])
            span_key = _Keys([s.pk for ds in doc_sets for s in spans_of.get(ds.pk, [])])
            relation_key = _Keys([r.pk for ds in doc_sets for r in relations_of.get(ds.pk, [])])
            record = {"kind": "document", **_row(document, fields["document"])}
            record["annotation_sets"] = [
                {
                    **_row(s, fields["annotation_set"]),
                    "annotator": s.annotator.username if s.annotator else None,
                    "spans": [
                        {"key": span_key(sp.pk), "label": names["label"][sp.label_id],
                         **_row(sp, fields["span"])}
                        for sp in spans_of.get(s.pk, [])
                    ],
                    "relations": [
                        {"key": relation_key(r.pk), "source": span_key(r.source_id),
                         "target": span_key(r.target_id), "type": names["type"][r.type_id],
                         **_row(r, fields["relation"])}
                        for r in relations_of.get(s.pk, [])
                    ],
                    "actions": [],
                }
                for s in doc_sets
            ]
            # Actions last: the keys of live objects are fixed before gone ones are numbered.
            for s, out in zip(doc_sets, record["annotation_sets"], strict=True):
                for a in actions_of.get(s.pk, []):
                    row = _row(a, fields["action"])
                    row["payload"] = _translate_payload(
                        a.kind, a.payload, span=span_key, relation=relation_key,
                        label=lambda pk: names["label"].get(pk),
                        rtype=lambda pk: names["type"].get(pk),
                    )
                    out["actions"].append({"user": a.user.username if a.user else None, **row})
            yield record


def _run_report(run: AgreementRun) -> Any:
    """The run's report for its backup record: its documents read from the ranks, in
    the order of sort_keys (``selectors.agreement_report``), or the stored report."""
    if run.status == JobStatus.DONE:
        try:
            return agreement_report_of(run, by_id=True)
        except AgreementReportGone:
            pass
    return AgreementRun.objects.filter(pk=run.pk).values_list("report", flat=True).get()


def _users_of(project: Project):
    User = get_user_model()
    return User.objects.filter(
        models.Q(memberships__project=project)
        | models.Q(annotation_sets__document__project=project)
        | models.Q(agreementrun__project=project)
        | models.Q(annotationaction__annotation_set__document__project=project)
        | models.Q(set_reopenings__annotation_set__document__project=project)
    ).distinct().order_by("username")


def project_backup(project: Project, out: IO[bytes]) -> BackupReport:
    """Write ``project`` with everything that belongs to it to the binary file ``out``.

    Reads inside one transaction, so that the file is one consistent state even
    while people annotate (on PostgreSQL, with REPEATABLE READ when this opens
    the transaction).
    """
    fields = _fields()
    report = BackupReport()
    opens = not connection.in_atomic_block
    with transaction.atomic(), gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        if opens and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        project = Project.objects.get(pk=project.pk)
        limit, written = max_line_bytes(), 0
        encoder = json.JSONEncoder(ensure_ascii=False, sort_keys=True)

        def write_line(record: dict) -> None:
            # The restore's limits, checked here, so that a backup that succeeds restores.
            # json.dumps(record, ensure_ascii=False, sort_keys=True) and a newline, in
            # pieces: a finished run's report is written as its documents are read.
            nonlocal written
            size = 0
            lazy = record.get("kind") == "agreement_run"  # the others are encoded at once
            for piece in chain(json_chunks(record, encoder) if lazy else [encoder.encode(record)],
                               ["\n"]):
                data = piece.encode("utf-8")
                size += len(data)
                if size > limit:  # measured to its end, for the message; not written
                    continue
                written += len(data)
                if written > MAX_BACKUP_BYTES:
                    raise WarrantError(
                        "the project is larger than a backup file may be "
                        f"({MAX_BACKUP_BYTES:,} bytes)"
                    )
                gz.write(data)
            if size > limit:
                what = record.get("kind", "header")
                if what == "document":
                    what = f"document {record['external_id']!r}"
                raise WarrantError(
                    f"{what} takes {size:,} bytes, more than a backup line may hold "
                    f"({limit:,}: {LINE_LIMIT_IN_UPLOADS} x WARRANT_MAX_UPLOAD_BYTES)"
                )

        def write(record: dict) -> None:
            write_line(record)
            report.counts[record["kind"]] += 1

        write_line({
            "format": FORMAT, "version": VERSION, "warrant": warrant_version(),
            "created_at": timezone.now().astimezone(UTC).isoformat(),
            "project": project.slug,
        })
        write({"kind": "project", **_row(project, fields["project"])})
        labels = list(project.span_labels.order_by("id"))
        types = list(project.relation_types.order_by("id"))
        names = {"label": {x.pk: x.name for x in labels}, "type": {x.pk: x.name for x in types}}
        try:  # what a restore would refuse (see the design note), named before anything is written
            schema = _schema_rows([_row(x, fields["span_label"]) for x in labels],
                                  [_row(x, fields["relation_type"]) for x in types])
        except FormatError as exc:
            what, why = _schema_reason(exc)
            raise WarrantError(f"{what}: {why}: a restore would refuse it; correct it (the admin "
                               "edits labels and relation types), then back up again") from None
        for label in labels:
            write({"kind": "span_label", **_row(label, fields["span_label"])})
        for rtype in types:
            write({"kind": "relation_type", **_row(rtype, fields["relation_type"])})
        for user in _users_of(project):
            _check_username(user.username, "a restore would refuse this user")
            write({"kind": "user", **_row(user, fields["user"])})
        for m in project.memberships.select_related("user").order_by("id"):
            write({"kind": "membership", "user": m.user.username, **_row(m, fields["membership"])})
        for record in _document_records(project, fields, names):
            where = f"document {record['external_id']!r}: a restore would refuse"
            for s in record["annotation_sets"]:
                for sp in s["spans"]:
                    _check_span_attributes(schema, sp["label"], sp["attributes"], f"{where} a span")
                for r in s["relations"]:
                    _check_relation_attributes(r["attributes"], f"{where} a relation")
                report.counts["annotation_set"] += 1
                report.counts["span"] += len(s["spans"])
                report.counts["relation"] += len(s["relations"])
                report.counts["action"] += len(s["actions"])
            write(record)
        for reopening in (
            SetReopening.objects.filter(annotation_set__document__project=project)
            .select_related("reopened_by", "annotation_set__annotator")
            .annotate(document_external_id=models.F("annotation_set__document__external_id"))
            .order_by("id")
        ):
            write({
                "kind": "set_reopening",
                "document": reopening.document_external_id,
                "annotator": reopening.annotation_set.annotator.username,
                "reopened_by": reopening.reopened_by.username if reopening.reopened_by else None,
                **_row(reopening, fields["set_reopening"]),
            })
        current: dict[str, str] = {}
        run_fields = [f for f in fields["agreement_run"] if f.name != "report"]
        for run_id in project.agreement_runs.order_by("id").values_list("id", flat=True):
            # One run at a time, and a finished run's report from its summary and ranks
            # as it is written (selectors.agreement_report): not every run's whole report.
            run = AgreementRun.objects.select_related("requested_by").defer("report").get(
                pk=run_id)
            row = _row(run, run_fields)
            row["report"] = _run_report(run)
            params = run.parameters if isinstance(run.parameters, dict) else {}
            key = json.dumps([params.get("documents"), params.get("annotators")])
            if key not in current:
                current[key] = agreement_data_version(
                    project=project, documents=params.get("documents"),
                    annotators=params.get("annotators"),
                )
            row["data_current"] = bool(run.data_version) and run.data_version == current[key]
            if row["data_current"]:
                row["data_version"] = None  # recomputed for the new ids on restore
            write({
                "kind": "agreement_run",
                "requested_by": run.requested_by.username if run.requested_by else None,
                **row,
            })
        write_line({"kind": "end", "counts": {k: report.counts[k] for k in COUNTED}})
    return report


COUNTED = (
    "project", "span_label", "relation_type", "user", "membership", "document",
    "annotation_set", "span", "relation", "action", "set_reopening", "agreement_run",
)
#: Kinds newer than version 1's first files: a file made before them has none and
#: does not count them.
COUNTED_SINCE_LATER = frozenset({"set_reopening"})


# --------------------------------------------------------------------------- restore


@dataclass
class RestoreReport:
    project: Project
    counts: Counter
    users_created: list[str]
    users_reused: list[str]
    join_code_changed: bool = False

    runs_interrupted: int = 0

    def summary(self) -> str:
        # The reused users are named: they are taken to be the people of the file
        # (same username), and get its roles and its annotation sets.
        reused = f": {', '.join(self.users_reused)}" if self.users_reused else ""
        return (
            f"restored {self.project.slug}: {_summary(self.counts)}; "
            f"{len(self.users_created)} user(s) created, {len(self.users_reused)} existing "
            f"user(s) reused (passwords unchanged){reused}"
            + ("; the join code was in use and was replaced" if self.join_code_changed else "")
            + (f"; {self.runs_interrupted} agreement run(s) that were running are marked "
               "failed" if self.runs_interrupted else "")
        )


def _records(in_file: IO[bytes]) -> Iterator[tuple[int, dict]]:
    """(line number, record) of a backup file, with one clear error for any damage."""
    gz = gzip.GzipFile(fileobj=in_file, mode="rb")
    limit, number, total = max_line_bytes(), 0, 0
    try:
        while line := gz.readline(limit):  # never more than limit bytes: see max_line_bytes
            number += 1
            total += len(line)
            if len(line) == limit and not line.endswith(b"\n"):
                raise WarrantError(
                    f"backup file refused: line {number} is longer than {limit:,} bytes "
                    f"({LINE_LIMIT_IN_UPLOADS} x WARRANT_MAX_UPLOAD_BYTES; damaged, or a gzip bomb)"
                )
            if total > MAX_BACKUP_BYTES:
                raise WarrantError(
                    f"backup file refused: it holds more than {MAX_BACKUP_BYTES:,} bytes "
                    "once decompressed (damaged, or a gzip bomb)"
                )
            try:
                record = json_loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise WarrantError(
                    f"backup file is damaged: line {number} is not JSON"
                ) from None
            except JSONTooDeep:
                raise WarrantError(
                    f"backup file is damaged: line {number} nests lists or objects too deeply"
                ) from None
            if not isinstance(record, dict):
                raise WarrantError(f"backup file is damaged: line {number} is not a record")
            yield number, record
    except EOFError:
        raise WarrantError(
            f"backup file is truncated: it ends in the middle (after line {number})"
        ) from None
    except gzip.BadGzipFile:
        raise WarrantError("not a Warrant backup: the file is not gzip-compressed") from None
    except (zlib.error, OSError) as exc:
        raise WarrantError(f"backup file is damaged: {exc}") from None


class _Restorer:
    def __init__(self, slug: str | None, version: int = VERSION):
        self.version = version
        # Version 1: attribute names and values found per label, declared at the end.
        self.found_attributes: dict[str, dict[str, list]] = {}
        self.attribute_names: dict[str, dict[str, str]] = {}
        self.fields = _fields()
        self.new_slug = slug
        self.counts: Counter = Counter()
        self.project: Project | None = None
        self.labels: dict[str, SpanLabel] = {}
        self.types: dict[str, RelationType] = {}
        self.users: dict[str, Any] = {}
        self.users_created: list[str] = []
        self.users_reused: list[str] = []
        self.current_runs: list[AgreementRun] = []
        self.runs_interrupted = 0
        self.join_code_changed = False
        self.order = 0
        self.finished = False
        # The schema's rows and lines, checked as a whole once the last one is read.
        self.schema_rows: dict[str, list[dict]] = {"span_labels": [], "relation_types": []}
        self.schema_lines: dict[str, list[int]] = {"span_labels": [], "relation_types": []}
        self.schema: SchemaSpec | None = None

    # Records must come in the order the backup writes them.
    ORDER = ("project", "span_label", "relation_type", "user", "membership", "document",
             "set_reopening", "agreement_run", "end")

    def record(self, number: int, record: dict) -> None:
        kind = record.get("kind")
        where = f"line {number} ({kind})"
        record = self._upgraded(kind, record)
        if kind not in self.ORDER:
            raise WarrantError(f"line {number}: unknown record kind {kind!r}")
        position = self.ORDER.index(kind)
        if position < self.order or (kind == "project" and self.project is not None):
            raise WarrantError(f"{where}: records are out of order")
        if kind != "project" and self.project is None:
            raise WarrantError(f"{where}: the project record must come first")
        self.order = position
        if self.schema is None and position > self.ORDER.index("relation_type"):
            self._check_schema()
        if kind in ("span_label", "relation_type"):
            self.schema_lines[f"{kind}s"].append(number)
        getattr(self, f"_{kind}")(record, where)
        if kind != "end":
            self.counts[kind] += 1

    def _upgraded(self, kind: str, record: object) -> object:
        """A version 1 record with the fields added since, at their defaults."""
        if self.version >= 2 or not isinstance(record, dict):
            return record
        added = dict(ADDED_IN_VERSION_2.get(kind, {}))
        if kind == "relation_type" and isinstance(record.get("name"), str):
            added["aif"] = default_aif(record["name"])
        return {**added, **record}

    def _free_attributes(self, label: str, attributes: object) -> object:
        """Version 1: a span's free attributes as the label will declare them."""
        if self.version >= 2 or not isinstance(attributes, dict):
            return attributes
        names = self.attribute_names.setdefault(label, {})
        found = self.found_attributes.setdefault(label, {})
        clean = {}
        for key, value in attributes.items():
            value = plain_attribute_value(value)
            if value is None:
                continue
            if key not in names:
                names[key] = attribute_name_for(key, set(names.values()))
            found.setdefault(names[key], []).append(value)
            clean[names[key]] = value
        return clean

    def _declare_free_attributes(self) -> None:
        """Version 1: declare what spans held on their labels (see migration 0009)."""
        for label_name, found in self.found_attributes.items():
            label = self.labels[label_name]
            renamed = {new: old for old, new in self.attribute_names[label_name].items()}
            declared = declare_found_attributes(found, old_names=renamed)
            for spec in declared:
                name = spec["name"]
                if spec["type"] != "boolean" and any(isinstance(v, bool) for v in found[name]):
                    spans = Span.objects.filter(
                        label=label, attributes__has_key=name
                    ).only("pk", "attributes")
                    for span in spans:
                        value = span.attributes[name]
                        if isinstance(value, bool):
                            span.attributes[name] = "true" if value else "false"
                            span.save(update_fields=["attributes"])
            label.attributes = declared
            label.save(update_fields=["attributes"])

    def _project(self, record, where):
        values = _take(record, self.fields["project"], where)
        slug = self.new_slug or values["slug"]
        try:
            validate_slug(slug)  # the project's pages are found by it
        except ValidationError:
            raise WarrantError(
                f"{where}: slug {slug!r} cannot be used in a web address: restore with "
                "--slug NEW"
            ) from None
        if Project.objects.filter(slug=slug).exists():
            raise WarrantError(
                f"a project with slug {slug!r} exists already: restore with --slug NEW "
                "to make a copy under another slug"
            )
        values["slug"] = slug
        if values["join_code"] and Project.objects.filter(join_code=values["join_code"]).exists():
            values["join_code"] = new_join_code()  # two projects must not share a code
            self.join_code_changed = True
        stamps = {k: values.pop(k) for k in ("created_at", "updated_at")}
        self.project = Project.objects.create(**values)
        Project.objects.filter(pk=self.project.pk).update(**stamps)

    def _check_schema(self) -> None:
        """The whole schema as the schema import would check it (names, hotkeys, pairs)."""
        try:
            self.schema = _schema_rows(self.schema_rows["span_labels"],
                                       self.schema_rows["relation_types"])
        except FormatError as exc:
            what, why = _schema_reason(exc, self.schema_lines)
            raise WarrantError(f"{what}: {why}") from None

    def _span_label(self, record, where):
        values = _take(record, self.fields["span_label"], where)
        try:  # this label alone first, so that the refusal names its line
            _schema_rows([values], [])
        except FormatError as exc:
            raise WarrantError(f"{where}: {_schema_reason(exc)[1]}") from None
        self.schema_rows["span_labels"].append(values)
        self.labels[values["name"]] = SpanLabel.objects.create(project=self.project, **values)

    def _relation_type(self, record, where):
        values = _take(record, self.fields["relation_type"], where)
        for pair in values["allowed"]:
            # The schema's rule (formats/schema.py): [source label, target label], "*" any.
            if not (isinstance(pair, list) and len(pair) == 2
                    and all(isinstance(end, str) for end in pair)):
                raise WarrantError(
                    f"{where}: allowed must be a list of [source, target] label pairs, "
                    f"not {json.dumps(pair)[:60]}"
                )
        self.schema_rows["relation_types"].append(values)
        self.types[values["name"]] = RelationType.objects.create(project=self.project, **values)

    def _user(self, record, where):
        User = get_user_model()
        values = _take(record, self.fields["user"], where)
        _check_username(values["username"], where)
        if values["username"] in self.users:
            raise WarrantError(f"{where}: user {values['username']!r} appears twice")
        user = User.objects.filter(username=values["username"]).first()
        if user is None:
            user = User(**values)  # the password is the backed-up hash, set as it is
            user.save()
            self.users_created.append(user.username)
        else:
            self.users_reused.append(user.username)
        self.users[user.username] = user

    def _user_named(self, name, where, what="user"):
        if name is None:
            return None
        if name not in self.users:
            raise WarrantError(f"{where}: {what} {name!r} is not among the file's users")
        return self.users[name]

    def _membership(self, record, where):
        values = _take(record, self.fields["membership"], where, links=("user",))
        user = self._user_named(record["user"], where)
        if user is None:
            raise WarrantError(f"{where}: a membership needs a user")
        created_at = values.pop("created_at")
        m = Membership.objects.create(project=self.project, user=user, **values)
        Membership.objects.filter(pk=m.pk).update(created_at=created_at)

    def _document(self, record, where):
        values = _take(record, self.fields["document"], where, links=("annotation_sets",))
        text = values["text"]
        if values["content_hash"] != content_hash(text):
            raise WarrantError(
                f"{where}: document {values['external_id']!r}: its text does not match its "
                "content hash (altered?)"
            )
        created_at = values.pop("created_at")
        document = Document.objects.create(project=self.project, **values)
        Document.objects.filter(pk=document.pk).update(created_at=created_at)
        where = f"{where} document {values['external_id']!r}"
        if not isinstance(record["annotation_sets"], list):
            raise WarrantError(f"{where}: annotation_sets must be a list")

        sets, span_rows, relation_rows, action_rows = [], [], [], []
        span_keys: dict[Any, int] = {}  # key -> index of its set
        for i, srec in enumerate(record["annotation_sets"]):
            if not isinstance(srec, dict):
                raise WarrantError(f"{where}: annotation set {i + 1} is not a record")
            swhere = f"{where} annotation set {i + 1}"
            svalues = _take(srec, self.fields["annotation_set"], swhere,
                            links=("annotator", "spans", "relations", "actions"))
            annotator = self._user_named(srec["annotator"], swhere, "annotator")
            sets.append(AnnotationSet(document=document, annotator=annotator, **svalues))
            for name in ("spans", "relations", "actions"):
                if not isinstance(srec[name], list):
                    raise WarrantError(f"{swhere}: {name} must be a list")
            for srow in srec["spans"]:
                v = _take(srow, self.fields["span"], f"{swhere} span",
                          links=("key", "label"))
                key = _int_key(srow["key"], f"{swhere} span")
                pwhere = f"{swhere} span {key}"
                if key in span_keys:
                    raise WarrantError(f"{pwhere}: the key is used twice in this document")
                if srow["label"] not in self.labels:
                    raise WarrantError(f"{pwhere}: unknown label {srow['label']!r}")
                if self.version >= 2:  # version 1: free attributes, declared at the end
                    _check_span_attributes(self.schema, srow["label"], v["attributes"], pwhere)
                v["attributes"] = self._free_attributes(srow["label"], v["attributes"])
                if not 0 <= v["start"] < v["end"] <= len(text):
                    raise WarrantError(
                        f"{pwhere}: offsets {v['start']}-{v['end']} fall outside the text "
                        f"(0-{len(text)}) or are empty"
                    )
                span_keys[key] = i
                span_rows.append((i, key, Span(label=self.labels[srow["label"]], **v)))
        # Relations once every span of the document is known, so that an endpoint
        # in another set is named as such.
        for i, srec in enumerate(record["annotation_sets"]):
            swhere = f"{where} annotation set {i + 1}"
            for rrow in srec["relations"]:
                rrow = self._upgraded("relation", rrow)
                v = _take(rrow, self.fields["relation"], f"{swhere} relation",
                          links=("key", "source", "target", "type"))
                rwhere = f"{swhere} relation {_int_key(rrow['key'], f'{swhere} relation')}"
                for end in ("source", "target"):
                    if _int_key(rrow[end], f"{rwhere} {end}") not in span_keys:
                        raise WarrantError(f"{rwhere}: its {end} {rrow[end]!r} is no span here")
                    if span_keys[rrow[end]] != i:
                        raise WarrantError(
                            f"{rwhere}: its {end} belongs to another annotation set"
                        )
                if rrow["type"] not in self.types:
                    raise WarrantError(f"{rwhere}: unknown relation type {rrow['type']!r}")
                _check_relation_attributes(v["attributes"], rwhere)
                relation_rows.append((i, rrow, Relation(type=self.types[rrow["type"]], **v)))
            for arow in srec["actions"]:
                v = _take(arow, self.fields["action"], f"{swhere} action", links=("user",))
                user = self._user_named(arow["user"], f"{swhere} action")
                action_rows.append((i, AnnotationAction(user=user, **v)))

        create_keeping_times(AnnotationSet, sets, ("created_at", "updated_at"))
        span_ids: dict[Any, int] = {}
        for i, _key, span in span_rows:
            span.annotation_set = sets[i]
        create_keeping_times(Span, [s for _, _, s in span_rows], ("created_at",))
        for _i, key, span in span_rows:
            span_ids[key] = span.pk
        relation_ids: dict[Any, int] = {}
        relations = []
        for i, rrow, relation in relation_rows:
            relation.annotation_set = sets[i]
            relation.source_id = span_ids[rrow["source"]]
            relation.target_id = span_ids[rrow["target"]]
            relations.append(relation)
        create_keeping_times(Relation, relations, ("created_at",))
        for (_i, rrow, relation) in relation_rows:
            if rrow["key"] in relation_ids:
                raise WarrantError(f"{where}: relation key {rrow['key']!r} is used twice")
            relation_ids[rrow["key"]] = relation.pk

        actions = []
        gone = {"span": [], "relation": []}

        def mapper(ids: dict, what: str):
            def new_id(key):
                if key is None:
                    return None
                if isinstance(key, bool) or not isinstance(key, int):
                    raise WarrantError(f"{where}: an undo action names {what} {key!r}, not a key")
                if key not in ids:
                    ids[key] = None  # an object that is gone: an id is reserved below
                    gone[what].append(key)
                return key
            return new_id

        for i, action in action_rows:
            action.annotation_set = sets[i]
            action.payload = _translate_payload(  # first pass: find the gone keys
                action.kind, action.payload,
                span=mapper(span_ids, "span"), relation=mapper(relation_ids, "relation"),
                label=lambda name: name, rtype=lambda name: name,
            )
            actions.append(action)
        for what, model, ids in (("span", Span, span_ids), ("relation", Relation, relation_ids)):
            for key, pk in zip(gone[what], _reserve_ids(model, len(gone[what])), strict=True):
                ids[key] = pk

        def by_name(table: dict, what: str):
            def look(name):
                if name is None:
                    return None
                if name not in table:
                    raise WarrantError(f"{where}: an undo action names unknown {what} {name!r}")
                return table[name].pk
            return look

        for action in actions:
            action.payload = _translate_payload(
                action.kind, action.payload,
                span=lambda key: span_ids.get(key, key),
                relation=lambda key: relation_ids.get(key, key),
                label=by_name(self.labels, "label"), rtype=by_name(self.types, "relation type"),
            )
        create_keeping_times(AnnotationAction, actions, ("created_at",))
        self.counts["annotation_set"] += len(sets)
        self.counts["span"] += len(span_rows)
        self.counts["relation"] += len(relations)
        self.counts["action"] += len(actions)

    def _set_reopening(self, record, where):
        values = _take(record, self.fields["set_reopening"], where,
                       links=("document", "annotator", "reopened_by"))
        annotator = self._user_named(record["annotator"], where, "annotator")
        aset = None
        if isinstance(record["document"], str) and annotator is not None:
            aset = AnnotationSet.objects.filter(
                document__project=self.project, document__external_id=record["document"],
                annotator=annotator,
            ).first()
        if aset is None:
            raise WarrantError(
                f"{where}: no annotation set of {record['annotator']!r} on document "
                f"{record['document']!r} in the file"
            )
        SetReopening.objects.create(
            annotation_set=aset, reopened_by=self._user_named(record["reopened_by"], where),
            **values,
        )

    def _agreement_run(self, record, where):
        fields = self.fields["agreement_run"]
        if isinstance(record, dict):
            # Files written before the summary existed (migration 0016) have none.
            record = {"report_summary": None, **record}
        if isinstance(record, dict) and record.get("data_current") is True:
            if record.get("data_version") is not None:
                raise WarrantError(f"{where}: a current run's data_version must be null")
            record = {**record, "data_version": ""}  # recomputed at the end
        values = _take(record, fields, where, links=("requested_by", "data_current"))
        if not isinstance(record["data_current"], bool):
            raise WarrantError(f"{where}: data_current must be true or false")
        for name in ("documents", "annotators"):
            if not _names(values["parameters"].get(name)):
                raise WarrantError(f"{where}: parameters {name} must be a list of names or null")
        report = values["report"]
        if values["status"] == JobStatus.DONE and not (  # what the agreement pages read first
            isinstance(report, dict) and isinstance(report.get("overall"), dict)
            and isinstance(report.get("by_document"), dict)
            and all(isinstance(x, dict) for x in report["by_document"].values())
            and isinstance(report.get("annotators"), list) and _names(report["annotators"])
        ):
            raise WarrantError(
                f"{where}: a done run's report must hold overall, by_document and annotators"
            )
        if values["status"] in (JobStatus.PENDING, JobStatus.RUNNING):
            # No task exists for it here: it would wait for ever (see INTERRUPTED).
            values["status"], values["error"] = JobStatus.FAILED, INTERRUPTED
            self.runs_interrupted += 1
        requested_by = self._user_named(record["requested_by"], where)
        created_at = values.pop("created_at")
        done = values["status"] == JobStatus.DONE
        if done:  # stored as runs store theirs: each document's figures as its ranks
            values["report"] = {key: value for key, value in report.items()
                                if key != "by_document"}
        run = AgreementRun.objects.create(
            project=self.project, requested_by=requested_by, **values
        )
        AgreementRun.objects.filter(pk=run.pk).update(created_at=created_at)
        if done:
            # selectors.agreement_report writes the whole report again from these.
            agreement_run_rank(run=run, report=report)
        if record["data_current"]:
            self.current_runs.append(run)

    def _end(self, record, where):
        counts = record.get("counts")
        if not isinstance(counts, dict):
            raise WarrantError(f"{where}: missing counts")
        for kind in COUNTED:
            announced = counts.get(kind, 0 if kind in COUNTED_SINCE_LATER else None)
            if announced != self.counts[kind]:
                raise WarrantError(
                    f"backup file is incomplete or altered: it announces {announced} "
                    f"{kind} record(s) and holds {self.counts[kind]}"
                )
        self._declare_free_attributes()
        for run in self.current_runs:
            params = run.parameters if isinstance(run.parameters, dict) else {}
            run.data_version = agreement_data_version(
                project=self.project, documents=params.get("documents"),
                annotators=params.get("annotators"),
            )
            AgreementRun.objects.filter(pk=run.pk).update(data_version=run.data_version)
        self.finished = True


def _reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """``n`` ids the table's sequence will never hand out: for objects only undo remembers."""
    if n == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, n],
            )
            return sorted(row[0] for row in cursor.fetchall())
        if connection.vendor == "sqlite":
            # Django declares SQLite ids AUTOINCREMENT: sqlite_sequence holds the
            # largest id ever given, and no id at or below it is handed out again.
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            cursor.execute(f'SELECT MAX(id) FROM "{table}"')
            top = max(row[0] if row else 0, cursor.fetchone()[0] or 0)
            if row:
                cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s",
                               [top + n, table])
            else:
                cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)",
                               [table, top + n])
            return list(range(top + 1, top + n + 1))
    raise WarrantError(
        f"restoring an undo history is supported on SQLite and PostgreSQL, not {connection.vendor}"
    )


def _check_header(number: int, record: dict) -> int:
    """The file's format version, once the header says it is one this Warrant reads."""
    if record.get("format") != FORMAT:
        raise WarrantError("not a Warrant backup: the first line does not say format "
                           f"{FORMAT!r}")
    version = record.get("version")
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise WarrantError(
            f"backup format version {version!r} is not supported "
            f"(this Warrant reads versions {', '.join(map(str, READABLE_VERSIONS))})"
        )
    return version


def project_restore_report(in_file: IO[bytes], *, slug: str | None = None) -> RestoreReport:
    """Restore a backup into this instance; all of it, or, on any error, nothing."""
    if slug is not None:
        try:
            validate_slug(slug)
        except ValidationError:
            raise WarrantError(f"{slug!r} is not a valid slug (letters, digits, - and _)") from None
        if len(slug) > Project._meta.get_field("slug").max_length:
            raise WarrantError(f"slug {slug!r} is too long")
    restorer = _Restorer(slug)
    try:
        with transaction.atomic():
            records = _records(in_file)
            first = next(records, None)
            if first is None:
                raise WarrantError("not a Warrant backup: the file is empty")
            restorer.version = _check_header(*first)
            for number, record in records:
                if restorer.finished:
                    raise WarrantError(f"line {number}: records follow the end record")
                restorer.record(number, record)
            if not restorer.finished:
                raise WarrantError("backup file is truncated: it ends before its end record")
    except RecursionError:  # JSON parsed, then too deep to write (json.loads is caught earlier)
        raise WarrantError("backup file refused: a value nests lists or objects too deeply") \
            from None
    except DatabaseError as exc:  # a constraint or a value the database refuses
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WarrantError(f"backup file does not fit the database: {detail}") from None
    return RestoreReport(
        project=restorer.project, counts=restorer.counts,
        users_created=restorer.users_created, users_reused=restorer.users_reused,
        join_code_changed=restorer.join_code_changed,
        runs_interrupted=restorer.runs_interrupted,
    )


def project_restore(in_file: IO[bytes], *, slug: str | None = None) -> Project:
    """Restore a backup made by :func:`project_backup`; return the new project.

    ``slug`` restores under another slug (a copy beside the original). Users are
    matched by username: an existing user is reused as they are (their password
    is not changed); a missing one is created with the backed-up password hash.
    """
    return project_restore_report(in_file, slug=slug).project
