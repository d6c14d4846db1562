"""A covering index of the search index by parameter and value: finding the resources of one
subject (or of one HGVS, one subtype code) reads only their rows. SQLite without statistics
otherwise answers `type = ? AND param = ? AND value = ?` from the primary key, which orders by
type first and so reads every row of the type.

Revision ID: 0003_search_index_by_value
Revises: 0002_jobs
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0003_search_index_by_value"
down_revision = "0002_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_search_index_value", "search_index", ["param", "value", "type", "id"])


def downgrade() -> None:
    op.drop_index("ix_search_index_value", table_name="search_index")
