"""Admins manage people and API tokens; anyone signed in can turn on two-factor sign-in."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for

from admin_ui import db, get_settings
from admin_ui.api import now
from admin_ui.pages.auth import ENROL_SECRET, enrol_context
from admin_ui.pages.guard import current_user, login_required, page_blueprint
from admin_ui.pages.i18n import gettext as _
from notifier import accounts, audit, totp
from notifier.errors import Conflict, InvalidInput, NotFound
from notifier.models import ApiToken, User

bp = page_blueprint("accounts")


@bp.after_request
def _no_store(response):
    """Account pages show who may do what, a new token once, a TOTP secret: never cached."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _actor() -> str:
    return f"user:{current_user().name}"


def _translated(errors: dict) -> dict:
    """The domain's English field messages in the page's language (they are in the catalog)."""
    return {field: [_(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
            for field, msgs in errors.items()}


def _users_page(values: dict | None = None, errors: dict | None = None, status: int = 200):
    settings = get_settings()
    users = accounts.list_users(db())
    return render_template(
        "accounts/users.html", users=users, roles=accounts.ROLES, values=values or {},
        errors=errors or {}, min_length=accounts.MIN_PASSWORD_LENGTH,
        totp_on={u.id: accounts.totp_enabled(u) for u in users},
        totp_required={u.id: accounts.totp_required(u.role, settings) for u in users},
    ), status


@bp.get("/admin/users")
@login_required()
def users():
    """Every account: role, active, second factor; a form to add one."""
    return _users_page()


@bp.post("/admin/users")
@login_required()
def create_user():
    """Add an account with an initial password; the form again (422/409) when it is wrong."""
    values = {"name": request.form.get("name", "").strip(), "role": request.form.get("role", "")}
    try:
        user = accounts.create_user(db(), values["name"], values["role"],
                                    request.form.get("password", ""), now())
    except InvalidInput as exc:
        return _users_page(values, _translated(exc.errors), 422)
    except Conflict:
        return _users_page(values, {"name": [_("A user with this name already exists.")]}, 409)
    audit.record(db(), _actor(), "user.create", f"user:{user.name}", {"role": user.role}, now())
    flash(_("Account %(name)s created.", name=user.name), "info")
    return redirect(url_for("accounts.users"))


def _user_or_404(user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/admin/users/<id:user_id>/disable")
@login_required()
def disable_user(user_id: int):
    """Disable an account: its sessions end at their next request."""
    user = _user_or_404(user_id)
    if user.id == current_user().id:
        flash(_("You cannot disable your own account."), "error")
        return redirect(url_for("accounts.users"))
    return _set_active(user, False)


@bp.post("/admin/users/<id:user_id>/enable")
@login_required()
def enable_user(user_id: int):
    return _set_active(_user_or_404(user_id), True)


def _set_active(user: User, active: bool):
    if user.active != active:
        accounts.set_active(db(), user.id, active)
        audit.record(db(), _actor(), "user.enable" if active else "user.disable",
                     f"user:{user.name}", {}, now())
    message = _("%(name)s can sign in.") if active else _("%(name)s can no longer sign in.")
    flash(message % {"name": user.name}, "info")
    return redirect(url_for("accounts.users"))


@bp.post("/admin/users/<id:user_id>/reset-2fa")
@login_required()
def reset_two_factor(user_id: int):
    """Forget a lost phone: the user sets up a new authenticator at the next sign-in."""
    user = _user_or_404(user_id)
    if accounts.totp_enabled(user):
        accounts.set_totp_secret(db(), user, None)
        audit.record(db(), _actor(), "user.totp_reset", f"user:{user.name}", {}, now())
    flash(_("Two-factor sign-in of %(name)s was reset.", name=user.name), "info")
    return redirect(url_for("accounts.users"))


def _tokens_page(values: dict | None = None, errors: dict | None = None,
                 new_token: str | None = None, status: int = 200):
    response = render_template("accounts/tokens.html", tokens=accounts.list_tokens(db()),
                               roles=accounts.ROLES, values=values or {}, errors=errors or {},
                               new_token=new_token)
    return response, status


@bp.get("/admin/tokens")
@login_required()
def tokens():
    """Every API token (never its value), and a form to make one."""
    return _tokens_page()


@bp.post("/admin/tokens")
@login_required()
def create_token():
    """Make a token and show its value on this page only: it is stored as a hash."""
    values = {"name": request.form.get("name", "").strip(), "role": request.form.get("role", "")}
    try:
        token, plaintext = accounts.issue_token(db(), values["name"], values["role"], now())
    except InvalidInput as exc:
        return _tokens_page(values, _translated(exc.errors), status=422)
    audit.record(db(), _actor(), "token.create", f"token:{token.id}",
                 {"name": token.name, "role": token.role}, now())
    return _tokens_page(new_token=plaintext)


@bp.post("/admin/tokens/<id:token_id>/revoke")
@login_required()
def revoke_token(token_id: int):
    session_ = db()
    try:
        revoked = accounts.revoke_token(session_, token_id, now())
    except NotFound:
        abort(404)
    if revoked:
        token = session_.get(ApiToken, token_id)
        audit.record(session_, _actor(), "token.revoke", f"token:{token_id}",
                     {"name": token.name}, now())
    flash(_("The token was revoked: programs using it are refused from now on."), "info")
    return redirect(url_for("accounts.tokens"))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required("dispatcher", "auditor")
def two_factor():
    """Turn on two-factor sign-in for oneself (optional with SANDBOX=1 and for auditors)."""
    user = current_user()
    if accounts.totp_enabled(user):
        session.pop(ENROL_SECRET, None)
        return render_template("accounts/two_factor.html", enabled=True)
    secret = session.get(ENROL_SECRET) or totp.new_secret()
    session[ENROL_SECRET] = secret
    context = enrol_context(user, secret, url_for("accounts.two_factor"))
    if request.method == "GET":
        return render_template("accounts/two_factor.html", enabled=False, error=None, **context)
    step = totp.matching_step(secret, request.form.get("code"), now())
    if step is None:
        error = _("That code is not right, or was already used. Wait for the next one.")
        return render_template("accounts/two_factor.html", enabled=False, error=error,
                               **context), 422
    accounts.set_totp_secret(db(), user, secret, used_step=step)
    session.pop(ENROL_SECRET, None)
    audit.record(db(), _actor(), "user.totp_enrol", f"user:{user.name}", {}, now())
    flash(_("Two-factor sign-in is on: you will be asked for a code each time you sign in."),
          "info")
    return redirect(url_for("accounts.two_factor"))
