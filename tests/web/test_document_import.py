import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotator.models import AnnotationSet, Document, Span

PAGE_RESIDUE = (
    "Skip to content\nAdvertisement\nHome\nSubscribe\nAbout us\n\n"
    "Sanctions work. They cut exports.\n\nHome\nSubscribe\nAbout us\nContact\n"
)


def upload(name: str, content: str | bytes) -> SimpleUploadedFile:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return SimpleUploadedFile(name, data)


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def post_import(client_for, project):
    """POST files to the import page as the manager; options default to the form's."""
    url = reverse("document-import", kwargs={"slug": project.slug})

    def post(*files, clean=True, add_labels=False, annotator="", follow=False):
        data = {"files": list(files), "annotator": annotator}
        if clean:
            data["clean"] = "on"
        if add_labels:
            data["add_labels"] = "on"
        return client_for("manager").post(url, data, follow=follow)

    return post


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_import_form_has_labelled_controls_and_clean_checked_by_default(client_for, project):
    response = client_for("manager").get(reverse("document-import", kwargs={"slug": project.slug}))
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file" name="files"' in html and " multiple " in html
    assert '<label for="id_files">' in html
    assert re.search(r'<input type="checkbox" name="clean"[^>]* checked>', html)
    assert re.search(r'<input type="checkbox" name="add_labels"[^>]*id="id_add_labels">', html)
    annotator_input = r'<input type="text" name="annotator" maxlength="150"[^>]*id="id_annotator"'
    assert re.search(annotator_input, html)
    assert "empty for the gold standard" in html


def test_import_for_someone_who_is_not_an_annotator_is_refused(post_import, project, members):
    response = post_import(
        SimpleUploadedFile("a.txt", b"Sanctions work."), annotator="viewer"
    )
    assert response.status_code == 400
    assert "viewer is not an annotator of this project." in response.content.decode()
    assert not Document.objects.filter(project=project).exists()


def test_import_txt_with_crlf_and_emoji_keeps_the_emoji_and_uses_newlines(post_import, project):
    response = post_import(upload("brief.txt", "Sanctions work 🙂.\r\nExports fell.\r\n"))
    assert response.status_code == 302
    assert response["Location"] == reverse("project-detail", kwargs={"slug": project.slug})
    document = Document.objects.get(project=project)
    assert document.text == "Sanctions work 🙂.\nExports fell.\n"
    assert bytes(document.original) == "Sanctions work 🙂.\r\nExports fell.\r\n".encode()


def test_import_success_redirects_with_the_report_lines(post_import):
    response = post_import(upload("brief.txt", "Sanctions work."), follow=True)
    assert response.status_code == 200
    assert messages_of(response)[0] == "imported 1 document(s), 0 span(s), 0 relation(s)"
    assert "imported 1 document(s)" in response.content.decode()


def test_import_zip_imports_every_document_in_it(post_import, project):
    archive = zipped({"a.txt": "First brief.", "b/c.md": "# Second brief\n\nText."})
    response = post_import(upload("briefs.zip", archive), follow=True)
    assert sorted(project.documents.values_list("external_id", flat=True)) == ["a", "c"]
    assert messages_of(response)[0].startswith("imported 2 document(s)")


def test_import_brat_pair_uploaded_together_becomes_a_gold_set(post_import, project):
    response = post_import(
        upload("brief.txt", "Sanctions work 🙂.\r\nExports fell."),
        upload(
            "brief.ann",
            "T1\tClaim 0 17\tSanctions work 🙂.\nT2\tEvidence 19 31\tExports fell\n"
            "R1\tsupports Arg1:T2 Arg2:T1\n",
        ),
    )
    assert response.status_code == 302
    document = Document.objects.get(project=project)
    gold = AnnotationSet.objects.get(document=document)
    assert gold.is_gold
    spans = [(s.label.name, document.text[s.start : s.end]) for s in gold.spans.all()]
    assert spans == [("Claim", "Sanctions work 🙂."), ("Evidence", "Exports fell")]
    assert gold.relations.count() == 1


def test_import_brat_pair_for_a_chosen_annotator(post_import, project, members):
    post_import(
        upload("brief.txt", "Sanctions work."),
        upload("brief.ann", "T1\tClaim 0 14\tSanctions work\n"),
        annotator="annotator",
    )
    aset = AnnotationSet.objects.get(document__project=project)
    assert not aset.is_gold
    assert aset.annotator == members["annotator"]


def test_brat_span_outside_its_text_is_refused_in_one_line_and_nothing_is_written(
    post_import, project
):
    response = post_import(
        upload("a-good.txt", "A good brief."),
        upload("bad.txt", "Short."),
        upload("bad.ann", "T1\tClaim 0 99\tShort.\n"),
    )
    assert response.status_code == 400
    error = response.context["error"]
    assert "\n" not in error
    assert error.startswith("bad.ann")
    assert "outside the text" in error
    assert error in response.content.decode()
    assert project.documents.count() == 0
    assert Span.objects.count() == 0


