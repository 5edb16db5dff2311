"""What a resident's text means: one keyword family per whole message, from a table of words.

A keyword is the whole message, compared ignoring case, accents, surrounding whitespace and
punctuation (`  Help! ` is HELP, `ESPANOL` is ESPAÑOL). Localized words carry the languages
they belong to, so the reply can come in the language the resident wrote in.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from notifier import languages

OPT_OUT = languages.OPT_OUT
OPT_IN = languages.OPT_IN
YES = languages.YES  # acknowledges a confirm alert when one is pending, else opts in
CONFIRM = "confirm"  # "1": only ever acknowledges
HELP = languages.HELP
JOIN_ZONE = "join_zone"  # JOIN <zone code, ZIP or topic keyword>
LEAVE_TOPIC = "leave_topic"  # LEAVE <topic keyword>
JOIN_TOPIC = "join_topic"  # recorded when JOIN <word> named a topic rather than a zone
LANGUAGE = "language"

# A keyword is short; a long text is a question for the Inbox, never a command.
MAX_KEYWORD_CHARS = 60

# family → {language or "" (any): words}, and a language's names → its tag: both from the one
# table of languages. Carriers honour the English CTIA words everywhere.
WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    family: {"": languages.ANY[family],
             **{row.tag: row.words[family] for row in languages.LANGUAGES if row.words.get(family)}}
    for family in (OPT_OUT, OPT_IN, YES, HELP)
}
WORDS[CONFIRM] = {"": ("1",)}

LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {row.tag: row.names for row in languages.LANGUAGES}

# Letters NFKD does not decompose but residents type without their stroke.
_TRANSLIT = str.maketrans({"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"})


@dataclass(frozen=True)
class Keyword:
    """A parsed text: `family` None means it is no keyword (perhaps a zone's; else the Inbox).

    `languages` are the languages the word belongs to (empty: any); `value` is the language tag
    for LANGUAGE and the zone code or ZIP for JOIN_ZONE; `text` the normalized message.
    """

    family: str | None
    text: str
    languages: tuple[str, ...] = ()
    value: str | None = None


def _is_edge(ch: str) -> bool:
    # Punctuation, symbols (emoji), separators and controls around a word are not the word.
    return unicodedata.category(ch)[0] in "PSZC"


def normalize(text: str) -> str:
    """Case-folded, accent-free, trimmed text with single spaces: `  ¡Ayúda! ` → `ayuda`."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    # NFC puts Hangul syllables back together after NFKD split them into jamo.
    folded = unicodedata.normalize("NFC", stripped).casefold()
    joined = " ".join(folded.split())
    start, end = 0, len(joined)
    while start < end and _is_edge(joined[start]):
        start += 1
    while end > start and _is_edge(joined[end - 1]):
        end -= 1
    return joined[start:end].strip()


def compact(text: str) -> str:
    """`normalize`d text without inner spaces and hyphens: `opt-out`, `OPT OUT` → `optout`."""
    return "".join(ch for ch in normalize(text) if not (ch.isspace() or ch in "-_."))


def _build() -> dict[str, tuple[str, tuple[str, ...], str | None]]:
    table: dict[str, tuple[str, tuple[str, ...], str | None]] = {}

    def add(word: str, family: str, language: str, value: str | None = None) -> None:
        for key in {normalize(word), compact(word)}:
            old = table.get(key)
            if old is None:
                table[key] = (family, (language,) if language else (), value)
            elif old[0] != family or old[2] != value:
                raise ValueError(f"keyword {word!r} is in both {old[0]} and {family}")
            elif language and old[1]:  # one word in two languages (PARAR: es and pt)
                table[key] = (family, tuple(dict.fromkeys(old[1] + (language,))), value)
            else:
                table[key] = (family, (), value)

    for family, by_language in WORDS.items():
        for language, words in by_language.items():
            for word in words:
                add(word, family, language)
    for tag, names in LANGUAGE_NAMES.items():
        for name in names:
            add(name, LANGUAGE, tag, tag)
    return table


TABLE = _build()
# "JOIN beat-3", "ALTA 02139": an opt-in word followed by a zone code or ZIP.
JOIN_WORDS = frozenset(normalize(w) for words in WORDS[OPT_IN].values() for w in words if " " not in w)
# "LEAVE TRAFFIC": stop following a topic (the resident stays subscribed to everything else).
LEAVE_WORDS = frozenset({"leave"})


def is_command_word(word: str) -> bool:
    """True when `word` alone, or as the first word of JOIN/LEAVE, is an SMS command."""
    return parse(word).family is not None or normalize(word) in LEAVE_WORDS


def parse(body: str | None) -> Keyword:
    """Return the Keyword a text is; never raises (any text is at worst not a keyword)."""
    text = normalize(body or "")
    if not text or len(text) > MAX_KEYWORD_CHARS:
        return Keyword(None, text)
    for key in (text, compact(text)):
        found = TABLE.get(key)
        if found is not None:
            family, languages, value = found
            return Keyword(family, text, languages, value)
    first, _, rest = text.partition(" ")
    first, rest = first.rstrip(",:;-#"), rest.strip(" ,:;-#")
    if first in JOIN_WORDS and rest:
        languages = TABLE[first][1]
        return Keyword(JOIN_ZONE, text, languages, rest)
    if first in LEAVE_WORDS and rest:
        return Keyword(LEAVE_TOPIC, text, (), rest)
    return Keyword(None, text)
