"""Date search (`date`, `_lastUpdated`) and AuditEvent search by entity: two index tables,
filled for what is already stored.

Revision ID: 0004_search_dates
Revises: 0003_users
Create Date: 2026-12-01 21:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from allfhir.store.audit import entity_references
from allfhir.store.index import date_rows

revision = '0004_search_dates'
down_revision = '0003_users'
branch_labels = None
depends_on = None

# JSON documents as stored (JSONB on PostgreSQL): read through a JSON column type
DOCUMENT = sa.JSON()


def upgrade() -> None:
    search_dates = op.create_table('search_dates',
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=64), nullable=False),
    sa.Column('low', sa.DateTime(timezone=True), nullable=False),
    sa.Column('high', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('type', 'id', 'param', 'low', 'high')
    )
    op.create_index('ix_search_dates_lookup', 'search_dates', ['type', 'param', 'low'], unique=False)
    audit_entities = op.create_table('audit_entities',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('reference', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['audit_events.id'], ),
    sa.PrimaryKeyConstraint('event_id', 'reference')
    )
    op.create_index('ix_audit_entities_reference', 'audit_entities', ['reference'], unique=False)

    # what was stored before this revision becomes searchable too
    conn = op.get_bind()
    resources = sa.table('resources', sa.column('resource', DOCUMENT))
    for (resource,) in conn.execute(sa.select(resources.c.resource)):
        rows = date_rows(resource)
        if rows:
            conn.execute(search_dates.insert(), rows)
    events = sa.table('audit_events', sa.column('resource', DOCUMENT))
    for (event,) in conn.execute(sa.select(events.c.resource)):
        refs = entity_references(event)
        if refs:
            conn.execute(audit_entities.insert(), [{"event_id": event["id"], "reference": r} for r in refs])


def downgrade() -> None:
    op.drop_index('ix_audit_entities_reference', table_name='audit_entities')
    op.drop_table('audit_entities')
    op.drop_index('ix_search_dates_lookup', table_name='search_dates')
    op.drop_table('search_dates')
