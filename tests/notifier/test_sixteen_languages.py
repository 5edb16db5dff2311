"""Issue 13 from outside: HELP, a language's name and the Exercise prefix in each of the sixteen
languages, residents stored under older or regional tags, and Traditional never Simplified."""
from __future__ import annotations

import itertools
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from notifier import keywords, languages
from notifier.conversation import HELP_TEXT, handle_inbound
from notifier.db import session_scope
from notifier.i18n import gettext
from notifier.models import Alert, Subscriber
from notifier.render import render_sms
from tests.admin_ui.conftest import make_subscriber

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
OTHERS = [row for row in languages.LANGUAGES if row.tag != "en"]
_serial = itertools.count(1)


def _text(settings, phone: str, body: str) -> str:
    with session_scope(settings.database_url) as session:
        reply = handle_inbound(session, settings, phone, "+15005550006", body,
                               f"SM{next(_serial):032d}", NOW)
        return reply.text


def _phone(n: int) -> str:
    return f"+1617555{n:04d}"


@pytest.mark.parametrize("row", OTHERS, ids=[row.tag for row in OTHERS])
def test_help_is_answered_in_the_residents_own_language(settings, row):
    phone = _phone(100 + OTHERS.index(row))
    with session_scope(settings.database_url) as session:
        make_subscriber(session, phone=phone, language=row.tag)
    reply = _text(settings, phone, "HELP")
    own = gettext(row.tag, HELP_TEXT)
    assert own != HELP_TEXT, f"{row.tag} has no HELP text"
    assert own % languages.reply_words(row.tag) in reply
    # The language's own STOP word, and the English one carriers require beside it.
    assert f"{row.words[languages.OPT_OUT][0]} (STOP)" in reply


@pytest.mark.parametrize("row", OTHERS, ids=[row.tag for row in OTHERS])
def test_the_languages_own_name_sets_it(settings, row):
    phone = _phone(200 + OTHERS.index(row))
    with session_scope(settings.database_url) as session:
        make_subscriber(session, phone=phone, language="en")
    _text(settings, phone, row.names[0])
    with session_scope(settings.database_url) as session:
        stored = session.scalar(select(Subscriber.language).where(Subscriber.phone == phone))
    assert stored == row.tag


@pytest.mark.parametrize("row", OTHERS, ids=[row.tag for row in OTHERS])
def test_an_exercise_says_so_in_every_language(settings, row):
    alert = Alert(status="Exercise", msg_type="Alert", messages={"en": "Drill.", row.tag: "…"},
                  confirm=False)
    prefix = gettext(row.tag, "[EXERCISE]")
    assert prefix != "[EXERCISE]"
    assert render_sms(alert, row.tag, settings).startswith(prefix)


@pytest.mark.parametrize("stored, catalog", [("zh-TW", "zh-Hant"), ("zh-HK", "zh-Hant"),
                                             ("zh-Hant-TW", "zh-Hant"), ("zh", "zh-Hans"),
                                             ("zh-CN", "zh-Hans"), ("fil", "tl"),
                                             ("pt-BR", "pt"), ("es-MX", "es")])
def test_regional_and_older_tags_get_their_languages_texts(stored, catalog):
    assert gettext(stored, HELP_TEXT) == gettext(catalog, HELP_TEXT) != HELP_TEXT


def test_traditional_chinese_readers_never_get_simplified_texts(settings):
    assert gettext("zh-Hant", HELP_TEXT) != gettext("zh-Hans", HELP_TEXT)
    alert = Alert(status="Actual", msg_type="Alert", confirm=False,
                  messages={"en": "Go.", "zh-Hans": "简体。", "zh-Hant": "繁體。"})
    assert "繁體" in render_sms(alert, "zh-TW", settings)
    assert "简体" in render_sms(alert, "zh-CN", settings)


@pytest.mark.parametrize("row", OTHERS, ids=[row.tag for row in OTHERS])
def test_the_confirm_line_asks_for_the_languages_own_yes_and_that_word_confirms(settings, row):
    alert = Alert(status="Actual", msg_type="Alert", confirm=True,
                  messages={"en": "Boil water.", row.tag: "…"}, headline="Boil water")
    sms = render_sms(alert, row.tag, settings)
    yes = languages.reply_words(row.tag)["yes"]
    assert yes == row.words[languages.YES][0] and yes in sms and "YES" not in sms
    parsed = keywords.parse(yes.lower())
    assert parsed.family == keywords.YES and row.tag in parsed.languages


@pytest.mark.parametrize("row", OTHERS, ids=[row.tag for row in OTHERS])
def test_the_opt_out_reply_names_the_languages_own_start_word_beside_start(settings, row):
    phone = _phone(400 + OTHERS.index(row))
    with session_scope(settings.database_url) as session:
        make_subscriber(session, phone=phone, language=row.tag)
    reply = _text(settings, phone, row.words[languages.OPT_OUT][0])
    assert f"{row.words[languages.OPT_IN][0]} (START)" in reply
