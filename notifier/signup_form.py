"""The sign-up and `/me` forms' fields made clean (DESIGN §12): addresses, language, places by
address point or zone, channels and topics, with each error in the resident's own language."""
from __future__ import annotations

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier import address_points, channel_specs, languages, topics
from notifier.i18n import N_, gettext
from notifier.models import Zone
from notifier.phones import to_e164
from notifier.subscriber_schema import _clean_email

MAX_PLACES = 3
PLACE_KINDS = ("home", "work", "school")
PLACE_NAMES = {"home": N_("Home"), "work": N_("Work"), "school": N_("School")}
CHANNEL_NAMES = {"sms": N_("Text message"), "voice": N_("Phone call"), "email": N_("Email")}

NEED_ADDRESS = N_("Give a mobile phone number, an email address or both.")
BAD_PHONE = N_("This is not a phone number we can reach.")
BAD_EMAIL = N_("This is not an email address.")
NEED_PHONE = N_("%(channel)s needs a phone number.")
NEED_EMAIL = N_("Email needs an email address.")
NEED_CHANNEL = N_("Choose at least one way to reach you.")
NEED_PLACE = N_("Give at least one place: an address or a zone.")
NO_MATCH = N_("No address matches %(address)s.")
MANY_MATCHES = N_("More than one address matches: %(matches)s. Write one of them in full.")
UNKNOWN_ZONE = N_("Choose a zone from the list.")
UNKNOWN_TOPIC = N_("Choose topics from the list.")


def zone_choices(session: Session) -> list[tuple[str, str]]:
    """(code, name) of every zone, by name: the place rows' select."""
    return [tuple(r) for r in session.execute(select(Zone.code, Zone.name).order_by(Zone.name))]


def language_of(raw: str | None, default: str) -> str:
    """One of the sixteen tags, else `default`."""
    return raw if raw in languages.TAGS else default


def clean_addresses(raw_phone: str | None, raw_email: str | None, region: str, language: str,
                    errors: dict) -> tuple[str | None, str | None]:
    """(E.164 phone or None, lower-cased email or None); errors added under phone/email."""
    phone = email = None
    if (raw_phone or "").strip():
        try:
            phone = to_e164(raw_phone, region)
        except ValueError:
            errors["phone"] = [gettext(language, BAD_PHONE)]
    if (raw_email or "").strip():
        try:
            email = _clean_email(raw_email)
        except ValidationError:
            errors["email"] = [gettext(language, BAD_EMAIL)]
    if not (raw_phone or "").strip() and not (raw_email or "").strip():
        errors["phone"] = errors["email"] = [gettext(language, NEED_ADDRESS)]
    return phone, email


def clean_channels(chosen: list[str], phone: str | None, email: str | None, language: str,
                   errors: dict) -> list[str]:
    """The chosen channels in the table's order; each needs its address."""
    picked = [c for c in channel_specs.RESIDENT_CHANNELS if c in chosen]
    problems = []
    for channel in picked:
        if channel_specs.ADDRESS_OF[channel] == "phone" and not phone:
            problems.append(gettext(language, NEED_PHONE)
                            % {"channel": gettext(language, CHANNEL_NAMES[channel])})
        if channel_specs.ADDRESS_OF[channel] == "email" and not email:
            problems.append(gettext(language, NEED_EMAIL))
    if not picked:
        problems.append(gettext(language, NEED_CHANNEL))
    if problems:
        errors["channels"] = problems
    return picked


def clean_places(session: Session, rows: list[dict], language: str, errors: dict,
                 need_place: bool = True) -> tuple[list[dict], list[str]]:
    """(locations [{label, lat, lon}], zone codes) from up to MAX_PLACES rows of {kind,
    address, zone}; an address names its point only when exactly one matches."""
    locations, zones = [], []
    known_zones = {code for code, _name in zone_choices(session)}
    for i, row in enumerate(rows[:MAX_PLACES]):
        kind = row.get("kind") if row.get("kind") in PLACE_KINDS else "home"
        text, zone = (row.get("address") or "").strip(), (row.get("zone") or "").strip()
        if text:
            point, matches = address_points.resolve(session, text)
            if point is None:
                message = (gettext(language, MANY_MATCHES)
                           % {"matches": "; ".join(m.address for m in matches)} if matches
                           else gettext(language, NO_MATCH) % {"address": text})
                errors[f"place-{i}"] = [message]
                continue
            locations.append({"label": kind, "lat": point.lat, "lon": point.lon})
            if point.zone_code:
                zones.append(point.zone_code)
        elif zone:
            if zone not in known_zones:
                errors[f"place-{i}"] = [gettext(language, UNKNOWN_ZONE)]
                continue
            zones.append(zone)
    if need_place and not locations and not zones and not any(k.startswith("place-") for k in errors):
        errors["place-0"] = [gettext(language, NEED_PLACE)]
    return locations, list(dict.fromkeys(zones))


def clean_topics(session: Session, chosen: list[str], language: str, errors: dict) -> list[str]:
    known = topics.known_codes(session)
    if any(c not in known for c in chosen):
        errors["topics"] = [gettext(language, UNKNOWN_TOPIC)]
    return [c for c in dict.fromkeys(chosen) if c in known]


def clean_choices(session: Session, form: dict, region: str, default_language: str,
                  errors: dict, addresses: bool = True, need_place: bool = True) -> dict:
    """The resident's choices from `form` ({phone, email, language, channels: [...], places:
    [{kind, address, zone}], topics: [...]}); fills `errors` ({field: [messages]}).
    `addresses` False: phone and email are the record's own (`/me`), not checked again."""
    language = language_of(form.get("language"), default_language)
    phone, email = (clean_addresses(form.get("phone"), form.get("email"), region, language,
                                    errors) if addresses else (form.get("phone"), form.get("email")))
    channels = clean_channels(form.get("channels") or [], phone, email, language, errors)
    locations, zones = clean_places(session, form.get("places") or [], language, errors,
                                     need_place)
    return {"phone": phone, "email": email, "language": language, "channels": channels,
            "locations": locations, "zones": zones,
            "topics": clean_topics(session, form.get("topics") or [], language, errors)}
