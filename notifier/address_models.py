"""Address points (DESIGN §12): the city's addresses with a place, and their word index.

Kept apart from `notifier.models` (which imports this module at its end, so one metadata holds
every table). Search keys are compared byte by byte: on PostgreSQL the key columns use the "C"
collation, or a linguistic collation (which ignores spaces) would turn a prefix range into
something else; SQLite compares text as bytes already.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from notifier.models import Base, utcnow

ADDRESS_MAX = 200  # characters of the address as the city wrote it
KEY_MAX = 400  # the normalized key can be longer than the text (NFKD: "ﬁ" → "fi")


def _key_type(length: int):
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class AddressPoint(Base):
    """One address as the city wrote it, where it is, and its zone (if the city gave one)."""

    __tablename__ = "address_points"
    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    # normalize(address): casefolded, accents and punctuation gone; one row per key.
    key: Mapped[str] = mapped_column(_key_type(KEY_MAX), unique=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    zone_code: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AddressToken(Base):
    """The key from its 2nd, 3rd … word to its end: a prefix of one is a word-prefix match.

    "12 main st" gives "main st" and "st"; the whole key is searched in address_points.
    """

    __tablename__ = "address_tokens"
    token: Mapped[str] = mapped_column(_key_type(KEY_MAX), primary_key=True)
    # The primary key is the search order: word match, then the address, alphabetically. The
    # point is named by its key, not its id: an import writes words without reading ids back.
    address_key: Mapped[str] = mapped_column(
        _key_type(KEY_MAX), ForeignKey("address_points.key", ondelete="CASCADE"), primary_key=True)
    __table_args__ = (Index("ix_address_tokens_address", "address_key"),)
