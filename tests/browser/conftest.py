"""A real browser on a real server: Playwright driving the system Chromium, the app in a thread."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("TOCSIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - requirements-dev.txt installs it
    sync_playwright = None


def pytest_collection_modifyitems(config, items):
    reason = None
    if sync_playwright is None:
        reason = "the playwright package is not installed (pip install -r requirements-dev.txt)"
    elif not os.access(CHROMIUM, os.X_OK):
        reason = f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    if reason:
        skip = pytest.mark.skip(reason=reason)
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def chromium():
    # Per test, not per session: Playwright's sync API keeps an asyncio loop running in this
    # thread while it is open, and every later test that runs a loop (the channels) would fail.
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A page that enforces the app's CSP (no bypass_csp); a test fails if anything was refused."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if is_csp_violation(message.text) else None)
    yield page
    context.close()
    assert refused == [], "the Content-Security-Policy blocked something:\n" + "\n".join(refused)


def is_csp_violation(text: str) -> bool:
    """Chromium's console line for anything the Content-Security-Policy blocked."""
    return text.startswith("Refused to") or "Content Security Policy" in text


@pytest.fixture
def serve():
    """serve(app) → base URL of `app` on a free port, served by werkzeug in a thread."""
    from werkzeug.serving import make_server

    servers = []

    def start(app) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the page as it is now."""
    # Evaluated over CDP, which the page's CSP does not govern; a <script> tag (as
    # add_script_tag makes) would be an inline script and rightly refused.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


def screenshot(page, name: str, tmp_path: Path) -> Path:
    """Save a full-page PNG; with TOCSIN_SCREENSHOTS=1 also into docs/screenshots/ for the README."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("TOCSIN_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / f"{name}.png")
    return path
