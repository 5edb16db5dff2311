"""Reading and checking `locales/templates/<code>.toml` (its README gives the shape): every
field and language present, CAP words exactly, placeholders declared and the same in every
language. A bad file raises TemplateFileError naming the file and the field."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from notifier import i18n, languages, text_rules
from notifier.config import ROOT
from notifier.errors import TemplateFileError
from notifier.schemas import (CATEGORIES, CERTAINTIES, SENDABLE_STATUSES, SEVERITIES,
                              URGENCIES)

TEMPLATES_DIR = ROOT / "locales" / "templates"
PARAM_TYPES = ("text", "time")
SOURCE_LANGUAGE = "en"
SOURCE, MACHINE = "source", "machine"
# What residents read, filled with the params; `name` is the dispatcher's, without params.
FILLED = ("headline", "message", "instruction")
CAP_FIELDS = {"category": CATEGORIES, "severity": SEVERITIES, "urgency": URGENCIES,
              "certainty": CERTAINTIES}
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Text:
    """One language's texts of a template, and who vouches for them."""
    name: str
    headline: str
    message: str
    instruction: str
    labels: dict[str, str]
    reviewed: str | dict  # "source", "machine" or {"by": person, "on": date}

    @property
    def reviewed_by_person(self) -> bool:
        """True for the source text and for a text a named person checked."""
        return self.reviewed != MACHINE


@dataclass(frozen=True)
class Template:
    code: str
    event: str
    category: str
    severity: str
    urgency: str
    certainty: str
    status: str | None  # the compose page's suggestion; the dispatcher chooses
    params: dict[str, str]  # name → "text" | "time", in the file's order
    texts: dict[str, Text]  # every tag of languages.TAGS, in that order

    def text_for(self, tag: str) -> Text:
        """The texts closest to `tag` (a dispatcher's UI language), else the source's."""
        return self.texts[i18n.pick_language(list(self.texts), tag, SOURCE_LANGUAGE)]


def _fail(path: Path, field: str, problem: str):
    raise TemplateFileError(f"{path.name}: {field}: {problem}")


def _string(path: Path, field: str, value, multiline: bool = False) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail(path, field, "must be a non-empty string")
    try:
        return text_rules.check(value.strip(), multiline=multiline)
    except ValueError as exc:
        _fail(path, field, str(exc))


def _placeholders(path: Path, field: str, text: str, params: dict) -> set[str]:
    names = set(PLACEHOLDER.findall(text))
    if "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text):
        _fail(path, field, "has a brace that is not part of a {param} placeholder")
    unknown = sorted(names - set(params))
    if unknown:
        _fail(path, field, f"uses {', '.join('{' + n + '}' for n in unknown)}, not declared "
                           "in [params]")
    return names


def _reviewed(path: Path, tag: str, value) -> str | dict:
    field = f"{tag}.reviewed"
    if value == SOURCE and tag != SOURCE_LANGUAGE:
        _fail(path, field, f'"source" is only for {SOURCE_LANGUAGE}, the text the others are '
                           'translated from')
    if value in (SOURCE, MACHINE):
        return value
    if isinstance(value, dict) and set(value) <= {"by", "on"} and isinstance(value.get("by"), str) \
            and value["by"].strip() and isinstance(value.get("on", date.min), date):
        return value
    _fail(path, field, 'must be "source", "machine" or { by = "Full Name", on = 2026-03-01 }')


def _text(path: Path, tag: str, table, params: dict) -> Text:
    if not isinstance(table, dict):
        _fail(path, tag, "must be a table of name, headline, message, instruction, labels, "
                         "reviewed")
    known = {"name", "headline", "message", "instruction", "labels", "reviewed"}
    for key in sorted(set(table) - known):
        _fail(path, f"{tag}.{key}", f"unknown field; a language has {', '.join(sorted(known))}")
    values = {key: _string(path, f"{tag}.{key}", table.get(key), multiline=key in
                           ("message", "instruction")) for key in ("name", *FILLED)}
    if _placeholders(path, f"{tag}.name", values["name"], params):
        _fail(path, f"{tag}.name", "names the template for dispatchers: no {params} in it")
    labels = table.get("labels")
    if not isinstance(labels, dict) or set(labels) != set(params):
        _fail(path, f"{tag}.labels",
              f"must label exactly the params ({', '.join(params) or 'none'})")
    labels = {name: _string(path, f"{tag}.labels.{name}", labels[name]) for name in params}
    return Text(labels=labels, reviewed=_reviewed(path, tag, table.get("reviewed")), **values)


def _check_placeholders(path: Path, template: Template) -> None:
    """Every param appears in every language, and each field has the source's placeholders."""
    source = template.texts[SOURCE_LANGUAGE]
    for tag, text in template.texts.items():
        used = set()
        for field in FILLED:
            names = _placeholders(path, f"{tag}.{field}", getattr(text, field), template.params)
            expected = set(PLACEHOLDER.findall(getattr(source, field)))
            if names != expected:
                _fail(path, f"{tag}.{field}", f"has placeholders {sorted(names)} where "
                                              f"{SOURCE_LANGUAGE} has {sorted(expected)}")
            used |= names
        missing = [name for name in template.params if name not in used]
        if missing:
            _fail(path, tag, f"never uses the param(s) {', '.join(missing)}")


def load_file(path: Path) -> Template:
    """Read and check one template file; raise TemplateFileError naming the field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TemplateFileError(f"{path.name}: not readable TOML: {exc}") from None
    if data.get("code") != path.stem:
        _fail(path, "code", f"must be {path.stem!r}, the file's name")
    fields = {"event": _string(path, "event", data.get("event"))}
    for field, vocabulary in CAP_FIELDS.items():
        if data.get(field) not in vocabulary:
            _fail(path, field, f"must be one of {', '.join(vocabulary)} (CAP 1.2)")
        fields[field] = data[field]
    status = data.get("status")
    if status is not None and status not in SENDABLE_STATUSES:
        _fail(path, "status", f"must be one of {', '.join(SENDABLE_STATUSES)}, or left out")
    params = data.get("params", {})
    if not isinstance(params, dict):
        _fail(path, "params", 'must be a table of name = "text" or "time"')
    for name, kind in params.items():
        if not _PARAM_NAME.match(name):
            _fail(path, f"params.{name}", "a param name is lowercase letters, digits and _")
        if kind not in PARAM_TYPES:
            _fail(path, f"params.{name}", f"must be one of {', '.join(PARAM_TYPES)}")
    top = {"code", "event", "status", "params", *CAP_FIELDS}
    for key in data:
        if key not in top and key not in languages.BY_TAG:
            _fail(path, key, "neither a field nor a language of notifier/languages.TAGS")
    missing = [tag for tag in languages.TAGS if tag not in data]
    if missing:
        _fail(path, missing[0], f"missing; every language needs its texts ({', '.join(missing)})")
    texts = {tag: _text(path, tag, data[tag], params) for tag in languages.TAGS}
    template = Template(code=path.stem, status=status, params=dict(params), texts=texts, **fields)
    _check_placeholders(path, template)
    return template


def load(directory: Path = TEMPLATES_DIR) -> dict[str, Template]:
    """Every template in `directory` by code, in code order; raises TemplateFileError."""
    return {path.stem: load_file(path) for path in sorted(directory.glob("*.toml"))}
