"""Delivery destinations: Endpoint resources (as served, without secrets) and their secrets.

A secret (an API key or an OAuth2 client secret) is kept in its own column so that no read of an
Endpoint can return it; only the delivery worker asks for it (`get(..., with_secret=True)`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from . import driver
from .engine import Store
from .schema import endpoints
from .submissions import instant

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Destination:
    resource: Json
    secret: str | None


def create(store: Store, resource: Json, secret: str | None) -> Json:
    """Store a new Endpoint under a new id; returns it as served."""
    now = datetime.now(UTC)
    rest = {k: v for k, v in resource.items() if k not in ("resourceType", "id", "meta")}
    stored = {"resourceType": "Endpoint", "id": str(uuid.uuid4()),
              "meta": {"versionId": "1", "lastUpdated": instant(now)}, **rest}
    with store.transaction() as conn:
        conn.execute(insert(endpoints).values(id=stored["id"], version_id=1, last_updated=now,
                                              resource=stored, secret=secret))
    return stored


def get(store: Store, endpoint_id: str) -> Destination | None:
    with store.reading() as conn:
        row = conn.execute(select(endpoints.c.resource, endpoints.c.secret)
                           .where(endpoints.c.id == endpoint_id)).first()
    return Destination(row.resource, row.secret) if row else None


def every(store: Store) -> list[Json]:
    """Every Endpoint as served, oldest first."""
    with store.reading() as conn:
        return [r.resource for r in conn.execute(
            select(endpoints.c.resource).order_by(endpoints.c.last_updated, endpoints.c.id))]


# read by every $convert that stores reports (the outbox), so on the driver (store/driver.py)
EVERY = select(endpoints.c.resource).order_by(endpoints.c.last_updated, endpoints.c.id)


def active(store: Store, conn: Connection) -> list[Json]:
    """The Endpoints reports go to now, read inside the caller's transaction (the outbox's)."""
    rows = driver.rows(conn, store.statements[EVERY], {})
    return [resource for (resource,) in rows if resource.get("status") == "active"]


def remove(store: Store, endpoint_id: str) -> bool:
    with store.transaction() as conn:
        return conn.execute(delete(endpoints).where(endpoints.c.id == endpoint_id)).rowcount == 1
