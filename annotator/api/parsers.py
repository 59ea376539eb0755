"""The API's JSON parser: DRF's, with nesting bounded (annotator.formats.bounded_json).

DRF's ``JSONParser`` lets a ``RecursionError`` through (a 500) for a body
nested thousands deep; this one answers 400 with one line, for any depth
beyond ``MAX_JSON_DEPTH``, before a view sees the data.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from annotator.formats.bounded_json import JSONTooDeep, nests_too_deep


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            data = None
            too_deep = True
        else:
            too_deep = nests_too_deep(data)
        if too_deep:
            raise ParseError(f"JSON parse error - the body {JSONTooDeep()}")
        return data
