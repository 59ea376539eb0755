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


def page_of_rows(request, queryset, fetch, *, param: str = "page") -> Page:
    """A page of ``queryset`` found by its primary keys, then read with ``fetch``.

    Counting and skipping (OFFSET) read only the ordered keys, which an index on
    the ordering answers without touching the rows (a project's documents by
    ``(project, position, id)``): the last of 2,000 pages costs about what the first
    does. ``fetch(pks)`` reads the page's own rows, with any per-row aggregates,
    for those keys only; the page keeps the order of ``queryset``.
    """
    page = page_of(request, queryset.values_list("pk", flat=True), param=param)
    pks = list(page.object_list)
    rows = {row.pk: row for row in fetch(pks)}
    page.object_list = [rows[pk] for pk in pks if pk in rows]
    return page
