"""Who is calling, and whether its scopes allow the route. 401 without valid credentials, 403
when the scope is missing.

Two kinds of credentials, both sent as `Authorization: Bearer <credential>`:
- an API key of a service account (`allfhir apikey create`; also as `X-API-Key`);
- an OAuth2 access token, a JWT from the deployment's authorisation server (SMART Backend
  Services), verified against its JWKS (`ALLFHIR_JWT_JWKS`: a file or a URL), `iss`, `aud`, `exp`
  and `nbf`; its `scope` claim carries SMART v1/v2 system scopes.
A JWT is told from an API key by its shape (three dot-separated parts; keys have no dot).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from threading import Lock
from typing import Any, TypeVar

import jwt
from flask import Flask, current_app, g, request

from ..errors import RequestError
from ..settings import Settings
from ..store import Store, apikeys
from . import audit, scopes

F = TypeVar("F", bound=Callable[..., Any])

# Asymmetric algorithms only: with a public JWKS, accepting HS256 would let anyone sign with the
# public key as the HMAC secret, and "none" is no signature at all. SMART Backend Services
# names RS384 and ES384; RS256/ES256 are what most authorisation servers issue.
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"]
LEEWAY_SECONDS = 30  # clock skew between the authorisation server and us
REQUIRED_CLAIMS = ["exp", "iss", "aud"]
# How long a worker trusts an API key it looked up: a revoked key is refused at most this long
# after `allfhir apikey revoke` (README, security). The look-up was a statement per request.
KEY_CACHE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Caller:
    name: str  # the API key's name, or the token's client_id / sub
    scopes: tuple[str, ...]
    kind: str  # "API key" | "token": said in 403 messages

    def describe(self) -> str:
        return f"the {self.kind} '{self.name}'"


class Keys:
    """The JWKS the tokens are verified against: a file (read again when it changes, so keys can
    be rotated without a restart) or a URL (PyJWKClient: cached, refetched for an unknown kid)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._client = jwt.PyJWKClient(source, lifespan=300, timeout=5) \
            if source.startswith(("https://", "http://")) else None
        self._lock = Lock()
        self._stamp: tuple[int, int] | None = None
        self._set: jwt.PyJWKSet | None = None

    def signing_key(self, token: str) -> jwt.PyJWK:
        if self._client is not None:
            try:
                return self._client.get_signing_key_from_jwt(token)
            except jwt.PyJWKClientConnectionError as err:
                raise RequestError("unavailable", "the JWKS of the authorisation server cannot be "
                                   f"fetched, so tokens cannot be verified now: {err}") from None
            except jwt.PyJWKClientError as err:
                raise RequestError("unauthenticated", f"the token is not valid: {err}") from None
        kid = jwt.get_unverified_header(token).get("kid")
        try:
            return self._file_set()[kid]
        except KeyError:
            raise RequestError("unauthenticated", "the token is not valid: no key in the JWKS "
                               f"matches its kid '{kid}'") from None

    def _file_set(self) -> jwt.PyJWKSet:
        try:
            stat = os.stat(self.source)
            stamp = (stat.st_mtime_ns, stat.st_size)
            with self._lock:
                if stamp != self._stamp:
                    self._set = jwt.PyJWKSet.from_dict(json.loads(Path(self.source).read_text()))
                    self._stamp = stamp
                assert self._set is not None
                return self._set
        except (OSError, ValueError, jwt.PyJWKSetError) as err:
            # the deployment's fault, not the client's: tokens cannot be judged right now
            raise RequestError("unavailable", "the JWKS file (ALLFHIR_JWT_JWKS) cannot be read, so "
                               f"tokens cannot be verified now: {type(err).__name__}") from None


