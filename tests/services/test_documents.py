"""Re-running a document's import with cleaning on or off, and editing its title."""

from __future__ import annotations

import itertools

import pytest

from annotator.formats.readers import read_upload
from annotator.models import AnnotationSet, Document, Span
from annotator.models.actions import AnnotationAction
from annotator.services.annotations import span_create, span_delete
from annotator.services.documents import TITLE_EDITED, document_reimport, document_title_set
from annotator.services.errors import ConflictError, WarrantError
from annotator.services.imports import documents_import
from tests.factories import UserFactory
from tests.formats.brief_files import TITLE, brief_article, two_column_pdf

ARTICLE = (
    "Why the congestion charge works\n\n"
    "Northport should price congestion before the harbour district seizes up.\n\n"
    "Average speeds on the ring road fell to eleven kilometres an hour.\n\n"
    "The revenue can fund the buses that commuters would switch to."
)
MENU = "\n".join(["Home", "Analysis", "Subscribe"] * 5)
PAGE = f"loader\nHome\nAnalysis\n\n{ARTICLE}\n\n{MENU}\n"


def _import(project, name: str, data: bytes, *, clean: bool = True) -> Document:
    documents_import(project=project, records=read_upload(name, data, clean=clean))
    return project.documents.get(original_name=name)


def _annotate(document: Document, phrases: list, *, username: str = "alice"):
    """Mark each phrase (its first occurrence, or a ``(start, end)``) in a set of its own
    annotator, through the service (so that there is undo history)."""
    user = UserFactory(username=username)
    aset = AnnotationSet.objects.create(document=document, annotator=user)
    label = document.project.span_labels.get(name="Claim")
    for phrase in phrases:
        if isinstance(phrase, tuple):
            start, end = phrase
        else:
            start = document.text.index(phrase)
            end = start + len(phrase)
        span_create(annotation_set=aset, label=label, start=start, end=end,
                    expected_version=aset.version, user=user, snap=False)
        aset.refresh_from_db()
    return aset


def _marked(aset: AnnotationSet) -> list[str]:
    text = aset.document.text
    return [text[s.start:s.end] for s in Span.objects.filter(annotation_set=aset)]


def test_a_rerun_that_leaves_the_text_unchanged_keeps_everything(project):
    document = _import(project, "clean.txt", ARTICLE.encode())
    aset = _annotate(document, ["Northport should price congestion"])
    report = document_reimport(document=document, clean=False)
    assert not report.text_changed
    assert report.message() == "Import re-run with cleaning off: the text is unchanged."
    document.refresh_from_db()
    assert document.cleaning["clean"] is False
    assert AnnotationSet.objects.get(pk=aset.pk).version == aset.version
    assert AnnotationAction.objects.filter(annotation_set=aset).count() == 1
    assert _marked(aset) == ["Northport should price congestion"]


def test_cleaning_off_puts_the_residue_back_and_the_spans_move_with_their_words(project):
    document = _import(project, "page.txt", PAGE.encode())
    assert document.text == ARTICLE
    assert document.cleaning["clean"] is True
    assert document.cleaning["removed_lines"] == 18
    phrases = ["Northport should price congestion", "eleven kilometres an hour",
               "fund the buses"]
    aset = _annotate(document, phrases)
    before = [(s.start, s.end) for s in Span.objects.filter(annotation_set=aset)]

    report = document_reimport(document=document, clean=False)
    document.refresh_from_db()
    assert document.text == PAGE
    assert report.text_changed and report.spans_moved == 3
    assert report.message() == (
        "Import re-run with cleaning off: the text changed; 3 span(s) moved with their words."
    )
    assert _marked(AnnotationSet.objects.get(pk=aset.pk)) == phrases
    assert document.cleaning["clean"] is False
    assert "removed" not in document.cleaning
    # Pages open on the old text must reload; the undo log (old offsets) is gone.
    assert AnnotationSet.objects.get(pk=aset.pk).version == aset.version + 1
    assert not AnnotationAction.objects.filter(annotation_set=aset).exists()

    # And back: cleaning on gives the first text and the first offsets again.
    document_reimport(document=document, clean=True)
    document.refresh_from_db()
    assert document.text == ARTICLE
    assert [(s.start, s.end) for s in Span.objects.filter(annotation_set=aset)] == before


