"""Error answers in Warrant's words and layout, where Django's would be bare.

Django shows a view's ``Http404("…")`` sentence only as ``{{ exception }}``,
and fills the same variable with a class name (``Resolver404``) or a model's
name ("No ExportJob matches the given query.") otherwise; a 405 from
``require_http_methods`` has no body at all; the CSRF failure page carries an
inline style the Content Security Policy blocks. These say what happened.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

#: get_object_or_404's sentence names a model class, which means nothing to users.
_GENERIC_404 = "matches the given query."


def page_not_found(request, exception):
    """handler404: the view's own sentence when it gave one, else a plain one."""
    said = exception.args[0] if type(exception) is Http404 and exception.args else None
    message = said if isinstance(said, str) and not said.endswith(_GENERIC_404) else None
    return render(request, "404.html", {"message": message}, status=404)


def csrf_failure(request, reason=""):
    """The CSRF refusal (403), in the site's layout and under its CSP."""
    message = (
        f"CSRF verification failed ({reason}): the page was open too long or in another "
        "session. Nothing was changed; reload the page and try again."
    )
    return render(request, "403.html", {"exception": message}, status=403)


class MethodNotAllowedMiddleware:
    """Give a bodiless 405 (``require_http_methods``) a page that says what is allowed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not getattr(response, "content", b"x"):
            page = render(request, "405.html", {"allowed": response.get("Allow", "")},
                          status=405)
            page["Allow"] = response.get("Allow", "")
            return page
        return response
