"""The tables. Uniqueness that matters for correctness is a database constraint, not a check in
Python: two processes storing the same submission at once must end with one set of rows."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

# JSONB on PostgreSQL (indexable, compact); JSON (text) elsewhere.
Document = JSON().with_variant(JSONB(), "postgresql")
# the rows of ix_search_index_subject; a query uses that index only when its own condition on
# `param` is this same literal (a bound parameter does not match a partial index's predicate)
SUBJECT_ROWS = text("param = 'subject'")

submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # sha256 of what was converted (files and conversion parameters): same content -> same row
    Column("sha256", String(64), nullable=False, unique=True),
    Column("idempotency_key", String(255), unique=True),
    Column("format", String(40)),
    Column("content_type", String(255)),
    Column("client", String(255)),
    Column("received", DateTime(timezone=True), nullable=False),
    Column("body", LargeBinary, nullable=False),
    # what the submission returned (the stored report Bundles and the refused rows), so a
    # resubmission answers the same without converting or writing again
    Column("result", Document),
)

resources = Table(
    "resources", metadata,
    Column("type", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("version_id", Integer, nullable=False),
    Column("last_updated", DateTime(timezone=True), nullable=False),
    # sha256 of the resource as the pipeline built it: unchanged content makes no new version
    Column("content_hash", String(64), nullable=False),
    Column("resource", Document, nullable=False),
)

resource_history = Table(
    "resource_history", metadata,
    Column("type", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("version_id", Integer, primary_key=True),
    Column("last_updated", DateTime(timezone=True), nullable=False),
    Column("submission_id", Integer, ForeignKey("submissions.id")),
    Column("resource", Document, nullable=False),
)

search_index = Table(
    "search_index", metadata,
    Column("type", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("param", String(64), primary_key=True),
    Column("system", String(255), primary_key=True),  # '' when the value has no system
    Column("value", String(255), primary_key=True),
    Index("ix_search_index_lookup", "type", "param", "value"),
    # covering: one subject's / one code's resources without reading the whole type
    Index("ix_search_index_value", "param", "value", "system", "type", "id"),
    # each resource's subject reference, by resource: the population operations key every
    # matching Observation by its subject. Partial, so a small fraction of the primary key
    # (which holds every row of every parameter) and read index-only
    Index("ix_search_index_subject", "type", "id", "value", postgresql_where=SUBJECT_ROWS,
          sqlite_where=SUBJECT_ROWS),
)

# date search parameters (`date`, `_lastUpdated`): each value as the range its precision spans,
# [low, high) in UTC, so FHIR's prefixes (eq, lt, sa, ...) are comparisons of range ends
search_dates = Table(
    "search_dates", metadata,
    Column("type", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("param", String(64), primary_key=True),
    Column("low", DateTime(timezone=True), primary_key=True),
    Column("high", DateTime(timezone=True), primary_key=True),
    Index("ix_search_dates_lookup", "type", "param", "low"),
)

api_keys = Table(
    "api_keys", metadata,
    Column("name", String(100), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", Text, nullable=False),  # space-separated SMART scopes
    Column("created", DateTime(timezone=True), nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

audit_events = Table(
    "audit_events", metadata,
    Column("id", String(36), primary_key=True),
    Column("recorded", DateTime(timezone=True), nullable=False),
    Column("agent", String(100), nullable=False),
    Column("action", String(1), nullable=False),
    Column("outcome", String(2), nullable=False),
    Column("resource", Document, nullable=False),
    Index("ix_audit_events_recorded", "recorded"),
)

jobs = Table(
    "jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    # names the work (e.g. one delivery of one report version to one endpoint): queued once
    Column("key", String(255), unique=True),
    Column("state", String(12), nullable=False),  # queued | running | done | failed | cancelled
    Column("payload", Document, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("run_after", DateTime(timezone=True), nullable=False),
    Column("lease_until", DateTime(timezone=True)),
    Column("worker", String(100)),
    Column("progress", String(100)),
    Column("result", Document),
    Column("error", Text),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    Index("ix_jobs_due", "state", "run_after"),
)

# People who sign in to the lab's web pages (service accounts use api_keys). Only an Argon2id
# hash of each password is kept; the role decides what the pages allow.
users = Table(
    "users", metadata,
    Column("name", String(100), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(10), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    CheckConstraint("role IN ('lab', 'viewer')", name="ck_users_role"),
)

# Secrets the service makes for itself and every worker must share (the session-signing key):
# made once, on first use, so a deployment has nothing to configure and restarts keep sessions.
app_secrets = Table(
    "app_secrets", metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(128), nullable=False),
)

# what each AuditEvent is about (entity.what.reference), for `AuditEvent?entity=`. One B-tree:
# keyed by the reference the search looks up, and on SQLite without a rowid table beside it.
# Every read writes a row here, and each tree a commit touches is a page in the WAL: three trees
# (table, primary key, reference index) were half of an audited read's bytes on disk.
audit_entities = Table(
    "audit_entities", metadata,
    Column("event_id", String(36), ForeignKey("audit_events.id"), nullable=False),
    Column("reference", String(255), nullable=False),
    PrimaryKeyConstraint("reference", "event_id", name="audit_entities_pkey"),
    sqlite_with_rowid=False,
)

endpoints = Table(
    "endpoints", metadata,
    Column("id", String(64), primary_key=True),
    Column("version_id", Integer, nullable=False),
    Column("last_updated", DateTime(timezone=True), nullable=False),
    # the Endpoint as served: secrets removed (they live in `secret` and are never returned)
    Column("resource", Document, nullable=False),
    Column("secret", Text),
)

messages = Table(
    "messages", metadata,
    # Bundle.identifier of a received message: the same message again gets the same response
    Column("system", String(255), primary_key=True),
    Column("value", String(255), primary_key=True),
    Column("received", DateTime(timezone=True), nullable=False),
    Column("response", Document, nullable=False),
)
