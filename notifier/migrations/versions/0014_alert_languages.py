"""every text a resident reads, per language (DESIGN §11)

alerts.headlines / alerts.instructions: language tag → text, beside `messages` (the single
`headline`/`instruction` columns stay: they are the default language's text and CAP's first
`<info>`). alerts.machine_translated: the tags whose message came from machine translation,
which an Actual send must accept and which carry an "automatic translation" note.

Revision ID: 0014_alert_languages
Revises: 0013_broadcast_deliveries
"""
from alembic import op
import sqlalchemy as sa

revision = "0014_alert_languages"
down_revision = "0013_broadcast_deliveries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("headlines", sa.JSON(), nullable=True))
    op.add_column("alerts", sa.Column("instructions", sa.JSON(), nullable=True))
    op.add_column("alerts", sa.Column("machine_translated", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("machine_translated")
        batch.drop_column("instructions")
        batch.drop_column("headlines")