class KeyCache:
    """Live API keys this worker looked up in the last `seconds`, by the key's hash (the key
    itself is not kept). Unknown and revoked keys are not cached: each such request asks the
    store, so a key created a moment ago works at once and a guessed key gains nothing."""

    def __init__(self, seconds: float = KEY_CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._live: dict[str, tuple[float, apikeys.ApiKey]] = {}

    def authenticate(self, store: Store, key: str) -> apikeys.ApiKey | None:
        digest = apikeys.hash_key(key)
        now = self.clock()
        hit = self._live.get(digest)
        if hit is not None and now < hit[0]:
            return hit[1]
        found = apikeys.authenticate(store, key)
        if found is None:
            self._live.pop(digest, None)
        else:
            if len(self._live) > 1000:  # a bound: drop what has expired
                self._live = {d: e for d, e in self._live.items() if now < e[0]}
            self._live[digest] = (now + self.seconds, found)
        return found


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions["allfhir.jwks"] = Keys(settings.jwt_jwks) if settings.jwt_jwks else None
    app.extensions["allfhir.api_keys"] = KeyCache()


def credentials() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.headers.get("X-API-Key") or None


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def verify_token(token: str, keys: Keys, settings: Settings) -> Caller:
    """The caller a bearer JWT names, once its signature and claims hold."""
    try:
        key = keys.signing_key(token)
        claims = jwt.decode(token, key.key, algorithms=[key.algorithm_name]
                            if key.algorithm_name in ALGORITHMS else ALGORITHMS,
                            audience=settings.jwt_audience, issuer=settings.jwt_issuer,
                            leeway=LEEWAY_SECONDS, options={"require": REQUIRED_CLAIMS})
    except jwt.ExpiredSignatureError:
        raise RequestError("unauthenticated", "the token has expired (exp)") from None
    except jwt.ImmatureSignatureError:
        raise RequestError("unauthenticated", "the token is not valid yet (nbf)") from None
    except jwt.InvalidIssuerError:
        raise RequestError("unauthenticated", "the token was not issued by the configured "
                           "issuer (iss)") from None
    except jwt.InvalidAudienceError:
        raise RequestError("unauthenticated", "the token is not meant for this server (aud)") from None
    except jwt.InvalidSignatureError:
        raise RequestError("unauthenticated", "the token's signature does not verify") from None
    except jwt.InvalidTokenError as err:  # malformed, missing claim, disallowed algorithm ...
        raise RequestError("unauthenticated", f"the token is not valid: {err}") from None
    granted = claims.get("scope", "")
    names = granted.split() if isinstance(granted, str) else [str(s) for s in granted]
    who = claims.get("client_id") or claims.get("azp") or claims.get("sub") or "unnamed client"
    return Caller(str(who), tuple(names), "token")


def authenticate() -> Caller:
    token = credentials()
    if token is None:
        raise RequestError("unauthenticated", "credentials required: send an API key as "
                           "'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
    settings: Settings = current_app.extensions["allfhir.settings"]
    if looks_like_jwt(token):
        keys: Keys | None = current_app.extensions.get("allfhir.jwks")
        if keys is None:
            raise RequestError("unauthenticated", "bearer tokens (JWT) are not accepted here: no "
                               "JWKS is configured (ALLFHIR_JWT_JWKS); use an API key")
        return verify_token(token, keys, settings)
    cache: KeyCache = current_app.extensions["allfhir.api_keys"]
    key = cache.authenticate(current_app.extensions["allfhir.store"], token) \
        if settings.api_keys else None
    if key is None:
        raise RequestError("unauthenticated", "the API key is unknown or revoked")
    return Caller(key.name, key.scopes, "API key")


def require(caller: Caller, needs: Iterable[tuple[str, str]], what: str = "this request") -> None:
    """403 unless the caller's scopes allow every (resource type, permission letter) pair."""
    # in the order asked (the view's order reads best), each once
    missing = list(dict.fromkeys(f"system/{t}.{p}" for t, p in needs
                                 if not scopes.allows(caller.scopes, t, p)))
    if missing:
        raise RequestError("forbidden", f"{caller.describe()} lacks the scope for {what}: needs "
                           f"{', '.join(missing)}")


def requires(interaction: str, needs: Callable[..., Iterable[tuple[str, str]]]) -> Callable[[F], F]:
    """Guard a view: `needs(**view_args)` names the (resource type, permission letter) pairs.
    The access is audited as `interaction` whether it is allowed or not."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            audit.note(interaction)
            caller = authenticate()
            g.caller, g.client, g.scopes = caller, caller.name, caller.scopes
            require(caller, needs(**kwargs))
            return view(*args, **kwargs)

        # /openapi.json reads this to say which routes need credentials
        guarded.allfhir_interaction = interaction  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate
