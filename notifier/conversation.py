"""One text from a resident, handled: keywords, the opt-out ledger, consent, zones, languages,
confirmations, the Inbox, and the short reply (if any) in the resident's language.

Rules worth knowing (DESIGN §5, CTIA):
- A number opted out of SMS gets exactly one reply, the confirmation of its STOP, and nothing
  else — not even HELP — until it texts an opt-in word (START, YES, JOIN, ALTA…) or a zone
  keyword. CTIA allows answering HELP after STOP; we do not, so that "no SMS after STOP" holds
  without exceptions. Its other texts are still recorded (language changes are kept).
- JOIN <topic word> follows a topic as JOIN <zone> follows a zone (an opt-in, so it lifts a
  STOP); LEAVE <topic word> unfollows it, and after STOP is recorded but answered nothing.
- Texting an opt-in word, a zone keyword or a language name is the consent: the subscriber is
  created at once (phone = From) and a Consent row keeps what they texted and what was shown.
- YES/1 within CONFIRM_WINDOW of an SMS or call from an alert with `confirm` acknowledges it.
- At most REPLY_LIMIT replies per number per REPLY_WINDOW, so an auto-responder cannot loop
  with us; the STOP confirmation is exempt (CTIA requires it; it can only follow an opt-in).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notifier import deliveries, keywords, languages, subscriptions, topic_replies, topics, zones
from notifier.config import Settings
from notifier.errors import Conflict
from notifier.i18n import N_, gettext
from notifier.models import Alert, Delivery, InboundMessage, Subscriber, SubscriberZone, Zone
from notifier.phones import mask, to_e164

CONFIRM_WINDOW = timedelta(hours=24)
REPLY_LIMIT, REPLY_WINDOW = 5, timedelta(minutes=10)
INBOX_REPLY_EVERY = timedelta(hours=1)
MAX_BODY = 1600  # Twilio's longest inbound message; anything longer is cut, not refused
EMERGENCY_NUMBER = {"US": "911", "CA": "911", "PR": "911", "GB": "999", "AU": "000", "NZ": "111"}

# Translators: %(help)s, %(stop)s and %(start)s are filled with the language's own HELP, STOP
# and START words (notifier.languages); keep JOIN in English: it is the keyword before a ZIP code.
SUBSCRIBED = N_("You are subscribed to emergency alerts.")
CTIA_TAIL = N_("Msg frequency varies. Msg & data rates may apply. "
                "Reply %(help)s for help, %(stop)s to opt out.")
UNSUBSCRIBED = N_("You are unsubscribed and will receive no more messages. "
                   "Reply %(start)s to subscribe again.")
HELP_TEXT = N_("Emergency alerts. Msg frequency varies. Msg & data rates may apply. "
                "Reply %(stop)s to opt out, %(start)s to subscribe.")
CONTACT = N_("Contact: %(contact)s.")
ZONE_JOINED = N_("You will receive alerts for %(zone)s.")
ZONE_UNKNOWN = N_("We could not find the area \"%(code)s\". Text JOIN followed by your ZIP code "
                   "or area code, for example JOIN %(example)s.")
ZONE_LIST = N_("For the list of areas, contact %(contact)s.")
# Translators: name your own language here instead of English.
LANGUAGE_SET = N_("You will now receive alerts in English.")
THANKS = N_("Thank you, your confirmation was received.")
RECEIVED = N_("We received your message. For emergencies call %(emergency)s.")


@dataclass(frozen=True)
class Reply:
    """The text to send back, and its language."""

    text: str
    language: str


@dataclass
class _Turn:
    session: Session
    settings: Settings
    phone: str
    sub: Subscriber | None
    body: str
    now: datetime
    message: InboundMessage
    opted: bool
    # An opt-in's confirmation (CTIA) goes out whatever the reply limit says.
    confirms_opt_in: bool = False

    @property
    def actor(self) -> str:
        return f"sms:{mask(self.phone)}"


def clean_body(body: str | None) -> str:
    """The text as stored: at most MAX_BODY characters, no control characters (PostgreSQL
    refuses NUL), no lone surrogates."""
    text = "".join(ch for ch in body or "" if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return text[:MAX_BODY].encode("utf-8", "replace").decode("utf-8")


def handle_inbound(session: Session, settings: Settings, from_number: str, to_number: str | None,
                   body: str | None, message_sid: str | None, now: datetime) -> Reply | None:
    """Handle one inbound text and return the reply to send, or None (nothing to send).

    A MessageSid already seen changes nothing and returns None (Twilio retries webhooks).
    """
    sid = (message_sid or "").strip()[:64] or None
    if sid and session.scalar(select(InboundMessage.id).where(InboundMessage.message_sid == sid)):
        return None
    body = clean_body(body)
    phone = _e164(from_number, settings.default_region)
    sub = session.scalar(select(Subscriber).where(Subscriber.phone == phone)) if phone else None
    message = InboundMessage(at=now, message_sid=sid, body=body,
                             from_number=phone or clean_body(from_number)[:40] or "unknown",
                             to_number=clean_body(to_number)[:40] or None,
                             subscriber_id=sub.id if sub else None)
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # another request recorded this MessageSid a moment ago
        return None
    if phone is None:  # a short code or an alphanumeric sender: for a person to read
        return None
    opted = bool(subscriptions.opted_out(session, [phone], "sms"))
    turn = _Turn(session, settings, phone, sub, body, now, message, opted)
    family, reply, exempt = _respond(turn, keywords.parse(body))
    message.keyword = family
    message.subscriber_id = turn.sub.id if turn.sub else None
    if reply is None or not (exempt or turn.confirms_opt_in or _may_reply(turn)):
        session.flush()
        return None
    message.reply = reply.text
    session.flush()
    return reply


def _respond(t: _Turn, kw: keywords.Keyword) -> tuple[str | None, Reply | None, bool]:
    """Return (keyword family recorded, reply or None, exempt from the rate limit)."""
    family = kw.family
    if family in (keywords.YES, keywords.CONFIRM) and not (family == keywords.YES and t.opted):
        pending = _pending_confirmation(t)
        if pending is not None:
            deliveries.acknowledge(t.session, pending, t.now)
            return keywords.CONFIRM, None if t.opted else _say(t, _language(t, kw), THANKS), False
        family = None if family == keywords.CONFIRM else family
    if family == keywords.YES:  # no confirmation pending, or after STOP: YES means START
        family = keywords.OPT_IN
    if family == keywords.OPT_OUT:
        return family, _stop(t, kw), True
    if family == keywords.OPT_IN:
        return family, _start(t, kw), False
    if family == keywords.HELP:
        return family, None if t.opted else _help(t, _language(t, kw)), False
    if family == keywords.LANGUAGE:
        return family, _set_language(t, kw), False
    if family == keywords.JOIN_ZONE:
        zone = zones.find_zone(t.session, kw.value)
        # Zone and topic words never collide (notifier.topics), so trying both is safe.
        topic = topics.find_topic(t.session, kw.value) if zone is None else None
        if topic is not None:
            return keywords.JOIN_TOPIC, _start(t, kw, topic=topic), False
        if zone is None:
            return family, None if t.opted else _unknown_zone(t, kw), False
        return family, _start(t, kw, zone=zone), False
    if family == keywords.LEAVE_TOPIC:
        leave = _leave(t, kw)
        if leave is not None:
            return family, None if t.opted else leave, False
    short = kw.text and len(kw.text) <= keywords.MAX_KEYWORD_CHARS
    zone = zones.find_zone(t.session, kw.text) if short else None
    if zone is not None:
        return "zone", _start(t, kw, zone=zone), False
    return None, _received(t), False


def _stop(t: _Turn, kw: keywords.Keyword) -> Reply | None:
    subscriptions.opt_out(t.session, t.phone, "sms", "keyword", t.body, t.now, actor=t.actor)
    if t.opted:  # already stopped: their one confirmation was sent then
        return None
    return _say(t, _language(t, kw), UNSUBSCRIBED)


def _start(t: _Turn, kw: keywords.Keyword, zone=None,
           language: str | None = None, topic=None) -> Reply:
    """Subscribe (creating the subscriber if need be), lift any opt-out, record consent."""
    language = language or _language(t, kw)
    created = _ensure_subscriber(t, language)
    joined = zone is not None and not any(z.zone_code == zone.code for z in t.sub.zone_links)
    if joined:
        t.sub.zone_links.append(SubscriberZone(zone_code=zone.code))
    if topic is not None:
        joined = topic_replies.follow(t.sub, topic)
    parts = []
    if created or t.opted or (zone is None and topic is None and kw.family != keywords.LANGUAGE):
        parts.append(SUBSCRIBED)
    if zone is not None:
        parts.append((ZONE_JOINED, {"zone": zone.name or zone.code}))
    if topic is not None:
        parts.append(topic_replies.joined_part(topic, language))
    if kw.family == keywords.LANGUAGE:
        parts.append(LANGUAGE_SET)
    reply = _say(t, language, *parts, CTIA_TAIL)
    # A number that was not subscribed, or had stopped, or joins a zone, is opting in: its
    # confirmation is always sent. A repeated START is only a text, under the loop guard.
    t.confirms_opt_in = created or t.opted or joined
    shown = (f'Shown: "{reply.text}"' if t.confirms_opt_in or _may_reply(t)
             else "No reply (the reply limit)")
    subscriptions.opt_in(t.session, t.phone, "sms", "keyword",
                         f'Texted "{t.body[:160]}". {shown}', t.now, actor=t.actor)
    t.opted = False
    return reply


def _ensure_subscriber(t: _Turn, language: str) -> bool:
    """Make sure the sender is a subscriber who takes SMS; return True when just created."""
    if t.sub is None:
        data = {"phone": t.phone, "language": language, "channels": ["sms"]}
        try:
            t.sub = subscriptions.create_subscriber(t.session, data, t.now, t.settings)
            return True
        except Conflict as exc:  # created by a concurrent text from the same number
            t.sub = t.session.get(Subscriber, exc.existing_id) if exc.existing_id else \
                t.session.scalar(select(Subscriber).where(Subscriber.phone == t.phone))
    if "sms" not in (t.sub.channels or []):
        t.sub.channels = [*(t.sub.channels or []), "sms"]
        t.sub.updated_at = t.now
    return False


def _set_language(t: _Turn, kw: keywords.Keyword) -> Reply | None:
    if t.sub is None and not t.opted:  # "ESPAÑOL" from a new number: subscribe, in Spanish
        return _start(t, kw, language=kw.value)
    if t.sub is not None:
        t.sub.language, t.sub.updated_at = kw.value, t.now
    if t.opted:
        return None
    return _say(t, kw.value, LANGUAGE_SET, CTIA_TAIL)


def _help(t: _Turn, language: str) -> Reply:
    parts = [HELP_TEXT]
    if t.settings.agency_contact:
        parts.insert(0, (CONTACT, {"contact": t.settings.agency_contact}))
    listed = topic_replies.listing(t.session)
    if listed:
        parts.append((topic_replies.HELP_TOPICS, {"topics": listed}))
    return _say(t, language, *parts)


def _leave(t: _Turn, kw: keywords.Keyword) -> Reply | None:
    """LEAVE <topic>: stop following it; None when no topic exists (the text is for the Inbox)."""
    listed = topic_replies.listing(t.session)
    if listed is None:
        return None
    topic = topics.find_topic(t.session, kw.value)
    if topic is None:
        return _say(t, _language(t, kw), topic_replies.unknown_part(kw.value or "", listed))
    topic_replies.unfollow(t.sub, topic)
    if t.sub is not None:
        t.sub.updated_at = t.now
    language = _language(t, kw)
    return _say(t, language, topic_replies.left_part(topic, language))


def _unknown_zone(t: _Turn, kw: keywords.Keyword) -> Reply:
    codes = t.session.scalars(select(Zone.code).order_by(Zone.code).limit(1)).all()
    example = codes[0] if codes else "02139"
    parts = [(ZONE_UNKNOWN, {"code": (kw.value or "")[:30], "example": example})]
    if t.settings.agency_contact:
        parts.append((ZONE_LIST, {"contact": t.settings.agency_contact}))
    return _say(t, _language(t, kw), *parts)


def _received(t: _Turn) -> Reply | None:
    """The Inbox's one acknowledgement per number per hour (none after STOP)."""
    if t.opted:
        return None
    recent = t.session.scalar(select(func.count()).select_from(InboundMessage).where(
        InboundMessage.from_number == t.phone, InboundMessage.keyword.is_(None),
        InboundMessage.reply.is_not(None), InboundMessage.at > t.now - INBOX_REPLY_EVERY,
        InboundMessage.id != t.message.id))
    if recent:
        return None
    emergency = EMERGENCY_NUMBER.get(t.settings.default_region.upper(), "112")
    return _say(t, _language(t, None), (RECEIVED, {"emergency": emergency}))


