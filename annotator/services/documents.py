"""Change a document after its import: its title, or its text by re-running the import.

A document's canonical text is fixed once annotated (../DESIGN.md, "Offsets").
Re-running the import of a document that arrived without offsets (text,
Markdown, HTML, PDF, .docx) reads its original upload again, with cleaning on
or off. When the text comes out the same, only the record of the cleaning
changes. When it changes, every span must lie in a stretch of text that did
not change (:class:`annotator.text.remap.OffsetMover`): the spans then move
with their words, exactly; if any span does not, nothing changes and the
manager is told why in one sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from django.db import transaction
from django.db.models import F

from annotator.formats.records import UNANNOTATED_FORMATS, FormatError
from annotator.models import AnnotationSet, Document, Span
from annotator.models.actions import AnnotationAction
from annotator.text.remap import OffsetMover
from annotator.text.storable import first_unstorable
from annotator.text.titles import clip_title

from .errors import ConflictError, WarrantError
from .imports import check_storable, cleaning_summary, content_hash

__all__ = ["TITLE_EDITED", "ReimportReport", "document_reimport", "document_title_set"]

# ``Document.cleaning["title_from"]`` of a title a person typed: a re-run keeps it.
TITLE_EDITED = "edited by hand"
# The extensions that read each source format again (the first when the upload's
# name has none of them).
_EXTENSIONS = {
    "text": (".txt",),
    "markdown": (".md", ".markdown"),
    "html": (".html", ".htm"),
    "pdf": (".pdf",),
    "docx": (".docx",),
}
_TITLE_MAX_CHARS = Document._meta.get_field("title").max_length


@transaction.atomic
def document_title_set(*, document: Document, title: str, expected_title: str | None = None):
    """Give ``document`` the title a person typed (whitespace collapsed).

    ``expected_title`` is the title the person saw: when someone changed it
    meanwhile, :class:`ConflictError` says to what, and nothing is written.
    """
    wanted = " ".join((title or "").split())
    if not wanted:
        raise WarrantError("a title cannot be empty")
    if len(wanted) > _TITLE_MAX_CHARS:
        raise WarrantError(f"a title has at most {_TITLE_MAX_CHARS} characters")
    if first_unstorable(wanted) is not None:
        raise WarrantError("the title holds a NUL character or a lone surrogate")
    locked = Document.objects.select_for_update().only("title", "cleaning").get(pk=document.pk)
    if expected_title is not None and locked.title != expected_title:
        raise ConflictError(
            f"someone changed the title meanwhile to \u201c{locked.title}\u201d: "
            "reload the page and edit that"
        )
    locked.title = wanted
    locked.cleaning = {**(locked.cleaning or {}), "title_from": TITLE_EDITED}
    locked.save(update_fields=["title", "cleaning"])
    document.title, document.cleaning = locked.title, locked.cleaning
    return document


@dataclass
class ReimportReport:
    """What a re-run did: whether the text changed, how many spans moved."""

    text_changed: bool
    spans_moved: int
    removed_lines: int
    clean: bool

    def message(self) -> str:
        setting = "on" if self.clean else "off"
        removed = f"; cleaning removed {self.removed_lines} line(s)" if self.clean else ""
        if not self.text_changed:
            return f"Import re-run with cleaning {setting}: the text is unchanged{removed}."
        moved = (
            f"; {self.spans_moved} span(s) moved with their words" if self.spans_moved else ""
        )
        return f"Import re-run with cleaning {setting}: the text changed{removed}{moved}."


def _reread(document: Document, *, clean: bool):
    """The document's original upload read again, as one record."""
    # The readers pull in lxml, trafilatura, pypdfium2 or python-docx: loaded on
    # the first re-run, not in every web process at start.
    from annotator.formats.readers import read_upload

    name = PurePosixPath((document.original_name or "").replace("\\", "/")).name
    extensions = _EXTENSIONS[document.source_format]
    if not name.lower().endswith(extensions):
        name = f"{document.external_id}{extensions[0]}"
    try:
        records = read_upload(name, bytes(document.original), clean=clean)
    except FormatError as error:
        raise WarrantError(f"the original upload cannot be read again: {error}") from None
    if len(records) != 1:
        raise WarrantError(
            f"the original upload now reads as {len(records)} documents, not one; "
            "nothing was changed"
        )
    return records[0]


