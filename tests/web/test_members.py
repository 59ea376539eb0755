"""The members page: add, CSV, roles, removal, the join code and the join pages."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotator.models import Membership, User
from annotator.services.projects import project_join_code_regenerate


def members_url(project, name="members", **kw):
    return reverse(name, kwargs={"slug": project.slug, **kw})


def test_the_page_lists_members_and_the_join_link(client_for, project):
    project_join_code_regenerate(project=project)
    body = client_for("manager").get(members_url(project)).content.decode()
    for name in ("manager", "curator", "annotator", "viewer"):
        assert f'id="member-{User.objects.get(username=name).pk}"' in body
    assert project.join_code in body
    assert reverse("join-code", kwargs={"code": project.join_code}) in body


def test_add_one_by_one(client_for, project, members):
    response = client_for("manager").post(members_url(project, "member-add"),
                                          {"usernames": "outsider", "role": "curator"})
    assert response.status_code == 302
    assert Membership.objects.get(project=project, user=members["non_member"]).role == "curator"


def test_add_an_unknown_user_shows_the_error_in_the_htmx_table(client_for, project):
    response = client_for("manager").post(
        members_url(project, "member-add"), {"usernames": "ghost", "role": "annotator"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="member-table"')
    assert "no such user: ghost" in body


def test_csv_upload_creates_students(client_for, project):
    data = b"username,email,password\nstu1,s1@example.org,Corr3ct-Horse-1\nstu2,,Corr3ct-Horse-2\n"
    upload = SimpleUploadedFile("class.csv", data, content_type="text/csv")
    response = client_for("manager").post(members_url(project, "members-csv"),
                                          {"role": "annotator", "file": upload})
    assert response.status_code == 302
    assert set(Membership.objects.filter(project=project, role="annotator")
               .values_list("user__username", flat=True)) == {"annotator", "stu1", "stu2"}
    assert User.objects.get(username="stu1").check_password("Corr3ct-Horse-1")


def test_a_bad_csv_adds_nobody_and_says_why(client_for, project):
    data = b"stu1,s1@example.org,Corr3ct-Horse-1\nstu2,,\n"
    upload = SimpleUploadedFile("class.csv", data, content_type="text/csv")
    client = client_for("manager")
    response = client.post(members_url(project, "members-csv"),
                           {"role": "annotator", "file": upload}, follow=True)
    assert "class.csv:2: new user &#x27;stu2&#x27; needs a password" in response.content.decode()
    assert not User.objects.filter(username="stu1").exists()


def test_change_role_with_htmx_and_without(client_for, project, members):
    viewer = members["viewer"]
    client = client_for("manager")
    response = client.post(members_url(project, "member-role", user_id=viewer.pk),
                           {"role": "curator"}, HTTP_HX_REQUEST="true")
    assert "viewer is now a curator" in response.content.decode()
    response = client.post(members_url(project, "member-role", user_id=viewer.pk),
                           {"role": "annotator"})
    assert response.status_code == 302
    assert Membership.objects.get(project=project, user=viewer).role == "annotator"


def test_the_last_manager_cannot_demote_themself(client_for, project, members):
    manager = members["manager"]
    response = client_for("manager").post(
        members_url(project, "member-role", user_id=manager.pk), {"role": "viewer"}, follow=True
    )
    assert "only manager" in response.content.decode()
    assert Membership.objects.get(project=project, user=manager).role == "manager"


def test_remove(client_for, project, members):
    response = client_for("manager").post(
        members_url(project, "member-remove", user_id=members["viewer"].pk))
    assert response.status_code == 302
    assert not Membership.objects.filter(project=project, user=members["viewer"]).exists()


def test_a_non_member_user_id_is_404(client_for, project, members):
    response = client_for("manager").post(
        members_url(project, "member-role", user_id=members["non_member"].pk), {"role": "viewer"})
    assert response.status_code == 404


def test_regenerate_and_switch_off_the_code(client_for, project):
    project_join_code_regenerate(project=project)
    old = project.join_code
    client = client_for("manager")
    client.post(members_url(project, "join-code-regenerate"), {"enabled": "1"})
    project.refresh_from_db()
    assert project.join_code and project.join_code != old
    client.post(members_url(project, "join-code-regenerate"), {"enabled": "0"})
    project.refresh_from_db()
    assert project.join_code == ""


def test_a_student_joins_by_typing_the_code(client_for, project, members):
    project_join_code_regenerate(project=project)
    response = client_for("non_member").post(reverse("join"), {"code": project.join_code})
    assert response["Location"] == reverse("project-detail", kwargs={"slug": project.slug})
    assert Membership.objects.get(project=project, user=members["non_member"]).role == "annotator"


def test_a_wrong_code_says_so(client_for, project):
    response = client_for("non_member").post(reverse("join"), {"code": "wrong"})
    assert response.status_code == 400
    assert "no project has this join code" in response.content.decode()


def test_the_join_link_asks_before_joining(client_for, project, members):
    project_join_code_regenerate(project=project)
    link = reverse("join-code", kwargs={"code": project.join_code})
    client = client_for("non_member")
    page = client.get(link)
    assert f"Join {project.name}" in page.content.decode()
    assert not Membership.objects.filter(user=members["non_member"]).exists()
    client.post(link)
    assert Membership.objects.filter(project=project, user=members["non_member"]).exists()


def test_a_dead_join_link_is_404(client_for, project):
    response = client_for("non_member").get(reverse("join-code", kwargs={"code": "dead"}))
    assert response.status_code == 404
    assert "does not work any more" in response.content.decode()


def test_anonymous_join_goes_to_login_first(client_for, project):
    project_join_code_regenerate(project=project)
    link = reverse("join-code", kwargs={"code": project.join_code})
    response = client_for("anonymous").get(link)
    assert response["Location"] == reverse("login") + "?next=" + link
