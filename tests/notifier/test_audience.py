"""Who an alert reaches: areas, zones, the test group, channels, opt-outs, and the preview."""
from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest
import shapely

from notifier import geo
from notifier.audience import iter_recipients, preview
from notifier.db import session_scope
from notifier.geo import EARTH_RADIUS_M
from notifier.models import Alert, Location, OptOut, Subscriber, SubscriberGroup, SubscriberZone, Zone

_numbers = itertools.count(100)


def square(west, south, east, north) -> dict:
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north],
                                                [west, north], [west, south]]]}


def add(session, *, at=(), zones=(), groups=(), language="en", channels=("sms",), phone=True,
        email=None) -> int:
    """A resident with locations `at` as (lon, lat); returns the id."""
    sub = Subscriber(phone=f"+1617555{next(_numbers):04d}" if phone else None, email=email,
                     language=language, channels=list(channels))
    sub.locations = [Location(lon=lon, lat=lat) for lon, lat in at]
    sub.zone_links = [SubscriberZone(zone_code=z) for z in zones]
    sub.group_links = [SubscriberGroup(name=g) for g in groups]
    session.add(sub)
    session.flush()
    return sub.id


def add_zone(session, code, geometry):
    west, south, east, north = shapely.geometry.shape(geometry).bounds
    session.add(Zone(code=code, name=code.title(), geometry=geometry,
                     min_lon=west, min_lat=south, max_lon=east, max_lat=north))


def make_alert(area, status="Actual", channels=("sms",), messages=None, confirm=False) -> Alert:
    return Alert(status=status, msg_type="Alert", headline="Shelter in place", confirm=confirm,
                 messages=messages or {"en": "Stay indoors."}, channels=list(channels), area=area)


def reached(db_url, alert, settings, batch_size=1000) -> set[tuple[int, str]]:
    with session_scope(db_url, readonly=True) as session:
        batches = list(iter_recipients(session, alert, settings, batch_size))
    pairs = [(r.subscriber_id, r.channel) for batch in batches for r in batch]
    assert len(pairs) == len(set(pairs)), "a resident counted twice on a channel"
    return set(pairs)


def ids(pairs) -> set[int]:
    return {sub for sub, _ in pairs}


def test_a_polygon_reaches_residents_on_it_and_in_it_but_not_in_its_hole_or_notch(db_url, settings):
    u_shape = {"type": "Polygon", "coordinates": [
        [[0, 0], [10, 0], [10, 10], [7, 10], [7, 3], [3, 3], [3, 10], [0, 10], [0, 0]],
        [[8, 1], [9, 1], [9, 2], [8, 2], [8, 1]]]}
    with session_scope(db_url) as s:
        inside = add(s, at=[(1, 5)])
        on_edge = add(s, at=[(5, 3)])
        on_vertex = add(s, at=[(7, 10)])
        on_hole_border = add(s, at=[(8, 1.5)])
        add(s, at=[(5, 5)])  # in the notch
        add(s, at=[(8.5, 1.5)])  # in the hole
        add(s, at=[(20, 20)])
        two_homes = add(s, at=[(50, 50), (9, 9)])
    got = reached(db_url, make_alert({"geojson": u_shape}), settings)
    assert ids(got) == {inside, on_edge, on_vertex, on_hole_border, two_homes}


def test_a_circle_reaches_by_great_circle_distance(db_url, settings):
    m_per_deg = EARTH_RADIUS_M * math.pi / 180
    with session_scope(db_url) as s:
        just_inside = add(s, at=[(-71.0, 42.0 + 499 / m_per_deg)])
        add(s, at=[(-71.0, 42.0 + 501 / m_per_deg)])
        centre = add(s, at=[(-71.0, 42.0)])
    got = reached(db_url, make_alert({"circles": [{"lat": 42.0, "lon": -71.0, "radius_m": 500}]}), settings)
    assert ids(got) == {just_inside, centre}


def test_a_named_zone_reaches_its_followers_and_residents_inside_it_only(db_url, settings):
    with session_scope(db_url) as s:
        add_zone(s, "beat-3", square(0, 0, 1, 1))
        add_zone(s, "beat-4", square(1, 0, 2, 1))
        follower_far_away = add(s, at=[(30, 30)], zones=["beat-3"])
        lives_inside = add(s, at=[(0.5, 0.5)])
        follower_without_location = add(s, zones=["beat-3", "beat-4"])
        add(s, at=[(1.5, 0.5)], zones=["beat-4"])  # the other zone is not pulled in
    got = reached(db_url, make_alert({"zones": ["beat-3"]}), settings)
    assert ids(got) == {follower_far_away, lives_inside, follower_without_location}


