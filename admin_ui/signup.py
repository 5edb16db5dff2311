"""`/signup` (DESIGN §12): a resident signs themself up; a phone is confirmed by a 6-digit code
texted to it, an email by a signed link (double opt-in). Until then nothing is a subscriber."""
from __future__ import annotations

from flask import Blueprint, request, session, url_for

from admin_ui import db, get_settings
from admin_ui.resident_pages import (_, allowed, form_choices, form_options, link, now, page,
                                     page_language)
from admin_ui.resident_send import send
from notifier import signups, tokens
from notifier.i18n import N_, gettext
from notifier.signup_form import clean_choices
from notifier.signup_models import Signup

bp = Blueprint("signup", __name__)

NEED_CONSENT = N_("Tick the box to agree, or we cannot send you alerts.")
TOO_MANY_POSTS = N_("Too many sign-ups from this connection. Try again in an hour.")
CODE_SENT = N_("We texted a 6-digit code to %(phone)s. It expires in 10 minutes.")
CODE_LIMIT = N_("This number has had 3 codes in the last hour. No new code was sent: try again "
                "later.")
CODE_WRONG = N_("That code is not right. Check the text and try again.")
CODE_VOID = N_("That code was entered wrongly too many times and no longer works. Ask for a new "
               "code.")
CODE_EXPIRED = N_("That code has expired. Ask for a new code.")
SEND_FAILED = N_("We could not send the message. Try again later.")
EMAIL_SENT = N_("We emailed a link to %(email)s. Open it to confirm your email address.")
PHONE_DONE = N_("Your phone number is confirmed. You will receive alerts on it.")
EMAIL_TITLE = N_("Confirm your email address")
EMAIL_QUESTION = N_("Press the button to confirm that you want alerts from %(agency)s at this "
                    "email address.")
EMAIL_BUTTON = N_("Confirm my email address")
EMAIL_DONE = N_("Your email address is confirmed. You will receive alerts by email.")
BAD_LINK = N_("This link is not valid or has expired.")


@bp.get("/signup")
def form():
    language = page_language()
    return page("public/signup.html", values={"language": language, "channels": [],
                                              "places": [], "topics": []},
                errors={}, consent=signups.consent_wording(language, get_settings().agency_name),
                **form_options(language))


@bp.post("/signup")
def submit():
    settings, language = get_settings(), page_language()
    raw = form_choices()
    errors: dict = {}
    choices = clean_choices(db(), raw, settings.default_region, language, errors)
    # Recorded as shown: in the page's language, which may differ from the alerts' language.
    wording = signups.consent_wording(language, settings.agency_name)
    if request.form.get("consent") != "yes":
        errors["consent"] = [_(NEED_CONSENT)]
    if not errors and not allowed("signup"):
        errors["_form"] = [_(TOO_MANY_POSTS)]
    if errors:
        return page("public/signup.html", status=422, values=raw, errors=errors,
                    consent=wording, **form_options(language))
    signup = signups.start(db(), choices, wording, now())
    session["signup_id"] = signup.id
    notes = []
    if signup.phone:
        notes.append(_send_code(signup))
    if signup.email:
        notes.append(_send_email_link(signup))
    return _confirm_page(signup, notes)


def _send_code(signup: Signup) -> str:
    settings, session, language = get_settings(), db(), signup.choices.get("language", "en")
    code = signups.issue_code(session, settings.secret_key, signup, now())
    if code is None:
        return _(CODE_LIMIT)
    text = gettext(language, signups.CODE_TEXT) % {"agency": settings.agency_name, "code": code}
    if not send(session, settings, "sms", signup.phone, text, now(), language):
        return _(SEND_FAILED)
    return _(CODE_SENT) % {"phone": signup.phone}


def _send_email_link(signup: Signup) -> str:
    settings, session, language = get_settings(), db(), signup.choices.get("language", "en")
    token = tokens.make_token(settings.secret_key, tokens.SIGNUP_EMAIL, signup.id)
    body = gettext(language, signups.EMAIL_TEXT) % {
        "agency": settings.agency_name,
        "link": link(url_for("signup.confirm_email", token=token, lang=language))}
    subject = gettext(language, signups.EMAIL_SUBJECT) % {"agency": settings.agency_name}
    if not send(session, settings, "email", signup.email, body, now(), language, subject):
        return _(SEND_FAILED)
    return _(EMAIL_SENT) % {"email": signup.email}


def _confirm_page(signup: Signup, notes: list[str], errors: list[str] | None = None,
                  status: int = 200):
    return page("public/signup_confirm.html", status=status, signup=signup, notes=notes,
                errors=errors or [])


def _pending() -> Signup | None:
    signup_id = session.get("signup_id")
    return db().get(Signup, signup_id) if isinstance(signup_id, int) else None


@bp.get("/signup/confirm")
def confirm_form():
    signup = _pending()
    if signup is None:
        return page("public/message.html", status=404, title=_(BAD_LINK), text=_(BAD_LINK))
    return _confirm_page(signup, [])


@bp.post("/signup/confirm")
def confirm_code():
    """Enter the code (`code`), or ask for a new one (`resend`)."""
    signup = _pending()
    if signup is None or not signup.phone:
        return page("public/message.html", status=404, title=_(BAD_LINK), text=_(BAD_LINK))
    if request.form.get("action") == "resend":
        if not allowed("signup-code"):
            return _confirm_page(signup, [], [_(TOO_MANY_POSTS)], 429)
        return _confirm_page(signup, [_send_code(signup)])
    if signup.phone_confirmed_at is not None:
        return _confirm_page(signup, [_(PHONE_DONE)])
    outcome = signups.check_code(db(), get_settings(), signup, request.form.get("code", ""),
                                 now())
    if outcome == signups.CONFIRMED:
        return _confirm_page(signup, [_(PHONE_DONE)])
    message = {signups.WRONG: CODE_WRONG, signups.VOID: CODE_VOID,
               signups.EXPIRED: CODE_EXPIRED}[outcome]
    # 200, not 4xx: a wrong entry is counted and must be committed.
    return _confirm_page(signup, [], [_(message)])


@bp.route("/signup/email/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """GET: a page with a button (mail scanners follow links). POST: the email is confirmed."""
    settings = get_settings()
    signup_id = tokens.read_token(settings.secret_key, tokens.SIGNUP_EMAIL, token)
    signup = db().get(Signup, signup_id) if signup_id is not None else None
    if signup is None or not signup.email:
        return page("public/message.html", status=404, title=_(BAD_LINK), text=_(BAD_LINK))
    if request.method == "GET" and signup.email_confirmed_at is None:
        return page("public/message.html", title=_(EMAIL_TITLE),
                    text=_(EMAIL_QUESTION) % {"agency": settings.agency_name},
                    button=_(EMAIL_BUTTON))
    if signup.email_confirmed_at is None:
        signups.confirm(db(), settings, signup, "email", now())
    return page("public/message.html", title=_(EMAIL_TITLE), text=_(EMAIL_DONE))
