"""Marshmallow schemas, one per input shape (DESIGN §4); factories close over settings."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache, partial

from babel import Locale, UnknownLocaleError
from marshmallow import (RAISE, Schema, ValidationError, fields, post_load, validate,
                         validates, validates_schema)

from notifier.errors import InvalidInput
from notifier.phones import to_e164

SUBSCRIBER_CHANNELS = ("sms", "voice", "email")
ALERT_CHANNELS = ("sms", "voice", "email", "social")
# CAP 1.2 vocabularies, spelled exactly as the standard does.
CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
              "Transport", "Infra", "CBRNE", "Other")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
SENDABLE_STATUSES = ("Actual", "Exercise", "Test")
MSG_TYPES = ("Alert", "Update", "Cancel")
MAX_LANGUAGES = 20
MAX_MESSAGE_CHARS = 5000


@lru_cache(maxsize=512)
def language_tag(value: str) -> str:
    """Return `value` as a BCP 47 tag babel knows (`es_MX`, `es-mx` → `es-MX`); else ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("Language must be a language tag such as en or es-MX.")
    parts = value.strip().replace("_", "-").split("-")
    try:
        locale = Locale.parse("_".join(parts))
    except (ValueError, UnknownLocaleError):
        raise ValueError(f"{value!r} is not a language tag babel knows.") from None
    wanted = [parts[0].lower()] + [p.lower() for p in parts[1:]]
    got = [locale.language] + [p.lower() for p in (locale.script, locale.territory, locale.variant) if p]
    # Babel fills in likely subtags (und → en_US, en-ZZ → en_US): never change a tag silently.
    if wanted != got:
        raise ValueError(f"{value!r} is not a language tag babel knows.")
    return "-".join(p for p in (locale.language, locale.script, locale.territory, locale.variant) if p)


def _unique(values: list) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise ValidationError(f"{value!r} is listed twice.")
        seen.add(value)


