"""Who is calling: an API key (`Authorization: Bearer <key>` or `X-API-Key`), and whether its
scopes allow the route. 401 without valid credentials, 403 when the scope is missing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from ..errors import RequestError
from ..store import apikeys
from . import audit, scopes

F = TypeVar("F", bound=Callable[..., Any])


def credentials() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.headers.get("X-API-Key") or None


def authenticate() -> apikeys.ApiKey:
    token = credentials()
    if token is None:
        raise RequestError("unauthenticated", "credentials required: send an API key as "
                           "'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
    settings = current_app.extensions["allfhir.settings"]
    key = apikeys.authenticate(current_app.extensions["allfhir.store"], token) \
        if settings.api_keys else None
    if key is None:
        raise RequestError("unauthenticated", "the API key is unknown or revoked")
    return key


def requires(interaction: str, needs: Callable[..., Iterable[tuple[str, str]]]) -> Callable[[F], F]:
    """Guard a view: `needs(**view_args)` names the (resource type, permission letter) pairs.
    The access is audited as `interaction` whether it is allowed or not."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            audit.note(interaction)
            key = authenticate()
            g.client, g.scopes = key.name, key.scopes
            missing = [f"system/{t}.{p}" for t, p in needs(**kwargs)
                       if not scopes.allows(key.scopes, t, p)]
            if missing:
                raise RequestError("forbidden", f"the API key '{key.name}' lacks the scope for "
                                   f"this request: needs {', '.join(missing)}")
            return view(*args, **kwargs)

        # /openapi.json reads this to say which routes need credentials
        guarded.allfhir_interaction = interaction  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate
