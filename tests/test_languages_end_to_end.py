"""Issue 13's "done when", from outside: a dispatcher sends "evacuate now" from its template with
the street and the deadline filled, and one resident per language gets it in their own
language by SMS, email and voice, through the API, real RQ workers, the Twilio stand-in over
HTTP and a real SMTP server; the preview names every fallback before the send."""
from __future__ import annotations

import tomllib
from urllib.parse import urlsplit

import pytest
from lxml import etree, html as lxml_html

from admin_ui import create_app
from notifier import accounts, languages, machine_translation, render, template_files
from notifier.config import Settings
from notifier.db import session_scope
from notifier.i18n import gettext
from notifier.render_voice import VOICES, voice_supported
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_signing import signed_post
from tests.workers.helpers import use_env
from workers.guard import TocsinSimpleWorker
from workers.queues import QUEUES, redis_connection

HOME = {"lat": 42.36, "lon": -71.06}
AREA = {"description": "Riverside", "circles": [{**HOME, "radius_m": 800}]}
PARAMS = {"area": "Main St between 1st and 5th", "shelter": "Lincoln High School",
          "by": "2099-06-01T16:30:00-04:00"}
# One resident per language, each with a phone and an email and all three channels.
RESIDENTS = {tag: (f"+1617253{2000 + n}", f"r{n}@example.org")
             for n, tag in enumerate(languages.TAGS)}
# And two more: a regional tag (served by Traditional Chinese) and a language with no text.
TAIWAN = ("zh-TW", "+16172532100", ["sms"])
ITALIAN = ("it", "it@example.org", ["email"])


def template_texts() -> dict:
    """The evacuate_now template as its file says, read here without Tocsin's code."""
    path = template_files.TEMPLATES_DIR / "evacuate_now.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def world(twilio_env, smtp, monkeypatch):
    env = use_env(monkeypatch, {**twilio_env, **smtp.env(), "VOICE_PER_SECOND": "50",
                                "AGENCY_NAME": "Springfield OEM",
                                "TIMEZONE": "America/New_York"})
    settings = Settings.from_env(env)
    client = create_app(settings).test_client()
    with session_scope(settings.database_url) as session:
        headers = {"Authorization": "Bearer " + accounts.create_token(session, "cad", "dispatcher")}
    for tag, (phone, address) in RESIDENTS.items():
        response = client.post("/api/v1/subscribers", headers=headers, json={
            "name": f"Resident {tag}", "phone": phone, "email": address, "language": tag,
            "channels": ["sms", "voice", "email"], "locations": [{"label": "home", **HOME}]})
        assert response.status_code == 201, response.get_json()
    for tag, address, channels in (TAIWAN, ITALIAN):
        key = "phone" if channels == ["sms"] else "email"
        response = client.post("/api/v1/subscribers", headers=headers, json={
            "name": f"Resident {tag}", key: address, "language": tag, "channels": channels,
            "locations": [{"label": "home", **HOME}]})
        assert response.status_code == 201, response.get_json()
    return settings, client, headers


