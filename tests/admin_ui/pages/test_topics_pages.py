"""/topics for admins (list, names per language and keywords, delete with the code typed), the
subscriber edit page's topic ticks, and the compose page's Topic select, preview and alert page."""
from __future__ import annotations

from sqlalchemy import select

from notifier import topics
from notifier.db import session_scope
from notifier.models import AuditEvent, SubscriberTopic, Topic
from tests.admin_ui.conftest import NOW, make_subscriber
from tests.admin_ui.pages.test_alerts import alert_row, compose, form


def add_topic(settings, code="traffic", followers=0):
    with session_scope(settings.database_url) as session:
        topics.put_topic(session, code, {"name": {"en": "Road closures", "es": "Cierres"},
                                         "keywords": ["traffic"]}, NOW)
        for i in range(followers):
            sub = make_subscriber(session, phone=f"+1617555{i:04d}")
            session.add(SubscriberTopic(subscriber_id=sub.id, topic_code=code))


def actions(settings) -> list[tuple[str, str]]:
    with session_scope(settings.database_url, readonly=True) as session:
        return [tuple(r) for r in session.execute(select(AuditEvent.action, AuditEvent.object)
                                                  .order_by(AuditEvent.id))]


def test_only_admins_see_and_use_the_topics_page(signed_in, settings):
    add_topic(settings, followers=2)
    admin = signed_in("admin")
    html = admin.get("/topics").get_data(as_text=True)
    row = html.split('data-code="traffic"')[1].split("</tr>")[0]
    assert "Road closures" in row and "TRAFFIC" in row and '<td class="num">2</td>' in row
    assert 'data-testid="nav-topics"' in html
    dispatcher = signed_in("dispatcher")
    assert dispatcher.get("/topics").status_code == 403
    assert 'data-testid="nav-topics"' not in dispatcher.get("/alerts").get_data(as_text=True)
    assert dispatcher.post("/topics/new", data={"csrf_token": dispatcher.csrf, "code": "x",
                                                "name-en": "X"}).status_code == 403


def test_an_admin_creates_and_edits_a_topic_with_names_per_language(signed_in, settings):
    admin = signed_in("admin")
    assert 'data-testid="topic-name-es"' in admin.get("/topics/new").get_data(as_text=True)
    created = admin.post("/topics/new", data={"csrf_token": admin.csrf, "code": "meetings",
                                              "name-en": "Community meetings",
                                              "name-es": "Reuniones", "keywords": "meet, town"})
    assert created.status_code == 302
    edited = admin.post("/topics/meetings/edit", data={"csrf_token": admin.csrf,
                                                       "name-en": "Meetings", "keywords": "meet"})
    assert edited.status_code == 302
    with session_scope(settings.database_url, readonly=True) as session:
        topic = session.get(Topic, "meetings")
        assert (topic.name, topic.keywords) == ({"en": "Meetings"}, ["MEET"])
    assert actions(settings)[-2:] == [("topic.create", "topic:meetings"),
                                      ("topic.replace", "topic:meetings")]


def test_a_colliding_keyword_shows_the_form_again_naming_it(signed_in, settings):
    add_topic(settings)
    admin = signed_in("admin")
    response = admin.post("/topics/new", data={"csrf_token": admin.csrf, "code": "roads",
                                               "name-en": "Roads", "keywords": "traffic STOP"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "TRAFFIC is already the keyword of topic &#39;traffic&#39;" in html
    assert "STOP is already an SMS command word" in html
    assert admin.post("/topics/new", data={"code": "roads", "name-en": "Roads"}).status_code == 400


def test_deleting_a_topic_needs_its_code_typed(signed_in, settings):
    add_topic(settings, followers=1)
    admin = signed_in("admin")
    assert "Residents who follow this topic: 1." in admin.get("/topics/traffic/delete").get_data(as_text=True)
    wrong = admin.post("/topics/traffic/delete", data={"csrf_token": admin.csrf, "confirm": "no"})
    assert wrong.status_code == 422
    assert admin.post("/topics/traffic/delete", data={"csrf_token": admin.csrf,
                                                      "confirm": "traffic"}).status_code == 302
    assert ("topic.delete", "topic:traffic") in actions(settings)
    assert admin.get("/topics/traffic/edit").status_code == 404


def test_staff_tick_the_topics_a_subscriber_follows(signed_in, settings):
    add_topic(settings)
    with session_scope(settings.database_url) as session:
        sub_id = make_subscriber(session).id
    client = signed_in("dispatcher")
    page = client.get(f"/subscribers/{sub_id}/edit").get_data(as_text=True)
    assert 'data-testid="edit-topic-traffic"' in page and "Road closures" in page
    saved = client.post(f"/subscribers/{sub_id}/edit", data={
        "csrf_token": client.csrf, "name": "Ana", "phone": "+16175550100", "language": "en",
        "channels": "sms", "topics": "traffic"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    shown = client.get(f"/subscribers/{sub_id}").get_data(as_text=True)
    assert "traffic" in shown.split('data-testid="subscriber-topics">')[1].split("</dd>")[0]
    client.post(f"/subscribers/{sub_id}/edit", data={
        "csrf_token": client.csrf, "name": "Ana", "phone": "+16175550100", "language": "en",
        "channels": "sms"})
    with session_scope(settings.database_url, readonly=True) as session:
        assert session.scalars(select(SubscriberTopic)).all() == []


def test_the_compose_page_offers_topics_and_the_alert_page_shows_the_one_chosen(
        signed_in, settings):
    add_topic(settings, followers=1)
    client = signed_in("dispatcher")
    html = client.get("/alerts/new").get_data(as_text=True)
    assert 'data-testid="compose-topic"' in html and '<option value="traffic"' in html
    alert_id = compose(client, topic="traffic", severity="Minor")
    assert alert_row(settings, alert_id).topic == "traffic"
    page = client.get(f"/alerts/{alert_id}/preview").get_data(as_text=True)
    assert "only its followers in the area" in page.split('data-testid="alert-topic">')[1]
    assert 'data-testid="preview-topic"' in page
    plain = compose(client)
    assert alert_row(settings, plain).topic is None
    unknown = client.post("/alerts/new", data=form(client, topic="bingo"))
    assert unknown.status_code == 422 and "There is no topic" in unknown.get_data(as_text=True)


def test_the_reach_counter_counts_only_followers_of_a_routine_topic_alert(signed_in, settings):
    add_topic(settings, followers=0)
    with session_scope(settings.database_url) as session:
        from notifier.models import Location
        for i, follows in enumerate((True, False)):
            sub = make_subscriber(session, phone=f"+1617555{i + 10:04d}")
            sub.locations.append(Location(lat=42.36, lon=-71.06))
            if follows:
                session.add(SubscriberTopic(subscriber_id=sub.id, topic_code="traffic"))
    client = signed_in("dispatcher")

    def count(**overrides):
        response = client.post("/alerts/reach.json", data=form(client, **overrides),
                               headers={"Accept": "application/json"})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["recipients"]

    assert count(topic="traffic", severity="Minor") == 1
    assert count(topic="traffic", severity="Severe") == 2
    assert count() == 2
