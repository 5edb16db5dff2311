"""reach stamps: triggers stamp every write to residents, locations, follows, groups and zones

reach_stamps: SQLite one row per table (its current version), PostgreSQL one row per
statement (statement-level triggers); notifier.reach_cache reloads its in-memory reach only
when a stamp moved, so a zone-only preview is a set lookup and a polygon one numpy + shapely.

Revision ID: 0019_zone_reach
Revises: 0018_signups
"""
from alembic import op
import sqlalchemy as sa

revision = "0019_zone_reach"
down_revision = "0018_signups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from notifier import reach_stamps  # the same DDL create_all installs

    op.create_table(
        "reach_stamps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    reach_stamps.install(op.get_bind())


def downgrade() -> None:
    from notifier import reach_stamps

    for sql in reach_stamps.drop_statements(op.get_bind().dialect.name):
        op.execute(sql)
    op.drop_table("reach_stamps")
