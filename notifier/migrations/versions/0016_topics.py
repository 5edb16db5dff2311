"""topics residents follow (DESIGN §12)

topics: code, name per language ({tag: text}), SMS keywords. subscriber_topics: who follows
which. alerts.topic: the code of the topic a routine alert is about (no foreign key: a sent
alert keeps its topic's code after the topic is deleted).

Revision ID: 0016_topics
Revises: 0014_alert_languages
"""
from alembic import op
import sqlalchemy as sa

revision = "0016_topics"
down_revision = "0015_address_points"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "subscriber_topics",
        sa.Column("subscriber_id", sa.Integer(),
                  sa.ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("topic_code", sa.String(64),
                  sa.ForeignKey("topics.code", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_subscriber_topics_topic_code", "subscriber_topics", ["topic_code"])
    op.add_column("alerts", sa.Column("topic", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("topic")
    op.drop_index("ix_subscriber_topics_topic_code", "subscriber_topics")
    op.drop_table("subscriber_topics")
    op.drop_table("topics")