class _Text(fields.String):
    """A string with surrounding whitespace removed; blank becomes None where None is allowed."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text and self.allow_none:
            return None
        return text

    def _validate(self, value):
        if value is not None:
            super()._validate(value)


# The subscriber rules live in these cleaners, shared by the marshmallow schema (the API) and
# `clean_subscriber` (bulk import, where marshmallow's per-field machinery would cost more than
# the whole 10,000 rows/s budget). Each takes a non-None value and returns it clean or raises.
def _clean_name(value):
    if not isinstance(value, str):
        raise ValidationError("Not a valid string.")
    value = value.strip()
    if len(value) > 200:
        raise ValidationError("Longer than maximum length 200.")
    return value or None


def _clean_phone(value, region):
    if not isinstance(value, str):
        raise ValidationError("Not a valid string.")
    if not value.strip():
        return None
    try:
        return to_e164(value, region)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


_email_check = validate.Email()


def _clean_email(value):
    if not isinstance(value, str):
        raise ValidationError("Not a valid string.")
    value = value.strip().lower()
    if not value:
        return None
    if len(value) > 320:
        raise ValidationError("Longer than maximum length 320.")
    return _email_check(value)


def _clean_language(value):
    try:
        return language_tag(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _clean_list(value, item, max_items, unique=True):
    if not isinstance(value, (list, tuple)):
        raise ValidationError("Not a valid list.")
    if len(value) > max_items:
        raise ValidationError(f"At most {max_items} items.")
    out, errors = [], {}
    for i, v in enumerate(value):
        try:
            out.append(item(v))
        except ValidationError as exc:
            errors[i] = exc.messages
    if errors:
        raise ValidationError(errors)
    if unique:
        _unique(out)
    return out


def _channel(value):
    if value not in SUBSCRIBER_CHANNELS:
        raise ValidationError(f"Must be one of: {', '.join(SUBSCRIBER_CHANNELS)}.")
    return value


def _clean_channels(value):
    out = _clean_list(value, _channel, len(SUBSCRIBER_CHANNELS) + 1)
    if not out:
        raise ValidationError("Choose at least one channel.")
    return out


def _code(value):
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("Must be a non-empty string.")
    if len(value.strip()) > 64:
        raise ValidationError("Longer than maximum length 64.")
    return value.strip()


def _clean_codes(value):
    return _clean_list(value, _code, 100)


def _coordinate(value, limit):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValidationError("Not a valid number.")
    try:
        number = float(value)
    except ValueError:
        raise ValidationError("Not a valid number.") from None
    if not -limit <= number <= limit:  # also rejects NaN
        raise ValidationError(f"Must be between -{limit} and {limit}.")
    return number


def _location(value):
    if not isinstance(value, dict):
        raise ValidationError("Must be an object with lat and lon.")
    errors, out = {}, {"label": None}
    for key in value.keys() - {"label", "lat", "lon"}:
        errors[key] = ["Unknown field."]
    label = value.get("label")
    if label is not None:
        if not isinstance(label, str) or len(label.strip()) > 80:
            errors["label"] = ["Must be a string of at most 80 characters."]
        else:
            out["label"] = label.strip() or None
    for key, limit in (("lat", 90), ("lon", 180)):
        if value.get(key) is None:
            errors[key] = ["Missing data for required field."]
            continue
        try:
            out[key] = _coordinate(value[key], limit)
        except ValidationError as exc:
            errors[key] = exc.messages
    if errors:
        raise ValidationError(errors)
    return out


def _clean_locations(value):
    return _clean_list(value, _location, 20, unique=False)


_SUBSCRIBER_FIELDS = {"name": _clean_name, "phone": _clean_phone, "email": _clean_email,
                      "language": _clean_language, "channels": _clean_channels,
                      "locations": _clean_locations, "zones": _clean_codes, "groups": _clean_codes}
_NULLABLE = {"name", "phone", "email", "channels", "locations", "zones", "groups"}


def clean_subscriber(data, region: str, default_language: str, partial: bool = False) -> dict:
    """Validate a subscriber body exactly as the schema does, without marshmallow's overhead.

    Returns the clean dict (absent fields stay absent; `language` defaults unless `partial`);
    raises marshmallow.ValidationError with {field: [messages]}.
    """
    if not isinstance(data, dict):
        raise ValidationError({"_schema": ["Invalid input type."]})
    out, errors = {}, {}
    for key, value in data.items():
        clean = _SUBSCRIBER_FIELDS.get(key)
        if clean is None:
            errors[key] = ["Unknown field."]
        elif value is None:
            if key in _NULLABLE:
                out[key] = None
            else:
                errors[key] = ["Field may not be null."]
        else:
            try:
                out[key] = clean(value, region=region) if key == "phone" else clean(value)
            except ValidationError as exc:
                errors[key] = exc.messages
    if errors:
        raise ValidationError(errors)
    if not partial and "language" not in out:
        out["language"] = default_language
    return out


class _Cleaned(fields.Field):
    """A field whose rule is one of the cleaners above."""

    def __init__(self, clean, **kwargs):
        super().__init__(**kwargs)
        self.clean = clean

    def _deserialize(self, value, attr, data, **kwargs):
        return self.clean(value)


@lru_cache(maxsize=16)
def _subscriber_schema_class(region: str, default_language: str) -> type[Schema]:
    class SubscriberSchema(Schema):
        class Meta:
            unknown = RAISE

        name = _Cleaned(_clean_name, allow_none=True)
        phone = _Cleaned(partial(_clean_phone, region=region), allow_none=True)
        email = _Cleaned(_clean_email, allow_none=True)
        language = _Cleaned(_clean_language, load_default=default_language)
        channels = _Cleaned(_clean_channels, allow_none=True)
        locations = _Cleaned(_clean_locations, allow_none=True)
        zones = _Cleaned(_clean_codes, allow_none=True)
        groups = _Cleaned(_clean_codes, allow_none=True)

    return SubscriberSchema


def make_subscriber_schema(settings, partial: bool = False) -> Schema:
    """Return a schema for DESIGN §4's subscriber body; `partial` for PATCH and import updates.

    Loads to {name, phone (E.164), email (lower-case), language (BCP 47), channels, locations,
    zones, groups}; null lists mean "none"/"the default". Whether a phone or email is present
    is for the domain to decide.
    """
    cls = _subscriber_schema_class(settings.default_region, settings.default_language)
    return cls(partial=partial)


class Messages(fields.Field):
    """{language tag: text}; keys normalised, order kept (the first is the fallback text)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("Must be an object mapping language tags to text.")
        if not value:
            raise ValidationError("At least one message is required.")
        if len(value) > MAX_LANGUAGES:
            raise ValidationError(f"At most {MAX_LANGUAGES} languages.")
        out, errors = {}, {}
        for key, text in value.items():
            try:
                tag = language_tag(key)
            except ValueError as exc:
                errors[str(key)] = [str(exc)]
                continue
            if not isinstance(text, str) or not text.strip():
                errors[key] = ["Message text must not be empty."]
            elif len(text) > MAX_MESSAGE_CHARS:
                errors[key] = [f"Message text must be at most {MAX_MESSAGE_CHARS} characters."]
            elif tag in out:
                errors[key] = [f"Language {tag} is given twice."]
            else:
                out[tag] = text.strip()
        if errors:
            raise ValidationError(errors)
        return out


