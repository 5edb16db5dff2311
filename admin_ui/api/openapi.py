"""`GET /api/v1/openapi.json`: the API's OpenAPI 3.1 description, built from the url_map itself.

Paths come from walking every /api/v1 rule, so a new route appears on its own (summary from its
docstring, roles from its `@requires` guard, typed path parameters); `OPERATIONS` adds what a
route takes and answers, as marshmallow schemas (apispec's MarshmallowPlugin converts them).
"""
from __future__ import annotations

import inspect
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app
from werkzeug.routing import AnyConverter, FloatConverter, IntegerConverter, UUIDConverter

from admin_ui.api import ANYONE, bp, public
from admin_ui.api.openapi_shapes import SHAPES
from notifier import alerts, deliveries
from notifier.cap import MEDIA_TYPE as CAP_TYPE
from notifier.config import CHANNELS
from notifier.schemas import (AlertSchema, CancelSchema, SendSchema, TranslateSchema,
                              make_subscriber_schema)

OPENAPI_VERSION = "3.1.0"
BEARER = "bearerAuth"
READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS"})
JSON = "application/json"

ZONE_INPUT = {
    "type": "object", "required": ["name", "geometry"],
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200},
                   "geometry": {"type": "object", "description": "GeoJSON Polygon or MultiPolygon"},
                   "keywords": {"type": "array", "items": {"type": "string"}},
                   "social_urls": {"type": "array", "items": {"type": "string"},
                                   "description": "the zone's own Apprise targets (`LANG: url` "
                                                  "allowed); omitted: kept; shown masked, and a "
                                                  "masked one sent back keeps the stored one"}},
}
TOPIC_INPUT = {
    "type": "object", "required": ["name"],
    "properties": {"name": {"type": "object", "minProperties": 1, "maxProperties": 20,
                            "additionalProperties": {"type": "string", "minLength": 1,
                                                     "maxLength": 200},
                            "description": "{language tag: the topic's name}"},
                   "keywords": {"type": "array", "maxItems": 20, "items": {"type": "string"},
                                "description": "SMS words (JOIN TRAFFIC): never a zone's, another "
                                               "topic's or a command word"}},
}
FEATURE_COLLECTION = {
    "type": "object", "required": ["type", "features"],
    "description": "GeoJSON FeatureCollection; each feature's properties: code, name, keywords",
    "properties": {"type": {"const": "FeatureCollection"},
                   "features": {"type": "array", "items": {"type": "object"}}},
}
SANDBOX_INBOUND = {
    "type": "object", "required": ["from", "body"],
    "properties": {"from": {"type": "string", "description": "the resident's number"},
                   "body": {"type": "string", "description": "the text, e.g. JOIN"}},
}


def _q(name: str, description: str, enum=None) -> dict:
    schema = {"type": "string", **({"enum": list(enum)} if enum else {})}
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


DELIVERY_FILTERS = [_q("channel", "only this channel", CHANNELS),
                    _q("status", "only this delivery status", deliveries.STATUSES)]
CSV = {"text/csv": {"schema": {"type": "string"}}}

