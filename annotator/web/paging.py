"""One page of a long list, the same way on every page (issue 12: bounded work).

No page renders all of a project: members, assignments, progress rows, grades
and curation candidates come ``PAGE_SIZE`` at a time, with the pager partial
``annotator/_pager.html``. Read at call time, so tests can make pages small.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Page, Paginator

# Fifty rows keep a page of members, assignments or grades near 100 KB of HTML
# at most; more is what search and the CSV downloads are for.
PAGE_SIZE = 50

# A search box, not a query language: longer input is cut (titles and usernames are short).
SEARCH_MAX_CHARS = 200


def page_of(request, items, *, param: str = "page", per_page: int | None = None) -> Page:
    """The page of ``items`` (a queryset or a list) that ``request.GET[param]`` names."""
    return Paginator(items, per_page or PAGE_SIZE).get_page(request.GET.get(param))


def keep_params(**params) -> str:
    """Query parameters a pager's links carry along (``q=..&``), or ''."""
    kept = {k: v for k, v in params.items() if v}
    return urlencode(kept) + "&" if kept else ""
