"""notifier.conversation: one text in, the ledger, consent, zones and language updated, one reply out."""
from __future__ import annotations

import dataclasses
import itertools
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from notifier.conversation import MAX_BODY, REPLY_LIMIT, handle_inbound
from notifier.db import session_scope
from notifier.models import (AuditEvent, Consent, Delivery, InboundMessage, OptOut, Subscriber,
                             SubscriberZone, Zone)
from tests.admin_ui.conftest import make_alert, make_delivery, make_subscriber

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
PHONE = "+16175550100"
CTIA = ("Msg frequency varies.", "Msg & data rates may apply.", "Reply HELP for help, STOP to opt out.")


@pytest.fixture
def text(settings):
    """text(body, at=NOW, frm=PHONE, sid=None, settings=None) → the reply text or None."""
    serial = itertools.count(1)

    def send(body, at=NOW, frm=PHONE, sid=None, with_settings=None):
        chosen = with_settings or settings
        with session_scope(chosen.database_url) as session:
            reply = handle_inbound(session, chosen, frm, "+15005550006", body,
                                   sid or f"SM{next(serial):032d}", at)
            return None if reply is None else reply.text
    return send


def rows(settings, model, *where):
    with session_scope(settings.database_url) as session:
        found = session.scalars(select(model).where(*where)).all()
        session.expunge_all()
        return found


def subscriber(settings) -> Subscriber | None:
    with session_scope(settings.database_url) as session:
        sub = session.scalar(select(Subscriber).where(Subscriber.phone == PHONE))
        if sub is not None:
            _ = sub.zone_links
            session.expunge_all()
        return sub


def test_start_from_an_unknown_number_subscribes_it_with_a_ctia_reply_and_a_consent(text, settings):
    reply = text("START")
    assert reply.startswith("Tocsin demo: You are subscribed to emergency alerts.")
    assert all(part in reply for part in CTIA)
    sub = subscriber(settings)
    assert (sub.phone, sub.channels, sub.language) == (PHONE, ["sms"], "en")
    [consent] = rows(settings, Consent)
    assert (consent.address, consent.channel, consent.source) == (PHONE, "sms", "keyword")
    assert 'Texted "START"' in consent.wording and reply in consent.wording
    [event] = rows(settings, AuditEvent, AuditEvent.action == "subscriber.opt_in")
    assert event.actor == "sms:+1617*****00"
    assert event.object == f"subscriber:{sub.id}"


def test_stop_opts_out_with_one_confirmation_and_nothing_more_until_start(text, settings):
    text("JOIN")
    reply = text("stop.")
    assert "You are unsubscribed and will receive no more messages" in reply
    [ledger] = rows(settings, OptOut)
    assert (ledger.address, ledger.channel, ledger.source, ledger.body) == (PHONE, "sms", "keyword", "stop.")
    # Whatever they send next, nothing is texted back: not HELP, not the Inbox notice.
    for body in ("STOP", "HELP", "Is the bridge open?", "ESPAÑOL", "JOIN nowhere", "1"):
        assert text(body) is None, body
    assert subscriber(settings).language == "es"  # the language change is kept, silently
    assert rows(settings, OptOut) != []
    reply = text("START")
    assert reply.startswith("Tocsin demo: Está suscrito")  # in the language they chose
    assert rows(settings, OptOut) == []
    actions = [e.action for e in rows(settings, AuditEvent)]
    assert actions == ["subscriber.opt_in", "subscriber.opt_out", "subscriber.opt_out",
                       "subscriber.opt_in"]


def test_stop_from_a_number_never_seen_still_enters_the_ledger(text, settings):
    assert "unsubscribed" in text("UNSUBSCRIBE")
    assert [o.address for o in rows(settings, OptOut)] == [PHONE]
    assert subscriber(settings) is None


@pytest.mark.parametrize("body, expected", [
    ("PARAR", "Se canceló su suscripción"), ("ARRÊT", "Vous êtes désabonné"),
    ("停止", "您已退订"), ("AYUDA", "Alertas de emergencia."), ("Aide", "Alertes d'urgence."),
    ("ALTA", "Está suscrito"), ("Sí", "Está suscrito"),
])
def test_a_localized_keyword_from_a_new_number_is_answered_in_its_language(text, body, expected):
    assert expected in text(body)


