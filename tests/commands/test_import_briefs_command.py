"""import_documents with PDFs and .docx files, as a researcher scripts it."""

import io

import pytest
from django.core.management import CommandError, call_command

from annotator.models import Document
from tests.formats.brief_files import TITLE, brief_article, brief_docx, two_column_pdf


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def slug(db):
    run("create_project", "briefs")
    return "briefs"


def test_a_folder_of_pdf_and_docx_briefs_is_imported_and_the_residue_reported(slug, tmp_path):
    layout = two_column_pdf(brief_article(2))
    (tmp_path / "brief.pdf").write_bytes(layout.data)
    (tmp_path / "brief-word.docx").write_bytes(brief_docx())
    lines = run("import_documents", slug, str(tmp_path)).splitlines()
    assert lines[0] == "imported 2 document(s), 0 span(s), 0 relation(s)"
    pages = layout.pages
    assert lines[1] == (
        f"cleaned {tmp_path / 'brief.pdf'}: removed {3 * pages - 1} line(s) of page residue "
        f"(page number: {pages}, running footer: {pages}, running header: {pages - 1})"
    )
    pdf, docx = Document.objects.get(source_format="pdf"), Document.objects.get(
        source_format="docx")
    assert pdf.title == docx.title == TITLE
    assert pdf.cleaning["title_from"] == "the largest type on page 1"
    assert pdf.meta["pages"] == pages
    assert pdf.original == layout.data


def test_no_clean_keeps_the_running_headers(slug, tmp_path):
    layout = two_column_pdf(brief_article(2))
    (tmp_path / "brief.pdf").write_bytes(layout.data)
    run("import_documents", slug, str(tmp_path / "brief.pdf"), "--no-clean")
    document = Document.objects.get()
    assert f"Page {layout.pages} of {layout.pages}" in document.text
    assert document.cleaning["clean"] is False


def test_a_scanned_pdf_stops_the_import_with_one_line(slug, tmp_path):
    from tests.formats.brief_files import scanned_pdf

    (tmp_path / "a.txt").write_text("A brief that would be imported.\n")
    (tmp_path / "scan.pdf").write_bytes(scanned_pdf())
    with pytest.raises(CommandError) as error:
        run("import_documents", slug, str(tmp_path))
    assert "scan.pdf: this PDF has no text layer (it is probably a scan)" in str(error.value)
    assert "\n" not in str(error.value)
    assert not Document.objects.exists()
