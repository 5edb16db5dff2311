"""Sign-in and sign-out of dispatchers, auditors and admins (session cookie, throttled)."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for

from admin_ui import db, get_settings
from admin_ui.pages import throttle
from admin_ui.pages.guard import current_user, login_required, page_blueprint, public, sign_in
from admin_ui.pages.i18n import gettext as _
from notifier import accounts, audit
from workers.queues import redis_connection

bp = page_blueprint("auth")


def home_for(user) -> str:
    return url_for("dashboard.index") if user.role == "admin" else url_for("alerts.index")


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: an open redirect would help a phishing page."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if target.rstrip("?") in ("/", "/login"):
        return None
    return target


@bp.get("/")
@public
def root():
    """Signed in: the user's home page; otherwise the sign-in form."""
    user = current_user()
    if user is None:
        return redirect(url_for("auth.login"))
    return redirect(home_for(user))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """The sign-in form; a POST checks the password (argon2) unless throttled."""
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        user = current_user()
        if user is not None:
            return redirect(next_url or home_for(user))
        return render_template("login.html", next_url=next_url, error=None, name="")
    name = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    conn = redis_connection(get_settings())
    now = datetime.now(timezone.utc)
    wait = throttle.wait_seconds(conn, name, address)
    if wait:
        minutes = max(1, (wait + 59) // 60)
        error = _("Too many failed sign-ins. Try again in %(minutes)d minutes.", minutes=minutes)
        return render_template("login.html", next_url=next_url, error=error, name=name), 429
    session_ = db()
    user = accounts.check_password(session_, name, password) if name and password else None
    if user is None:
        throttle.record_failure(conn, name, address)
        audit.record(session_, "anonymous", "user.login_failed", f"user:{name[:80]}",
                     {"address": address}, now)
        session_.commit()  # the failed attempt is on record even though the answer is 401
        error = _("Wrong username or password.")
        return render_template("login.html", next_url=next_url, error=error, name=name), 401
    throttle.clear(conn, name, address)
    audit.record(session_, f"user:{user.name}", "user.login", f"user:{user.name}",
                 {"address": address}, now)
    sign_in(user)
    return redirect(next_url or home_for(user))


@bp.post("/logout")
@login_required("dispatcher", "auditor")
def logout():
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    return redirect(url_for("auth.login"))
