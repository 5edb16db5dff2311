"""`/me` (DESIGN §12): a resident signs in by a single-use link sent by SMS or email, then
changes their choices, stops everything or erases their data; each change audited as theirs."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, redirect, request, session, url_for

from admin_ui import db, get_settings
from admin_ui.resident_pages import (_, allowed, form_choices, form_options, link, now, page,
                                     page_language)
from admin_ui.resident_send import send
from notifier import quiet_hours, residents, subscriptions, tokens
from notifier.i18n import N_, gettext
from notifier.models import Subscriber
from notifier.sandbox import recipient
from notifier.signup_form import clean_choices

bp = Blueprint("me", __name__)
SIGNED_IN_FOR = timedelta(hours=1)

LINK_SENT = N_("If this phone number or email address is signed up, we have sent it a sign-in "
               "link. It works once, within 15 minutes.")
TOO_MANY = N_("Too many requests from this connection. Try again in an hour.")
SIGN_IN_TITLE = N_("Sign in to change your alerts")
SIGN_IN_BUTTON = N_("Sign in")
BAD_LINK = N_("This link is not valid, was already used or has expired. Ask for a new one.")
SAVED = N_("Your changes are saved.")
STOPPED = N_("Everything is stopped: you will receive no more alerts. You can sign up again at "
             "any time.")
ERASED = N_("Your data is erased.")
QUIET_HOURS_FORMAT = N_("Write quiet hours as HH:MM-HH:MM (for example 22:00-07:00), or off.")


def _resident() -> Subscriber | None:
    sub_id, until = session.get("resident_id"), session.get("resident_until")
    if not isinstance(sub_id, int) or not isinstance(until, str):
        return None
    if datetime.fromisoformat(until) <= now():
        session.pop("resident_id", None)
        return None
    return db().get(Subscriber, sub_id)


def _values(sub: Subscriber) -> dict:
    return {"language": sub.language, "channels": list(sub.channels or []), "places": [],
            "topics": [link.topic_code for link in sub.topic_links],
            "quiet_hours": sub.quiet_hours or ""}


def _me_page(sub: Subscriber, notes=(), errors=None, values=None, status=200):
    language = page_language()
    return page("public/me.html", status=status, sub=sub, notes=list(notes), errors=errors or {},
                values=values or _values(sub),
                opted_out=subscriptions.opted_out_channels(db(), sub.phone, sub.email),
                default_quiet_hours=get_settings().quiet_hours, **form_options(language))


@bp.get("/me")
def start():
    sub = _resident()
    if sub is None:
        return page("public/me_link.html", notes=[])
    return _me_page(sub)


@bp.post("/me/link")
def send_link():
    """The same answer whether or not the address is known (no account enumeration)."""
    settings = get_settings()
    address = recipient(request.form.get("address", ""), settings.default_region)
    if not allowed("me-link"):
        return page("public/me_link.html", status=429, notes=[_(TOO_MANY)])
    sub = residents.find(db(), address)
    # Three links an hour per address: nobody floods a resident's phone through this form.
    if sub is not None and allowed("me-link-address", address, limit=3):
        channel = "sms" if address == sub.phone else "email"
        row = residents.new_link(db(), sub, channel, now())
        token = tokens.make_token(settings.secret_key, tokens.RESIDENT, row.id)
        url = link(url_for("me.sign_in", token=token, lang=sub.language))
        words = {"agency": settings.agency_name, "link": url}
        if channel == "sms":
            send(db(), settings, "sms", address, gettext(sub.language, residents.LINK_SMS) % words,
                 now(), sub.language)
        else:
            send(db(), settings, "email", address,
                 gettext(sub.language, residents.LINK_EMAIL) % words, now(), sub.language,
                 gettext(sub.language, residents.LINK_SUBJECT) % words)
    return page("public/me_link.html", notes=[_(LINK_SENT)])


@bp.route("/me/in/<token>", methods=["GET", "POST"])
def sign_in(token: str):
    """GET: a button (link previews must not spend the link). POST: signed in, once."""
    if request.method == "GET":
        return page("public/message.html", title=_(SIGN_IN_TITLE), text=_(SIGN_IN_TITLE),
                    button=_(SIGN_IN_BUTTON))
    link_id = tokens.read_token(get_settings().secret_key, tokens.RESIDENT, token)
    sub = residents.use_link(db(), link_id, now())
    if sub is None:
        return page("public/message.html", status=404, title=_(BAD_LINK), text=_(BAD_LINK))
    session["resident_id"] = sub.id
    session["resident_until"] = (now() + SIGNED_IN_FOR).isoformat()
    return redirect(url_for("me.start", lang=sub.language))


@bp.post("/me")
def save():
    """New choices: the places ticked to keep, plus any new place rows."""
    sub = _resident()
    if sub is None:
        return redirect(url_for("me.start"))
    settings, language = get_settings(), page_language()
    raw = {**form_choices(), "phone": sub.phone, "email": sub.email,
           "quiet_hours": request.form.get("quiet_hours", "").strip()}
    kept = set(request.form.getlist("keep"))
    locations = [{"label": loc.label, "lat": loc.lat, "lon": loc.lon}
                 for i, loc in enumerate(sub.locations) if f"location-{i}" in kept]
    zones = [z.zone_code for z in sub.zone_links if f"zone-{z.zone_code}" in kept]
    errors: dict = {}
    choices = clean_choices(db(), raw, settings.default_region, language, errors,
                            addresses=False, need_place=not (locations or zones))
    try:  # empty: the agency's default
        choices["quiet_hours"] = quiet_hours.normalized(raw["quiet_hours"]) if raw["quiet_hours"] else None
    except ValueError:
        errors["quiet_hours"] = [_(QUIET_HOURS_FORMAT)]
    if errors:
        return _me_page(sub, errors=errors, values={**_values(sub), **raw}, status=422)
    choices["locations"] = locations + choices["locations"]
    choices["zones"] = list(dict.fromkeys(zones + choices["zones"]))
    residents.change(db(), settings, sub, choices, now())
    return _me_page(sub, [_(SAVED)])


@bp.post("/me/stop")
def stop():
    sub = _resident()
    if sub is None:
        return redirect(url_for("me.start"))
    residents.stop_everything(db(), sub, now())
    return _me_page(sub, [_(STOPPED)])


@bp.post("/me/erase")
def erase():
    sub = _resident()
    if sub is None:
        return redirect(url_for("me.start"))
    residents.erase(db(), get_settings(), sub, now())
    session.pop("resident_id", None)
    session.pop("resident_until", None)
    return page("public/message.html", title=_(ERASED), text=_(ERASED))
