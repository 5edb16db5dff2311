"""notifier.signups with a fixed clock: codes expire in 10 minutes, die after 5 wrong entries,
at most 3 per number in any rolling hour, and only their HMAC is stored."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from notifier import signups
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Subscriber
from notifier.signup_models import Signup, SignupCode

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)
PHONE = "+16175550142"
CHOICES = {"phone": PHONE, "email": None, "language": "es", "channels": ["sms"],
           "locations": [{"label": "home", "lat": 42.4, "lon": -71.4}], "zones": [], "topics": []}


@pytest.fixture
def signup(settings: Settings):
    with session_scope(settings.database_url) as session:
        return signups.start(session, CHOICES, "wording", NOW).id


def issue(settings, signup_id, at) -> str | None:
    with session_scope(settings.database_url) as session:
        return signups.issue_code(session, settings.secret_key, session.get(Signup, signup_id), at)


def check(settings, signup_id, code, at) -> str:
    with session_scope(settings.database_url) as session:
        return signups.check_code(session, settings, session.get(Signup, signup_id), code, at)


def other(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** 6:06d}"


def test_a_code_is_six_digits_stored_only_as_a_hash(settings, signup):
    code = issue(settings, signup, NOW)
    assert len(code) == 6 and code.isdigit()
    with session_scope(settings.database_url, readonly=True) as session:
        row = session.scalar(select(SignupCode))
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert row.expires_at == NOW + timedelta(minutes=10)


def test_a_code_works_until_ten_minutes_and_not_after(settings, signup):
    code = issue(settings, signup, NOW)
    assert check(settings, signup, code, NOW + timedelta(minutes=10)) == signups.EXPIRED
    code = issue(settings, signup, NOW + timedelta(minutes=1))
    assert check(settings, signup, code, NOW + timedelta(minutes=10, seconds=59)) == \
        signups.CONFIRMED
    with session_scope(settings.database_url, readonly=True) as session:
        sub = session.scalar(select(Subscriber))
    assert (sub.phone, sub.language, sub.channels) == (PHONE, "es", ["sms"])


def test_a_used_code_cannot_be_used_again(settings, signup):
    code = issue(settings, signup, NOW)
    assert check(settings, signup, code, NOW) == signups.CONFIRMED
    assert check(settings, signup, code, NOW) == signups.EXPIRED


def test_the_fifth_wrong_entry_voids_the_code_and_the_right_one_is_refused(settings, signup):
    code = issue(settings, signup, NOW)
    assert [check(settings, signup, other(code), NOW) for _ in range(5)] == \
        [signups.WRONG] * 4 + [signups.VOID]
    assert check(settings, signup, code, NOW) == signups.VOID
    fresh = issue(settings, signup, NOW + timedelta(minutes=1))  # a new code works again
    assert check(settings, signup, fresh, NOW + timedelta(minutes=1)) == signups.CONFIRMED


def test_three_codes_per_number_in_any_rolling_hour(settings, signup):
    times = [NOW, NOW + timedelta(minutes=20), NOW + timedelta(minutes=40)]
    assert all(issue(settings, signup, t) for t in times)
    assert issue(settings, signup, NOW + timedelta(minutes=59)) is None
    assert issue(settings, signup, NOW + timedelta(minutes=60, seconds=1)) is not None
    assert issue(settings, signup, NOW + timedelta(minutes=61)) is None


def test_the_limit_counts_the_number_across_sign_ups(settings, signup):
    with session_scope(settings.database_url) as session:
        second = signups.start(session, CHOICES, "wording", NOW).id
    assert issue(settings, signup, NOW) and issue(settings, signup, NOW)
    assert issue(settings, second, NOW) is not None
    assert issue(settings, second, NOW) is None


def test_an_unconfirmed_sign_up_is_deleted_after_three_days_a_confirmed_one_stays(settings,
                                                                                  signup):
    with session_scope(settings.database_url) as session:
        done = signups.start(session, {**CHOICES, "phone": "+16175550143"}, "wording", NOW)
        done.phone_confirmed_at = NOW
        done_id = done.id
    issue(settings, signup, NOW)
    with session_scope(settings.database_url) as session:
        signups.start(session, CHOICES, "wording", NOW + timedelta(days=3, seconds=1))
        assert session.get(Signup, signup) is None and session.get(Signup, done_id) is not None
        assert session.scalar(select(SignupCode).where(SignupCode.signup_id == signup)) is None
