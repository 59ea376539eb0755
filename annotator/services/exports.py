"""Write a project's data to a file in one of the dataset formats.

The pipeline composes: ``selectors.records.document_records`` reads the
project in batches, a format module turns each record into text, and the
writer streams it into a temporary file beside the target that replaces the
target only when everything is written: a failed export leaves no partial file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from annotator.formats import jsonl
from annotator.formats.records import DocumentRecord
from annotator.models import ExportScope, Project
from annotator.selectors.records import document_records

from .errors import WarrantError


@dataclass
class ExportSummary:
    path: str
    documents: int = 0
    spans: int = 0
    relations: int = 0


def _write_jsonl(records: Iterable[DocumentRecord], fh, summary: ExportSummary) -> None:
    for record in records:
        fh.write(jsonl.dump_document(record))
        fh.write("\n")
        summary.documents += 1
        for aset in [*record.annotations, *([record.gold] if record.gold else [])]:
            summary.spans += len(aset.spans)
            summary.relations += len(aset.relations)


WRITERS: dict[str, Callable] = {"jsonl": _write_jsonl}


def export_formats() -> list[str]:
    return sorted(WRITERS)


def export_write(
    *, project: Project, format: str, path: str | os.PathLike, scope: str = ExportScope.BOTH
) -> ExportSummary:
    """Export ``project`` as ``format`` to ``path`` (written atomically)."""
    if format not in WRITERS:
        raise WarrantError(
            f"unknown export format {format!r} (available: {', '.join(export_formats())})"
        )
    if scope not in ExportScope.values:
        raise WarrantError(f"unknown scope {scope!r} (scopes: {', '.join(ExportScope.values)})")
    target = Path(path)
    if not target.parent.is_dir():
        raise WarrantError(f"{target.parent}: no such folder")
    summary = ExportSummary(path=str(target))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            WRITERS[format](document_records(project, scope=scope), fh, summary)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return summary
