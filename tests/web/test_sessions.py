"""The session store and the logged-in user's read (annotator.web.sessions, security)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from annotator.models import WebSession as Session


def test_a_live_session_logs_the_user_in(client_for):
    response = client_for("annotator").get(reverse("home"))
    assert response.status_code == 200
    assert response.wsgi_request.user.username == "annotator"


def test_an_expired_session_is_no_log_in(client_for):
    client = client_for("annotator")
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert not response.wsgi_request.user.is_authenticated


def test_an_unknown_session_key_is_no_log_in(client_for):
    client = client_for("annotator")
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert not response.wsgi_request.user.is_authenticated


def test_a_deactivated_user_is_logged_out(client_for, members):
    client = client_for("annotator")
    members["annotator"].is_active = False
    members["annotator"].save(update_fields=["is_active"])
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert not response.wsgi_request.user.is_authenticated


def test_a_changed_password_ends_the_other_sessions(client_for, members):
    client = client_for("annotator")
    members["annotator"].set_password("a-new-password-1")
    members["annotator"].save(update_fields=["password"])
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert not response.wsgi_request.user.is_authenticated


def _save(client, document, project, version=0):
    kwargs = {"slug": project.slug, "document_id": document.pk}
    return client.post(reverse("annotate-span-create", kwargs=kwargs),
                       {"label": project.span_labels.get(name="Claim").pk, "start": 0, "end": 5,
                        "expected_version": version}, HTTP_HX_REQUEST="true")


def test_a_save_reads_its_user_with_the_set_and_checks_the_session_all_the_same(
        client_for, members, document, project):
    """A write reads the user and their set in one statement (selectors.annotations.
    user_with_own_set): the session must still verify, and the set is the user's own."""
    from annotator.models import Span
    from tests.factories import AnnotationSetFactory

    own = AnnotationSetFactory(document=document, annotator=members["annotator"])
    AnnotationSetFactory(document=document, annotator=members["curator"])
    assert _save(client_for("annotator"), document, project).status_code == 200
    assert list(Span.objects.values_list("annotation_set", flat=True)) == [own.pk]
    # Another member with a set of their own writes to theirs only; a viewer has none.
    assert _save(client_for("viewer"), document, project).status_code == 403
    stale = client_for("annotator")
    members["annotator"].set_password("a-new-password-2")
    members["annotator"].save(update_fields=["password"])
    response = _save(stale, document, project, version=1)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    members["annotator"].is_active = False
    members["annotator"].save(update_fields=["is_active"])
    assert _save(client_for("annotator"), document, project, version=1).status_code == 302
    assert Span.objects.count() == 1