def test_an_error_after_some_documents_were_written_rolls_the_whole_import_back(
    post_import, project
):
    # a-good.txt is written first; the unknown label fails inside the transaction.
    response = post_import(
        upload("a-good.txt", "A good brief."),
        upload("z-odd.txt", "An odd brief."),
        upload("z-odd.ann", "T1\tBanana 0 6\tAn odd\n"),
    )
    assert response.status_code == 400
    assert "'Banana' is not in the project's schema" in response.context["error"]
    assert project.documents.count() == 0
    assert not project.span_labels.filter(name="Banana").exists()


def test_add_unknown_labels_adds_them_to_the_schema(post_import, project):
    response = post_import(
        upload("odd.txt", "An odd brief."),
        upload("odd.ann", "T1\tBanana 0 6\tAn odd\n"),
        add_labels=True,
        follow=True,
    )
    assert project.span_labels.filter(name="Banana").exists()
    assert "added to the schema: Banana" in messages_of(response)


def test_duplicate_document_is_skipped_and_the_message_says_so(post_import, project):
    post_import(upload("brief.txt", "Sanctions work."))
    response = post_import(upload("copy.txt", "Sanctions work."), follow=True)
    assert project.documents.count() == 1
    lines = messages_of(response)
    assert lines[0].startswith("imported 0 document(s)")
    assert "skipped copy.txt: already in the project (same text)" in lines


def test_cleaning_removes_page_residue_and_the_message_says_what(post_import, project):
    response = post_import(upload("page.txt", PAGE_RESIDUE), follow=True)
    document = project.documents.get()
    assert document.text == "Sanctions work. They cut exports."
    assert (
        "cleaned page.txt: removed 9 line(s) of page residue (chrome: 2, menu: 7)"
        in messages_of(response)
    )


def test_without_cleaning_the_text_is_kept(post_import, project):
    post_import(upload("page.txt", PAGE_RESIDUE), clean=False)
    assert project.documents.get().text.startswith("Skip to content\nAdvertisement")


def test_unsupported_file_type_is_refused_with_a_one_line_message(post_import, project):
    response = post_import(upload("brief.key", b"slides"))
    assert response.status_code == 400
    assert response.context["error"].startswith("brief.key: unsupported file type")
    assert project.documents.count() == 0


def test_upload_larger_than_the_limit_is_refused(post_import, project, settings):
    settings.WARRANT_MAX_UPLOAD_BYTES = 1024
    response = post_import(upload("big.txt", "word " * 1000))
    assert response.status_code == 400
    html = response.content.decode()
    assert "The upload is 4.9\xa0KB; the limit is 1.0\xa0KB." in html
    assert project.documents.count() == 0


def test_adding_a_label_refuses_a_name_the_schema_editor_would_refuse(post_import, project):
    # Such a name could not be shown or edited on the settings page afterwards.
    response = post_import(
        upload("odd.txt", "An odd brief."),
        upload("odd.ann", "T1\t<img 0 6\tAn odd\n"),
        add_labels=True,
    )
    assert response.status_code == 400
    assert "cannot add label '<img'" in response.context["error"]
    assert project.documents.count() == 0
    assert not project.span_labels.filter(name="<img").exists()


def test_the_models_refuse_a_label_name_outside_the_schema_rule(project):
    # The admin's forms (the project's label and relation type inlines) run these validators.
    from django.core.exceptions import ValidationError

    for item in (project.span_labels.first(), project.relation_types.first()):
        item.name = "<svg onload=x>"
        with pytest.raises(ValidationError, match="A name must start with a letter"):
            item.full_clean()


def test_an_annotation_conf_uploaded_with_its_brat_pair_becomes_the_schema(post_import,
                                                                           project):
    conf = ("[entities]\nPremise\nClaim\n[relations]\nSupport\tArg1:Premise, Arg2:Claim\n"
            "[attributes]\n[events]\n")
    ann = ("T1\tClaim 0 12\tWe must act.\nT2\tPremise 13 21\tBecause.\n"
           "R1\tSupport Arg1:T2 Arg2:T1\t\n")
    response = post_import(upload("annotation.conf", conf),
                           upload("a.txt", "We must act. Because."), upload("a.ann", ann),
                           follow=True)
    assert response.status_code == 200
    assert [lab.name for lab in project.span_labels.order_by("position")] == ["Premise", "Claim"]
    assert list(project.relation_types.values_list("name", "allowed")) == [
        ("Support", [["Premise", "Claim"]])]
    assert any(m.startswith("the schema is now annotation.conf's: Premise, Claim")
               for m in messages_of(response))
    assert Span.objects.filter(annotation_set__document__project=project).count() == 2
