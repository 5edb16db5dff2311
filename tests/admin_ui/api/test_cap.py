"""/api/v1/alerts/<id>/cap.xml: who may read it, 404, and a schema-valid CAP 1.2 document."""
from __future__ import annotations

import pytest
from lxml import etree

from notifier.db import session_scope
from notifier.models import Zone
from tests.admin_ui.conftest import make_alert
from tests.support.peers import CAP_SCHEMA

SCHEMA = etree.XMLSchema(etree.parse(str(CAP_SCHEMA)))
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
ZONE = {"type": "Polygon", "coordinates": [[[-71.2, 42.2], [-71.1, 42.2], [-71.1, 42.3],
                                            [-71.2, 42.2]]]}


@pytest.fixture
def alert_id(settings) -> int:
    with session_scope(settings.database_url) as session:
        session.add(Zone(code="beat-3", name="Beat 3", geometry=ZONE, keywords=[]))
        alert = make_alert(session, state="draft", status="Exercise",
                           messages={"en": "Stay indoors.", "es": "Quédese adentro."},
                           area={"description": "Beat 3", "zones": ["beat-3"]})
        return alert.id


def url(alert_id: int) -> str:
    return f"/api/v1/alerts/{alert_id}/cap.xml"


def test_it_needs_a_token(client, alert_id):
    response = client.get(url(alert_id))
    assert response.status_code == 401
    assert response.is_json


@pytest.mark.parametrize("role", ["admin", "dispatcher", "auditor"])
def test_readers_get_a_schema_valid_document(client, auth, alert_id, role):
    response = client.get(url(alert_id), headers=auth(role))
    assert response.status_code == 200
    assert response.mimetype == "application/cap+xml"
    root = etree.fromstring(response.data)
    assert SCHEMA.validate(root), SCHEMA.error_log
    assert root.findtext("cap:status", namespaces=NS) == "Exercise"
    assert root.findtext("cap:sender", namespaces=NS) == "tocsin.example.org"
    infos = root.findall("cap:info", NS)
    assert [i.findtext("cap:description", namespaces=NS) for i in infos] == [
        "Stay indoors.", "Quédese adentro."]
    area = infos[0].find("cap:area", NS)
    # The named zone's own shape comes from the zones table.
    assert [p.text for p in area.findall("cap:polygon", NS)] == [
        "42.2,-71.2 42.2,-71.1 42.3,-71.1 42.2,-71.2"]
    assert area.findtext("cap:geocode/cap:value", namespaces=NS) == "beat-3"


def test_an_unknown_token_is_refused(client, alert_id):
    response = client.get(url(alert_id), headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401


def test_every_role_may_read_it_and_only_those(app):
    # Every role reads alerts (DESIGN §4), so no token can be refused with 403 here.
    view = app.view_functions["api.alert_cap"]
    assert view.required_roles == {"admin", "dispatcher", "auditor"}


def test_an_unknown_alert_is_a_json_404(client, auth):
    response = client.get(url(999999), headers=auth("auditor"))
    assert response.status_code == 404
    assert response.is_json and "error" in response.get_json()
