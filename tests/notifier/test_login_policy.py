"""notifier.login_policy: the waits after failed sign-ins, and what the audit log keeps of them."""
from __future__ import annotations

from notifier import accounts, login_policy
from notifier.db import session_scope


def test_waits_start_after_five_failures_double_and_stop_at_fifteen_minutes():
    assert login_policy.MAX_FAILURES == 5
    assert login_policy.delays() == (60, 120, 240, 480, 900)


def test_only_counts_that_are_powers_of_two_are_audited():
    assert [n for n in range(0, 1001) if login_policy.audit_due(n)] == [
        1, 2, 4, 8, 16, 32, 64, 128, 256, 512]


def test_an_existing_account_is_named_and_anything_else_only_fingerprinted(db_url):
    with session_scope(db_url) as session:
        accounts.create_user(session, "dana", "dispatcher", "correct horse battery")
    with session_scope(db_url, readonly=True) as session:
        assert login_policy.audit_object(session, " dana ", "key") == ("user:dana", True)
        obj, known = login_policy.audit_object(session, "correct horse battery", "key")
    assert not known and "horse" not in obj
    assert obj == "name:" + login_policy.name_fingerprint("correct horse battery", "key")
    assert len(obj) == len("name:") + 8


def test_the_fingerprint_is_keyed_and_the_same_name_gives_the_same_text():
    one = login_policy.name_fingerprint("Dana", "key one")
    assert one == login_policy.name_fingerprint("Dana", "key one")
    assert one != login_policy.name_fingerprint("Dana", "key two")
    assert one != login_policy.name_fingerprint("dana", "key one")
