"""The answer of a CSV download (progress, grades, assignments, members)."""

from __future__ import annotations

from django.http import HttpResponse


def csv_download(table: str, filename: str) -> HttpResponse:
    """``table`` (a whole CSV, made safe for spreadsheets by annotator.text.spreadsheet)
    as an attachment named ``filename``."""
    response = HttpResponse(table, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