# (method, path after /api/v1 with {} for each parameter) → body (component or raw content),
# success answers {status: shape or content}, extra errors, list item shape (paged) and filters.
OPERATIONS: dict[tuple[str, str], dict] = {
    ("POST", "/alerts"): {"body": "AlertInput", "ok": {201: "Alert"}},
    ("POST", "/alerts/preview"): {"body": "AlertInput", "ok": {200: "Preview"}},
    ("GET", "/alerts"): {"paged": "Alert", "query": [_q("state", "only this state", alerts.STATES)]},
    ("GET", "/alerts/{}"): {"ok": {200: "Alert"}},
    ("PATCH", "/alerts/{}"): {"body": "AlertPatch", "ok": {200: "Alert"}, "errors": (409,)},
    ("POST", "/alerts/{}/send"): {"body": "SendInput", "optional_body": True,
                                  "ok": {202: "SendStarted"}, "errors": (409, 503)},
    ("POST", "/alerts/{}/approve"): {"ok": {200: "Approval"}, "errors": (409,)},
    ("POST", "/alerts/{}/cancel"): {"body": "CancelInput", "optional_body": True,
                                    "ok": {200: "CancelledAlert"}, "errors": (409, 503)},
    ("POST", "/alerts/import-cap"): {
        "raw_body": {t: {"schema": {"type": "string", "description": "a CAP 1.2 document"}}
                     for t in ("application/xml", "text/xml", CAP_TYPE)},
        "ok": {201: "ImportedAlert"}, "errors": (413,)},
    ("GET", "/alerts/{}/cap.xml"): {"ok": {200: {CAP_TYPE: {"schema": {"type": "string"}}}}},
    ("GET", "/alerts/{}/deliveries"): {"paged": "Delivery", "query": DELIVERY_FILTERS},
    ("GET", "/alerts/{}/deliveries.csv"): {"ok": {200: CSV}, "query": DELIVERY_FILTERS},
    ("GET", "/alerts/{}/report"): {"ok": {200: "Report"}},
    ("GET", "/audit"): {"paged": "AuditEvent", "query": [_q(n, f"only this {n}")
                                                         for n in ("actor", "action", "object")]},
    ("GET", "/audit/verify"): {"ok": {200: "ChainCheck"}},
    ("GET", "/consents.csv"): {"ok": {200: CSV}},
    ("GET", "/opt-outs.csv"): {"ok": {200: CSV}},
    ("GET", "/inbox"): {"paged": "InboxText"},
    ("GET", "/sandbox/outbox"): {"paged": "SandboxMessage",
                                 "query": [_q("channel", "only this channel", CHANNELS),
                                           _q("to", "only messages to this address")]},
    ("POST", "/sandbox/inbound"): {"raw_body": {JSON: {"schema": SANDBOX_INBOUND}},
                                   "ok": {200: "SandboxReply"}, "errors": (404,)},
    ("POST", "/subscribers"): {"body": "SubscriberInput", "ok": {201: "Subscriber"},
                               "errors": (409,)},
    ("GET", "/subscribers"): {"paged": "Subscriber",
                              "query": [_q("q", "part of the phone, email or name"),
                                        _q("zone", "followers of this zone code"),
                                        _q("language", "this language tag or its variants")]},
    ("GET", "/subscribers/{}"): {"ok": {200: "Subscriber"}},
    ("PATCH", "/subscribers/{}"): {"body": "SubscriberInput", "ok": {200: "Subscriber"},
                                   "errors": (409,)},
    ("DELETE", "/subscribers/{}"): {"ok": {204: None}},
    ("GET", "/subscribers/{}/consents"): {"ok": {200: "Consents"}},
    ("POST", "/subscribers/import"): {
        "raw_body": {"text/csv": {"schema": {"type": "string"}},
                     JSON: {"schema": {"type": "array",
                                       "items": {"$ref": "#/components/schemas/SubscriberInput"}}}},
        "ok": {200: "ImportResult"}, "errors": (413,)},
    ("GET", "/zones"): {"paged": "Zone"},
    ("PUT", "/zones/{}"): {"raw_body": {JSON: {"schema": ZONE_INPUT}}, "ok": {200: "Zone", 201: "Zone"}},
    ("GET", "/zones/{}"): {"ok": {200: "Zone"}},
    ("DELETE", "/zones/{}"): {"ok": {204: None}},
    ("POST", "/zones/import"): {"raw_body": {JSON: {"schema": FEATURE_COLLECTION}},
                                "ok": {200: "ImportResult"}},
    ("GET", "/topics"): {"ok": {200: "Topics"}},
    ("PUT", "/topics/{}"): {"raw_body": {JSON: {"schema": TOPIC_INPUT}},
                            "ok": {200: "Topic", 201: "Topic"}},
    ("GET", "/topics/{}"): {"ok": {200: "Topic"}},
    ("DELETE", "/topics/{}"): {"ok": {204: None}},
    ("POST", "/translate"): {"body": "TranslateInput", "ok": {200: "Translations"},
                             "errors": (503,)},
    ("GET", "/templates"): {"ok": {200: "Templates"}},
    ("GET", "/addresses"): {"ok": {200: "AddressMatches"}, "errors": (429,),
                            "query": [_q("q", "the start of the address or of a word in it "
                                              "(2 to 200 characters; shorter: no items)")]},
    ("GET", "/openapi.json"): {"ok": {200: {JSON: {"schema": {"type": "object"}}}}},
}
ERRORS = {400: "the body is not valid JSON", 401: "no valid bearer token",
          403: "this token's role may not do that", 404: "not found", 409: "conflict",
          413: "the body is too large", 415: "the body is not JSON",
          429: "too many requests from this client: wait Retry-After seconds",
          503: "a service is unreachable"}


