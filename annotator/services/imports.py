"""Import documents (and the annotations that come with them) into a project.

One service for the command line and the upload page. It takes records that
``annotator.formats`` has already read and checked against their own text,
and writes them in one transaction: on any error nothing is written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from annotator.formats.records import (
    UNANNOTATED_FORMATS,
    AnnotationRecord,
    DocumentRecord,
    FormatError,
)
from annotator.formats.schema import (
    NAME,
    NAME_RULE,
    SchemaSpec,
    default_aif,
    infer_attribute,
    pair_allowed,
    parse_attributes,
    parse_schema,
    plain_attribute_value,
)
from annotator.models import (
    AnnotationSet,
    AnnotationStatus,
    Document,
    Membership,
    Project,
    Relation,
    RelationType,
    Role,
    Span,
    SpanLabel,
)
from annotator.selectors.projects import label_spec
from annotator.text.storable import first_unstorable, unstorable_in

from .annotations import check_relation_attributes
from .errors import WarrantError
from .projects import schema_apply

# The document page shows every removed line beside the text; a scraped page
# rarely has a thousand lines of residue, so past 2,000 only the count is kept.
MAX_REMOVED_KEPT = 2000
# New documents go in by this many rows an INSERT (then their sets, each document's
# in file order): a 100,000-brief JSONL is 200 inserts instead of 100,000, and a
# batch of 500 briefs of a few pages stays a few MB a statement.
DOCUMENT_INSERT_BATCH = 500
# Spans and relations (a few hundred bytes each) go in by this many rows a statement.
ROW_INSERT_BATCH = 5_000
# Colours handed to labels that an import adds to a schema (readable on white).
_NEW_LABEL_COLOURS = ["#7c3aed", "#0e7490", "#be185d", "#4d7c0f", "#a16207", "#475569"]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    skipped_duplicates: list[str] = field(default_factory=list)
    cleaned: dict[str, dict] = field(default_factory=dict)
    spans: int = 0
    relations: int = 0
    users_created: list[str] = field(default_factory=list)
    labels_added: list[str] = field(default_factory=list)
    #: Sets added to documents the project already had (same text): file -> whose.
    sets_added: dict[str, list[str]] = field(default_factory=dict)
    #: Sets not imported because the document already has one of that annotator.
    sets_skipped: dict[str, list[str]] = field(default_factory=dict)
    #: Spans whose offsets the reader moved, and why: file -> descriptions.
    moved: dict[str, list[str]] = field(default_factory=dict)
    #: What a declared schema (brat's annotation.conf) did, one sentence each.
    schema: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"imported {len(self.imported)} document(s), {self.spans} span(s), "
            f"{self.relations} relation(s)"
        ]
        for name in self.skipped_duplicates:
            out.append(f"skipped {name}: already in the project (same text)")
        for name, whose in self.sets_added.items():
            out.append(f"added to the existing document of {name}: {', '.join(whose)}")
        for name, whose in self.sets_skipped.items():
            out.append(f"kept the existing set(s) of {', '.join(whose)} for {name} "
                       "(the document has them already)")
        for name, moves in self.moved.items():
            out.append(f"moved {len(moves)} offset(s) in {name}: {'; '.join(moves)}")
        for name, cleaning in self.cleaned.items():
            reasons = ", ".join(f"{k}: {v}" for k, v in sorted(cleaning["reasons"].items()))
            out.append(
                f"cleaned {name}: removed {cleaning['removed_lines']} line(s) of page "
                f"residue ({reasons})"
            )
        out += self.schema
        if self.labels_added:
            out.append(f"added to the schema: {', '.join(self.labels_added)}")
        if self.users_created:
            out.append(f"created annotators: {', '.join(self.users_created)}")
        return out


def check_storable(record: DocumentRecord, where: str) -> None:
    """Refuse, naming the file, what the database cannot store (see text.storable)."""
    position = first_unstorable(record.text)
    if position is not None:
        raise WarrantError(
            f"{where}: the text holds a NUL character or a lone surrogate at offset {position}"
        )
    parts = [record.title, record.meta, record.external_id]
    for annotation in [*record.annotations, *([record.gold] if record.gold else [])]:
        parts.append(annotation.annotator)
        parts.extend([s.label, s.attributes, s.note, s.id] for s in annotation.spans)
        parts.extend([r.id, r.type] for r in annotation.relations)
    found = unstorable_in(parts)
    if found is not None:
        raise WarrantError(
            f"{where}: {found[:40]!r} holds a NUL character or a lone surrogate"
        )


def _unique_external_id(wanted: str, taken: set[str]) -> str:
    base = wanted or "document"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


class _Importer:
    def __init__(self, project: Project, *, add_labels: bool):
        self.project = project
        self.add_labels = add_labels
        self.labels = {lab.name: lab for lab in project.span_labels.all()}
        self.types = {rel.name: rel for rel in project.relation_types.all()}
        self.users: dict[str, object] = {}
        self.members = dict(
            Membership.objects.filter(project=project).values_list("user__username", "role")
        )
        self.report = ImportReport()
        # Rows checked and waiting for their INSERT (``flush``), in file order.
        self.new_sets: list[AnnotationSet] = []
        self.new_spans: list[Span] = []
        self.new_relations: list[Relation] = []

    def flush(self) -> None:
        """Insert the waiting sets, then their spans, then their relations: three
        statements for many documents instead of three for each set."""
        AnnotationSet.objects.bulk_create(self.new_sets)
        Span.objects.bulk_create(self.new_spans, batch_size=ROW_INSERT_BATCH)
        # Each relation's ends got their ids just above (Django reads them at insert).
        Relation.objects.bulk_create(self.new_relations, batch_size=ROW_INSERT_BATCH)
        self.new_sets, self.new_spans, self.new_relations = [], [], []

    def label(self, name: str, where: str) -> SpanLabel:
        if name not in self.labels:
            if not self.add_labels:
                raise WarrantError(
                    f"{where}: label {name!r} is not in the project's schema "
                    f"({', '.join(self.labels)}); allow adding labels (--add-labels) to import it"
                )
            if not NAME.match(name):
                raise WarrantError(f"{where}: cannot add label {name!r}: a name {NAME_RULE}")
            colour = _NEW_LABEL_COLOURS[len(self.report.labels_added) % len(_NEW_LABEL_COLOURS)]
            self.labels[name] = SpanLabel.objects.create(
                project=self.project, name=name, colour=colour, position=len(self.labels)
            )
            self.report.labels_added.append(name)
        return self.labels[name]

    def relation_type(self, name: str, where: str) -> RelationType:
        if name not in self.types:
            if not self.add_labels:
                raise WarrantError(
                    f"{where}: relation type {name!r} is not in the project's schema "
                    f"({', '.join(self.types)}); allow adding labels (--add-labels) to import it"
                )
            if not NAME.match(name):
                raise WarrantError(
                    f"{where}: cannot add relation type {name!r}: a name {NAME_RULE}"
                )
            self.types[name] = RelationType.objects.create(
                project=self.project, name=name, allowed=[["*", "*"]], position=len(self.types),
                aif=default_aif(name),
            )
            self.report.labels_added.append(f"{name} (relation)")
        return self.types[name]

    def declare_schemas(self, records: list[DocumentRecord]) -> None:
        """Take the schemas the files declare (brat's ``annotation.conf``).

        In a project without documents the first one becomes the schema: labels and
        relation types it lacks go (they hold nothing), its own are written with
        their attributes. Otherwise, and for a second file, what the project lacks is
        added, as ``--add-labels`` would; a declaration that contradicts the
        project's (an attribute of another type or with other values, a relation
        pair the project's type does not allow, a direction) is refused.
        """
        declared: dict[str, dict] = {}
        for record in records:
            if record.schema is not None:
                declared.setdefault(record.schema_source, record.schema)
        replace = bool(declared) and not self.project.documents.exists()
        for source, data in declared.items():
            where = PurePosixPath(source.replace("\\", "/"))
            where = f"{where.parent.name}/{where.name}" if where.parent.name else where.name
            try:
                spec = parse_schema(data, source=where)
            except FormatError as exc:
                raise WarrantError(str(exc)) from None
            if replace:
                self._replace_schema(spec, where)
                replace = False
            else:
                self._merge_schema(spec, where)
        if declared:
            self.labels = {lab.name: lab for lab in self.project.span_labels.all()}
            self.types = {rel.name: rel for rel in self.project.relation_types.all()}

    def _replace_schema(self, spec: SchemaSpec, where: str) -> None:
        gone = [lab.name for lab in self.labels.values() if spec.label(lab.name) is None]
        kept_types = {rel.name for rel in spec.relation_types}
        gone_types = [name for name in self.types if name not in kept_types]
        self.project.span_labels.filter(name__in=gone).delete()
        self.project.relation_types.filter(name__in=gone_types).delete()
        schema_apply(project=self.project, schema=spec, exact_attributes=True)
        line = (f"the schema is now {where}'s: {', '.join(spec.label_names())}; relation types "
                f"{', '.join(rel.name for rel in spec.relation_types) or 'none'}")
        if gone or gone_types:
            line += f" (removed the unused {', '.join(gone + gone_types)})"
        self.report.schema.append(line)

    def _merge_schema(self, spec: SchemaSpec, where: str) -> None:
        labels = {lab.name: lab for lab in self.project.span_labels.all()}
        hotkeys = {lab.hotkey for lab in labels.values() if lab.hotkey}
        for position, new in enumerate(spec.span_labels, start=len(labels)):
            old = labels.get(new.name)
            if old is None:
                hotkey = new.hotkey if new.hotkey not in hotkeys else ""
                hotkeys.add(hotkey)
                SpanLabel.objects.create(
                    project=self.project, name=new.name, colour=new.colour, hotkey=hotkey,
                    description=new.description, position=position,
                    attributes=[a.to_dict() for a in new.attributes],
                )
                self.report.labels_added.append(new.name)
                continue
            held = {a.name: a for a in parse_attributes(old.attributes, label=old.name)}
            added = []
            for attribute in new.attributes:
                have = held.get(attribute.name)
                if have is None:
                    added.append(dataclasses.replace(attribute, hotkey="").to_dict())
                    self.report.labels_added.append(f"{attribute.name} (attribute of {old.name})")
                elif have.type != attribute.type or not set(attribute.values) <= set(have.values):
                    raise WarrantError(
                        f"{where}: attribute {attribute.name} of {old.name} is "
                        f"{_attribute_kind(attribute)} there but {_attribute_kind(have)} in "
                        "the project's schema; make them agree first"
                    )
            if added:
                old.attributes = [*old.attributes, *added]
                old.save(update_fields=["attributes"])
        types = {rel.name: rel for rel in self.project.relation_types.all()}
        for position, new in enumerate(spec.relation_types, start=len(types)):
            old = types.get(new.name)
            if old is None:
                RelationType.objects.create(
                    project=self.project, name=new.name, directed=new.directed,
                    description=new.description, allowed=[list(p) for p in new.allowed],
                    position=position, aif=new.aif,
                )
                self.report.labels_added.append(f"{new.name} (relation)")
                continue
            if old.directed != new.directed:
                raise WarrantError(
                    f"{where}: relation type {new.name} is "
                    f"{'directed' if new.directed else 'symmetric'} there but not in the "
                    "project's schema; make them agree first"
                )
            for source, target in new.allowed:
                if not pair_allowed(old.allowed, source, target):
                    raise WarrantError(
                        f"{where}: relation type {new.name} allows {source} -> {target}, "
                        "which the project's schema does not; add the pair in the settings "
                        "first"
                    )

    def declare_attributes(self, records: list[DocumentRecord]) -> None:
        """Check that the schema declares every attribute the files' spans hold.

        An attribute a label lacks is refused, or (when labels may be added)
        declared from all the values the files hold for it: yes/no when they are
        all true/false, text otherwise. Done before anything is written, so
        that one declaration fits every file of the import.
        """
        found: dict[str, dict[str, list]] = {}
        where_of: dict[tuple[str, str], str] = {}
        for record in records:
            for annotation in [*record.annotations, *([record.gold] if record.gold else [])]:
                for span in annotation.spans:
                    for key, value in span.attributes.items():
                        found.setdefault(span.label, {}).setdefault(key, []).append(
                            plain_attribute_value(value)
                        )
                        where_of.setdefault((span.label, key), record.original_name
                                            or record.external_id)
        for label_name, values_by_key in found.items():
            where = where_of[(label_name, next(iter(values_by_key)))]
            label = self.label(label_name, where)
            declared = {a["name"] for a in label.attributes}
            added = []
            for key, values in values_by_key.items():
                if key in declared or all(v is None for v in values):
                    continue
                where = where_of[(label_name, key)]
                if not self.add_labels:
                    raise WarrantError(
                        f"{where}: attribute {key!r} of label {label_name} is not in the "
                        "project's schema; add it in the settings or allow adding labels "
                        "(--add-labels) to import it"
                    )
                if not NAME.match(key):
                    raise WarrantError(
                        f"{where}: cannot add attribute {key!r} of {label_name}: a name {NAME_RULE}"
                    )
                if all(v in (True, False, "true", "false", None) for v in values):
                    values = [v in (True, "true") for v in values if v is not None]  # brat
                added.append(infer_attribute(key, values).to_dict())
                self.report.labels_added.append(f"{key} (attribute of {label_name})")
            if added:
                label.attributes = [*label.attributes, *added]
                label.save(update_fields=["attributes"])

    def relation_attributes(self, relation, where: str) -> dict:
        try:
            return check_relation_attributes(relation.attributes)
        except WarrantError as exc:
            raise WarrantError(f"{where}: relation {relation.id}: {exc}") from None

    def write_sets(
        self, document: Document, record: DocumentRecord, *, annotator: str | None, where: str,
        existing: set[str] | None = None, has_gold: bool = False,
    ) -> tuple[list[str], list[str]]:
        """Write the record's sets on ``document``: (whose were added, whose were kept).

        ``existing`` names the annotators who already have a set on the document
        and ``has_gold`` says whether it has a gold: those are kept, not replaced.
        """
        existing = existing or set()
        added: list[str] = []
        kept: list[str] = []
        seen_annotators: set[str] = set()
        gold_record = record.gold
        for annotation in record.annotations:
            if not annotation.annotator:
                if not annotator:
                    if gold_record is not None:
                        raise WarrantError(f"{where}: the document has two gold sets")
                    gold_record = annotation
                    continue
                annotation = dataclasses.replace(annotation, annotator=annotator)
            if annotation.annotator in seen_annotators:
                raise WarrantError(
                    f"{where}: annotator {annotation.annotator!r} has two annotation sets"
                )
            seen_annotators.add(annotation.annotator)
            if annotation.annotator in existing:
                kept.append(annotation.annotator)
                continue
            self.write_set(document, annotation, gold=False, where=where)
            added.append(annotation.annotator)
        if gold_record is not None:
            if has_gold:
                kept.append("the gold")
            else:
                self.write_set(document, gold_record, gold=True, where=where)
                added.append("the gold")
        return added, kept

    def span_attributes(self, label: SpanLabel, span, where: str) -> dict:
        spec = label_spec(label)
        plain = {}
        for key, value in span.attributes.items():
            value = plain_attribute_value(value)
            declared = spec.attribute(key)
            # brat writes yes/no as a binary attribute and the word "false".
            if declared is not None and declared.type == "boolean" and value in ("true", "false"):
                value = value == "true"
            elif declared is not None and declared.type != "boolean" and isinstance(value, bool):
                value = "true" if value else "false"
            plain[key] = value
        try:
            return spec.clean_attributes(plain)
        except ValueError as exc:
            raise WarrantError(f"{where}: span {span.id}: {exc}") from None

    def user(self, username: str):
        if username not in self.users:
            User = get_user_model()
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username)
                user.set_unusable_password()
                user.save()
                self.report.users_created.append(username)
            if username not in self.members:
                Membership.objects.create(project=self.project, user=user, role=Role.ANNOTATOR)
                self.members[username] = Role.ANNOTATOR
            self.users[username] = user
        return self.users[username]

    def write_set(self, document: Document, record: AnnotationRecord, *, gold: bool, where: str):
        status = record.status or AnnotationStatus.SUBMITTED
        if status not in AnnotationStatus.values:
            raise WarrantError(f"{where}: unknown status {status!r}")
        final = False
        if gold:
            # A gold the file marks submitted is final unless the file says otherwise
            # (DESIGN.md, "Gold"); a final gold is submitted, a draft in progress.
            final = status == AnnotationStatus.SUBMITTED if record.final is None else record.final
            status = AnnotationStatus.SUBMITTED if final else AnnotationStatus.IN_PROGRESS
        try:
            due = dt.date.fromisoformat(record.due) if record.due else None
        except ValueError:
            raise WarrantError(f"{where}: due {record.due!r} is not a date (YYYY-MM-DD)") \
                from None
        now = timezone.now()
        aset = AnnotationSet(
            document=document,
            annotator=None if gold else self.user(record.annotator),
            is_gold=gold,
            gold_final=final,
            status=status,
            due=due,
            submitted_at=now if status == AnnotationStatus.SUBMITTED else None,
            started_at=now if status != AnnotationStatus.ASSIGNED else None,
            version=1,
        )
        self.new_sets.append(aset)
        spans = [
            Span(
                annotation_set=aset,
                label=self.label(s.label, where),
                start=s.start,
                end=s.end,
                attributes=self.span_attributes(self.label(s.label, where), s, where),
                note=s.note,
                external_id=s.id,
            )
            for s in record.spans
        ]
        self.new_spans += spans
        by_id = {s.external_id: s for s in spans}
        relations = []
        links: set[tuple[str, str, str]] = set()
        for r in record.relations:
            rtype = self.relation_type(r.type, where)
            source, target = by_id[r.source], by_id[r.target]
            # The database refuses both (relation_not_to_itself, relation_unique_link);
            # saying so here names the file and the relation instead.
            if r.source == r.target:
                raise WarrantError(f"{where}: relation {r.id} links span {r.source} to itself")
            if (r.source, r.target, r.type) in links:
                raise WarrantError(
                    f"{where}: relation {r.id} repeats {r.type} from {r.source} to {r.target}"
                )
            links.add((r.source, r.target, r.type))
            if not pair_allowed(rtype.allowed, source.label.name, target.label.name):
                raise WarrantError(
                    f"{where}: relation {r.id} ({r.type}) may not go from "
                    f"{source.label.name} to {target.label.name} in this project's schema"
                )
            relations.append(
                Relation(
                    annotation_set=aset,
                    source=source,
                    target=target,
                    type=rtype,
                    attributes=self.relation_attributes(r, where),
                    external_id=r.id,
                )
            )
        self.new_relations += relations
        self.report.spans += len(spans)
        self.report.relations += len(relations)


def _attribute_kind(attribute) -> str:
    if attribute.type == "choice":
        return f"one of {'|'.join(attribute.values)}"
    return {"boolean": "yes/no", "text": "text"}[attribute.type]


def cleaning_summary(record: DocumentRecord) -> dict:
    """What ``Document.cleaning`` keeps of a record's reading.

    ``clean``: whether cleaning ran (formats without offsets only); what it
    removed (counts per rule, samples, and each removed line with its offset in
    the text, up to ``MAX_REMOVED_KEPT``); ``title_from``: where the title came from.
    """
    summary: dict = {}
    if record.source_format in UNANNOTATED_FORMATS:
        summary["clean"] = record.cleaning is not None
    report = record.cleaning
    if report is not None and report.changed:
        summary.update(
            removed_lines=report.removed_lines,
            removed_chars=report.removed_chars,
            reasons=dict(report.reasons),
            samples=list(report.samples),
            removed=[list(entry) for entry in report.removed[:MAX_REMOVED_KEPT]],
        )
    if record.title_source:
        summary["title_from"] = record.title_source
    return summary


@transaction.atomic
def documents_import(
    *,
    project: Project,
    records: list[DocumentRecord],
    add_labels: bool = False,
    annotator: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> ImportReport:
    """Write documents, their annotators' sets and their gold into ``project``.

    Documents whose canonical text is already in the project are skipped and
    reported. A schema the files declare (brat's ``annotation.conf``) becomes the
    schema of a project without documents, and adds to another's
    (``_Importer.declare_schemas``). An annotation without an annotator name (a brat .ann, for
    example) becomes the gold set, or ``annotator``'s set when one is given.
    ``progress`` is called with the share of records written (0 to 1) as it goes.
    """
    if annotator and not get_user_model().objects.filter(username=annotator).exists():
        raise WarrantError(f"no such user: {annotator} (create the account first)")
    importer = _Importer(project, add_labels=add_labels)
    importer.declare_schemas(records)
    importer.declare_attributes(records)
    existing_documents = dict(project.documents.values_list("content_hash", "pk"))
    taken_ids = set(project.documents.values_list("external_id", flat=True))
    position = project.documents.count()
    # New documents wait here (with their record and its place) for one INSERT.
    waiting: list[tuple[Document, DocumentRecord, str, str]] = []
    waiting_digests: set[str] = set()

    def write_waiting() -> None:
        Document.objects.bulk_create([document for document, *_ in waiting])
        for document, record, where, name in waiting:
            existing_documents[document.content_hash] = document.pk
            importer.write_sets(document, record, annotator=annotator, where=where)
            importer.report.imported.append(name)
        importer.flush()
        waiting.clear()
        waiting_digests.clear()

    for done, record in enumerate(records):
        if progress is not None and done % 100 == 0:
            progress(done / len(records))
        name = record.original_name or record.external_id
        # Errors name the line of a file of many documents, as FormatError does
        # ("briefs.jsonl:99998: ..."): a bad record may be found only when written.
        where = name if record.line is None else f"{name}:{record.line}"
        check_storable(record, where)
        digest = content_hash(record.text)
        # A file of many documents (JSONL, Label Studio) names each one in the report.
        named = name if record.external_id in name else f"{name} ({record.external_id})"
        if record.moved:
            importer.report.moved[named] = [move.describe() for move in record.moved]
        if digest in waiting_digests:
            write_waiting()  # the same text twice in the file: the first one is needed now
        if digest in existing_documents:
            # The same text: the file's sets join the document's (an annotator's second
            # folder of a brat export, another annotator's work on a known brief).
            document = Document.objects.get(pk=existing_documents[digest])
            held = set(
                document.annotation_sets.filter(is_gold=False)
                .values_list("annotator__username", flat=True)
            )
            has_gold = document.annotation_sets.filter(is_gold=True).exists()
            added, kept = importer.write_sets(document, record, annotator=annotator,
                                              where=where, existing=held, has_gold=has_gold)
            importer.flush()
            if added:
                importer.report.sets_added[named] = added
            if kept:
                importer.report.sets_skipped[named] = kept
            if not added and not kept:
                importer.report.skipped_duplicates.append(named)
            continue
        if not record.text.strip():
            raise WarrantError(f"{where}: the document has no text")
        external_id = _unique_external_id(record.external_id, taken_ids)
        taken_ids.add(external_id)
        cleaning = cleaning_summary(record)
        if cleaning.get("removed_lines"):
            importer.report.cleaned[name] = cleaning
        document = Document(
            project=project,
            external_id=external_id,
            title=(record.title or external_id)[:300],
            text=record.text,
            content_hash=digest,
            original=record.original or record.text.encode("utf-8"),
            original_name=PurePosixPath(record.original_name.replace("\\", "/")).name,
            source_format=record.source_format,
            meta=record.meta,
            cleaning=cleaning,
            position=position,
        )
        position += 1
        waiting.append((document, record, where, name))
        waiting_digests.add(digest)
        if len(waiting) >= DOCUMENT_INSERT_BATCH:
            write_waiting()
    if waiting:
        write_waiting()
    return importer.report