def test_a_drawn_shape_reaches_followers_of_zones_it_overlaps_but_not_of_zones_it_touches(db_url, settings):
    with session_scope(db_url) as s:
        add_zone(s, "overlapped", square(0, 0, 2, 2))
        add_zone(s, "touching", square(3, 0, 4, 2))  # shares the x=3 border with the drawing
        add_zone(s, "far", square(10, 10, 11, 11))
        overlapped_follower = add(s, at=[(0.5, 0.5)], zones=["overlapped"])
        add(s, at=[(3.5, 1)], zones=["touching"])
        add(s, zones=["far"])
        in_drawing = add(s, at=[(2.5, 1)])
    got = reached(db_url, make_alert({"geojson": square(1, 0, 3, 2)}), settings)
    assert ids(got) == {overlapped_follower, in_drawing}


def test_a_circle_reaches_followers_of_a_zone_it_reaches_into(db_url, settings):
    m_per_deg = EARTH_RADIUS_M * math.pi / 180
    with session_scope(db_url) as s:
        add_zone(s, "east", square(0.01, -1, 1, 1))  # 0.01° (≈1.1 km) east of the centre
        follower = add(s, zones=["east"])
    assert ids(reached(db_url, make_alert({"circles": [{"lat": 0, "lon": 0, "radius_m": 1200}]}), settings)) == {follower}
    assert reached(db_url, make_alert({"circles": [{"lat": 0, "lon": 0, "radius_m": 0.01 * m_per_deg * 0.99}]}),
                   settings) == set()


def test_everyone_reaches_every_subscriber_in_batches(db_url, settings):
    with session_scope(db_url) as s:
        everyone = {add(s) for _ in range(5)} | {add(s, at=[(100, 10)])}
    with session_scope(db_url, readonly=True) as s:
        batches = list(iter_recipients(s, make_alert({"everyone": True}), settings, batch_size=2))
    assert [len(b) for b in batches] == [2, 2, 2]
    assert {r.subscriber_id for b in batches for r in b} == everyone


@pytest.mark.parametrize("status", ["Exercise", "Test"])
def test_exercise_and_test_alerts_reach_only_the_test_group(db_url, settings, status):
    with session_scope(db_url) as s:
        tester = add(s, at=[(0.5, 0.5)], groups=["test"])
        add(s, at=[(0.5, 0.5)], groups=["staff"])
        add(s, at=[(0.5, 0.5)])
        tester_elsewhere = add(s, at=[(50, 50)], groups=["test", "staff"])
    assert ids(reached(db_url, make_alert({"geojson": square(0, 0, 1, 1)}, status=status), settings)) == {tester}
    assert ids(reached(db_url, make_alert({"everyone": True}, status=status), settings)) == {tester, tester_elsewhere}
    with session_scope(db_url, readonly=True) as s:
        result = preview(s, make_alert({"everyone": True}, status=status), settings)
    assert result["recipients"] == 2 and result["reasons"]["everyone"] == 2
    assert result["warnings"][0] == f"{status} alert: only the 2 members of the test group it reaches will receive it."


def test_channels_are_the_alerts_and_the_residents_with_an_address(db_url, settings):
    at = [(0.5, 0.5)]
    with session_scope(db_url) as s:
        both = add(s, at=at, channels=["email", "sms", "voice"], email="a@example.org")
        voice_only = add(s, at=at, channels=["voice"])
        no_phone = add(s, at=at, channels=["sms", "email"], phone=False, email="b@example.org")
        default = add(s, at=at, channels=[], email="c@example.org")
    alert = make_alert({"geojson": square(0, 0, 1, 1)}, channels=["sms", "email", "social"])
    with session_scope(db_url, readonly=True) as s:
        recipients = [r for b in iter_recipients(s, alert, settings) for r in b]
    got = [(r.subscriber_id, r.channel, r.address) for r in recipients]
    phone_of = {r.subscriber_id: r.address for r in recipients if r.channel == "sms"}
    assert got == [(both, "email", "a@example.org"), (both, "sms", phone_of[both]),
                   (no_phone, "email", "b@example.org"),
                   (default, "sms", phone_of[default]), (default, "email", "c@example.org")]
    assert voice_only not in phone_of and phone_of[both].startswith("+1617555")


