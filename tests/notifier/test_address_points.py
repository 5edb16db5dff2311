"""Address points: normalized keys, batched upserts, prefix and word-prefix search."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import partial

from sqlalchemy import func, select

from notifier import address_points
from notifier.address_import import import_points, read_rows
from notifier.address_models import AddressPoint, AddressToken
from notifier.db import session_scope
from notifier.models import Zone

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def load(db_url: str, csv_text: str) -> dict:
    return import_points(partial(session_scope, db_url), read_rows(csv_text), NOW)


def found(db_url: str, q: str, limit: int = 10) -> list[str]:
    with session_scope(db_url, readonly=True) as session:
        return [p.address for p in address_points.search(session, q, limit=limit)]


def test_the_key_ignores_case_accents_punctuation_and_apostrophes():
    assert address_points.normalize("12  Avenue Réaumur-Sébastopol") == "12 avenue reaumur sebastopol"
    assert address_points.normalize("O'Brien St.") == "obrien st"
    assert address_points.normalize("ＭＡＩＮ Straße") == "main strasse"
    assert address_points.normalize(" ,.- ") == ""


def test_word_tokens_run_from_each_later_word_to_the_end():
    assert address_points.word_tokens("12 Main St") == ["main st", "st"]
    assert address_points.word_tokens("Main") == []
    assert address_points.word_tokens("3 Rue de l'Église") == [
        "rue de leglise", "de leglise", "leglise", "rue de l eglise", "de l eglise", "l eglise",
        "eglise"]


def test_search_finds_the_start_of_the_address_before_the_start_of_a_word(db_url):
    load(db_url, "address,lat,lon\n"
                 "12 Avenue Rd,42.1,-71.1\n"
                 "3 Beech Ave,42.2,-71.2\n"
                 "Avenue Plaza 1,42.3,-71.3\n"
                 "9 Main St,42.4,-71.4\n")
    assert found(db_url, "ave") == ["Avenue Plaza 1", "3 Beech Ave", "12 Avenue Rd"]
    assert found(db_url, "main st") == ["9 Main St"]
    assert found(db_url, "9 ma") == ["9 Main St"]
    assert found(db_url, "ain") == []  # the middle of a word is not a match


def test_search_ignores_case_and_accents_both_ways(db_url):
    load(db_url, "address,lat,lon\n3 Rue de l'Église,45.0,2.0\n14 MAIN ST,42.0,-71.0\n")
    assert found(db_url, "eglise") == ["3 Rue de l'Église"]
    assert found(db_url, "ÉGL") == ["3 Rue de l'Église"]
    assert found(db_url, "l'egl") == ["3 Rue de l'Église"]
    assert found(db_url, "main st") == ["14 MAIN ST"]


def test_search_gives_at_most_the_limit_and_each_address_once(db_url):
    rows = "".join(f"{n} Main Main St,42.0,-71.0\n" for n in range(1, 26))
    load(db_url, "address,lat,lon\n" + rows + "Main Road,42,-71\n")
    first = found(db_url, "main")
    assert len(first) == 10 and len(set(first)) == 10
    assert first[0] == "Main Road"  # the whole address starts with it
    assert first[1:4] == ["1 Main Main St", "10 Main Main St", "11 Main Main St"]
    assert len(found(db_url, "main", limit=30)) == 26


def test_a_re_import_updates_the_same_address_instead_of_adding_one(db_url):
    with session_scope(db_url) as session:
        session.add(Zone(code="beat-1", name="Beat 1"))
    first = load(db_url, "address,lat,lon,zone\n12 Main St,42.1,-71.1,\n")
    again = load(db_url, "address,lat,lon,zone\n12 MAIN ST.,42.5,-71.5,beat-1\n")
    assert (first["created"], again["created"], again["updated"]) == (1, 0, 1)
    with session_scope(db_url, readonly=True) as session:
        (point,) = session.scalars(select(AddressPoint)).all()
        assert (point.address, point.lat, point.lon, point.zone_code) == (
            "12 MAIN ST.", 42.5, -71.5, "beat-1")
        assert session.scalar(select(func.count()).select_from(AddressToken)) == 2
    load(db_url, "address,lat,lon\nO'Brien Rd,42,-71\n")
    load(db_url, "address,lat,lon\nOBrien Rd,42,-71\n")  # same key, no apostrophe now
    assert found(db_url, "brien") == []
    assert found(db_url, "rd") == ["OBrien Rd"]


def test_bad_rows_are_refused_with_their_number_and_a_plain_reason(db_url):
    result = load(db_url, "address,lat,lon,zone\n"
                          "1 Good Rd,42,-71,\n"
                          ",42,-71,\n"
                          "2 Far Rd,95,-71,\n"
                          "3 Nan Rd,north,-71,\n"
                          "4 West Rd,42,,\n"
                          "5 Zone Rd,42,-71,beat-404\n"
                          "6 Comma Rd, Apt 2,42,-71,beat-1\n"
                          "--,42,-71,\n")
    assert result["imported"] == 1
    assert [(n, reason.split(" ")[0] + " " + reason.split(" ")[1]) for n, reason in result["rejected"]] == [
        (2, "missing address"), (3, "bad latitude"), (4, "bad latitude"), (5, "missing longitude"),
        (6, "unknown zone"), (7, "5 cells"), (8, "address has")]


def test_a_file_without_the_zone_column_imports_without_zones(db_url):
    result = load(db_url, "lat,lon,address,id\n42,-71,1 Good Rd,77\n")
    assert result["imported"] == 1
    with session_scope(db_url, readonly=True) as session:
        assert session.scalar(select(AddressPoint.zone_code)) is None


def test_resolve_takes_the_exact_address_or_the_only_match_and_lists_others(db_url):
    load(db_url, "address,lat,lon\n1 Main St,42,-71\n1 Main Street,42,-71\n2 Oak Ave,42,-71\n")
    with session_scope(db_url, readonly=True) as session:
        point, others = address_points.resolve(session, "1 main st")
        assert point.address == "1 Main St" and others == []
        point, others = address_points.resolve(session, "2 oak")
        assert point.address == "2 Oak Ave"
        point, others = address_points.resolve(session, "1 main s")
        assert point is None and [p.address for p in others] == ["1 Main St", "1 Main Street"]
        assert address_points.resolve(session, "99 Nowhere") == (None, [])
