"""What GET /api/v1/alerts/<id>/report answers, as marshmallow shapes for the OpenAPI document."""
from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

from notifier import alerts, deliveries, reports
from notifier.config import CHANNELS

# Like every answer, the report may gain fields: each shape allows more than it lists.


class _Shape(Schema):
    class Meta:
        unknown = INCLUDE


def _int():
    return fields.Integer(required=True, validate=validate.Range(min=0))


def _maybe(field, **kwargs):
    return field(required=True, allow_none=True, **kwargs)


class ReportAlert(_Shape):
    id = fields.Integer(required=True)
    identifier = fields.String(required=True)
    headline = fields.String(required=True)
    status = fields.String(required=True)
    msg_type = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(alerts.STATES))
    channels = fields.List(fields.String(), required=True)
    confirm = fields.Boolean(required=True)
    area_description = _maybe(fields.String)
    zones = fields.List(fields.String(), required=True)
    everyone = fields.Boolean(required=True)
    expires_at = _maybe(fields.DateTime)


class ReportTotals(_Shape):
    """`meant`: every message but `skipped` ones, the base of the percent milestones."""
    messages = _int()
    meant = _int()
    residents = _int()
    handed_over = _int()
    delivered = _int()
    acknowledged = _int()


class ReportEvent(_Shape):
    """`at` null: it has not happened (a milestone not reached); `seconds` after sending."""
    event = fields.String(required=True, validate=validate.OneOf(reports.EVENTS))
    at = _maybe(fields.DateTime)
    by = _maybe(fields.String, metadata={"description": "user:NAME, token:NAME or system"})
    seconds = _maybe(fields.Float)
    count = fields.Integer(metadata={"description": "percent milestones: the k-th message"})
    of = fields.Integer(metadata={"description": "percent milestones: of this many meant"})


_BUCKETS = fields.List(fields.Integer(validate=validate.Range(min=0)))


def _seconds():
    return fields.Float(required=True, allow_none=True)


# Seconds after sending of the first, the 50/90/99 % (nearest rank) and the last message;
# null: not reached. Keys are numbers, hence built from a dict.
ReportMilestones = _Shape.from_dict(
    {"count": _int(), "first": _seconds(), "last": _seconds(),
     **{str(p): _seconds() for p in reports.PERCENTILES}}, name="ReportMilestones")


class ReportChannelMilestones(_Shape):
    channel = fields.String(required=True)
    meant = _int()
    handed_over = fields.Nested(ReportMilestones, required=True)
    delivered = fields.Nested(ReportMilestones, required=True)


class ReportOverTime(_Shape):
    """Messages handed over (sent_at) and delivered per channel, per bucket from `start`."""
    start = _maybe(fields.DateTime)
    bucket_seconds = fields.Integer(required=True, validate=validate.Range(min=1))
    buckets = _int()
    series = fields.Dict(required=True, keys=fields.String(validate=validate.OneOf(
        (reports.HANDED_OVER, reports.DELIVERED))), values=fields.Dict(
            keys=fields.String(validate=validate.OneOf(CHANNELS)), values=_BUCKETS))
    meant = fields.Dict(required=True, keys=fields.String(), values=fields.Integer())


class ReportAcknowledgements(_Shape):
    asked = fields.Boolean(required=True)
    count = _int()
    start = _maybe(fields.DateTime)
    bucket_seconds = fields.Integer(required=True, validate=validate.Range(min=1))
    buckets = _int()
    counts = fields.List(fields.Integer(validate=validate.Range(min=0)), required=True)


class ReportFailure(_Shape):
    channel = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(
        (deliveries.FAILED, deliveries.UNDELIVERED)))
    error_code = _maybe(fields.String)
    count = _int()
    description = _maybe(fields.String)


class ReportSkipped(_Shape):
    channel = fields.String(required=True)
    reason = _maybe(fields.String)
    count = _int()


class ReportReachRow(_Shape):
    """Residents (and their messages) with at least one message handed over, delivered…"""
    messages = _int()
    residents = _int()
    handed_over = _int()
    delivered = _int()
    acknowledged = _int()
    language = fields.String()
    zone = fields.String()
    name = fields.String(allow_none=True)
    named_by_alert = fields.Boolean()


class ReportReach(_Shape):
    languages = fields.List(fields.Nested(ReportReachRow), required=True)
    zones = fields.List(fields.Nested(ReportReachRow), required=True)
    no_zone = fields.Nested(ReportReachRow, required=True)
    zones_shown_max = _int()
    messages_to_erased_residents = _int()


class Report(_Shape):
    """The after-action report of one alert."""
    alert = fields.Nested(ReportAlert, required=True)
    generated_at = fields.DateTime(required=True)
    totals = fields.Nested(ReportTotals, required=True)
    channels = fields.Dict(required=True, keys=fields.String(validate=validate.OneOf(CHANNELS)),
                           values=fields.Dict(keys=fields.String(
                               validate=validate.OneOf(deliveries.STATUSES)),
                               values=fields.Integer()))
    channel_milestones = fields.List(fields.Nested(ReportChannelMilestones), required=True)
    timeline = fields.List(fields.Nested(ReportEvent), required=True)
    over_time = fields.Nested(ReportOverTime, required=True)
    acknowledgements = fields.Nested(ReportAcknowledgements, required=True)
    failures = fields.List(fields.Nested(ReportFailure), required=True)
    skipped = fields.List(fields.Nested(ReportSkipped), required=True)
    reach = fields.Nested(ReportReach, required=True)


SHAPES = {cls.__name__: cls for cls in (
    ReportAlert, ReportTotals, ReportEvent, ReportMilestones, ReportChannelMilestones,
    ReportOverTime, ReportAcknowledgements, ReportFailure,
    ReportSkipped, ReportReachRow, ReportReach, Report)}
