from django.urls import reverse


def test_login_page_has_labelled_username_and_password(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">' in html
    assert '<label for="id_password">' in html


def test_login_with_good_password_goes_home(client, members):
    response = client.post(
        reverse("login"), {"username": "annotator", "password": "pw-for-tests-1"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_login_with_bad_password_shows_an_error(client, members):
    response = client.post(reverse("login"), {"username": "annotator", "password": "wrong"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_redirects_to_next(client, members, project):
    url = reverse("project-detail", kwargs={"slug": project.slug})
    response = client.post(
        reverse("login"), {"username": "viewer", "password": "pw-for-tests-1", "next": url}
    )
    assert response["Location"] == url


def test_logout_is_a_post_form_and_logs_out(client_for):
    client = client_for("viewer")
    html = client.get(reverse("home")).content.decode()
    assert f'method="post" action="{reverse("logout")}"' in html
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
