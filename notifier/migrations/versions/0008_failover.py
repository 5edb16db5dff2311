"""deliveries.failover_of: a delivery made after another channel failed for good names it

Revision ID: 0008_failover
Revises: 0007_web_sessions
"""
from alembic import op
import sqlalchemy as sa

revision = "0008_failover"
down_revision = "0007_web_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("failover_of", sa.Integer(), nullable=True))
    where = sa.text("failover_of IS NOT NULL")
    op.create_index("ix_deliveries_failover_of", "deliveries", ["alert_id", "failover_of"],
                    postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    op.drop_index("ix_deliveries_failover_of", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("failover_of")
