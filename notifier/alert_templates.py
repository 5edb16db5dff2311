"""Alert templates (DESIGN §11): ready texts in the sixteen languages, kept as data in
`locales/templates/` (read and checked by `template_files`), filled with a dispatcher's params.

`fill` writes every language's headline, message and instruction; `expand` turns an alert
body's `template` and `params` into the fields the alert schema reads.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from notifier import i18n, local_times, text_rules
from notifier.errors import InvalidInput
from notifier.template_files import (CAP_FIELDS, FILLED, PLACEHOLDER, SOURCE_LANGUAGE,
                                     Template, load)

# The alert fields a template sets (a PATCH with a template sets them afresh).
FILLS = ("headline", "headlines", "messages", "instruction", "instructions", "machine_translated",
         "event", *CAP_FIELDS)
MAX_TEXT_PARAM = 200
TIME_EXAMPLE = "2026-11-22T14:30:00-05:00"


@dataclass(frozen=True)
class Filled:
    """A template's texts with the params written in, the default language first."""
    messages: dict[str, str]
    headlines: dict[str, str]
    instructions: dict[str, str]
    machine_translated: list[str]  # the languages whose template text no person checked


@lru_cache(maxsize=1)
def templates() -> dict[str, Template]:
    """The templates of this checkout, read once per process."""
    return load()


def get(code) -> Template:
    """The template `code`; InvalidInput naming it (and the known ones) when there is none."""
    found = templates().get(code) if isinstance(code, str) else None
    if found is None:
        raise InvalidInput({"template": [f"Unknown template {code!r}; choose one of: "
                                         f"{', '.join(templates())}."]})
    return found


def api_item(template: Template) -> dict:
    """The template as GET /api/v1/templates lists it (DESIGN §11)."""
    return {"code": template.code,
            "name": {tag: text.name for tag, text in template.texts.items()},
            "event": template.event, "category": template.category,
            "severity": template.severity, "urgency": template.urgency,
            "certainty": template.certainty, "params": list(template.params),
            "param_types": dict(template.params), "languages": list(template.texts),
            "reviewed": {tag: text.reviewed_by_person for tag, text in template.texts.items()}}


def _time(value) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"Must be a date and time as text, e.g. {TIME_EXAMPLE}.")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a date and time: give ISO 8601 with an offset, "
                         f"e.g. {TIME_EXAMPLE}.") from None
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no offset from UTC: add one, e.g. {TIME_EXAMPLE} "
                         "(or Z for UTC).")
    return moment


def _text_param(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("Must not be empty: write what residents should read here.")
    if len(value.strip()) > MAX_TEXT_PARAM:
        raise ValueError(f"Is {len(value.strip())} characters; at most {MAX_TEXT_PARAM}.")
    return text_rules.check(value.strip())


def checked_params(template: Template, params) -> dict:
    """{name: text or aware datetime}; raises InvalidInput with errors.params per param."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidInput({"params": ["Must be an object mapping param names to values."]})
    errors, values = {}, {}
    for name in params:
        if name not in template.params:
            errors[str(name)] = [f"Not a param of {template.code}; it takes: "
                                 f"{', '.join(template.params) or 'none'}."]
    for name, kind in template.params.items():
        if name not in params:
            errors[name] = [f"Missing: {template.code} needs {name} ("
                            + (f"a time, e.g. {TIME_EXAMPLE})." if kind == "time" else "text).")]
            continue
        try:
            values[name] = _time(params[name]) if kind == "time" else _text_param(params[name])
        except ValueError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise InvalidInput({"params": errors})
    return values


def _written(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def fill(template: Template, params, settings, now: datetime) -> Filled:
    """Every language's headline, message and instruction with `params` written in: text as
    given, times in each language's own way in TIMEZONE (`local_times.written`). The default
    language comes first (the fallback text). Raises InvalidInput (errors.params)."""
    values = checked_params(template, params)
    zone = ZoneInfo(getattr(settings, "timezone", None) or "UTC")
    default = getattr(settings, "default_language", None) or SOURCE_LANGUAGE
    first = i18n.pick_language(list(template.texts), default, SOURCE_LANGUAGE)
    order = [first] + [tag for tag in template.texts if tag != first]
    out: dict[str, dict[str, str]] = {field: {} for field in FILLED}
    for tag in order:
        written = {name: local_times.written(value, tag, zone, now)
                   if template.params[name] == "time" else value for name, value in values.items()}
        for field in FILLED:
            out[field][tag] = _written(getattr(template.texts[tag], field), written)
    return Filled(messages=out["message"], headlines=out["headline"],
                  instructions=out["instruction"],
                  machine_translated=[tag for tag in order
                                      if not template.texts[tag].reviewed_by_person])


def expand(body, settings, now: datetime):
    """`body` with `template` and `params` replaced by the template's texts and CAP fields;
    fields the body gives itself win (a `headline` is the default language's). A body without
    a template is returned as it is. Raises InvalidInput naming template, params or messages."""
    if not isinstance(body, dict) or ("template" not in body and "params" not in body):
        return body
    if "template" not in body:
        raise InvalidInput({"params": ['params go with a template: give "template" too, or '
                                       'leave params out.']})
    if "messages" in body:
        raise InvalidInput({"template": ["Give either messages or a template with params, not "
                                         "both: the template writes every language's message."]})
    template = get(body["template"])
    filled = fill(template, body.get("params"), settings, now)
    out = {key: value for key, value in body.items() if key not in ("template", "params")}
    for field in ("event", *CAP_FIELDS):
        out.setdefault(field, getattr(template, field))
    first = next(iter(filled.messages))
    out["messages"] = filled.messages
    for single, plural in (("headline", "headlines"), ("instruction", "instructions")):
        given = body.get(plural)
        texts = given  # not an object: the schema says what is wrong with it
        if given is None or isinstance(given, dict):
            texts = {**getattr(filled, plural), **(given or {})}
        if isinstance(texts, dict) and isinstance(body.get(single), str):
            texts[first] = body[single]
        out[plural] = texts
        if single not in body and isinstance(texts, dict) and first in texts:
            out[single] = texts[first]
    given = body.get("machine_translated")
    if given is None or isinstance(given, list):
        # The dispatcher may mark more languages; the template's unreviewed ones stay marked.
        extra = [tag for tag in (given or []) if tag not in filled.machine_translated]
        out["machine_translated"] = filled.machine_translated + extra
    return out
