"""Received FHIR messages: the response given to each message, by its Bundle.identifier.

The primary key is the identifier, so of two deliveries of one message (a sender's retry, or
the same message arriving twice at once) one records its response and the other answers with
that same response.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from .engine import Store
from .schema import messages

Json = dict[str, Any]


def response(store: Store, system: str, value: str) -> Json | None:
    """The response already given to the message with this identifier, if any."""
    with store.reading() as conn:
        return conn.execute(select(messages.c.response).where(
            (messages.c.system == system) & (messages.c.value == value))).scalar()


def record(store: Store, system: str, value: str, answer: Json) -> Json:
    """Keep `answer` as the response to this message; the response that stands (the first
    one recorded) is returned."""
    try:
        with store.transaction() as conn:
            conn.execute(insert(messages).values(system=system, value=value,
                                                 received=datetime.now(UTC), response=answer))
        return answer
    except IntegrityError:
        first = response(store, system, value)
        if first is None:  # pragma: no cover - the row that collided cannot vanish
            raise
        return first
