"""The headline and instruction a reader of one language gets, as CAP gives each `<info>` its own.

An alert carries `headlines` and `instructions` per language beside `messages` (DESIGN §11);
the single `headline`/`instruction` are the first language's. A language without its own
headline gets the first sentence of its own message rather than a headline in another
language, so a subject line never mixes languages. A language without its own instruction
still gets the first language's, marked with that language (`lang`), because withholding what
to do is worse than a sentence in another language.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from notifier.i18n import normalize

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？।])")
HEADLINE_FROM_MESSAGE_CHARS = 90


@dataclass(frozen=True)
class Text:
    """A text and the language it is written in (for `lang`/`dir` when it differs)."""

    text: str
    language: str
    own: bool  # written for this language (not a fallback)


def _lookup(texts: dict | None, tag: str) -> str | None:
    wanted = normalize(tag)
    for key, value in (texts or {}).items():
        if normalize(key) == wanted and (value or "").strip():
            return value.strip()
    return None


def first_language(alert, default: str) -> str:
    return next(iter(alert.messages or {}), default)


def headline(alert, chosen: str) -> Text:
    """The headline for readers of the message in `chosen`."""
    first = first_language(alert, chosen)
    own = _lookup(getattr(alert, "headlines", None), chosen)
    if own:
        return Text(own, chosen, True)
    if normalize(chosen) == normalize(first) or not (alert.messages or {}).get(chosen):
        single = getattr(alert, "headline", None) or ""
        return Text(single, first, bool(single) and normalize(chosen) == normalize(first))
    words = " ".join(alert.messages[chosen].split())
    sentence = _SENTENCE_END.split(words, maxsplit=1)[0].strip()
    if len(sentence) > HEADLINE_FROM_MESSAGE_CHARS:
        sentence = sentence[:HEADLINE_FROM_MESSAGE_CHARS - 1].rstrip() + "…"
    return Text(sentence, chosen, False)


def instruction(alert, chosen: str) -> Text | None:
    """What to do, for readers of `chosen`; None when the alert gives no instruction."""
    own = _lookup(getattr(alert, "instructions", None), chosen)
    if own:
        return Text(own, chosen, True)
    first = first_language(alert, chosen)
    single = (getattr(alert, "instruction", None) or "").strip() or _lookup(getattr(alert, "instructions", None), first)
    if not single:
        return None
    return Text(single, first, normalize(chosen) == normalize(first))
