"""The all-clear: a built-in text per language to start from, SMS marked as an all-clear in
the resident's language, a repeat of the danger refused, and three distinct cancel actions."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from notifier import alerts
from notifier.db import session_scope
from notifier.errors import InvalidInput
from notifier.follow_ups import ALL_CLEAR_TEXT, all_clear_texts
from notifier.models import Alert, AuditEvent
from notifier.render import render_sms
from tests.notifier.test_alerts import NOW, draft


def test_the_built_in_all_clear_is_in_each_language_of_the_alert(settings):
    alert = Alert(messages={"en": "Evacuate now.", "es": "Evacúe ahora.", "zh": "立即撤离。",
                            "it": "Evacuate subito."})
    texts = all_clear_texts(alert, settings)
    assert texts["en"] == {"text": ALL_CLEAR_TEXT, "translated": True}
    assert texts["es"]["text"].startswith("El peligro ha pasado") and texts["es"]["translated"]
    assert texts["zh"]["text"].startswith("危险已经解除")
    # No Italian catalog: the default language's text, and the page says so.
    assert texts["it"] == {"text": ALL_CLEAR_TEXT, "translated": False}
    assert all("vacu" not in t["text"] for t in texts.values())


@pytest.mark.parametrize("language, marker", [("en", "[ALL CLEAR]"), ("es", "[FIN DE ALERTA]"),
                                              ("fr", "[FIN D'ALERTE]"), ("vi", "[HẾT BÁO ĐỘNG]")])
def test_an_all_clear_sms_says_so_in_the_residents_language(settings, language, marker):
    alert = Alert(status="Actual", msg_type="Cancel", confirm=False,
                  messages={"en": "It is over.", language: "It is over (translated)."})
    assert render_sms(alert, language, settings).startswith(marker + " ")
    update = Alert(status="Exercise", msg_type="Update", confirm=False, messages={"en": "Moved."})
    assert render_sms(update, "en", settings).startswith("[EXERCISE] [UPDATE] ")
    original = Alert(status="Actual", msg_type="Alert", confirm=False, messages={"en": "Go."})
    assert render_sms(original, "en", settings) == "Tocsin demo: Go."


def test_an_all_clear_that_repeats_the_danger_in_any_language_is_refused(db_url, settings):
    alert_id = draft(db_url, settings, messages={"en": "Evacuate now.", "es": "Evacúe ahora."})
    with session_scope(db_url) as session:
        alerts.start_sending(session, alert_id, "ana", NOW, settings)
    with session_scope(db_url) as session:
        with pytest.raises(InvalidInput) as refused:
            alerts.cancel_alert(session, alert_id, "ana", NOW + timedelta(minutes=1),
                                message={"en": "It is over.", "es": "  EVACÚE   ahora. "},
                                settings=settings)
        assert "es text is the same" in " ".join(refused.value.errors["message"])
        assert session.get(Alert, alert_id).state == "sending"  # nothing changed


def test_discard_cancel_and_replace_are_different_audit_actions(db_url, settings):
    discarded = draft(db_url, settings)
    stopped = draft(db_url, settings)
    replaced = draft(db_url, settings)
    with session_scope(db_url) as session:
        for alert_id in (stopped, replaced):
            alerts.start_sending(session, alert_id, "ana", NOW, settings)
    with session_scope(db_url) as session:
        later = NOW + timedelta(minutes=2)
        alerts.cancel_alert(session, discarded, "ana", later)
        alerts.cancel_alert(session, stopped, "ana", later)
        _, new = alerts.cancel_alert(session, replaced, "ana", later,
                                     message={"en": "It is over."}, settings=settings)
        new_id = new.id
    with session_scope(db_url, readonly=True) as session:
        rows = session.execute(select(AuditEvent.object, AuditEvent.action, AuditEvent.details)
                               .where(AuditEvent.action.like("alert.%"),
                                      AuditEvent.action.not_in(("alert.create", "alert.send")))
                               .order_by(AuditEvent.id)).all()
    assert [(o, a) for o, a, _ in rows] == [(f"alert:{discarded}", "alert.discard"),
                                            (f"alert:{stopped}", "alert.cancel"),
                                            (f"alert:{replaced}", "alert.replace")]
    assert rows[2][2]["replaced_by"] == f"alert:{new_id}" and rows[2][2]["msg_type"] == "Cancel"
