"""``{{ value|figure }}``: a figure with three decimals, or "—" where it is undefined.

Agreement and grading figures are None (or NaN) when they are undefined: an F1 with
nothing on either side, an alpha over one category only. The pages' legends promise
"—" for those, never "undefined", 0 or 1; every template and view that prints such a
figure goes through ``figure``.
"""

from __future__ import annotations

import math

from django import template

register = template.Library()

#: What an undefined figure prints as (the legends of the agreement and grades pages).
UNDEFINED = "—"


@register.filter
def figure(value, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals; ``UNDEFINED`` for None, NaN or not a number."""
    if value is None or value == "":
        return UNDEFINED
    try:
        number = float(value)
    except (TypeError, ValueError):
        return UNDEFINED
    if math.isnan(number) or math.isinf(number):
        return UNDEFINED
    return f"{number:.{int(digits)}f}"