def test_a_span_under_text_that_would_change_stops_the_rerun_and_nothing_changes(project):
    layout = two_column_pdf(brief_article(2))
    document = _import(project, "brief.pdf", layout.data)
    # A paragraph that goes on to the next page: without cleaning, the footer, the
    # page number and the next page's header come between its two halves.
    page_map = document.meta["page_map"]
    first, second = next((a, b) for a, b in itertools.pairwise(page_map)
                         if a[1] == b[0] and b[2] == a[2] + 1)
    across = (first[1] - 12, second[0] + 12)
    aset = _annotate(document, [across, "Five reasons to act now (part 1)"])
    across_text = document.text[across[0]:across[1]]
    text, meta, version = document.text, document.meta, aset.version

    with pytest.raises(WarrantError) as error:
        document_reimport(document=document, clean=False)
    assert str(error.value) == (
        "re-running the import with cleaning off would change the text under 1 of the 2 "
        "span(s) in 1 annotation set(s), so nothing was changed: their words would not be "
        "the same"
    )
    document.refresh_from_db()
    assert (document.text, document.meta) == (text, meta)
    assert AnnotationSet.objects.get(pk=aset.pk).version == version
    assert _marked(aset) == ["Five reasons to act now (part 1)", across_text]


def test_a_pdf_rerun_without_cleaning_updates_the_page_map_and_keeps_spans_elsewhere(project):
    layout = two_column_pdf(brief_article(2))
    document = _import(project, "brief.pdf", layout.data)
    aset = _annotate(document, ["Five reasons to act now (part 1)", TITLE])
    report = document_reimport(document=document, clean=False)
    document.refresh_from_db()
    assert report.text_changed
    assert "Page 1 of" in document.text
    assert _marked(AnnotationSet.objects.get(pk=aset.pk)) == [
        TITLE, "Five reasons to act now (part 1)"]
    # The page map is the new text's: each page number sits in a run of its page.
    assert document.meta["pages"] == layout.pages
    runs = {start: page for start, _, page in document.meta["page_map"]}
    for number in range(1, layout.pages + 1):
        assert runs[document.text.index(f"Page {number} of {layout.pages}")] == number


def test_spans_that_were_deleted_leave_no_undo_that_could_bring_back_old_offsets(project):
    document = _import(project, "page.txt", PAGE.encode())
    aset = _annotate(document, ["eleven kilometres"])
    span_delete(span=Span.objects.get(annotation_set=aset), expected_version=aset.version)
    assert AnnotationAction.objects.filter(annotation_set=aset).count() == 2
    document_reimport(document=document, clean=False)
    assert not AnnotationAction.objects.filter(annotation_set=aset).exists()


def test_annotated_documents_have_no_import_to_rerun(project):
    txt = b"We must act. Sanctions work."
    ann = b"T1\tClaim 0 12\tWe must act.\n"
    from annotator.formats.readers import read_uploads

    documents_import(project=project, records=read_uploads([("d.txt", txt), ("d.ann", ann)]))
    document = project.documents.get()
    with pytest.raises(WarrantError, match=r"^this document came with annotations \(brat\): "):
        document_reimport(document=document, clean=False)


def test_a_rerun_that_would_duplicate_another_document_is_refused(project):
    data = (ARTICLE + "\n\nHome\nHome\nHome").encode()
    _import(project, "article.txt", data, clean=False)
    document = _import(project, "page.txt", data)
    # Cleaned, page.txt is the article alone; without cleaning it would be article.txt.
    with pytest.raises(WarrantError, match="would be the same as document article's"):
        document_reimport(document=document, clean=False)


def test_title_edit_is_kept_by_reruns_and_refused_when_stale(project):
    document = _import(project, "page.txt", PAGE.encode())
    assert document.title == "Why the congestion charge works"
    document_title_set(document=document, title="  Price   congestion now ",
                       expected_title="Why the congestion charge works")
    document.refresh_from_db()
    assert document.title == "Price congestion now"
    assert document.cleaning["title_from"] == TITLE_EDITED
    document_reimport(document=document, clean=False)
    document.refresh_from_db()
    assert document.title == "Price congestion now"
    assert document.cleaning["title_from"] == TITLE_EDITED
    with pytest.raises(ConflictError, match="changed the title meanwhile to “Price congestion"):
        document_title_set(document=document, title="Other", expected_title="Old title")
    for bad, reason in [("   ", "cannot be empty"), ("x" * 301, "at most 300"),
                        ("a\x00b", "NUL")]:
        with pytest.raises(WarrantError, match=reason):
            document_title_set(document=document, title=bad)
    document.refresh_from_db()
    assert document.title == "Price congestion now"


def test_exports_carry_the_page_map_and_a_reimport_gives_it_back(project, tmp_path):
    import json

    from annotator.services.exports import export_write
    from tests.factories import ProjectFactory

    layout = two_column_pdf(brief_article(2))
    document = _import(project, "brief.pdf", layout.data)
    export_write(project=project, format="jsonl", path=tmp_path / "out.jsonl")
    [line] = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text("utf-8").splitlines()]
    assert line["meta"] == {"pages": layout.pages, "page_map": document.meta["page_map"]}
    assert line["title"] == TITLE
    # The canonical JSONL round trip keeps it (and never cleans text that came with it).
    copy = ProjectFactory(slug="copy")
    documents_import(project=copy, records=read_upload("out.jsonl",
                                                       (tmp_path / "out.jsonl").read_bytes()))
    assert copy.documents.get().meta == document.meta
