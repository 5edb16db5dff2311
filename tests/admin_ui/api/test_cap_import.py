"""POST /api/v1/alerts/import-cap: a peer's CAP 1.2 document becomes a draft, hostile XML does not."""
from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import func, select

from notifier.db import session_scope
from notifier.models import Alert, AuditEvent, CapImport, Delivery, Zone
from tests.support.peers import CAP_SCHEMA, PEERS

URL = "/api/v1/alerts/import-cap"
XML = {"Content-Type": "application/xml"}
SCHEMA = etree.XMLSchema(etree.parse(str(CAP_SCHEMA)))
NS = "urn:oasis:names:tc:emergency:cap:1.2"
SAMPLES = sorted((PEERS / "cap").glob("*.xml"))
SQUARE = {"type": "Polygon", "coordinates": [[[-71.2, 42.2], [-71.1, 42.2], [-71.1, 42.3],
                                              [-71.2, 42.3], [-71.2, 42.2]]]}


def cap_doc(infos: str = "", msg_type: str = "Alert", extra: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><alert xmlns="{NS}">'
            "<identifier>PEER-1</identifier><sender>peer.example.org</sender>"
            "<sent>2026-11-22T03:00:00-05:00</sent><status>Actual</status>"
            f"<msgType>{msg_type}</msgType><scope>Public</scope>{extra}{infos}</alert>").encode()


def info(language: str = "en-US", description: str = "Stay indoors.", area: str = "") -> str:
    return (f"<info><language>{language}</language><category>Safety</category>"
            "<event>Chemical leak</event><urgency>Immediate</urgency><severity>Severe</severity>"
            "<certainty>Observed</certainty><expires>2099-01-01T00:00:00-00:00</expires>"
            f"<headline>Shelter in place</headline><description>{description}</description>"
            f"<instruction>Close the windows.</instruction>{area}</info>")


def post(client, auth, body: bytes, role: str = "dispatcher", headers=XML):
    return client.post(URL, data=body, headers={**auth(role), **headers})


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_every_real_sample_imports_and_exports_valid_cap(client, auth, path):
    response = post(client, auth, path.read_bytes())
    assert response.status_code == 201, response.get_json()
    draft = response.get_json()
    assert draft["state"] == "draft" and isinstance(draft["warnings"], list)
    peer = etree.fromstring(path.read_bytes())
    ns = {"cap": NS}
    assert draft["status"] == peer.findtext("cap:status", namespaces=ns)
    assert draft["msg_type"] == peer.findtext("cap:msgType", namespaces=ns)
    assert draft["references"] == peer.findtext("cap:references", namespaces=ns)
    languages = {i.findtext("cap:language", namespaces=ns) or "en-US"
                 for i in peer.findall("cap:info", ns)}
    assert set(draft["messages"]) == languages
    exported = client.get(f"/api/v1/alerts/{draft['id']}/cap.xml", headers=auth("dispatcher"))
    assert exported.status_code == 200
    root = etree.fromstring(exported.data)
    assert SCHEMA.validate(root), SCHEMA.error_log
    assert len(root.findall("cap:info", ns)) == len(languages)


