"""Write a project's data to a file or folder in one of the dataset formats.

The pipeline composes (doccano's read → format → writer):
``selectors.export_records.export_document_records`` reads the project in batches, a pure
format module (``annotator.formats.*``) turns each record into text, and the
writer here streams it into a temporary file or folder beside the target,
which replaces the target only when everything is written: a failed export
leaves no partial file.

Formats (``EXPORT_FORMATS``) and what ``PATH`` is for each:

- ``jsonl``, ``labelstudio``: one file.
- ``csv``, ``hf``, ``brat``, ``conll``, ``aif``, ``xmi``: several files. ``PATH``
  ending in ``.zip`` gets a zip archive of them; any other ``PATH`` is a folder,
  created (it must not exist, or be empty); a name ending in the format's own
  name (``out.csv`` for csv) is refused, so that nobody takes a folder for the
  single file the csv export used to be. Export jobs always make the zip.

Unfinished work: only the canonical ``jsonl`` keeps every annotation set, each
with its ``status`` (``assigned``, ``in_progress``, ``submitted``); it is
lossless. The other formats carry no status, so they hold only the sets that
annotators **submitted** (and the gold, always, when the scope includes it):
otherwise "not started yet" and "found no argument" would look the same. The
pipeline drops the unfinished sets once, before any format sees the records
(``ExportFormat.submitted_only``), and counts them in the summary
(``ExportSummary.unfinished_sets``, ``ExportSummary.left_out_note()``).

Files and folders are created under a temporary name (``mkstemp``/``mkdtemp``
make them 0600/0700) and given the mode the process umask gives any new file
(``0o666 & ~umask``, folders ``0o777 & ~umask``) before they are renamed.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import shutil
import tempfile
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from django.utils import timezone

from annotator.formats import aif, brat_export, conll, csv_spans, hf, jsonl
from annotator.formats._export_common import ZIP_DATE_TIME, FolderSink, ZipSink
from annotator.formats.records import DocumentRecord
from annotator.models import AgreementRun, AnnotationStatus, ExportScope, JobStatus, Project
from annotator.selectors.annotations import readable_sets_in_project
from annotator.selectors.export_records import export_document_records
from annotator.selectors.projects import project_schema

from .errors import WarrantError

#: Defaults of the options an export takes (``options=`` of :func:`export_write`).
DEFAULT_OPTIONS = {"seed": 0, "license": "other", "language": ["en"]}
# A licence identifier as the Hub's cards take them (SPDX-like: cc-by-4.0, mit, other).
_LICENSE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]{0,63}$")
# A BCP 47 language tag, simplified: en, de, pt-BR, zh-Hant.
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def export_options_check(options: dict | None) -> dict:
    """The format options, checked: ``seed`` (an integer), ``license``, ``language``.

    Raises
    ------
    WarrantError
        An unknown option or a value of the wrong shape, named in one line.
    """
    options = dict(options or {})
    unknown = sorted(set(options) - set(DEFAULT_OPTIONS))
    if unknown:
        raise WarrantError(
            f"unknown export option(s): {', '.join(map(repr, unknown))} "
            f"(options: {', '.join(DEFAULT_OPTIONS)})"
        )
    if "seed" in options and (
        not isinstance(options["seed"], int) or isinstance(options["seed"], bool)
        or not 0 <= options["seed"] < 2**32
    ):
        raise WarrantError("export option seed must be a whole number from 0 to 2**32 - 1")
    if "license" in options and not (
        isinstance(options["license"], str) and _LICENSE.match(options["license"])
    ):
        raise WarrantError("export option license must be a licence id such as cc-by-4.0")
    if "language" in options:
        language = options["language"]
        tags = [language] if isinstance(language, str) else language
        if not (
            isinstance(tags, list) and tags
            and all(isinstance(t, str) and _LANGUAGE.match(t) for t in tags)
        ):
            raise WarrantError("export option language must be language tags such as en or pt-BR")
    return options

ProgressCallback = Callable[[int, int], None]
Sink = FolderSink | ZipSink

#: How a format writes: ``file`` — ``write(records, fh, ctx)`` into one text file;
#: ``members`` — ``write(records, sink, ctx)``, each file written whole, straight into
#: the zip or folder; ``folder`` — ``write(records, folder, ctx)`` needs a real folder
#: (files appended to, Parquet writers), zipped afterwards when a zip is asked for.
FILE, MEMBERS, FOLDER = "file", "members", "folder"


@dataclass
class ExportSummary:
    path: str
    documents: int = 0
    spans: int = 0
    relations: int = 0
    #: Things the format could not represent (CoNLL problems, AIF relations of unknown type).
    unrepresented: int = 0
    #: Annotators' sets left out because they were not submitted, by status
    #: (every format but the canonical JSONL; see the module docstring).
    unfinished: Counter = field(default_factory=Counter)
    details: dict = field(default_factory=dict)
    #: What the format could not hold, one line each (named in the summary).
    left_out: list[str] = field(default_factory=list)

    @property
    def unfinished_sets(self) -> int:
        return sum(self.unfinished.values())

    def left_out_note(self) -> str:
        """One sentence on the unfinished sets left out, or "" when there were none.

        Examples
        --------
        >>> summary = ExportSummary(path="x.csv", unfinished=Counter(in_progress=1))
        >>> summary.left_out_note()  # doctest: +NORMALIZE_WHITESPACE
        'left out 1 unfinished annotation set (1 in_progress): this format holds only
        submitted sets and the gold; the canonical JSONL export keeps every set with its
        status.'
        """
        notes = [f"left out {line}." for line in self.left_out]
        count = self.unfinished_sets
        if count:
            by_status = ", ".join(
                f"{n} {status}" for status, n in sorted(self.unfinished.items())
            )
            notes.insert(0, (
                f"left out {count} unfinished annotation set{'' if count == 1 else 's'} "
                f"({by_status}): this format holds only submitted sets and the gold; the "
                "canonical JSONL export keeps every set with its status."
            ))
        return " ".join(notes)


@dataclass
class ExportContext:
    """What a writer may need besides the records."""

    project: Project
    scope: str
    options: dict
    summary: ExportSummary

    def span_labels(self) -> list:
        return list(self.project.span_labels.order_by("position", "name"))

    def relation_types(self) -> list:
        return list(self.project.relation_types.order_by("position", "name"))


# --- writers: one per format; each only composes a pure format module --------------------


def _write_jsonl(records: Iterable[DocumentRecord], fh: TextIO, ctx: ExportContext) -> None:
    for record in records:
        fh.write(jsonl.dump_document(record))
        fh.write("\n")


def _write_labelstudio(records: Iterable[DocumentRecord], fh: TextIO,
                       ctx: ExportContext) -> None:
    import json

    from annotator.formats.labelstudio import labelstudio_task

    attributes = notes = 0
    fh.write("[")
    for number, record in enumerate(records, start=1):
        fh.write(",\n" if number > 1 else "\n")
        fh.write(json.dumps(labelstudio_task(record, number), ensure_ascii=False))
        for aset in [*record.annotations, *([record.gold] if record.gold else [])]:
            attributes += sum(1 for span in aset.spans if span.attributes)
            notes += sum(1 for span in aset.spans if span.note)
    fh.write("\n]\n")
    for count, what in ((attributes, "attributes"), (notes, "notes")):
        if count:
            ctx.summary.left_out.append(
                f"the {what} of {count} span(s): a Label Studio labels result has no place for "
                f"them; the jsonl, brat and xmi exports hold them")


def _write_csv(records: Iterable[DocumentRecord], folder: Path, ctx: ExportContext) -> None:
    # The summary counts the rows the files hold (the files are the truth, not the records).
    ctx.summary.spans, ctx.summary.relations = csv_spans.write_csv_files(records, folder)


def _relations_left_out(ctx: ExportContext, why: str) -> None:
    """For a format that holds no relation: the summary claims none and names them."""
    left_out = ctx.summary.relations  # counted as the records went by: complete now
    ctx.summary.relations = 0
    if left_out:
        ctx.summary.left_out.append(
            f"{left_out} relation(s): {why}; the jsonl, csv, brat, aif, xmi and hf exports "
            "hold the relations"
        )


def _write_brat(records: Iterable[DocumentRecord], sink: Sink, ctx: ExportContext) -> None:
    try:
        brat_export.write_brat_collection(records, sink, schema=project_schema(ctx.project))
    except ValueError as exc:
        raise WarrantError(f"cannot write brat: {exc}") from None


def _write_conll(records: Iterable[DocumentRecord], folder: Path, ctx: ExportContext) -> None:
    labels = [label.name for label in ctx.span_labels()]
    ctx.summary.unrepresented = conll.write_conll(records, folder, labels)
    _relations_left_out(ctx, "BIO tags hold spans only")
    note = ctx.summary.left_out_note()  # complete: every record has been read
    if note:
        with open(folder / conll.README_NAME, "a", encoding="utf-8", newline="\n") as fh:
            fh.write(f"\nThis export {note}\n")


def _write_aif(records: Iterable[DocumentRecord], sink: Sink, ctx: ExportContext) -> None:
    kinds = {rt.name: rt.aif for rt in ctx.relation_types()}
    written, left_out = aif.write_aif(
        records, sink, timestamp=timezone.now().strftime("%Y-%m-%d %H:%M:%S"), aif_kinds=kinds
    )
    # The summary counts what the files hold, and names what they do not.
    ctx.summary.relations = written
    ctx.summary.unrepresented = sum(left_out.values())
    for type_name, count in sorted(left_out.items()):
        ctx.summary.left_out.append(
            f"{count} {type_name} relation(s): the schema maps {type_name} to no AIF node "
            "(set its AIF mapping in the project's settings)"
        )


def _write_xmi(records: Iterable[DocumentRecord], sink: Sink, ctx: ExportContext) -> None:
    from annotator.formats import xmi
    from annotator.formats._export_common import annotation_sets, safe_file_stem

    names = project_schema(ctx.project).attribute_names()
    sink.write_text(xmi.TYPESYSTEM_NAME, xmi.typesystem_xml(names))
    for record in records:
        stem = safe_file_stem(record.external_id)
        for where, annotation in annotation_sets(record):
            sink.write_text(f"{where}/{stem}.xmi", xmi.write_xmi(record, annotation, names))


def latest_agreement(project: Project) -> tuple[dict | None, str]:
    """The headline part of the latest finished agreement run's report, and where it is from.

    Only ``overall``, the suggestion split and the run's description are read (``report`` may hold
    every document's figures as well).
    """
    run = (
        AgreementRun.objects.filter(project=project, status=JobStatus.DONE, report__isnull=False)
        .order_by("-finished_at", "-id")
        .values("pk", "finished_at", "report__overall", "report__unit", "report__documents",
                "report__annotators", "report__suggestions", "intervals")
        .first()
    )
    if run is None:
        return None, ""
    report = {
        "overall": run["report__overall"] or {},
        "unit": run["report__unit"],
        "documents": run["report__documents"],
        "annotators": run["report__annotators"] or [],
    }
    if run["intervals"]:  # the bootstrap intervals of the headline figures
        report["intervals"] = run["intervals"]
    if run["report__suggestions"]:  # the split by suggested and hand-drawn spans (issue 16)
        report["suggestions"] = run["report__suggestions"]
    when = run["finished_at"].strftime("%Y-%m-%d %H:%M UTC") if run["finished_at"] else "?"
    return report, f"From agreement run #{run['pk']}, finished {when}."


def _write_hf(records: Iterable[DocumentRecord], folder: Path, ctx: ExportContext) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise WarrantError("the hf export needs pyarrow: pip install pyarrow") from None
    options = ctx.options
    language = options["language"]
    labels, types = ctx.span_labels(), ctx.relation_types()
    writer = hf.HFDatasetWriter(folder, seed=int(options["seed"]),
                                labels=[label.name for label in labels],
                                relation_types=[rt.name for rt in types], scope=ctx.scope)
    try:
        for record in records:
            writer.add(record)
    except ValueError as exc:
        raise WarrantError(f"cannot write the hf export: {exc}") from None
    agreement, source = latest_agreement(ctx.project)
    card = hf.CardInfo(
        name=ctx.project.name,
        slug=ctx.project.slug,
        description=ctx.project.description,
        license=str(options["license"]),
        language=[language] if isinstance(language, str) else list(language),
        span_labels=[(label.name, label.description) for label in labels],
        relation_types=[(rt.name, rt.description, rt.allowed) for rt in types],
        agreement=agreement,
        agreement_source=source,
        scope=ctx.scope,
        generated_at=timezone.now().strftime("%Y-%m-%d %H:%M UTC"),
        unfinished_sets=ctx.summary.unfinished_sets,  # complete: every record has been read
        citation=ctx.project.citation,
    )
    ctx.summary.details["rows"] = writer.close(card)
    left, widened = writer.bio_problems["left out"], writer.bio_problems["widened"]
    if left:
        ctx.summary.left_out.append(
            f"{left} span(s) from the gold_bio/annotators_bio configurations (a span of the "
            "same label shares their tokens, or they cover none); the gold and annotators "
            "configurations hold every span")
    if widened:
        ctx.summary.details["bio_widened"] = widened


@dataclass(frozen=True)
class ExportFormat:
    name: str
    #: One line for the command's help and the export page.
    description: str
    #: FILE, MEMBERS or FOLDER (see above).
    kind: str
    write: Callable
    #: Suffix of the file an export job makes.
    suffix: str
    #: Whether only submitted annotators' sets (and the gold) go in: every format
    #: that does not carry a set's status (see the module docstring).
    submitted_only: bool = True

    @property
    def many_files(self) -> bool:
        return self.kind != FILE


EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in [
        ExportFormat("jsonl", "canonical JSONL, one document per line (lossless: every "
                     "annotation set, with its status)", FILE, _write_jsonl, ".jsonl",
                     submitted_only=False),
        ExportFormat("csv", "spans.csv (a row per span: document, annotator, span id, "
                     "label, offsets, text) and relations.csv (a row per relation, with the "
                     "span ids that join them); submitted sets only", FOLDER, _write_csv,
                     ".zip"),
        ExportFormat("hf", "Hugging Face dataset: Parquet per split and a README.md card; "
                     "submitted sets only", FOLDER, _write_hf, ".zip"),
        ExportFormat("brat", "brat .txt/.ann pairs with annotation.conf, a folder per "
                     "annotator and one for the gold; submitted sets only", MEMBERS,
                     _write_brat, ".zip"),
        ExportFormat("conll", "BIO over whitespace tokens, one column per label, with a "
                     "report; submitted sets only", FOLDER, _write_conll, ".zip"),
        ExportFormat("aif", "AIF JSON per document and annotation set (OVA, AIFdb); "
                     "submitted sets only", MEMBERS, _write_aif, ".zip"),
        ExportFormat("labelstudio", "Label Studio JSON tasks (spans with UTF-16 offsets, "
                     "relations, the gold as ground truth), which Label Studio imports and "
                     "Warrant reads back; submitted sets only", FILE, _write_labelstudio,
                     ".json"),
        ExportFormat("xmi", "UIMA CAS XMI per document and annotation set with its "
                     "TypeSystem.xml, for INCEpTION; submitted sets only", MEMBERS,
                     _write_xmi, ".zip"),
    ]
}
#: Kept for callers that only need the names and writers.
WRITERS: dict[str, Callable] = {name: f.write for name, f in EXPORT_FORMATS.items()}


def export_formats() -> list[str]:
    return sorted(EXPORT_FORMATS)


def export_path_help() -> str:
    """What ``PATH`` is for each format, for the command's help."""
    single = ", ".join(n for n, f in sorted(EXPORT_FORMATS.items()) if not f.many_files)
    many = ", ".join(n for n, f in sorted(EXPORT_FORMATS.items()) if f.many_files)
    return (
        f"{single}: PATH is the file to write. {many}: a zip archive when PATH ends in .zip, "
        "otherwise a folder to create (it must not exist, or be empty)."
    )