def test_a_subscriber_gets_their_own_language_when_the_word_is_theirs_too(text, settings):
    with session_scope(settings.database_url) as session:
        make_subscriber(session, language="pt-BR")
    assert "Sua inscrição foi cancelada" in text("PARAR")  # PARAR is Spanish and Portuguese


@pytest.mark.parametrize("body, tag, expected", [
    ("ESPAÑOL", "es", "en español"), ("ESPANOL", "es", "en español"), ("ENGLISH", "en", "in English"),
    ("中文", "zh-Hans", "中文警报"), ("TIẾNG VIỆT", "vi", "tiếng Việt"), ("FRANÇAIS", "fr", "en français"),
    ("KREYÒL", "ht", "an kreyòl"), ("PORTUGUÊS", "pt", "em português"), ("한국어", "ko", "한국어로"),
    ("РУССКИЙ", "ru", "на русском языке"), ("العربية", "ar", "باللغة العربية"),
    ("TAGALOG", "tl", "sa Tagalog"),
])
def test_a_language_name_sets_the_language_and_the_reply_comes_in_it(text, settings, body, tag,
                                                                     expected):
    with session_scope(settings.database_url) as session:
        make_subscriber(session, language="en" if tag != "en" else "es")
    reply = text(body)
    assert expected in reply
    assert subscriber(settings).language == tag


def test_a_language_name_from_a_new_number_subscribes_it_in_that_language(text, settings):
    reply = text("español")
    # The opt-out word is shown in Spanish, and that word opts out at once.
    assert "Está suscrito" in reply and "en español" in reply and "PARAR (STOP) para cancelar" in reply
    assert subscriber(settings).language == "es"
    assert len(rows(settings, Consent)) == 1
    reply = text("Parar")
    assert rows(settings, OptOut) != [] and "Responda ALTA (START) para suscribirse" in reply


@pytest.fixture
def zones(settings):
    with session_scope(settings.database_url) as session:
        session.add(Zone(code="beat-3", name="Beat 3", keywords=["BEAT3", "02139"]))
        session.add(Zone(code="harbor", name="Harbor", keywords=["PUERTO"]))


@pytest.mark.parametrize("body, code", [
    ("JOIN beat-3", "beat-3"), ("join BEAT-3", "beat-3"), ("JOIN 02139", "beat-3"),
    ("JOIN 02139-4307", "beat-3"), ("beat3", "beat-3"), ("Beat3!", "beat-3"), ("02139", "beat-3"),
    ("puerto", "harbor"), ("ALTA harbor", "harbor"),
])
def test_join_with_a_zone_code_zip_or_keyword_follows_that_zone(text, settings, zones, body, code):
    reply = text(body)
    assert "You will receive alerts for" in reply or "Recibirá alertas para" in reply
    assert "STOP" in reply
    assert [z.zone_code for z in subscriber(settings).zone_links] == [code]
    assert len(rows(settings, Consent)) == 1


def test_an_unknown_zone_is_explained_and_changes_nothing(text, settings, zones):
    with_contact = dataclasses.replace(settings, agency_contact="311 or tocsin.example.org")
    reply = text("JOIN atlantis", with_settings=with_contact)
    assert 'We could not find the area "atlantis"' in reply
    assert "JOIN beat-3" in reply and "contact 311 or tocsin.example.org" in reply
    assert subscriber(settings) is None and rows(settings, SubscriberZone) == []


def test_help_names_the_agency_its_contact_frequency_and_how_to_stop(text, settings):
    agency = dataclasses.replace(settings, agency_name="Springfield OEM", agency_contact="311")
    reply = text("  Help! ", with_settings=agency)
    assert reply.startswith("Springfield OEM: Contact: 311.")
    assert "Msg frequency varies" in reply and "STOP to opt out" in reply
    assert subscriber(settings) is None  # asking for help subscribes nobody


@pytest.fixture
def confirm_delivery(settings):
    """A subscriber sent, an hour before NOW, an SMS of an alert asking for confirmation."""
    with session_scope(settings.database_url) as session:
        sub = make_subscriber(session)
        alert = make_alert(session, confirm=True)
        make_alert(session, confirm=False)
        return make_delivery(session, alert, sub, sent_at=NOW - timedelta(hours=1)).id


