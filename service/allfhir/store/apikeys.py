"""API keys of service accounts: only a sha256 of each key is stored; the key is shown once."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from .engine import Store
from .schema import api_keys

PREFIX = "afk_"  # lets secret scanners and people recognise an allfhir key


@dataclass(frozen=True, slots=True)
class ApiKey:
    name: str
    scopes: tuple[str, ...]
    created: datetime
    revoked: bool


class KeyExists(Exception):
    pass


def hash_key(key: str) -> str:
    # Keys are 256-bit random, so a plain sha256 is enough (no password stretching needed).
    return hashlib.sha256(key.encode()).hexdigest()


def create(store: Store, name: str, scopes: list[str]) -> str:
    """A new key for `name`; returns the key itself, which is not stored."""
    key = PREFIX + secrets.token_urlsafe(32)
    try:
        with store.transaction() as conn:
            conn.execute(insert(api_keys).values(name=name, key_hash=hash_key(key),
                                                 scopes=" ".join(scopes),
                                                 created=datetime.now(UTC), revoked=False))
    except IntegrityError:
        raise KeyExists(name) from None
    return key


def listing(store: Store) -> list[ApiKey]:
    k = api_keys.c
    with store.reading() as conn:
        rows = conn.execute(select(k.name, k.scopes, k.created, k.revoked).order_by(k.name)).all()
    return [ApiKey(r.name, tuple(r.scopes.split()), r.created, r.revoked) for r in rows]


def revoke(store: Store, name: str) -> bool:
    with store.transaction() as conn:
        done = conn.execute(update(api_keys).where(api_keys.c.name == name)
                            .values(revoked=True)).rowcount
    return bool(done)


def authenticate(store: Store, key: str) -> ApiKey | None:
    """The live key with this secret, or None (unknown or revoked)."""
    k = api_keys.c
    with store.reading() as conn:
        row = conn.execute(select(k.name, k.scopes, k.created, k.revoked)
                           .where(k.key_hash == hash_key(key))).first()
    if row is None or row.revoked:
        return None
    return ApiKey(row.name, tuple(row.scopes.split()), row.created, row.revoked)
