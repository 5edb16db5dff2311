"""Answering a resident from the inbox: an SMS through the SMS channel by a real worker,
audited with the number masked, refused after STOP; threads marked handled."""
from __future__ import annotations

import logging

from sqlalchemy import select

from notifier.db import session_scope
from notifier.models import AuditEvent, InboxReply, OptOut, SandboxMessage
from tests.admin_ui.pages.test_inbox_page import texts  # noqa: F401
from tests.workers.helpers import run_jobs, use_env

NUMBER = "+16175550100"


def test_a_reply_goes_out_by_sms_and_is_audited_masked(signed_in, texts, settings, env,
                                                       redis_url, monkeypatch, caplog):
    use_env(monkeypatch, env)
    client = signed_in("dispatcher")
    page = client.get("/inbox").get_data(as_text=True)
    assert f'data-testid="inbox-reply-text-{texts["question"]}"' in page
    response = client.post(f"/inbox/{texts['question']}/reply",
                           data={"csrf_token": client.csrf, "body": "Yes, it reopened at 9."})
    assert response.status_code == 302
    with caplog.at_level(logging.INFO, logger="workers.inbox"):
        assert run_jobs(redis_url)
    with session_scope(settings.database_url, readonly=True) as session:
        reply = session.scalar(select(InboxReply))
        assert (reply.status, reply.to_number, reply.actor) == ("sent", NUMBER, "user:dispatcher-1")
        sent = session.scalar(select(SandboxMessage).where(SandboxMessage.to == NUMBER))
        assert sent.body == "Yes, it reopened at 9." and sent.provider_id == reply.provider_id
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "inbox.reply"))
        assert event.object == f"inbox:{texts['question']}" and NUMBER not in str(event.details)
    assert "inbox reply" in caplog.text and NUMBER not in caplog.text
    thread = client.get("/inbox").get_data(as_text=True).split(
        f'data-testid="inbox-thread-{texts["question"]}"')[1].split("</ul>")[0]
    assert "Yes, it reopened at 9." in thread and 'data-status="sent"' in thread


def test_no_reply_to_a_number_that_texted_stop(signed_in, texts, settings, env, redis_url,
                                              monkeypatch):
    use_env(monkeypatch, env)
    client = signed_in("dispatcher")
    queued = client.post(f"/inbox/{texts['question']}/reply",
                         data={"csrf_token": client.csrf, "body": "One moment."})
    assert queued.status_code == 302
    with session_scope(settings.database_url) as session:  # STOP arrives before the worker runs
        session.add(OptOut(address=NUMBER, channel="sms", source="sms"))
    run_jobs(redis_url)
    refused = client.post(f"/inbox/{texts['question']}/reply",
                          data={"csrf_token": client.csrf, "body": "Hello?"})
    assert "texted STOP" in client.get(refused.location).get_data(as_text=True)
    with session_scope(settings.database_url, readonly=True) as session:
        assert [r.status for r in session.scalars(select(InboxReply))] == ["refused"]
        assert session.scalar(select(SandboxMessage).where(SandboxMessage.to == NUMBER)) is None
    page = client.get("/inbox").get_data(as_text=True)
    assert f'data-testid="inbox-stopped-{texts["question"]}"' in page


def test_a_thread_is_marked_handled_and_leaves_the_open_list(signed_in, texts, settings):
    client = signed_in("dispatcher")
    client.post(f"/inbox/{texts['question']}/handled", data={"csrf_token": client.csrf,
                                                            "handled": "1"})
    assert f'data-testid="inbox-{texts["question"]}"' not in client.get("/inbox").get_data(as_text=True)
    handled = client.get("/inbox?show=handled").get_data(as_text=True)
    assert f'data-testid="inbox-handled-{texts["question"]}"' in handled
    auditor = signed_in("auditor")
    assert auditor.post(f"/inbox/{texts['question']}/handled",
                        data={"csrf_token": auditor.csrf}).status_code == 403
    assert 'data-testid="inbox-reply-text-' not in auditor.get("/inbox?show=all").get_data(as_text=True)
    with session_scope(settings.database_url, readonly=True) as session:
        assert session.scalar(select(AuditEvent.action).where(
            AuditEvent.action == "inbox.handled")) == "inbox.handled"
