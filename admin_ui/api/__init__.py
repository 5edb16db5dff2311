"""The /api/v1 blueprint: bearer tokens, role checks, JSON bodies, paging and audit helpers."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from functools import wraps
from typing import Callable

from flask import Blueprint, Flask, abort, after_this_request, g, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import Unauthorized
from werkzeug.routing import IntegerConverter

from admin_ui import db, get_settings
from notifier import accounts, audit as audit_log
from notifier.db import session_scope
from notifier.errors import InvalidInput

bp = Blueprint("api", __name__, url_prefix="/api/v1")
log = logging.getLogger("admin_ui.api")

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500
# Who may do what (DESIGN §4); admin may do everything and is added to every rule.
WRITE_PEOPLE = ("dispatcher",)
READ_SUBSCRIBERS = ("dispatcher",)
READ_ALERTS = ("dispatcher", "auditor")
READ_AUDIT = ("auditor",)
# The role set of a route that needs no token at all (only the API's own description).
ANYONE = "anyone"
# Who sees residents' numbers, emails and live links in full; auditors get them masked (§9).
FULL_ADDRESSES = ("dispatcher",)


def now() -> datetime:
    """The request's clock, read once so every write of one request carries the same time."""
    if "now" not in g:
        g.now = datetime.now(timezone.utc)
    return g.now


def sees_full_addresses() -> bool:
    """True when the current token may read residents' addresses unmasked (admin, dispatcher)."""
    return g.token.role in ("admin",) + FULL_ADDRESSES


def requires(*roles: str) -> Callable:
    """Guard a view: a valid bearer token (401 otherwise) of `admin` or one of `roles` (403).

    Sets `g.token` and `g.actor` ("token:<name>") for the audit log.
    """
    allowed = frozenset(("admin",) + roles)

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            token = _token_from_header()
            if token.role not in allowed:
                abort(403, "this token's role may not do that")
            g.token, g.actor = token, f"token:{token.name}"
            return view(*args, **kwargs)

        guarded.required_roles = allowed
        return guarded

    return decorate


def public(view):
    """Mark an /api/v1 view anyone may call without a token (the OpenAPI description)."""
    view.required_roles = frozenset({ANYONE})
    return view


def _token_from_header():
    header = request.headers.get("Authorization", "")
    scheme, _, plaintext = header.partition(" ")
    plaintext = plaintext.strip()
    if scheme.lower() != "bearer" or not plaintext:
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    token = accounts.token_for(db(), plaintext, now())
    if token is None:
        raise Unauthorized("the bearer token is unknown or revoked")
    if accounts.token_use_due(token, now()):
        _record_use_after_response(token.id, now())
    return token


def _record_use_after_response(token_id: int, at: datetime) -> None:
    """Write the token's last use in a transaction of its own once the response is out.

    Never inside the request's session: a GET's session is read-only, and on SQLite a read
    that turns into a write fails with "database is locked" when another writer got in first.
    """
    database_url = get_settings().database_url

    def record():
        try:
            with session_scope(database_url) as session:
                accounts.record_token_use(session, token_id, at)
        except SQLAlchemyError:  # advisory: the next request records it
            log.warning("could not record the use of API token %s", token_id, exc_info=True)

    @after_this_request
    def on_close(response):
        response.call_on_close(record)
        return response


def check_every_route_guarded(app: Flask) -> None:
    """Refuse to start if some /api/v1 view has neither `@requires` nor `@public`: a hole."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(f"{bp.name}."):
            view = app.view_functions[rule.endpoint]
            if not getattr(view, "required_roles", None):
                raise RuntimeError(f"{rule.rule} ({rule.endpoint}) has no @requires guard")


def json_body(kind: type = dict):
    """Return the request's JSON body; 415 when not JSON, 400 when malformed, 422 when not `kind`."""
    data = request.get_json()
    if not isinstance(data, kind):
        wanted = "an object" if kind is dict else "a list"
        raise InvalidInput({"_schema": [f"the body must be a JSON {wanted}"]})
    return data


def optional_json_body() -> dict:
    """Return the JSON object body, or {} when the request has no body at all."""
    if not request.content_length and not request.data:
        return {}
    return json_body(dict)


def page_args() -> tuple[int, int]:
    """Return (page, per_page) from the query string; per_page is capped at MAX_PER_PAGE."""
    errors = {}
    values = {}
    for name, default in (("page", 1), ("per_page", DEFAULT_PER_PAGE)):
        raw = request.args.get(name, "").strip()
        try:
            values[name] = int(raw) if raw else default
        except ValueError:
            errors[name] = ["must be a whole number"]
            continue
        if values[name] < 1:
            errors[name] = ["must be at least 1"]
    if errors:
        raise InvalidInput(errors)
    return values["page"], min(values["per_page"], MAX_PER_PAGE)


def choice_arg(name: str, choices) -> str | None:
    """Return query parameter `name` if given; 422 when it is not one of `choices`."""
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if value not in choices:
        raise InvalidInput({name: [f"must be one of {', '.join(choices)}"]})
    return value


def paged(items: list, page: int, per_page: int, total: int) -> dict:
    return {"items": items, "page": page, "per_page": per_page, "total": total}


class IdConverter(IntegerConverter):
    """`<id:…>` in routes: a positive id that fits the database's INTEGER, else 404."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=2**31 - 1)


def record(action: str, obj: str | None, details: dict | None = None) -> None:
    """Write one audit event for a change made through the current token."""
    audit_log.record(db(), g.actor, action, obj, details or {}, now())


from admin_ui.api import alerts, audit as audit_views, cap, inbox, sandbox, subscribers, zones  # noqa: E402,F401
from admin_ui.api import consents  # noqa: E402,F401
from admin_ui.api import reports  # noqa: E402,F401
from admin_ui.api import translate  # noqa: E402,F401
from admin_ui.api import templates  # noqa: E402,F401
from admin_ui.api import addresses  # noqa: E402,F401
from admin_ui.api import topics  # noqa: E402,F401
from admin_ui.api import openapi  # noqa: E402,F401
