"""What /api/v1 answers, as marshmallow schemas for the OpenAPI description (never used to load)."""
from __future__ import annotations

from functools import partial

from marshmallow import INCLUDE, Schema, fields, validate

from notifier import alerts, deliveries
from notifier.config import CHANNELS
from notifier.schemas import SUBSCRIBER_CHANNELS

# Responses may gain fields (additive contract): every shape allows more than it lists.


class _Shape(Schema):
    class Meta:
        unknown = INCLUDE


def _text(**kwargs):
    return fields.String(required=True, **kwargs)


def _maybe(field):
    return field(required=True, allow_none=True)


class Error(_Shape):
    """`{"error": "..."}`: every 4xx/5xx that is not about fields (409 may add `id`)."""
    error = _text()


class FieldErrors(_Shape):
    """422: `{"errors": {field: [messages]}}`; a nested field keeps its structure under its name."""
    errors = fields.Dict(required=True, keys=fields.String(), metadata={
        "additionalProperties": {"type": ["array", "object"]}})


class Page(_Shape):
    """Every list: `items` of this page, and where it is in the whole."""
    items = fields.List(fields.Dict(), required=True)
    page = fields.Integer(required=True, validate=validate.Range(min=1))
    per_page = fields.Integer(required=True, validate=validate.Range(min=1))
    total = fields.Integer(required=True, validate=validate.Range(min=0))


class Stats(_Shape):
    recipients = fields.Integer(required=True)
    channels = fields.Dict(required=True, keys=fields.String(validate=validate.OneOf(CHANNELS)),
                           values=fields.Dict(keys=fields.String(
                               validate=validate.OneOf(deliveries.STATUSES)), values=fields.Integer()))
    acknowledged = fields.Integer(required=True)
    failovers = fields.Dict(
        required=True, keys=fields.String(), values=fields.Integer(),
        metadata={"description": 'deliveries made after a channel failed for good: {"sms→voice": n}'})


class Approval(_Shape):
    """Who approved; on an alert also whether it is needed, why (in plain words) and who may."""
    approved_by = _maybe(fields.String)
    approved_at = _maybe(fields.DateTime)
    needed = fields.Boolean()
    reasons = fields.List(fields.String())
    approver_roles = fields.List(fields.String(), metadata={
        "description": "roles that may approve; never the alert's author"})


class Alert(_Shape):
    """An alert as stored (`stats` on GET of one alert only)."""
    id = fields.Integer(required=True)
    identifier = _text(metadata={"description": "CAP identifier"})
    state = _text(validate=validate.OneOf(alerts.STATES))
    headline = _text()
    event = _maybe(fields.String)
    messages = fields.Dict(required=True, keys=fields.String(), values=fields.String())
    category = _maybe(fields.String)
    severity = _maybe(fields.String)
    urgency = _maybe(fields.String)
    certainty = _maybe(fields.String)
    status = _text()
    msg_type = _text()
    references = _maybe(fields.String)
    area = fields.Dict(required=True)
    channels = fields.List(fields.String(), required=True)
    expires_at = _maybe(fields.DateTime)
    confirm = fields.Boolean(required=True)
    instruction = _maybe(fields.String)
    headlines = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    instructions = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    machine_translated = fields.List(fields.String(), required=True, metadata={
        "description": "tags of the messages a machine translated (a template's unreviewed "
                       "languages among them; DESIGN §11)"})
    topic = _maybe(fields.String)
    references_alert_id = _maybe(fields.Integer)
    created_by = _maybe(fields.String)
    created_at = fields.DateTime(required=True)
    sent_at = _maybe(fields.DateTime)
    fanned_out_at = _maybe(fields.DateTime)
    cancelled_at = _maybe(fields.DateTime)
    public_url = fields.String(metadata={
        "format": "uri", "description": "the alert's public page (PUBLIC_URL + /a/<public id>): set when the "
                       "alert is created and never changed; the page answers 404 until the "
                       "alert is a sent Actual alert"})
    stats = fields.Nested(Stats)
    plain_punctuation = fields.Dict(metadata={
        "description": "only when the body gave \"gsm_safe\": true: {language tag: [{from, to, "
                       "count, codepoint}]}, the texts rewritten with plain punctuation"})
    awaiting_approval = fields.Boolean(metadata={
        "description": "a draft the two-person rule holds back until a second person approves"})
    approval = fields.Nested(Approval)


class CancelledAlert(Alert):
    """The cancelled alert, and the follow-up alert made from `message` (null without one)."""
    follow_up = fields.Nested(Alert, required=True, allow_none=True)


