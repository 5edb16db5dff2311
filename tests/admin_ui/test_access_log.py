"""The access log of the app under gunicorn (as the Procfile runs it) masks numbers and emails."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.services import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_gunicorns_access_lines_hold_no_full_number_or_email(env, tmp_path):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--access-logfile", "-", "admin_ui:create_app()"],
            cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    try:
        query = ("a=%28617%29%20555-0100&b=617-555-0101&c=%2B1%20617%20555%200102"
                 "&d=(617)+555-0103&e=zeb.quix%40example.org")
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/feeds/alerts.atom?{query}",
                                       timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(10)
    text = log.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if "alerts.atom" in line)
    assert "a=6175****00&b=6175****01&c=+1617*****02&d=6175****03&e=z***@example.org" in line
    for secret in ("555-0100", "5550101", "555%200102", "555-0103", "zeb.quix"):
        assert secret not in text
