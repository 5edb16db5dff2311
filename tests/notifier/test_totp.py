"""notifier.totp and the accounts' second factor: ±1 step, no code used twice."""
from datetime import datetime, timedelta, timezone

from notifier import accounts, totp
from notifier.db import session_scope
from notifier.models import User

NOW = datetime(2026, 11, 22, 6, 0, 10, tzinfo=timezone.utc)
STEP = timedelta(seconds=30)


def test_a_code_of_now_or_one_step_either_side_matches():
    secret = totp.new_secret()
    step = totp.matching_step(secret, totp.code_at(secret, NOW), NOW)
    assert step is not None
    assert totp.matching_step(secret, totp.code_at(secret, NOW - STEP), NOW) == step - 1
    assert totp.matching_step(secret, totp.code_at(secret, NOW + STEP), NOW) == step + 1


def test_a_code_two_steps_old_or_malformed_does_not_match():
    secret = totp.new_secret()
    assert totp.matching_step(secret, totp.code_at(secret, NOW - 2 * STEP), NOW) is None
    assert totp.matching_step(secret, "12345", NOW) is None
    assert totp.matching_step(secret, "abcdef", NOW) is None
    assert totp.matching_step(secret, None, NOW) is None
    assert totp.matching_step("", "123456", NOW) is None


def test_spaces_and_dashes_in_a_typed_code_are_ignored():
    secret = totp.new_secret()
    code = totp.code_at(secret, NOW)
    assert totp.matching_step(secret, f" {code[:3]} {code[3:]}", NOW) is not None
    assert totp.matching_step(secret, f"{code[:3]}-{code[3:]}", NOW) is not None


def test_steps_up_to_the_last_accepted_one_never_match():
    secret = totp.new_secret()
    code = totp.code_at(secret, NOW)
    step = totp.matching_step(secret, code, NOW)
    assert totp.matching_step(secret, code, NOW, after_step=step) is None
    assert totp.matching_step(secret, code, NOW, after_step=step - 1) == step


def test_the_provisioning_uri_names_the_issuer_and_account():
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, "dana", "Tocsin demo")
    assert uri.startswith("otpauth://totp/Tocsin%20demo:dana?")
    assert f"secret={secret}" in uri and "issuer=Tocsin%20demo" in uri
    assert totp.grouped("JBSWY3DPEHPK3PXP") == "JBSW Y3DP EHPK 3PXP"


def test_a_confirmed_code_is_used_up_and_cannot_be_replayed(db_url):
    secret = totp.new_secret()
    with session_scope(db_url) as session:
        user = accounts.create_user(session, "dana", "dispatcher", "correct horse", NOW)
        assert not accounts.totp_enabled(user)
        accounts.set_totp_secret(session, user, secret)
        assert accounts.totp_enabled(user)
    code = totp.code_at(secret, NOW)
    with session_scope(db_url) as session:
        user = session.get(User, 1)
        assert accounts.verify_totp(session, user, code, NOW)
    with session_scope(db_url) as session:
        user = session.get(User, 1)
        assert not accounts.verify_totp(session, user, code, NOW)
        # An older code in the window is refused too: time only moves forward.
        assert not accounts.verify_totp(session, user, totp.code_at(secret, NOW - STEP), NOW)
        assert accounts.verify_totp(session, user, totp.code_at(secret, NOW + STEP), NOW + STEP)


def test_the_confirming_code_of_an_enrolment_cannot_sign_in(db_url):
    secret = totp.new_secret()
    code = totp.code_at(secret, NOW)
    with session_scope(db_url) as session:
        user = accounts.create_user(session, "dana", "dispatcher", "correct horse", NOW)
        accounts.set_totp_secret(session, user, secret, totp.matching_step(secret, code, NOW))
        assert not accounts.verify_totp(session, user, code, NOW)


def test_a_wrong_code_or_a_user_without_a_secret_is_refused(db_url):
    secret = totp.new_secret()
    with session_scope(db_url) as session:
        user = accounts.create_user(session, "dana", "dispatcher", "correct horse", NOW)
        assert not accounts.verify_totp(session, user, totp.code_at(secret, NOW), NOW)
        accounts.set_totp_secret(session, user, secret)
        wrong = f"{(int(totp.code_at(secret, NOW)) + 1) % 1_000_000:06d}"
        assert not accounts.verify_totp(session, user, wrong, NOW)
        accounts.set_totp_secret(session, user, None)
        assert not accounts.totp_enabled(user)
