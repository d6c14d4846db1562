"""People who sign in to the lab's web pages, and the secret that signs their sessions.

Passwords are hashed with Argon2id (argon2-cffi, the reference implementation's binding, RFC 9106
parameters): memory-hard, so a stolen table costs an attacker memory as well as time per guess,
which is what OWASP's password-storage guidance asks first. API keys (apikeys.py) are random and
only need sha256; a person's password does not have that entropy.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .engine import Store
from .schema import app_secrets, users

Role = Literal["lab", "viewer"]
ROLES: tuple[Role, ...] = ("lab", "viewer")
_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name takes as long as a wrong password
# (the time of an answer does not tell which names exist).
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    created: datetime
    disabled: bool


class UserExists(Exception):
    pass


def add(store: Store, name: str, password: str, role: Role) -> User:
    if role not in ROLES:
        raise ValueError(f"role '{role}' is not one of: {', '.join(ROLES)}")
    created = datetime.now(UTC)
    try:
        with store.transaction() as conn:
            conn.execute(insert(users).values(name=name, password_hash=_hasher.hash(password),
                                              role=role, created=created, disabled=False))
    except IntegrityError:
        raise UserExists(name) from None
    return User(name, role, created, False)


def get(store: Store, name: str) -> User | None:
    u = users.c
    with store.reading() as conn:
        row = conn.execute(select(u.name, u.role, u.created, u.disabled).where(u.name == name)).first()
    return User(row.name, row.role, row.created, row.disabled) if row else None


def listing(store: Store) -> list[User]:
    u = users.c
    with store.reading() as conn:
        rows = conn.execute(select(u.name, u.role, u.created, u.disabled).order_by(u.name)).all()
    return [User(r.name, r.role, r.created, r.disabled) for r in rows]


def remove(store: Store, name: str) -> bool:
    with store.transaction() as conn:
        return bool(conn.execute(delete(users).where(users.c.name == name)).rowcount)


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The enabled user with this name and password, or None."""
    u = users.c
    with store.reading() as conn:
        row = conn.execute(select(u.name, u.role, u.created, u.disabled, u.password_hash)
                           .where(u.name == name)).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        # hashed with older parameters: re-hash now that the password is known
        with store.transaction() as conn:
            conn.execute(update(users).where(u.name == name)
                         .values(password_hash=_hasher.hash(password)))
    return User(row.name, row.role, row.created, row.disabled)


def secret(store: Store, name: str) -> str:
    """The service's secret `name`, made on first use; every worker and restart reads the same."""
    s = app_secrets.c
    with store.reading() as conn:
        value = conn.execute(select(s.value).where(s.name == name)).scalar_one_or_none()
    if value is not None:
        return value
    try:
        with store.transaction() as conn:
            conn.execute(insert(app_secrets).values(name=name, value=secrets.token_hex(32)))
    except IntegrityError:
        pass  # another worker made it first: theirs stands
    with store.reading() as conn:
        return conn.execute(select(s.value).where(s.name == name)).scalar_one()