def test_evacuate_now_from_its_template_reaches_sixteen_languages_each_in_its_own(
        world, twilio_standin, smtp):
    settings, client, headers = world
    body = {"template": "evacuate_now", "params": PARAMS, "status": "Actual",
            "msg_type": "Alert", "area": AREA, "channels": ["sms", "voice", "email"],
            "confirm": True}

    preview = client.post("/api/v1/alerts/preview", headers=headers, json=body).get_json()
    assert preview["recipients"] == 18
    reach = {row["language"]: row for row in preview["resident_languages"]}
    # Each of the sixteen reads its own text; zh-TW reads Traditional; the preview names the
    # one fallback: the Italian reader gets English, fixed texts included.
    assert set(reach) == {*languages.TAGS, "zh-TW", "it"}
    assert all(reach[tag]["own"] and reach[tag]["gets"] == tag for tag in languages.TAGS)
    assert (reach["zh-TW"]["own"], reach["zh-TW"]["gets"]) == (True, "zh-Hant")
    assert {k: reach["it"][k] for k in ("own", "gets", "missing", "catalog")} == {
        "own": False, "gets": "en", "missing": "it", "catalog": None}
    assert preview["fixed_texts_in_english"] == 1

    created = client.post("/api/v1/alerts", headers=headers, json=body)
    assert created.status_code == 201, created.get_json()
    alert = created.get_json()
    assert set(alert["messages"]) == set(languages.TAGS)
    assert alert["machine_translated"] == [t for t in languages.TAGS if t != "en"]
    send = f"/api/v1/alerts/{alert['id']}/send"
    assert client.post(send, headers=headers).status_code == 409  # unreviewed languages
    assert client.post(send, headers=headers,
                       json={"accept_machine_translation": True}).status_code == 202

    TocsinSimpleWorker(list(QUEUES), connection=redis_connection(settings)).work(burst=True)

    texts = template_texts()
    messages, headlines = alert["messages"], alert["headlines"]
    instructions = alert["instructions"]
    for tag in languages.TAGS:
        own = texts[tag]
        # The template's words for this language, with the params filled in.
        assert own["message"].split("{")[0] in messages[tag]
        assert PARAMS["area"] in messages[tag] and PARAMS["shelter"] in messages[tag]
        assert headlines[tag] == own["headline"].replace("{area}", PARAMS["area"])
        assert own["instruction"].split("{")[0] in instructions[tag]
    assert len(set(messages.values())) == 16
    # The deadline in each language's way of writing a time, in the agency's time zone.
    assert "4:30\u202fPM" in messages["en"] or "4:30 PM" in messages["en"]
    for tag in ("es", "fr", "de", "pt", "ru"):
        assert "16:30" in messages[tag], (tag, messages[tag])

    sms = {r.form["To"]: r.form["Body"] for r in twilio_standin.requests
           if r.path.endswith("/Messages.json")}
    mails = {m.rcpt_tos[0]: m.message for m in smtp.messages}
    calls = {r.form["To"]: r.form for r in twilio_standin.requests if r.path.endswith("/Calls.json")}
    assert (len(sms), len(mails), len(calls)) == (17, 17, 16)
    items = client.get(f"/api/v1/alerts/{alert['id']}/deliveries?per_page=100",
                       headers=headers).get_json()["items"]
    delivery = {(d["channel"], d["address"]): d for d in items}
    assert {d["status"] for d in items} == {"sent"} and len(items) == 50
    assert messages["zh-Hant"] in sms[TAIWAN[1]]
    assert messages["en"] in mails[ITALIAN[1]].get_body(("plain",)).get_content()

    for tag, (phone, address) in RESIDENTS.items():
        note = machine_translation.note(tag)
        yes = languages.reply_words(tag)["yes"]
        # SMS: the language's text, its automatic-translation note, and its own YES word.
        assert messages[tag] in sms[phone]
        assert sms[phone].endswith(gettext(tag, render.CONFIRM) % {"yes": yes})
        assert (note in sms[phone]) == (tag != "en") and ("YES" in sms[phone]) == (tag == "en")

        # Email: Content-Language, subject with the language's headline, its own instruction.
        mail = mails[address]
        assert mail["Content-Language"] == tag
        assert headlines[tag] in mail["Subject"]
        plain = mail.get_body(("plain",)).get_content()
        assert messages[tag] in plain and instructions[tag] in plain
        page = lxml_html.document_fromstring(mail.get_body(("html",)).get_content())
        assert page.get("lang") == tag
        assert page.get("dir") == ("rtl" if tag == "ar" else "ltr")

        # Voice: the call's TwiML says the headline and message with the language's voice.
        url = urlsplit(calls[phone]["Url"])
        root = etree.fromstring(signed_post(client, f"{url.path}?{url.query}", {
            "CallSid": delivery[("voice", phone)]["provider_id"], "AnsweredBy": "human"},
            settings).data)
        said = [(say.text, say.get("language")) for say in root.iter("Say")]
        if voice_supported(tag):
            assert (headlines[tag], VOICES[tag][0]) in said, (tag, said)
            assert (messages[tag], VOICES[tag][0]) in said, (tag, said)
        else:
            # Haitian Creole: no Twilio voice reads it, so no Creole is read by a wrong voice.
            assert all(text != messages[tag] for text, _ in said)
            assert all(lang in {v[0] for v in VOICES.values()} for _, lang in said)

