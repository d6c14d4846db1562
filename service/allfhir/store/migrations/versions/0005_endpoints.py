"""Delivery destinations (Endpoint resources and their secrets) and received FHIR messages.

Revision ID: 0005_endpoints
Revises: 0004_search_dates
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_endpoints"
down_revision = "0004_search_dates"
branch_labels = None
depends_on = None

DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "endpoints",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource", DOCUMENT, nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "messages",
        sa.Column("system", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("received", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response", DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("system", "value"),
    )


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_table("endpoints")
