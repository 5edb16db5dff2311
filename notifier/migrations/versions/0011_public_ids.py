"""public_ids: every alert gets a short unguessable public id for its page (/a/<public id>)

Revision ID: 0011_public_ids
Revises: 0010_inbox_replies
"""
import secrets

from alembic import op
import sqlalchemy as sa

revision = "0011_public_ids"
down_revision = "0010_inbox_replies"
branch_labels = None
depends_on = None

# As notifier.public_ids makes them (copied: a migration must not change when the code does).
RANDOM_BYTES = 9


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("public_id", sa.String(length=32), nullable=True))
    alerts = sa.table("alerts", sa.column("id", sa.Integer), sa.column("public_id", sa.String))
    conn = op.get_bind()
    ids = list(conn.execute(sa.select(alerts.c.id).where(alerts.c.public_id.is_(None)))
               .scalars())
    # Existing alerts get theirs now: a page for each one already sent, a link for each draft.
    fresh: dict[str, None] = {}  # insertion-ordered and unique: random, not in id order
    while len(fresh) < len(ids):
        fresh[secrets.token_urlsafe(RANDOM_BYTES)] = None
    if ids:
        conn.execute(alerts.update().where(alerts.c.id == sa.bindparam("alert_id"))
                     .values(public_id=sa.bindparam("value")),
                     [{"alert_id": i, "value": v} for i, v in zip(ids, fresh)])
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column("public_id", existing_type=sa.String(length=32), nullable=False)
        batch.create_unique_constraint("uq_alerts_public_id", ["public_id"])


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_constraint("uq_alerts_public_id", type_="unique")
        batch.drop_column("public_id")
