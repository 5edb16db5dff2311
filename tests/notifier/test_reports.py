"""The after-action report: exact nearest-rank milestones, buckets, failures and reach from rows."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from channels.error_words import describe
from notifier import audit, report_times, reports
from notifier.db import session_scope
from notifier.models import SubscriberZone, Zone
from tests.admin_ui.conftest import make_alert, make_delivery, make_subscriber

T0 = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def report(db_url, alert_id: int, now: datetime = at(3600)) -> dict:
    from notifier.models import Alert

    with session_scope(db_url, readonly=True) as session:
        return reports.build(session, session.get(Alert, alert_id), now, describe)


def events(result: dict) -> dict:
    return {e["event"]: e for e in result["timeline"]}


def sent_alert(session, residents: int, **overrides):
    alert = make_alert(session, **{"created_at": at(-120), "sent_at": T0, "state": "sent",
                                   "fanned_out_at": at(1), **overrides})
    people = [make_subscriber(session, phone=f"+1617555{i:04d}", name=None) for i in range(residents)]
    return alert, people


def test_the_nearest_rank_milestones_are_the_exact_kth_message_of_those_meant_to_go(db_url):
    with session_scope(db_url) as s:
        alert, people = sent_alert(s, 11, approved_by="user:sam", approved_at=at(-60))
        # Ten messages handed over at 1..10 s; the first six delivered at 20..25 s.
        for i, person in enumerate(people[:10]):
            make_delivery(s, alert, person, sent_at=at(i + 1), queued_at=T0,
                          status="delivered" if i < 6 else "sent",
                          delivered_at=at(20 + i) if i < 6 else None)
        make_delivery(s, alert, people[10], status="skipped", sent_at=None,
                      error_message="opted out")
        audit.record(s, "user:dana", "alert.send", f"alert:{alert.id}", {}, T0)
        alert_id = alert.id

    result = report(db_url, alert_id)
    timeline = events(result)
    assert result["totals"] == {"messages": 11, "meant": 10, "residents": 10, "handed_over": 10,
                                "delivered": 6, "acknowledged": 0}
    assert timeline["created"]["seconds"] == -120 and timeline["created"]["by"] == "test"
    assert timeline["approved"] == {"event": "approved", "at": "2026-11-22T02:59:00Z",
                                    "by": "user:sam", "seconds": -60.0}
    assert timeline["sent"]["by"] == "user:dana" and timeline["sent"]["seconds"] == 0
    assert timeline["first_handed_over"]["seconds"] == 1
    # k = ⌈p·10⌉: the 5th, 9th and 10th hand-over.
    assert [timeline[f"handed_over_{p}"]["seconds"] for p in (50, 90, 99)] == [5, 9, 10]
    assert timeline["handed_over_90"]["count"] == 9 and timeline["handed_over_90"]["of"] == 10
    assert timeline["last_handed_over"]["seconds"] == 10
    # Six of ten delivered: 50 % was reached with the 5th, 90 % never.
    assert timeline["delivered_50"]["seconds"] == 24
    assert timeline["delivered_90"]["at"] is None and timeline["delivered_99"]["at"] is None
    assert timeline["cancelled"]["at"] is None
    happened = [e["event"] for e in result["timeline"] if e["at"]]
    assert happened[:5] == ["created", "approved", "sent", "fanned_out", "first_handed_over"]
    assert result["skipped"] == [{"channel": "sms", "reason": "opted out", "count": 1}]


def test_the_ninety_ninth_percentile_of_two_hundred_is_the_one_hundred_and_ninety_eighth(db_url):
    with session_scope(db_url) as s:
        alert, people = sent_alert(s, 200)
        for i, person in enumerate(people):
            make_delivery(s, alert, person, sent_at=at(i * 2 + 2))
        alert_id = alert.id
    timeline = events(report(db_url, alert_id))
    assert timeline["handed_over_50"]["seconds"] == 200
    assert timeline["handed_over_90"]["seconds"] == 360
    assert timeline["handed_over_99"]["seconds"] == 396
    assert timeline["last_handed_over"]["seconds"] == 400


def test_hand_overs_are_counted_per_channel_in_readable_buckets_over_the_send(db_url):
    with session_scope(db_url) as s:
        alert, people = sent_alert(s, 4, channels=["sms", "email"])
        make_delivery(s, alert, people[0], sent_at=at(0.5), delivered_at=at(3), status="delivered")
        make_delivery(s, alert, people[1], sent_at=at(59), status="sent")
        make_delivery(s, alert, people[2], sent_at=at(61), status="sent")
        make_delivery(s, alert, people[3], channel="email", address="a@example.org",
                      sent_at=at(299), status="sent")
        alert_id = alert.id
    over_time = report(db_url, alert_id)["over_time"]
    # 299 s over at most 60 buckets: 5 s each, 60 of them.
    assert over_time["bucket_seconds"] == 5 and over_time["buckets"] == 60
    sms = over_time["series"]["handed_over"]["sms"]
    assert len(sms) == 60 and sum(sms) == 3 and sms[0] == 1 and sms[11] == 1 and sms[12] == 1
    assert over_time["series"]["handed_over"]["email"][59] == 1
    assert over_time["series"]["delivered"]["sms"][0] == 1
    assert over_time["meant"] == {"sms": 3, "email": 1}


def test_bucket_widths_stay_readable_and_at_most_sixty(db_url):
    assert report_times.bucket_seconds(T0, at(0)) == 1
    assert report_times.bucket_seconds(T0, at(59)) == 1
    assert report_times.bucket_seconds(T0, at(60)) == 2
    assert report_times.bucket_seconds(T0, at(3600)) == 120
    assert report_times.bucket_seconds(T0, at(86400 * 90)) == 86400 * 2
    for span in (1, 7, 61, 299, 1000, 4000, 50_000, 200_000, 10_000_000):
        step = report_times.bucket_seconds(T0, at(span))
        assert report_times.bucket_count(T0, at(span), step) <= 60, span


def test_a_cancelled_alert_shows_who_cancelled_and_the_milestones_it_never_reached(db_url):
    with session_scope(db_url) as s:
        alert, people = sent_alert(s, 4, cancelled_at=at(30), state="cancelled")
        make_delivery(s, alert, people[0], sent_at=at(10))
        for person in people[1:]:
            make_delivery(s, alert, person, status="cancelled", sent_at=None)
        audit.record(s, "token:cad", "alert.cancel", f"alert:{alert.id}", {}, at(30))
        alert_id = alert.id
    result = report(db_url, alert_id)
    timeline = events(result)
    assert timeline["cancelled"] == {"event": "cancelled", "at": "2026-11-22T03:00:30Z",
                                     "by": "token:cad", "seconds": 30.0}
    assert timeline["handed_over_50"]["at"] is None  # 1 of 4 meant
    assert result["channels"]["sms"]["cancelled"] == 3
    order = [e["event"] for e in result["timeline"] if e["at"]]
    assert order.index("first_handed_over") < order.index("cancelled")


def test_an_alert_without_deliveries_gives_a_sane_empty_report(db_url):
    with session_scope(db_url) as s:
        alert = make_alert(s, state="draft", created_at=at(-5))
        alert_id = alert.id
    result = report(db_url, alert_id)
    assert result["totals"]["messages"] == 0 and result["totals"]["meant"] == 0
    assert result["over_time"]["buckets"] == 0 and result["over_time"]["series"] == {
        "handed_over": {}, "delivered": {}}
    assert result["acknowledgements"]["counts"] == [] and result["failures"] == []
    assert result["reach"]["languages"] == [] and result["reach"]["no_zone"]["residents"] == 0
    assert events(result)["sent"]["at"] is None and events(result)["handed_over_50"]["at"] is None
    assert result["generated_at"] == "2026-11-22T04:00:00Z"


def test_failures_are_counted_by_code_with_plain_words(db_url):
    with session_scope(db_url) as s:
        alert, people = sent_alert(s, 4)
        make_delivery(s, alert, people[0], status="undelivered", error_code="30003")
        make_delivery(s, alert, people[1], status="undelivered", error_code="30003")
        make_delivery(s, alert, people[2], status="failed", error_code="x-unknown", sent_at=None)
        make_delivery(s, alert, people[3], status="failed", error_code=None, sent_at=None)
        alert_id = alert.id
    failures = report(db_url, alert_id)["failures"]
    assert failures[0] == {"channel": "sms", "status": "undelivered", "error_code": "30003",
                           "count": 2,
                           "description": "the phone was unreachable (off or out of coverage)"}
    assert {(f["error_code"], f["description"]) for f in failures[1:]} == {
        ("x-unknown", None), (None, "no code was given")}


def test_acknowledgements_are_counted_over_their_own_time_axis(db_url):
    with session_scope(db_url) as s:
        alert, people = sent_alert(s, 3, confirm=True)
        for i, person in enumerate(people):
            make_delivery(s, alert, person, sent_at=at(1),
                          acknowledged_at=at(600 * i + 30) if i < 2 else None)
        alert_id = alert.id
    acks = report(db_url, alert_id)["acknowledgements"]
    assert acks["asked"] is True and acks["count"] == 2
    assert acks["bucket_seconds"] == 15 and acks["buckets"] == 43
    assert acks["counts"][2] == 1 and acks["counts"][42] == 1 and sum(acks["counts"]) == 2


def test_reach_counts_residents_by_language_and_by_the_zones_they_follow(db_url):
    with session_scope(db_url) as s:
        s.add(Zone(code="beat-3", name="Beat 3", geometry=SQUARE, keywords=[]))
        s.add(Zone(code="beat-9", name="Beat 9", geometry=SQUARE, keywords=[]))
        alert, people = sent_alert(s, 4, area={"zones": ["beat-3", "beat-9"]},
                                   channels=["sms", "email"])
        people[1].language = people[2].language = "es"
        for person in people[:3]:
            s.add(SubscriberZone(subscriber_id=person.id, zone_code="beat-3"))
        make_delivery(s, alert, people[0], sent_at=at(1), delivered_at=at(2), status="delivered",
                      acknowledged_at=at(9))
        make_delivery(s, alert, people[0], channel="email", address="ana@example.org",
                      sent_at=at(1))
        make_delivery(s, alert, people[1], language="es", sent_at=at(1))
        make_delivery(s, alert, people[2], language="es", status="failed", sent_at=None)
        make_delivery(s, alert, people[3], sent_at=at(4))
        make_delivery(s, alert, None, address=None, sent_at=at(4))  # a resident since erased
        alert_id = alert.id
    reach = report(db_url, alert_id)["reach"]
    assert reach["languages"] == [
        {"language": "en", "messages": 3, "residents": 2, "handed_over": 2, "delivered": 1,
         "acknowledged": 1},
        {"language": "es", "messages": 2, "residents": 2, "handed_over": 1, "delivered": 0,
         "acknowledged": 0}]
    assert reach["zones"] == [
        {"zone": "beat-3", "name": "Beat 3", "named_by_alert": True, "messages": 4,
         "residents": 3, "handed_over": 2, "delivered": 1, "acknowledged": 1},
        {"zone": "beat-9", "name": "Beat 9", "named_by_alert": True, "messages": 0,
         "residents": 0, "handed_over": 0, "delivered": 0, "acknowledged": 0}]
    assert reach["no_zone"] == {"messages": 1, "residents": 1, "handed_over": 1, "delivered": 0,
                                "acknowledged": 0}
    assert reach["messages_to_erased_residents"] == 1


def test_the_report_names_no_phone_number_or_email(db_url):
    with session_scope(db_url) as s:
        alert, people = sent_alert(s, 2)
        make_delivery(s, alert, people[0], status="failed", error_code="21211",
                      error_message="+16175550000 is not valid", sent_at=None)
        make_delivery(s, alert, people[1], channel="email", address="ana@example.org",
                      status="skipped", error_message="no address ana@example.org")
        alert_id = alert.id
    text = repr(report(db_url, alert_id))
    assert "+1617555" not in text and "ana@example.org" not in text


def test_each_channel_has_its_own_milestones_in_seconds_after_sending(db_url):
    with session_scope(db_url) as s:
        alert, people = sent_alert(s, 4, channels=["sms", "email"])
        for i, person in enumerate(people):
            make_delivery(s, alert, person, sent_at=at(i + 1), delivered_at=at(10 + i),
                          status="delivered")
        make_delivery(s, alert, people[0], channel="email", address="a@example.org",
                      sent_at=at(30))
        alert_id = alert.id
    by_channel = {m["channel"]: m for m in report(db_url, alert_id)["channel_milestones"]}
    assert by_channel["sms"]["meant"] == 4
    assert by_channel["sms"]["handed_over"] == {"count": 4, "first": 1.0, "50": 2.0, "90": 4.0,
                                                "99": 4.0, "last": 4.0}
    assert by_channel["sms"]["delivered"]["50"] == 11.0
    assert by_channel["email"]["handed_over"]["50"] == 30.0
    assert by_channel["email"]["delivered"] == {"count": 0, "first": None, "50": None,
                                                "90": None, "99": None, "last": None}


def test_a_hand_over_stamped_before_the_send_counts_in_the_first_bucket_and_its_rank(db_url):
    with session_scope(db_url) as s:
        alert, people = sent_alert(s, 5)
        # A worker's clock a little behind the web server's: 3 s before `sent_at`.
        for person, seconds in zip(people, (-3, 1, 2, 130, 131)):
            make_delivery(s, alert, person, sent_at=at(seconds))
        alert_id = alert.id
    result = report(db_url, alert_id)
    assert result["over_time"]["bucket_seconds"] == 5
    assert result["over_time"]["series"]["handed_over"]["sms"][0] == 3
    timeline = events(result)
    assert timeline["first_handed_over"]["seconds"] == -3
    assert [timeline[f"handed_over_{p}"]["seconds"] for p in (50, 90, 99)] == [2, 131, 131]
