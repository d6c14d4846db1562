"""A partial index of the search index's `subject` rows by resource (type, id, value): the
population operations look up the subject of every matching Observation, tens of thousands of
look-ups that along the primary key (every row of every parameter: 1.1 GB at 100,000 samples)
miss PostgreSQL's buffers; this index is the subject rows alone, read index-only.

Revision ID: 0007_search_index_subject
Revises: 0006_search_index_by_value
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_search_index_subject"
down_revision = "0006_search_index_by_value"
branch_labels = None
depends_on = None

SUBJECT_ROWS = "param = 'subject'"  # frozen here as of this revision (schema.SUBJECT_ROWS)


def upgrade() -> None:
    op.create_index("ix_search_index_subject", "search_index", ["type", "id", "value"],
                    postgresql_where=sa.text(SUBJECT_ROWS), sqlite_where=sa.text(SUBJECT_ROWS))


def downgrade() -> None:
    op.drop_index("ix_search_index_subject", table_name="search_index")
