import pytest

from annotator.models import Membership, User
from annotator.services.errors import WarrantError
from annotator.services.members import members_add, members_add_from_rows, parse_members_csv
from tests.factories import UserFactory


@pytest.mark.django_db
def test_existing_users_get_the_role_and_a_second_call_changes_it(project):
    UserFactory(username="ann"), UserFactory(username="ben")
    report = members_add(project=project, role="annotator", usernames=["ann", "ben"])
    assert report.added == ["ann", "ben"]
    report = members_add(project=project, role="curator", usernames=["ann"])
    assert report.role_changed == ["ann"]
    assert Membership.objects.get(project=project, user__username="ann").role == "curator"


@pytest.mark.django_db
def test_unknown_user_is_refused_and_nobody_is_added(project):
    UserFactory(username="ann")
    with pytest.raises(WarrantError, match="no such user: ghost"):
        members_add(project=project, role="annotator", usernames=["ann", "ghost"])
    assert project.memberships.count() == 0


@pytest.mark.django_db
def test_unknown_role_is_refused(project):
    with pytest.raises(WarrantError, match="unknown role"):
        members_add(project=project, role="owner", usernames=[])


@pytest.mark.django_db
def test_csv_creates_new_users_with_their_passwords(project):
    rows = parse_members_csv(
        "username,email,password\nstu1,stu1@example.org,Correct-Horse-9\n"
        "stu2,stu2@example.org,Battery-Staple-7\n"
    )
    report = members_add_from_rows(project=project, role="annotator", rows=rows)
    assert report.users_created == ["stu1", "stu2"]
    assert User.objects.get(username="stu1").check_password("Correct-Horse-9")
    assert project.memberships.filter(role="annotator").count() == 2


@pytest.mark.django_db
def test_csv_with_a_bad_row_writes_nothing_and_names_the_line(project):
    rows = parse_members_csv("stu1,a@example.org,Correct-Horse-9\nstu2,b@example.org,123\n",
                             source="class.csv")
    with pytest.raises(WarrantError, match=r"class.csv:2"):
        members_add_from_rows(project=project, role="annotator", rows=rows, source="class.csv")
    assert not User.objects.filter(username__in=["stu1", "stu2"]).exists()
    assert project.memberships.count() == 0


@pytest.mark.django_db
def test_csv_with_a_bad_email_is_refused_naming_the_row_and_nothing_is_added(project):
    rows = parse_members_csv("stu1,a@example.org,Correct-Horse-9\n", source="class.csv")
    with pytest.raises(WarrantError, match=r"^class.csv:2: 'b at example' is not a valid e-mail"):
        parse_members_csv("stu1,a@example.org,Correct-Horse-9\nstu2,b at example,Battery-7-x\n",
                          source="class.csv")
    # Rows made some other way are checked too, before anything is written.
    rows.append({"line": 3, "username": "stu3", "email": "c@", "password": "Battery-7-x"})
    with pytest.raises(WarrantError, match=r"^class.csv:3: 'c@' is not a valid e-mail") as info:
        members_add_from_rows(project=project, role="annotator", rows=rows, source="class.csv")
    assert "\n" not in str(info.value)
    assert not User.objects.filter(username__in=["stu1", "stu2", "stu3"]).exists()
    assert project.memberships.count() == 0


@pytest.mark.django_db
def test_csv_email_may_be_left_empty(project):
    rows = parse_members_csv("stu1,,Correct-Horse-9\n")
    members_add_from_rows(project=project, role="annotator", rows=rows)
    assert User.objects.get(username="stu1").email == ""
