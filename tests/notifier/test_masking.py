"""notifier.masking: numbers and emails masked in any spelling; log lines keep the rest."""
from __future__ import annotations

import logging

import pytest

from notifier import audit
from notifier.db import session_scope
from notifier.masking import MaskingFilter, hide_links, mask_text
from tests.admin_ui.conftest import NOW


@pytest.mark.parametrize("text, masked", [
    ("(617) 555-0100", "6175****00"),
    ("617-555-0100", "6175****00"),
    ("617.555.0100", "6175****00"),
    ("+1 617 555 0100", "+1617*****00"),
    ("+16175550100", "+1617*****00"),
    ("q=%28617%29%20555-0100", "q=6175****00"),
    ("q=(617)+555-0100", "q=6175****00"),
    ("q=%2B1%20617%20555%200100", "q=+1617*****00"),
    ("to=ana.lopez%40example.org", "to=a***@example.org"),
    ("550 5.1.1 <Ana.Lopez@Example.org>: unknown", "550 5.1.1 <A***@Example.org>: unknown"),
])
def test_it_masks_numbers_and_emails_in_their_usual_spellings(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize("text", [
    '192.168.100.200 - - [01/Dec/2026:23:31:19 +0000] "GET /healthz HTTP/1.1" 200 1234',
    "since=2026-11-22&until=2026-11-23T03:00:00Z", "delivery 123456 of alert 42", None, "",
])
def test_it_leaves_addresses_dates_and_counts_alone(text):
    assert mask_text(text) == text


def test_it_cuts_the_token_off_live_links():
    body = ("Confirm: https://t.example.org/email/ack/eyJhIjoxfQ.abc-_9 "
            "Stop: https://t.example.org/email/unsubscribe/eyJ2IjoyfQ.Zz\n"
            "<https://t.example.org/webhooks/twilio/voice?d=AbC.d-e>")
    assert hide_links(body) == ("Confirm: https://t.example.org/email/ack/… "
                                "Stop: https://t.example.org/email/unsubscribe/…\n"
                                "<https://t.example.org/webhooks/twilio/voice?d=…>")


def test_the_filter_masks_plain_records_and_gunicorns_atom_dicts():
    plain = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s failed", ("617-555-0100",),
                              None)
    atoms = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(r)s %(s)s",
                              None, None)
    atoms.args = {"r": "GET /?e=ana%40example.org HTTP/1.1", "s": "200"}
    for record in (plain, atoms):
        assert MaskingFilter().filter(record)
    assert plain.getMessage() == "to 6175****00 failed"
    assert atoms.getMessage() == "GET /?e=a***@example.org HTTP/1.1 200"


def test_audit_details_never_keep_a_formatted_number_or_an_email(settings, db_url):
    with session_scope(db_url) as session:
        event = audit.record(session, "sms:+1617*****00", "test.event", "subscriber:1",
                             {"note": "call (617) 555-0100 or ana@example.org"}, NOW)
        assert event.details == {"note": "call 6175****00 or a***@example.org"}
