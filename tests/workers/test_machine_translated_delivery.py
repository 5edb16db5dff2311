"""A machine-translated message as residents receive it, end to end through the burst worker
and the sandboxed channels: the "automatic translation" note in the text's language."""
from __future__ import annotations

from sqlalchemy import select

from notifier import machine_translation
from notifier.db import session_scope
from notifier.models import SandboxMessage
from workers.queues import enqueue_fan_out

from tests.workers.helpers import add_alert, add_residents, run_jobs, use_env


def test_the_note_reaches_spanish_readers_by_sms_and_email_and_nobody_else(
        monkeypatch, env, settings, db_url, redis_url):
    use_env(monkeypatch, env)
    add_residents(db_url, 2, language="es", channels=("sms", "email"), email=True)
    add_residents(db_url, 1, language="en", first=2)
    alert_id = add_alert(db_url, channels=("sms", "email"), machine_translated=["es"])
    enqueue_fan_out(settings, alert_id)
    run_jobs(redis_url)
    with session_scope(db_url, readonly=True) as session:
        outbox = session.scalars(select(SandboxMessage).order_by(SandboxMessage.id)).all()
        by_channel = {(m.channel, m.to): m.body for m in outbox}
    note = machine_translation.note("es")
    spanish = [body for (channel, to), body in by_channel.items() if to != "+16175550002"]
    assert len(spanish) == 4  # two residents, SMS and email each
    assert all(note in body and "Quédese adentro." in body for body in spanish)
    english = by_channel[("sms", "+16175550002")]
    assert "Stay indoors." in english and note not in english
