"""AuditEvents (IHE BALP style: who, what, when, outcome), one per access, append-only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from .engine import Store
from .schema import audit_events

Json = dict[str, Any]


def record(store: Store, event: Json) -> None:
    """Store an AuditEvent resource (id and `recorded` are set here)."""
    now = datetime.now(UTC)
    event = {**event, "id": str(uuid.uuid4()),
             "recorded": now.isoformat(timespec="milliseconds").replace("+00:00", "Z")}
    agent = (event.get("agent") or [{}])[0].get("who", {}).get("display", "")
    # not durable: an AuditEvent is written per request, and waiting for the disk each time
    # was most of a read's time; a killed server still loses none (store.engine.transaction)
    with store.transaction(durable=False) as conn:
        conn.execute(insert(audit_events).values(
            id=event["id"], recorded=now, agent=agent[:100], action=event.get("action", "E"),
            outcome=event.get("outcome", "0"), resource=event))


def recent(store: Store, limit: int = 100) -> list[Json]:
    with store.engine.connect() as conn:
        return list(conn.execute(select(audit_events.c.resource)
                                 .order_by(audit_events.c.recorded.desc()).limit(limit)).scalars())
