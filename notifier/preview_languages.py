"""The preview's words about languages: for each language residents read, whether they get the
alert in it or another language's text instead, and whether Tocsin's own texts speak it.

Worked out once per distinct resident language from the preview's grouped counts (a town has a
few dozen), never per resident.
"""
from __future__ import annotations

from collections import Counter

from notifier import i18n


def resident_languages(pairs: Counter) -> list[dict]:
    """[{"language", "residents", "gets", "own", "missing", "catalog"}], most residents first.

    `pairs` counts residents reached by (tag of the text they get, their stored language); the
    text is the renderer's choice (`i18n.pick_language`, through `audience.Rules`). `own`: same
    language and script (`i18n.is_own_language`). `missing`: the text they would need (zh-TW →
    zh-Hant), None when they have it. `catalog`: the language whose catalog gives their fixed
    texts (replies; prefixes and email framing follow the text they get), "en" for English
    readers, None when there is none and they read them in English.
    """
    by_language: dict[str, list] = {}
    for (gets, language), n in pairs.items():
        tag = i18n.normalize(language)
        entry = by_language.setdefault(tag, [0, gets])
        entry[0] += n
    out = []
    for tag, (n, gets) in by_language.items():
        own = i18n.is_own_language(tag, gets)
        out.append({"language": tag, "residents": n, "gets": gets, "own": own,
                    "missing": None if own else _text_needed(tag),
                    "catalog": catalog_of(tag)})
    out.sort(key=lambda e: (-e["residents"], e["language"]))
    return out


def catalog_of(language: str) -> str | None:
    """The tag whose catalog translates Tocsin's fixed texts for readers of `language`: "en"
    for English (the source), the table's tag when its catalog is there, else None."""
    if i18n.identity(language)[0] == "en":
        return "en"
    row = i18n.catalog_row(language)
    return row.tag if row is not None and i18n.catalog_path(row).is_file() else None


def _text_needed(language: str) -> str:
    """The text a reader of `language` lacks, as the languages table names it (zh-TW → zh-Hant,
    fil → tl, pt-BR → pt); a language outside the table by its own tag."""
    row = i18n.catalog_row(language)
    return row.tag if row is not None else language


def fixed_texts_in_english(entries: list[dict]) -> int:
    """Residents whose language has no catalog: their fixed texts are in English."""
    return sum(e["residents"] for e in entries if e["catalog"] is None)


def language_warnings(entries: list[dict]) -> list[str]:
    """Residents who get another language's text, and those whose fixed texts are in English."""
    out = []
    fallback = [e for e in entries if not e["own"]]
    if fallback:
        detail = ", ".join(f"{e['language']}: {e['residents']} get {e['gets']}" for e in fallback)
        out.append(f"{sum(e['residents'] for e in fallback)} resident(s) read a language with no "
                   f"text ({detail}); they get the fallback text.")
    english = [e for e in entries if e["catalog"] is None]
    if english:
        detail = ", ".join(f"{e['language']}: {e['residents']}" for e in english)
        out.append(f"{fixed_texts_in_english(entries)} resident(s) read a language Tocsin has no "
                   f"translations for ({detail}): their replies, prefixes and email framing "
                   "are in English.")
    return out
