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


def test_verify_answers_ok_to_auditors_and_admins_and_403_to_dispatchers(client, auth):
    client.post("/api/v1/subscribers", json={"phone": "+16175550100"}, headers=auth("admin"))
    for role in ("auditor", "admin"):
        response = client.get("/api/v1/audit/verify", headers=auth(role))
        assert (response.status_code, response.get_json()) == (200, {"ok": True,
                                                                     "first_bad_id": None})
    assert client.get("/api/v1/audit/verify", headers=auth("dispatcher")).status_code == 403
    assert client.get("/api/v1/audit/verify").status_code == 401


def test_verify_names_an_event_rewritten_in_sql_with_the_old_chain_recomputed(
        client, auth, settings):
    from sqlalchemy import select, text

    from notifier.models import AuditEvent

    for n in range(3):
        client.post("/api/v1/subscribers", json={"phone": f"+1617555010{n}"}, headers=auth("admin"))
    with session_scope(settings.database_url) as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        target = events[1]
        session.execute(text("UPDATE audit_events SET details = :d WHERE id = :id"),
                        {"d": '{"note": "nothing happened"}', "id": target.id})
        prev = events[0].hash
        for event in events[1:]:
            details = {"note": "nothing happened"} if event.id == target.id else event.details
            digest = audit.event_hash(prev, event.at, event.actor, event.action, event.object,
                                      details)
            session.execute(text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :id"),
                            {"p": prev, "h": digest, "id": event.id})
            prev = digest
        session.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
    body = client.get("/api/v1/audit/verify", headers=auth("auditor")).get_json()
    assert body == {"ok": False, "first_bad_id": target.id}
