"""The preview's languages of the residents: who gets the alert in their own language and script,
who another text instead, and whose fixed texts are in English for want of a catalog."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import event

from notifier.audience import iter_recipients, preview
from notifier.db import get_engine, session_scope
from notifier.models import OptOut, Subscriber
from tests.notifier.test_audience import add, make_alert, square

INSIDE = [(0.5, 0.5)]
AREA = {"geojson": square(0, 0, 1, 1)}
MESSAGES = {"en": "Stay indoors.", "es": "Quédese adentro.", "zh-Hans": "请留在室内。"}
# Stored language → residents reached; "es_MX" is an older spelling of es-MX, counted with it.
TOWN = {"es-MX": 2, "es_MX": 1, "zh-TW": 2, "zh-Hant": 1, "de": 4, "fil": 1, "en": 2, "sw": 1}


def fill(s, scale: int = 1) -> None:
    for language, n in TOWN.items():
        for _ in range(n * scale):
            add(s, at=INSIDE, language=language)
    add(s, at=[(5, 5)], language="de")  # outside the area
    opted = add(s, at=INSIDE, language="de")  # reached, but took the only channel back
    s.add(OptOut(address=s.get(Subscriber, opted).phone, channel="sms", source="keyword"))


def counts(db_url, settings, alert=None) -> dict:
    with session_scope(db_url, readonly=True) as s:
        return preview(s, alert or make_alert(AREA, messages=MESSAGES), settings)


def test_each_resident_language_says_what_text_its_readers_get(db_url, settings):
    with session_scope(db_url) as s:
        fill(s)
    result = counts(db_url, settings)
    assert result["resident_languages"] == [
        {"language": "de", "residents": 4, "gets": "en", "own": False, "missing": "de",
         "catalog": "de"},
        {"language": "es-MX", "residents": 3, "gets": "es", "own": True, "missing": None,
         "catalog": "es"},
        {"language": "en", "residents": 2, "gets": "en", "own": True, "missing": None,
         "catalog": "en"},
        {"language": "zh-TW", "residents": 2, "gets": "zh-Hans", "own": False,
         "missing": "zh-Hant", "catalog": "zh-Hant"},
        {"language": "fil", "residents": 1, "gets": "en", "own": False, "missing": "tl",
         "catalog": "tl"},
        {"language": "sw", "residents": 1, "gets": "en", "own": False, "missing": "sw",
         "catalog": None},
        {"language": "zh-Hant", "residents": 1, "gets": "zh-Hans", "own": False,
         "missing": "zh-Hant", "catalog": "zh-Hant"},
    ]
    assert sum(e["residents"] for e in result["resident_languages"]) == result["recipients"] == 14
    assert result["fixed_texts_in_english"] == 1
    # The old key is unchanged: residents per language of the text.
    assert result["languages"] == {"en": 8, "es": 3, "zh-Hans": 3}
    assert ("9 resident(s) read a language with no text (de: 4 get en, zh-TW: 2 get zh-Hans, "
            "fil: 1 get en, sw: 1 get en, zh-Hant: 1 get zh-Hans); they get the fallback text."
            in result["warnings"])
    assert ("1 resident(s) read a language Tocsin has no translations for (sw: 1): their "
            "replies, prefixes and email framing are in English." in result["warnings"])


def test_the_preview_and_the_fan_out_give_each_reader_the_same_text(db_url, settings):
    with session_scope(db_url) as s:
        fill(s)
    alert = make_alert(AREA, messages=MESSAGES)
    result = counts(db_url, settings, alert)
    with session_scope(db_url, readonly=True) as s:
        sent = [r for batch in iter_recipients(s, alert, settings, batch_size=3) for r in batch
                if r.skip_reason is None]
    fan_out = Counter((r.resident_language.replace("_", "-"), r.language) for r in sent)
    assert fan_out == {(e["language"], e["gets"]): e["residents"]
                       for e in result["resident_languages"]}


def test_everyone_reading_their_own_language_gives_no_language_warning(db_url, settings):
    with session_scope(db_url) as s:
        add(s, at=INSIDE, language="es-MX")
        add(s, at=INSIDE, language="en")
    result = counts(db_url, settings)
    assert all(e["own"] for e in result["resident_languages"])
    assert result["fixed_texts_in_english"] == 0
    assert not [w for w in result["warnings"] if "language" in w]


def test_the_languages_are_counted_in_sql_not_one_query_per_resident(db_url, settings):
    """Ten times the residents, the same statements: the count is one GROUP BY over the
    audience (SQLite here, PostgreSQL with TEST_DATABASE=postgresql)."""
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    engine = get_engine(db_url)
    runs = []
    for scale in (1, 9):  # then ten times as many
        with session_scope(db_url) as s:
            fill(s, scale)
        event.listen(engine, "before_cursor_execute", seen)
        try:
            result = counts(db_url, settings)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        runs.append((len(statements), result["resident_languages"]))
        statements.clear()
    (few, small), (many, large) = runs
    assert 0 < few == many
    assert [(e["language"], e["residents"] * 10) for e in small] == \
        [(e["language"], e["residents"]) for e in large]
