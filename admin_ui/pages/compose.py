"""The compose form ⇄ the API's alert body: parsing what the dispatcher typed and drew."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict

from admin_ui.pages import compose_channels
from admin_ui.pages.i18n import gettext as _
from admin_ui.pages.i18n import ngettext
from notifier import i18n, languages
from notifier.errors import InvalidInput
from notifier.models import Alert
from notifier.schemas import MAX_LANGUAGES, SEVERITIES

_LANG_FIELD = re.compile(r"^lang_(\d{1,2})$")
# What decides who an alert reaches; the rest of the form does not change the count.
# A topic limits a routine alert to its followers, and the severity says whether it is routine.
REACH_FIELDS = ("status", "channels", "zones", "everyone", "area_description",
                "area_geojson", "area_circles", "topic", "severity", *compose_channels.FIELDS)
TEXT_FIELDS = ("headline", "event", "category", "severity", "urgency", "certainty", "status",
               "instruction", "topic")


def machine_languages(form) -> list[str]:
    """The languages of the rows ticked "machine translated", in the rows' order."""
    rows = []
    for key in form:
        match = _LANG_FIELD.match(key)
        if match and form.get(f"machine_{match.group(1)}") == "1" and form.get(key, "").strip():
            rows.append((int(match.group(1)), form.get(key).strip()))
    return [lang for _, lang in sorted(rows)]


def message_pairs(form) -> list[tuple[str, str]]:
    """The (language, text) rows of the form in their order, blank rows left out."""
    rows = []
    for key in form:
        match = _LANG_FIELD.match(key)
        if match:
            index = int(match.group(1))
            rows.append((index, form.get(key, "").strip(), form.get(f"text_{index}", "")))
    return [(lang, text) for _, lang, text in sorted(rows) if lang or text.strip()]


def _json_field(form, name: str, label: str, errors: list[str]):
    raw = form.get(name, "").strip()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        errors.append(f"{label} is not valid JSON: {exc.msg} "
                      f"(line {exc.lineno}, column {exc.colno})")
        return None


