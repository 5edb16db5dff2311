"""The Content-Security-Policy in a real browser: an inline script or style is refused, and the
refusal is what the `page` fixture watches for in every other browser test."""
from __future__ import annotations

import pytest

from admin_ui import create_app
from notifier.config import Settings
from tests.browser.conftest import is_csp_violation

pytestmark = pytest.mark.browser


def test_the_browser_refuses_an_inline_script_and_style_on_a_tocsin_page(env, serve, chromium):
    base = serve(create_app(Settings.from_env({**env, "SANDBOX": "1"})))
    context = chromium.new_context()
    page = context.new_page()
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(base + "/login")
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.injected = true";
        document.body.appendChild(script);
        document.body.insertAdjacentHTML("beforeend", '<p id="styled" style="color: red">x</p>');
    }""")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.injected") is None
    assert page.evaluate("() => getComputedStyle(document.getElementById('styled')).color") \
        != "rgb(255, 0, 0)"
    refused = [text for text in console if is_csp_violation(text)]
    assert any("script" in text for text in refused), console
    assert any("style" in text for text in refused), console
    context.close()
