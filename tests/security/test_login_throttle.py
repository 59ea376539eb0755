"""Login throttling: counted in the database, refused with 429, for both login pages (issue 7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from django.urls import reverse

from annotator.models import LoginFailure
from tests.factories import UserFactory

GOOD = "pw-for-tests-1"
LOGIN_PAGES = [reverse("login"), "/admin/login/"]


@pytest.fixture
def users(db):
    return {
        "alice": UserFactory(username="alice", is_staff=True),
        "bob": UserFactory(username="bob", is_staff=True),
    }


def _post(client, url, username, password, ip="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _fail(client, url, username, times, ip="10.0.0.1"):
    for _ in range(times):
        response = _post(client, url, username, "wrong", ip)
        assert response.status_code == 200  # the form again, with its error


@pytest.mark.parametrize("url", LOGIN_PAGES)
def test_five_failures_refuse_even_the_right_password(users, url):
    client = Client()
    _fail(client, url, "alice", 5)
    response = _post(client, url, "alice", GOOD)
    assert response.status_code == 429
    assert (
        "Too many failed log-ins for this account from this address; try again in 15 minutes."
        in response.content.decode()
    )
    assert 0 < int(response["Retry-After"]) <= 900
    assert "_auth_user_id" not in client.session
    # Refused attempts do not lengthen the wait.
    assert LoginFailure.objects.filter(username="alice").count() == 5


def test_four_failures_then_the_right_password_logs_in_and_forgives(users):
    client = Client()
    _fail(client, reverse("login"), "alice", 4)
    response = _post(client, reverse("login"), "alice", GOOD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(users["alice"].pk)
    assert not LoginFailure.objects.filter(username="alice").exists()


def test_other_accounts_are_unaffected(users):
    client = Client()
    _fail(client, reverse("login"), "alice", 5)
    response = _post(client, reverse("login"), "bob", GOOD)
    assert response.status_code == 302


def test_the_owner_logs_in_from_elsewhere_while_an_address_is_refused(users):
    # Five wrong passwords must not let anyone lock someone else out of their account.
    client = Client()
    _fail(client, reverse("login"), "alice", 5, ip="10.6.6.6")
    assert _post(client, reverse("login"), "alice", GOOD, ip="10.6.6.6").status_code == 429
    assert _post(Client(), reverse("login"), "alice", GOOD, ip="10.7.7.7").status_code == 302


def test_the_username_budget_ignores_case(users):
    client = Client()
    _fail(client, reverse("login"), "ALICE", 5)
    assert _post(client, reverse("login"), "alice", GOOD).status_code == 429


def test_fullwidth_letters_count_as_the_same_name_and_get_the_429_page(users):
    # Django's login form applies NFKC before authenticate(); so does the throttle.
    client = Client()
    _fail(client, reverse("login"), "alice", 5)
    response = _post(client, reverse("login"), "ａｌｉｃｅ", GOOD)
    assert response.status_code == 429


def test_after_the_window_the_account_logs_in_again_and_old_rows_are_purged(users):
    client = Client()
    _fail(client, reverse("login"), "alice", 5)
    LoginFailure.objects.update(at=LoginFailure.objects.first().at - timedelta(seconds=901))
    response = _post(client, reverse("login"), "alice", GOOD)
    assert response.status_code == 302
    assert LoginFailure.objects.count() == 0


def test_failures_from_one_address_for_many_names_refuse_that_address_only(users, settings):
    assert settings.WARRANT_LOGIN_IP_FAILURES_MAX == 100  # a classroom behind one NAT address
    settings.WARRANT_LOGIN_IP_FAILURES_MAX = 30
    client = Client()
    for n in range(30):
        _post(client, reverse("login"), f"nobody{n}", "wrong", ip="10.0.0.9")
    response = _post(client, reverse("login"), "bob", GOOD, ip="10.0.0.9")
    assert response.status_code == 429
    assert "Too many failed log-ins from this address" in response.content.decode()
    assert _post(Client(), reverse("login"), "bob", GOOD, ip="10.0.0.10").status_code == 302


def test_the_throttle_holds_in_authenticate_itself(users, rf):
    """Any other password path (a future API endpoint) is refused by the backend."""
    request = rf.post("/", REMOTE_ADDR="10.0.0.1")
    for _ in range(5):
        assert authenticate(request, username="alice", password="wrong") is None
    assert authenticate(request, username="alice", password=GOOD) is None
    assert authenticate(request, username="bob", password=GOOD) == users["bob"]


def test_limits_come_from_settings(users, settings):
    settings.WARRANT_LOGIN_FAILURES_MAX = 2
    settings.WARRANT_LOGIN_WINDOW_SECONDS = 60
    client = Client()
    _fail(client, reverse("login"), "alice", 2)
    response = _post(client, reverse("login"), "alice", GOOD)
    assert response.status_code == 429
    assert "try again in 1 minute." in response.content.decode()


def test_behind_a_proxy_the_configured_header_gives_the_address(users, settings):
    settings.WARRANT_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    client = Client()
    _fail(client, reverse("login"), "alice", 1)
    client.post(reverse("login"), {"username": "bob", "password": "wrong"},
                HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
    assert set(LoginFailure.objects.values_list("ip_address", flat=True)) == {
        "10.0.0.1", "203.0.113.7"
    }


def test_an_administrator_lifts_a_refusal_by_deleting_the_rows_in_the_admin(users, admin_client):
    client = Client()
    _fail(client, reverse("login"), "bob", 5)
    assert _post(client, reverse("login"), "bob", GOOD).status_code == 429
    ids = list(LoginFailure.objects.values_list("pk", flat=True))
    response = admin_client.post(
        reverse("admin:annotator_loginfailure_changelist"),
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert _post(client, reverse("login"), "bob", GOOD).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_the_budget_is_exact_under_concurrency(rf, monkeypatch):
    """30 wrong passwords, 15 at a time, each on its own database connection (as
    gunicorn's workers would be): at most WARRANT_LOGIN_FAILURES_MAX (5) of them
    get their password checked; the others are refused before it (issue 11, point 6)."""
    import threading

    from django.contrib.auth.hashers import MD5PasswordHasher
    from django.db import connection

    from annotator.web.security import LoginThrottled, ThrottledModelBackend
    from tests.conftest import skip_or_fail

    if connection.vendor != "postgresql":
        skip_or_fail("the concurrency of the login budget is tested on PostgreSQL")
    UserFactory(username="carol")
    checked = []  # password checks that ran
    real_verify = MD5PasswordHasher.verify

    def counting_verify(self, password, encoded):
        checked.append(password)
        return real_verify(self, password, encoded)

    monkeypatch.setattr(MD5PasswordHasher, "verify", counting_verify)
    outcomes = []
    lock = threading.Lock()

    def attempt(barrier):
        try:
            barrier.wait()
            request = rf.post("/", REMOTE_ADDR="10.9.9.9")
            try:
                result = ThrottledModelBackend().authenticate(
                    request, username="carol", password="wrong")
                outcome = "checked" if result is None else "logged in"
            except LoginThrottled:
                outcome = "refused"
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    for _wave in range(2):
        barrier = threading.Barrier(15)
        threads = [threading.Thread(target=attempt, args=(barrier,)) for _ in range(15)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert len(outcomes) == 30
    assert outcomes.count("checked") == 5, outcomes
    assert outcomes.count("refused") == 25
    assert len(checked) == 5
    assert LoginFailure.objects.filter(username="carol").count() == 5