# What a template (`"template": code, "params": {…}`, DESIGN §11) gives when the body does not.
FROM_TEMPLATE = ("headline", "messages", "severity", "urgency", "certainty")
TEMPLATE_FIELDS = {
    "template": {"type": "string", "description": "an alert template's code (GET /templates), "
                 "instead of messages: every template language's message, headline and "
                 "instruction, and its event and CAP fields where the body gives none"},
    "params": {"type": "object", "additionalProperties": {"type": "string"},
               "description": "the template's params by name: text (inserted verbatim) or "
                              "time (ISO 8601 with offset)"},
}


def _with_templates(schema: dict, partial: bool) -> None:
    """Let the alert body's schema take a template and its params instead of messages."""
    schema["properties"].update(TEMPLATE_FIELDS)
    if partial:
        return
    required = schema.get("required", [])
    schema["required"] = [name for name in required if name not in FROM_TEMPLATE]
    schema["oneOf"] = [
        {"required": [n for n in FROM_TEMPLATE if n in required],
         "not": {"required": ["template"]}},
        {"required": ["template"], "not": {"required": ["messages"]}}]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _content(answer) -> dict | None:
    if answer is None or isinstance(answer, dict):
        return answer
    return {JSON: {"schema": _ref(answer)}}


def _parameter(name: str, converter) -> dict:
    if isinstance(converter, IntegerConverter):
        schema = {"type": "integer"}
        schema.update({k: v for k, v in (("minimum", converter.min), ("maximum", converter.max))
                       if v is not None})
    elif isinstance(converter, FloatConverter):
        schema = {"type": "number"}
    elif isinstance(converter, UUIDConverter):
        schema = {"type": "string", "format": "uuid"}
    elif isinstance(converter, AnyConverter):
        schema = {"type": "string", "enum": sorted(converter.items)}
    else:
        schema = {"type": "string"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def openapi_path(rule) -> tuple[str, list[dict], str]:
    """Return (OpenAPI path template, path parameters, table key) of a werkzeug rule."""
    names = []

    def param(match):
        names.append(match.group(1))
        return "{" + match.group(1) + "}"

    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", param, rule.rule)
    key = re.sub(r"<[^<>]+>", "{}", rule.rule[len(bp.url_prefix):])
    return path, [_parameter(n, rule._converters[n]) for n in names], key


def _operation(app: Flask, rule, method: str, path: str, parameters: list[dict], key: str) -> dict:
    view = app.view_functions[rule.endpoint]
    roles = sorted(getattr(view, "required_roles", ()))
    doc = inspect.getdoc(view) or ""
    first, _, rest = doc.partition("\n")
    known = OPERATIONS.get((method, key), {})
    public_route = roles == [ANYONE]
    who = "Public: no token needed." if public_route else f"Roles: {', '.join(roles)}."
    operation = {
        "operationId": rule.endpoint.rsplit(".", 1)[-1] + (
            f"_{method.lower()}" if len(rule.methods - {"HEAD", "OPTIONS"}) > 1 else ""),
        "summary": first.strip() or f"{method} {path}",
        "description": "\n\n".join(p for p in (who, rest.strip()) if p),
        "tags": [key.strip("/").split("/")[0].split(".")[0]],
        "security": [] if public_route else [{BEARER: roles}],
        "parameters": parameters + list(known.get("query", [])),
    }
    responses = {}
    if "paged" in known:
        operation["parameters"] += [
            {"name": n, "in": "query", "required": False, "description": d,
             "schema": {"type": "integer", "minimum": 1}}
            for n, d in (("page", "page number, from 1"),
                         ("per_page", "items per page (default 50, at most 500)"))]
        responses["200"] = {"description": "one page", "content": {JSON: {"schema": {"allOf": [
            _ref("Page"),
            {"type": "object", "properties": {"items": {"type": "array",
                                                         "items": _ref(known["paged"])}}}]}}}}
    for status, answer in known.get("ok", {}).items():
        responses[str(status)] = {"description": "success", **(
            {"content": _content(answer)} if answer is not None else {})}
    if not responses:
        responses["default"] = {"description": "not described yet: see docs/API.md"}
    if "body" in known or "raw_body" in known:
        content = known.get("raw_body") or {JSON: {"schema": _ref(known["body"])}}
        operation["requestBody"] = {"required": not known.get("optional_body"), "content": content}
    errors = set(known.get("errors", ()))
    if not public_route:
        errors |= {401, 403}
    if parameters:
        errors.add(404)
    writes = method in ("POST", "PUT", "PATCH")
    takes_body = "requestBody" in operation or (writes and not known)
    if takes_body:
        errors |= {400, 415}
    for status in sorted(errors):
        responses[str(status)] = {"description": ERRORS[status], "content": _content("Error")}
    if writes or len(operation["parameters"]) > len(parameters):
        # Bad fields, or bad filter and paging arguments.
        responses["422"] = {"description": "field errors", "content": _content("FieldErrors")}
    operation["responses"] = responses
    return operation


def build_spec(app: Flask) -> dict:
    """Return the OpenAPI 3.1 document (a dict) of every /api/v1 route `app` serves."""
    settings = app.extensions["tocsin.settings"]
    spec = APISpec(
        title="Tocsin API", version="1", openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin()],
        info={"description": "Emergency mass notification: alerts, residents, zones, audit. "
                             "The people's guide is docs/API.md in the repository."},
        servers=[{"url": settings.public_url.rstrip("/")}])
    spec.components.security_scheme(BEARER, {"type": "http", "scheme": "bearer",
                                             "description": "an API token (create-token)"})
    for name, shape in SHAPES.items():
        spec.components.schema(name, schema=shape)
    spec.components.schema("AlertInput", schema=AlertSchema)
    spec.components.schema("AlertPatch", schema=AlertSchema(partial=True))
    _with_templates(spec.components.schemas["AlertInput"], partial=False)
    _with_templates(spec.components.schemas["AlertPatch"], partial=True)
    spec.components.schema("CancelInput", schema=CancelSchema)
    spec.components.schema("SendInput", schema=SendSchema)
    spec.components.schema("TranslateInput", schema=TranslateSchema)
    spec.components.schema("SubscriberInput", schema=make_subscriber_schema(settings))
    prefix = bp.url_prefix
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule != prefix and not rule.rule.startswith(prefix + "/"):
            continue
        path, parameters, key = openapi_path(rule)
        operations = {m.lower(): _operation(app, rule, m, path, parameters, key)
                      for m in sorted(rule.methods - {"HEAD", "OPTIONS"})}
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/openapi.json")
@public
def openapi_document():
    """This API's OpenAPI 3.1 description, generated from the running app."""
    app = current_app._get_current_object()
    document = app.extensions.get("tocsin.openapi")
    if document is None:  # routes are fixed once the app is built: one build per app
        document = app.extensions["tocsin.openapi"] = build_spec(app)
    return document