def _submitted_only(
    records: Iterable[DocumentRecord], summary: ExportSummary
) -> Iterator[DocumentRecord]:
    """The records without the annotators' sets that are not submitted, counted by status.

    The gold is kept whatever its status: it is the curated reference, not an
    annotator's work in progress.
    """
    for record in records:
        kept = [a for a in record.annotations if a.status == AnnotationStatus.SUBMITTED]
        if len(kept) != len(record.annotations):
            summary.unfinished.update(
                a.status for a in record.annotations if a.status != AnnotationStatus.SUBMITTED
            )
            record = dataclasses.replace(record, annotations=kept)
        yield record


def _counted(
    records: Iterable[DocumentRecord],
    summary: ExportSummary,
    total: int,
    progress: ProgressCallback | None,
) -> Iterator[DocumentRecord]:
    for record in records:
        yield record
        summary.documents += 1
        for aset in [*record.annotations, *([record.gold] if record.gold else [])]:
            summary.spans += len(aset.spans)
            summary.relations += len(aset.relations)
        if progress is not None:
            progress(summary.documents, total)


_UMASK_LOCK = threading.Lock()


@functools.cache
def process_umask() -> int:
    """The process umask, read once.

    Linux gives it in ``/proc/self/status``, which reads it without changing it;
    elsewhere ``os.umask`` must set a value to return the old one, so it sets
    the restrictive ``0o077`` for that instant (a file another thread creates
    meanwhile is private, never world-writable) and puts the old one back.
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def _publish(tmp: str | os.PathLike, target: Path, *, folder: bool = False) -> None:
    """Give ``tmp`` the mode a new file (or folder) gets under the umask, then rename it."""
    os.chmod(tmp, (0o777 if folder else 0o666) & ~process_umask())
    os.replace(tmp, target)


def _zip_folder(folder: Path, fh) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(path, "rb") as source, archive.open(info, "w", force_zip64=True) as member:
                shutil.copyfileobj(source, member, 1024 * 1024)


class _CommandLine:
    """The reader of an export made on the command line (see :data:`COMMAND_LINE`)."""

    def __repr__(self) -> str:
        return "COMMAND_LINE"


#: ``reader`` of :func:`export_write` for ``manage.py export``: whoever runs it has the
#: database itself, so the export holds every set of its scope. Every other export is
#: made for a person and holds only the sets they may read.
COMMAND_LINE = _CommandLine()


def export_write(
    *,
    project: Project,
    format: str,
    path: str | os.PathLike,
    scope: str = ExportScope.BOTH,
    options: dict | None = None,
    progress: ProgressCallback | None = None,
    reader=COMMAND_LINE,
) -> ExportSummary:
    """Export ``project`` as ``format`` to ``path``, atomically.

    Parameters
    ----------
    project : Project
    format : str
        A key of ``EXPORT_FORMATS``.
    path : path
        See the module docstring: a file, a ``.zip`` or a folder.
    scope : {"gold", "annotators", "both"}
    options : dict, optional
        ``seed`` (hf split), ``license`` and ``language`` (hf card).
    progress : callable, optional
        Called as ``progress(documents_done, documents_total)`` after each document.
    reader : User or COMMAND_LINE
        Whom the export is for: it holds only the sets they may read
        (``selectors.annotations.readable_sets_in_project``, the rule every page and
        the API follow), within ``scope``. ``COMMAND_LINE``: every set.

    Raises
    ------
    WarrantError
        Unknown format or scope, a missing parent folder, a folder target that
        is not empty, data the format cannot hold, or no reader (``None``: the
        account an export job was for is gone).
    """
    if reader is None:
        raise WarrantError("the account this export was for no longer exists")
    if format not in EXPORT_FORMATS:
        raise WarrantError(
            f"unknown export format {format!r} (available: {', '.join(export_formats())})"
        )
    if scope not in ExportScope.values:
        raise WarrantError(f"unknown scope {scope!r} (scopes: {', '.join(ExportScope.values)})")
    options = export_options_check(options)
    spec = EXPORT_FORMATS[format]
    target = Path(path)
    if not target.parent.is_dir():
        raise WarrantError(f"{target.parent}: no such folder")
    as_folder = spec.many_files and target.suffix.lower() != ".zip"
    if as_folder and target.suffix.lower() == f".{format}":
        raise WarrantError(
            f"{target}: the {format} export is several files: give a PATH ending in .zip, "
            "or a folder"
        )
    if as_folder and target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise WarrantError(f"{target}: exists and is not an empty folder")
    if not as_folder and target.is_dir():
        raise WarrantError(f"{target}: is a folder; give a file name")

    summary = ExportSummary(path=str(target))
    ctx = ExportContext(
        project=project, scope=scope, options={**DEFAULT_OPTIONS, **(options or {})},
        summary=summary,
    )
    total = project.documents.count() if progress is not None else 0
    readable = (
        None if reader is COMMAND_LINE
        else readable_sets_in_project(user=reader, project=project)
    )
    records = export_document_records(project, scope=scope, sets=readable)
    if spec.submitted_only:
        records = _submitted_only(records, summary)
    records = _counted(records, summary, total, progress)

    if spec.kind == FILE or (spec.kind == MEMBERS and not as_folder):
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            if spec.kind == FILE:
                with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                    spec.write(records, fh, ctx)
            else:
                with (
                    os.fdopen(fd, "wb") as fh,
                    zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as archive,
                ):
                    spec.write(records, ZipSink(archive), ctx)
            _publish(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return summary

    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        spec.write(records, FolderSink(work) if spec.kind == MEMBERS else work, ctx)
        if as_folder:
            if target.is_dir():
                target.rmdir()  # empty, checked above
            _publish(work, target, folder=True)
        else:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    _zip_folder(work, fh)
                _publish(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return summary
