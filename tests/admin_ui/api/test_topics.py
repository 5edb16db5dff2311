"""/api/v1/topics: PUT 201/200, names per language, keywords that collide are 422s naming the
word, reading, deleting, admin-only changes, the audit trail; subscribers and alerts take topics."""
from __future__ import annotations

from sqlalchemy import select

from notifier.db import session_scope
from notifier.models import AuditEvent
from tests.admin_ui.api.test_alerts import ALERT
from tests.admin_ui.api.test_subscribers import ANA
from tests.admin_ui.api.test_zones import BEAT

URL = "/api/v1/topics"
TRAFFIC = {"name": {"en": "Road closures", "es": "Cierres de calles"}, "keywords": ["traffic"]}


def audit(settings) -> list[tuple[str, str, dict]]:
    with session_scope(settings.database_url, readonly=True) as session:
        return [(e.action, e.object, e.details) for e in
                session.scalars(select(AuditEvent).where(AuditEvent.action.like("topic.%"))
                                .order_by(AuditEvent.id))]


def test_put_creates_with_201_then_replaces_with_200_and_both_are_audited(client, auth, settings):
    admin = auth("admin")
    first = client.put(f"{URL}/traffic", json=TRAFFIC, headers=admin)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert (body["code"], body["name"], body["keywords"], body["followers"]) == (
        "traffic", {"en": "Road closures", "es": "Cierres de calles"}, ["TRAFFIC"], 0)
    second = client.put(f"{URL}/traffic", json={**TRAFFIC, "keywords": ["roads"]}, headers=admin)
    assert (second.status_code, second.get_json()["keywords"]) == (200, ["ROADS"])
    assert audit(settings) == [
        ("topic.create", "topic:traffic", {"name": TRAFFIC["name"], "keywords": ["TRAFFIC"]}),
        ("topic.replace", "topic:traffic", {"name": TRAFFIC["name"], "keywords": ["ROADS"]})]


def test_topics_are_listed_read_one_by_one_and_deleted_with_an_audit_of_their_followers(
        client, auth, settings):
    admin = auth("admin")
    client.put(f"{URL}/traffic", json=TRAFFIC, headers=admin)
    client.put(f"{URL}/meetings", json={"name": {"en": "Community meetings"}}, headers=admin)
    ana = client.post("/api/v1/subscribers", json={**ANA, "topics": ["traffic"]}, headers=admin)
    assert ana.status_code == 201, ana.get_json()
    listed = client.get(URL, headers=auth("dispatcher")).get_json()["items"]
    assert [(t["code"], t["followers"]) for t in listed] == [("meetings", 0), ("traffic", 1)]
    assert client.get(f"{URL}/traffic", headers=auth("auditor")).get_json()["name"]["es"] == \
        "Cierres de calles"
    assert client.delete(f"{URL}/traffic", headers=admin).status_code == 204
    assert client.get(f"{URL}/traffic", headers=admin).status_code == 404
    assert client.delete(f"{URL}/traffic", headers=admin).status_code == 404
    assert audit(settings)[-1] == ("topic.delete", "topic:traffic", {"followers": 1})
    sub_id = ana.get_json()["id"]
    assert client.get(f"/api/v1/subscribers/{sub_id}", headers=admin).get_json()["topics"] == []


def test_only_an_admin_may_change_topics_while_dispatchers_and_auditors_read_them(client, auth):
    assert client.put(f"{URL}/traffic", json=TRAFFIC, headers=auth("admin")).status_code == 201
    for role in ("dispatcher", "auditor"):
        assert client.put(f"{URL}/traffic", json=TRAFFIC, headers=auth(role)).status_code == 403
        assert client.delete(f"{URL}/traffic", headers=auth(role)).status_code == 403
        assert client.get(URL, headers=auth(role)).status_code == 200
    assert client.get(URL).status_code == 401


def test_a_bad_code_name_or_language_is_a_422_naming_the_field(client, auth):
    admin = auth("admin")
    bad_code = client.put(f"{URL}/-x", json=TRAFFIC, headers=admin)
    assert bad_code.status_code == 422 and "code" in bad_code.get_json()["errors"]
    no_name = client.put(f"{URL}/x", json={"keywords": []}, headers=admin).get_json()["errors"]
    assert no_name == {"name": ["is required: {language tag: name}, at least one language"]}
    bad_language = client.put(f"{URL}/x", json={"name": {"xx-ZZ": "X", "en": " "}},
                              headers=admin).get_json()["errors"]["name"]
    assert "not a language we know" in bad_language["xx-ZZ"][0]
    assert bad_language["en"] == ["The name (en) must be text of 1-200 characters."]
    extra = client.put(f"{URL}/x", json={**TRAFFIC, "colour": "red"}, headers=admin)
    assert extra.get_json()["errors"]["_schema"] == ["unknown field(s): colour"]


def test_a_keyword_of_a_zone_another_topic_or_a_command_is_refused_by_name(client, auth):
    admin = auth("admin")
    assert client.put("/api/v1/zones/beat-3", json=BEAT, headers=admin).status_code == 201
    assert client.put(f"{URL}/traffic", json=TRAFFIC, headers=admin).status_code == 201
    response = client.put(f"{URL}/roads", headers=admin, json={
        "name": {"en": "Roads"}, "keywords": ["beat3", "Traffic", "stop", "leave", "español", "ok"]})
    assert response.status_code == 422
    assert response.get_json()["errors"]["keywords"] == [
        "BEAT3 is already the keyword of zone 'beat-3'",
        "TRAFFIC is already the keyword of topic 'traffic'",
        "STOP is already an SMS command word", "LEAVE is already an SMS command word",
        "ESPAÑOL is already an SMS command word"]
    # A zone may not take a topic's word either: JOIN TRAFFIC must mean one thing.
    zone = client.put("/api/v1/zones/beat-4", json={**BEAT, "keywords": ["traffic"]}, headers=admin)
    assert zone.get_json()["errors"]["keywords"] == [
        "TRAFFIC is already the keyword of topic 'traffic'"]
    # Nor may a code shadow a word: JOIN <code> works for both.
    zone = client.put("/api/v1/zones/traffic", json={**BEAT, "keywords": []}, headers=admin)
    assert zone.get_json()["errors"] == {
        "code": ["traffic is already the code or keyword of topic 'traffic'"]}
    topic = client.put(f"{URL}/beat3", json={"name": {"en": "Beat"}}, headers=admin)
    assert topic.get_json()["errors"] == {
        "code": ["beat3 is already the code or keyword of zone 'beat-3'"]}


