"""The zones drawn on the alert pages' maps: simplified outlines, cached per process."""
from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import select

from admin_ui import db
from notifier import outlines
from notifier.models import Zone

MAP_ZONES = 500
CACHED_OUTLINES = 2_000

_cache: OrderedDict[tuple, dict | None] = OrderedDict()
_lock = threading.Lock()


def zone_rows(limit: int = MAP_ZONES, codes: list[str] | None = None) -> list[dict]:
    """[{code, name, geometry}] of the first `limit` zones by name (only those in `codes` when
    given), each geometry a simplified outline (None for a zone without one). A zone's stored
    geometry is read only when its outline is not cached for its current version (updated_at)."""
    session = db()
    query = select(Zone.code, Zone.name, Zone.updated_at)
    if codes is not None:
        query = query.where(Zone.code.in_(codes))
    rows = session.execute(query.order_by(Zone.name).limit(limit)).all()
    cap = outlines.vertex_cap(len(rows))
    keys = {code: (code, updated_at, cap) for code, _name, updated_at in rows}
    with _lock:
        found = {}
        for code, key in keys.items():
            if key in _cache:
                _cache.move_to_end(key)
                found[code] = _cache[key]
    missing = [code for code in keys if code not in found]
    if missing:
        stored = session.execute(select(Zone.code, Zone.geometry).where(Zone.code.in_(missing)))
        fresh = {code: outlines.outline(geometry, cap) if geometry else None
                 for code, geometry in stored}
        with _lock:
            for code, shape in fresh.items():
                _cache[keys[code]] = shape
            while len(_cache) > CACHED_OUTLINES:
                _cache.popitem(last=False)
        found.update(fresh)
    return [{"code": code, "name": name, "geometry": found.get(code)} for code, name, _ in rows]
