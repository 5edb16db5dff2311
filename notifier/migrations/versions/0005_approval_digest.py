"""alerts: approval_digest, the content an approval covers (an edit voids the approval)

Approvals given before this revision carry no digest and are void: such drafts are approved
again before they are sent.

Revision ID: 0005_approval_digest
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = "0005_approval_digest"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("approval_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("approval_digest")
