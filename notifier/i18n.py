"""Translations for workers and the domain, loaded with babel directly (no Flask request needed).

flask-babel returns untranslated text outside a request, so everything a resident receives is
translated here. One catalog per language, `locales/<catalog>/LC_MESSAGES/messages.po` (the
languages table names the directory); the `.mo` files are compiled by `make i18n` or on first
use (they are not in git), so a fresh clone works without a build step.
"""
from __future__ import annotations

import io
import os
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from notifier import languages
from notifier.config import ROOT

LOCALES_DIR = ROOT / "locales"
DOMAIN = "messages"

_cache: dict[str, NullTranslations] = {}
_lock = threading.Lock()


def N_(message: str) -> str:
    """Mark a string for extraction without translating it (translated later per resident)."""
    return message


def normalize(tag: str) -> str:
    """'es_mx' / 'ES-MX' → 'es-MX': BCP 47 casing for comparisons and keys."""
    parts = tag.replace("_", "-").strip().split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.upper() if len(part) == 2 else part.title() if len(part) == 4 else part.lower())
    return "-".join(p for p in out if p)


def catalog_row(language: str) -> languages.Language | None:
    """The table language whose catalog serves a reader of `language`: the same language in the
    same script (es-MX → es, zh-TW → zh-Hant, never zh-Hans), else None (the English source)."""
    tag = _closest(language or "", [t for t in languages.TAGS if t != "en"])
    return languages.BY_TAG[tag] if tag else None


def translations(language: str) -> NullTranslations:
    """The catalog for `language` (see `catalog_row`; otherwise the untranslated text)."""
    key = normalize(language or "")
    cached = _cache.get(key)
    if cached is not None:
        return cached
    with _lock:
        if key not in _cache:
            _cache[key] = _load(key)
        return _cache[key]


def catalog_path(row: languages.Language) -> Path:
    return LOCALES_DIR / row.catalog / "LC_MESSAGES" / f"{DOMAIN}.po"


def _load(language: str) -> NullTranslations:
    row = catalog_row(language) if language else None
    if row is None or not catalog_path(row).is_file():
        return NullTranslations()
    return _compiled(catalog_path(row), row.catalog)


def _compiled(po: Path, locale: str) -> NullTranslations:
    """Load the .mo next to `po`, compiling it first when missing or older than the .po."""
    mo = po.with_suffix(".mo")
    if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    buffer = io.BytesIO()
    with po.open("rb") as fp:
        write_mo(buffer, read_po(fp, locale=locale, domain=DOMAIN))
    data = buffer.getvalue()
    try:
        # Written aside and renamed so that a worker reading concurrently never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=f".{po.stem}-", suffix=".mo")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, mo)
    except OSError:
        pass  # a read-only checkout still works from memory
    return Translations(io.BytesIO(data), domain=DOMAIN)


def gettext(language: str, message: str) -> str:
    """`message` translated into `language` (or the closest catalog, or unchanged)."""
    return translations(language).gettext(message)


@lru_cache(maxsize=4096)
def identity(tag: str) -> tuple[str, str | None, str | None]:
    """(language, script, territory) of `tag`, through the languages table's aliases and CLDR's
    likely subtags (babel): zh-TW → (zh, Hant, TW), zh → (zh, Hans, None), fil and tl → (fil,
    Latn, None), pt-BR → (pt, Latn, BR). Unknown tags keep their first subtag as the language."""
    from babel import Locale, UnknownLocaleError
    from babel.core import LOCALE_ALIASES, get_global

    tag = normalize(tag or "")
    tag = languages.ALIASES.get(tag, tag)  # fil → tl, zh → zh-Hans, zh-HK → zh-Hant
    alias = LOCALE_ALIASES.get(tag.lower(), "")
    if alias and alias.split("_")[0] != tag.lower():
        tag = alias.split("_")[0]  # CLDR's language aliases: no → nb
    try:
        locale = Locale.parse(tag, sep="-")
    except (ValueError, UnknownLocaleError):
        return (tag.split("-")[0].lower(), None, None)
    script = locale.script
    if script is None:
        likely = get_global("likely_subtags").get(str(locale)) or \
            get_global("likely_subtags").get(locale.language, "")
        parts = likely.split("_")
        script = parts[1] if len(parts) > 2 or (len(parts) == 2 and len(parts[1]) == 4) else None
    territory = locale.territory if "-" in tag and tag.split("-")[-1].isupper() else None
    return (locale.language, script, territory)


def _closest(wanted: str, available: list[str], same_script: bool = True) -> str | None:
    """The tag among `available` nearest `wanted`: the same tag, then the same language, script
    and region, then the same language and script (es-MX → es, zh-TW → zh-Hant); with
    `same_script` False, then the same language in another script (a Traditional reader given
    Simplified only when no Traditional text exists)."""
    if not wanted:
        return None
    target = normalize(wanted)
    for tag in available:
        if normalize(tag) == target:
            return tag
    lang, script, territory = identity(target)
    ids = [(tag, identity(tag)) for tag in available]
    for tag, (l, s, t) in ids:
        if (l, s, t) == (lang, script, territory):
            return tag
    for tag, (l, s, _t) in ids:
        if (l, s) == (lang, script):
            return tag
    if not same_script:
        for tag, (l, _s, _t) in ids:
            if l == lang:
                return tag
    return None


def pick_language(available: list[str], wanted: str, default: str) -> str:
    """The tag among `available` to give someone who wants `wanted` (DESIGN §4, §11).

    Their own language (see `_closest`), then the same language in another script, then
    `default` the same way, then the first available. Returns `default` when nothing is
    available.
    """
    if not available:
        return default
    return (_closest(wanted, available) or _closest(wanted, available, same_script=False)
            or _closest(default, available) or _closest(default, available, same_script=False)
            or available[0])


def is_own_language(wanted: str, given: str) -> bool:
    """Whether a reader of `wanted` given text in `given` reads their own language and script
    (es-MX given es: yes; zh-Hant given zh-Hans, or anyone given the default: no)."""
    return identity(wanted)[:2] == identity(given)[:2]


def catalog_languages() -> list[str]:
    """Tags of the languages with a catalog in `locales/` (residents get translated texts), in
    the table's order."""
    return [row.tag for row in languages.LANGUAGES if row.tag != "en" and catalog_path(row).is_file()]


def supported_languages(default: str) -> list[str]:
    """The languages an alert is written in here: `default` first, English (the texts' own
    language), then every language with a catalog."""
    return list(dict.fromkeys([normalize(default), "en", *catalog_languages()]))


def language_label(tag: str) -> str:
    """'es' → 'Español (es)': the language's name in itself (babel), then its tag."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(tag, sep="-")
    except (ValueError, UnknownLocaleError):
        return tag
    # Babel expands a bare tag to its likely region (tl → fil_PH): name the region only when
    # the tag does.
    name = locale.get_display_name(locale) if "-" in tag else locale.get_language_name(locale)
    return f"{name[:1].upper()}{name[1:]} ({tag})" if name else tag


def negotiate(available: list[str], asked: str | None, accepted: list[str],
              default: str) -> str:
    """The tag among `available` for a reader (the public page): `asked` (?lang=) when it
    matches, then the browser's `accepted` languages in their order of preference, then
    `default`, then the first available; each the way `pick_language` matches one tag."""
    if not available:
        return default
    preferred = [p for p in ([asked] if asked else []) + list(accepted) if p and p != "*"]
    for same_script in (True, False):
        for wanted in preferred:
            found = _closest(wanted, available, same_script)
            if found:
                return found
    return pick_language(available, default, default)
