"""Zones: a map of all zones, the table with followers, GeoJSON import, name and keywords, delete."""
from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from admin_ui import db, get_settings
from admin_ui.api import now
from admin_ui.pages.alerts import map_bounds
from admin_ui.pages.guard import current_user, login_required, page_blueprint
from admin_ui.pages.i18n import gettext as _
from notifier import audit, zones
from notifier.errors import InvalidInput, NotFound
from notifier.models import Zone

bp = page_blueprint("zones")

WRITERS = ("dispatcher",)
READERS = ("dispatcher", "auditor")
PER_PAGE = 100


def actor() -> str:
    return f"user:{current_user().name}"


def may_write() -> bool:
    return current_user().role in ("admin",) + WRITERS


def zone_or_404(code: str) -> Zone:
    try:
        return zones.get_zone(db(), code)
    except NotFound:
        abort(404)


def _render_index(report=None, errors=None, status=200):
    session = db()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    items, total = zones.list_zones(session, page, PER_PAGE)
    counts = zones.follower_counts(session, [z.code for z in items])
    return render_template(
        "zones/index.html", items=items, counts=counts, total=total, page=page,
        per_page=PER_PAGE, may_write=may_write(), report=report, errors=errors or {},
        map_data={"tileUrl": get_settings().map_tile_url, "bounds": map_bounds(),
                  "url": url_for("zones.map_json")}), status


@bp.get("/zones")
@login_required(*READERS)
def index():
    return _render_index()


@bp.get("/zones/map.json")
@login_required(*READERS)
def map_json():
    """Every zone as one GeoJSON FeatureCollection for the map."""
    rows = db().execute(select(Zone.code, Zone.name, Zone.geometry, Zone.keywords).order_by(Zone.code))
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": geometry,
         "properties": {"code": code, "name": name, "keywords": list(keywords or []),
                        "url": url_for("zones.edit", code=code) if may_write() else None}}
        for code, name, geometry, keywords in rows]}


@bp.post("/zones/import")
@login_required(*WRITERS)
def import_geojson():
    """A FeatureCollection file → created/updated/rejected; the page again with the report."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render_index(errors={"file": [_("Choose a GeoJSON file.")]}, status=422)
    try:
        collection = json.loads(upload.read().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return _render_index(errors={"file": [_("The file is not valid JSON (UTF-8).")]}, status=422)
    session = db()
    try:
        result = zones.import_zones(session, collection, now())
    except InvalidInput as exc:
        return _render_index(errors={"file": [m for ms in exc.errors.values() for m in ms]},
                             status=422)
    audit.record(session, actor(), "zone.import", None,
                 {"created": result["created"], "updated": result["updated"],
                  "rejected": len(result["rejected"])}, now())
    report = {**result, "rejected": [
        {"feature": r["feature"] + 1, "code": r["code"], "field": field, "message": message}
        for r in result["rejected"] for field, messages in r["errors"].items()
        for message in (messages if isinstance(messages, list) else [str(messages)])]}
    return _render_index(report=report)


def _keywords(text: str) -> list[str]:
    return [w for w in text.replace(",", " ").replace(";", " ").split() if w]


@bp.get("/zones/<code>/edit")
@login_required(*WRITERS)
def edit(code: str):
    zone = zone_or_404(code)
    values = {"name": zone.name, "keywords": ", ".join(zone.keywords or [])}
    return render_template("zones/edit.html", zone=zone, values=values, errors={})


@bp.post("/zones/<code>/edit")
@login_required(*WRITERS)
def update(code: str):
    """A new name and keywords; the geometry stays as it is."""
    zone = zone_or_404(code)
    values = {"name": request.form.get("name", ""), "keywords": request.form.get("keywords", "")}
    session = db()
    try:
        zone, _created = zones.put_zone(session, code, {
            "name": values["name"], "geometry": zone.geometry,
            "keywords": _keywords(values["keywords"])}, now())
    except InvalidInput as exc:
        return render_template("zones/edit.html", zone=zone, values=values,
                               errors=exc.errors), 422
    audit.record(session, actor(), "zone.replace", f"zone:{code}",
                 {"name": zone.name, "keywords": zone.keywords, "geometry": "kept"}, now())
    flash(_("Zone %(code)s saved.", code=code), "info")
    return redirect(url_for("zones.index"))


@bp.get("/zones/<code>/delete")
@login_required(*WRITERS)
def confirm_delete(code: str):
    zone = zone_or_404(code)
    followers = zones.follower_counts(db(), [code])[code]
    return render_template("zones/delete.html", zone=zone, followers=followers)


@bp.post("/zones/<code>/delete")
@login_required(*WRITERS)
def delete(code: str):
    zone_or_404(code)
    if request.form.get("confirm") != code:
        followers = zones.follower_counts(db(), [code])[code]
        return render_template("zones/delete.html", zone=zone_or_404(code), followers=followers,
                               error=_("Type the zone's code to confirm.")), 422
    session = db()
    followers = zones.delete_zone(session, code)
    audit.record(session, actor(), "zone.delete", f"zone:{code}", {"followers": followers}, now())
    flash(_("Zone %(code)s deleted.", code=code), "info")
    return redirect(url_for("zones.index"))