def test_a_draft_takes_the_cap_fields_and_areas(client, auth, settings):
    with session_scope(settings.database_url) as session:
        session.add(Zone(code="beat-3", name="Beat 3", geometry=SQUARE, keywords=[]))
    area = ("<area><areaDesc>Downtown</areaDesc>"
            "<polygon>42.2,-71.2 42.2,-71.1 42.3,-71.1 42.2,-71.2</polygon>"
            "<circle>42.25,-71.15 0.5</circle>"
            "<geocode><valueName>ZONE</valueName><value>beat-3</value></geocode>"
            "<geocode><valueName>SAME</valueName><value>025025</value></geocode></area>")
    body = cap_doc(info("en-US", "Stay indoors.", area) + info("es-US", "Quédese adentro."),
                   msg_type="Update",
                   extra="<references>peer.example.org,PEER-0,2026-11-22T02:00:00-05:00</references>")
    response = post(client, auth, body)
    assert response.status_code == 201, response.get_json()
    draft = response.get_json()
    assert draft["messages"] == {"en-US": "Stay indoors.", "es-US": "Quédese adentro."}
    assert (draft["status"], draft["msg_type"], draft["category"], draft["event"]) == (
        "Actual", "Update", "Safety", "Chemical leak")
    assert (draft["severity"], draft["urgency"], draft["certainty"]) == (
        "Severe", "Immediate", "Observed")
    assert draft["headline"] == "Shelter in place"
    assert draft["instruction"] == "Close the windows."
    assert draft["expires_at"] == "2099-01-01T00:00:00Z"
    assert draft["references"] == "peer.example.org,PEER-0,2026-11-22T02:00:00-05:00"
    assert draft["area"]["zones"] == ["beat-3"]
    assert draft["area"]["circles"] == [{"lat": 42.25, "lon": -71.15, "radius_m": 500.0}]
    assert draft["area"]["geojson"]["coordinates"] == [[[-71.2, 42.2], [-71.1, 42.2],
                                                        [-71.1, 42.3], [-71.2, 42.2]]]
    # The SAME code names no zone here: said, not silently dropped.
    assert [w for w in draft["warnings"] if "SAME=025025" in w]
    assert not [w for w in draft["warnings"] if "beat-3" in w]


def test_infos_of_one_language_merge_into_one_message_with_their_areas(client, auth):
    first = info("en-US", "Fire near the school.",
                 "<area><areaDesc>North</areaDesc><circle>42.3,-71.1 1</circle></area>")
    second = info("en-US", "Roads are closed.",
                  "<area><areaDesc>South</areaDesc><circle>42.2,-71.1 2</circle></area>")
    draft = post(client, auth, cap_doc(first + second)).get_json()
    assert draft["messages"] == {"en-US": "Fire near the school.\n\nRoads are closed."}
    assert len(draft["area"]["circles"]) == 2
    assert draft["area"]["description"] == "North; South"


def test_a_cancel_without_info_is_a_draft_without_a_message(client, auth, settings):
    refs = "peer.example.org,PEER-0,2026-11-22T02:00:00-05:00"
    response = post(client, auth, cap_doc(msg_type="Cancel", extra=f"<references>{refs}</references>"))
    assert response.status_code == 201
    draft = response.get_json()
    assert (draft["state"], draft["msg_type"], draft["references"]) == ("draft", "Cancel", refs)
    assert draft["messages"] == {}
    # It is never sent as it stands: sending names what is missing.
    sent = client.post(f"/api/v1/alerts/{draft['id']}/send", headers=auth("dispatcher"))
    assert sent.status_code == 422
    assert "messages" in sent.get_json()["errors"]
    with session_scope(settings.database_url) as session:
        assert session.get(Alert, draft["id"]).state == "draft"
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_a_zero_radius_circle_is_taken_as_a_point_and_refused_only_at_send(client, auth):
    area = "<area><areaDesc>Epicentre</areaDesc><circle>32.95,-115.55 0</circle></area>"
    response = post(client, auth, cap_doc(info(area=area)))
    assert response.status_code == 201
    draft = response.get_json()
    assert draft["area"]["circles"] == [{"lat": 32.95, "lon": -115.55, "radius_m": 0.0}]
    assert [w for w in draft["warnings"] if "radius 0" in w]
    sent = client.post(f"/api/v1/alerts/{draft['id']}/send", headers=auth("dispatcher"))
    assert sent.status_code == 422 and "area" in sent.get_json()["errors"]
    fixed = client.patch(f"/api/v1/alerts/{draft['id']}", headers=auth("dispatcher"),
                         json={"area": {"circles": [{"lat": 32.95, "lon": -115.55,
                                                     "radius_m": 1000}]}})
    assert fixed.status_code == 200, fixed.get_json()
    assert client.post(f"/api/v1/alerts/{draft['id']}/send",
                       headers=auth("dispatcher")).status_code == 202


