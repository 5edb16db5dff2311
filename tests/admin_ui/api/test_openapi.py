"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document of every route, true to real answers."""
from __future__ import annotations

import re

import pytest
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate as validate_spec

from admin_ui.api import requires
from admin_ui.api.openapi import build_spec
from tests.admin_ui.api.test_alerts import ALERT
from tests.admin_ui.api.test_subscribers import ANA
from tests.admin_ui.api.test_zones import BEAT

URL = "/api/v1/openapi.json"


@pytest.fixture
def document(client) -> dict:
    response = client.get(URL)
    assert response.status_code == 200, response.data
    return response.get_json()


@pytest.fixture
def headers(auth):
    return auth("dispatcher")


def template(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def check(document: dict, schema: dict, instance) -> None:
    """Validate `instance` against `schema`, whose $refs point into the document's components."""
    OAS31Validator({**schema, "components": document["components"]},
                   format_checker=oas31_format_checker).validate(instance)


def check_answer(document: dict, path: str, method: str, response) -> None:
    """The response's JSON matches what the document says `method path` answers with its status."""
    answers = document["paths"][path][method.lower()]["responses"]
    assert str(response.status_code) in answers, (method, path, response.status_code)
    schema = answers[str(response.status_code)]["content"]["application/json"]["schema"]
    check(document, schema, response.get_json())


def test_it_serves_a_valid_openapi_document_without_a_token(client, document):
    validate_spec(document)
    assert document["openapi"].startswith("3.1")
    assert client.get(URL).is_json
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "an API token (create-token)"}


def test_every_api_route_and_method_is_in_the_document(app, document):
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                served.add((template(rule.rule), method.lower()))
    described = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert len(served) >= 28
    assert served - described == set()
    assert described - served == set()


def test_each_operation_names_the_roles_of_its_guard(app, document):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        roles = sorted(app.view_functions[rule.endpoint].required_roles)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][template(rule.rule)][method.lower()]
            if roles == ["anyone"]:  # the description itself, the address search
                assert operation["security"] == []
                assert "Public: no token needed." in operation["description"]
            else:
                assert operation["security"] == [{"bearerAuth": roles}], rule.rule
                assert f"Roles: {', '.join(roles)}." in operation["description"]
    send = document["paths"]["/api/v1/alerts/{alert_id}/send"]["post"]
    assert send["security"] == [{"bearerAuth": ["admin", "dispatcher"]}]
    assert send["summary"].startswith("202")


