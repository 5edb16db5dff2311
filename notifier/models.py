"""SQLAlchemy models: the database is the single source of truth (DESIGN §2)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        TypeDecorator, UniqueConstraint, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from notifier.public_ids import new_public_id


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores UTC; always returns aware datetimes, also from SQLite which keeps no zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON}


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The time step of the last accepted code: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebSession(Base):
    """A signed-in browser session: the cookie holds the id, this row says it is still live."""
    __tablename__ = "web_sessions"
    # SHA-256 of the random id in the cookie: a copy of this table signs nobody in.
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    __table_args__ = (Index("ix_web_sessions_user", "user_id"),
                      Index("ix_web_sessions_expires", "expires_at"))


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Subscriber(Base):
    __tablename__ = "subscribers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(320), unique=True)  # lower-cased
    language: Mapped[str] = mapped_column(String(35), default="en")
    channels: Mapped[list] = mapped_column(default=list)  # preference order
    # None: the agency's QUIET_HOURS; "off"; or their own "HH:MM-HH:MM" (notifier.quiet_hours).
    quiet_hours: Mapped[str | None] = mapped_column(String(11))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    locations: Mapped[list["Location"]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", order_by="Location.id")
    zone_links: Mapped[list["SubscriberZone"]] = relationship(cascade="all, delete-orphan")
    group_links: Mapped[list["SubscriberGroup"]] = relationship(cascade="all, delete-orphan")
    topic_links: Mapped[list["SubscriberTopic"]] = relationship(cascade="all, delete-orphan")


class Location(Base):
    __tablename__ = "locations"
    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    label: Mapped[str | None] = mapped_column(String(80))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    subscriber: Mapped[Subscriber] = relationship(back_populates="locations")
    __table_args__ = (Index("ix_locations_lat_lon", "lat", "lon", "subscriber_id"),
                      Index("ix_locations_subscriber", "subscriber_id"))


class SubscriberZone(Base):
    __tablename__ = "subscriber_zones"
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    zone_code: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class SubscriberGroup(Base):
    __tablename__ = "subscriber_groups"
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class SubscriberTopic(Base):
    """A resident follows a topic (road closures, meetings): routine alerts on it reach them."""
    __tablename__ = "subscriber_topics"
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    topic_code: Mapped[str] = mapped_column(
        ForeignKey("topics.code", ondelete="CASCADE"), primary_key=True, index=True)


class Topic(Base):
    """What routine alerts are about (DESIGN §12); residents follow the ones they want."""
    __tablename__ = "topics"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[dict]  # language tag -> name, the first one the fallback
    keywords: Mapped[list] = mapped_column(default=list)  # upper-case SMS words: JOIN <word>
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Zone(Base):
    __tablename__ = "zones"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    geometry: Mapped[dict | None]  # GeoJSON Polygon or MultiPolygon
    keywords: Mapped[list] = mapped_column(default=list)
    # The zone's own Apprise targets (secrets: shown masked), posted to when an alert touches it.
    social_urls: Mapped[list | None]
    min_lat: Mapped[float | None]
    min_lon: Mapped[float | None]
    max_lat: Mapped[float | None]
    max_lon: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OptOut(Base):
    """The opt-out ledger: a row means `address` receives nothing on `channel`."""

    __tablename__ = "opt_outs"
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(20))  # keyword, carrier, admin, api, email-link
    body: Mapped[str | None] = mapped_column(Text)


class Consent(Base):
    __tablename__ = "consents"
    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(20))
    wording: Mapped[str | None] = mapped_column(Text)


class Alert(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(100), unique=True)  # CAP identifier
    # The public page's address (/a/<public_id>): made at creation, never changed.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    status: Mapped[str] = mapped_column(String(10))  # CAP status
    msg_type: Mapped[str] = mapped_column(String(10))  # CAP msgType
    category: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(200))
    headline: Mapped[str] = mapped_column(String(200))
    instruction: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(10))
    urgency: Mapped[str] = mapped_column(String(10))
    certainty: Mapped[str] = mapped_column(String(10))
    references: Mapped[str | None] = mapped_column(Text)
    references_alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    messages: Mapped[dict]  # language tag -> text, in the dispatcher's order
    # Language tag -> text beside `headline`/`instruction` (the default language's); None or
    # a missing tag means the single text serves that language (DESIGN §11).
    headlines: Mapped[dict | None]
    instructions: Mapped[dict | None]
    machine_translated: Mapped[list | None]  # tags whose message a machine translated
    area: Mapped[dict]
    channels: Mapped[list]
    confirm: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    fanned_out_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # Two-person rule: the second person who approved a large send, and the digest of the
    # content they approved (notifier.approval): an approval of other content is void.
    approved_by: Mapped[str | None] = mapped_column(String(120))
    approved_at: Mapped[datetime | None]
    approval_digest: Mapped[str | None] = mapped_column(String(64))
    # A topic's code: only its followers in the area receive it, unless Severe or Extreme
    # (notifier.topics.audience_topic). No foreign key: a sent alert keeps its topic's code.
    topic: Mapped[str | None] = mapped_column(String(64))


# The columns an alert body (DESIGN §4) sets: what residents receive and who receives it.
ALERT_CONTENT = ("headline", "event", "messages", "category", "severity", "urgency", "certainty",
                 "status", "msg_type", "references", "area", "channels", "expires_at", "confirm",
                 "instruction", "headlines", "instructions", "machine_translated", "topic")


class Delivery(Base):
    """One message to one resident on one channel; the unique key forbids a second."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(35))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    provider_id: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(20))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The claim of the worker sending it (`sending` only): its Redis heartbeat says it lives.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    answered_by: Mapped[str | None] = mapped_column(String(20))
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The delivery this one replaces after it failed for good (notifier.failover).
    failover_of: Mapped[int | None] = mapped_column(Integer)
    # What a broadcast delivery (no resident: a social account, a partner system) carries:
    # notifier.broadcast's ALERT_SENT or ALERT_CANCELLED; None for a resident's delivery.
    event: Mapped[str | None] = mapped_column(String(20))
    __table_args__ = (
        UniqueConstraint("alert_id", "subscriber_id", "channel", name="uq_delivery_once"),
        Index("ix_deliveries_alert_channel_status", "alert_id", "channel", "status"),
        Index("ix_deliveries_provider_id", "provider_id"),
        Index("ix_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_deliveries_subscriber", "subscriber_id"),
        # Partial: only failovers are indexed, so the fan-out's inserts pay nothing for it,
        # and the live stats count an alert's failovers without reading its other rows.
        Index("ix_deliveries_failover_of", "alert_id", "failover_of",
              postgresql_where=text("failover_of IS NOT NULL"),
              sqlite_where=text("failover_of IS NOT NULL")),
        # A broadcast delivery once per alert, channel, target and event (fan-out re-runs).
        Index("uq_broadcast_once", "alert_id", "channel", "address", "event", unique=True,
              postgresql_where=text("event IS NOT NULL"), sqlite_where=text("event IS NOT NULL")),
    )


