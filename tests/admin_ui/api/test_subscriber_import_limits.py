"""POST /api/v1/subscribers/import under abuse: capped answers, 422 for giant fields, JSON 413."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from admin_ui import MAX_CONTENT_LENGTH
from notifier.db import session_scope
from notifier.models import Subscriber

URL = "/api/v1/subscribers/import"


@pytest.fixture
def csv_headers(auth):
    return {**auth("dispatcher"), "Content-Type": "text/csv"}


def test_it_lists_at_most_a_thousand_rejected_rows_and_counts_them_all(client, csv_headers):
    body = "name,phone\n" + "".join(f"Bad {n},not-a-number\n" for n in range(2500)) \
        + "Good,+16175550100\n"
    response = client.post(URL, headers=csv_headers, data=body)
    assert response.status_code == 200
    result = response.get_json()
    assert (result["created"], result["rejected_total"], len(result["rejected"])) == (1, 2500, 1000)
    assert [r["row"] for r in result["rejected"]] == list(range(1, 1001))
    assert len(response.data) < 200_000


def test_a_json_list_is_capped_the_same_way(client, auth):
    rows = [{"phone": "nope"} for _ in range(1200)] + [{"email": "ok@example.org"}]
    result = client.post(URL, headers=auth("dispatcher"), json=rows).get_json()
    assert (result["created"], result["rejected_total"], len(result["rejected"])) == (1, 1200, 1000)


@pytest.mark.parametrize("size", [10_001, 200_000, 19 * 1024 * 1024])
def test_a_field_over_ten_thousand_characters_is_a_422_naming_row_and_field(client, csv_headers,
                                                                           settings, size):
    body = "name,phone\nAna,+16175550100\n" + "B" * size + ",+16175550101\n"
    response = client.post(URL, headers=csv_headers, data=body)
    assert response.status_code == 422
    message = response.get_json()["errors"]["csv"][0]
    assert message.startswith("Row 2: ") and "the limit is 10,000" in message
    if size < 100_000:
        assert "'name'" in message
    with session_scope(settings.database_url) as session:  # nothing half-imported
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_a_long_json_field_is_a_422_too(client, auth):
    response = client.post(URL, headers=auth("dispatcher"),
                           json=[{"phone": "+16175550100", "name": "x" * 10_001}])
    assert response.status_code == 422
    assert response.get_json()["errors"]["csv"] == [
        "Row 1: the 'name' field has 10,001 characters; the limit is 10,000. Nothing was imported."]


def test_a_row_of_thousands_of_cells_is_a_422(client, csv_headers):
    response = client.post(URL, headers=csv_headers, data="name,phone\nAna" + "," * 5000 + "\n")
    assert response.status_code == 422
    assert response.get_json()["errors"]["csv"][0].startswith("Row 1 has 5,001 cells")


def test_text_that_is_not_utf8_is_a_422(client, csv_headers):
    response = client.post(URL, headers=csv_headers, data=b"name,phone\n\xff\xfe,+16175550100\n")
    assert response.status_code == 422
    assert response.get_json()["errors"]["csv"] == ["The CSV file must be UTF-8 text."]


def test_a_body_over_the_limit_is_a_json_413(client, csv_headers):
    response = client.post(URL, headers=csv_headers, data=b"x" * (MAX_CONTENT_LENGTH + 1))
    assert response.status_code == 413
    assert response.get_json() == {"error": "the body is larger than 20 MB"}
