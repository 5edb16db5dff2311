"""Subscribers: search, view (opt-out ledger, consent, deliveries), edit, erase."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from admin_ui import db, get_settings
from admin_ui.api import now
from admin_ui.pages.guard import current_user, login_required, page_blueprint
from admin_ui.pages.i18n import gettext as _, ui_language
from notifier import address_points, audit, erasure, subscriptions, topics
from notifier.errors import Conflict, InvalidInput
from notifier.models import Alert, Consent, Delivery, OptOut, Subscriber, Zone
from notifier.schemas import make_subscriber_schema
from notifier.subscriber_schema import SUBSCRIBER_CHANNELS

bp = page_blueprint("subscribers")

WRITERS = ("dispatcher",)
READERS = ("dispatcher", "auditor")
PER_PAGE = 50
RECENT_DELIVERIES = 25
SHOWN_MATCHES = 5  # candidates named when an address is not one point
LABEL_MAX = 80  # Location.label


def may_write() -> bool:
    return current_user().role in ("admin",) + WRITERS


def actor() -> str:
    return f"user:{current_user().name}"


def subscriber_or_404(subscriber_id: int) -> Subscriber:
    sub = db().get(Subscriber, subscriber_id)
    if sub is None:
        abort(404)
    return sub


@bp.get("/subscribers")
@login_required(*READERS)
def index():
    """Search by part of a phone, email or name; by zone; by language."""
    args = {k: request.args.get(k, "").strip() for k in ("q", "zone", "language")}
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    items, total = subscriptions.search_subscribers(
        db(), q=args["q"] or None, zone=args["zone"] or None, language=args["language"] or None,
        page=page, per_page=PER_PAGE)
    zones = db().execute(select(Zone.code, Zone.name).order_by(Zone.name)).all()
    return render_template("subscribers/index.html", items=items, total=total, page=page,
                           per_page=PER_PAGE, args=args, zones=zones, may_write=may_write())


@bp.get("/subscribers/<id:subscriber_id>")
@login_required(*READERS)
def show(subscriber_id: int):
    session = db()
    sub = subscriber_or_404(subscriber_id)
    addresses = [a for a in (sub.phone, sub.email) if a]
    opt_outs = session.scalars(select(OptOut).where(OptOut.address.in_(addresses))
                               .order_by(OptOut.at.desc())).all() if addresses else []
    consents = session.scalars(select(Consent).where(Consent.address.in_(addresses))
                               .order_by(Consent.at.desc()).limit(100)).all() if addresses else []
    deliveries = session.execute(
        select(Delivery, Alert.headline, Alert.status).join(Alert, Alert.id == Delivery.alert_id)
        .where(Delivery.subscriber_id == sub.id).order_by(Delivery.id.desc())
        .limit(RECENT_DELIVERIES)).all()
    return render_template(
        "subscribers/show.html", sub=sub, full=may_write(), may_write=may_write(),
        opted_out=subscriptions.opted_out_channels(session, sub.phone, sub.email),
        opt_outs=opt_outs, consents=consents, deliveries=deliveries)


def form_values(sub: Subscriber) -> dict:
    return {"address": "", "name": sub.name or "", "phone": sub.phone or "", "email": sub.email or "",
            "language": sub.language or "", "channels": list(sub.channels or []),
            "quiet_hours": sub.quiet_hours or "",
            "zones": ", ".join(link.zone_code for link in sub.zone_links),
            "groups": ", ".join(link.name for link in sub.group_links),
            "topics": [link.topic_code for link in sub.topic_links],
            "locations": "\n".join(", ".join(str(v) for v in (loc.lat, loc.lon, loc.label) if v is not None)
                                   for loc in sub.locations)}


def body_from_form(form) -> dict:
    """The API's PATCH body from the edit form (so one schema judges both)."""
    def words(name):
        return [w.strip() for w in form.get(name, "").replace(";", ",").split(",") if w.strip()]

    locations = []
    for line in form.get("locations", "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",", 2)]
        location = {"lat": parts[0], "lon": parts[1] if len(parts) > 1 else None}
        if len(parts) > 2 and parts[2]:
            location["label"] = parts[2]
        locations.append(location)
    return {"name": form.get("name", ""), "phone": form.get("phone", ""),
            "email": form.get("email", ""), "language": form.get("language", ""),
            "channels": form.getlist("channels") or None, "zones": words("zones"),
            "groups": words("groups"), "locations": locations, "topics": form.getlist("topics"),
            # Empty: the agency's default quiet hours (null in the API).
            "quiet_hours": form.get("quiet_hours", "").strip() or None}


def _field_messages(messages) -> dict:
    """{field: [text]} from marshmallow's messages (nested list/dict errors flattened)."""
    out = {}
    for field, value in (messages.items() if isinstance(messages, dict) else [("_schema", messages)]):
        if isinstance(value, dict):
            flat = []
            for key, inner in value.items():
                texts = inner if isinstance(inner, list) else [str(inner)]
                if isinstance(inner, dict):
                    texts = [f"{k}: {' '.join(v) if isinstance(v, list) else v}" for k, v in inner.items()]
                flat += [_("line %(n)d: %(text)s", n=int(key) + 1, text=t) if str(key).isdigit()
                         else f"{key}: {t}" for t in texts]
            out[field] = flat
        else:
            out[field] = value if isinstance(value, list) else [str(value)]
    return out


def _render_edit(sub, values, errors=None, status=200):
    known = [code for code, in db().execute(select(Zone.code).order_by(Zone.code))]
    followable = [(t.code, topics.name_in(t.name, ui_language(), t.code))
                  for t in topics.list_topics(db())]
    return render_template("subscribers/edit.html", sub=sub, values=values, errors=errors or {},
                           channels=SUBSCRIBER_CHANNELS, known_zones=known,
                           topics=followable,
                           default_quiet_hours=get_settings().quiet_hours), status


@bp.get("/subscribers/<id:subscriber_id>/edit")
@login_required(*WRITERS)
def edit(subscriber_id: int):
    sub = subscriber_or_404(subscriber_id)
    return _render_edit(sub, form_values(sub))


@bp.post("/subscribers/<id:subscriber_id>/edit")
@login_required(*WRITERS)
def update(subscriber_id: int):
    """Validate as PATCH /api/v1/subscribers/<id> does; the form again (422) with field errors."""
    session = db()
    sub = subscriber_or_404(subscriber_id)
    values = {k: request.form.get(k, "") for k in ("name", "phone", "email", "language",
                                                   "zones", "groups", "locations", "address",
                                                   "quiet_hours")}
    values["channels"] = request.form.getlist("channels")
    values["topics"] = request.form.getlist("topics")
    body = body_from_form(request.form)
    if not body["language"]:
        body.pop("language")
    problem = place_by_address(session, values["address"], body)
    if problem:
        return _render_edit(sub, values, {"address": [problem]}, 422)
    try:
        data = make_subscriber_schema(get_settings(), partial=True).load(body)
        subscriptions.update_subscriber(session, sub, data, now(), get_settings())
    except ValidationError as exc:
        return _render_edit(sub, values, _field_messages(exc.messages), 422)
    except InvalidInput as exc:
        return _render_edit(sub, values, _field_messages(exc.errors), 422)
    except Conflict as exc:
        field = "email" if "email" in exc.message else "phone"
        message = _("Already registered to another subscriber (#%(id)s).", id=exc.existing_id) \
            if exc.existing_id else exc.message
        return _render_edit(sub, values, {field: [message]}, 409)
    audit.record(session, actor(), "subscriber.update", f"subscriber:{sub.id}",
                 {"fields": sorted(data)}, now())
    flash(_("Saved."), "info")
    return redirect(url_for("subscribers.show", subscriber_id=sub.id))


def place_by_address(session, text: str, body: dict) -> str | None:
    """Add the address point `text` names to `body` (a location, and its zone); or say why not.

    The form works without JavaScript: the suggestions only help to type an address that names
    exactly one point. Returns None when placed (or when no address was given).
    """
    if not text.strip():
        return None
    point, matches = address_points.resolve(session, text, shown=SHOWN_MATCHES)
    if point is None and not matches:
        return _("No address point matches “%(address)s”. Check the spelling, or give the "
                 "place as latitude and longitude under Locations.", address=text.strip())
    if point is None:
        return _("Several address points match “%(address)s”: %(matches)s. Type the whole "
                 "address.", address=text.strip(),
                 matches="; ".join(match.address for match in matches))
    location = {"lat": point.lat, "lon": point.lon, "label": point.address[:LABEL_MAX]}
    if not any(_same_place(given, point) for given in body["locations"]):
        body["locations"].append(location)
    if point.zone_code and point.zone_code not in body["zones"]:
        body["zones"].append(point.zone_code)
    return None


def _same_place(location: dict, point) -> bool:
    try:
        return (float(location["lat"]), float(location["lon"])) == (point.lat, point.lon)
    except (TypeError, ValueError):
        return False


@bp.get("/subscribers/<id:subscriber_id>/erase")
@login_required(*WRITERS)
def confirm_erase(subscriber_id: int):
    return render_template("subscribers/erase.html", sub=subscriber_or_404(subscriber_id))


@bp.post("/subscribers/<id:subscriber_id>/erase")
@login_required(*WRITERS)
def erase(subscriber_id: int):
    """Erase personal data (the confirmation box must be ticked); delivery counts stay."""
    sub = subscriber_or_404(subscriber_id)
    if request.form.get("confirm") != "yes":
        return render_template("subscribers/erase.html", sub=sub,
                               error=_("Tick the box to confirm the erasure.")), 422
    session = db()
    erasure.erase_subscriber(session, get_settings(), sub, now())
    audit.record(session, actor(), "subscriber.erase", f"subscriber:{subscriber_id}", {}, now())
    flash(_("Subscriber #%(id)s was erased.", id=subscriber_id), "info")
    return redirect(url_for("subscribers.index"))


from admin_ui.pages import subscriber_import  # noqa: E402,F401  (the import routes on this blueprint)
