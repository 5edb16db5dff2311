"""Consent records and the opt-out ledger: per subscriber, and as formula-safe CSV exports."""
from __future__ import annotations

from flask import Response, abort, g
from sqlalchemy import or_, select

from admin_ui import db, get_settings
from admin_ui.api import READ_ALERTS, bp, now, requires
from admin_ui.csv_export import audit_download, iter_csv
from notifier.db import session_scope
from notifier.models import Consent, OptOut, Subscriber
from notifier.subscriptions import iso

CSV_CHUNK = 5000
CONSENT_FIELDS = ("id", "at", "address", "channel", "source", "wording")
OPT_OUT_FIELDS = ("address", "channel", "at", "source", "body")


@bp.get("/subscribers/<id:subscriber_id>/consents")
@requires(*READ_ALERTS)
def subscriber_consents(subscriber_id: int):
    """{"consents": [...], "opt_outs": [...]} for the subscriber's phone and email, oldest first."""
    session = db()
    sub = session.get(Subscriber, subscriber_id)
    if sub is None:
        abort(404, f"no subscriber {subscriber_id}")
    addresses = [a for a in (sub.phone, sub.email) if a]
    consents = session.scalars(select(Consent).where(Consent.address.in_(addresses))
                               .order_by(Consent.at, Consent.id)).all()
    opt_outs = session.scalars(select(OptOut).where(OptOut.address.in_(addresses))
                               .order_by(OptOut.at, OptOut.channel)).all()
    return {
        "consents": [{"id": c.id, "at": iso(c.at), "address": c.address, "channel": c.channel,
                      "source": c.source, "wording": c.wording} for c in consents],
        "opt_outs": [{"at": iso(o.at), "address": o.address, "channel": o.channel,
                      "source": o.source, "body": o.body} for o in opt_outs],
    }


@bp.get("/consents.csv")
@requires(*READ_ALERTS)
def export_consents():
    """Every consent record (time, address, channel, source, wording shown) as CSV."""
    url = get_settings().database_url
    audit_download(url, g.actor, "consents", None, {}, now())
    columns = [getattr(Consent, name) for name in CONSENT_FIELDS]

    def rows():
        last_id = 0
        while True:  # its own sessions: the request's one closes before the stream ends
            with session_scope(url, readonly=True) as session:
                chunk = session.execute(select(*columns).where(Consent.id > last_id)
                                        .order_by(Consent.id).limit(CSV_CHUNK)).all()
            if not chunk:
                return
            yield from ((r[0], iso(r[1]), *r[2:]) for r in chunk)
            last_id = chunk[-1][0]

    return _csv("consents.csv", CONSENT_FIELDS, rows())


@bp.get("/opt-outs.csv")
@requires(*READ_ALERTS)
def export_opt_outs():
    """The opt-out ledger (address, channel, time, source, text received) as CSV."""
    url = get_settings().database_url
    audit_download(url, g.actor, "opt_outs", None, {}, now())

    def rows():
        after = ("", "")
        while True:  # keyset paging on the ledger's primary key (address, channel)
            with session_scope(url, readonly=True) as session:
                chunk = session.execute(
                    select(OptOut.address, OptOut.channel, OptOut.at, OptOut.source, OptOut.body)
                    .where(or_(OptOut.address > after[0],
                               (OptOut.address == after[0]) & (OptOut.channel > after[1])))
                    .order_by(OptOut.address, OptOut.channel).limit(CSV_CHUNK)).all()
            if not chunk:
                return
            yield from ((r[0], r[1], iso(r[2]), r[3], r[4]) for r in chunk)
            after = (chunk[-1][0], chunk[-1][1])

    return _csv("opt-outs.csv", OPT_OUT_FIELDS, rows())


def _csv(filename: str, header, rows) -> Response:
    return Response(iter_csv(header, rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
