"""``/favicon.ico``: Warrant's icon where browsers look for it, on every page's origin.

Browsers ask ``/favicon.ico`` whatever a page's ``<link rel=icon>`` says (and feed
readers, bookmarks and tabs opened from the API do too). The icon is a static file of
the app; this view serves it at the root, with no session and no database, cached for
a day.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

ICON = Path(__file__).resolve().parents[1] / "static" / "annotator" / "favicon.ico"
#: A day: long enough that the icon is not asked for on every page, short enough for a
#: new one to show after an upgrade.
ICON_MAX_AGE = 24 * 3600


@cache
def _icon() -> bytes:
    return ICON.read_bytes()


@require_safe
@cache_control(public=True, max_age=ICON_MAX_AGE)
def favicon(request):
    return HttpResponse(_icon(), content_type="image/x-icon")
