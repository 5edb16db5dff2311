"""broadcast deliveries (one per social account or partner system) and zones' own accounts

deliveries.event names what a broadcast delivery carries (`alert.sent`, `alert.cancelled`);
it is NULL for a resident's delivery. A broadcast delivery is unique per alert, channel,
target and event, so a fan-out run again writes none twice. zones.social_urls: a zone's own
Apprise targets (a feed per police beat).

Revision ID: 0013_broadcast_deliveries
Revises: 0012_cap_imports
"""
from alembic import op
import sqlalchemy as sa

revision = "0013_broadcast_deliveries"
down_revision = "0012_cap_imports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("event", sa.String(length=20), nullable=True))
    where = sa.text("event IS NOT NULL")
    op.create_index("uq_broadcast_once", "deliveries", ["alert_id", "channel", "address", "event"],
                    unique=True, postgresql_where=where, sqlite_where=where)
    op.add_column("zones", sa.Column("social_urls", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_index("uq_broadcast_once", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("event")
    with op.batch_alter_table("zones") as batch:
        batch.drop_column("social_urls")
