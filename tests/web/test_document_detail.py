from django.urls import reverse

from tests.factories import DocumentFactory


def document_url(project, document):
    return reverse("document-detail", kwargs={"slug": project.slug, "document_id": document.pk})


def test_document_page_shows_title_metadata_and_text_with_whitespace_kept(client_for, project):
    text = "Sanctions work 🙂.\n\n  Indented reason.\n"
    document = DocumentFactory(
        project=project, title="Export controls", text=text, meta={"source": "think tank"}
    )
    response = client_for("viewer").get(document_url(project, document))
    html = response.content.decode()
    assert "<h1>Export controls</h1>" in html
    assert "think tank" in html
    assert '<div class="document-text"' in html
    assert "Sanctions work 🙂.\n\n  Indented reason.\n</div>" in html
    assert response.context["words"] == 5


def test_document_page_escapes_the_text(client_for, project):
    document = DocumentFactory(project=project, text="<script>alert(1)</script> is text here.")
    html = client_for("viewer").get(document_url(project, document)).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


def test_document_page_shows_what_cleaning_removed(client_for, project):
    document = DocumentFactory(
        project=project,
        cleaning={
            "removed_lines": 9,
            "removed_chars": 89,
            "reasons": {"chrome": 2, "menu": 7},
            "samples": ["Skip to content", "Advertisement"],
        },
    )
    html = client_for("annotator").get(document_url(project, document)).content.decode()
    assert "removed 9 lines" in html
    assert "<td>menu</td><td>7</td>" in html
    assert "Skip to content" in html


def test_document_page_says_when_nothing_was_cleaned(client_for, project, document):
    html = client_for("annotator").get(document_url(project, document)).content.decode()
    assert "Nothing was removed" in html


def test_project_page_links_each_document_to_its_page(client_for, project, document):
    url = reverse("project-detail", kwargs={"slug": project.slug})
    assert document_url(project, document) in client_for("viewer").get(url).content.decode()