class ImportedAlert(Alert):
    """The draft a CAP 1.2 document made, and what a dispatcher must check before sending it."""
    warnings = fields.List(fields.String(), required=True, metadata={
        "description": "geocodes that name no zone, a 0-radius circle, an expired alert, a "
                       "status Tocsin does not send…: said here, never dropped silently"})


class SendStarted(_Shape):
    id = fields.Integer(required=True)
    state = _text(validate=validate.OneOf(alerts.STATES))


class Location(_Shape):
    label = _maybe(fields.String)
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)


class Subscriber(_Shape):
    id = fields.Integer(required=True)
    name = _maybe(fields.String)
    phone = _maybe(fields.String)
    email = _maybe(fields.String)
    language = _text()
    channels = fields.List(fields.String(validate=validate.OneOf(SUBSCRIBER_CHANNELS)),
                           required=True)
    locations = fields.List(fields.Nested(Location), required=True)
    zones = fields.List(fields.String(), required=True)
    groups = fields.List(fields.String(), required=True)
    topics = fields.List(fields.String(), required=True,
                         metadata={"description": "codes of the topics they follow"})
    opted_out = fields.Dict(required=True, keys=fields.String(), values=fields.Boolean())
    quiet_hours = _maybe(partial(fields.String, metadata={
        "description": "\"HH:MM-HH:MM\" or \"off\"; null: the agency's QUIET_HOURS"}))
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class Zone(_Shape):
    code = _text()
    name = _text()
    geometry = fields.Dict(required=True, metadata={"description": "GeoJSON Polygon or MultiPolygon"})
    keywords = fields.List(fields.String(), required=True)
    social_urls = fields.List(fields.String(), required=True,
                              metadata={"description": "the zone's own accounts, masked"})
    bbox = fields.List(fields.Float(), required=True, allow_none=True,
                       metadata={"description": "[west, south, east, north]"})
    created_at = _maybe(fields.DateTime)
    updated_at = _maybe(fields.DateTime)
    followers = fields.Integer()


class Topic(_Shape):
    """What routine alerts are about (DESIGN §12); residents follow the ones they want."""
    code = _text()
    name = fields.Dict(required=True, keys=fields.String(), values=fields.String(),
                       metadata={"description": "{language tag: the topic's name}"})
    keywords = fields.List(fields.String(), required=True,
                           metadata={"description": "what residents text after JOIN or LEAVE"})
    created_at = _maybe(fields.DateTime)
    updated_at = _maybe(fields.DateTime)
    followers = fields.Integer()


class Topics(_Shape):
    items = fields.List(fields.Nested(Topic), required=True)


class PreviewTopic(_Shape):
    """The alert's topic: whether only its followers are reached (not when Severe or Extreme)."""
    code = _text()
    name = fields.Dict(required=True, allow_none=True, keys=fields.String(), values=fields.String())
    followers = fields.Integer(required=True)
    only_followers = fields.Boolean(required=True)


class Delivery(_Shape):
    id = fields.Integer(required=True)
    subscriber_id = _maybe(fields.Integer)
    channel = _text()
    address = _maybe(fields.String)
    language = _maybe(fields.String)
    status = _text(validate=validate.OneOf(deliveries.STATUSES))
    provider_id = _maybe(fields.String)
    error_code = _maybe(fields.String)
    attempts = fields.Integer(required=True)
    queued_at = _maybe(fields.DateTime)
    sent_at = _maybe(fields.DateTime)
    delivered_at = _maybe(fields.DateTime)
    acknowledged_at = _maybe(fields.DateTime)


class AuditEvent(_Shape):
    id = fields.Integer(required=True)
    at = _text()
    actor = _text()
    action = _text()
    object = _maybe(fields.String)
    details = fields.Dict(required=True)
    hash = _text()


class InboxText(_Shape):
    id = fields.Integer(required=True)
    at = _maybe(fields.DateTime)
    sender = fields.String(required=True, allow_none=True, data_key="from")
    body = _maybe(fields.String)
    subscriber_id = _maybe(fields.Integer)


class SandboxMessage(_Shape):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    channel = _text()
    to = _text()
    subject = _maybe(fields.String)
    body = _maybe(fields.String)
    delivery_id = _maybe(fields.Integer)
    provider_id = _maybe(fields.String)


class ImportResult(_Shape):
    """Bulk imports: bad rows (or features) are listed, never stop good ones."""
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    rejected = fields.List(fields.Dict(), required=True)


