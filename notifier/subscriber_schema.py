"""Subscriber input (DESIGN §4): small cleaners shared by the marshmallow schema and bulk import."""
from __future__ import annotations

from functools import lru_cache, partial

from babel import Locale, UnknownLocaleError
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from notifier import channel_specs, languages, quiet_hours, text_rules
from notifier.i18n import normalize
from notifier.phones import to_e164

SUBSCRIBER_CHANNELS = channel_specs.RESIDENT_CHANNELS


@lru_cache(maxsize=512)
def language_tag(value: str) -> str:
    """Return `value` as a BCP 47 tag babel knows (`es_MX`, `es-mx` → `es-MX`); else ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("Language must be a language tag such as en or es-MX.")
    parts = value.strip().replace("_", "-").split("-")
    try:
        locale = Locale.parse("_".join(parts))
    except (ValueError, UnknownLocaleError):
        raise ValueError(f"Choose a language from the list ({value!r} is not a language we know; use a tag such as en or es-MX).") from None
    tag = normalize("-".join(parts))
    got = {p.lower() for p in (locale.language, locale.script, locale.territory, locale.variant) if p}
    # Babel fills in likely subtags (zh-TW → zh_Hant_TW, und → en_US) and CLDR's aliases
    # (tl → fil): accept those, but never a subtag it replaced (en-ZZ → en_US).
    given = tag.lower().split("-")
    if given[0] != locale.language and languages.get(given[0]) is None:
        raise ValueError(f"Choose a language from the list ({value!r} is not a language we know; use a tag such as en or es-MX).")
    if any(p not in got for p in given[1:]):
        raise ValueError(f"Choose a language from the list ({value!r} is not a language we know; use a tag such as en or es-MX).")
    row = languages.get(tag)
    return row.tag if row is not None and row.tag.lower() == tag.lower() else tag


def check_unique(values: list) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise ValidationError(f"{value!r} is listed twice.")
        seen.add(value)


def checked_text(value: str, multiline: bool = False) -> str:
    """`text_rules.check` for schemas: the refusal as a ValidationError."""
    try:
        return text_rules.check(value, multiline)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class TrimmedText(fields.String):
    """A string with surrounding whitespace removed; blank becomes None where None is allowed.

    Single-line unless `multiline=True`; control characters are refused either way.
    """

    def __init__(self, *args, multiline: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.multiline = multiline

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text and self.allow_none:
            return None
        return checked_text(text, self.multiline)

    def _validate(self, value):
        if value is not None:
            super()._validate(value)


# The subscriber rules live in these cleaners, shared by the marshmallow schema (the API) and
# `clean_subscriber` (bulk import, where marshmallow's per-field machinery would cost more than
# the whole 10,000 rows/s budget). Each takes a non-None value and returns it clean or raises.
def _clean_name(value):
    if not isinstance(value, str):
        raise ValidationError("Not a valid string.")
    value = checked_text(value.strip())
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
        check_unique(out)
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
    return checked_text(value.strip())


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
            try:
                out["label"] = checked_text(label.strip()) or None
            except ValidationError as exc:
                errors["label"] = exc.messages
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


def _clean_quiet_hours(value):
    """"off" or "HH:MM-HH:MM" (stored zero-padded); None (the agency's default) is the
    schema's null."""
    try:
        return quiet_hours.normalized(value)
    except ValueError as exc:
        raise ValidationError(f"Quiet hours {exc}; leave empty for the agency's default.") from None


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


_CODES = {"type": "array", "maxItems": 100, "uniqueItems": True,
          "items": {"type": "string", "minLength": 1, "maxLength": 64}}
# What each cleaner accepts, as JSON Schema for the API's OpenAPI description.
_DESCRIBED = {
    "name": {"type": "string", "maxLength": 200},
    "phone": {"type": "string", "description": "any spelling of a number; stored as E.164"},
    "email": {"type": "string", "format": "email", "maxLength": 320},
    "language": {"type": "string", "description": "BCP 47 tag, e.g. es-MX"},
    "channels": {"type": "array", "minItems": 1, "uniqueItems": True,
                 "items": {"type": "string", "enum": list(SUBSCRIBER_CHANNELS)}},
    "locations": {"type": "array", "maxItems": 20, "items": {
        "type": "object", "required": ["lat", "lon"], "additionalProperties": False,
        "properties": {"label": {"type": ["string", "null"], "maxLength": 80},
                       "lat": {"type": "number", "minimum": -90, "maximum": 90},
                       "lon": {"type": "number", "minimum": -180, "maximum": 180}}}},
    "zones": _CODES,
    "groups": _CODES,
    "topics": {**_CODES, "description": "codes of the topics they follow (DESIGN §12); each "
                                        "must be a topic's"},
    "quiet_hours": {"type": "string", "pattern": r"^(off|\d{1,2}:\d{2}-\d{1,2}:\d{2})$",
                    "description": "routine alerts wait through these local hours (TIMEZONE): "
                                   "\"HH:MM-HH:MM\" (may cross midnight), \"off\", or null for "
                                   "the agency's QUIET_HOURS", "examples": ["22:00-07:00"]},
}


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

        name = _Cleaned(_clean_name, allow_none=True, metadata=_DESCRIBED["name"])
        phone = _Cleaned(partial(_clean_phone, region=region), allow_none=True,
                         metadata=_DESCRIBED["phone"])
        email = _Cleaned(_clean_email, allow_none=True, metadata=_DESCRIBED["email"])
        language = _Cleaned(_clean_language, load_default=default_language,
                            metadata=_DESCRIBED["language"])
        channels = _Cleaned(_clean_channels, allow_none=True, metadata=_DESCRIBED["channels"])
        locations = _Cleaned(_clean_locations, allow_none=True, metadata=_DESCRIBED["locations"])
        zones = _Cleaned(_clean_codes, allow_none=True, metadata=_DESCRIBED["zones"])
        groups = _Cleaned(_clean_codes, allow_none=True, metadata=_DESCRIBED["groups"])
        # API only (not bulk import): the domain checks each code is a topic's.
        topics = _Cleaned(_clean_codes, allow_none=True, metadata=_DESCRIBED["topics"])
        # The API's and the edit page's only (the bulk import keeps the default).
        quiet_hours = _Cleaned(_clean_quiet_hours, allow_none=True,
                               metadata=_DESCRIBED["quiet_hours"])

    return SubscriberSchema


def make_subscriber_schema(settings, partial: bool = False) -> Schema:
    """Return a schema for DESIGN §4's subscriber body; `partial` for PATCH and import updates.

    Loads to {name, phone (E.164), email (lower-case), language (BCP 47), channels, locations,
    zones, groups, topics, quiet_hours ("off", "HH:MM-HH:MM" or None)}; null lists mean "none"/"the default". Whether a phone or email is present
    is for the domain to decide.
    """
    cls = _subscriber_schema_class(settings.default_region, settings.default_language)
    return cls(partial=partial)
