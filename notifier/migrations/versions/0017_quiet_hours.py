"""each resident's quiet hours (DESIGN §12)

subscribers.quiet_hours: NULL for the agency's default (QUIET_HOURS), "off", or a window
"HH:MM-HH:MM" in TIMEZONE. A delivery that waits for quiet hours to end is `scheduled`, with
the end in deliveries.next_attempt_at (already indexed with status): no new delivery column.

Revision ID: 0017_quiet_hours
Revises: 0014_alert_languages
"""
from alembic import op
import sqlalchemy as sa

revision = "0017_quiet_hours"
down_revision = "0016_topics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscribers", sa.Column("quiet_hours", sa.String(11), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("quiet_hours")
