"""Stopping a live alert and closing it in a real browser: cancel asks once and says what
stops, then the all-clear starts from an all-clear text in each language — never the
alert's own words — and residents' SMS are marked as an all-clear; axe-core finds nothing."""
from __future__ import annotations

import subprocess
import sys

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from admin_ui import create_app
from notifier.db import session_scope
from notifier.models import SandboxMessage
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_dispatcher_flow import ROOT, sign_in, town  # noqa: F401

pytestmark = pytest.mark.browser
DANGER_EN, DANGER_ES = "Evacuate Beat 2 now.", "Evacúe el Sector 2 ahora."


def run_worker() -> None:
    worker = subprocess.run([sys.executable, "-m", "workers", "--burst"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert worker.returncode == 0, worker.stderr


def outbox(settings) -> list[str]:
    with session_scope(settings.database_url, readonly=True) as session:
        return list(session.scalars(select(SandboxMessage.body).order_by(SandboxMessage.id)))


def test_stop_then_all_clear_never_repeats_the_danger(town, serve, page, tmp_path):
    base = serve(create_app(town))
    sign_in(page, base)
    page.goto(base + "/alerts/new")
    page.get_by_test_id("status-Exercise").check()
    page.get_by_test_id("zone-downtown").check()
    page.get_by_test_id("compose-headline").fill("Evacuate Beat 2")
    page.get_by_test_id("compose-severity").select_option("Extreme")
    page.get_by_test_id("compose-urgency").select_option("Immediate")
    page.get_by_test_id("compose-certainty").select_option("Observed")
    page.get_by_test_id("message-text-0").fill(DANGER_EN)
    page.get_by_test_id("add-language").click()
    page.get_by_test_id("message-lang-1").select_option("es")
    page.get_by_test_id("message-text-1").fill(DANGER_ES)
    page.get_by_test_id("compose-preview").click()
    page.wait_for_url("**/preview")
    page.get_by_test_id("send-button").click()
    page.wait_for_url("**/alerts/*")
    alert_url = page.url
    run_worker()
    assert sum(DANGER_EN in b or DANGER_ES in b for b in outbox(town)) == 3

    page.get_by_test_id("cancel-button").click()
    page.wait_for_url("**/cancel")
    expect(page.get_by_test_id("cancel-waiting")).to_contain_text("0 messages not yet sent")
    expect(page.get_by_test_id("cancel-handed")).to_contain_text("3 messages already handed")
    assert axe_violations(page) == []
    screenshot(page, "cancel-confirm", tmp_path)
    page.get_by_test_id("cancel-keep").click()  # a second thought: nothing happened
    page.wait_for_url(alert_url)
    expect(page.get_by_test_id("alert-state")).not_to_have_text("Stopped")
    page.get_by_test_id("cancel-button").click()
    page.get_by_test_id("cancel-confirm").click()

    page.wait_for_url("**#follow-up")
    expect(page.get_by_test_id("alert-state")).to_have_text("Stopped")
    expect(page.get_by_test_id("follow-up-stopped")).to_be_visible()
    english = page.get_by_test_id("follow-up-text-en").input_value()
    spanish = page.get_by_test_id("follow-up-text-es").input_value()
    assert english.startswith("The danger has passed") and spanish.startswith("El peligro ha pasado")
    assert "Evacu" not in english + spanish
    assert axe_violations(page) == []
    screenshot(page, "all-clear-form", tmp_path)
    page.get_by_test_id("follow-up-send").click()
    page.wait_for_url("**/alerts/*")
    assert page.url != alert_url
    run_worker()

    all_clears = outbox(town)[3:]
    assert len(all_clears) == 3
    for body in all_clears:
        assert "Evacu" not in body, body
        assert "[ALL CLEAR]" in body or "[FIN DE ALERTA]" in body, body
    assert sum("[FIN DE ALERTA]" in b and "El peligro ha pasado" in b for b in all_clears) == 1