def test_an_opted_out_channel_comes_back_skipped_and_the_others_are_sent(db_url, settings):
    with session_scope(db_url) as s:
        sub = add(s, at=[(0.5, 0.5)], channels=["sms", "voice", "email"], email="a@example.org")
        phone = s.get(Subscriber, sub).phone
        s.add(OptOut(address=phone, channel="sms", source="keyword"))
        s.add(OptOut(address="a@example.org", channel="voice", source="admin"))  # wrong address kind
    alert = make_alert({"geojson": square(0, 0, 1, 1)}, channels=["sms", "voice", "email"])
    with session_scope(db_url, readonly=True) as s:
        recipients = [r for b in iter_recipients(s, alert, settings) for r in b]
    assert {(r.channel, r.skip_reason) for r in recipients} == {
        ("sms", "opted out"), ("voice", None), ("email", None)}


def test_a_resident_reached_many_ways_counts_once_per_channel(db_url, settings):
    with session_scope(db_url) as s:
        add_zone(s, "beat-3", square(0, 0, 1, 1))
        sub = add(s, at=[(0.5, 0.5), (0.6, 0.6), (5, 5)], zones=["beat-3"], channels=["sms", "email"],
                  email="a@example.org")
    area = {"geojson": square(0, 0, 1, 1), "circles": [{"lat": 5, "lon": 5, "radius_m": 100}],
            "zones": ["beat-3"]}
    assert reached(db_url, make_alert(area, channels=["sms", "email"]), settings) == {(sub, "sms"), (sub, "email")}


def test_each_resident_gets_the_text_language_along_the_fallback_chain(db_url, settings):
    with session_scope(db_url) as s:
        mexican = add(s, at=[(0.5, 0.5)], language="es-MX")
        korean = add(s, at=[(0.5, 0.5)], language="ko")
    alert = make_alert({"geojson": square(0, 0, 1, 1)}, messages={"es": "Quédese adentro.", "en": "Stay indoors."})
    with session_scope(db_url, readonly=True) as s:
        got = {r.subscriber_id: (r.language, r.resident_language) for b in iter_recipients(s, alert, settings) for r in b}
    assert got == {mexican: ("es", "es-MX"), korean: ("en", "ko")}


def test_preview_counts_residents_deliveries_languages_and_warns(db_url, settings):
    with session_scope(db_url) as s:
        add_zone(s, "beat-3", square(0, 0, 1, 1))
        a = add(s, at=[(0.5, 0.5)], language="es", channels=["sms", "email"], email="a@example.org")
        add(s, at=[(0.5, 0.5)], language="en", channels=["sms"])
        add(s, zones=["beat-3"], language="ko", channels=["sms", "voice"])
        add(s, at=[(0.5, 0.5)], language="en", channels=["email"])  # no email address
        opted = add(s, at=[(0.2, 0.2)], language="en", channels=["sms"])
        s.add(OptOut(address=s.get(Subscriber, opted).phone, channel="sms", source="keyword"))
        add(s, at=[(5, 5)])
        assert a
    alert = make_alert({"geojson": square(0, 0, 1, 1), "zones": ["beat-3"]}, channels=["sms", "voice", "email"],
                       messages={"en": "Stay indoors.", "es": "Quédese adentro.", "fr": "Restez à l’intérieur."})
    with session_scope(db_url, readonly=True) as s:
        result = preview(s, alert, settings)
    assert result["recipients"] == 3
    assert result["deliveries"] == {"sms": 3, "voice": 1, "email": 1}
    assert result["languages"] == {"en": 2, "es": 1}
    assert result["sms"]["en"] == {"encoding": "GSM-7", "segments": 1, "characters": len("Tocsin demo: Stay indoors.")}
    assert result["sms"]["es"]["encoding"] == "GSM-7"  # é is in the GSM alphabet
    assert result["sms"]["fr"]["encoding"] == "UCS-2"  # ’ is not
    assert result["reasons"] == {"location": 4, "zone": 1, "everyone": 0}
    assert result["area_km2"] == pytest.approx(2 * 12_364, rel=3e-3)  # the drawing plus the zone
    assert result["warnings"] == [
        "1 resident(s) reached take none of the alert's channels (by their choice or for want of an address).",
        "1 resident(s) opted out of sms are left out.",
        "Nobody reached gets the 'fr' text.",
        "1 resident(s) read a language with no text (ko: 1 get en); they get the fallback text.",
        "The 'fr' SMS is UCS-2 (70 characters a segment instead of 160) because of '’' (U+2019).",
    ]