def _expiry(raw: str, timezone_name: str) -> str | None:
    """`datetime-local` input (the agency's time zone) → ISO 8601 with offset."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput({"expires_at": ["Give a date and time, e.g. 2026-11-22T18:00."]}) \
            from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(timezone_name))
    return local.astimezone(timezone.utc).isoformat()


def body_from_form(form, settings) -> dict:
    """The alert body (DESIGN §4) the form describes; raise InvalidInput for unreadable parts.

    Empty selects are left out, so the schema says "required" rather than "not one of".
    """
    body: dict = {}
    for name in TEXT_FIELDS:
        value = form.get(name, "").strip()
        if value:
            body[name] = value
    pairs = message_pairs(form)
    messages = {}
    errors: dict = {}
    for lang, text in pairs:
        if not lang:
            errors.setdefault("messages", []).append("Every message needs a language.")
        elif lang in messages:
            errors.setdefault("messages", []).append(f"Language {lang} is given twice.")
        else:
            messages[lang] = text
    if len(messages) > MAX_LANGUAGES:
        errors.setdefault("messages", []).append(f"At most {MAX_LANGUAGES} languages.")
    body["messages"] = messages
    body.update(language_texts(form, messages, body.get("headline"), body.get("instruction")))
    # A ticked row left empty is no message, so nothing to mark.
    body["machine_translated"] = [lang for lang in machine_languages(form) if lang in messages]
    body.update(compose_channels.body_fields(form, settings))
    body["confirm"] = form.get("confirm") == "1"
    if form.get("plain_punctuation") == "1":
        body["gsm_safe"] = True  # the texts are rewritten before they are stored
    area_errors: list[str] = []
    area: dict = {"zones": form.getlist("zones"), "everyone": form.get("everyone") == "1"}
    description = form.get("area_description", "").strip()
    if description:
        area["description"] = description
    geojson = _json_field(form, "area_geojson", "The drawn area (GeoJSON)", area_errors)
    if geojson is not None and not (isinstance(geojson, dict) and geojson.get("type") ==
                                    "FeatureCollection" and not geojson.get("features")):
        area["geojson"] = geojson
    circles = _json_field(form, "area_circles", "The circles", area_errors)
    if circles:
        area["circles"] = circles
    if area_errors:
        errors["area"] = area_errors
    try:
        expires = _expiry(form.get("expires_at", ""), settings.timezone)
    except InvalidInput as exc:
        errors.update(exc.errors)
        expires = None
    if expires:
        body["expires_at"] = expires
    if errors:
        raise InvalidInput(errors)
    body["area"] = area
    return body


def _by_language(form, prefix: str, messages: dict) -> dict[str, str]:
    return {tag: form.get(f"{prefix}{tag}", "").strip() for tag in messages
            if form.get(f"{prefix}{tag}", "").strip()}


def language_texts(form, messages: dict, headline: str | None, instruction: str | None) -> dict:
    """The body's `headlines` and `instructions` (the first language's from the main fields),
    for the languages the form has a message in; {} when it has none (a form not filled from a
    template). A removed message row takes its texts with it."""
    out: dict = {}
    first = next(iter(messages), None)
    for key, prefix, main in (("headlines", "headline_", headline),
                              ("instructions", "instruction_", instruction)):
        texts = _by_language(form, prefix, messages)
        if texts and first:
            texts = {first: main, **texts} if main else texts
            out[key] = {tag: texts[tag] for tag in messages if tag in texts}
    return out


def language_extras(values: dict) -> dict:
    """The compose page's texts per language beyond the messages: `language_rows` (tag, label,
    headline, instruction) of each message language after the first that has a headline or an
    instruction of its own (the first language's are the main fields), and
    `machine_languages` (tag, label) of the messages marked as machine translated."""
    headlines, instructions = values.get("headlines") or {}, values.get("instructions") or {}
    tags = [lang for lang, _text in values.get("messages", [])]
    return {"language_rows": [{"tag": tag, "label": i18n.language_label(tag),
                               "dir": languages.direction(tag),
                               "headline": headlines.get(tag) or "",
                               "instruction": instructions.get(tag) or ""} for tag in tags[1:]
                              if headlines.get(tag) or instructions.get(tag)],
            "machine_languages": [(tag, i18n.language_label(tag))
                                  for tag in values.get("machine") or [] if tag in tags]}


def form_from_alert(alert: Alert, settings) -> dict:
    """The compose form's values for a copy of `alert` (edit a draft, reuse an old alert)."""
    values = {name: getattr(alert, name) or "" for name in TEXT_FIELDS}
    area = alert.area or {}
    values.update(
        channels=list(alert.channels or []), confirm=alert.confirm, plain_punctuation=False,
        channels_mode=compose_channels.mode_of(list(alert.channels or []), alert.severity,
                                               settings), channels_reason="",
        zones=list(area.get("zones") or []), everyone=bool(area.get("everyone")),
        area_description=area.get("description") or "",
        area_geojson=json.dumps(area["geojson"]) if area.get("geojson") else "",
        area_circles=json.dumps(area["circles"]) if area.get("circles") else "",
        expires_at="", messages=list((alert.messages or {}).items()),
        headlines=dict(alert.headlines or {}), instructions=dict(alert.instructions or {}),
        machine=list(alert.machine_translated or []))
    if alert.expires_at:
        local = alert.expires_at.astimezone(ZoneInfo(settings.timezone))
        values["expires_at"] = local.strftime("%Y-%m-%dT%H:%M")
    return values


def form_values(form) -> dict:
    """The submitted form as the template's values (to show it again with its errors)."""
    values = {name: form.get(name, "") for name in TEXT_FIELDS}
    values.update(
        channels=form.getlist("channels"), confirm=form.get("confirm") == "1",
        channels_mode=form.get("channels_mode", compose_channels.TICKED),
        channels_reason=form.get("channels_reason", ""),
        plain_punctuation=form.get("plain_punctuation") == "1", zones=form.getlist("zones"), everyone=form.get("everyone") == "1",
        area_description=form.get("area_description", ""),
        area_geojson=form.get("area_geojson", ""), area_circles=form.get("area_circles", ""),
        expires_at=form.get("expires_at", ""), messages=message_pairs(form),
        headlines=_prefixed(form, "headline_"), instructions=_prefixed(form, "instruction_"),
        machine=machine_languages(form))
    return values


def _prefixed(form, prefix: str) -> dict[str, str]:
    return {key[len(prefix):]: form.get(key, "") for key in form if key.startswith(prefix)}


def blank_values(settings) -> dict:
    """A new alert: nothing chosen for the dispatcher except the default language's row."""
    values = {name: "" for name in TEXT_FIELDS}
    values.update(category="Safety", channels=["sms"], confirm=False, plain_punctuation=False,
                  channels_mode=compose_channels.BY_SEVERITY, channels_reason="",
                  zones=[], everyone=False,
                  area_description="", area_geojson="", area_circles="", expires_at="",
                  messages=[(settings.default_language, "")], headlines={}, instructions={},
                  machine=[])
    return values


def reach_body(form, settings) -> dict:
    """The alert body to count the form's reach while it is being written: its status, channels
    and area read as `body_from_form` reads them, with stand-ins for the texts (which do not
    change who is reached), so a half-written alert is counted too. Raises InvalidInput for an
    unreadable area."""
    body = body_from_form(MultiDict([(key, value) for key, value in form.items(multi=True)
                                     if key in REACH_FIELDS]), settings)
    severity = form.get("severity")
    body.update(headline="reach", messages={settings.default_language: "reach"},
                severity=severity if severity in SEVERITIES else "Unknown",
                urgency="Unknown", certainty="Unknown")
    if body.get("channels"):
        # Counted before the reason is typed; the preview asks for it.
        body.setdefault("channels_reason", "counting who it reaches")
    return body


CHANNEL_WORDS = {"sms": "SMS", "voice": "voice", "email": "email"}


def reach_answer(counts: dict, channels: list[str]) -> dict:
    """reach.json's body from `audience.preview` counts: residents, deliveries of the chosen
    channels, and the sentence the page shows."""
    deliveries = {c: counts["deliveries"][c] for c in channels if c in counts["deliveries"]}
    n = counts["recipients"]
    text = ngettext("Would reach %(count)s resident", "Would reach %(count)s residents", n,
                    count=n)
    per_channel = ", ".join(f"{_(CHANNEL_WORDS[c])} {count}" for c, count in deliveries.items())
    return {"recipients": n, "deliveries": deliveries,
            "text": f"{text}: {per_channel}" if per_channel else text,
            # Each public post as it will be sent (the preview's and the worker's text).
            "posts": [{**post, "caption": _("%(address)s · %(lang)s · %(n)d of %(limit)d characters",
                                            address=post["address"], lang=post["language"],
                                            n=post["length"], limit=post["limit"])}
                      for post in counts.get("posts", [])]}


def reach_errors(errors: dict, form) -> dict:
    """reach.json's 422 body: {"errors": {field: [messages]}, "text": one sentence}."""
    errors = {field: _flat(messages) for field, messages in errors.items()}
    if not form.get("status"):
        errors["status"] = [_("Choose the status: a drill or a test reaches only the test group.")]
    words = {"status": _("Status"), "channels": _("Channels"), "area": _("Area")}
    parts = [f"{words.get(field, field)}: {' '.join(messages)}" for field, messages in errors.items()]
    return {"errors": errors, "text": _("Not counted yet. %(problems)s", problems=" ".join(parts))}


def _flat(messages) -> list[str]:
    """Marshmallow's messages of a field (a list, or {index: [...]} for list items) as a list."""
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flat(value)]
    if isinstance(messages, list):
        return [str(m) for m in messages]
    return [str(messages)]


def language_choices(settings, values: dict) -> list[tuple[str, str]]:
    """(tag, "Español (es)") for the language pick-list: the supported languages, then any other
    tag the form already holds (a reused alert's), so that nothing is lost on the way."""
    tags = i18n.supported_languages(settings.default_language)
    tags += [lang for lang, _text in values.get("messages", []) if lang and lang not in tags]
    return [(tag, i18n.language_label(tag)) for tag in tags]


def translate_targets(values: dict) -> list[tuple[str, str]]:
    """(tag, "Español (es)") of the languages machine translation serves that have no row yet:
    the "Also translate into" choices."""
    present = {i18n.normalize(lang) for lang, _text in values.get("messages", []) if lang}
    return [(tag, i18n.language_label(tag)) for tag in languages.TAGS
            if i18n.normalize(tag) not in present]
