"""`audit_entities` as one B-tree keyed by (reference, event_id): the primary key leads with the
reference `AuditEvent?entity=` looks up, so the separate reference index goes, and on SQLite the
table is WITHOUT ROWID (the key is the table). Every audited request writes a row here and every
tree its commit touches is a page of the WAL: the three trees were half of the bytes an audited
read wrote to disk.

Revision ID: 0008_audit_entities_one_tree
Revises: 0007_search_index_subject
Create Date: 2026-12-02 12:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_audit_entities_one_tree"
down_revision = "0007_search_index_subject"
branch_labels = None
depends_on = None

PKEY = "audit_entities_pkey"  # PostgreSQL's own name for the key of revision 0004


def _key(columns: list[str], sqlite_with_rowid: bool) -> None:
    """The primary key of audit_entities made `columns`."""
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(PKEY, "audit_entities", type_="primary")
        op.create_primary_key(PKEY, "audit_entities", columns)
        return
    # SQLite cannot change a table's key in place: a new table, the rows, the old one dropped
    op.create_table("audit_entities_new",
                    sa.Column("event_id", sa.String(length=36), nullable=False),
                    sa.Column("reference", sa.String(length=255), nullable=False),
                    sa.ForeignKeyConstraint(["event_id"], ["audit_events.id"]),
                    sa.PrimaryKeyConstraint(*columns, name=PKEY),
                    sqlite_with_rowid=sqlite_with_rowid)
    op.execute("INSERT INTO audit_entities_new (event_id, reference) "
               "SELECT event_id, reference FROM audit_entities")
    op.drop_table("audit_entities")
    op.rename_table("audit_entities_new", "audit_entities")


def upgrade() -> None:
    op.drop_index("ix_audit_entities_reference", table_name="audit_entities")
    _key(["reference", "event_id"], sqlite_with_rowid=False)


def downgrade() -> None:
    _key(["event_id", "reference"], sqlite_with_rowid=True)
    op.create_index("ix_audit_entities_reference", "audit_entities", ["reference"], unique=False)
