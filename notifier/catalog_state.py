"""How far each language's fixed texts are translated and reviewed, read from the catalogs'
`# reviewed: …` marks (for the README's table and `python -m notifier languages`)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from babel.messages.pofile import read_po

from notifier import i18n, languages

MACHINE, UNREVIEWED = "machine", "unreviewed"


@dataclass(frozen=True)
class LanguageState:
    tag: str
    english: str
    messages: int      # entries in its catalog
    translated: int    # with every form filled, not fuzzy
    reviewed: int      # marked with a reviewer's name
    machine: int       # marked `machine`
    unreviewed: int    # marked `unreviewed` (a person wrote it, nobody checked it)


def state(row: languages.Language) -> LanguageState:
    with open(i18n.catalog_path(row), "rb") as fp:
        catalog = read_po(fp, locale=row.catalog)
    marks: Counter = Counter()
    messages = translated = 0
    for message in catalog:
        if not message.id:
            continue
        messages += 1
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if not message.fuzzy and strings and all(strings):
            translated += 1
        mark = next((c.split(":", 1)[1].strip() for c in message.user_comments
                     if c.startswith("reviewed:")), UNREVIEWED)
        marks[mark if mark in (MACHINE, UNREVIEWED) else "reviewed"] += 1
    return LanguageState(row.tag, row.english, messages, translated, marks["reviewed"],
                         marks[MACHINE], marks[UNREVIEWED])


def states() -> list[LanguageState]:
    return [state(row) for row in languages.LANGUAGES if row.tag != "en"]


def summary(s: LanguageState) -> str:
    """'719 of 719 translated; 719 machine, none reviewed' — the README's wording."""
    parts = [f"{s.machine} machine" if s.machine else "",
             f"{s.unreviewed} unreviewed" if s.unreviewed else "",
             f"{s.reviewed} reviewed" if s.reviewed else "none reviewed"]
    return f"{s.translated} of {s.messages} translated; " + ", ".join(p for p in parts if p)
