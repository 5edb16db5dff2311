"""Who is signed in, and `@login_required(*roles)`, which every page route must carry."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from functools import wraps
from typing import Callable

from flask import (Blueprint, Flask, abort, current_app, g, jsonify, redirect, render_template,
                   request, session, url_for)

from admin_ui import db, get_settings
from notifier import web_sessions
from notifier.accounts import totp_required
from notifier.models import User

SESSION_ID = "sid"
SESSION_STAMP = "pw"
SESSION_SECOND_FACTOR = "2fa"


def password_stamp(user: User) -> str:
    """A short fingerprint of the password hash: changing a password ends its other sessions."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def sign_in(user: User, second_factor: bool = False) -> None:
    """Start a fresh session for `user`: a new random id, recorded server-side (no fixation)."""
    language = session.get("lang")
    session.clear()
    session.permanent = True
    now = datetime.now(timezone.utc)
    session[SESSION_ID] = web_sessions.start(db(), user.id, now,
                                             current_app.permanent_session_lifetime)
    session[SESSION_STAMP] = password_stamp(user)
    session[SESSION_SECOND_FACTOR] = bool(second_factor)
    if language:
        session["lang"] = language


def sign_out() -> None:
    """End this session here and server-side: a copy of the cookie no longer signs anyone in."""
    web_sessions.end(db(), session.get(SESSION_ID))
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def current_user() -> User | None:
    """The active user of this session, or None: also when the session was ended server-side
    (sign-out, disabled, new password, two-factor reset) or the password changed. Only reads."""
    if "user" in g:
        return g.user
    user = None
    user_id = web_sessions.user_id_for(db(), session.get(SESSION_ID), datetime.now(timezone.utc))
    if user_id is not None:
        found = db().get(User, user_id)
        stamp = session.get(SESSION_STAMP)
        # A session begun on a password alone ends where a second factor is required
        # (one from before the rule, or from a SANDBOX=1 run with the same secret key).
        if (found is not None and found.active and stamp == password_stamp(found)
                and (session.get(SESSION_SECOND_FACTOR)
                     or not totp_required(found.role, get_settings()))):
            user = found
    g.user = user
    g.actor = f"user:{user.name}" if user else None
    return user


def login_required(*roles: str) -> Callable:
    """Guard a page: signed in (else to sign-in) as `admin` or one of `roles` (else 403)."""
    allowed = frozenset(("admin",) + roles)

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            user = current_user()
            if user is None:
                if request.path.endswith(".json"):
                    response = jsonify({"error": "signed out; sign in again"})
                    response.status_code = 401
                    return response
                wanted = request.full_path if request.method == "GET" else None
                return redirect(url_for("auth.login", next=wanted))
            if user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        guarded.required_roles = allowed
        return guarded

    return decorate


def public(view):
    """Mark a page anyone may open (the sign-in form)."""
    view.required_roles = frozenset({"anyone"})
    return view


def check_every_page_guarded(app: Flask, blueprints: tuple[str, ...]) -> None:
    """Refuse to start if some page view lacks `@login_required` or `@public`."""
    for rule in app.url_map.iter_rules():
        name = rule.endpoint.split(".", 1)[0]
        if name in blueprints and rule.endpoint != f"{name}.static":
            if not getattr(app.view_functions[rule.endpoint], "required_roles", None):
                raise RuntimeError(f"{rule.rule} ({rule.endpoint}) has no @login_required guard")


def page_blueprint(name: str) -> Blueprint:
    """A blueprint for pages: its 403 and 404 are HTML pages (the API keeps its JSON errors)."""
    bp = Blueprint(name, __name__)
    for code in (403, 404):
        bp.register_error_handler(code, _error_page(code))
    return bp


def _error_page(code: int):
    def handle(_exc):
        return render_template("error.html", code=code), code

    return handle
