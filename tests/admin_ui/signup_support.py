"""Helpers for the sign-up and /me tests: a page client, a form post, the sandbox outbox."""
from __future__ import annotations

import re

from sqlalchemy import select

from notifier.db import session_scope
from notifier.models import SandboxMessage
from tests.admin_ui.pages.conftest import csrf_token, page_client

__all__ = ["page_client", "post_form", "outbox", "last_code", "last_link", "signup_form"]


def post_form(client, page: str, path: str, data: dict, follow: bool = False):
    """GET `page` for its CSRF token, then POST `data` to `path`."""
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=follow)


def signup_form(**fields) -> dict:
    data = {"phone": "", "email": "", "language": "en", "channels": ["sms"], "kind-0": "home",
            "address-0": "9 Main St", "zone-0": "", "consent": "yes"}
    data.update(fields)
    return data


def outbox(settings, to: str) -> list[SandboxMessage]:
    with session_scope(settings.database_url, readonly=True) as session:
        rows = session.scalars(select(SandboxMessage).where(SandboxMessage.to == to)
                               .order_by(SandboxMessage.id)).all()
        session.expunge_all()
        return list(rows)


def last_code(settings, phone: str) -> str:
    return re.search(r"\b(\d{6})\b", outbox(settings, phone)[-1].body).group(1)


def last_link(settings, to: str) -> str:
    """The path of the last link texted or emailed to `to` (PUBLIC_URL stripped)."""
    url = re.search(r"https://tocsin\.example\.org(/\S+)", outbox(settings, to)[-1].body).group(1)
    return url.rstrip(").")
