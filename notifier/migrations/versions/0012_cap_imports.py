"""cap_imports: peers' CAP alerts taken in as drafts (once each), and each CAP feed's validators

Revision ID: 0012_cap_imports
Revises: 0011_public_ids
"""
from alembic import op
import sqlalchemy as sa

revision = "0012_cap_imports"
down_revision = "0011_public_ids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cap_imports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("identifier", sa.String(length=255), nullable=False),
        sa.Column("sent", sa.String(length=40), nullable=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="SET NULL"),
                  nullable=True, index=True),
        sa.Column("source", sa.String(length=2000), nullable=False),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("sender", "identifier", name="uq_cap_import_once"),
    )
    op.create_table(
        "cap_feeds",
        sa.Column("url", sa.String(length=2000), primary_key=True),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("cap_feeds")
    op.drop_table("cap_imports")