class AuditEvent(Base):
    """Append-only; each row's hash covers its content and the previous row's hash."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object: Mapped[str | None] = mapped_column(String(120), index=True)
    details: Mapped[dict] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # HMAC of `hash` under AUDIT_KEY (kept outside the database); null only if never sealed.
    mac: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """A single row locked by each audit write so that concurrent writers chain in order."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64))


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    message_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    from_number: Mapped[str] = mapped_column(String(40), index=True)
    to_number: Mapped[str | None] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    keyword: Mapped[str | None] = mapped_column(String(20))  # None: it goes to the inbox
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"))
    reply: Mapped[str | None] = mapped_column(Text)  # what we texted back; rate limits count it
    handled_at: Mapped[datetime | None] = mapped_column()
    handled_by: Mapped[str | None] = mapped_column(String(120))


class InboxReply(Base):
    """A dispatcher's SMS answer to an inbox text: queued, then sent, failed or refused."""

    __tablename__ = "inbox_replies"
    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_id: Mapped[int] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    to_number: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # queued, sent, failed, refused
    provider_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)


class SandboxMessage(Base):
    """What a sandboxed channel would have sent (DESIGN §8)."""

    __tablename__ = "sandbox_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(10))
    to: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    delivery_id: Mapped[int | None] = mapped_column(Integer)
    provider_id: Mapped[str] = mapped_column(String(64))


class CapImport(Base):
    """A peer's CAP alert taken in as a draft, by its CAP sender and identifier: a feed's alert
    becomes a draft once, also after a restart (workers/cap_poller.py)."""

    __tablename__ = "cap_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(255))
    identifier: Mapped[str] = mapped_column(String(255))
    sent: Mapped[str | None] = mapped_column(String(40))  # CAP <sent>, as the peer wrote it
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"),
                                                 index=True)
    source: Mapped[str] = mapped_column(String(2000))  # "api", or the feed's URL
    imported_by: Mapped[str] = mapped_column(String(120))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("sender", "identifier", name="uq_cap_import_once"),)


class CapFeed(Base):
    """What a CAP feed's server said last (ETag, Last-Modified) for the next conditional GET."""

    __tablename__ = "cap_feeds"
    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    checked_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


from notifier import address_models  # noqa: E402,F401  (its tables join this metadata)
from notifier import signup_models  # noqa: E402,F401  (its tables join this metadata)
from notifier import reach_stamps  # noqa: E402,F401  (its table and triggers join this metadata)
