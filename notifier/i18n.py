"""Translations for workers and the domain, loaded with babel directly (no Flask request needed).

flask-babel returns untranslated text outside a request, so everything a resident receives is
translated here. Catalogs live in `locales/<lang>/LC_MESSAGES/*.po`; the `.mo` files are
compiled on first use (they are not in git), so a fresh clone works without a build step.
"""
from __future__ import annotations

import io
import os
import tempfile
import threading
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

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


def _candidates(language: str) -> list[str]:
    """Catalog directory names to try, most specific first: es-MX → es_MX, es."""
    parts = normalize(language).split("-")
    names = []
    for n in range(len(parts), 0, -1):
        names.append("_".join(parts[:n]))
    return names


def translations(language: str) -> NullTranslations:
    """The catalog for `language` (es-MX falls back to es, then to the untranslated text)."""
    key = normalize(language or "")
    cached = _cache.get(key)
    if cached is not None:
        return cached
    with _lock:
        if key not in _cache:
            _cache[key] = _load(key)
        return _cache[key]


def _load(language: str) -> NullTranslations:
    """Every catalog file of the closest language directory, merged into one.

    Each area keeps its own file (`messages.po` for alerts, `keywords.po` for SMS replies,
    `email.po`…) so that they can be edited apart; they share one namespace of msgids.
    """
    for name in _candidates(language) if language else []:
        files = sorted((LOCALES_DIR / name / "LC_MESSAGES").glob("*.po"))
        if files:
            merged = _compiled(files[0], name)
            for po in files[1:]:
                merged.merge(_compiled(po, name))
            return merged
    return NullTranslations()


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


def pick_language(available: list[str], wanted: str, default: str) -> str:
    """The tag among `available` to give someone who wants `wanted` (DESIGN §4).

    Order: the exact tag; its base language (es-MX → es); another region of the same language
    (es-MX → es-ES, so nobody gets English when Spanish exists); `default`, the same way; the
    first available. Returns `default` when nothing is available.
    """
    if not available:
        return default
    by_tag = {normalize(tag): tag for tag in available}
    for choice in (wanted, default):
        if not choice:
            continue
        tag = normalize(choice)
        if tag in by_tag:
            return by_tag[tag]
        base = tag.split("-")[0]
        if base in by_tag:
            return by_tag[base]
        for norm, original in by_tag.items():
            if norm.split("-")[0] == base:
                return original
    return available[0]


def catalog_languages() -> list[str]:
    """Tags of the languages with a catalog in `locales/` (residents get translated texts)."""
    return sorted(normalize(d.name) for d in LOCALES_DIR.iterdir()
                  if (d / "LC_MESSAGES").is_dir() and any((d / "LC_MESSAGES").glob("*.po")))


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
    `default`, then the first available.

    Each step uses babel's `negotiate_locale` (exact tag, CLDR aliases, the tag's language);
    then the same against the languages of the available tags, so that a reader of `es` finds
    a text written as `es-MX`.
    """
    from babel import Locale, UnknownLocaleError
    from babel.core import negotiate_locale

    if not available:
        return default
    by_lower = {tag.lower(): tag for tag in available}
    by_language: dict[str, str] = {}
    for tag in available:
        try:
            by_language.setdefault(Locale.parse(tag, sep="-").language, tag)
        except (ValueError, UnknownLocaleError):
            continue
    for preferred in ([asked] if asked else [], accepted, [default]):
        wanted = [normalize(p) for p in preferred if p and p != "*"]
        found = negotiate_locale(wanted, list(by_lower), sep="-")
        if found:
            return by_lower[found.lower()]
        found = negotiate_locale(wanted, list(by_language), sep="-")
        if found:
            return by_language[found.lower()]
    return available[0]