class AlertSchema(Schema):
    """DESIGN §4's alert body; `area` is only type-checked here (geo.parse_area does the rest)."""

    class Meta:
        unknown = RAISE

    def __init__(self, *args, now: datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now

    headline = _Text(required=True, validate=validate.Length(1, 200))
    event = _Text(allow_none=True, validate=validate.Length(max=200))
    messages = Messages(required=True)
    category = fields.String(load_default="Safety", validate=validate.OneOf(CATEGORIES))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES))
    certainty = fields.String(required=True, validate=validate.OneOf(CERTAINTIES))
    # No default: a test must never go out as live because a field was left out.
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    msg_type = fields.String(load_default="Alert", validate=validate.OneOf(MSG_TYPES))
    references = _Text(allow_none=True, load_default=None)
    area = fields.Dict(required=True)
    channels = fields.List(fields.String(validate=validate.OneOf(ALERT_CHANNELS)), required=True,
                           validate=[validate.Length(min=1, error="Choose at least one channel."),
                                     _unique])
    expires_at = fields.AwareDateTime(allow_none=True, load_default=None)
    confirm = fields.Boolean(load_default=False)
    instruction = _Text(allow_none=True, load_default=None, validate=validate.Length(max=2000))

    @validates("status")
    def _sendable(self, value, **kwargs):
        if value not in SENDABLE_STATUSES:
            raise ValidationError(f"{value} alerts are not sent; choose Actual, Exercise or Test.")

    @validates("expires_at")
    def _in_future(self, value, **kwargs):
        if value is not None and value <= (self.now or datetime.now(timezone.utc)):
            raise ValidationError("Must be in the future.")

    @validates("references")
    def _cap_references(self, value, **kwargs):
        for ref in (value or "").split():
            parts = ref.split(",")
            if len(parts) != 3 or not all(parts):
                raise ValidationError("Must be space-separated sender,identifier,sent triples.")

    @validates_schema
    def _references_for_updates(self, data, **kwargs):
        if data.get("msg_type") in ("Update", "Cancel") and not data.get("references"):
            raise ValidationError("An Update or Cancel must name the alert it refers to.",
                                  "references")

    @post_load
    def _finish(self, data, **kwargs):
        if self.partial:
            return data
        if not data.get("event"):
            data["event"] = data["headline"]
        if data.get("expires_at") is not None:
            data["expires_at"] = data["expires_at"].astimezone(timezone.utc)
        return data


def make_alert_schema(settings=None, now: datetime | None = None) -> AlertSchema:
    """Return the alert schema (also for preview); `now` is when expires_at must lie after."""
    return AlertSchema(now=now)


class CancelSchema(Schema):
    """Body of POST /alerts/<id>/cancel: an optional all-clear or correction."""

    class Meta:
        unknown = RAISE

    message = fields.Dict(allow_none=True, load_default=None)
    msg_type = fields.String(load_default="Cancel", validate=validate.OneOf(("Cancel", "Update")))


def load_alert(data, settings, known_zones: set[str] | None,
               now: datetime | None = None) -> dict:
    """Validate an alert body and its area; return clean data or raise one InvalidInput."""
    from notifier import geo  # geo pulls in shapely; schemas stay light for importers

    errors: dict = {}
    result = None
    try:
        result = make_alert_schema(settings, now).load(data)
    except ValidationError as exc:
        errors = dict(exc.messages) if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    area = data.get("area") if isinstance(data, dict) else None
    if isinstance(area, dict) and "area" not in errors:
        try:
            geo.parse_area(area, known_zones)
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    return result
