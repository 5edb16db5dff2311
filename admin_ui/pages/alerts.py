"""Alert pages: the list, compose (with a map), the preview, approval and send."""
from __future__ import annotations

import logging
from datetime import datetime

import redis
from babel.numbers import format_currency
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from admin_ui import db, get_settings
from admin_ui.api import now
from admin_ui.pages import compose, compose_channels, map_outlines
from admin_ui.pages.guard import current_user, login_required, page_blueprint
from admin_ui.pages.i18n import gettext as _
from admin_ui.pages.i18n import ui_language
from admin_ui.pages.preview_texts import rendered_texts
from notifier import (alerts, approval, audience, broadcast, i18n, machine_translation, reach,
                      sendable, text_fit, topics)
from notifier.channel_state import channel_states
from notifier.db import session_scope
from notifier.errors import (ApprovalRequired, Conflict, Forbidden, InvalidInput,
                             MachineTranslationNotAccepted)
from notifier.models import Alert, Location, Zone
from notifier.render import render_sms, sms_info
from notifier.channel_specs import CHOSEN_CHANNELS
from notifier.scripts import text_dir
from notifier.schemas import (CATEGORIES, CERTAINTIES, SENDABLE_STATUSES,
                              SEVERITIES, URGENCIES, load_alert)
from workers.queues import enqueue_fan_out

log = logging.getLogger(__name__)
bp = page_blueprint("alerts")

WRITERS = ("dispatcher",)
READERS = ("dispatcher", "auditor")
SEND_WORD = "SEND"  # typed to send a live alert; the same in every language on purpose
PER_PAGE = 50
ZONE_ROWS = 20  # named zones counted one by one on the preview page


def alert_or_404(alert_id: int) -> Alert:
    alert = db().get(Alert, alert_id)
    if alert is None:
        abort(404)
    return alert


def map_bounds() -> list[list[float]] | None:
    """[[south, west], [north, east]] of the zones, else of residents' locations, else None."""
    session = db()
    for cols in ((func.min(Zone.min_lat), func.min(Zone.min_lon), func.max(Zone.max_lat),
                  func.max(Zone.max_lon)),
                 (func.min(Location.lat), func.min(Location.lon), func.max(Location.lat),
                  func.max(Location.lon))):
        south, west, north, east = session.execute(select(*cols)).one()
        if None not in (south, west, north, east):
            return [[south, west], [north, east]]
    return None


def map_context() -> dict:
    """The maps' data: tiles, bounds and each zone's code, name and simplified outline."""
    settings = get_settings()
    return {"tile_url": settings.map_tile_url, "zones": map_outlines.zone_rows(),
            "bounds": map_bounds()}


def enqueue(alert_id: int) -> None:
    """Commit, then hand the fan-out to Redis (the alert is `sending` whatever happens here)."""
    db().commit()
    try:
        enqueue_fan_out(get_settings(), alert_id)
    except redis.RedisError as exc:
        log.error("alert %s is sending but could not be queued: %s", alert_id, exc)
        flash(_("The alert is marked as sending but the queue is unreachable. "
                "Run `python -m notifier resume` once Redis is back."), "error")


@bp.get("/alerts")
@login_required(*READERS)
def index():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    session = db()
    items, total = alerts.list_alerts(session, page=page, per_page=PER_PAGE)
    settings = get_settings()
    waiting = {a.id for a in items if approval.waiting(session, a, settings)}
    return render_template("alerts/index.html", items=items, page=page, total=total,
                           per_page=PER_PAGE, waiting=waiting)


def render_compose(values: dict, errors: dict | None = None, status: int = 200,
                   replaces: int | None = None, start: dict | None = None):
    """The compose page; `start` is its "Start from a template" box (default: `?template=`)."""
    settings = get_settings()
    languages = compose.language_choices(settings, values)
    return render_template(
        "alerts/compose.html", values=values, errors=errors or {}, replaces=replaces,
        start=start or template_start.start_context(request.args.get("template")),
        **compose.language_extras(values),
        categories=CATEGORIES, severities=SEVERITIES, urgencies=URGENCIES,
        certainties=CERTAINTIES, statuses=SENDABLE_STATUSES, channels=CHOSEN_CHANNELS,
        channel_states=channel_states(settings, CHOSEN_CHANNELS),
        languages=languages, directions={tag: text_dir(tag) for tag, _label in languages},
        translate_ready=bool(settings.translate_url), **compose_channels.context(settings),
        translate_targets=compose.translate_targets(values),
        topics=[(t.code, topics.name_in(t.name, ui_language(), t.code))
                for t in topics.list_topics(db())], **map_context()), status