class Consents(_Shape):
    consents = fields.List(fields.Dict(), required=True)
    opt_outs = fields.List(fields.Dict(), required=True)


class SandboxReply(_Shape):
    reply = _maybe(fields.String)


class ResidentLanguage(_Shape):
    """Readers of one language: the text they get, and whether it is theirs (language and
    script); `missing` names the text they lack; `catalog` null: fixed texts in English."""
    language = _text()
    residents = fields.Integer(required=True)
    gets = _text()
    own = fields.Boolean(required=True)
    missing = _maybe(fields.String)
    catalog = _maybe(fields.String)


class Preview(_Shape):
    """Who an alert body would reach, and what its SMS would cost; nothing is stored."""
    recipients = fields.Integer(required=True)
    deliveries = fields.Dict(required=True)
    languages = fields.Dict(required=True, keys=fields.String(), values=fields.Integer())
    resident_languages = fields.List(fields.Nested(ResidentLanguage), required=True)
    fixed_texts_in_english = fields.Integer(required=True)
    sms = fields.Dict(required=True)
    text_fit = fields.Dict(required=True, metadata={
        "description": "{language tag: {plain_punctuation: null or {text, substitutions, before, "
                       "after}, wea: {message, headline}, voice: {spoken, language, voice, "
                       "fallback}}} (notifier.text_fit)"})
    warnings = fields.List(fields.Raw(), required=True)
    area_km2 = fields.Float(required=True)
    larger_than_any_zone = fields.Boolean(required=True)
    topic = fields.Nested(PreviewTopic, allow_none=True, metadata={
        "description": "null without a topic"})
    scheduled = fields.Dict(required=True, keys=fields.String(), values=fields.Integer(), metadata={
        "description": "deliveries per channel that would wait for the residents' quiet hours "
                       "to end (routine alerts only)"})
    scheduled_until = _maybe(partial(fields.DateTime, metadata={
        "description": "when the last of the scheduled deliveries would go out; null: none wait"}))
    skipped_daily_limit = fields.Integer(required=True, metadata={
        "description": "residents the frequency guard (MAX_ROUTINE_PER_DAY) would skip"})


class Translation(_Shape):
    text = _text()
    machine = fields.Boolean(required=True, metadata={"description": "always true: a machine "
                                                      "translated it; mark it on the alert"})


class Translations(_Shape):
    """Machine translations of one text, by target language (POST /translate)."""
    translations = fields.Dict(required=True, keys=fields.String(),
                               values=fields.Nested(Translation))
class Template(_Shape):
    """An alert template: texts in every language of `languages`, filled with `params`."""
    code = _text()
    name = fields.Dict(required=True, keys=fields.String(), values=fields.String(),
                       metadata={"description": "{language tag: the template's name}"})
    event = _text()
    category = _text()
    severity = _text()
    urgency = _text()
    certainty = _text()
    params = fields.List(fields.String(), required=True)
    param_types = fields.Dict(required=True, keys=fields.String(), values=fields.String(
        validate=validate.OneOf(("text", "time"))), metadata={
        "description": "text: inserted verbatim; time: ISO 8601 with offset, written in each "
                       "language's short time (and date when not today) in TIMEZONE"})
    languages = fields.List(fields.String(), required=True)
    reviewed = fields.Dict(required=True, keys=fields.String(), values=fields.Boolean(), metadata={
        "description": "true for the source text and for texts a named person reviewed; an "
                       "alert from the template lists the others in machine_translated"})


class Templates(_Shape):
    items = fields.List(fields.Nested(Template), required=True)


class ChainCheck(_Shape):
    ok = fields.Boolean(required=True)
    first_bad_id = _maybe(fields.Integer)


# Names under components/schemas, in one place so paths and tests agree.
SHAPES = {cls.__name__: cls for cls in (
    Error, FieldErrors, Page, Stats, Approval, Alert, CancelledAlert, ImportedAlert, SendStarted,
    Location,
    Subscriber, Zone, Topic, Topics, PreviewTopic, Delivery, AuditEvent, InboxText, SandboxMessage, ImportResult, Consents,
    SandboxReply, ResidentLanguage, Preview, Translation, Translations, ChainCheck, Template,
    Templates)}

from admin_ui.api.address_shapes import SHAPES as _ADDRESS_SHAPES  # noqa: E402
from admin_ui.api.report_shapes import SHAPES as _REPORT_SHAPES  # noqa: E402

SHAPES.update(_REPORT_SHAPES)
SHAPES.update(_ADDRESS_SHAPES)
