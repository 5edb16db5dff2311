"""The email: language, subject, escaped accessible HTML, local time, and headers as RFC 8058 wants."""
from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from lxml import html as lxml_html

from notifier import tokens
from notifier.config import Settings
from notifier.render_email import message_bytes, render_email

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)


@pytest.fixture
def settings(env) -> Settings:
    return Settings.from_env({**env, "MAIL_FROM": "Springfield OEM <alerts@springfield.example>",
                              "TIMEZONE": "America/New_York", "AGENCY_NAME": "Springfield OEM"})


def alert(**overrides):
    values = dict(messages={"en": "Chemical leak near Main St. Stay indoors.",
                            "es": "Fuga química cerca de Main St. Quédese adentro."},
                  headline="Shelter in place", severity="Severe", status="Actual",
                  instruction=None, confirm=False, sent_at=NOW)
    values.update(overrides)
    return SimpleNamespace(**values)


def parsed(content, to="ana@example.org"):
    raw = message_bytes(content, "Springfield OEM <alerts@springfield.example>", to)
    return raw, email.message_from_bytes(raw, policy=email.policy.default)


def test_the_subject_carries_severity_and_headline_in_the_reader_s_language(settings):
    english = render_email(alert(), "en", settings, 1, NOW)
    spanish = render_email(alert(), "es-MX", settings, 2, NOW)

    assert english.subject == "Severe alert: Shelter in place"
    # The headline is written in the alert's first language: Spanish readers get their text's
    # first sentence rather than an English headline.
    assert spanish.subject == "Alerta grave: Fuga química cerca de Main St."
    assert spanish.language == "es"


def test_a_language_s_own_headline_and_instruction_replace_the_english_ones(settings):
    content = render_email(alert(instruction="Close windows.",
                                 headlines={"es": "Refúgiese en su lugar"},
                                 instructions={"es": "Cierre las ventanas."}), "es", settings, 1, NOW)
    assert content.subject == "Alerta grave: Refúgiese en su lugar"
    assert "Qué hacer: Cierre las ventanas." in content.text and "Close windows" not in content.text
    assert "<h1" in content.html and "Refúgiese en su lugar</h1>" in content.html
    assert "Close windows" not in content.html and 'lang="en"' not in content.html


def test_exercises_are_marked_in_the_subject(settings):
    content = render_email(alert(status="Exercise"), "es", settings, 1, NOW)

    assert content.subject.startswith("[SIMULACRO] Alerta grave:")


def test_the_body_gives_severity_message_instruction_and_local_time(settings):
    content = render_email(alert(instruction="Close windows."), "es", settings, 1, NOW)

    assert "Alerta grave" in content.text
    assert "Quédese adentro." in content.text
    assert "Qué hacer: Close windows." in content.text
    # 03:00 UTC is 22:00 the evening before in Springfield (America/New_York), in Spanish.
    assert "sábado, 21 de noviembre de 2026, 22:00:00" in content.text
    assert "Enviado por: Springfield OEM" in content.text


def test_the_html_is_escaped_plain_and_labelled_with_its_language(settings):
    content = render_email(alert(messages={"en": "<script>alert(1)</script> Go uphill & wait."},
                                 headline="Flood <b>now</b>"), "en", settings, 1, NOW)
    page = lxml_html.document_fromstring(content.html)

    assert "<script>" not in content.html and "&lt;script&gt;" in content.html
    assert page.get("lang") == "en" and page.get("dir") == "ltr"
    assert [h.text_content() for h in page.iter("h1")] == ["Flood <b>now</b>"]
    assert page.find(".//title").text == content.subject
    assert not page.xpath("//img")
    assert "Go uphill & wait." in page.text_content()


def test_arabic_mail_reads_right_to_left(settings):
    content = render_email(alert(messages={"ar": "تسرب كيميائي. ابقوا في منازلكم."}), "ar",
                           settings, 1, NOW)

    page = lxml_html.document_fromstring(content.html)
    assert (page.get("lang"), page.get("dir")) == ("ar", "rtl")
    # Webmail drops <html>: the container says it too.
    [main] = page.iter("main")
    assert (main.get("lang"), main.get("dir")) == ("ar", "rtl")
    assert '"Noto Sans Arabic"' in page.find("body").get("style")
    assert content.subject.startswith("تنبيه شديد")


def test_an_english_instruction_in_arabic_mail_is_marked_left_to_right(settings):
    content = render_email(alert(messages={"en": "Stay inside.", "ar": "ابقوا في منازلكم."},
                                 instruction="Close windows."), "ar", settings, 1, NOW)
    [span] = lxml_html.document_fromstring(content.html).xpath("//main//p/span[@lang]")
    assert (span.get("lang"), span.get("dir"), span.text) == ("en", "ltr", "Close windows.")


def test_chinese_and_indic_mail_name_their_script_and_its_fonts(settings):
    for tag, text, font in (("zh-Hant", "請留在室內。", '"PingFang TC"'),
                            ("zh-Hans", "请留在室内。", '"PingFang SC"'),
                            ("hi", "घर के अंदर रहें।", '"Noto Sans Devanagari"'),
                            ("bn", "ঘরে থাকুন।", '"Noto Sans Bengali"')):
        content = render_email(alert(messages={tag: text}), tag, settings, 1, NOW)
        page = lxml_html.document_fromstring(content.html)
        [main] = page.iter("main")
        assert (page.get("lang"), main.get("lang"), main.get("dir")) == (tag, tag, "ltr")
        assert font in page.find("body").get("style")
        assert page.xpath("//meta[@charset='utf-8']")
        assert text in main.text_content()


def test_a_confirmation_link_appears_only_when_the_alert_asks_for_it(settings):
    plain = render_email(alert(), "en", settings, 5, NOW)
    confirm = render_email(alert(confirm=True), "en", settings, 5, NOW)

    assert "/email/ack/" not in plain.text + plain.html
    [link] = re.findall(r"https://tocsin\.example\.org/email/ack/(\S+)", confirm.text)
    assert tokens.read_token(settings.secret_key, tokens.ACKNOWLEDGE, link, NOW) == 5
    assert "I received this message" in confirm.html


def test_headers_content_language_top_level_and_list_unsubscribe_in_plain_ascii(settings):
    content = render_email(alert(), "es", settings, 42, NOW)
    raw, msg = parsed(content)

    assert msg["Content-Language"] == "es"
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p["Content-Language"] is None for p in parts)
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unsubscribe = re.search(r"^List-Unsubscribe: ([^\r\n]*(?:\r\n [^\r\n]*)*)", head,
                            re.M).group(1)
    assert "=?" not in unsubscribe
    mailto, https = [u.strip().strip("<>") for u in unsubscribe.replace("\r\n", "").split(",")]
    assert mailto.startswith("mailto:alerts@springfield.example?subject=unsubscribe%20")
    token = https.rsplit("/", 1)[1]
    assert https == f"https://tocsin.example.org/email/unsubscribe/{token}"
    assert tokens.read_token(settings.secret_key, tokens.UNSUBSCRIBE, token, NOW) == 42
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<42\.[0-9a-f]{12}@springfield\.example>", msg["Message-ID"])
    assert msg["Date"].datetime == NOW
    assert msg["Subject"] == "Alerta grave: Fuga química cerca de Main St."
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert content.message_id == msg["Message-ID"].strip("<>")