def _may_reply(t: _Turn) -> bool:
    sent = t.session.scalar(select(func.count()).select_from(InboundMessage).where(
        InboundMessage.from_number == t.phone, InboundMessage.reply.is_not(None),
        InboundMessage.at > t.now - REPLY_WINDOW, InboundMessage.id != t.message.id))
    return (sent or 0) < REPLY_LIMIT


def _pending_confirmation(t: _Turn) -> int | None:
    """The latest delivery to this number of an alert asking for confirmation, if recent."""
    if t.sub is None:
        return None
    return t.session.scalar(
        select(Delivery.id).join(Alert, Alert.id == Delivery.alert_id)
        .where(Delivery.subscriber_id == t.sub.id, Delivery.address == t.phone,
               Delivery.channel.in_(("sms", "voice")), Alert.confirm.is_(True),
               Delivery.status.in_((deliveries.SENT, deliveries.DELIVERED)),
               Delivery.sent_at > t.now - CONFIRM_WINDOW)
        .order_by(Delivery.sent_at.desc(), Delivery.id.desc()).limit(1))


def _language(t: _Turn, kw: keywords.Keyword | None) -> str:
    """The subscriber's language; a localized keyword's own language if theirs is not among its."""
    current = t.sub.language if t.sub is not None else None
    if kw is not None and kw.languages:
        row = languages.get(current or "")
        # "停止" is Simplified and Traditional alike: a zh-Hant resident keeps Traditional.
        if current and (row is not None and row.tag in kw.languages
                        or current.replace("_", "-").split("-")[0].lower() in kw.languages):
            return current
        return kw.languages[0]
    return current or t.settings.default_language


def _say(t: _Turn, language: str, *parts) -> Reply:
    """The agency's name, then each part translated (a msgid, or (msgid, params))."""
    texts = []
    for part in parts:
        msgid, params = part if isinstance(part, tuple) else (part, None)
        text = gettext(language, msgid)
        if params or "%(" in msgid:
            # The reply words in the language the resident reads (each is accepted back).
            text = text % {**languages.reply_words(language), **(params or {})}
        texts.append(text)
    return Reply(f"{t.settings.agency_name}: " + " ".join(texts), language)


def _e164(raw: str | None, region: str) -> str | None:
    try:
        return to_e164(raw or "", region)
    except ValueError:
        return None
