"""Credentials for a receiver: none, an API key in a header, or an OAuth2 access token from the
client-credentials grant (Authlib), cached per (token URL, client, scope) until shortly before
it expires, so a worker asks the token endpoint once per token, not once per report."""

from __future__ import annotations

import threading
import time

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from .endpoints import Target

EARLY = 30.0  # seconds before expiry a token is no longer used (clock skew, request time)
DEFAULT_LIFETIME = 300.0  # a token response without expires_in
_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
_lock = threading.Lock()


class TokenRefused(Exception):
    """The token endpoint refused the client (a 4xx OAuth error): no retry helps."""


def _key(t: Target) -> tuple[str, str, str]:
    return t.token_url or "", t.client_id or "", t.scope or ""


def headers(t: Target) -> dict[str, str]:
    if t.auth == "api-key":
        return {t.api_key_header: t.secret or ""}
    if t.auth == "oauth2-client-credentials":
        return {"Authorization": f"Bearer {token(t)}"}
    return {}


def token(t: Target) -> str:
    with _lock:
        cached = _tokens.get(_key(t))
        if cached and cached[1] > time.monotonic():
            return cached[0]
    session = OAuth2Session(t.client_id, t.secret, scope=t.scope)
    try:
        answer = session.fetch_token(t.token_url, grant_type="client_credentials", timeout=t.timeout)
    except OAuthError as err:
        raise TokenRefused(f"the token endpoint {t.token_url} refused client '{t.client_id}': "
                           f"{err.error}: {err.description or ''}".rstrip(": ")) from None
    finally:
        session.close()
    lifetime = float(answer.get("expires_in") or DEFAULT_LIFETIME)
    with _lock:
        _tokens[_key(t)] = (answer["access_token"], time.monotonic() + max(lifetime - EARLY, 0.0))
    return answer["access_token"]


def forget(t: Target) -> None:
    """The receiver rejected the token (401): the next attempt fetches a new one."""
    with _lock:
        _tokens.pop(_key(t), None)
