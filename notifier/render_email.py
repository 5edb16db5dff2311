"""The email each resident receives: subject, text and HTML in their language, and its headers.

Also the wire format (`message_bytes`), written by hand: the stdlib's EmailMessage is slow,
drops `Content-*` headers set before `set_content()`, and folds a long ASCII header such as
`List-Unsubscribe` into `=?utf-8?q?…?=` encoded words that mail clients cannot use (RFC 8058
wants the plain URLs).
"""
from __future__ import annotations

import binascii
import html
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.utils import format_datetime as rfc2822_date
from email.utils import formataddr, parseaddr
from functools import lru_cache
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime

from notifier import alert_texts, machine_translation, tokens
from notifier.i18n import N_, gettext, normalize
from notifier.render import STATUS_PREFIX, message_language
from notifier.scripts import font_family, text_dir
from notifier.text_rules import one_line

SEVERITY = {
    "Extreme": N_("Extreme alert"), "Severe": N_("Severe alert"),
    "Moderate": N_("Moderate alert"), "Minor": N_("Minor alert"), "Unknown": N_("Alert"),
}
ISSUED = N_("Issued")
WHAT_TO_DO = N_("What to do")
SENT_BY = N_("Sent by")
CONFIRM_LINE = N_("Please confirm that you received this message:")
CONFIRM_LINK = N_("I received this message")
WHY = N_("You receive this email because you signed up for emergency alerts from %(agency)s.")
UNSUBSCRIBE = N_("Stop receiving these alerts by email")

# Headers that must stay plain ASCII on the wire, folded only between list items.
PLAIN_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post", "message-id"})




@dataclass(frozen=True)
class EmailContent:
    """A rendered email: `language` is the tag of the text (it becomes Content-Language)."""

    language: str
    subject: str
    text: str
    html: str
    headers: dict = field(default_factory=dict)

    @property
    def message_id(self) -> str:
        """The Message-ID without its angle brackets (the delivery's provider id)."""
        return self.headers.get("Message-ID", "").strip().strip("<>")


def sender_address(mail_from: str) -> str:
    """The bare address of MAIL_FROM (`Tocsin <alerts@x.org>` → `alerts@x.org`)."""
    return parseaddr(mail_from)[1] or mail_from


