"""Sign-in (password, then a TOTP code) and sign-out of dispatchers, auditors and admins."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for

from admin_ui import db, get_settings
from admin_ui.pages import throttle
from admin_ui.pages.guard import (current_user, login_required, page_blueprint, password_stamp,
                                  public, sign_in, sign_out)
from admin_ui.pages.i18n import gettext as _
from notifier import accounts, audit, totp
from notifier.models import User
from workers.queues import redis_connection

bp = page_blueprint("auth")

# Between the password and the code: who, until when, and where to go next.
PENDING = "second_step"
ENROL_SECRET = "enrol_secret"
PENDING_SECONDS = 5 * 60


@bp.after_request
def _no_store(response):
    """Sign-in pages (and the secret on the set-up page) are never kept by a browser or proxy."""
    response.headers["Cache-Control"] = "no-store"
    return response


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
    enrolled = accounts.totp_enabled(user)
    if enrolled or totp.required_for(user.role, get_settings().any_sandboxed):
        _start_second_step(user, next_url, now)
        return redirect(url_for("auth.login_code" if enrolled else "auth.enrol"))
    return _finish_sign_in(user, next_url, address, now, second_factor=False)


def _finish_sign_in(user: User, next_url: str | None, address: str, now: datetime,
                    second_factor: bool):
    audit.record(db(), f"user:{user.name}", "user.login", f"user:{user.name}",
                 {"address": address, "second_factor": second_factor}, now)
    sign_in(user)
    return redirect(next_url or home_for(user))


def _start_second_step(user: User, next_url: str | None, now: datetime) -> None:
    """Remember, for a few minutes, who gave the right password (not yet signed in)."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    session[PENDING] = {"id": user.id, "pw": password_stamp(user), "next": next_url,
                        "until": int(now.timestamp()) + PENDING_SECONDS}


def _pending(now: datetime) -> tuple[User | None, str | None]:
    """(the user halfway through signing in, where to go next), or (None, None)."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("id"), int):
        return None, None
    if int(pending.get("until") or 0) < now.timestamp():
        return None, None
    user = db().get(User, pending["id"])
    if user is None or not user.active or pending.get("pw") != password_stamp(user):
        return None, None
    return user, _safe_next(pending.get("next"))


def _throttled_page(template: str, user: User, address: str, **context):
    """The code form again with a 429 when `user` has failed too often from `address`."""
    wait = throttle.wait_seconds(redis_connection(get_settings()), _code_key(user), address)
    if not wait:
        return None
    minutes = max(1, (wait + 59) // 60)
    error = _("Too many wrong codes. Try again in %(minutes)d minutes.", minutes=minutes)
    return render_template(template, error=error, **context), 429


def _code_key(user: User) -> str:
    # Counted apart from passwords: a right password then wrong codes is a different story.
    return f"totp\0{user.name}"


def _wrong_code(template: str, user: User, address: str, now: datetime, **context):
    throttle.record_failure(redis_connection(get_settings()), _code_key(user), address)
    session_ = db()
    audit.record(session_, f"user:{user.name}", "user.login_code_failed", f"user:{user.name}",
                 {"address": address}, now)
    session_.commit()  # on record although the answer is 401
    error = _("That code is not right, or was already used. Wait for the next one.")
    return render_template(template, error=error, **context), 401


def _signed_out_again():
    flash(_("Sign in again: the sign-in took too long or was interrupted."), "error")
    return redirect(url_for("auth.login"))


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code():
    """The second step: the 6-digit code of the user's authenticator app."""
    now = datetime.now(timezone.utc)
    user, next_url = _pending(now)
    if user is None:
        return _signed_out_again()
    if not accounts.totp_enabled(user):
        return redirect(url_for("auth.enrol"))
    if request.method == "GET":
        return render_template("login_totp.html", error=None)
    address = request.remote_addr or "unknown"
    blocked = _throttled_page("login_totp.html", user, address)
    if blocked:
        return blocked
    if not accounts.verify_totp(db(), user, request.form.get("code"), now):
        return _wrong_code("login_totp.html", user, address, now)
    throttle.clear(redis_connection(get_settings()), _code_key(user), address)
    return _finish_sign_in(user, next_url, address, now, second_factor=True)


def enrol_context(user: User, secret: str, action: str) -> dict:
    """What the enrolment page shows: the secret as text and as an otpauth:// link."""
    issuer = get_settings().agency_name or "Tocsin"
    return {"secret": totp.grouped(secret), "uri": totp.provisioning_uri(secret, user.name, issuer),
            "action": action, "account": user.name, "issuer": issuer}


@bp.route("/login/enrol", methods=["GET", "POST"])
@public
def enrol():
    """First sign-in where a second factor is required: add Tocsin to an authenticator app."""
    now = datetime.now(timezone.utc)
    user, next_url = _pending(now)
    if user is None:
        return _signed_out_again()
    if accounts.totp_enabled(user):
        return redirect(url_for("auth.login_code"))
    secret = session.get(ENROL_SECRET) or totp.new_secret()
    session[ENROL_SECRET] = secret
    context = enrol_context(user, secret, url_for("auth.enrol"))
    if request.method == "GET":
        return render_template("login_totp_enrol.html", error=None, **context)
    address = request.remote_addr or "unknown"
    blocked = _throttled_page("login_totp_enrol.html", user, address, **context)
    if blocked:
        return blocked
    step = totp.matching_step(secret, request.form.get("code"), now)
    if step is None:
        return _wrong_code("login_totp_enrol.html", user, address, now, **context)
    throttle.clear(redis_connection(get_settings()), _code_key(user), address)
    accounts.set_totp_secret(db(), user, secret, used_step=step)
    audit.record(db(), f"user:{user.name}", "user.totp_enrol", f"user:{user.name}", {}, now)
    return _finish_sign_in(user, next_url, address, now, second_factor=True)


@bp.post("/logout")
@login_required("dispatcher", "auditor")
def logout():
    sign_out()
    return redirect(url_for("auth.login"))
