"""Marshmallow schemas for alerts (DESIGN §4); subscriber input is in subscriber_schema.py."""
from __future__ import annotations

from datetime import datetime, timezone

from marshmallow import (EXCLUDE, RAISE, Schema, ValidationError, fields, post_load, validate,
                         validates, validates_schema)

from notifier import (channel_specs, languages, severity_routing, sms_limits, text_fit,
                      text_rules)
from notifier.channel_state import unavailable_errors
from notifier.errors import InvalidInput
from notifier.i18n import N_, normalize
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
    """{language tag: text}; keys normalised, order kept (the first is the fallback text).

    `what` names the texts in errors; `max_chars` and `multiline` are each text's limits;
    `required_one` refuses an empty object (messages: at least one)."""

    def __init__(self, what: str = "Message", max_chars: int = MAX_MESSAGE_CHARS,
                 multiline: bool = True, required_one: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.what, self.max_chars = what, max_chars
        self.multiline, self.required_one = multiline, required_one

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("Must be an object mapping language tags to text.")
        if not value and self.required_one:
            raise ValidationError("At least one message is required.")
        if len(value) > MAX_LANGUAGES:
            raise ValidationError(f"At most {MAX_LANGUAGES} languages.")
        out, errors, what = {}, {}, self.what
        for key, text in value.items():
            try:
                tag = language_tag(key)
            except ValueError as exc:
                errors[str(key)] = [str(exc)]
                continue
            if not isinstance(text, str) or not text.strip():
                errors[key] = [f"{what} ({key}) is empty: write the text residents should read."]
            elif len(text) > self.max_chars:
                errors[key] = [f"{what} ({key}) is {len(text)} characters; shorten it to at most {self.max_chars}."]
            elif tag in out:
                errors[key] = [f"Language {tag} is given twice."]
            else:
                try:
                    out[tag] = checked_text(text.strip(), multiline=self.multiline)
                except ValidationError as exc:
                    errors[key] = exc.messages
        if errors:
            raise ValidationError(errors)
        return out


def _per_language(what: str, max_chars: int, multiline: bool) -> Messages:
    return Messages(what=what, max_chars=max_chars, multiline=multiline, required_one=False,
                    allow_none=True, load_default=None, metadata={
                        "type": "object", "maxProperties": MAX_LANGUAGES,
                        "additionalProperties": {"type": "string", "minLength": 1,
                                                 "maxLength": max_chars},
                        "description": f"{{language tag: {what.lower()}}} (DESIGN §11); the "
                                       f"single {what.lower()} is the default language's"})


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
    # Left out (or null): the severity's channels (SEVERITY_CHANNELS, notifier.severity_routing).
    channels = fields.List(fields.String(validate=validate.OneOf(ALERT_CHANNELS)), allow_none=True,
                           load_default=None,
                           validate=[validate.Length(min=1, error="Choose at least one channel."),
                                     check_unique], metadata={
        "description": "left out: the channels SEVERITY_CHANNELS gives the severity; others "
                       "need channels_reason"})
    channels_reason = TrimmedText(allow_none=True, load_default=None, metadata={
        "description": "why the channels differ from the severity's (kept in the audit log)"})
    expires_at = fields.AwareDateTime(allow_none=True, load_default=None)
    confirm = fields.Boolean(load_default=False)
    instruction = TrimmedText(allow_none=True, load_default=None, multiline=True,
                              validate=validate.Length(max=2000))
    headlines = _per_language("Headline", 200, multiline=False)
    instructions = _per_language("Instruction", 2000, multiline=True)
    # The languages whose message a machine translated (DESIGN §11): each needs a message.
    machine_translated = fields.List(fields.String(), load_default=list,
                                     validate=validate.Length(max=MAX_LANGUAGES), metadata={
        "description": "tags of `messages` a machine translated (a template's unreviewed "
                       "languages among them): residents read an \"automatic translation\" "
                       "note with them, and sending an Actual alert needs "
                       "`accept_machine_translation` on /send"})
    topic = fields.String(allow_none=True, load_default=None, validate=validate.Length(1, 64),
                          metadata={"description": "a topic's code (DESIGN §12): only its "
                                    "followers in the area receive the alert, unless it is "
                                    "Severe or Extreme"})
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

    @validates_schema
    def _machine_translated_messages(self, data, **kwargs):
        given = data.get("machine_translated") or []
        if "messages" not in data and self.partial:
            return
        by_tag = {normalize(tag): tag for tag in data.get("messages") or {}}
        tags, errors = [], []
        for value in given:
            try:
                tag = by_tag.get(normalize(language_tag(value)))
            except ValueError as exc:
                errors.append(str(exc))
                continue
            if tag is None:
                errors.append(f"{value} has no message: only a language with a text can be "
                              f"marked machine translated.")
            elif tag in tags:
                errors.append(f"{value} is listed twice.")
            else:
                tags.append(tag)
        if errors:
            raise ValidationError(errors, "machine_translated")
        data["machine_translated"] = [tag for tag in by_tag.values() if tag in tags]

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
    accept_machine_translation = fields.Boolean(load_default=False, metadata={
        "description": "the sender accepts the follow-up's machine-translated messages"})


def _translatable(value) -> str:
    """`value` as a normalised tag of a language machine translation serves; else ValidationError."""
    row = languages.get(value) if isinstance(value, str) else None
    if row is None:
        raise ValidationError(f"{value!r} is not a language machine translation serves here; "
                              f"choose from {', '.join(languages.TAGS)}.")
    return normalize(value)


class TranslateSchema(Schema):
    """Body of POST /api/v1/translate: a text, its language and the languages wanted."""

    class Meta:
        unknown = RAISE

    text = fields.String(required=True, metadata={"maxLength": MAX_MESSAGE_CHARS})
    source = fields.String(load_default="en", metadata={"description": "the text's language"})
    targets = fields.List(fields.String(), required=True, metadata={
        "minItems": 1, "description": "languages to translate into, one request each"})

    @validates("text")
    def _text(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("Write the text to translate.")
        if len(value) > MAX_MESSAGE_CHARS:
            raise ValidationError(f"The text is {len(value):,} characters; at most "
                                  f"{MAX_MESSAGE_CHARS:,} are translated (a message's limit).")
        checked_text(value.strip(), multiline=True)

    @validates("source")
    def _source(self, value, **kwargs):
        _translatable(value)

    @validates("targets")
    def _targets(self, value, **kwargs):
        if not value:
            raise ValidationError("Choose at least one language.")
        problems = []
        for item in value:
            try:
                _translatable(item)
            except ValidationError as exc:
                problems += exc.messages
        if problems:
            raise ValidationError(problems)

    @validates_schema
    def _not_into_itself(self, data, **kwargs):
        source = languages.get(data.get("source") or "")
        same = [t for t in data.get("targets") or [] if source and languages.get(t) is source]
        if same:
            raise ValidationError([f"{t} is the text's own language." for t in same], "targets")

    @post_load
    def _clean(self, data, **kwargs):
        data["text"] = data["text"].strip()
        data["source"] = _translatable(data["source"])
        data["targets"] = list(dict.fromkeys(_translatable(t) for t in data["targets"]))
        return data


class SendSchema(Schema):
    """Body of POST /api/v1/alerts/<id>/send (optional)."""

    class Meta:
        unknown = EXCLUDE  # the body used to be ignored: a client's extra keys stay harmless

    accept_machine_translation = fields.Boolean(load_default=False, metadata={
        "description": "the sender accepts the machine-translated messages of an Actual alert"})


def load_alert(data, settings, known_zones: set[str] | None,
               now: datetime | None = None, known_topics: set[str] | None = None) -> dict:
    """Validate an alert body and its area; return clean data or raise one InvalidInput.

    A `topic` must be one of `known_topics` (None: no topic is known, any is refused).

    A body may give `template` and `params` instead of `messages` (DESIGN §11): the
    template's texts are filled in first (`alert_templates.expand`, raising InvalidInput)."""
    from notifier import alert_templates  # reads schemas' CAP vocabularies
    from notifier import geo  # geo pulls in shapely; schemas stay light for importers

    data = alert_templates.expand(data, settings, now or datetime.now(timezone.utc))
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
    if result is not None and result.get("topic") and result["topic"] not in (known_topics or ()):
        errors["topic"] = [f"There is no topic {result['topic']!r}."]
    if result is not None:
        routing = severity_routing.route(result, settings)
        errors.update({k: v for k, v in routing.items() if k not in errors})
    if result is not None and settings is not None and result.get("channels"):
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