@transaction.atomic
def document_reimport(*, document: Document, clean: bool) -> ReimportReport:
    """Read ``document``'s original upload again with cleaning ``clean`` (see the module).

    Raises
    ------
    WarrantError
        When the document came with annotations (brat, JSONL...), when its
        upload cannot be read again, when the new text equals another document's,
        or when a span lies in a stretch of text that would change.
    """
    locked = Document.objects.select_for_update().get(pk=document.pk)
    if locked.source_format not in UNANNOTATED_FORMATS:
        raise WarrantError(
            f"this document came with annotations ({locked.source_format or 'unknown format'}): "
            "its text is never cleaned, so there is no import to re-run"
        )
    record = _reread(locked, clean=clean)
    check_storable(record, locked.original_name or locked.external_id)
    # Lock the sets: a span written meanwhile waits for this transaction, then
    # finds the version moved on and is refused (the page reloads).
    set_ids = list(
        AnnotationSet.objects.select_for_update()
        .filter(document=locked)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    summary = cleaning_summary(record)
    title_edited = (locked.cleaning or {}).get("title_from") == TITLE_EDITED
    if title_edited:
        summary["title_from"] = TITLE_EDITED
    else:
        locked.title = clip_title(record.title or locked.external_id)[:_TITLE_MAX_CHARS]
    report = ReimportReport(
        text_changed=record.text != locked.text,
        spans_moved=0,
        removed_lines=summary.get("removed_lines", 0),
        clean=clean,
    )
    if report.text_changed:
        report.spans_moved = _change_text(locked, record.text, clean=clean, set_ids=set_ids)
    locked.meta = record.meta
    locked.cleaning = summary
    locked.save(update_fields=["title", "text", "content_hash", "meta", "cleaning"])
    return report


def _change_text(document: Document, text: str, *, clean: bool, set_ids: list[int]) -> int:
    """Give ``document`` its new text; move its spans or refuse. Returns spans moved."""
    digest = content_hash(text)
    twin = (
        Document.objects.filter(project_id=document.project_id, content_hash=digest)
        .exclude(pk=document.pk)
        .values_list("external_id", flat=True)
        .first()
    )
    if twin is not None:
        raise WarrantError(
            f"with cleaning {'on' if clean else 'off'} the text would be the same as "
            f"document {twin}'s; nothing was changed"
        )
    spans = list(Span.objects.filter(annotation_set_id__in=set_ids).only("pk", "start", "end"))
    mover = OffsetMover(document.text, text)
    stuck = 0
    moved_spans = []
    for span in spans:
        moved = mover.move(span.start, span.end)
        if moved is None:
            stuck += 1
        elif moved != (span.start, span.end):
            span.start, span.end = moved
            moved_spans.append(span)
    if stuck:
        sets = (
            Span.objects.filter(annotation_set_id__in=set_ids)
            .values("annotation_set_id").distinct().count()
        )
        raise WarrantError(
            f"re-running the import with cleaning {'on' if clean else 'off'} would change the "
            f"text under {stuck} of the {len(spans)} span(s) in {sets} annotation set(s), so "
            "nothing was changed: their words would not be the same"
        )
    Span.objects.bulk_update(moved_spans, ["start", "end"], batch_size=1000)
    # The undo log holds offsets into the old text; pages open on the old text must
    # reload before their next write.
    AnnotationAction.objects.filter(annotation_set_id__in=set_ids).delete()
    AnnotationSet.objects.filter(pk__in=set_ids).update(version=F("version") + 1)
    document.text = text
    document.content_hash = digest
    return len(moved_spans)
