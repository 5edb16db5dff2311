"""Marshmallow schemas for alerts (DESIGN §4); subscriber input is in subscriber_schema.py."""
from __future__ import annotations

from datetime import datetime, timezone

from marshmallow import (RAISE, Schema, ValidationError, fields, post_load, validate,
                         validates, validates_schema)

from notifier import channel_specs, sms_limits, text_fit, text_rules
from notifier.channel_state import unavailable_errors
from notifier.errors import InvalidInput
from notifier.i18n import N_
# Re-exported: callers import every input schema from here.
from notifier.subscriber_schema import (SUBSCRIBER_CHANNELS, TrimmedText, check_unique,  # noqa: F401
                                        checked_text, clean_subscriber, language_tag,
                                        make_subscriber_schema)

ALERT_CHANNELS = channel_specs.NAMES
# CAP 1.2 vocabularies, spelled exactly as the standard does (N_: the pages show them translated).
CATEGORIES = (N_("Geo"), N_("Met"), N_("Safety"), N_("Security"), N_("Rescue"), N_("Fire"),
              N_("Health"), N_("Env"), N_("Transport"), N_("Infra"), N_("CBRNE"), N_("Other"))
SEVERITIES = (N_("Extreme"), N_("Severe"), N_("Moderate"), N_("Minor"), N_("Unknown"))
URGENCIES = (N_("Immediate"), N_("Expected"), N_("Future"), N_("Past"), N_("Unknown"))
CERTAINTIES = (N_("Observed"), N_("Likely"), N_("Possible"), N_("Unlikely"), N_("Unknown"))
STATUSES = (N_("Actual"), N_("Exercise"), N_("System"), N_("Test"), N_("Draft"))
SENDABLE_STATUSES = ("Actual", "Exercise", "Test")
MSG_TYPES = ("Alert", "Update", "Cancel")
MAX_LANGUAGES = 20
MAX_MESSAGE_CHARS = 5000


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
                errors[key] = [f"Message ({key}) is empty: write the text residents should read."]
            elif len(text) > MAX_MESSAGE_CHARS:
                errors[key] = [f"Message ({key}) is {len(text)} characters; shorten it to at most {MAX_MESSAGE_CHARS}."]
            elif tag in out:
                errors[key] = [f"Language {tag} is given twice."]
            else:
                try:
                    out[tag] = checked_text(text.strip(), multiline=True)
                except ValidationError as exc:
                    errors[key] = exc.messages
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

    headline = TrimmedText(required=True, validate=validate.Length(1, 200))
    event = TrimmedText(allow_none=True, validate=validate.Length(max=200))
    messages = Messages(required=True, metadata={
        "type": "object", "minProperties": 1, "maxProperties": MAX_LANGUAGES,
        "additionalProperties": {"type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS},
        "description": "{language tag: text}; the first language is the fallback text."})
    category = fields.String(load_default="Safety", validate=validate.OneOf(CATEGORIES))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES))
    certainty = fields.String(required=True, validate=validate.OneOf(CERTAINTIES))
    # No default: a test must never go out as live because a field was left out.
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    msg_type = fields.String(load_default="Alert", validate=validate.OneOf(MSG_TYPES))
    references = TrimmedText(allow_none=True, load_default=None)
    area = fields.Dict(required=True, metadata={
        "description": "{description, geojson (Polygon/MultiPolygon), circles [{lat, lon, "
                       "radius_m}], zones [codes], everyone}: at least one of them"})
    channels = fields.List(fields.String(validate=validate.OneOf(ALERT_CHANNELS)), required=True,
                           validate=[validate.Length(min=1, error="Choose at least one channel."),
                                     check_unique])
    expires_at = fields.AwareDateTime(allow_none=True, load_default=None)
    confirm = fields.Boolean(load_default=False)
    instruction = TrimmedText(allow_none=True, load_default=None, multiline=True,
                              validate=validate.Length(max=2000))
    # Not stored: a request to rewrite the messages' punctuation (notifier.gsm_text).
    gsm_safe = fields.Boolean(load_default=False, metadata={
        "description": "true: plain quotes, dashes, dots and spaces in each message whose SMS "
                       "that turns from UCS-2 into GSM-7; the answer's plain_punctuation says "
                       "what changed"})

    @validates("status")
    def _sendable(self, value, **kwargs):
        if value not in SENDABLE_STATUSES:
            raise ValidationError(f"{value} alerts are not sent; choose Actual, Exercise or Test.")

    @validates("expires_at")
    def _in_future(self, value, **kwargs):
        if value is not None and value <= (self.now or datetime.now(timezone.utc)):
            raise ValidationError("Expires must be in the future: choose a later date and time.")

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

    message = fields.Dict(allow_none=True, load_default=None, metadata={
        "description": "{language tag: text}, or a full alert body, for the follow-up"})
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
        description = area.get("description")
        if isinstance(description, str):
            # Here, not in geo.parse_area, which also reads stored areas back.
            try:
                description = text_rules.check(description, multiline=True)
            except ValueError as exc:
                errors.setdefault("area", []).append(f"description {_lower_first(str(exc))}")
            else:
                if result is not None:
                    result["area"]["description"] = description
    if result is not None and settings is not None:
        # A channel that cannot send would be counted, queued and shown as sent to nobody.
        refused = unavailable_errors(result["channels"], settings)
        if refused:
            errors["channels"] = refused
    if result is not None and result.pop("gsm_safe", False) and "messages" not in errors:
        result["plain_punctuation"] = text_fit.apply_plain_punctuation(result, settings)
    if result is not None and "messages" not in errors:
        long_texts = sms_limits.too_long(result, settings)
        if long_texts:
            errors["messages"] = long_texts
    if errors:
        raise InvalidInput(errors)
    return result


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