@pytest.mark.parametrize("body, expected", [
    ("YES", "Thank you, your confirmation was received."), ("yes.", "your confirmation"),
    ("1", "your confirmation"), ("Sí", "Gracias, recibimos su confirmación."),
])
def test_yes_or_1_after_a_confirm_alert_acknowledges_it_and_is_no_opt_in(
        text, settings, confirm_delivery, body, expected):
    assert expected in text(body)
    [row] = rows(settings, Delivery, Delivery.id == confirm_delivery)
    assert row.acknowledged_at is not None
    assert rows(settings, Consent) == []
    assert rows(settings, InboundMessage)[0].keyword == "confirm"


def test_yes_after_the_confirmation_window_is_an_opt_in_and_1_goes_to_the_inbox(
        text, settings, confirm_delivery):
    later = NOW + timedelta(hours=24)
    assert "You are subscribed" in text("YES", at=later)
    assert "We received your message. For emergencies call 911." in text("1", at=later)
    [row] = rows(settings, Delivery, Delivery.id == confirm_delivery)
    assert row.acknowledged_at is None


def test_other_texts_go_to_the_inbox_with_one_notice_per_hour(text, settings):
    assert text("Is the water safe to drink?").endswith("For emergencies call 911.")
    assert text("Hello?", at=NOW + timedelta(minutes=30)) is None
    assert text("Anyone?", at=NOW + timedelta(minutes=61)) is not None
    inbox = rows(settings, InboundMessage)
    assert [m.keyword for m in inbox] == [None, None, None]
    assert [m.reply is not None for m in inbox] == [True, False, True]


def test_replies_to_one_number_are_rate_limited_but_stop_is_always_confirmed(text, settings):
    replies = [text("HELP", at=NOW + timedelta(seconds=n)) for n in range(REPLY_LIMIT + 3)]
    assert [r is not None for r in replies] == [True] * REPLY_LIMIT + [False] * 3
    assert text("STOP", at=NOW + timedelta(seconds=30)) is not None
    assert text("START", at=NOW + timedelta(minutes=11)) is not None
    assert rows(settings, OptOut) == []  # the limit holds replies back, never the action


def test_a_new_residents_start_confirmation_is_sent_though_the_reply_limit_is_spent(
        text, settings):
    # An unknown number's texts fill its reply limit (the inbox notice, then HELPs)...
    spent = [text("HELP", at=NOW + timedelta(seconds=n)) for n in range(REPLY_LIMIT)]
    assert all(r is not None for r in spent)
    assert text("HELP", at=NOW + timedelta(seconds=20)) is None

    # ...and START still gets its CTIA confirmation, and the consent keeps what was sent.
    reply = text("START", at=NOW + timedelta(seconds=30))
    assert reply is not None and all(part in reply for part in CTIA)
    [consent] = rows(settings, Consent)
    assert reply in consent.wording


def test_a_repeated_start_stays_under_the_loop_guard_and_its_consent_says_so(text, settings):
    assert text("START") is not None  # the opt-in: confirmed
    later = [text("START", at=NOW + timedelta(seconds=n)) for n in range(1, REPLY_LIMIT + 2)]
    # Already subscribed: each START is only a text, so an auto-responder cannot loop.
    assert [r is not None for r in later] == [True] * (REPLY_LIMIT - 1) + [False] * 2
    wordings = [c.wording for c in rows(settings, Consent)]
    assert wordings[-1].endswith("No reply (the reply limit)")
    assert all("Shown:" in w for w in wordings[:REPLY_LIMIT])


def test_a_replayed_message_sid_changes_nothing_and_gets_no_reply(text, settings):
    assert text("START", sid="SMdup") is not None
    assert text("STOP", sid="SMdup") is None
    assert rows(settings, OptOut) == []
    assert len(rows(settings, InboundMessage)) == 1


def test_long_bodies_and_control_characters_are_stored_safely(text, settings):
    assert text("Water\x00 everywhere\x07 " + "x" * 5000 + "\ud800") is not None
    [message] = rows(settings, InboundMessage)
    assert len(message.body) == MAX_BODY
    assert message.body.startswith("Water everywhere x")
    assert "unsubscribed" in text("\x00STOP\x1b", at=NOW + timedelta(minutes=1))


def test_a_sender_that_is_no_phone_number_is_recorded_for_the_inbox_only(text, settings):
    assert text("START", frm="TWILIO") is None
    [message] = rows(settings, InboundMessage)
    assert (message.from_number, message.keyword) == ("TWILIO", None)
    assert rows(settings, Subscriber) == []
