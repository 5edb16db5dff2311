"""inbox_replies: a dispatcher's SMS answer to a resident's text, and a thread marked handled

Revision ID: 0010_inbox_replies
Revises: 0009_claim_heartbeats
"""
from alembic import op
import sqlalchemy as sa

revision = "0010_inbox_replies"
down_revision = "0009_claim_heartbeats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("handled_by", sa.String(length=120), nullable=True))
    op.create_table(
        "inbox_replies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("inbound_id", sa.Integer(),
                  sa.ForeignKey("inbound_messages.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("to_number", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("inbox_replies")
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_column("handled_by")
        batch.drop_column("handled_at")
