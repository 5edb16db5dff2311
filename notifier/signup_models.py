"""Sign-ups on the web (DESIGN §12): a sign-up waiting for its addresses to be confirmed, the
codes texted to confirm a phone, and the single-use links that sign a resident in to `/me`.

Kept apart from `notifier.models` (which imports this module at its end). A pending sign-up is
not a subscriber: nothing lists, counts or reaches it until an address is confirmed, when
`notifier.signups` makes or updates the subscriber from it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from notifier.models import Base, utcnow


class Signup(Base):
    """What a resident asked for on /signup, until each address they gave is confirmed."""

    __tablename__ = "signups"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(320), index=True)  # lower-cased
    # {language, channels, locations, zones, topics, consent: wording shown}
    choices: Mapped[dict]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    phone_confirmed_at: Mapped[datetime | None]
    email_confirmed_at: Mapped[datetime | None]
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"))


class SignupCode(Base):
    """One 6-digit code texted to a phone; only its HMAC is kept (SECRET_KEY)."""

    __tablename__ = "signup_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    signup_id: Mapped[int] = mapped_column(ForeignKey("signups.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    wrong: Mapped[int] = mapped_column(Integer, default=0)  # wrong entries; void at 5
    used_at: Mapped[datetime | None]
    __table_args__ = (Index("ix_signup_codes_phone_created", "phone", "created_at"),
                      Index("ix_signup_codes_signup", "signup_id"))


class ResidentLink(Base):
    """A sign-in link to /me sent to a resident; the token names this row, used once."""

    __tablename__ = "resident_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"),
                                               index=True)
    channel: Mapped[str] = mapped_column(String(10))  # sms or email: where it went
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
