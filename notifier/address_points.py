"""Address search (DESIGN §12): the start of the address, or of a word in it, as typed.

Both kinds of match are one indexed range on a byte-ordered key column
(`key >= q AND key < successor(q)`), so a search costs the same on 500,000 points as on 500.
Order: whole-address matches first, alphabetically; then word matches, alphabetically by the
words matched, then by address (the order of the index: no sort of every match).
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier.address_models import AddressPoint, AddressToken

LIMIT = 10
MAX_WORDS = 12  # word index entries per address: an address is not a paragraph
_WORD = re.compile(r"[^\W_]+")
_JOINERS = str.maketrans("", "", "'’ʼ`´")  # O'Brien → obrien: nobody types the apostrophe
_APART = str.maketrans("'’ʼ`´", "     ")


def normalize(text: str) -> str:
    """The search key of `text`: casefolded, accents, apostrophes and punctuation gone.

    "12 Avenue Réaumur-Sébastopol" → "12 avenue reaumur sebastopol".
    """
    text = text.translate(_JOINERS)
    if not text.isascii():  # most addresses are: skip the per-character work
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_WORD.findall(text.casefold()))


def _later_words(key: str) -> list[str]:
    starts = [m.start() for m in re.finditer(r" ", key)][:MAX_WORDS - 1]
    return [key[i + 1:] for i in starts]


def word_tokens(address: str, key: str | None = None) -> list[str]:
    """The key from its second, third … word to its end ("12 Main St" → ["main st", "st"]).

    A word after an apostrophe counts too: "l'Église" is found by "eglise" as by "leglise".
    `key` is normalize(address) when the caller has it already.
    """
    joined = _later_words(normalize(address) if key is None else key)
    if address.translate(_JOINERS) == address:
        return joined
    split = _later_words(normalize(address.translate(_APART)))
    return list(dict.fromkeys(joined + split))


def successor(prefix: str) -> str:
    """The smallest string greater than every string that starts with `prefix`."""
    last = ord(prefix[-1])
    if last >= 0x10FFFF:  # never produced by normalize, but stay correct
        return prefix + chr(0x10FFFF)
    return prefix[:-1] + chr(last + 1)


def point_dict(point: AddressPoint) -> dict:
    return {"address": point.address, "lat": point.lat, "lon": point.lon, "zone": point.zone_code}


def search(session: Session, q: str, limit: int = LIMIT) -> list[AddressPoint]:
    """Return at most `limit` points matching `q` at the start of the address or of a word."""
    key = normalize(q)
    if not key:
        return []
    upper = successor(key)
    found = list(session.scalars(
        select(AddressPoint).where(AddressPoint.key >= key, AddressPoint.key < upper)
        .order_by(AddressPoint.key).limit(limit)))
    seen = {point.key for point in found}
    offset, batch = 0, limit * 2
    while len(found) < limit:
        # An address may match at two words, or at its start and a word: skip repeats.
        keys = session.scalars(
            select(AddressToken.address_key)
            .where(AddressToken.token >= key, AddressToken.token < upper)
            .order_by(AddressToken.token, AddressToken.address_key)
            .offset(offset).limit(batch)).all()
        wanted = [k for k in dict.fromkeys(keys) if k not in seen]
        seen.update(wanted)
        if wanted:
            points = {p.key: p for p in session.scalars(
                select(AddressPoint).where(AddressPoint.key.in_(wanted)))}
            found += [points[k] for k in wanted if k in points][:limit - len(found)]
        if len(keys) < batch:
            break
        offset += batch
    return found


def exact(session: Session, text: str) -> AddressPoint | None:
    """The point whose address is `text` once both are normalized, or None."""
    key = normalize(text)
    if not key:
        return None
    return session.scalar(select(AddressPoint).where(AddressPoint.key == key))


def resolve(session: Session, text: str, shown: int = 5) -> tuple[AddressPoint | None, list]:
    """(the one point `text` names, []) or (None, up to `shown` candidates, maybe none).

    The same address, normalized, names its point even when others start with it; otherwise
    `text` names a point when exactly one matches.
    """
    point = exact(session, text)
    if point is not None:
        return point, []
    matches = search(session, text, limit=shown)
    if len(matches) == 1:
        return matches[0], []
    return None, matches
