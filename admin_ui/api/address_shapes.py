"""What GET /api/v1/addresses answers, as marshmallow shapes for the OpenAPI document."""
from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate


class _Shape(Schema):
    class Meta:
        unknown = INCLUDE  # answers may gain fields


class AddressPoint(_Shape):
    """One address point as the city imported it."""
    address = fields.String(required=True)
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    zone = fields.String(required=True, allow_none=True, metadata={
        "description": "the zone code the city gave the address, or null"})


class AddressMatches(_Shape):
    """At most 10 points, best first: whole-address prefix, then word prefix."""
    items = fields.List(fields.Nested(AddressPoint), required=True,
                        validate=validate.Length(max=10))


SHAPES = {cls.__name__: cls for cls in (AddressPoint, AddressMatches)}
