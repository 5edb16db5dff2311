"""The preview's in-memory reach: counts equal shapely's exact answer and the fan-out's, and
no write (ORM or raw SQL, moved, added, imported, erased, redrawn, followed) leaves it stale."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from sqlalchemy import text

from notifier import geo, reach, reach_stamps
from notifier.audience import iter_recipients, preview
from notifier.db import get_engine, session_scope, upgrade
from notifier.models import Location, Subscriber, SubscriberZone, Zone
from tests.notifier.test_audience import add, add_zone, ids, make_alert, reached, square

# A concave shape (a U) with a hole, the kind a dispatcher draws around a plume.
U_SHAPE = {"type": "Polygon", "coordinates": [
    [[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3], [0, 0]],
    [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6], [0.2, 0.2]]]}
WEST, EAST = square(-1, -1, 1.5, 4), square(1.5, -1, 4, 4)


@pytest.fixture
def town(db_url):
    """300 residents at random, some on the shape's edges and corners, two zones, follows."""
    rng = np.random.default_rng(15)
    points = list(zip(rng.uniform(-0.5, 3.5, 280).round(2), rng.uniform(-0.5, 3.5, 280).round(2)))
    points += [(0, 0), (3, 1.5), (1.5, 1), (0.2, 0.4), (1, 2), (2, 2.5), (0.4, 0.6), (1.5, 3)] * 2
    with session_scope(db_url) as session:
        add_zone(session, "west", WEST)
        add_zone(session, "east", EAST)
        for n, (lon, lat) in enumerate(points):
            add(session, at=[(float(lon), float(lat))], zones=["east"] if n % 7 == 0 else (),
                groups=["test"] if n % 5 == 0 else ())
        add(session, zones=["west"])  # a keyword sign-up: a zone, no location
    return db_url


def exact_located(db_url, geometry) -> int:
    """Residents with a location in `geometry` (edges count), by shapely on every point."""
    shape = shapely.geometry.shape(geometry)
    with session_scope(db_url, readonly=True) as session:
        rows = session.execute(text("SELECT subscriber_id, lon, lat FROM locations")).all()
    return len({sub for sub, lon, lat in rows if shape.intersects(shapely.Point(lon, lat))})


def previewed(db_url, settings, area, status="Actual") -> dict:
    with session_scope(db_url, readonly=True) as session:
        return preview(session, make_alert(area, status=status), settings)


def check(db_url, settings, area, status="Actual") -> dict:
    """The preview of `area`, asserting it counts whom the fan-out (SQL, no cache) reaches."""
    result = previewed(db_url, settings, area, status)
    alert = make_alert(area, status=status)
    assert ids(reached(db_url, alert, settings))  # the area reaches someone
    with session_scope(db_url, readonly=True) as session:
        sent = {r.subscriber_id for batch in iter_recipients(session, alert, settings)
                for r in batch if r.skip_reason is None}
    assert result["recipients"] == len(sent)
    return result


def test_the_preview_counts_exactly_whom_shapely_puts_in_a_concave_shape_with_a_hole(town, settings):
    result = check(town, settings, {"geojson": U_SHAPE})
    assert result["reasons"]["location"] == exact_located(town, U_SHAPE) > 0


def test_a_zone_only_preview_counts_the_zone_s_residents_and_followers(town, settings):
    result = check(town, settings, {"zones": ["west"]})
    assert result["reasons"]["location"] == exact_located(town, WEST)
    assert result["reasons"]["zone"] == 1
    assert result["recipients"] == exact_located(town, WEST) + 1


def test_an_exercise_reaches_only_the_test_group_in_the_preview_and_the_fan_out(town, settings):
    everyone = check(town, settings, {"zones": ["west", "east"]})
    tested = check(town, settings, {"zones": ["west", "east"]}, status="Exercise")
    assert 0 < tested["recipients"] < everyone["recipients"]


def test_a_resident_who_moves_is_counted_where_they_now_live(town, settings):
    before = check(town, settings, {"geojson": U_SHAPE})["reasons"]["location"]
    with session_scope(town) as session:
        outside = session.query(Location).filter(Location.lon > 3.2).first()
        outside.lon, outside.lat = 0.5, 2.0  # into the U's left arm
    assert check(town, settings, {"geojson": U_SHAPE})["reasons"]["location"] == before + 1


def test_a_resident_added_through_the_orm_is_counted(town, settings):
    before = check(town, settings, {"zones": ["east"]})["recipients"]
    with session_scope(town) as session:
        add(session, at=[(2.5, 2.5)])
    assert check(town, settings, {"zones": ["east"]})["recipients"] == before + 1


