"""Twilio's OpenAPI description of the Messages and Calls create forms, as cheap checks."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from tests.support.peers import TWILIO_OPENAPI

SPEC = TWILIO_OPENAPI
API = "/2010-04-01/Accounts/{AccountSid}"


@dataclass(frozen=True)
class FormRules:
    """What the OpenAPI requestBody allows for one path, precomputed for the hot path."""

    allowed: frozenset
    required: tuple
    enums: dict
    patterns: dict


@lru_cache(maxsize=None)
def form_rules(resource: str, spec_path: str = str(SPEC)) -> FormRules:
    """Rules of `POST …/{resource}.json` from Twilio's own OpenAPI description (read once)."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    body = spec["paths"][f"{API}/{resource}.json"]["post"]["requestBody"]
    schema = body["content"]["application/x-www-form-urlencoded"]["schema"]
    enums, patterns = {}, {}
    for name, prop in schema["properties"].items():
        if "$ref" in prop:
            prop = schemas[prop["$ref"].rsplit("/", 1)[1]]
        if "enum" in prop:
            enums[name] = frozenset(prop["enum"])
        if "pattern" in prop:
            patterns[name] = re.compile(prop["pattern"])
    return FormRules(frozenset(schema["properties"]), tuple(schema.get("required", ())),
                     enums, patterns)


def invalid_form(rules: FormRules, resource: str, form) -> tuple[int, str] | None:
    """(code, message) when the form breaks Twilio's OpenAPI description; else None."""
    names = form.keys()
    for name in names:
        if name not in rules.allowed:
            return 20001, f"Unknown parameter {name} for {resource}.json"
    for name in rules.required:
        if not form.get(name):
            return 21604 if name == "To" else 21603, f"Missing required parameter {name}."
    for name, allowed in rules.enums.items():
        if name in form and form[name] not in allowed:
            return 21201, f"Invalid value {form[name]!r} for parameter {name}."
    for name, pattern in rules.patterns.items():
        if name in form and not pattern.match(form[name]):
            return 21201, f"Invalid value {form[name]!r} for parameter {name}."
    # Rules Twilio states in prose rather than in the schema.
    if resource == "Messages":
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return 21603, "A 'From' phone number is required."
        if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
            return 21602, "Message body is required."
        validity = form.get("ValidityPeriod")
        # "Accepted values are integers from `1` to `36000`."
        if validity is not None and not (validity.isdigit() and 1 <= int(validity) <= 36000):
            return 21201, f"Invalid value {validity!r} for parameter ValidityPeriod."
    elif not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
        return 21205, "Url parameter is required."
    return None

