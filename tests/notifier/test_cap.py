"""CAP 1.2 documents: schema-valid, one <info> per language, CAP shapes; the peers' alerts read."""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from lxml import etree

from notifier import cap
from notifier.errors import InvalidInput
from notifier.models import Alert
from tests.support.peers import PEERS as PEER_ROOT

PEERS = PEER_ROOT / "cap"
SCHEMA = etree.XMLSchema(etree.parse(str(PEERS / "CAP-v1.2.xsd")))
NS = {"cap": cap.NS}
SENT = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
SETTINGS = SimpleNamespace(public_url="https://alerts.example.org", agency_name="Example County",
                           agency_contact="Call 311")
SQUARE = {"type": "Polygon", "coordinates": [[[-71.07, 42.35], [-71.05, 42.35], [-71.05, 42.37],
                                              [-71.07, 42.37], [-71.07, 42.35]]]}
ZONE = {"type": "MultiPolygon", "coordinates": [[[[-71.2, 42.2], [-71.1, 42.2], [-71.1, 42.3],
                                                  [-71.2, 42.2]]]]}
MESSAGES = {"en": "Chemical leak near Main St. Stay indoors.",
            "es": "Fuga química cerca de Main St. Quédese adentro.",
            "zh-Hant": "緬街附近化學品洩漏。請留在室內。"}


def an_alert(**overrides) -> Alert:
    values = dict(identifier="tocsin-20261122T030000Z-0a1b2c3d", state="sent", status="Actual",
                  msg_type="Alert", category="Safety", event="Hazardous Materials Warning",
                  headline="Shelter in place", severity="Severe", urgency="Immediate",
                  certainty="Observed", messages=dict(MESSAGES),
                  instruction="Close windows.",
                  area={"description": "Downtown", "geojson": SQUARE,
                        "circles": [{"lat": 42.36, "lon": -71.06, "radius_m": 800}],
                        "zones": ["beat-3", "beat-4"], "everyone": False},
                  expires_at=datetime(2026, 11, 22, 6, 0, tzinfo=timezone.utc),
                  created_at=SENT, sent_at=SENT)
    values.update(overrides)
    return Alert(**values)


def valid(xml: bytes) -> etree._Element:
    root = etree.fromstring(xml)
    assert SCHEMA.validate(root), SCHEMA.error_log
    return root


def test_it_writes_a_schema_valid_document_with_the_alert_block():
    root = valid(cap.alert_to_cap(an_alert(), SETTINGS, {"beat-3": ZONE}))
    assert root.findtext("cap:identifier", namespaces=NS) == "tocsin-20261122T030000Z-0a1b2c3d"
    assert root.findtext("cap:sender", namespaces=NS) == "alerts.example.org"
    assert root.findtext("cap:sent", namespaces=NS) == "2026-11-22T03:00:00-00:00"
    assert root.findtext("cap:status", namespaces=NS) == "Actual"
    assert root.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert root.findtext("cap:scope", namespaces=NS) == "Public"
    assert root.find("cap:references", NS) is None


def test_it_writes_one_info_per_language_with_that_languages_text():
    root = valid(cap.alert_to_cap(an_alert(), SETTINGS))
    infos = root.findall("cap:info", NS)
    assert [i.findtext("cap:language", namespaces=NS) for i in infos] == ["en", "es", "zh-Hant"]
    assert [i.findtext("cap:description", namespaces=NS) for i in infos] == list(MESSAGES.values())
    for info in infos:
        assert info.findtext("cap:senderName", namespaces=NS) == "Example County"
        assert info.findtext("cap:contact", namespaces=NS) == "Call 311"
        assert info.findtext("cap:instruction", namespaces=NS) == "Close windows."
        assert info.findtext("cap:expires", namespaces=NS) == "2026-11-22T06:00:00-00:00"
        assert info.findtext("cap:event", namespaces=NS) == "Hazardous Materials Warning"
        assert info.findtext("cap:category", namespaces=NS) == "Safety"


def test_it_writes_closed_lat_lon_polygons_circles_in_km_and_zone_geocodes():
    root = valid(cap.alert_to_cap(an_alert(), SETTINGS, {"beat-3": ZONE}))
    area = root.find("cap:info/cap:area", NS)
    assert area.findtext("cap:areaDesc", namespaces=NS) == "Downtown"
    polygons = [p.text for p in area.findall("cap:polygon", NS)]
    assert polygons[0] == "42.35,-71.07 42.35,-71.05 42.37,-71.05 42.37,-71.07 42.35,-71.07"
    assert polygons[1] == "42.2,-71.2 42.2,-71.1 42.3,-71.1 42.2,-71.2"  # beat-3's own shape
    assert len(polygons) == 2  # beat-4 has no geometry: only its geocode
    for p in polygons:
        pairs = p.split()
        assert pairs[0] == pairs[-1] and len(pairs) >= 4
    assert [c.text for c in area.findall("cap:circle", NS)] == ["42.36,-71.06 0.8"]
    geocodes = [(g.findtext("cap:valueName", namespaces=NS), g.findtext("cap:value", namespaces=NS))
                for g in area.findall("cap:geocode", NS)]
    assert geocodes == [("ZONE", "beat-3"), ("ZONE", "beat-4")]


