"""The `deliver` job (worker.HANDLERS): send one stored report version to one Endpoint over the
channel its payload type names (channels.CHANNELS), and keep the receiver's confirmation.

- Confirmed (2xx and, for transactions, every entry 2xx; for messages, response code ok): the job
  is done and is never sent again (a done job is not claimed, and $retry requeues only failed
  ones).
- Not confirmed (no connection, timeout, 429, 5xx, transient-error): the job is due again later
  (RetryLater); after the worker's last attempt it is kept as failed, never deleted, until an
  operator's $retry. A lease that lapses mid-send makes another worker send it again, which the
  receiver absorbs (conditional creates, the message's stable identifier).
- Refused (another 4xx, fatal-error): dead letter with the receiver's text.
A suspended or switched-off Endpoint holds its deliveries back (retried later, not dropped); a
removed one fails them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..store import endpoints as stored_endpoints
from . import channels
from .endpoints import target

Json = dict[str, Any]
HOLD = 300.0  # seconds between checks while an Endpoint is not active


def run(ctx: Any) -> Json:
    from ..worker import Refused, RetryLater

    p = ctx.job.payload
    found = stored_endpoints.get(ctx.store, p["endpoint"])
    if found is None:
        raise Refused(f"Endpoint/{p['endpoint']} was removed", {"endpoint": p["endpoint"]})
    status = found.resource.get("status")
    if status != "active":
        raise RetryLater(HOLD, f"Endpoint/{p['endpoint']} is {status}: delivery held")
    t = target(found.resource, found.secret)
    delivery = channels.Delivery(key=ctx.job.key, report=p["bundle"], attempt=ctx.job.attempts,
                                 now=datetime.now(UTC), base_url=ctx.settings.base_url.rstrip("/"))
    return {"endpoint": t.id, "payload": t.payload, **channels.sender(t.payload)(t, delivery)}
