"""GET /api/v1/audit: every API write as a hash-chained event, paged and filterable."""
from __future__ import annotations

from notifier import audit
from notifier.db import session_scope


def test_it_lists_events_newest_first_with_their_hashes(client, auth, settings):
    headers = auth("dispatcher")
    created = client.post("/api/v1/subscribers", json={"phone": "+16175550100"}, headers=headers)
    sub_id = created.get_json()["id"]
    client.patch(f"/api/v1/subscribers/{sub_id}", json={"name": "Ana"}, headers=headers)
    body = client.get("/api/v1/audit", headers=auth("auditor")).get_json()
    assert body["total"] == 2
    latest, first = body["items"]
    assert (latest["action"], first["action"]) == ("subscriber.update", "subscriber.create")
    assert latest["actor"] == "token:dispatcher-client"
    assert latest["object"] == f"subscriber:{sub_id}"
    assert len(latest["hash"]) == 64 and latest["hash"] != first["hash"]
    with session_scope(settings.database_url, readonly=True) as session:
        assert audit.verify_chain(session) == (True, None)


def test_it_filters_by_action_and_pages(client, auth):
    headers = auth("admin")
    for n in range(3):
        client.post("/api/v1/subscribers", json={"phone": f"+1617555010{n}"}, headers=headers)
    client.post("/api/v1/subscribers", json={"phone": "+16175550100"}, headers=headers)  # 409
    body = client.get("/api/v1/audit?action=subscriber.create&per_page=2&page=2",
                      headers=headers).get_json()
    assert (body["total"], body["page"], len(body["items"])) == (3, 2, 1)
    assert client.get("/api/v1/audit?action=nothing", headers=headers).get_json()["total"] == 0


def test_reads_are_not_audited(client, auth):
    headers = auth("admin")
    client.get("/api/v1/alerts", headers=headers)
    client.get("/api/v1/subscribers", headers=headers)
    assert client.get("/api/v1/audit", headers=headers).get_json()["total"] == 0
