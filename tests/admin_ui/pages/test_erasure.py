"""Erasure (notifier.erasure) through the API and the page: the person is in no table and no file."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from notifier import deliveries, delivery_stats
from notifier.conversation import handle_inbound
from notifier.db import session_scope
from notifier.models import Base, OptOut, SandboxMessage, Subscriber
from tests.admin_ui.conftest import NOW, make_alert, make_delivery

PHONE = "+16175550147"
NATIONAL = "6175550147"
EMAIL = "zebulon.quixote@example.net"
NAME = "Zebulon Quixote-Marchbanks"
NEEDLES = (PHONE, NATIONAL, EMAIL, NAME, "617-555-0147", "(617) 555-0147")


def _everything(settings) -> str:
    """Every row of every table, and every file under the instance folder, as one text."""
    parts = []
    with session_scope(settings.database_url) as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                parts.append(f"{table.name}: {tuple(row)!r}")
    for path in Path(settings.instance_path).rglob("*"):
        if path.is_file():
            parts.append(f"{path}: {path.read_text(encoding='utf-8', errors='replace')}")
    return "\n".join(parts)


@pytest.fixture
def person(client, auth, settings, signed_in) -> int:
    """A resident with deliveries (one refused by SMTP, quoting the address), sandbox messages,
    texts in the inbox, consents, an opt-out, and a row in an import still running."""
    headers = auth("dispatcher")
    created = client.post("/api/v1/subscribers", headers=headers, json={
        "name": NAME, "phone": "(617) 555-0147", "email": EMAIL.upper()})
    assert created.status_code == 201, created.get_json()
    sub_id = created.get_json()["id"]
    with session_scope(settings.database_url) as session:
        sub = session.get(Subscriber, sub_id)
        alert = make_alert(session, channels=["sms", "email"])
        make_delivery(session, alert, sub, provider_id="SM1")
        # An old row, stored before error texts were masked on the way in.
        make_delivery(session, alert, sub, channel="email", address=EMAIL, status="failed",
                      error_code="550", error_message=f"550 5.1.1 <{EMAIL}>: mailbox unknown")
        refused = make_delivery(session, make_alert(session), sub, status="sending")
        deliveries.mark_failed(session, [(refused.id, "21211", f"'To' number {PHONE} invalid")],
                               NOW)
        session.add(SandboxMessage(at=NOW, channel="sms", to=PHONE, body="Stay indoors.",
                                   delivery_id=None, provider_id="SB1"))
        session.add(SandboxMessage(at=NOW, channel="email", to=EMAIL, subject="Alert",
                                   body="Stay indoors.", delivery_id=None, provider_id="SB2"))
        for n, text in enumerate(["JOIN", f"this is {NAME}, my email is {EMAIL}", "STOP"]):
            handle_inbound(session, settings, PHONE, "+15005550006", text, f"SMq{n}", NOW)
    page = signed_in("dispatcher")
    csv = f"name,phone,email\n{NAME},617-555-0147,{EMAIL}\nSomeone Else,+16175550199,\n"
    started = page.post("/subscribers/import/start.json", data={
        "csrf_token": page.csrf, "file": (io.BytesIO(csv.encode()), "people.csv")},
        headers={"X-CSRFToken": page.csrf})
    assert started.status_code == 200, started.get_data(as_text=True)
    text = _everything(settings)
    assert all(needle in text for needle in (PHONE, NATIONAL, EMAIL, NAME, "617-555-0147"))
    return sub_id


def test_an_api_erasure_leaves_the_person_in_no_table_and_no_file(client, auth, settings, person):
    assert client.delete(f"/api/v1/subscribers/{person}", headers=auth("dispatcher")).status_code == 204
    text = _everything(settings)
    found = [needle for needle in NEEDLES if needle.lower() in text.lower()]
    assert found == [], [line for line in text.splitlines()
                         if any(n.lower() in line.lower() for n in found)]
    with session_scope(settings.database_url) as session:  # the counts stay, anonymous
        assert delivery_stats.stats(session, 1)["channels"]["email"]["failed"] == 1


def test_the_page_erasure_does_the_same(settings, signed_in, person):
    page = signed_in("dispatcher", "eraser")
    response = page.post(f"/subscribers/{person}/erase",
                         data={"confirm": "yes", "csrf_token": page.csrf})
    assert response.status_code == 302
    assert not [n for n in NEEDLES if n.lower() in _everything(settings).lower()]


def test_an_erased_residents_stop_holds_when_the_number_comes_back(client, auth, settings, person):
    headers = auth("dispatcher")
    client.delete(f"/api/v1/subscribers/{person}", headers=headers)
    with session_scope(settings.database_url) as session:
        ledger = session.execute(select(OptOut.address, OptOut.channel, OptOut.body)).all()
    assert [(a.startswith("erased:"), c, b) for a, c, b in ledger] == [(True, "sms", None)]
    imported = client.post("/api/v1/subscribers/import", headers={**headers,
                           "Content-Type": "text/csv"}, data="phone\n617.555.0147\n")
    assert imported.get_json()["created"] == 1
    found = client.get("/api/v1/subscribers?q=5550147", headers=headers).get_json()["items"]
    assert found[0]["opted_out"] == {"sms": True, "voice": False, "email": False}
    with session_scope(settings.database_url) as session:
        assert session.scalars(select(OptOut.address)).all() == [PHONE]


def test_a_new_record_by_api_or_by_text_gets_the_erased_opt_out_back(client, auth, settings,
                                                                     person):
    headers = auth("dispatcher")
    client.delete(f"/api/v1/subscribers/{person}", headers=headers)
    again = client.post("/api/v1/subscribers", headers=headers, json={"phone": PHONE})
    assert again.get_json()["opted_out"]["sms"] is True