def local_time(when: datetime, language: str, timezone: str) -> str:
    """`when` in the agency's time zone, written the way `language` writes dates."""
    try:
        locale = Locale.parse(normalize(language).replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        locale = Locale("en")
    return format_datetime(when, "full", tzinfo=ZoneInfo(timezone), locale=locale)


# Stand-ins for the per-delivery tokens in the text and HTML cached per (alert, language).
_UNSUB, _ACK = "\x00unsubscribe\x00", "\x00ack\x00"


def render_email(alert, language: str, settings, delivery_id: int, now: datetime,
                 cache: dict | None = None) -> EmailContent:
    """The email for delivery `delivery_id` to someone wanting `language` (DESIGN §5b).

    `cache` (a dict kept for one batch) holds what is the same for every reader of a language,
    so that only the signed links and the Message-ID are made per delivery.
    """
    chosen = message_language(alert, language, settings)
    key = (id(alert), chosen)
    shared = cache.get(key) if cache is not None else None
    if shared is None:
        shared = _shared(alert, chosen, settings, now)
        if cache is not None:
            cache[key] = shared
    subject, text, page = shared

    secret = settings.secret_key
    unsubscribe_token = tokens.make_token(secret, tokens.UNSUBSCRIBE, delivery_id, now)
    text, page = text.replace(_UNSUB, unsubscribe_token), page.replace(_UNSUB, unsubscribe_token)
    if alert.confirm:
        ack_token = tokens.make_token(secret, tokens.ACKNOWLEDGE, delivery_id, now)
        text, page = text.replace(_ACK, ack_token), page.replace(_ACK, ack_token)

    domain = sender_address(settings.mail_from or "").rpartition("@")[2] or "tocsin.invalid"
    mailbox = sender_address(settings.mail_from or f"alerts@{domain}")
    unsubscribe = quote("unsubscribe " + unsubscribe_token)
    headers = {
        "Message-ID": f"<{int(delivery_id)}.{secrets.token_hex(6)}@{domain}>",
        "Date": rfc2822_date(now),
        "List-Unsubscribe": (f"<mailto:{mailbox}?subject={unsubscribe}>, "
                             f"<{settings.public_url}/email/unsubscribe/{unsubscribe_token}>"),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        # Autoresponders must not answer an alert (RFC 3834).
        "Auto-Submitted": "auto-generated",
        "Content-Language": chosen,
    }
    return EmailContent(chosen, subject, text, page, headers)


def _shared(alert, chosen: str, settings, now: datetime) -> tuple[str, str, str]:
    """(subject, text, html) for every reader of `chosen`, with token stand-ins in the links."""
    t = lambda message: gettext(chosen, message)  # noqa: E731 - short and local
    agency = settings.agency_name or ""
    severity = t(SEVERITY.get(alert.severity, SEVERITY["Unknown"]))
    headline = alert_texts.headline(alert, chosen).text
    prefix = STATUS_PREFIX.get(alert.status)
    # A headline stored before text_rules refused line breaks must not add header lines.
    subject = one_line(f"{t(prefix) + ' ' if prefix else ''}{severity}: {headline}")
    message = alert.messages[chosen].strip()
    marked = machine_translation.is_marked(alert, chosen)
    note = machine_translation.note(chosen) if marked else None
    issued = local_time(alert.sent_at or now, chosen, settings.timezone)
    sender = agency + (f" ({settings.agency_contact})" if settings.agency_contact else "")
    unsubscribe_url = f"{settings.public_url}/email/unsubscribe/{_UNSUB}"
    ack_url = f"{settings.public_url}/email/ack/{_ACK}" if alert.confirm else None

    lines = [f"{severity}" + (f" — {t(prefix)}" if prefix else ""), "", headline, "", message, ""]
    if note:
        lines += [note, ""]
    instruction = alert_texts.instruction(alert, chosen)
    if instruction:
        lines += [f"{t(WHAT_TO_DO)}: {instruction.text}", ""]
    lines += [f"{t(ISSUED)}: {issued}", f"{t(SENT_BY)}: {sender}", ""]
    if ack_url:
        lines += [t(CONFIRM_LINE), ack_url, ""]
    lines += ["-- ", t(WHY) % {"agency": agency}, f"{t(UNSUBSCRIBE)}: {unsubscribe_url}"]
    text = "\n".join(lines) + "\n"

    page = _html(chosen, subject, severity, t(prefix) if prefix else None, headline, message,
                 instruction.text if instruction else None, issued, sender, t, ack_url,
                 unsubscribe_url, agency,
                 instruction_lang=normalize(instruction.language) if instruction else chosen,
                 note=note)
    return subject, text, page


def _html(language, subject, severity, prefix, headline, message, instruction, issued, sender,
          t, ack_url, unsubscribe_url, agency, instruction_lang, note=None) -> str:
    """A plain, accessible page: one heading, real text (no images), links that say where."""
    e = html.escape
    paragraphs = "".join(f"<p>{e(p).replace(chr(10), '<br>')}</p>"
                         for p in re.split(r"\n\s*\n", message) if p.strip())
    # lang and dir on <main> too: webmail (Gmail, Outlook on the web) drops <html> and <body>.
    lang = f'lang="{e(language)}" dir="{text_dir(language)}"'
    parts = [
        "<!DOCTYPE html>",
        f"<html {lang}>",
        '<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(subject)}</title></head>",
        f'<body style="margin:0;padding:16px;font-family:{e(font_family(language))};'
        'font-size:18px;line-height:1.5;color:#111;background:#fff">',
        f'<main {lang} style="max-width:40em">',
        f'<p style="font-weight:bold;color:#8a1c00">{e(severity)}'
        + (f" — {e(prefix)}" if prefix else "") + "</p>",
        f"<h1 style=\"font-size:1.5em;margin:0.2em 0\">{e(headline)}</h1>",
        paragraphs,
    ]
    if note:
        parts.append(f'<p style="font-style:italic">{e(note)}</p>')
    if instruction:
        lang_attr = (f' lang="{e(instruction_lang)}" dir="{text_dir(instruction_lang)}"'
                     if normalize(instruction_lang) != normalize(language) else "")
        parts.append(f"<p><strong>{e(t(WHAT_TO_DO))}:</strong> "
                     f"<span{lang_attr}>{e(instruction.strip())}</span></p>")
    parts.append(f"<p>{e(t(ISSUED))}: {e(issued)}<br>{e(t(SENT_BY))}: {e(sender)}</p>")
    if ack_url:
        parts.append(f"<p>{e(t(CONFIRM_LINE))}<br>"
                     f'<a href="{e(ack_url)}" style="color:#0b4f9c">{e(t(CONFIRM_LINK))}</a></p>')
    parts += [
        '<hr><p style="font-size:0.85em">' + e(t(WHY) % {"agency": agency}) + "<br>"
        f'<a href="{e(unsubscribe_url)}" style="color:#0b4f9c">{e(t(UNSUBSCRIBE))}</a></p>',
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def message_bytes(content: EmailContent, sender: str, to: str) -> bytes:
    """The message as sent over SMTP: multipart/alternative (text, then HTML), CRLF lines.

    Written by hand rather than with EmailMessage, which costs ~2 ms a message here (the
    1,000 emails/s target leaves 1 ms for everything). Headers stay in `content.headers` order
    with Content-Language last, at the top level; bodies are quoted-printable UTF-8, so any
    server takes them (no 8BITMIME needed) and no line passes 76 characters.
    """
    boundary = "=_tocsin_" + secrets.token_hex(12)
    head = [f"From: {_address_header(sender)}", f"To: {one_line(to)}",
            f"Subject: {_encoded_header(content.subject)}"]
    language = None
    for name, value in content.headers.items():
        if name.lower() == "content-language":
            language = value
        elif name.lower() in PLAIN_HEADERS:
            head.append(_plain_header(name, value))
        else:
            head.append(f"{name}: {_encoded_header(value)}")
    head += ["MIME-Version: 1.0",
             f'Content-Type: multipart/alternative; boundary="{boundary}"']
    if language:
        head.append(f"Content-Language: {language}")
    out = ["\r\n".join(head), "", "This is a multipart message in MIME format.",
           f"--{boundary}", _part("plain", content.text),
           f"--{boundary}", _part("html", content.html), f"--{boundary}--", ""]
    return "\r\n".join(out).encode("ascii")


def _part(subtype: str, body: str) -> str:
    encoded = binascii.b2a_qp(body.encode("utf-8"), istext=True).decode("ascii")
    encoded = encoded.replace("\r\n", "\n").replace("\n", "\r\n")
    return (f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{encoded}")


def _plain_header(name: str, value: str) -> str:
    """`Name: a,\r\n b`: folded only between list items, never encoded (RFC 8058)."""
    if not value.isascii():
        raise ValueError(f"{name} must be plain ASCII")
    return f"{name}: " + ",\r\n ".join(one_line(item).strip() for item in value.split(","))


@lru_cache(maxsize=256)
def _encoded_header(value: str) -> str:
    """`value` as RFC 2047 encoded words when it is not ASCII, folded at 78 characters;
    never a line break of its own (that would start a header of the text's choosing)."""
    value = one_line(value)
    if value.isascii() and len(value) < 900:
        return value
    return Header(value, "utf-8", header_name="Subject").encode(linesep="\r\n")


@lru_cache(maxsize=64)
def _address_header(mailbox: str) -> str:
    name, address = parseaddr(mailbox)
    return formataddr((name, address), charset="utf-8") if name else address
