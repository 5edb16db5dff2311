"""The Twilio stand-in answers like Twilio and refuses requests Twilio's OpenAPI would not allow."""
from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from flask import Flask, request
from twilio.request_validator import RequestValidator

from tests.support.twilio_signing import sign, signed_post
from tests.support.twilio_openapi import SPEC

ROOT = Path(__file__).resolve().parents[2]
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def auth(standin, token: str | None = None, account: str | None = None) -> dict:
    account = account or standin.account_sid
    creds = base64.b64encode(f"{account}:{token or standin.auth_token}".encode()).decode()
    return {"Authorization": f"Basic {creds}",
            "Content-Type": "application/x-www-form-urlencoded"}


def post(standin, resource: str, form, token: str | None = None, account: str | None = None,
         timeout: float = 5):
    """POST `form` (dict or list of pairs) as Twilio's client would; return (status, json)."""
    request = urllib.request.Request(
        f"{standin.url}/2010-04-01/Accounts/{account or standin.account_sid}/{resource}.json",
        data=urllib.parse.urlencode(form).encode(), method="POST",
        headers=auth(standin, token, account))
    return read(request, timeout)


def read(request, timeout: float = 5):
    try:
        with NO_PROXY.open(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


SMS = {"To": "+16175550100", "From": "+15005550006", "Body": "Test"}


def test_it_answers_a_message_the_way_twilios_schema_describes(twilio_standin):
    status, body = post(twilio_standin, "Messages", SMS)

    schema = json.loads(SPEC.read_text())["components"]["schemas"]["api.v2010.account.message"]
    assert status == 201
    assert set(body) == set(schema["properties"])
    assert re.fullmatch(schema["properties"]["sid"]["pattern"], body["sid"])
    assert (body["status"], body["to"], body["from"], body["body"]) == (
        "queued", "+16175550100", "+15005550006", "Test")
    assert body["account_sid"] == twilio_standin.account_sid
    assert body["date_created"].endswith("+0000")


def test_it_answers_a_call_the_way_twilios_schema_describes(twilio_standin):
    status, body = post(twilio_standin, "Calls", {"To": "+16175550100", "From": "+15005550006",
                                                  "Url": "https://tocsin.example.org/voice"})

    schema = json.loads(SPEC.read_text())["components"]["schemas"]["api.v2010.account.call"]
    assert status == 201
    assert set(body) == set(schema["properties"])
    assert re.fullmatch(schema["properties"]["sid"]["pattern"], body["sid"])


def test_it_rejects_a_parameter_twilio_does_not_know(twilio_standin):
    status, body = post(twilio_standin, "Messages", {**SMS, "Priority": "high"})

    assert status == 400
    assert body["status"] == 400 and "Priority" in body["message"]
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{body['code']}"


def test_it_rejects_a_message_without_its_required_to(twilio_standin):
    status, body = post(twilio_standin, "Messages", {"From": "+15005550006", "Body": "Test"})

    assert status == 400 and "To" in body["message"]


def test_it_rejects_a_value_outside_the_schemas_enum(twilio_standin):
    status, body = post(twilio_standin, "Messages", {**SMS, "ContentRetention": "forever"})

    assert status == 400 and "ContentRetention" in body["message"]


def test_it_takes_a_validity_period_only_from_1_to_36000_seconds(twilio_standin):
    for bad in ("0", "36001", "2.5", "-3"):
        status, body = post(twilio_standin, "Messages", {**SMS, "ValidityPeriod": bad})
        assert status == 400 and "ValidityPeriod" in body["message"]
    assert post(twilio_standin, "Messages", {**SMS, "ValidityPeriod": "36000"})[0] == 201


def test_it_rejects_a_message_with_neither_sender_nor_body(twilio_standin):
    assert post(twilio_standin, "Messages", {"To": "+16175550100", "Body": "x"})[1]["code"] == 21603
    assert post(twilio_standin, "Messages", {"To": "+16175550100",
                                             "From": "+15005550006"})[1]["code"] == 21602


def test_it_refuses_wrong_credentials_with_twilios_20003(twilio_standin):
    status, body = post(twilio_standin, "Messages", SMS, token="wrong")

    assert (status, body["code"]) == (401, 20003)
    assert twilio_standin.requests == []


def test_a_scripted_failure_ends_after_its_count(twilio_standin):
    twilio_standin.fail("+16175550100", status=429, code=20429, times=2, retry_after=3)

    statuses = [post(twilio_standin, "Messages", SMS)[0] for _ in range(3)]
    other = post(twilio_standin, "Messages", {**SMS, "To": "+16175550101"})[0]

    assert statuses == [429, 429, 201]
    assert other == 201
    assert twilio_standin.stats()["messages"] == 2


def test_one_request_in_every_n_can_be_scripted_to_fail(twilio_standin):
    twilio_standin.fail(None, status=429, code=20429, every=3, times=2)

    statuses = [post(twilio_standin, "Messages", SMS)[0] for _ in range(8)]

    assert statuses == [429, 201, 201, 429, 201, 201, 201, 201]
    assert [r.status for r in twilio_standin.requests] == statuses


def test_an_error_without_a_twilio_code_is_a_bare_page_as_a_proxy_answers(twilio_standin):
    twilio_standin.fail(None, status=503, code=None, times=1)

    try:
        NO_PROXY.open(urllib.request.Request(
            f"{twilio_standin.url}/2010-04-01/Accounts/{twilio_standin.account_sid}/Messages.json",
            data=urllib.parse.urlencode(SMS).encode(), headers=auth(twilio_standin)), timeout=5)
    except urllib.error.HTTPError as exc:
        status, kind = exc.code, exc.headers["Content-Type"]
    assert (status, kind.split(";")[0]) == (503, "text/html")


def test_a_hung_request_is_taken_when_it_is_answered_though_the_client_gave_up(twilio_standin):
    twilio_standin.hang(0.6, times=1)

    started = time.monotonic()
    try:
        post(twilio_standin, "Messages", SMS, timeout=0.2)
    except (TimeoutError, urllib.error.URLError):
        pass
    gave_up = time.monotonic() - started
    assert post(twilio_standin, "Messages", SMS)[0] == 201  # only the first one hangs
    while twilio_standin.stats()["in_flight"]:
        time.sleep(0.02)

    assert gave_up < 0.5
    assert [r.status for r in twilio_standin.requests] == [201, 201]
    assert twilio_standin.stats()["messages"] == 2


def test_it_counts_and_resets_over_http(twilio_standin):
    post(twilio_standin, "Messages", SMS)
    stats = read(urllib.request.Request(f"{twilio_standin.url}/_stats"))[1]
    read(urllib.request.Request(f"{twilio_standin.url}/_reset", data=b"", method="POST"))

    assert (stats["messages"], stats["calls"]) == (1, 0)
    assert stats["first_at"] <= stats["last_at"]
    assert read(urllib.request.Request(f"{twilio_standin.url}/_stats"))[1]["messages"] == 0
    assert twilio_standin.requests == []


def test_it_runs_standalone_and_prints_its_url_first():
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.twilio_standin",
                             "--latency", "0", "--account-sid", "AC" + "1" * 32,
                             "--auth-token", "t"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert read(urllib.request.Request(f"{url}/_stats"))[1]["messages"] == 0
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_its_signatures_are_the_ones_twilio_validates():
    params = {"From": "+16175550100", "Body": "STOP", "MessageSid": "SM" + "a" * 32}
    url = "https://tocsin.example.org/webhooks/twilio/sms"

    signature = sign(url, params, "token")

    assert RequestValidator("token").validate(url, params, signature)
    assert not RequestValidator("other").validate(url, params, signature)


def test_signed_post_signs_the_public_url_not_the_test_clients(twilio_settings):
    app = Flask(__name__)

    @app.post("/webhooks/twilio/voice")
    def voice():
        url = twilio_settings.public_url + request.full_path.rstrip("?")
        ok = RequestValidator(twilio_settings.twilio_auth_token).validate(
            url, request.form.to_dict(), request.headers.get("X-Twilio-Signature", ""))
        return ("ok", 200) if ok else ("bad", 403)

    response = signed_post(app.test_client(), "/webhooks/twilio/voice?d=abc",
                           {"Digits": "1", "CallSid": "CA" + "b" * 32}, twilio_settings)

    assert response.status_code == 200