@bp.get("/alerts/new")
@login_required(*WRITERS)
def new():
    """The compose form, blank or copied from `?from=<id>` (edit a draft, reuse an alert)."""
    source_id = request.args.get("from", type=int)
    settings = get_settings()
    if source_id:
        source = alert_or_404(source_id)
        replaces = source.id if source.state == alerts.DRAFT else None
        return render_compose(compose.form_from_alert(source, settings), replaces=replaces)
    return render_compose(compose.blank_values(settings))


@bp.post("/alerts/new")
@login_required(*WRITERS)
def create():
    """Validate the form, store a draft and show its preview; 422 with the form again."""
    settings = get_settings()
    session = db()
    known = set(session.scalars(select(Zone.code)))
    replaces = request.form.get("replaces", type=int)
    try:
        body = compose.body_from_form(request.form, settings)
        data = load_alert(body, settings, known, now=now(), known_topics=topics.known_codes(session))
    except InvalidInput as exc:
        return render_compose(compose.form_values(request.form), exc.errors, 422, replaces)
    alert = alerts.create_alert(session, data, current_user_actor(), now())
    text_craft.say_rewritten(alert.plain_punctuation)
    if replaces:
        old = session.get(Alert, replaces)
        if old is not None and old.state == alerts.DRAFT:
            alerts.cancel_alert(session, old.id, current_user_actor(), now())
    return redirect(url_for("alerts.preview", alert_id=alert.id))


def current_user_actor() -> str:
    return f"user:{current_user().name}"


@bp.get("/alerts/<id:alert_id>/preview")
@login_required(*READERS)
def preview(alert_id: int):
    alert = alert_or_404(alert_id)
    if alert.state == alerts.DRAFT:
        try:  # a draft imported from a peer's CAP may hold what cannot be sent or counted
            sendable.check(db(), alert, get_settings())
        except InvalidInput as exc:
            problems = "; ".join(m for ms in exc.errors.values() for m in ms)
            flash(_("This draft cannot be sent as it is: %(problems)s Correct it here; the "
                    "corrected draft replaces it.", problems=problems), "error")
            return redirect(url_for("alerts.new", **{"from": alert.id}))
    return _render_preview(alert)


def _render_preview(alert: Alert, error: str | None = None, status: int = 200):
    settings = get_settings()
    session = db()
    counts = audience.preview(session, alert, settings, now())
    rule = approval.assess(session, alert, settings)
    approved = approval.valid_approval(alert)
    user = current_user()
    awaiting = alert.state == alerts.DRAFT and rule["needed"] and approved is None
    costs = money(counts["sms_cost"])
    return render_template(
        "alerts/preview.html", alert=alert, reach=counts, channel_modes=counts["channels"],
        costs=costs, cost_price=costs["price"],
        waiting=sum(counts["scheduled"].values()),
        waiting_until=(datetime.fromisoformat(counts["scheduled_until"])
                       if counts["scheduled_until"] else None),
        texts=rendered_texts(alert, settings, now()),
        by_zone=reach.reach_by_zone(session, alert, ZONE_ROWS), zone_rows_max=ZONE_ROWS,
        approval=rule, approved=approved, awaiting_approval=awaiting,
        threshold=settings.approval_threshold, send_word=SEND_WORD,
        approver_roles=approval.APPROVER_ROLES,
        may_approve=awaiting and user.role in approval.APPROVER_ROLES
        and alert.created_by != current_user_actor(),
        may_send=user.role in ("dispatcher", "admin"), error=error,
        machine=machine_translation.marked(alert),
        machine_names=", ".join(map(i18n.language_label, machine_translation.marked(alert))),
        **map_context()), status


def money(estimate: dict) -> dict:
    """The SMS cost estimate's figures as the reader's currency text: {tag, "total", "price"}."""
    currency, locale = estimate["currency"], ui_language().replace("-", "_")

    def shown(value: float, exact: bool = False) -> str:
        try:
            if exact:  # a segment's price needs more digits than the currency's cents
                return format_currency(value, currency, "¤#,##0.0000", locale=locale,
                                       currency_digits=False)
            return format_currency(value, currency, locale=locale)
        except (ValueError, LookupError):  # an unknown currency code: the number and the code
            return f"{value:,.4f} {currency}" if exact else f"{value:,.2f} {currency}"

    out = {tag: shown(row["cost"]) for tag, row in estimate["languages"].items()}
    out["total"] = shown(estimate["total"])
    out["price"] = shown(estimate["price_per_segment"], exact=True)
    return out


@bp.post("/alerts/<id:alert_id>/approve")
@login_required(*WRITERS)
def approve(alert_id: int):
    """The second person's approval of a large draft (never the author's own)."""
    alert = alert_or_404(alert_id)
    try:
        alerts.approve(db(), alert.id, current_user_actor(), current_user().role, now())
    except Conflict:
        return _render_preview(alert, _("Only a draft can be approved."), 409)
    except Forbidden:
        return _render_preview(alert, _("A second dispatcher must approve; not the author."), 403)
    flash(_("Approved. The alert can now be sent."), "info")
    return redirect(url_for("alerts.preview", alert_id=alert.id))