def test_preview_of_an_area_covering_nobody_says_so(db_url, settings):
    with session_scope(db_url) as s:
        add(s, at=[(5, 5)])
    with session_scope(db_url, readonly=True) as s:
        result = preview(s, make_alert({"geojson": square(0, 0, 1, 1)}), settings)
        exercise = preview(s, make_alert({"everyone": True}, status="Exercise"), settings)
    assert result["recipients"] == 0 and result["deliveries"] == {"sms": 0, "voice": 0, "email": 0}
    assert result["warnings"] == ["The area reaches no resident."]
    assert exercise["warnings"] == ["The area reaches no member of the test group. "
                                    "Exercise and Test alerts go only to the test group."]


def test_naming_one_of_two_overlapping_zones_reaches_only_its_own_polygon_and_followers(db_url, settings):
    with session_scope(db_url) as s:
        add_zone(s, "a", square(0, 0, 2, 2))
        add_zone(s, "b", square(1, 1, 3, 3))  # overlaps a on 1..2 × 1..2
        in_both = add(s, at=[(1.5, 1.5)])
        on_a_border_inside_b = add(s, at=[(2, 2.5)])
        only_b = add(s, at=[(2.5, 2.5)])
        follows_b_inside_a = add(s, at=[(0.5, 0.5)], zones=["b"])
        follows_b = add(s, zones=["b"])
        follows_a = add(s, zones=["a"])
    assert ids(reached(db_url, make_alert({"zones": ["a"]}), settings)) == {in_both, follows_b_inside_a, follows_a}
    assert ids(reached(db_url, make_alert({"zones": ["b"]}), settings)) == {
        in_both, on_a_border_inside_b, only_b, follows_b_inside_a, follows_b}


def test_a_circle_across_the_antimeridian_reaches_residents_on_both_sides(db_url, settings):
    m_per_deg = EARTH_RADIUS_M * math.pi / 180
    with session_scope(db_url) as s:
        east = add(s, at=[(-180 + 900 / m_per_deg, 0)])
        west = add(s, at=[(180 - 900 / m_per_deg, 0)])
        add(s, at=[(-180 + 1100 / m_per_deg, 0)])
        add(s, at=[(0, 0)])
    assert ids(reached(db_url, make_alert({"circles": [{"lat": 0, "lon": 180, "radius_m": 1000}]}), settings)) == {
        east, west}


def test_a_circle_around_the_pole_reaches_every_longitude_within_its_radius(db_url, settings):
    m_per_deg = EARTH_RADIUS_M * math.pi / 180
    with session_scope(db_url) as s:
        near = {add(s, at=[(lon, 90 - 4000 / m_per_deg)]) for lon in (-179, -90, 0, 90, 179)}
        add(s, at=[(45, 90 - 6000 / m_per_deg)])
    circle = {"lat": 90 - 1000 / m_per_deg, "lon": 0, "radius_m": 5000.5}  # the far side is 5,000 m
    assert ids(reached(db_url, make_alert({"circles": [circle]}), settings)) == near


def fill_a_mixed_town(s) -> None:
    """Residents in every combination that changes a count: addresses, preferences, opt-outs,
    languages, test group, reasons to be reached (some several), none."""
    add_zone(s, "north", square(0, 1, 2, 2))
    add_zone(s, "south", square(0, 0, 2, 1))
    places = [[(0.5, 0.5)], [(1.5, 1.5)], [(5, 5)], [], [(0.5, 0.5), (1.5, 1.5)]]
    follows = [[], ["north"], ["south"], ["north", "south"]]
    prefs = [["sms"], ["sms", "email"], ["email", "voice"], [], ["voice"]]
    languages = ["en", "es", "es-MX", "ko", "fr"]
    for i, (at, zones, channels, language) in enumerate(itertools.islice(
            itertools.product(places, follows, prefs, languages), 0, None, 3)):
        sub_id = add(s, at=at, zones=zones, channels=channels, language=language,
                     phone=i % 7 != 0, email=f"r{i}@example.org" if i % 3 else None,
                     groups=["test"] if i % 4 == 0 else [])
        sub = s.get(Subscriber, sub_id)
        for channel, every in (("sms", 5), ("voice", 6), ("email", 4)):
            address = sub.email if channel == "email" else sub.phone
            if address and i % every == 1:
                s.add(OptOut(address=address, channel=channel, source="keyword"))


