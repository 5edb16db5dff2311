"""sign-ups on the web and residents' sign-in links (DESIGN §12)

signups: what a resident asked for on /signup until an address is confirmed (not a subscriber
until then). signup_codes: the HMAC of each 6-digit code texted, its expiry and wrong entries.
resident_links: single-use sign-in links to /me.

Revision ID: 0018_signups
Revises: 0017_quiet_hours
"""
from alembic import op
import sqlalchemy as sa

revision = "0018_signups"
# merge14 already carries 0017_quiet_hours: chained after it so the history has one head.
down_revision = "0017_quiet_hours"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("phone_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("subscriber_id", sa.Integer(),
                  sa.ForeignKey("subscribers.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_signups_phone", "signups", ["phone"])
    op.create_index("ix_signups_email", "signups", ["email"])
    op.create_table(
        "signup_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("signup_id", sa.Integer(), sa.ForeignKey("signups.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wrong", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_signup_codes_phone_created", "signup_codes", ["phone", "created_at"])
    op.create_index("ix_signup_codes_signup", "signup_codes", ["signup_id"])
    op.create_table(
        "resident_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("subscriber_id", sa.Integer(),
                  sa.ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_resident_links_subscriber_id", "resident_links", ["subscriber_id"])


def downgrade() -> None:
    op.drop_index("ix_resident_links_subscriber_id", "resident_links")
    op.drop_table("resident_links")
    op.drop_index("ix_signup_codes_signup", "signup_codes")
    op.drop_index("ix_signup_codes_phone_created", "signup_codes")
    op.drop_table("signup_codes")
    op.drop_index("ix_signups_email", "signups")
    op.drop_index("ix_signups_phone", "signups")
    op.drop_table("signups")
