"""/a/<public id>: the public page of a sent Actual alert, in the reader's language, cacheable;
404 for drafts, Exercise, Test and anything never sent."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from lxml import html

from admin_ui import create_app
from notifier.config import Settings
from notifier.db import session_scope
from notifier.models import Zone
from tests.admin_ui.conftest import make_alert

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SENT = datetime(2026, 7, 4, 16, 30, tzinfo=timezone.utc)  # 12:30 in New York (EDT)
SQUARE = {"type": "Polygon", "coordinates": [[[-71.1, 42.3], [-71.0, 42.3], [-71.0, 42.4],
                                               [-71.1, 42.4], [-71.1, 42.3]]]}


@pytest.fixture
def settings(env) -> Settings:
    return Settings.from_env({**env, "TIMEZONE": "America/New_York", "MAP_TILE_URL": "none",
                              "AGENCY_NAME": "Springfield Police"})


@pytest.fixture
def client(settings):
    app = create_app(settings)
    app.config["TESTING"] = True
    return app.test_client()


def add(settings, **values):
    """An alert row (sent Actual unless told); returns (public id, id)."""
    base = dict(state="sent", sent_at=SENT, expires_at=NOW + timedelta(hours=6),
                headline="Shelter in place", instruction="Close windows and doors.",
                messages={"en": "Chemical leak near Main St. Stay indoors.",
                          "es": "Fuga química cerca de Main St. Quédese adentro."},
                area={"description": "Downtown", "geojson": SQUARE})
    with session_scope(settings.database_url) as session:
        alert = make_alert(session, **{**base, **values})
        return alert.public_id, alert.id


def by_testid(doc, name: str, below: str = "") -> list:
    """Elements marked data-testid=`name` (or their descendants matching the XPath `below`)."""
    return doc.xpath(f'//*[@data-testid="{name}"]{below}')


def text_of(response) -> str:
    return " ".join(html.fromstring(response.data).text_content().split())


def test_a_sent_actual_alert_has_a_public_page_without_sign_in(client, settings):
    public_id, _ = add(settings)
    response = client.get(f"/a/{public_id}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = text_of(response)
    for words in ("Springfield Police", "Shelter in place", "Chemical leak near Main St.",
                  "Close windows and doors.", "Downtown"):
        assert words in page
    # Times in TIMEZONE, as the reader's language writes them.
    assert "July 4, 2026" in page and "12:30" in page and "Eastern" in page
    doc = html.fromstring(response.data)
    assert doc.get("lang") == "en"
    cap = by_testid(doc, "cap-link")[0].get("href")
    assert cap.startswith("https://tocsin.example.org/feeds/alerts/") and cap.endswith(".xml")
    assert client.get(cap.removeprefix("https://tocsin.example.org")).status_code == 200
    assert [a.get("href") for a in by_testid(doc, "languages", "//a")] == ["?lang=es"]
    assert "Set-Cookie" not in response.headers


def test_the_page_holds_no_inline_script_or_style(client, settings):
    public_id, _ = add(settings)
    doc = html.fromstring(client.get(f"/a/{public_id}").data)
    assert not doc.xpath("//*[@style]") and not doc.xpath("//style")
    inline = [s for s in doc.xpath("//script") if not s.get("src")]
    assert [s.get("type") for s in inline] == ["application/json"]  # the map's data, not code


@pytest.mark.parametrize("values", [
    dict(state="draft", sent_at=None),
    dict(status="Exercise"),
    dict(status="Test"),
    dict(state="cancelled", sent_at=None),  # a draft discarded: it never went out
], ids=["draft", "exercise", "test", "never-sent"])
def test_anything_but_a_sent_actual_alert_is_404(client, settings, values):
    public_id, _ = add(settings, **values)
    response = client.get(f"/a/{public_id}")
    assert response.status_code == 404
    assert "Shelter in place" not in response.get_data(as_text=True)
    assert "Alert not found" in text_of(response)


@pytest.mark.parametrize("path", ["/a/nothing-here", "/a/AAAAAAAAAAAA", "/a/%00"])
def test_unknown_and_malformed_ids_are_404(client, settings, path):
    add(settings)
    assert client.get(path).status_code == 404


def test_the_reader_s_language_comes_from_lang_then_accept_language_then_the_default(
        client, settings):
    public_id, _ = add(settings)

    def language(**kwargs):
        response = client.get(f"/a/{public_id}", **kwargs)
        assert response.status_code == 200
        return html.fromstring(response.data).get("lang")

    assert language() == "en"
    assert language(headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}) == "es"
    assert language(headers={"Accept-Language": "fr;q=0.9,es;q=0.8"}) == "es"
    assert language(headers={"Accept-Language": "de"}) == "en"
    assert language(query_string={"lang": "en"}, headers={"Accept-Language": "es"}) == "en"
    assert language(query_string={"lang": "xx"}, headers={"Accept-Language": "es"}) == "es"


def test_the_spanish_page_is_spanish_throughout(client, settings):
    public_id, _ = add(settings)
    response = client.get(f"/a/{public_id}?lang=es")
    page = text_of(response)
    assert "Fuga química cerca de Main St." in page
    assert "Qué hacer" in page and "4 de julio de 2026" in page
    doc = html.fromstring(response.data)
    assert [a.get("href") for a in by_testid(doc, "languages", "//a")] == ["?lang=en"]
    assert response.headers["Vary"] == "Accept-Language"


def test_the_page_answers_304_to_a_reader_who_has_it(client, settings):
    public_id, _ = add(settings)
    first = client.get(f"/a/{public_id}")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert "public" in first.headers["Cache-Control"]
    again = client.get(f"/a/{public_id}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    since = client.get(f"/a/{public_id}",
                       headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    spanish = client.get(f"/a/{public_id}?lang=es", headers={"If-None-Match": first.headers["ETag"]})
    assert spanish.status_code == 200  # another language is another document


def test_a_cancelled_alert_says_it_was_stopped_and_links_its_all_clear(client, settings):
    public_id, alert_id = add(settings, state="cancelled", cancelled_at=SENT + timedelta(hours=1))
    before = client.get(f"/a/{public_id}")
    assert before.status_code == 200
    assert "This alert was stopped on July 4, 2026" in text_of(before)
    assert "No update was published with it." in text_of(before)
    clear_id, _ = add(settings, msg_type="Cancel", headline="All clear downtown",
                      references_alert_id=alert_id, sent_at=SENT + timedelta(hours=1))
    after = client.get(f"/a/{public_id}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200  # the all-clear changed the page
    links = by_testid(html.fromstring(after.data), "follow-ups", "//a")
    assert [(a.text_content(), a.get("href")) for a in links] == [
        ("All clear: All clear downtown", f"https://tocsin.example.org/a/{clear_id}")]
    back = html.fromstring(client.get(f"/a/{clear_id}").data)
    assert by_testid(back, "original", "//a")[0].get("href") == \
        f"https://tocsin.example.org/a/{public_id}"


def test_an_expired_alert_says_it_ended(client, settings):
    public_id, _ = add(settings, expires_at=SENT + timedelta(hours=2))
    assert "This alert ended on July 4, 2026" in text_of(client.get(f"/a/{public_id}"))


def test_the_page_names_the_zones_the_area_concerns_with_their_feeds(client, settings):
    with session_scope(settings.database_url) as session:
        session.add(Zone(code="beat-3", name="Beat 3", geometry=SQUARE, keywords=[],
                         min_lat=42.3, min_lon=-71.1, max_lat=42.4, max_lon=-71.0))
    public_id, _ = add(settings, area={"zones": ["beat-3"]})
    doc = html.fromstring(client.get(f"/a/{public_id}").data)
    zone = by_testid(doc, "zones", "/li")[0]
    assert "Beat 3" in zone.text_content()
    assert zone.xpath(".//a")[0].get("href") == \
        "https://tocsin.example.org/feeds/zones/beat-3.atom"
    data = doc.get_element_by_id("map-data").text
    assert re.search(r'"code":\s*"beat-3"', data) and '"tileUrl": ""' in data.replace('":"', '": "')


def test_a_right_to_left_language_sets_dir_and_lang(client, settings):
    public_id, _ = add(settings, messages={"en": "Stay indoors.", "ar": "ابق في الداخل."})
    doc = html.fromstring(client.get(f"/a/{public_id}?lang=ar").data)
    assert (doc.get("lang"), doc.get("dir")) == ("ar", "rtl")
    [message] = by_testid(doc, "message")
    assert message.text_content() == "ابق في الداخل."
    assert (message.get("lang"), message.get("dir")) == ("ar", "rtl")
    # No Arabic headline was written: the Arabic message's first sentence stands in for it.
    [headline] = by_testid(doc, "headline")
    assert (headline.text_content(), headline.get("dir")) == ("ابق في الداخل.", "rtl")
    # The only instruction is English: it is shown, marked as English.
    [instruction] = by_testid(doc, "instruction")
    assert (instruction.get("lang"), instruction.get("dir")) == ("en", "ltr")
    english = html.fromstring(client.get(f"/a/{public_id}").data)
    assert (english.get("lang"), english.get("dir")) == ("en", "ltr")


def test_each_language_reads_its_own_headline_and_instruction(client, settings):
    public_id, _ = add(settings, headlines={"es": "Refúgiese en su lugar"},
                       instructions={"es": "Cierre puertas y ventanas."})
    doc = html.fromstring(client.get(f"/a/{public_id}?lang=es").data)
    [headline], [instruction] = by_testid(doc, "headline"), by_testid(doc, "instruction")
    assert (headline.text_content(), headline.get("lang")) == ("Refúgiese en su lugar", "es")
    assert (instruction.text_content(), instruction.get("lang")) == ("Cierre puertas y ventanas.", "es")
    assert doc.findtext(".//title").startswith("Refúgiese en su lugar")
    english = html.fromstring(client.get(f"/a/{public_id}?lang=en").data)
    assert by_testid(english, "headline")[0].text_content() == "Shelter in place"
    assert by_testid(english, "instruction")[0].text_content() == "Close windows and doors."


def test_chinese_and_indic_pages_say_their_language_and_load_the_script_fonts(client, settings):
    public_id, _ = add(settings, messages={"en": "Stay indoors.", "zh-Hant": "請留在室內。",
                                           "hi": "घर के अंदर रहें।"})
    for tag, text in (("zh-Hant", "請留在室內。"), ("hi", "घर के अंदर रहें।")):
        response = client.get(f"/a/{public_id}?lang={tag}")
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        doc = html.fromstring(response.data)
        assert (doc.get("lang"), doc.get("dir")) == (tag, "ltr")
        assert by_testid(doc, "message")[0].get("lang") == tag
        assert by_testid(doc, "message")[0].text_content() == text
        assert doc.xpath("//meta[@charset='utf-8']")
        assert doc.xpath("//link[@rel='stylesheet'][contains(@href, 'css/fonts.css')]")
        # The other languages' links name theirs, so each label is drawn in its script.
        assert doc.xpath("//*[@data-testid='languages']//*[@lang='en'][@dir='ltr']")
