"""CoNLL export: BIO tags over the tokens of the agreement conventions.

Tokens are the maximal runs of non-whitespace (``\\S+``,
:func:`annotator.text.tokens.token_offsets`), the unit that agreement counts
(../DESIGN.md, "Agreement"). No sentence splitting: one document is one block
of lines, blocks are separated by a blank line.

Design note: the rule for nested and overlapping spans
--------------------------------------------------------
Argument spans nest (a Reason inside a Claim) and overlap; a single BIO column
cannot hold that. So there is **one tag column per span label**, in the
label schema's order: a token's tag in column ``Claim`` depends only on the
``Claim`` spans. Spans of *different* labels never interfere, however they
nest or overlap. Within one column:

1. A token belongs to a span when they share at least one character (the
   agreement convention); the span's first token is tagged ``B-<label>``, the
   following ones ``I-<label>``, others ``O``. A span that starts or ends
   inside a token is widened to whole tokens, and this is reported.
2. Two spans of the *same* label that would share a token (nested, overlapping,
   or meeting inside one token) cannot both be written: spans are taken in
   order ``(start, -end, id)`` and the first keeps its tokens; the later span
   is left out of the column entirely (never cut into a partial run) and
   reported. Adjacent same-label spans that share no token are fine: ``B``
   separates them.
3. What BIO has no place for is reported, never silently dropped: relations,
   span attributes and notes (counted per annotation set), spans that cover no
   token, and spans whose label has no column.

Layout (one file per annotation set source)::

    # global.columns = FORM START END MajorClaim Claim Reason Evidence
    # document = brief-171
    Sanctions\t0\t9\tO\tB-Claim\tO\tO
    work.\t10\t15\tO\tI-Claim\tO\tO
    <blank line>

``START``/``END`` are the token's code point offsets into the document's
canonical text (``END`` exclusive), so every tag can be mapped back to the
text. The header follows the CoNLL-U Plus convention (``global.columns``).

Only submitted work: an annotator's file holds the annotation sets they
submitted; a set still assigned or in progress is left out (by
``annotator.services.exports``, which adds the count to ``README.txt``), since a
block of ``O`` tags must mean "found no argument", never "not started". The
gold is always written. The canonical JSONL export keeps every set with its
status.
"""

from __future__ import annotations

import bisect
import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from annotator.formats._export_common import AppendingFiles, annotation_sets
from annotator.formats.records import AnnotationRecord, DocumentRecord, SpanRecord
from annotator.text.tokens import token_offsets

__all__ = ["ConllProblem", "bio_columns", "conll_block", "conll_header", "write_conll"]

#: The report of what the files do not represent, beside them.
REPORT_NAME = "report.tsv"
#: What the export holds and how to read it, beside the files.
README_NAME = "README.txt"

OUTSIDE = "O"


@dataclass(frozen=True)
class ConllProblem:
    """Something of one annotation set that the CoNLL file does not represent exactly."""

    document: str
    annotator: str
    item: str
    problem: str


@dataclass
class ConllBlock:
    """One document's lines (ending with a blank line) and what they could not represent."""

    text: str
    problems: list[ConllProblem] = field(default_factory=list)


def conll_header(labels: Sequence[str]) -> str:
    """The file's first line, naming the columns.

    Examples
    --------
    >>> conll_header(["Claim", "Reason"])
    '# global.columns = FORM START END Claim Reason\\n'
    """
    return f"# global.columns = FORM START END {' '.join(labels)}\n"


def conll_block(
    document_id: str,
    text: str,
    annotation: AnnotationRecord,
    labels: Sequence[str],
    *,
    who: str = "",
    tokens: Sequence[tuple[int, int]] | None = None,
    prefixes: Sequence[str] | None = None,
) -> ConllBlock:
    """Tag one annotation set of one document.

    Parameters
    ----------
    document_id : str
        Written as ``# document = <id>``.
    text : str
        Canonical text; span offsets are code points into it.
    annotation : AnnotationRecord
        The set to tag.
    labels : sequence of str
        The tag columns, in order (normally the schema's span labels).
    who : str
        The annotator (or ``"gold"``), used in problems.
    tokens, prefixes : sequence, optional
        ``token_offsets(text)`` and each token's ``"FORM\\tSTART\\tEND"``, when the
        caller tags several sets of one document and computes them once.

    Returns
    -------
    ConllBlock
        ``text`` holds the comment line, one line per token and a blank line.

    Examples
    --------
    >>> from annotator.formats.records import SpanRecord
    >>> a = AnnotationRecord(spans=[SpanRecord("T1", 0, 14, "Claim"),
    ...                             SpanRecord("T2", 10, 14, "Reason")])
    >>> block = conll_block("b1", "Sanctions work.", a, ["Claim", "Reason"])
    >>> for line in block.text.splitlines():
    ...     print(line.split("\\t"))
    ['# document = b1']
    ['Sanctions', '0', '9', 'B-Claim', 'O']
    ['work.', '10', '15', 'I-Claim', 'B-Reason']
    ['']
    >>> [p.problem for p in block.problems]
    ['ends inside a token: widened to whole tokens', 'ends inside a token: widened to whole tokens']
    """
    if tokens is None:
        tokens = token_offsets(text)
    if prefixes is None:
        prefixes = token_prefixes(text, tokens)
    problems: list[ConllProblem] = []

    def report(item: str, problem: str) -> None:
        problems.append(ConllProblem(document_id, who, item, problem))

    columns = bio_columns(annotation.spans, labels, tokens, report)

    if annotation.relations:
        report(f"{len(annotation.relations)} relation(s)", "relations have no place in BIO")
    with_attributes = sum(1 for span in annotation.spans if span.attributes)
    if with_attributes:
        report(f"{with_attributes} span(s) with attributes", "attributes have no place in BIO")
    with_notes = sum(1 for span in annotation.spans if span.note)
    if with_notes:
        report(f"{with_notes} span(s) with notes", "notes have no place in BIO")

    lines = [f"# document = {_one_line(document_id)}\n"]
    if labels:
        tag_rows = zip(*(columns[label] for label in labels), strict=True)
        lines += [prefix + "\t" + "\t".join(tags) + "\n"
                  for prefix, tags in zip(prefixes, tag_rows, strict=True)]
    else:
        lines += [f"{prefix}\n" for prefix in prefixes]
    lines.append("\n")
    return ConllBlock("".join(lines), problems)


