"""Email links: GET only shows a button (scanners change nothing); POST unsubscribes or confirms."""
from __future__ import annotations

import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from notifier import tokens
from notifier.db import session_scope
from notifier.models import AuditEvent, Delivery, OptOut
from tests.admin_ui.conftest import make_alert, make_delivery, make_subscriber


@pytest.fixture
def mail(settings):
    """An email delivery to a Spanish speaker; returns its id."""
    with session_scope(settings.database_url) as session:
        sub = make_subscriber(session, phone=None, email="ana@example.org", language="es",
                              channels=["email"])
        row = make_delivery(session, make_alert(session, channels=["email"]), sub,
                            channel="email", address="ana@example.org", language="es")
        return row.id


def link(settings, purpose, delivery_id) -> str:
    token = tokens.make_token(settings.secret_key, purpose, delivery_id)
    path = {tokens.UNSUBSCRIBE: "unsubscribe", tokens.ACKNOWLEDGE: "ack"}[purpose]
    return f"/email/{path}/{token}"


def opt_outs(settings) -> list[tuple]:
    with session_scope(settings.database_url) as session:
        return [tuple(r) for r in session.execute(
            select(OptOut.address, OptOut.channel, OptOut.source))]


def test_opening_the_unsubscribe_link_only_shows_a_button(client, settings, mail):
    response = client.get(link(settings, tokens.UNSUBSCRIBE, mail))

    assert response.status_code == 200
    page = lxml_html.document_fromstring(response.data)
    assert page.get("lang") == "es"
    [form] = page.forms
    assert form.method.upper() == "POST"
    assert page.xpath("//button")[0].text_content() == "Dejar de recibir alertas por correo electrónico"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert opt_outs(settings) == []


def test_a_one_click_post_opts_the_address_out_of_email_and_is_audited(client, settings, mail):
    url = link(settings, tokens.UNSUBSCRIBE, mail)
    # RFC 8058: the mail client POSTs this body, with no cookie and no CSRF token.
    response = client.post(url, data={"List-Unsubscribe": "One-Click"})
    again = client.post(url, data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200 and again.status_code == 200
    assert "Ya no recibirá alertas" in response.get_data(as_text=True)
    assert opt_outs(settings) == [("ana@example.org", "email", "email-link")]
    with session_scope(settings.database_url) as session:
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "subscriber.opt_out")).all()
        assert len(events) == 1
        assert events[0].details == {"channel": "email", "source": "email-link"}
        assert "ana@example.org" not in str(events[0].details) + events[0].object


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_bad_or_foreign_token_is_refused_and_changes_nothing(client, settings, mail, method):
    voice = tokens.make_token(settings.secret_key, tokens.VOICE, mail)
    for url in (f"/email/unsubscribe/{voice}", "/email/unsubscribe/forged.token.x",
                f"/email/ack/{tokens.make_token(settings.secret_key, tokens.UNSUBSCRIBE, mail)}"):
        response = getattr(client, method)(url)
        assert response.status_code == 404
        assert response.mimetype == "text/html"
    assert opt_outs(settings) == []


def test_the_ack_link_confirms_only_on_post(client, settings, mail):
    url = link(settings, tokens.ACKNOWLEDGE, mail)

    shown = client.get(url)
    with session_scope(settings.database_url) as session:
        assert session.get(Delivery, mail).acknowledged_at is None
    confirmed = client.post(url)

    assert "Recibí esta alerta" in shown.get_data(as_text=True)
    assert confirmed.status_code == 200
    assert "Gracias" in confirmed.get_data(as_text=True)
    with session_scope(settings.database_url) as session:
        assert session.get(Delivery, mail).acknowledged_at is not None
