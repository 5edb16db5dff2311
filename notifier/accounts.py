"""People and programs allowed in: users with argon2 password hashes, API tokens stored as SHA-256."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from notifier import text_rules, totp, web_sessions
from notifier.config import Settings
from notifier.errors import Conflict, InvalidInput, NotFound
from notifier.i18n import N_
from notifier.models import ApiToken, User, utcnow

ROLES = ("admin", "dispatcher", "auditor")
# Those who can send alerts or manage accounts must use a second factor; auditors only read.
TOTP_ROLES = ("admin", "dispatcher")
MIN_PASSWORD_LENGTH = 8
# Whole sentences, so the pages can translate them by value (they name the constants above).
PASSWORD_TOO_SHORT = N_("Password must be at least 8 characters.")
ROLE_UNKNOWN = N_("Role must be one of: admin, dispatcher, auditor.")
# last_used_at is advisory; writing it on every request would serialise API calls on SQLite.
_TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
_hasher = PasswordHasher()
# Verified against when the user is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("tocsin: no such user")


def _check_name_role(name: str, role: str, errors: dict) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        errors["name"] = [N_("Name must not be empty.")]
    elif len(name) > 80:
        errors["name"] = [N_("Name must be at most 80 characters.")]
    else:
        try:
            name = text_rules.check(name)
        except ValueError as exc:
            errors["name"] = [str(exc)]
    if role not in ROLES:
        errors["role"] = [ROLE_UNKNOWN]
    return name


def _check_password(password: str, errors: dict) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = [PASSWORD_TOO_SHORT]


def create_user(session: Session, name: str, role: str, password: str,
                now: datetime | None = None) -> User:
    """Create a user; raise InvalidInput on a bad name/role/password, Conflict if the name is taken."""
    errors: dict = {}
    name = _check_name_role(name, role, errors)
    _check_password(password, errors)
    if errors:
        raise InvalidInput(errors)
    existing = session.scalar(select(User.id).where(User.name == name))
    if existing is not None:
        raise Conflict("user already exists", existing)
    user = User(name=name, role=role, password_hash=_hasher.hash(password), active=True,
                created_at=now or utcnow())
    session.add(user)
    session.flush()
    return user


def check_password(session: Session, name: str, password: str) -> User | None:
    """Return the active user whose password this is, else None.

    Rehashes in place when the hasher's parameters changed since the hash was made.
    """
    user = session.scalar(select(User).where(User.name == (name or "").strip()))
    if user is None or not user.active:
        try:
            _hasher.verify(_DUMMY_HASH, password or "")
        except VerificationError:
            pass
        return None
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.flush()
    return user


def set_password(session: Session, user: User | str, password: str) -> User:
    """Replace a user's password (by object or name); raise NotFound or InvalidInput."""
    if isinstance(user, str):
        found = session.scalar(select(User).where(User.name == user.strip()))
        if found is None:
            raise NotFound(f"no user named {user!r}")
        user = found
    errors: dict = {}
    _check_password(password, errors)
    if errors:
        raise InvalidInput(errors)
    user.password_hash = _hasher.hash(password)
    web_sessions.end_all(session, user.id)
    session.flush()
    return user


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, role: str, now: datetime | None = None) -> str:
    """Create an API token and return its plaintext — the only time it is ever available."""
    return issue_token(session, name, role, now)[1]


def issue_token(session: Session, name: str, role: str,
                now: datetime | None = None) -> tuple[ApiToken, str]:
    """Create an API token; return (its row, its plaintext). Raise InvalidInput."""
    errors: dict = {}
    name = _check_name_role(name, role, errors)
    if errors:
        raise InvalidInput(errors)
    plaintext = "tcn_" + secrets.token_urlsafe(32)
    token = ApiToken(name=name, role=role, token_hash=_digest(plaintext), created_at=now or utcnow())
    session.add(token)
    session.flush()
    return token, plaintext


def token_for(session: Session, plaintext: str, now: datetime) -> ApiToken | None:
    """Return the live token matching `plaintext` (None if unknown or revoked). Never writes:
    a GET's session is read-only; record the use with `record_token_use` in a session of its own."""
    if not plaintext or not isinstance(plaintext, str):
        return None
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plaintext.strip()),
                                                 ApiToken.revoked_at.is_(None)))


def token_use_due(token: ApiToken, now: datetime) -> bool:
    """True when `token`'s last_used_at is older than the interval it is kept to."""
    return token.last_used_at is None or now - token.last_used_at >= _TOKEN_TOUCH_INTERVAL


def record_token_use(session: Session, token_id: int, now: datetime) -> bool:
    """Set last_used_at to `now` unless a request recorded a use within the interval; True if
    written. Conditional, so requests racing on one token write it once per interval."""
    stale = or_(ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at <= now - _TOKEN_TOUCH_INTERVAL)
    result = session.execute(update(ApiToken).where(ApiToken.id == token_id, stale)
                             .values(last_used_at=now)
                             .execution_options(synchronize_session=False))
    return result.rowcount == 1


def revoke_token(session: Session, token_id: int, now: datetime) -> bool:
    """Revoke a token by id; return True when it was live. Raise NotFound for an unknown id."""
    if session.get(ApiToken, token_id) is None:
        raise NotFound(f"no token {token_id}")
    result = session.execute(update(ApiToken)
                             .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                             .values(revoked_at=now))
    return result.rowcount == 1


def list_users(session: Session) -> list[User]:
    """Every user, by name."""
    return list(session.scalars(select(User).order_by(User.name)))


def list_tokens(session: Session) -> list[ApiToken]:
    """Every API token, live ones first, newest first."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None),
                                                          ApiToken.id.desc())))


def set_active(session: Session, user_id: int, active: bool) -> User:
    """Enable or disable a user (a disabled user's sessions end); raise NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    user.active = bool(active)
    if not user.active:
        web_sessions.end_all(session, user.id)
    session.flush()
    return user


def totp_required(role: str, settings: Settings) -> bool:
    """True when a user of `role` must pass a second factor to sign in.

    Only an explicit SANDBOX=1 makes it optional (the offline demo stays one step); a channel
    without credentials never does, or a live deployment would sign admins in on a password.
    """
    return role in TOTP_ROLES and not settings.sandbox_explicit


def totp_enabled(user: User) -> bool:
    """True when the user has a confirmed second factor."""
    return bool(user.totp_secret)


def set_totp_secret(session: Session, user: User, secret: str | None,
                    used_step: int | None = None) -> User:
    """Store a confirmed secret (with the step of the code that confirmed it), or None to reset.

    A reset (a lost phone) also ends the user's sessions: whoever holds the phone may be signed in.
    """
    user.totp_secret = secret or None
    user.totp_last_step = used_step if secret else None
    if not secret:
        web_sessions.end_all(session, user.id)
    session.flush()
    return user


def verify_totp(session: Session, user: User, code: str | None, now: datetime) -> bool:
    """Check a code of `user`'s authenticator and use it up; False if wrong, reused or unset.

    The time step is claimed with a conditional UPDATE (only if no later step was accepted
    meanwhile), so two requests racing with one code cannot both succeed.
    """
    if not user.totp_secret:
        return False
    step = totp.matching_step(user.totp_secret, code, now, after_step=user.totp_last_step)
    if step is None:
        return False
    unused = (User.totp_last_step.is_(None) if user.totp_last_step is None
              else User.totp_last_step == user.totp_last_step)
    claimed = session.execute(update(User).where(User.id == user.id, unused)
                              .values(totp_last_step=step)
                              .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return False
    session.refresh(user, ["totp_last_step"])
    return True
