"""Sign-ups on the web (DESIGN §12): pending until confirmed, 6-digit codes for phones, links
for emails, and the subscriber made (or updated) once an address is proven.

Nothing here sends: callers send the one message each function says to send. Codes are kept
only as an HMAC under SECRET_KEY; a code lives CODE_TTL, is void after MAX_WRONG wrong
entries (the right one is then refused too), and a phone gets at most MAX_CODES per rolling
CODE_WINDOW, so guessing a code through the form is hopeless.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from notifier import audit, subscriptions
from notifier.i18n import N_, gettext
from notifier.models import Subscriber
from notifier.signup_models import Signup, SignupCode

CODE_TTL = timedelta(minutes=10)
CODE_WINDOW = timedelta(minutes=60)
MAX_CODES = 3
MAX_WRONG = 5
# An unconfirmed sign-up holds a stranger's number or email: gone once its email link (3 days)
# could no longer confirm it.
PENDING_TTL = timedelta(days=3)
SOURCE = "web-signup"

CODE_TEXT = N_("%(agency)s: your code is %(code)s. It expires in 10 minutes.")
CONSENT = N_("I agree to receive emergency alerts and the messages I chose from %(agency)s on "
             "the ways to reach me I ticked. Message and data rates may apply. I can stop at any "
             "time by replying STOP or on the page \"My alerts\".")
EMAIL_SUBJECT = N_("Confirm your sign-up for alerts from %(agency)s")
EMAIL_TEXT = N_("Someone, probably you, signed this address up for alerts from %(agency)s. "
                "To confirm, open this link and press the button:\n\n%(link)s\n\n"
                "If it was not you, ignore this email: nothing more will be sent.")

# check_code's outcomes
CONFIRMED, WRONG, VOID, EXPIRED = "confirmed", "wrong", "void", "expired"


def consent_wording(language: str, agency: str) -> str:
    """The consent text as the resident was shown it (recorded with their confirmation)."""
    return gettext(language, CONSENT) % {"agency": agency}


def start(session: Session, choices: dict, consent: str, now: datetime) -> Signup:
    """Record a pending sign-up from clean `choices` (notifier.signup_form) and the consent
    wording shown. Sign-ups left unconfirmed past PENDING_TTL are deleted on the way."""
    purge_stale(session, now)
    signup = Signup(phone=choices.get("phone"), email=choices.get("email"),
                    choices={**{k: v for k, v in choices.items() if k not in ("phone", "email")},
                             "consent": consent}, created_at=now)
    session.add(signup)
    session.flush()
    return signup


def purge_stale(session: Session, now: datetime) -> int:
    """Delete sign-ups older than PENDING_TTL that confirmed nothing (and their codes)."""
    stale = select(Signup.id).where(Signup.created_at < now - PENDING_TTL,
                                    Signup.phone_confirmed_at.is_(None),
                                    Signup.email_confirmed_at.is_(None))
    ids = list(session.scalars(stale))
    if ids:
        session.execute(delete(SignupCode).where(SignupCode.signup_id.in_(ids)),
                        execution_options={"synchronize_session": False})
        session.execute(delete(Signup).where(Signup.id.in_(ids)),
                        execution_options={"synchronize_session": False})
    return len(ids)


def _hash(secret_key: str, phone: str, code: str) -> str:
    return hmac.new(secret_key.encode(), f"signup-code\0{phone}\0{code}".encode(),
                    hashlib.sha256).hexdigest()


def codes_left(session: Session, phone: str, now: datetime) -> int:
    """How many more codes `phone` may be sent now (MAX_CODES in any rolling CODE_WINDOW)."""
    sent = session.scalar(select(func.count()).select_from(SignupCode).where(
        SignupCode.phone == phone, SignupCode.created_at > now - CODE_WINDOW)) or 0
    return max(0, MAX_CODES - sent)


def issue_code(session: Session, secret_key: str, signup: Signup, now: datetime) -> str | None:
    """A new 6-digit code for the sign-up's phone (to send by SMS), or None when the phone
    has had MAX_CODES in the last CODE_WINDOW (then nothing is to be sent)."""
    if not signup.phone or codes_left(session, signup.phone, now) <= 0:
        return None
    code = f"{secrets.randbelow(10 ** 6):06d}"
    session.add(SignupCode(signup_id=signup.id, phone=signup.phone,
                           code_hash=_hash(secret_key, signup.phone, code), created_at=now,
                           expires_at=now + CODE_TTL, wrong=0))
    session.flush()
    return code


def check_code(session: Session, settings, signup: Signup, entered: str,
               now: datetime) -> str:
    """CONFIRMED (the phone is confirmed: see `confirm`), WRONG, VOID or EXPIRED, judged on
    the sign-up's latest code."""
    code = session.scalar(select(SignupCode).where(SignupCode.signup_id == signup.id)
                          .order_by(SignupCode.id.desc()).limit(1))
    if code is None or code.used_at is not None or code.expires_at <= now:
        return EXPIRED
    if code.wrong >= MAX_WRONG:
        return VOID
    entered = "".join(ch for ch in (entered or "") if not ch.isspace())
    if not hmac.compare_digest(code.code_hash, _hash(settings.secret_key, code.phone, entered)):
        code.wrong += 1
        session.flush()
        return VOID if code.wrong >= MAX_WRONG else WRONG
    code.used_at = now
    confirm(session, settings, signup, "phone", now)
    return CONFIRMED


