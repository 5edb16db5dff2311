"""`/api/v1/zones`: named areas (police beats, ZIP codes, evacuation zones)."""
from __future__ import annotations

from flask import abort

from admin_ui import db
from admin_ui.api import WRITE_PEOPLE, bp, json_body, now, page_args, paged, record, requires
from notifier import zones
from notifier.errors import NotFound

READ_ZONES = ("dispatcher", "auditor")


def _vertices(geometry) -> int:
    """Positions in a stored (validated) Polygon/MultiPolygon, for the audit trail."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return sum(len(ring) for rings in polygons for ring in rings)


@bp.put("/zones/<code>")
@requires(*WRITE_PEOPLE)
def put_zone(code: str):
    """201 with the new zone, 200 when it replaced one; 422 naming each bad field."""
    session = db()
    zone, created = zones.put_zone(session, code, json_body(), now())
    record("zone.create" if created else "zone.replace", f"zone:{code}",
           {"name": zone.name, "keywords": zone.keywords, "vertices": _vertices(zone.geometry)})
    followers = zones.follower_counts(session, [code])[code]
    return zones.zone_dict(zone, followers), 201 if created else 200


@bp.post("/zones/import")
@requires(*WRITE_PEOPLE)
def import_zones():
    """A GeoJSON FeatureCollection → {"created", "updated", "rejected"}; bad features never stop good ones."""
    result = zones.import_zones(db(), json_body(), now())
    record("zone.import", None, {"created": result["created"], "updated": result["updated"],
                                 "rejected": len(result["rejected"])})
    return result


@bp.get("/zones")
@requires(*READ_ZONES)
def list_zones():
    page, per_page = page_args()
    session = db()
    items, total = zones.list_zones(session, page, per_page)
    counts = zones.follower_counts(session, [z.code for z in items])
    return paged([zones.zone_dict(z, counts[z.code]) for z in items], page, per_page, total)


@bp.get("/zones/<code>")
@requires(*READ_ZONES)
def get_zone(code: str):
    session = db()
    zone = _zone_or_404(code)
    return zones.zone_dict(zone, zones.follower_counts(session, [code])[code])


@bp.delete("/zones/<code>")
@requires(*WRITE_PEOPLE)
def delete_zone(code: str):
    """204; the residents who followed it stay subscribed to everything else."""
    _zone_or_404(code)
    followers = zones.delete_zone(db(), code)
    record("zone.delete", f"zone:{code}", {"followers": followers})
    return "", 204


def _zone_or_404(code: str):
    try:
        return zones.get_zone(db(), code)
    except NotFound:
        abort(404, f"no zone {code!r}")
