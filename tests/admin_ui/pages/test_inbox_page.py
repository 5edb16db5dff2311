"""The inbox page: residents' texts that were no keyword, newest first, numbers masked."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import InboundMessage
from tests.admin_ui.conftest import make_subscriber

T0 = datetime(2025, 1, 15, 12, 0, tzinfo=timezone.utc)


def _text(session, number: str, body: str, at: datetime, keyword: str | None = None,
          subscriber_id: int | None = None) -> int:
    message = InboundMessage(at=at, from_number=number, to_number="+15005550006", body=body,
                             keyword=keyword, subscriber_id=subscriber_id)
    session.add(message)
    session.flush()
    return message.id


@pytest.fixture
def texts(settings):
    with session_scope(settings.database_url) as session:
        ana = make_subscriber(session, phone="+16175550100")
        return {"question": _text(session, "+16175550100", "Is the bridge open?", T0,
                                  subscriber_id=ana.id),
                "join": _text(session, "+16175550101", "JOIN", T0, keyword="JOIN"),
                "later": _text(session, "+16175550199", "Water at my door <b>now</b>",
                               T0 + timedelta(minutes=3)),
                "ana": ana.id}


@pytest.mark.parametrize("role", ["admin", "dispatcher", "auditor"])
def test_everyone_signed_in_reads_the_texts_that_were_no_keyword_newest_first(signed_in, texts,
                                                                             role):
    html = signed_in(role).get("/inbox").get_data(as_text=True)
    assert f'data-testid="inbox-{texts["join"]}"' not in html
    assert html.index(f'data-testid="inbox-{texts["later"]}"') < \
        html.index(f'data-testid="inbox-{texts["question"]}"')
    assert "Is the bridge open?" in html
    assert "&lt;b&gt;now&lt;/b&gt;" in html  # a resident's text is never markup


def test_numbers_are_masked_and_a_known_resident_is_linked_or_named(app, signed_in, texts):
    html = signed_in("dispatcher").get("/inbox").get_data(as_text=True)
    assert "+16175550100" not in html and "+16175550199" not in html
    if "subscribers.show" in app.view_functions:
        assert f'data-testid="inbox-subscriber-{texts["question"]}"' in html
    else:
        assert f"resident #{texts['ana']}" in html
    assert f'data-testid="inbox-subscriber-{texts["later"]}"' not in html


def test_the_inbox_is_paged(signed_in, settings):
    with session_scope(settings.database_url) as session:
        for i in range(53):
            _text(session, "+16175550100", f"question {i}", T0 + timedelta(seconds=i))
    client = signed_in("dispatcher")
    first = client.get("/inbox").get_data(as_text=True)
    assert first.count('<tr data-testid="inbox-') == 50 and "question 52" in first
    assert 'href="/inbox?page=2"' in first
    second = client.get("/inbox?page=2").get_data(as_text=True)
    assert second.count('<tr data-testid="inbox-') == 3 and "question 0" in second


def test_in_the_sandbox_the_page_says_the_texts_were_simulated(signed_in, texts):
    html = signed_in("dispatcher").get("/inbox").get_data(as_text=True)
    assert 'data-testid="inbox-sandbox-note"' in html


def test_a_signed_out_visitor_is_sent_to_sign_in(client):
    assert "/login" in client.get("/inbox").location


class TestWithRealSms:
    @pytest.fixture
    def settings(self, env) -> Settings:
        return Settings.from_env({**env, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
                                  "TWILIO_AUTH_TOKEN": "0" * 32,
                                  "TWILIO_FROM_NUMBER": "+15005550006"})

    def test_no_sandbox_note_when_sms_is_live(self, signed_in, texts):
        html = signed_in("auditor").get("/inbox").get_data(as_text=True)
        assert 'data-testid="inbox-sandbox-note"' not in html
        assert "Is the bridge open?" in html
