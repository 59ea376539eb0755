"""The database-outage middleware's answers, in-process and without touching the database."""

import json
import logging

import pytest
from django.core.handlers.exception import convert_exception_to_response
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.test import RequestFactory

from annotator.web.outage import (
    HTMX_MESSAGE,
    MESSAGE,
    RETRY_AFTER_SECONDS,
    DatabaseOutageMiddleware,
)


def refusing_view(request):
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')


@pytest.fixture
def middleware():
    return DatabaseOutageMiddleware(lambda request: HttpResponse("fine"))


def test_a_page_gets_the_503_page_with_retry_after(middleware, caplog):
    request = RequestFactory().get("/p/demo/")
    with caplog.at_level(logging.ERROR, logger="annotator.web.outage"):
        response = middleware.process_exception(request, OperationalError("connection refused"))
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert MESSAGE in html and "<title>" in html
    assert "database unreachable, answered 503: GET /p/demo/: OperationalError" in caplog.text


def test_the_api_gets_a_json_detail(middleware):
    response = middleware.process_exception(RequestFactory().get("/api/projects/"),
                                            InterfaceError("connection already closed"))
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert json.loads(response.content) == {"detail": MESSAGE}


def test_an_htmx_save_gets_one_plain_line(middleware):
    request = RequestFactory().post("/p/demo/d/1/annotate/spans/", HTTP_HX_REQUEST="true")
    response = middleware.process_exception(request, OperationalError("refused"))
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == HTMX_MESSAGE


def test_other_errors_are_left_to_django(middleware):
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("bug")) is None
    assert middleware(RequestFactory().get("/")).content == b"fine"


def test_an_error_raised_in_an_inner_middleware_becomes_a_503_too(settings, caplog):
    """Django turns it into a 500 at that middleware's level; the 503 replaces it."""
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    chain = DatabaseOutageMiddleware(convert_exception_to_response(refusing_view))
    with caplog.at_level(logging.ERROR, logger="annotator.web.outage"):
        response = chain(RequestFactory().get("/p/demo/"))
    assert response.status_code == 503
    assert MESSAGE in response.content.decode()
    assert caplog.text.count("database unreachable, answered 503") == 1


def test_the_answers_need_no_database(middleware, django_assert_num_queries, db):
    with django_assert_num_queries(0):
        for path in ("/p/demo/", "/api/projects/"):
            middleware.process_exception(RequestFactory().get(path), OperationalError("down"))
