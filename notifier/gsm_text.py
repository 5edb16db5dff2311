"""Plain punctuation: the few typographic characters that turn an SMS into UCS-2, swapped for
their GSM 03.38 look-alikes when that keeps the message GSM-7.

A curly apostrophe or a non-breaking space pasted from a word processor makes a whole SMS
UCS-2 (70 characters a segment instead of 160): a 200-character English alert then costs three
segments instead of two. Only punctuation and spacing are swapped, never a letter: an accented
letter outside GSM (ê, ç, ő) stays, and the message stays UCS-2. A text that stays UCS-2 anyway
(Chinese, Arabic, an ê) is left exactly as written: swapping its quotes would gain nothing.
Nothing here changes a text by itself: the dispatcher asks for it (`gsm_safe`, the compose
checkbox) and is shown what changed.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from notifier.render import GSM_BASIC, GSM_EXTENSION

# Each swap keeps the meaning: quotes stay quotes, dashes become hyphens, odd spaces a space.
PLAIN: dict[str, str] = {
    # single quotes, apostrophes and primes
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u2039": "'", "\u203a": "'",
    # double quotes and guillemets
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    # hyphens, dashes and the minus sign
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-",
    # the ellipsis, and the bullet of a pasted list
    "\u2026": "...", "\u2022": "-",
    # spaces of other widths: no-break, figure, narrow no-break, thin, en, em…
    "\u00a0": " ", "\u2000": " ", "\u2001": " ", "\u2002": " ", "\u2003": " ", "\u2004": " ",
    "\u2005": " ", "\u2006": " ", "\u2007": " ", "\u2008": " ", "\u2009": " ", "\u200a": " ",
    "\u202f": " ", "\u205f": " ",
    # invisible: zero-width space, word joiner, byte-order mark, soft hyphen. (Zero-width
    # joiners, U+200C/U+200D, shape Indic, Arabic and emoji text: never touched.)
    "\u200b": "", "\u2060": "", "\ufeff": "", "\u00ad": "",
}


@dataclass(frozen=True)
class Substitution:
    """`count` times `original` became `plain` ("" when it was dropped)."""

    original: str
    plain: str
    count: int

    def as_dict(self) -> dict:
        return {"from": self.original, "to": self.plain, "count": self.count,
                "codepoint": f"U+{ord(self.original):04X}"}


def is_gsm(text: str) -> bool:
    """True when every character of `text` is in GSM 03.38 (basic table or extension)."""
    return all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text)


def gsm_safe(text: str) -> tuple[str, list[Substitution]]:
    """(text, substitutions): `text` with plain punctuation when that makes it all GSM 03.38,
    with the swaps made, in order of first appearance; else `text` unchanged and []."""
    if is_gsm(text):
        return text, []
    swapped = "".join(PLAIN.get(ch, ch) for ch in text)
    if not is_gsm(swapped):
        return text, []
    counts = Counter(ch for ch in text if ch in PLAIN)
    order = dict.fromkeys(ch for ch in text if ch in PLAIN)
    return swapped, [Substitution(ch, PLAIN[ch], counts[ch]) for ch in order]


def describe(substitutions: list[dict]) -> str:
    """`’ → ' (2), – → - (1), U+00A0 → U+0020 (1), U+200B → ∅ (1)`: the swaps (as
    `Substitution.as_dict` gives them) in signs a dispatcher of any language can check;
    invisible characters by their code point."""
    def shown(ch: str) -> str:
        if ch == "":
            return "∅"
        return ch if ch.isprintable() and not ch.isspace() else f"U+{ord(ch[0]):04X}"
    return ", ".join(f"{shown(s['from'])} → {shown(s['to'])} ({s['count']})"
                     for s in substitutions)
