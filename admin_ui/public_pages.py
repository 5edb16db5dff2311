"""The public alert page, `GET /a/<public id>` (no sign-in): one sent Actual alert in the
reader's language, with its area on a map (and in words), built once per change and language
(doc_cache) and answered with ETag/Last-Modified (304 when the reader has it)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from flask import Blueprint, abort, g, render_template, request

from admin_ui import db, doc_cache, get_settings
from admin_ui.feeds import cap_url, zone_feed_url
from admin_ui.pages.map_outlines import zone_rows
from notifier import alert_texts, i18n, public_alerts, zone_overlap
from notifier.models import Alert
from notifier.public_ids import public_url
from notifier.scripts import text_dir

bp = Blueprint("public", __name__)
MAP_ZONES = 200  # outlines drawn around an alert for everyone (the whole town, simplified)


@bp.get("/a/<public_id>")
def alert_page(public_id: str):
    """200 the page; 404 for drafts, Exercise, Test and anything never sent."""
    session, now, settings = db(), datetime.now(timezone.utc), get_settings()
    alert = public_alerts.by_public_id(session, public_id)
    if alert is None:
        abort(404)
    languages = list(alert.messages or {}) or [settings.default_language]
    language = i18n.negotiate(languages, request.args.get("lang", "").strip(),
                              list(request.accept_languages.values()), settings.default_language)
    # The page's own words follow the alert's text, and never touch the session (no cookie).
    g.ui_language = language
    document = doc_cache.cached(session, ("page", alert.id, language), now,
                                lambda: _build(session, alert, language, languages, now))
    response = doc_cache.conditional(document, now)
    response.vary.add("Accept-Language")
    return response


@bp.errorhandler(404)
def _not_found(_exc):
    """A plain page in the reader's language that says no more than "not found" (a draft's
    address and a mistyped one look the same)."""
    choices = ["en", *i18n.catalog_languages()]
    g.ui_language = i18n.negotiate(choices, None, list(request.accept_languages.values()),
                                   get_settings().default_language)
    return render_template("public/not_found.html", page_language=g.ui_language,
                           direction=text_dir(g.ui_language)), 404


def _build(session, alert: Alert, language: str, languages: list[str],
           now: datetime) -> doc_cache.Document:
    settings = get_settings()
    area = zone_overlap.area_of(alert)
    zones = zone_overlap.zones_of(session, alert, area)
    outlines = zone_rows(MAP_ZONES, codes=[z.code for z in zones])
    follow_ups = public_alerts.follow_ups(session, alert)
    original = public_alerts.original_of(session, alert)
    when = _Times(language, settings.timezone)
    expired = alert.expires_at is not None and alert.expires_at <= now
    context = dict(
        alert=alert, page_language=language, direction=text_dir(language),
        # Each language's own headline and instruction, or the first language's, marked as such.
        headline=alert_texts.headline(alert, language),
        instruction=alert_texts.instruction(alert, language),
        agency=settings.agency_name, contact=settings.agency_contact,
        message=alert.messages.get(language) if alert.messages else None,
        sent=when(alert.sent_at), expires=when(alert.expires_at),
        cancelled=when(alert.cancelled_at), expired=expired,
        area_description=area.description, everyone=area.everyone,
        circles=[{"lat": round(c.lat, 5), "lon": round(c.lon, 5), "radius_m": round(c.radius_m)}
                 for c in area.circles],
        zones=[{"code": z.code, "name": z.name, "feed": zone_feed_url(settings, z.code)}
               for z in zones],
        map_data={"zones": outlines, "bounds": _bounds(zones), "tileUrl": settings.map_tile_url,
                  "area": {k: v for k, v in (alert.area or {}).items()
                           if k in ("geojson", "circles", "zones")}},
        cap_url=cap_url(settings, alert), feed_url=f"{settings.public_url}/feeds/alerts.atom",
        page_url=public_url(settings, alert.public_id),
        languages=[{"tag": tag, "label": i18n.language_label(tag), "current": tag == language}
                   for tag in languages],
        follow_ups=[_link(settings, a, when, language) for a in follow_ups],
        original=_link(settings, original, when, language) if original is not None else None,
    )
    body = render_template("public/alert.html", **context).encode("utf-8")
    times = [t for t in (alert.sent_at, alert.cancelled_at, *(a.sent_at for a in follow_ups),
                         *(z.updated_at for z in zones)) if t is not None]
    if expired:
        times.append(alert.expires_at)
    # Rebuilt when it expires: the page then says so.
    return doc_cache.Document(body, "text/html", max(times),
                              None if expired else alert.expires_at)


def _link(settings, alert: Alert, when, language: str) -> dict:
    chosen = i18n.pick_language(list(alert.messages or {}), language, settings.default_language)
    return {"headline": alert_texts.headline(alert, chosen).text, "msg_type": alert.msg_type,
            "url": public_url(settings, alert.public_id), "sent": when(alert.sent_at)}


def _bounds(zones) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the zones drawn (the map then fits the area itself)."""
    boxes = [(z.min_lat, z.min_lon, z.max_lat, z.max_lon) for z in zones
             if None not in (z.min_lat, z.min_lon, z.max_lat, z.max_lon)]
    if not boxes:
        return None
    return [[min(b[0] for b in boxes), min(b[1] for b in boxes)],
            [max(b[2] for b in boxes), max(b[3] for b in boxes)]]


class _Times:
    """Times as the reader says them (CLDR's long date and short time of their language) in
    the agency's TIMEZONE, with the zone's name, and ISO 8601 for `<time datetime>`."""

    def __init__(self, language: str, timezone_name: str):
        try:
            self.locale = Locale.parse(language, sep="-")
        except (ValueError, UnknownLocaleError):
            self.locale = Locale.parse("en")
        self.zone = ZoneInfo(timezone_name)

    def __call__(self, value: datetime | None) -> dict | None:
        if value is None:
            return None
        local = value.astimezone(self.zone)
        pattern = self.locale.datetime_formats["long"].replace("'", "")
        text = (pattern.replace("{0}", format_time(local, "short", locale=self.locale))
                .replace("{1}", format_date(local, "long", locale=self.locale)))
        zone_name = format_datetime(local, "zzzz", tzinfo=self.zone, locale=self.locale)
        return {"text": f"{text} ({zone_name})",
                "iso": value.astimezone(timezone.utc).isoformat(timespec="seconds")}
