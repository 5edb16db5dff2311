"""Zone records: strict shapes, stored boxes, keywords owned by one zone, GeoJSON imports."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from notifier import cli, zones
from notifier.db import session_scope
from notifier.errors import InvalidInput, NotFound
from notifier.models import Subscriber, SubscriberZone, Zone

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def box(west, south, east, north) -> dict:
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north],
                                                [west, north], [west, south]]]}


def feature(code, name, geometry, **props) -> dict:
    return {"type": "Feature", "properties": {"code": code, "name": name, **props}, "geometry": geometry}


def test_put_zone_creates_then_replaces_and_stores_the_bounding_box(db_url):
    with session_scope(db_url) as session:
        zone, created = zones.put_zone(session, "beat-3", {"name": "Beat 3", "geometry": box(-71.1, 42.3, -71.0, 42.4),
                                                           "keywords": [" beat3 "]}, NOW)
        assert created and zone.keywords == ["BEAT3"]
        assert (zone.min_lon, zone.min_lat, zone.max_lon, zone.max_lat) == (-71.1, 42.3, -71.0, 42.4)
    with session_scope(db_url) as session:
        multi = {"type": "MultiPolygon", "coordinates": [box(0, 0, 1, 1)["coordinates"],
                                                         box(2, -1, 3, 0)["coordinates"]]}
        zone, created = zones.put_zone(session, "beat-3", {"name": "Beat 3 (new)", "geometry": multi}, NOW)
        assert not created and zone.keywords == []
        assert zones.zone_dict(zone)["bbox"] == [0, -1, 3, 1]
        assert session.scalar(select(func.count()).select_from(Zone)) == 1


@pytest.mark.parametrize("code, data, field, words", [
    ("beat 3", {"name": "x", "geometry": box(0, 0, 1, 1)}, "code", "letters, digits"),
    ("beat-3", {"geometry": box(0, 0, 1, 1)}, "name", "required"),
    ("beat-3", {"name": "x"}, "geometry", "required"),
    ("beat-3", {"name": "x", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}},
     "geometry", "crosses itself near 0.5, 0.5"),
    ("beat-3", {"name": "x", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}},
     "geometry", "not closed"),
    ("beat-3", {"name": "x", "geometry": box(0, 0, 1, 1), "keywords": ["STOP"]}, "keywords", "SMS command"),
    ("beat-3", {"name": "x", "geometry": box(0, 0, 1, 1), "keywords": ["two words"]}, "keywords", "one word"),
    ("beat-3", {"name": "x", "geometry": box(0, 0, 1, 1), "colour": "red"}, "_schema", "colour"),
])
def test_put_zone_refuses_bad_fields_by_name(db_url, code, data, field, words):
    with session_scope(db_url) as session:
        with pytest.raises(InvalidInput) as caught:
            zones.put_zone(session, code, data, NOW)
    assert words in " ".join(caught.value.errors[field])


def test_a_keyword_belongs_to_one_zone_until_that_zone_gives_it_up(db_url):
    with session_scope(db_url) as session:
        zones.put_zone(session, "a", {"name": "A", "geometry": box(0, 0, 1, 1), "keywords": ["NORTH"]}, NOW)
        with pytest.raises(InvalidInput) as caught:
            zones.put_zone(session, "b", {"name": "B", "geometry": box(1, 0, 2, 1), "keywords": ["north"]}, NOW)
        assert caught.value.errors == {"keywords": ["NORTH is already the keyword of zone 'a'"]}
        zones.put_zone(session, "a", {"name": "A", "geometry": box(0, 0, 1, 1), "keywords": ["NORTHA"]}, NOW)
        zone, _ = zones.put_zone(session, "b", {"name": "B", "geometry": box(1, 0, 2, 1), "keywords": ["north"]}, NOW)
        assert zone.keywords == ["NORTH"]


def test_import_creates_updates_and_rejects_each_feature_on_its_own(db_url):
    with session_scope(db_url) as session:
        zones.put_zone(session, "z2", {"name": "Old", "geometry": box(0, 0, 1, 1)}, NOW)
    collection = {"type": "FeatureCollection", "features": [
        feature("z1", "One", box(0, 0, 1, 1), keywords=["ONE"]),
        feature("z2", "Two", box(1, 0, 2, 1)),
        feature("z3", "Three", {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}),
        feature("z1", "One again", box(5, 5, 6, 6)),
        feature(None, "No code", box(0, 0, 1, 1)),
        feature("z4", "Keyword thief", box(3, 3, 4, 4), keywords=["one"]),
        {"type": "Feature", "properties": None, "geometry": box(0, 0, 1, 1)},
    ]}
    seen = []
    with session_scope(db_url) as session:
        result = zones.import_zones(session, collection, NOW, progress=seen.append)
    assert (result["created"], result["updated"]) == (1, 1)
    assert [(r["feature"], r["code"], sorted(r["errors"])) for r in result["rejected"]] == [
        (2, "z3", ["geometry"]), (3, "z1", ["code"]), (4, None, ["code"]), (5, "z4", ["keywords"]),
        (6, None, ["code", "name"])]
    assert len(seen) == 7
    with session_scope(db_url, readonly=True) as session:
        assert {z.code: z.name for z in session.scalars(select(Zone))} == {"z1": "One", "z2": "Two"}


def test_import_refuses_something_that_is_not_a_feature_collection(db_url):
    with session_scope(db_url) as session:
        with pytest.raises(InvalidInput):
            zones.import_zones(session, box(0, 0, 1, 1), NOW)


def test_deleting_a_zone_drops_its_followers_links_but_not_the_residents(db_url):
    with session_scope(db_url) as session:
        zones.put_zone(session, "gone", {"name": "Gone", "geometry": box(0, 0, 1, 1)}, NOW)
        sub = Subscriber(phone="+16175550111", channels=["sms"])
        sub.zone_links = [SubscriberZone(zone_code="gone"), SubscriberZone(zone_code="kept")]
        session.add(sub)
    with session_scope(db_url) as session:
        assert zones.delete_zone(session, "gone") == 1
        with pytest.raises(NotFound):
            zones.delete_zone(session, "gone")
    with session_scope(db_url, readonly=True) as session:
        assert session.scalars(select(SubscriberZone.zone_code)).all() == ["kept"]
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 1


def test_list_zones_pages_by_code_and_counts_followers(db_url):
    with session_scope(db_url) as session:
        for code in ("c", "a", "b"):
            zones.put_zone(session, code, {"name": code.upper(), "geometry": box(0, 0, 1, 1)}, NOW)
        session.add(Subscriber(phone="+16175550112", channels=["sms"], zone_links=[SubscriberZone(zone_code="b")]))
    with session_scope(db_url, readonly=True) as session:
        items, total = zones.list_zones(session, page=1, per_page=2)
        assert ([z.code for z in items], total) == (["a", "b"], 3)
        assert zones.follower_counts(session, ["a", "b"]) == {"a": 0, "b": 1}


def test_the_import_zones_command_reports_counts_and_rejected_features(db_url, env, tmp_path, monkeypatch, capsys):
    path = tmp_path / "beats.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature("b1", "Beat 1", box(0, 0, 1, 1)), feature("b2", "Beat 2", box(0, 0, 1, 95))]}))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["import-zones", str(path)]) == 0
    out = capsys.readouterr().out
    assert "created 1, updated 0, rejected 1" in out
    assert "feature 1 (b2): geometry: The shape's outline, point 3: latitude 95 is out of range" in out
    assert cli.main(["import-zones", str(tmp_path / "missing.geojson")]) == 1