def test_a_cancel_carries_its_references_and_an_everyone_area_gets_a_description():
    refs = "alerts.example.org,tocsin-20261122T030000Z-0a1b2c3d,2026-11-22T03:00:00-00:00"
    alert = an_alert(msg_type="Cancel", references=refs, area={"everyone": True},
                     expires_at=None, instruction=None, messages={"en": "All clear."})
    root = valid(cap.alert_to_cap(alert, SimpleNamespace(public_url="", agency_name="X",
                                                         agency_contact=None)))
    assert root.findtext("cap:references", namespaces=NS) == refs
    assert root.findtext("cap:sender", namespaces=NS) == "tocsin"
    info = root.find("cap:info", NS)
    for absent in ("expires", "instruction", "contact"):
        assert info.find(f"cap:{absent}", NS) is None
    assert info.findtext("cap:area/cap:areaDesc", namespaces=NS) == cap.EVERYONE


def test_a_draft_without_sent_at_uses_its_creation_time_in_cap_form():
    root = valid(cap.alert_to_cap(an_alert(state="draft", sent_at=None,
                                           created_at=datetime(2026, 1, 2, 3, 4, 5, 999,
                                                               tzinfo=timezone.utc)), SETTINGS))
    assert root.findtext("cap:sent", namespaces=NS) == "2026-01-02T03:04:05-00:00"


def test_each_info_carries_its_own_languages_headline_and_instruction():
    alert = an_alert(headlines={"es": "Refúgiese en su lugar", "zh-Hant": "就地避難"},
                     instructions={"es": "Cierre las ventanas.", "zh-Hant": "關閉窗戶。"})
    infos = {i["language"]: i for i in cap.parse_cap(cap.alert_to_cap(alert, SETTINGS))["infos"]}
    assert {tag: (i["headline"], i["instruction"]) for tag, i in infos.items()} == {
        "en": ("Shelter in place", "Close windows."),
        "es": ("Refúgiese en su lugar", "Cierre las ventanas."),
        "zh-Hant": ("就地避難", "關閉窗戶。")}


def test_it_round_trips_through_parse_cap():
    doc = cap.parse_cap(cap.alert_to_cap(an_alert(), SETTINGS, {"beat-3": ZONE}))
    assert doc["identifier"] == "tocsin-20261122T030000Z-0a1b2c3d"
    assert (doc["sender"], doc["status"], doc["msgType"]) == ("alerts.example.org", "Actual", "Alert")
    assert {i["language"]: i["description"] for i in doc["infos"]} == MESSAGES
    # A language without its own headline gets its message's first sentence, never English.
    assert {i["language"]: i["headline"] for i in doc["infos"]} == {
        "en": "Shelter in place", "es": "Fuga química cerca de Main St.", "zh-Hant": "緬街附近化學品洩漏。"}
    area = doc["infos"][0]["areas"][0]
    assert area["areaDesc"] == "Downtown" and area["circles"] == ["42.36,-71.06 0.8"]
    assert area["geocodes"] == [("ZONE", "beat-3"), ("ZONE", "beat-4")]
    assert len(area["polygons"]) == 2


@pytest.mark.parametrize("path", sorted(PEERS.glob("*.xml")), ids=lambda p: p.stem)
def test_the_peers_real_alerts_validate_and_parse(path):
    xml = path.read_bytes()
    assert SCHEMA.validate(etree.fromstring(xml)), SCHEMA.error_log  # the validator is sound
    doc = cap.parse_cap(xml)
    assert doc["identifier"] and doc["sender"] and doc["sent"]
    assert doc["status"] in ("Actual", "Exercise", "System", "Test", "Draft")
    for info in doc["infos"]:
        assert info["language"] and info["event"]


def test_it_reads_the_bilingual_amber_alert_and_the_cancel_without_info():
    amber = cap.parse_cap((PEERS / "oasis_a4_amber_alert_en_es.xml").read_bytes())
    assert [i["language"] for i in amber["infos"]] == ["en-US", "es-US"]
    assert all(i["headline"] and i["description"] for i in amber["infos"])
    cancel = cap.parse_cap((PEERS / "ipaws_cancel_no_info.xml").read_bytes())
    assert cancel["msgType"] == "Cancel" and cancel["infos"] == [] and cancel["references"]
    storm = cap.parse_cap((PEERS / "oasis_a2_nws_severe_thunderstorm.xml").read_bytes())
    area = storm["infos"][0]["areas"][0]
    assert area["polygons"] and area["geocodes"]


def test_it_refuses_what_is_not_cap():
    with pytest.raises(InvalidInput) as bad_xml:
        cap.parse_cap(b"<alert><unclosed></alert>")
    assert "cap" in bad_xml.value.errors
    with pytest.raises(InvalidInput):
        cap.parse_cap(b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.1'/>")


def test_it_never_expands_entities():
    xml = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier>'
           b'</alert>')
    doc = cap.parse_cap(xml)
    assert "root:" not in (doc["identifier"] or "")