def test_the_import_is_audited_and_recorded_once(client, auth, settings):
    first = post(client, auth, cap_doc(info())).get_json()
    again = post(client, auth, cap_doc(info())).get_json()
    assert again["warnings"][0] == f"This CAP alert was imported before, as alert {first['id']}."
    with session_scope(settings.database_url) as session:
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "alert.import_cap").order_by(AuditEvent.id)).all()
        assert [e.object for e in events] == [f"alert:{first['id']}", f"alert:{again['id']}"]
        assert events[0].details["cap_identifier"] == "PEER-1"
        assert events[0].details["sender"] == "peer.example.org"
        assert events[0].actor == "token:dispatcher-client"
        rows = session.scalars(select(CapImport)).all()
        assert [(r.sender, r.identifier, r.alert_id) for r in rows] == [
            ("peer.example.org", "PEER-1", first["id"])]


@pytest.mark.parametrize("role,status", [("admin", 201), ("dispatcher", 201), ("auditor", 403)])
def test_only_dispatchers_and_admins_import(client, auth, role, status):
    response = post(client, auth, cap_doc(info()), role=role)
    assert response.status_code == status
    assert response.is_json


def test_it_needs_a_token(client):
    assert client.post(URL, data=cap_doc(info()), headers=XML).status_code == 401


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10))
                  + b']><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;'
                  b"</identifier></alert>")
EXTERNAL_ENTITY = (b'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                   b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier>'
                   b"</alert>")
NETWORK_DTD = (b'<?xml version="1.0"?><!DOCTYPE alert SYSTEM "http://127.0.0.1:9/cap.dtd">'
               + cap_doc(info()).split(b"?>", 1)[1])
UTF16_DOCTYPE = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE alert [<!ENTITY x "y">]>'
                 '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>').encode("utf-16")


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, NETWORK_DTD, UTF16_DOCTYPE,
                                  b"not xml at all", b"<alert><unclosed></alert>", b""],
                         ids=["billion-laughs", "external-entity", "doctype", "utf16-doctype",
                              "not-xml", "malformed", "empty"])
def test_hostile_or_broken_xml_is_refused_with_400(client, auth, settings, body):
    response = post(client, auth, body)
    assert response.status_code == 400
    assert response.get_json()["errors"]["cap"]
    assert b"root:" not in response.data
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 0


def test_a_document_over_one_megabyte_is_refused_with_413(client, auth):
    body = cap_doc(info(description="x"))
    body = body.replace(b"<description>x", b"<description>" + b"x" * (1024 * 1024 + 1 - len(body) + 1))
    assert len(body) == 1024 * 1024 + 1
    response = post(client, auth, body)
    assert response.status_code == 413
    assert response.is_json
    just_fits = body.replace(b"xx", b"x", 1)
    assert post(client, auth, just_fits).status_code == 201


def test_xml_that_is_not_cap_1_2_is_refused_with_field_messages(client, auth):
    other = post(client, auth, b"<feed xmlns='http://www.w3.org/2005/Atom'/>")
    assert other.status_code == 422
    assert "not a CAP 1.2 <alert>" in other.get_json()["errors"]["cap"][0]
    old = post(client, auth, b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.1'/>")
    assert old.status_code == 422
    bad = cap_doc(info().replace("<severity>Severe", "<severity>Awful"))
    bad = bad.replace(b"<status>Actual", b"<status>Real").replace(b"<sender>peer.example.org</sender>", b"")
    errors = post(client, auth, bad).get_json()["errors"]
    assert set(errors) == {"sender", "status", "info[0].severity"}
    assert errors["sender"] == ["is missing"]
    assert "'Awful'" in errors["info[0].severity"][0]


def test_a_body_that_is_not_xml_by_type_is_refused_with_415(client, auth):
    response = post(client, auth, cap_doc(info()), headers={"Content-Type": "application/json"})
    assert response.status_code == 415
    assert response.is_json


def test_a_long_description_imports_but_is_not_sent_as_a_too_long_sms(client, auth):
    area = "<area><areaDesc>Riverside</areaDesc><circle>42.3,-71.1 2</circle></area>"
    response = post(client, auth, cap_doc(info(description="The river rises. " * 120, area=area)))
    assert response.status_code == 201
    draft = response.get_json()
    assert "sms" in draft["channels"]
    assert [w for w in draft["warnings"] if "an SMS may have at most 1,600" in w]
    sent = client.post(f"/api/v1/alerts/{draft['id']}/send", headers=auth("dispatcher"))
    assert sent.status_code == 422
    assert "1,600" in sent.get_json()["errors"]["messages"][0]
