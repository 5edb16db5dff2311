"""address_points: the city's addresses with a place and zone; address_tokens: their word index

address_points.key is the normalized address (one row per key, so a re-import updates);
address_tokens holds the key from each later word to its end, so "the start of the address or
of a word in it" is an indexed prefix range on either table. Key columns use the "C" collation
on PostgreSQL: byte order, the same as SQLite's.

Revision ID: 0015_address_points
Revises: 0014_alert_languages
"""
from alembic import op
import sqlalchemy as sa

revision = "0015_address_points"
down_revision = "0014_alert_languages"
branch_labels = None
depends_on = None


def _key():
    return sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "address_points",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("key", _key(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("zone_code", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "address_tokens",
        sa.Column("token", _key(), nullable=False),
        sa.Column("address_key", _key(),
                  sa.ForeignKey("address_points.key", ondelete="CASCADE"), nullable=False),
        sa.PrimaryKeyConstraint("token", "address_key"),
    )
    op.create_index("ix_address_tokens_address", "address_tokens", ["address_key"])


def downgrade() -> None:
    op.drop_index("ix_address_tokens_address", table_name="address_tokens")
    op.drop_table("address_tokens")
    op.drop_table("address_points")
