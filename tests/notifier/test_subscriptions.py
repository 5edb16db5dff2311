"""notifier.subscriptions: records, uniqueness on E.164, erasure, search and the opt-out ledger."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from notifier import delivery_stats, erasure, subscriptions as subs
from notifier.db import session_scope
from notifier.errors import Conflict, InvalidInput
from notifier.models import (Alert, Consent, Delivery, Location, OptOut, Subscriber,
                             SubscriberGroup, SubscriberZone)
from notifier.schemas import make_subscriber_schema

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=timezone.utc)


def create(session, settings, **body):
    return subs.create_subscriber(session, make_subscriber_schema(settings).load(body), NOW, settings)


def update(session, settings, sub, **body):
    data = make_subscriber_schema(settings, partial=True).load(body)
    return subs.update_subscriber(session, sub, data, NOW, settings)


def test_it_creates_a_subscriber_in_the_api_shape(db_url, settings):
    with session_scope(db_url) as session:
        sub = create(session, settings, name="Ana", phone="(617) 555-0100", email="Ana@Example.org",
                     language="es", channels=["sms", "email"], zones=["beat-3"], groups=["test"],
                     locations=[{"label": "home", "lat": 42.36, "lon": -71.06}])
        sub_id = sub.id
    with session_scope(db_url) as session:
        shape = subs.subscriber_dict(session, session.get(Subscriber, sub_id))
    assert shape == {"id": sub_id, "name": "Ana", "phone": "+16175550100", "email": "ana@example.org",
                     "language": "es", "channels": ["sms", "email"],
                     "locations": [{"label": "home", "lat": 42.36, "lon": -71.06}],
                     "zones": ["beat-3"], "groups": ["test"], "topics": [],
                     "opted_out": {"sms": False, "voice": False, "email": False},
                     "quiet_hours": None,
                     "created_at": "2026-11-22T06:00:00Z", "updated_at": "2026-11-22T06:00:00Z"}


@pytest.mark.parametrize("body, channels", [
    ({"phone": "+16175550100"}, ["sms", "voice"]),
    ({"email": "a@example.org"}, ["email"]),
    ({"phone": "+16175550100", "email": "a@example.org"}, ["sms", "voice", "email"]),
    ({"phone": "+16175550100", "email": "a@example.org", "channels": ["email", "voice"]}, ["email", "voice"]),
])
def test_channels_default_to_every_address_they_have(db_url, settings, body, channels):
    with session_scope(db_url) as session:
        assert create(session, settings, **body).channels == channels


@pytest.mark.parametrize("body, field", [
    ({"name": "nobody"}, "phone"),
    ({"email": "a@example.org", "channels": ["sms"]}, "channels"),
    ({"phone": "+16175550100", "channels": ["email"]}, "channels"),
])
def test_impossible_subscribers_are_invalid(db_url, settings, body, field):
    with session_scope(db_url) as session:
        with pytest.raises(InvalidInput) as caught:
            create(session, settings, **body)
    assert field in caught.value.errors


@pytest.mark.parametrize("spelling", ["+1 617 555 0100", "tel:+1-617-555-0100", "６１７５５５０１００",
                                      "٦١٧٥٥٥٠١٠٠", "617.555.0100"])
def test_equivalent_phone_spellings_are_one_subscriber(db_url, settings, spelling):
    with session_scope(db_url) as session:
        first = create(session, settings, phone="(617) 555-0100").id
    with session_scope(db_url) as session:
        with pytest.raises(Conflict) as caught:
            create(session, settings, phone=spelling)
    assert caught.value.existing_id == first
    assert caught.value.message == "phone already registered"


def test_a_known_email_is_a_conflict_whatever_its_case(db_url, settings):
    with session_scope(db_url) as session:
        first = create(session, settings, email="ana@example.org").id
        with pytest.raises(Conflict) as caught:
            create(session, settings, email="ANA@example.ORG", phone="+16175550100")
    assert caught.value.existing_id == first and "email" in caught.value.message


def test_update_changes_only_what_is_given_and_checks_uniqueness(db_url, settings):
    with session_scope(db_url) as session:
        other = create(session, settings, phone="+16175550101").id
        sub = create(session, settings, name="Ana", email="ana@example.org", zones=["a", "b"],
                     locations=[{"lat": 1, "lon": 2}])
        update(session, settings, sub, phone="617-555-0100", zones=["b", "c"])
        assert sub.name == "Ana" and sub.phone == "+16175550100"
        # they gained a phone: its channels join the email they had
        assert sub.channels == ["email", "sms", "voice"]
        with pytest.raises(Conflict) as caught:
            update(session, settings, sub, phone="+1 617 555 0101")
        assert caught.value.existing_id == other
    with session_scope(db_url) as session:
        sub = session.get(Subscriber, sub.id)
        assert sub.phone == "+16175550100"
        assert sorted(z.zone_code for z in sub.zone_links) == ["b", "c"]
        assert [(loc.lat, loc.lon) for loc in sub.locations] == [(1, 2)]
        update(session, settings, sub, email=None)
        assert sub.channels == ["sms", "voice"]
        with pytest.raises(InvalidInput):
            update(session, settings, sub, phone=None)
        with pytest.raises(InvalidInput):
            update(session, settings, sub, channels=["email"])


def test_keeping_a_chosen_channel_order_through_updates(db_url, settings):
    with session_scope(db_url) as session:
        sub = create(session, settings, phone="+16175550100", channels=["voice"])
        update(session, settings, sub, name="Bo")
        assert sub.channels == ["voice"]
        update(session, settings, sub, channels=None)
        assert sub.channels == ["sms", "voice"]


def test_erase_removes_personal_data_and_keeps_delivery_counts(db_url, settings):
    from notifier import deliveries

    with session_scope(db_url) as session:
        sub = create(session, settings, phone="+16175550100", email="ana@example.org", groups=["test"],
                     zones=["z"], locations=[{"lat": 1, "lon": 2}])
        keep = create(session, settings, phone="+16175550101")
        alert = Alert(identifier="x", state="sent", status="Actual", msg_type="Alert",
                      category="Safety", event="e", headline="h", severity="Severe",
                      urgency="Immediate", certainty="Observed", messages={"en": "t"},
                      area={"everyone": True}, channels=["sms"], created_by="ana")
        session.add(alert)
        session.flush()
        deliveries.insert_pending(session, [
            {"alert_id": alert.id, "subscriber_id": s.id, "channel": c, "address": s.phone or s.email,
             "language": "en"} for s in (sub, keep) for c in ("sms", "voice")], NOW)
        subs.opt_out(session, "+16175550100", "sms", "keyword", "STOP", NOW)
        subs.opt_in(session, "ana@example.org", "email", "web", "I agree", NOW)
        before = delivery_stats.stats(session, alert.id)["channels"]
    with session_scope(db_url) as session:
        erasure.erase_subscriber(session, settings, session.get(Subscriber, sub.id), NOW)
    with session_scope(db_url) as session:
        assert delivery_stats.stats(session, alert.id)["channels"] == before
        assert session.scalar(select(func.count()).select_from(Delivery)) == 4
        orphans = session.execute(select(Delivery.subscriber_id, Delivery.address)
                                  .where(Delivery.subscriber_id.is_(None))).all()
        assert orphans == [(None, None), (None, None)]
        assert session.get(Subscriber, sub.id) is None
        for model in (Location, SubscriberZone, SubscriberGroup, Consent):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model
        assert session.scalar(select(func.count()).select_from(OptOut)) == 1  # STOP outlives
        assert session.get(Subscriber, keep.id) is not None


def test_search_by_phone_email_name_zone_and_language(db_url, settings):
    with session_scope(db_url) as session:
        a = create(session, settings, name="Ana Lopez", phone="+16175550100", language="es-MX", zones=["z1"])
        b = create(session, settings, name="Bo", email="bo_100%@example.org", language="es")
        c = create(session, settings, name="Cy", phone="+16175550199", language="en", zones=["z1"])
        ids = lambda **kw: [s.id for s in subs.search_subscribers(session, **kw)[0]]
        assert ids(q="555-0100") == [a.id]
        assert ids(q="lopez") == [a.id]
        assert ids(q="BO_100%") == [b.id]
        assert ids(q="_") == [b.id]  # a literal underscore, not a wildcard
        assert ids(zone="z1") == [a.id, c.id]
        assert ids(language="es") == [a.id, b.id]
        assert ids(language="es-MX") == [a.id]
        assert ids(zone="z1", language="en") == [c.id]
        items, total = subs.search_subscribers(session, per_page=2, page=2)
        assert total == 3 and [s.id for s in items] == [c.id]


def test_the_opt_out_ledger_holds_one_row_per_address_and_channel(db_url):
    with session_scope(db_url) as session:
        subs.opt_out(session, "+16175550100", "sms", "keyword", "STOP", NOW)
        subs.opt_out(session, "+16175550100", "sms", "carrier", None, NOW)
        subs.opt_out(session, "+16175550100", "voice", "keyword", "STOP", NOW)
        subs.opt_out(session, "a@example.org", "email", "email-link", None, NOW)
    with session_scope(db_url) as session:
        rows = session.execute(select(OptOut.address, OptOut.channel, OptOut.source)
                               .order_by(OptOut.address, OptOut.channel)).all()
        assert rows == [("+16175550100", "sms", "carrier"), ("+16175550100", "voice", "keyword"),
                        ("a@example.org", "email", "email-link")]
        many = [f"+1617555{i:04d}" for i in range(1500)]
        assert subs.opted_out(session, many, "sms") == {"+16175550100"}
        assert subs.opted_out(session, ["a@example.org", "b@example.org"], "email") == {"a@example.org"}
        assert subs.opted_out(session, [], "sms") == set()


def test_opting_back_in_lifts_the_row_and_records_consent(db_url):
    with session_scope(db_url) as session:
        subs.opt_out(session, "+16175550100", "sms", "keyword", "STOP", NOW)
        assert subs.opt_in(session, "+16175550100", "sms", "keyword", "START", NOW) is True
        assert subs.opt_in(session, "+16175550100", "sms", "keyword", "START", NOW) is False
        assert subs.opted_out(session, ["+16175550100"], "sms") == set()
        consents = session.scalars(select(Consent)).all()
        assert [(c.address, c.channel, c.wording) for c in consents] == [
            ("+16175550100", "sms", "START")] * 2
        with pytest.raises(InvalidInput):
            subs.opt_out(session, "+16175550100", "fax", "keyword", "STOP", NOW)


def test_subscriber_dict_shows_opt_outs_per_channel(db_url, settings):
    with session_scope(db_url) as session:
        sub = create(session, settings, phone="+16175550100", email="a@example.org")
        subs.opt_out(session, "+16175550100", "voice", "keyword", "STOP", NOW)
        subs.opt_out(session, "a@example.org", "email", "email-link", None, NOW)
        assert subs.subscriber_dict(session, sub)["opted_out"] == {"sms": False, "voice": True, "email": True}
