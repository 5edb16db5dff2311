"""`public_url` on the API's alerts: PUBLIC_URL + /a/<public id>, set at creation, never changed;
the page it names opens once the alert is a sent Actual alert."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from notifier.db import session_scope
from notifier.models import Alert
from notifier.public_ids import LENGTH, looks_like
from tests.admin_ui.api.test_alerts import ALERT, URL, with_changes

PREFIX = "https://tocsin.example.org/a/"


@pytest.fixture
def headers(auth):
    return auth("dispatcher")


def test_a_new_alert_has_a_public_url_that_never_changes(client, headers, settings):
    created = client.post(URL, json=ALERT, headers=headers).get_json()
    url = created["public_url"]
    assert url.startswith(PREFIX) and looks_like(url.removeprefix(PREFIX))
    assert len(url.removeprefix(PREFIX)) == LENGTH
    # A draft's page does not exist yet.
    assert client.get(url.removeprefix("https://tocsin.example.org")).status_code == 404
    edited = client.patch(f"{URL}/{created['id']}", json={"headline": "Stay indoors"},
                          headers=headers)
    assert edited.status_code == 200 and edited.get_json()["public_url"] == url
    assert client.post(f"{URL}/{created['id']}/send", headers=headers).status_code == 202
    shown = client.get(f"{URL}/{created['id']}", headers=headers).get_json()
    assert shown["public_url"] == url
    listed = client.get(URL, headers=headers).get_json()["items"]
    assert [item["public_url"] for item in listed] == [url]
    # Sent and Actual: the page opens.
    page = client.get(url.removeprefix("https://tocsin.example.org"))
    assert page.status_code == 200 and b"Stay indoors" in page.data
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(Alert.public_id)) == url.removeprefix(PREFIX)


def test_every_alert_gets_its_own_public_id(client, headers):
    urls = {client.post(URL, json=ALERT, headers=headers).get_json()["public_url"]
            for _ in range(20)}
    assert len(urls) == 20


def test_an_exercise_has_a_public_url_but_never_a_page(client, headers):
    created = client.post(URL, json=with_changes(status="Exercise"), headers=headers).get_json()
    assert client.post(f"{URL}/{created['id']}/send", headers=headers).status_code == 202
    assert client.get(created["public_url"].removeprefix("https://tocsin.example.org")) \
        .status_code == 404


def test_the_openapi_document_describes_public_url(client):
    alert = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Alert"]
    assert alert["properties"]["public_url"]["format"] == "uri"