@pytest.mark.parametrize("area, status", [
    ({"geojson": square(0, 0, 1, 2)}, "Actual"),
    ({"zones": ["north"]}, "Actual"),
    ({"circles": [{"lat": 1, "lon": 1, "radius_m": 50_000}], "zones": ["south"]}, "Actual"),
    ({"everyone": True}, "Actual"),
    ({"everyone": True}, "Exercise"),
    ({"geojson": square(0, 0, 2, 2)}, "Test"),
])
def test_the_preview_counts_exactly_what_the_fan_out_would_send(db_url, settings, area, status):
    with session_scope(db_url) as s:
        fill_a_mixed_town(s)
    alert = make_alert(area, status=status, channels=["sms", "voice", "email"],
                       messages={"en": "Stay indoors.", "es": "Quédese adentro."})
    with session_scope(db_url, readonly=True) as s:
        result = preview(s, alert, settings)
        recipients = [r for batch in iter_recipients(s, alert, settings, batch_size=7) for r in batch]
    sent = [r for r in recipients if r.skip_reason is None]
    assert result["deliveries"] == {c: sum(r.channel == c for r in sent) for c in ("sms", "voice", "email")}
    assert result["recipients"] == len({r.subscriber_id for r in sent})
    first_text = {}
    for r in sent:
        first_text.setdefault(r.subscriber_id, r.language)
    assert result["languages"] == dict(Counter(first_text.values()))
    skipped = Counter(r.channel for r in recipients if r.skip_reason)
    for channel, n in skipped.items():
        assert f"{n} resident(s) opted out of {channel} are left out." in result["warnings"]
    assert sum(result["deliveries"].values()) > 0


def test_the_preview_warns_of_an_area_larger_than_any_zone_and_of_unplaceable_residents(db_url, settings):
    with session_scope(db_url) as s:
        add_zone(s, "small", square(0, 0, 0.1, 0.1))
        add(s, at=[(0.05, 0.05)])
        add(s)  # no location, no zone
        add(s, zones=["small"])
    with session_scope(db_url, readonly=True) as s:
        big = preview(s, make_alert({"geojson": square(0, 0, 1, 1)}), settings)["warnings"]
        small = preview(s, make_alert({"geojson": square(0, 0, 0.05, 0.05)}), settings)["warnings"]
        everyone = preview(s, make_alert({"everyone": True}), settings)["warnings"]
    assert "The drawn area (12,363.7 km²) is larger than any zone (none exceeds 123.6 km²): " \
           "check it is the area you meant." in big
    assert "1 resident(s) have no location and no zone: only an alert to everyone reaches them." in big
    assert not any("larger than any zone" in w for w in small)
    assert not any("no location" in w for w in everyone)


def test_the_prefilter_bands_lose_no_one_a_brute_force_check_would_reach(db_url, settings):
    # A slanted, concave shape with a hole, over a grid that puts points on edges, on vertices
    # and on the prefilter's band boundaries (every 1/12 of the height).
    shape = {"type": "Polygon", "coordinates": [
        [[0, 0], [6, 3], [12, 0], [9, 12], [6, 6], [3, 12], [0, 0]],
        [[5, 4], [7, 4], [7, 5], [5, 5], [5, 4]]]}
    points = [(x / 2, y / 2) for x in range(-2, 27) for y in range(-2, 27)]
    with session_scope(db_url) as s:
        sub_of = {p: add(s, at=[p]) for p in points}
    expected = {sub_of[p] for p, hit in zip(points, geo.parse_area({"geojson": shape}).covers(
        [p[1] for p in points], [p[0] for p in points])) if hit}
    assert len(expected) > 100
    assert ids(reached(db_url, make_alert({"geojson": shape}), settings)) == expected


def test_the_preview_warns_when_twilio_cannot_speak_a_called_residents_language(db_url, settings):
    with session_scope(db_url) as s:
        add(s, at=[(0.5, 0.5)], language="ht", channels=["voice"])
        add(s, at=[(0.5, 0.5)], language="ht", channels=["sms"])  # not called: no warning for it
        add(s, at=[(0.5, 0.5)], language="es", channels=["voice"])
    alert = make_alert({"geojson": square(0, 0, 1, 1)}, channels=["sms", "voice"],
                       messages={"en": "Stay indoors.", "ht": "Rete anndan.", "es": "Quédese adentro."})
    with session_scope(db_url, readonly=True) as s:
        warnings = preview(s, alert, settings)["warnings"]
    voice = [w for w in warnings if "called in" in w]
    assert voice == ["1 resident(s) called in 'ht' hear the 'en' text: Twilio has no 'ht' voice."]
