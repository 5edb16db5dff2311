"""audit: an HMAC seal per event and on the head (AUDIT_KEY); the existing chain sealed now

Revision ID: 0006_audit_mac
Revises: 0005_approval_digest

The key is never in the database: the process running the migration gives it
(`python -m notifier init-db` does, through notifier.db.use_audit_key). Only the part of an
existing chain that the old SHA-256 check finds intact is sealed: an event already altered
stays unsealed, so verifying keeps reporting it instead of the upgrade blessing it.
"""
from alembic import context, op
import sqlalchemy as sa

from notifier.audit import GENESIS, event_hash, event_mac, head_mac
from notifier.errors import ConfigError
from notifier.models import UTCDateTime

revision = "0006_audit_mac"
down_revision = "0005_approval_digest"
branch_labels = None
depends_on = None

EVENTS = sa.table("audit_events", sa.column("id", sa.Integer), sa.column("at", UTCDateTime()),
                  sa.column("actor", sa.String), sa.column("action", sa.String),
                  sa.column("object", sa.String), sa.column("details", sa.JSON),
                  sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
                  sa.column("mac", sa.String))
HEAD = sa.table("audit_head", sa.column("id", sa.Integer), sa.column("hash", sa.String),
                sa.column("mac", sa.String))
BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    with op.batch_alter_table("audit_head") as batch_op:
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    _seal(op.get_bind())


def _seal(conn) -> None:
    """Seal the intact prefix of the chain (and the head when the whole chain is intact)."""
    if conn.execute(sa.select(sa.func.count()).select_from(EVENTS)).scalar() == 0:
        return
    key = context.config.attributes.get("audit_key")
    if not key:
        raise ConfigError("AUDIT_KEY", "the audit log must be sealed with its key: "
                                       "migrate with `python -m notifier init-db`")
    prev, after = GENESIS, 0
    while True:
        rows = conn.execute(sa.select(EVENTS).where(EVENTS.c.id > after)
                            .order_by(EVENTS.c.id).limit(BATCH)).all()
        if not rows:
            break
        sealed = []
        for row in rows:
            if row.prev_hash != prev or row.hash != event_hash(prev, row.at, row.actor, row.action,
                                                               row.object, row.details):
                _write(conn, sealed)
                return
            sealed.append({"row_id": row.id, "row_mac": event_mac(key, row.hash)})
            prev = row.hash
        _write(conn, sealed)
        after = rows[-1].id
    conn.execute(HEAD.update().where(HEAD.c.hash == prev).values(mac=head_mac(key, prev)))


def _write(conn, sealed: list[dict]) -> None:
    if sealed:
        conn.execute(EVENTS.update().where(EVENTS.c.id == sa.bindparam("row_id"))
                     .values(mac=sa.bindparam("row_mac")), sealed)


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch_op:
        batch_op.drop_column("mac")
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_column("mac")