def test_residents_imported_in_bulk_with_raw_sql_are_counted(town, settings):
    before = check(town, settings, {"geojson": U_SHAPE})["reasons"]["location"]
    with session_scope(town) as session:
        conn = session.connection()
        top = conn.execute(text("SELECT max(id) FROM subscribers")).scalar()
        rows = [{"id": top + k, "phone": f"+1617999{k:04d}"} for k in range(1, 51)]
        conn.execute(text("INSERT INTO subscribers (id, phone, language, channels, created_at, "
                          "updated_at) VALUES (:id, :phone, 'en', '[\"sms\"]', "
                          "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), rows)
        conn.execute(text("INSERT INTO locations (subscriber_id, lat, lon) VALUES (:id, 2.5, 0.5)"),
                     rows)
    after = check(town, settings, {"geojson": U_SHAPE})["reasons"]["location"]
    assert after == before + 50 == exact_located(town, U_SHAPE)


def test_an_erased_resident_is_no_longer_counted(town, settings):
    before = check(town, settings, {"zones": ["west"]})
    with session_scope(town) as session:
        sub_id = session.execute(text("SELECT subscriber_id FROM locations WHERE lon < 1.4 "
                                      "AND lon > -0.9 ORDER BY id LIMIT 1")).scalar()
        session.delete(session.get(Subscriber, sub_id))
    after = check(town, settings, {"zones": ["west"]})
    assert after["reasons"]["location"] == before["reasons"]["location"] - 1


def test_a_redrawn_zone_reaches_the_residents_inside_its_new_outline(town, settings):
    check(town, settings, {"zones": ["west"]})
    smaller = square(-1, -1, 0.5, 4)
    with session_scope(town) as session:
        zone = session.get(Zone, "west")
        zone.geometry, zone.max_lon = smaller, 0.5
    result = check(town, settings, {"zones": ["west"]})
    assert result["reasons"]["location"] == exact_located(town, smaller)


def test_a_follow_added_with_raw_sql_is_counted(town, settings):
    before = check(town, settings, {"zones": ["west"]})["reasons"]["zone"]
    with session_scope(town) as session:
        far = session.execute(text("SELECT subscriber_id FROM locations WHERE lon > 3.2 "
                                   "ORDER BY id LIMIT 3")).scalars().all()
        session.connection().execute(text("INSERT INTO subscriber_zones (subscriber_id, zone_code) "
                                          "VALUES (:s, 'west')"), [{"s": s} for s in far])
    assert check(town, settings, {"zones": ["west"]})["reasons"]["zone"] == before + 3


def test_a_preview_inside_a_rolled_back_write_leaves_no_stale_reach(town, settings):
    before = check(town, settings, {"zones": ["east"]})["recipients"]
    with session_scope(town) as session:
        add(session, at=[(2.5, 2.5)])
        assert preview(session, make_alert({"zones": ["east"]}), settings)["recipients"] == before + 1
        session.rollback()
    assert check(town, settings, {"zones": ["east"]})["recipients"] == before
    with session_scope(town) as session:
        add(session, at=[(5.0, 2.5)])  # outside every zone: a write that changes no count
    assert check(town, settings, {"zones": ["east"]})["recipients"] == before


def test_writes_that_cannot_move_a_reach_leave_the_stamps_alone(town):
    with session_scope(town) as session:
        before = reach_stamps.current(session.connection())
        session.query(Subscriber).filter(Subscriber.id == 1).update({"name": "Ada"})
        session.flush()
        assert reach_stamps.current(session.connection()) == before
        session.add(SubscriberZone(subscriber_id=1, zone_code="west"))
        session.flush()
        stamped = reach_stamps.current(session.connection())
    assert stamped["subscriber_zones"] != before.get("subscriber_zones")
    assert stamped["subscribers"] == before["subscribers"]


def test_the_migration_installs_the_triggers_that_stamp_raw_writes(empty_url):
    upgrade(empty_url)
    with get_engine(empty_url).begin() as conn:
        before = reach_stamps.current(conn)
        conn.execute(text("INSERT INTO subscribers (id, phone, language, channels, created_at, "
                          "updated_at) VALUES (1, '+16175550100', 'en', '[]', CURRENT_TIMESTAMP, "
                          "CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO locations (subscriber_id, lat, lon) VALUES (1, 1, 1)"))
        after = reach_stamps.current(conn)
    assert after["locations"] != before.get("locations")
    assert after["subscribers"] != before.get("subscribers")
    assert after.get("zones") == before.get("zones")


def test_an_opt_out_written_with_raw_sql_leaves_the_preview_s_sms_count(town, settings):
    before = check(town, settings, {"zones": ["east"]})["deliveries"]["sms"]
    with session_scope(town) as session:
        phone = session.execute(text("SELECT s.phone FROM subscribers s JOIN locations l ON "
                                     "l.subscriber_id = s.id WHERE l.lon > 2 ORDER BY s.id LIMIT 1")
                                ).scalar()
        session.connection().execute(text("INSERT INTO opt_outs (address, channel, at, source) "
                                          "VALUES (:p, 'sms', CURRENT_TIMESTAMP, 'keyword')"),
                                     {"p": phone})
    assert check(town, settings, {"zones": ["east"]})["deliveries"]["sms"] == before - 1


def test_the_reach_of_each_named_zone_is_what_a_send_to_that_zone_alone_reaches(town):
    alert = make_alert({"zones": ["west", "east"]})
    with session_scope(town, readonly=True) as session:
        kept = reach.reach_by_zone(session, alert)
        alone = {code: reach.resolve(session, alert, geo.parse_area({"zones": [code]})).count
                 for code in ("west", "east")}
    assert kept == alone
    assert kept["west"] == exact_located(town, WEST) + 1


def test_a_resident_erased_with_raw_sql_takes_their_locations_along(town, settings):
    before = check(town, settings, {"geojson": U_SHAPE})["reasons"]["location"]
    with session_scope(town) as session:
        inside = session.execute(text("SELECT subscriber_id FROM locations WHERE lon BETWEEN 0.1 "
                                      "AND 0.9 AND lat BETWEEN 1.2 AND 2.8 LIMIT 1")).scalar()
        session.connection().execute(text("DELETE FROM subscribers WHERE id = :s"), {"s": inside})
    after = check(town, settings, {"geojson": U_SHAPE})["reasons"]["location"]
    assert after == before - 1 == exact_located(town, U_SHAPE)


def test_a_language_changed_with_raw_sql_is_counted_in_that_language(town, settings):
    area = {"zones": ["west", "east"]}
    def spanish():
        readers = check(town, settings, area)["resident_languages"]
        return sum(e["residents"] for e in readers if e["language"] == "es")
    assert spanish() == 0
    with session_scope(town) as session:
        session.connection().execute(text("UPDATE subscribers SET language = 'es' WHERE id <= 3"))
    assert spanish() == 3
