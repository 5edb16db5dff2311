"""GET /api/v1/addresses?q=: public, rate-limited address search (DESIGN §12)."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import partial

from admin_ui.api.addresses import SEARCHES_PER_MINUTE
from notifier.address_import import import_points, read_rows
from notifier.db import session_scope
from notifier.models import Zone

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
TOWN = ("address,lat,lon,zone\n"
        "12 Avenue Rd,42.1,-71.1,beat-1\n"
        "3 Beech Ave,42.2,-71.2,\n"
        "Avenue Plaza 1,42.3,-71.3,\n"
        "9 Main St,42.4,-71.4,beat-1\n"
        "3 Rue de l'Église,45.0,2.0,\n")


def load_town(settings, csv_text: str = TOWN) -> None:
    with session_scope(settings.database_url) as session:
        if session.get(Zone, "beat-1") is None:
            session.add(Zone(code="beat-1", name="Beat 1"))
    result = import_points(partial(session_scope, settings.database_url), read_rows(csv_text), NOW)
    assert not result["rejected"], result["rejected"]


def addresses(client, q: str) -> list[str]:
    response = client.get("/api/v1/addresses", query_string={"q": q})
    assert response.status_code == 200, response.data
    return [item["address"] for item in response.get_json()["items"]]


def test_it_answers_without_a_token_with_the_points_fields(client, settings):
    load_town(settings)
    response = client.get("/api/v1/addresses?q=9%20main")
    assert response.status_code == 200
    assert response.get_json() == {"items": [
        {"address": "9 Main St", "lat": 42.4, "lon": -71.4, "zone": "beat-1"}]}


def test_the_start_of_the_address_comes_before_the_start_of_a_word(client, settings):
    load_town(settings)
    assert addresses(client, "ave") == ["Avenue Plaza 1", "3 Beech Ave", "12 Avenue Rd"]
    assert addresses(client, "12 av") == ["12 Avenue Rd"]
    assert addresses(client, "main st") == ["9 Main St"]
    assert addresses(client, "venue") == []


def test_case_and_accents_do_not_matter(client, settings):
    load_town(settings)
    assert addresses(client, "MAIN") == ["9 Main St"]
    assert addresses(client, "eglise") == ["3 Rue de l'Église"]
    assert addresses(client, "Égl") == ["3 Rue de l'Église"]


def test_it_gives_at_most_ten_alphabetically(client, settings):
    load_town(settings, "address,lat,lon\n" + "".join(f"{n} Elm St,42,-71\n" for n in range(1, 31)))
    found = addresses(client, "elm")
    assert found == sorted(found) and len(found) == 10
    assert found[:3] == ["1 Elm St", "10 Elm St", "11 Elm St"]


def test_a_query_under_two_letters_gives_no_items_and_a_long_one_is_refused(client, settings):
    load_town(settings)
    assert addresses(client, "9") == []
    assert addresses(client, " . ") == []
    assert client.get("/api/v1/addresses").get_json() == {"items": []}
    long = client.get("/api/v1/addresses", query_string={"q": "a" * 201})
    assert long.status_code == 422
    assert long.get_json() == {"errors": {"q": ["must be at most 200 characters"]}}


def test_too_many_searches_from_one_client_are_answered_429(client, settings):
    for _ in range(SEARCHES_PER_MINUTE):
        assert client.get("/api/v1/addresses?q=").status_code == 200
    refused = client.get("/api/v1/addresses?q=main")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "too many address searches" in refused.get_json()["error"]
    other = client.get("/api/v1/addresses?q=", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200  # counted per client address