def test_path_parameters_are_typed_from_the_route_converters(document):
    alert = document["paths"]["/api/v1/alerts/{alert_id}"]["get"]["parameters"]
    assert alert == [{"name": "alert_id", "in": "path", "required": True,
                      "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}]
    zone = document["paths"]["/api/v1/zones/{code}"]["put"]["parameters"]
    assert zone == [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}]


def test_a_route_added_later_appears_with_its_roles_and_typed_parameter(app):
    def rehearse(alert_id: int):
        """200 {"rehearsed_at"}: a dry run of a draft's fan-out."""

    app.add_url_rule("/api/v1/alerts/<id:alert_id>/rehearse", "api.rehearse_alert",
                     requires("dispatcher")(rehearse), methods=["POST"])
    operation = build_spec(app)["paths"]["/api/v1/alerts/{alert_id}/rehearse"]["post"]
    assert operation["summary"] == '200 {"rehearsed_at"}: a dry run of a draft\'s fan-out.'
    assert operation["security"] == [{"bearerAuth": ["admin", "dispatcher"]}]
    assert operation["parameters"][0]["schema"]["type"] == "integer"


def test_the_approve_route_answers_with_the_approval_schema(document):
    operation = document["paths"]["/api/v1/alerts/{alert_id}/approve"]["post"]
    assert operation["security"] == [{"bearerAuth": ["admin", "dispatcher"]}]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Approval"}


def test_request_bodies_refer_to_the_marshmallow_schemas(document):
    body = document["paths"]["/api/v1/alerts"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/AlertInput"}
    alert_input = document["components"]["schemas"]["AlertInput"]
    assert {"status", "area"} <= set(alert_input["required"])
    # Left out, the channels are the severity's (SEVERITY_CHANNELS, DESIGN §12).
    assert "channels" not in alert_input["required"]
    assert "channels_reason" in alert_input["properties"]
    # The texts and CAP fields are required unless a template gives them (DESIGN §11).
    written, from_template = alert_input["oneOf"]
    assert {"headline", "messages", "severity"} <= set(written["required"])
    assert from_template["required"] == ["template"]
    assert alert_input["properties"]["severity"]["enum"] == [
        "Extreme", "Severe", "Moderate", "Minor", "Unknown"]
    cancel = document["paths"]["/api/v1/alerts/{alert_id}/cancel"]["post"]["requestBody"]
    assert cancel["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CancelInput"}
    subscriber = document["paths"]["/api/v1/subscribers"]["post"]["requestBody"]
    assert subscriber["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SubscriberInput"}
    # The bodies the other API tests send are ones the document allows.
    check(document, {"$ref": "#/components/schemas/AlertInput"}, ALERT)
    templated = {key: value for key, value in ALERT.items()
                 if key not in ("headline", "messages", "severity", "urgency", "certainty")}
    check(document, {"$ref": "#/components/schemas/AlertInput"},
          {**templated, "template": "evacuate_now", "params": {"area": "Downtown"}})
    with pytest.raises(ValidationError):  # messages or a template, never both
        check(document, {"$ref": "#/components/schemas/AlertInput"},
              {**ALERT, "template": "evacuate_now", "params": {"area": "Downtown"}})
    check(document, {"$ref": "#/components/schemas/SubscriberInput"}, ANA)


def test_real_answers_match_the_response_schemas(client, headers, document):
    created = client.post("/api/v1/subscribers", json=ANA, headers=headers)
    assert created.status_code == 201
    check_answer(document, "/api/v1/subscribers", "POST", created)

    duplicate = client.post("/api/v1/subscribers", json=ANA, headers=headers)
    assert duplicate.status_code == 409
    check_answer(document, "/api/v1/subscribers", "POST", duplicate)

    refused = client.post("/api/v1/subscribers", json={"phone": "12", "channels": ["fax"]},
                          headers=headers)
    assert refused.status_code == 422
    check_answer(document, "/api/v1/subscribers", "POST", refused)

    listed = client.get("/api/v1/subscribers?per_page=1", headers=headers)
    assert listed.status_code == 200 and listed.get_json()["total"] == 1
    check_answer(document, "/api/v1/subscribers", "GET", listed)

    alert = client.post("/api/v1/alerts", json=ALERT, headers=headers)
    assert alert.status_code == 201
    check_answer(document, "/api/v1/alerts", "POST", alert)

    one = client.get(f"/api/v1/alerts/{alert.get_json()['id']}", headers=headers)
    assert one.status_code == 200 and "stats" in one.get_json()
    check_answer(document, "/api/v1/alerts/{alert_id}", "GET", one)

    alerts = client.get("/api/v1/alerts", headers=headers)
    assert alerts.status_code == 200 and alerts.get_json()["items"]
    check_answer(document, "/api/v1/alerts", "GET", alerts)

    missing = client.get("/api/v1/alerts/999", headers=headers)
    assert missing.status_code == 404
    check_answer(document, "/api/v1/alerts/{alert_id}", "GET", missing)

    bad_page = client.get("/api/v1/alerts?page=zero", headers=headers)
    assert bad_page.status_code == 422
    check_answer(document, "/api/v1/alerts", "GET", bad_page)

    no_token = client.get("/api/v1/alerts")
    assert no_token.status_code == 401
    check_answer(document, "/api/v1/alerts", "GET", no_token)


def test_the_address_search_answers_match_too(client, settings, document):
    from tests.admin_ui.api.test_addresses import load_town

    load_town(settings)
    path = "/api/v1/addresses"
    assert document["paths"][path]["get"]["security"] == []
    found = client.get(f"{path}?q=ave")
    assert len(found.get_json()["items"]) == 3
    check_answer(document, path, "GET", found)
    check_answer(document, path, "GET", client.get(f"{path}?q=" + "a" * 201))
    with pytest.raises(ValidationError):
        check(document, {"$ref": "#/components/schemas/AddressMatches"},
              {"items": [{"address": "1 Elm St", "lat": 91, "lon": 0, "zone": None}]})


def test_the_schemas_refuse_answers_the_api_never_gives(document):
    # Guards the checks above: a schema that accepted anything would prove nothing.
    with pytest.raises(ValidationError):
        check(document, {"$ref": "#/components/schemas/Alert"}, {"id": "one", "state": "lost"})
    with pytest.raises(ValidationError):
        check(document, {"$ref": "#/components/schemas/FieldErrors"}, {"error": "no"})


def test_zone_audit_delivery_and_cancel_answers_match_too(client, auth, headers, document):
    zone = client.put("/api/v1/zones/beat-3", json=BEAT, headers=headers)
    assert zone.status_code == 201
    check_answer(document, "/api/v1/zones/{code}", "PUT", zone)
    zones = client.get("/api/v1/zones", headers=headers)
    check_answer(document, "/api/v1/zones", "GET", zones)

    events = client.get("/api/v1/audit", headers=auth("auditor"))
    assert events.status_code == 200 and events.get_json()["items"]
    check_answer(document, "/api/v1/audit", "GET", events)

    draft = client.post("/api/v1/alerts", json=ALERT, headers=headers).get_json()
    listed = client.get(f"/api/v1/alerts/{draft['id']}/deliveries?status=sent", headers=headers)
    check_answer(document, "/api/v1/alerts/{alert_id}/deliveries", "GET", listed)
    cancelled = client.post(f"/api/v1/alerts/{draft['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200
    check_answer(document, "/api/v1/alerts/{alert_id}/cancel", "POST", cancelled)

    gone = client.delete("/api/v1/zones/beat-3", headers=headers)
    assert gone.status_code == 204 and not gone.data
    assert "content" not in document["paths"]["/api/v1/zones/{code}"]["delete"]["responses"]["204"]


def test_the_two_person_rule_and_audit_answers_match_too(client, auth, token, document):
    everyone = {**ALERT, "area": {"description": "Whole town", "everyone": True}}
    draft = client.post("/api/v1/alerts", json=everyone, headers=auth("dispatcher")).get_json()
    refused = client.post(f"/api/v1/alerts/{draft['id']}/send", headers=auth("dispatcher"))
    assert refused.status_code == 409 and refused.get_json()["approval"]["everyone"] is True
    check_answer(document, "/api/v1/alerts/{alert_id}/send", "POST", refused)

    edited = client.patch(f"/api/v1/alerts/{draft['id']}", json={"headline": "Boil water now"},
                          headers=auth("dispatcher"))
    assert edited.status_code == 200
    check_answer(document, "/api/v1/alerts/{alert_id}", "PATCH", edited)

    second = {"Authorization": f"Bearer {token('dispatcher', 'supervisor')}"}
    approved = client.post(f"/api/v1/alerts/{draft['id']}/approve", headers=second)
    assert approved.status_code == 200
    check_answer(document, "/api/v1/alerts/{alert_id}/approve", "POST", approved)
    shown = client.get(f"/api/v1/alerts/{draft['id']}", headers=second)
    check_answer(document, "/api/v1/alerts/{alert_id}", "GET", shown)

    verified = client.get("/api/v1/audit/verify", headers=auth("auditor"))
    assert verified.get_json() == {"ok": True, "first_bad_id": None}
    check_answer(document, "/api/v1/audit/verify", "GET", verified)
