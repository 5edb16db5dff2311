"""GET /api/v1/templates, and alerts written from a template (DESIGN §11)."""
from __future__ import annotations

import pytest
from lxml import etree

from notifier import languages
from tests.admin_ui.api.test_cap import SCHEMA
from tests.admin_ui.api.test_alerts import ALERT, URL, fan_out_jobs
from tests.admin_ui.api.test_openapi import check_answer

FROM_TEMPLATE = {key: value for key, value in ALERT.items()
                 if key not in ("headline", "event", "messages", "category", "severity",
                                "urgency", "certainty")}
ROAD = {**FROM_TEMPLATE, "template": "road_closure",
        "params": {"road": "Main St", "detour": "Elm St", "until": "2099-11-24T18:00:00-05:00"}}
UNREVIEWED = [tag for tag in languages.TAGS if tag != "en"]


@pytest.fixture
def headers(auth):
    return auth("dispatcher")


@pytest.mark.parametrize("role", ["dispatcher", "auditor", "admin"])
def test_every_role_lists_the_templates_in_designs_shape(client, auth, role):
    response = client.get("/api/v1/templates", headers=auth(role))
    assert response.status_code == 200
    items = {item["code"]: item for item in response.get_json()["items"]}
    assert {"shelter_in_place", "evacuate_now", "all_clear", "test_message"} <= set(items)
    road = items["road_closure"]
    assert road == {
        "code": "road_closure", "name": road["name"], "event": "Road Closure",
        "category": "Transport", "severity": "Minor", "urgency": "Immediate",
        "certainty": "Observed", "params": ["road", "detour", "until"],
        "param_types": {"road": "text", "detour": "text", "until": "time"},
        "languages": list(languages.TAGS),
        "reviewed": {tag: tag == "en" for tag in languages.TAGS}}
    assert road["name"]["en"] == "Road closure" and road["name"]["zh-Hant"] == "道路封閉"


def test_the_list_needs_a_token_and_matches_the_openapi_document(client, headers):
    assert client.get("/api/v1/templates").status_code == 401
    document = client.get("/api/v1/openapi.json").get_json()
    check_answer(document, "/api/v1/templates", "GET",
                 client.get("/api/v1/templates", headers=headers))


def test_an_alert_from_a_template_has_every_languages_text(client, headers, settings):
    response = client.post(URL, json=ROAD, headers=headers)
    assert response.status_code == 201, response.get_json()
    alert = response.get_json()
    assert list(alert["messages"]) == list(languages.TAGS)
    assert alert["messages"]["es"].startswith("VÍA CERRADA al tráfico: Main St. Use Elm St")
    assert "Reapertura prevista: mar, 24 nov 2099, 23:00." in alert["messages"]["es"]  # UTC
    assert alert["headline"] == alert["headlines"]["en"] == "Road closed: Main St"
    assert alert["headlines"]["ja"] == "通行止め：Main St"
    assert alert["instruction"] == alert["instructions"]["en"]
    assert (alert["event"], alert["severity"], alert["category"]) == (
        "Road Closure", "Minor", "Transport")
    assert alert["machine_translated"] == UNREVIEWED
    assert (alert["status"], alert["channels"], alert["area"]["description"]) == (
        "Actual", ["sms", "email"], "Downtown")
    document = client.get("/api/v1/openapi.json").get_json()
    check_answer(document, "/api/v1/alerts", "POST", response)


def test_fields_the_dispatcher_gives_win_over_the_templates(client, headers):
    body = {**ROAD, "severity": "Moderate", "headline": "Main St closed by a water main break",
            "channels": ["email"]}
    alert = client.post(URL, json=body, headers=headers).get_json()
    assert alert["severity"] == "Moderate" and alert["channels"] == ["email"]
    assert alert["headline"] == alert["headlines"]["en"] == "Main St closed by a water main break"
    assert alert["headlines"]["es"] == "Vía cerrada: Main St"


def test_the_preview_takes_a_template_too(client, headers):
    response = client.post(f"{URL}/preview", json=ROAD, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert set(response.get_json()["sms"]) == set(languages.TAGS)


@pytest.mark.parametrize("change, field, words", [
    ({"template": "evacuate_later"}, "template", "Unknown template 'evacuate_later'"),
    ({"params": {"road": "Main St", "detour": "Elm St"}}, "params", "Missing: road_closure needs"),
    ({"params": {"road": "Main St", "detour": "Elm St", "until": "6 pm"}}, "params",
     "is not a date and time"),
    ({"params": {**ROAD["params"], "lanes": "2"}}, "params", "Not a param of road_closure"),
    ({"messages": {"en": "Main St is closed."}}, "template", "either messages or a template"),
    ({"params": "Main St"}, "params", "Must be an object"),
])
def test_template_mistakes_are_422_naming_them(client, headers, change, field, words):
    response = client.post(URL, json={**ROAD, **change}, headers=headers)
    assert response.status_code == 422
    assert words in str(response.get_json()["errors"][field])


def test_machine_translated_must_name_languages_with_a_message(client, headers):
    body = {**ALERT, "machine_translated": ["fr"]}
    response = client.post(URL, json=body, headers=headers)
    assert response.status_code == 422
    assert "fr has no message" in response.get_json()["errors"]["machine_translated"][0]
    marked = client.post(URL, json={**ALERT, "machine_translated": ["es"]}, headers=headers)
    assert marked.get_json()["machine_translated"] == ["es"]
    assert client.post(URL, json=ALERT, headers=headers).get_json()["machine_translated"] == []


def test_a_draft_patched_with_a_template_takes_its_texts_and_keeps_its_area(client, headers):
    draft = client.post(URL, json=ALERT, headers=headers).get_json()
    response = client.patch(f"{URL}/{draft['id']}", headers=headers, json={
        "template": "boil_water", "params": {"area": "Downtown"}})
    assert response.status_code == 200, response.get_json()
    alert = response.get_json()
    assert alert["headline"] == "Boil water advisory: Downtown"
    assert alert["event"] == "Boil Water Advisory" and alert["category"] == "Health"
    assert list(alert["messages"]) == list(languages.TAGS)
    assert alert["area"] == draft["area"] and alert["machine_translated"] == UNREVIEWED


def test_a_follow_up_may_come_from_the_all_clear_template(client, headers, settings):
    draft = client.post(URL, json=ALERT, headers=headers).get_json()
    client.post(f"{URL}/{draft['id']}/send", headers=headers)
    response = client.post(f"{URL}/{draft['id']}/cancel", headers=headers, json={
        "message": {"template": "all_clear", "params": {"area": "Downtown"}},
        "accept_machine_translation": True})  # its unreviewed languages are machine texts
    assert response.status_code == 200, response.get_json()
    follow_up = response.get_json()["follow_up"]
    assert follow_up["msg_type"] == "Cancel" and draft["identifier"] in follow_up["references"]
    assert follow_up["messages"]["es"].startswith("FIN DE LA ALERTA para Downtown.")
    assert follow_up["machine_translated"] == UNREVIEWED
    assert fan_out_jobs(settings)[-1] == f"fan-out-{follow_up['id']}"


def test_the_cap_document_of_a_templated_alert_is_valid_in_every_language(client, headers):
    alert = client.post(URL, json=ROAD, headers=headers).get_json()
    response = client.get(f"{URL}/{alert['id']}/cap.xml", headers=headers)
    root = etree.fromstring(response.data)
    assert SCHEMA.validate(root), SCHEMA.error_log
    cap = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
    assert [e.text for e in root.findall("cap:info/cap:language", cap)] == list(languages.TAGS)