@bp.post("/alerts/<id:alert_id>/send")
@login_required(*WRITERS)
def send(alert_id: int):
    """Send a draft: typed SEND for live alerts; the domain holds back one awaiting approval."""
    session = db()
    alert = alert_or_404(alert_id)
    if alert.state != alerts.DRAFT:
        flash(_("This alert was already sent or cancelled."), "error")
        return redirect(url_for("alerts.show", alert_id=alert.id))
    if alert.status == "Actual" and request.form.get("confirm_word", "").strip() != SEND_WORD:
        return _render_preview(alert, _("Type %(word)s to send a live alert.", word=SEND_WORD), 422)
    accepted = request.form.get("accept_machine_translation") == "1"
    try:
        alerts.start_sending(session, alert.id, current_user_actor(), now(), get_settings(),
                             accept_machine_translation=accepted)
    except ApprovalRequired:
        return _render_preview(alert, _("This alert needs a second dispatcher's approval "
                                        "before it can be sent."), 409)
    except MachineTranslationNotAccepted as exc:
        names = ", ".join(map(i18n.language_label, exc.languages))
        return _render_preview(alert, _("The messages in %(languages)s were machine translated: "
                                        "tick “I accept the machine translations” to send this "
                                        "live alert.", languages=names), 409)
    except Conflict as exc:
        return _render_preview(alert, exc.message, 409)
    except InvalidInput as exc:  # a draft stored as a peer's CAP wrote it: fix it first
        problems = "; ".join(m for ms in exc.errors.values() for m in ms)
        return _render_preview(alert, _("This draft cannot be sent yet: %(problems)s",
                                        problems=problems), 422)
    enqueue(alert.id)
    return redirect(url_for("alerts.show", alert_id=alert.id))


@bp.post("/alerts/sms-info.json")
@login_required(*WRITERS)
def sms_counter():
    """The exact SMS a language's residents would get and its encoding and segments."""
    data = request.get_json(silent=True) or {}
    text = data.get("text") if isinstance(data.get("text"), str) else ""
    status = data.get("status") if data.get("status") in SENDABLE_STATUSES else "Actual"
    language = data.get("language") if isinstance(data.get("language"), str) else ""
    language = language.strip() or get_settings().default_language
    if not text.strip():
        return {"text": "", "encoding": "GSM-7", "segments": 0, "characters": 0,
                "plain": None}
    draft = Alert(status=status, messages={language: text[:5000]},
                  confirm=bool(data.get("confirm")),
                  machine_translated=[language] if data.get("machine") is True else None)
    sms = render_sms(draft, language, get_settings())
    # What the "plain punctuation" box would make of it, when that makes it GSM-7.
    offer = text_fit.plain_punctuation(draft, get_settings()).get(language)
    plain = {key: offer["after"][key] for key in ("encoding", "segments")} if offer else None
    return {"text": sms, **sms_info(sms), "plain": plain}


@bp.post("/alerts/reach.json")
@login_required(*WRITERS)
def reach_counter():
    """Who the alert on the compose form would reach as it stands, per channel: the preview's
    own count (`audience.preview`); 422 with the plain-words errors of its area, status or
    channels. Nothing is stored."""
    settings = get_settings()
    db().commit()
    # A read-only session, as the API's preview: a long count must not hold SQLite's write lock.
    with session_scope(settings.database_url, readonly=True) as session:
        try:
            body = compose.reach_body(request.form, settings)
            data = load_alert(body, settings, set(session.scalars(select(Zone.code))), now=now(),
                              known_topics=topics.known_codes(session))
            counts = audience.preview(session, alerts.transient_alert(data), settings, now())
            # The posts with the texts as written so far (the count used stand-ins).
            written = {lang: text.strip() for lang, text in compose.message_pairs(request.form)
                       if lang and text.strip()}
            counts["posts"] = broadcast.planned_posts(
                session, alerts.transient_alert({**data, "messages": written}), settings) \
                if written else []
        except InvalidInput as exc:
            return compose.reach_errors(exc.errors, request.form), 422
    return compose.reach_answer(counts, data["channels"])


from admin_ui.pages import live  # noqa: E402,F401  (routes of the alert page on this blueprint)
from admin_ui.pages import report  # noqa: E402,F401  (the report page, on this blueprint)
from admin_ui.pages import follow_up  # noqa: E402,F401  (cancel and follow-ups, on this blueprint)
from admin_ui.pages import translate  # noqa: E402,F401  (compose's machine translation, likewise)
from admin_ui.pages import template_start  # noqa: E402  (compose from a template, on this blueprint)
from admin_ui.pages import text_craft  # noqa: E402  (plain punctuation, on this blueprint)
