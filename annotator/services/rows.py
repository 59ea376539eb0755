"""Writing rows back as they were: the same ids and the same creation times.

Backup's restore and undo/redo both put back rows that existed before; a
``created_at`` with ``auto_now_add`` would otherwise become "now".
"""

from __future__ import annotations

from django.db import models


def create_keeping_times(
    model: type[models.Model], objs: list[models.Model], names: tuple[str, ...]
) -> None:
    """bulk_create, then put back the times auto_now(_add) replaced with now."""
    kept = [[getattr(o, name) for name in names] for o in objs]
    model.objects.bulk_create(objs)
    for o, values in zip(objs, kept, strict=True):
        for name, value in zip(names, values, strict=True):
            setattr(o, name, value)
    if objs:
        model.objects.bulk_update(objs, names)  # bulk_update leaves auto_now alone