def confirm(session: Session, settings, signup: Signup, which: str, now: datetime) -> Subscriber:
    """Mark the sign-up's phone or email confirmed and make its subscriber hold every confirmed
    address and the channels chosen for them; each such channel is opted in with the consent
    wording shown (this lifts an earlier STOP). Audited with the resident as actor."""
    if which == "phone":
        signup.phone_confirmed_at = signup.phone_confirmed_at or now
    else:
        signup.email_confirmed_at = signup.email_confirmed_at or now
    phone = signup.phone if signup.phone_confirmed_at else None
    email = signup.email if signup.email_confirmed_at else None
    sub = session.get(Subscriber, signup.subscriber_id) if signup.subscriber_id else None
    if sub is None:
        matches = [s for s in (phone, email) if s]
        sub = session.scalar(select(Subscriber).where(or_(
            Subscriber.phone.in_(matches), Subscriber.email.in_(matches))).order_by(Subscriber.id)
            .limit(1))
    choices = signup.choices or {}
    channels = [c for c in choices.get("channels", [])
                if (subscriptions.ADDRESS_OF[c] == "phone" and phone)
                or (subscriptions.ADDRESS_OF[c] == "email" and email)]
    data = {"language": choices.get("language"), "channels": channels,
            "locations": choices.get("locations", []), "zones": choices.get("zones", []),
            "topics": choices.get("topics", [])}
    if sub is None:
        sub = subscriptions.create_subscriber(session, {**data, "phone": phone, "email": email},
                                              now, settings)
        action = "resident.signup"
    else:
        # A proven address may join the record that already holds it; the other address
        # joins only if nobody else holds it.
        keep = {"phone": phone or sub.phone, "email": email or sub.email}
        for key in ("phone", "email"):
            other = session.scalar(select(Subscriber.id).where(
                getattr(Subscriber, key) == keep[key], Subscriber.id != sub.id))
            if other is not None:
                keep[key] = getattr(sub, key)
        data["channels"] = list(dict.fromkeys([*sub.channels, *channels]))
        data["channels"] = [c for c in data["channels"]
                            if keep[subscriptions.ADDRESS_OF[c]]]
        subscriptions.update_subscriber(session, sub, {**data, **keep}, now, settings)
        action = "resident.signup_update"
    signup.subscriber_id = sub.id
    actor = f"resident:{sub.id}"
    for channel in channels:
        address = phone if subscriptions.ADDRESS_OF[channel] == "phone" else email
        subscriptions.opt_in(session, address, channel, SOURCE, choices.get("consent"), now,
                             actor=actor)
    audit.record(session, actor, action, f"subscriber:{sub.id}",
                 {"confirmed": which, "channels": channels}, now)
    session.flush()
    return sub