def bio_columns(
    spans: Sequence[SpanRecord],
    labels: Sequence[str],
    tokens: Sequence[tuple[int, int]],
    report: Callable[[str, str], None],
) -> dict[str, list[str]]:
    """One BIO tag list per label over ``tokens``, by the rule of the module docstring;
    ``report(item, problem)`` hears of every span not written exactly.

    >>> spans = [SpanRecord("T1", 0, 9, "Claim"), SpanRecord("T2", 0, 4, "Claim")]
    >>> bio_columns(spans, ["Claim"], [(0, 9), (10, 15)], lambda item, problem: None)
    {'Claim': ['B-Claim', 'O']}
    """
    starts = [start for start, _ in tokens]
    ends = [end for _, end in tokens]
    columns = {label: [OUTSIDE] * len(tokens) for label in labels}
    for span in sorted(spans, key=lambda s: (s.start, -s.end, s.id)):
        item = f"span {span.id} ({span.label} {span.start}-{span.end})"
        column = columns.get(span.label)
        if column is None:
            report(item, f"label {span.label!r} has no column")
            continue
        first, last = _covered_tokens(span, starts, ends)
        if first > last:
            report(item, "covers no token (whitespace only)")
            continue
        if any(tag != OUTSIDE for tag in column[first : last + 1]):
            report(item, f"shares tokens with an earlier {span.label} span: left out")
            continue
        column[first] = f"B-{span.label}"
        for index in range(first + 1, last + 1):
            column[index] = f"I-{span.label}"
        if span.start != starts[first]:
            report(item, "starts inside a token: widened to whole tokens")
        if span.end != ends[last]:
            report(item, "ends inside a token: widened to whole tokens")
    return columns


def token_prefixes(text: str, tokens: Sequence[tuple[int, int]]) -> list[str]:
    """``FORM<TAB>START<TAB>END`` of each token: the first three columns."""
    return [f"{text[start:end]}\t{start}\t{end}" for start, end in tokens]


def _covered_tokens(span: SpanRecord, starts: list[int], ends: list[int]) -> tuple[int, int]:
    """Indices of the first and last token sharing a character with the span."""
    first = bisect.bisect_right(ends, span.start)  # first token ending after span.start
    last = bisect.bisect_left(starts, span.end) - 1  # last token starting before span.end
    return first, last


def _one_line(value: str) -> str:
    return " ".join(value.split())


_README = """CoNLL export of a Warrant project.

gold.conll holds the gold standard, annotators/<name>.conll each annotator's
annotation sets. Columns (tab-separated): FORM, START, END (the token's code
point offsets into the document text, END exclusive), then one BIO column per
span label, so nested and overlapping spans of different labels are all
represented. Tokens are runs of non-whitespace; one document is one block,
introduced by "# document = <id>" and ended by a blank line.

Two spans of the same label that would share a token cannot both be written
in that label's column: the earlier one (by start, then the longer) is kept
and the other is listed in report.tsv, with every other thing BIO cannot hold
(relations, attributes, notes, spans widened to whole tokens).

Only submitted work is here: an annotator's file holds the annotation sets
they submitted, and a set still assigned or in progress is left out, so a
document missing from annotators/<name>.conll was not submitted by them, and a
block of O tags means they found no argument. The gold is always written.
Warrant's canonical JSONL export keeps every set with its status.
"""


def write_conll(
    records: Iterable[DocumentRecord], folder: str | Path, labels: Sequence[str]
) -> int:
    """Write the CoNLL files, ``report.tsv`` and ``README.txt`` into ``folder``.

    Returns the number of problems reported (rows of ``report.tsv``).
    """
    folder = Path(folder)
    count = 0
    with (
        AppendingFiles(folder) as files,
        open(folder / REPORT_NAME, "w", encoding="utf-8", newline="") as report_fh,
    ):
        report = csv.writer(report_fh, dialect="excel-tab", lineterminator="\n")
        report.writerow(["document", "annotator", "item", "problem"])
        for record in records:
            tokens = token_offsets(record.text)
            prefixes = token_prefixes(record.text, tokens)
            for where, annotation in annotation_sets(record):
                name = f"{where}.conll"
                who = annotation.annotator or "gold"
                if files.is_new(name):
                    files.write(name, conll_header(labels))
                block = conll_block(record.external_id, record.text, annotation, labels,
                                    who=who, tokens=tokens, prefixes=prefixes)
                files.write(name, block.text)
                for problem in block.problems:
                    report.writerow(
                        [problem.document, problem.annotator, problem.item, problem.problem]
                    )
                count += len(block.problems)
    (folder / README_NAME).write_text(_README, encoding="utf-8")
    return count