def test_subscribers_take_topics_on_post_and_patch_and_an_unknown_one_is_named(client, auth):
    admin = auth("admin")
    client.put(f"{URL}/traffic", json=TRAFFIC, headers=admin)
    unknown = client.post("/api/v1/subscribers", json={**ANA, "topics": ["traffic", "bingo"]},
                          headers=admin)
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"] == {"topics": ["There is no topic 'bingo'."]}
    created = client.post("/api/v1/subscribers", json=ANA, headers=admin).get_json()
    assert created["topics"] == []
    url = f"/api/v1/subscribers/{created['id']}"
    patched = client.patch(url, json={"topics": ["traffic"]}, headers=admin)
    assert patched.status_code == 200 and patched.get_json()["topics"] == ["traffic"]
    assert client.patch(url, json={"topics": ["nope"]}, headers=admin).status_code == 422
    assert client.get(url, headers=admin).get_json()["topics"] == ["traffic"]
    assert client.patch(url, json={"topics": None}, headers=admin).get_json()["topics"] == []


def test_an_alert_takes_a_known_topic_shows_it_and_refuses_an_unknown_one(client, auth):
    admin = auth("admin")
    client.put(f"{URL}/traffic", json=TRAFFIC, headers=admin)
    unknown = client.post("/api/v1/alerts", json={**ALERT, "topic": "bingo"}, headers=admin)
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"] == {"topic": ["There is no topic 'bingo'."]}
    created = client.post("/api/v1/alerts", json={**ALERT, "topic": "traffic"}, headers=admin)
    assert created.status_code == 201, created.get_json()
    alert_id = created.get_json()["id"]
    assert client.get(f"/api/v1/alerts/{alert_id}", headers=admin).get_json()["topic"] == "traffic"
    edited = client.patch(f"/api/v1/alerts/{alert_id}", json={"topic": None}, headers=admin)
    assert edited.status_code == 200 and edited.get_json()["topic"] is None
    plain = client.post("/api/v1/alerts", json=ALERT, headers=admin).get_json()
    assert plain["topic"] is None


def test_a_draft_whose_topic_was_deleted_is_not_sent_to_nobody(client, auth):
    admin = auth("admin")
    client.put(f"{URL}/traffic", json=TRAFFIC, headers=admin)
    draft = client.post("/api/v1/alerts", json={**ALERT, "topic": "traffic"}, headers=admin).get_json()
    assert client.delete(f"{URL}/traffic", headers=admin).status_code == 204
    refused = client.post(f"/api/v1/alerts/{draft['id']}/send", headers=admin)
    assert refused.status_code == 422
    assert "was deleted after this draft was written" in refused.get_json()["errors"]["topic"][0]
    assert client.get(f"/api/v1/alerts/{draft['id']}", headers=admin).get_json()["state"] == "draft"


def test_topic_answers_and_a_preview_with_a_topic_match_the_openapi_document(client, auth):
    from tests.admin_ui.api.test_openapi import check_answer

    admin = auth("admin")
    document = client.get("/api/v1/openapi.json").get_json()
    check_answer(document, "/api/v1/topics/{code}", "PUT",
                 client.put(f"{URL}/traffic", json=TRAFFIC, headers=admin))
    check_answer(document, "/api/v1/topics/{code}", "PUT",
                 client.put(f"{URL}/traffic", json=TRAFFIC, headers=admin))
    check_answer(document, "/api/v1/topics", "GET", client.get(URL, headers=admin))
    check_answer(document, "/api/v1/topics/{code}", "GET", client.get(f"{URL}/traffic", headers=admin))
    preview = client.post("/api/v1/alerts/preview", json={**ALERT, "topic": "traffic"}, headers=admin)
    check_answer(document, "/api/v1/alerts/preview", "POST", preview)
    assert preview.get_json()["topic"]["only_followers"] is False  # ALERT is Severe
    created = client.post("/api/v1/subscribers", json={**ANA, "topics": ["traffic"]}, headers=admin)
    check_answer(document, "/api/v1/subscribers", "POST", created)
    assert "topic" in document["components"]["schemas"]["AlertInput"]["properties"]
    assert "topics" in document["components"]["schemas"]["SubscriberInput"]["properties"]


def test_an_all_clear_keeps_the_topic_of_the_alert_it_follows(client, auth):
    admin = auth("admin")
    client.put(f"{URL}/traffic", json=TRAFFIC, headers=admin)
    alert_id = client.post("/api/v1/alerts", json={**ALERT, "topic": "traffic"},
                           headers=admin).get_json()["id"]
    assert client.post(f"/api/v1/alerts/{alert_id}/send", headers=admin).status_code == 202
    cancelled = client.post(f"/api/v1/alerts/{alert_id}/cancel", headers=admin,
                            json={"message": {"en": "Main St is open again."}})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["follow_up"]["topic"] == "traffic"
