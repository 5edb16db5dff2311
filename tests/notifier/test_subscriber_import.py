"""notifier.subscriber_import: CSV and JSON imports where bad rows never stop good ones."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from notifier.db import session_scope
from notifier.errors import InvalidInput
from notifier.models import Location, Subscriber, SubscriberGroup, SubscriberZone
from notifier.subscriptions import import_subscribers, parse_csv, subscriber_dict

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=timezone.utc)

CSV = (
    "\ufeffName,Phone,Email,Language,Channels,Lat,Lon,Zones\r\n"
    "Ana,(617) 555-0100,ana@example.org,es_MX,sms;email,42.36,-71.06,beat-1;beat-3\r\n"
    "Bad phone,+1 200 555 0100,,en,,,,\r\n"
    "Bo,,BO@example.org,,,,,\r\n"
    "\r\n"
    "No address,,,en,,,,\r\n"
    "Bad place,617-555-0102,,xx,fax,95,,\r\n"
    "Cy,tel:+1-617-555-0103,,vi,voice,,,\r\n"
)


def run(db_url, settings, rows):
    with session_scope(db_url) as session:
        return import_subscribers(session, rows, settings, NOW)


def test_parse_csv_reads_the_documented_columns():
    rows = parse_csv(CSV)
    assert rows[0] == {"name": "Ana", "phone": "(617) 555-0100", "email": "ana@example.org",
                       "language": "es_MX", "channels": ["sms", "email"],
                       "locations": [{"label": "home", "lat": "42.36", "lon": "-71.06"}],
                       "zones": ["beat-1", "beat-3"]}
    assert rows[3] is None  # the blank line keeps the numbering of later rows
    assert len(rows) == 7


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("name,phone,shoe size\nAna,+16175550100,9\n", "shoe size"),
    ("name,language\nAna,en\n", "phone or an email"),
    ("phone,phone\n1,2\n", "twice"),
])
def test_parse_csv_refuses_a_bad_header(text, words):
    with pytest.raises(InvalidInput) as caught:
        parse_csv(text)
    assert words in " ".join(caught.value.errors["csv"])


def test_good_rows_go_in_and_bad_rows_are_reported_by_number(db_url, settings):
    result = run(db_url, settings, parse_csv(CSV))
    assert result["created"] == 3 and result["updated"] == 0
    rejected = {r["row"]: r["errors"] for r in result["rejected"]}
    assert sorted(rejected) == [2, 5, 6]
    assert "phone" in rejected[2]
    assert "phone" in rejected[5]
    assert {"language", "channels", "locations"} <= set(rejected[6])
    with session_scope(db_url) as session:
        ana = session.scalar(select(Subscriber).where(Subscriber.phone == "+16175550100"))
        shape = subscriber_dict(session, ana)
        assert shape["language"] == "es-MX" and shape["channels"] == ["sms", "email"]
        assert shape["locations"] == [{"label": "home", "lat": 42.36, "lon": -71.06}]
        assert shape["zones"] == ["beat-1", "beat-3"]
        bo = session.scalar(select(Subscriber).where(Subscriber.email == "bo@example.org"))
        assert bo.language == "en" and bo.channels == ["email"]
        cy = session.scalar(select(Subscriber).where(Subscriber.phone == "+16175550103"))
        assert cy.channels == ["voice"]


def test_a_known_phone_or_email_updates_that_subscriber(db_url, settings):
    run(db_url, settings, [{"name": "Ana", "phone": "+16175550100", "language": "es",
                            "zones": ["a"], "groups": ["test"], "locations": [{"lat": 1, "lon": 1}]},
                           {"name": "Bo", "email": "bo@example.org"}])
    result = run(db_url, settings, [
        {"phone": "617 555 0100", "email": "ana@example.org", "zones": ["b"]},  # adds an email
        {"email": "BO@example.org", "name": "Bo B.", "language": "fr"},
        {"phone": "+16175550100", "email": "bo@example.org"},  # two different people
    ])
    assert result["created"] == 0 and result["updated"] == 2
    assert [r["row"] for r in result["rejected"]] == [3]
    with session_scope(db_url) as session:
        ana = session.scalar(select(Subscriber).where(Subscriber.phone == "+16175550100"))
        assert ana.email == "ana@example.org" and ana.name == "Ana" and ana.language == "es"
        assert ana.channels == ["sms", "voice", "email"]
        assert [z.zone_code for z in ana.zone_links] == ["b"]
        assert [g.name for g in ana.group_links] == ["test"]  # not in the row: left alone
        assert [(loc.lat, loc.lon) for loc in ana.locations] == [(1, 1)]
        bo = session.scalar(select(Subscriber).where(Subscriber.email == "bo@example.org"))
        assert (bo.name, bo.language) == ("Bo B.", "fr")
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 2


def test_duplicates_within_the_file_become_one_subscriber(db_url, settings):
    result = run(db_url, settings, [
        {"name": "First", "phone": "+16175550100", "zones": ["a"]},
        {"name": "Second", "phone": "(617) 555-0100", "email": "x@example.org"},
        {"name": "Third", "email": "X@example.org", "locations": [{"lat": 2, "lon": 3}]},
    ])
    assert (result["created"], result["updated"], result["rejected"]) == (1, 2, [])
    with session_scope(db_url) as session:
        (sub,) = session.scalars(select(Subscriber)).all()
        assert (sub.name, sub.phone, sub.email) == ("Third", "+16175550100", "x@example.org")
        assert [z.zone_code for z in sub.zone_links] == ["a"]
        assert [(loc.lat, loc.lon) for loc in sub.locations] == [(2, 3)]


def test_json_rows_with_unknown_fields_or_wrong_types_are_rejected(db_url, settings):
    result = run(db_url, settings, [{"phone": "+16175550100", "shoe": 9}, "Ana", None,
                                    {"email": "ok@example.org", "channels": ["sms"]},
                                    {"email": "fine@example.org"}])
    assert result["created"] == 1
    assert [r["row"] for r in result["rejected"]] == [1, 2, 4]
    assert result["rejected"][2]["errors"] == {"channels": ["sms needs a phone number."]}


def test_extra_cells_reject_the_row(db_url, settings):
    rows = parse_csv("phone,name\n+16175550100,Ana,surprise\n+16175550101,Bo\n")
    result = run(db_url, settings, rows)
    assert result["created"] == 1 and result["rejected"][0]["row"] == 1


def test_a_large_import_uses_chunked_lookups(db_url, settings):
    rows = [{"phone": f"+1617200{i:04d}", "zones": ["z"], "groups": ["g"],
             "locations": [{"lat": 42, "lon": -71}]} for i in range(1200)]
    assert run(db_url, settings, rows)["created"] == 1200
    again = run(db_url, settings, rows)
    assert (again["created"], again["updated"]) == (0, 1200)
    with session_scope(db_url) as session:
        for model in (Subscriber, Location, SubscriberZone, SubscriberGroup):
            assert session.scalar(select(func.count()).select_from(model)) == 1200
