"""claim_heartbeats: the claim token of a `sending` delivery, naming the worker's heartbeat

Revision ID: 0009_claim_heartbeats
Revises: 0008_failover
"""
from alembic import op
import sqlalchemy as sa

revision = "0009_claim_heartbeats"
down_revision = "0008_failover"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("claim_token")
