"""API keys looked up once per second per worker at most: a revoked key is refused within the
bound (KEY_CACHE_SECONDS, README security section), never later."""

from __future__ import annotations

import time

from allfhir.api.auth import KEY_CACHE_SECONDS, KeyCache
from allfhir.store import apikeys

from .conftest import Api


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def status(api: Api, key: str) -> int:
    return api.client.get("/fhir/DiagnosticReport/nope",
                          headers={"Authorization": f"Bearer {key}"}).status_code


def test_a_revoked_key_is_refused_once_the_cached_look_up_expires(api: Api) -> None:
    clock = Clock()
    api.app.extensions["allfhir.api_keys"] = KeyCache(KEY_CACHE_SECONDS, clock)
    key = apikeys.create(api.store, "lims-2", ["system/*.read"])
    assert status(api, key) == 404  # known key, unknown report
    apikeys.revoke(api.store, "lims-2")
    clock.now += KEY_CACHE_SECONDS - 0.01
    assert status(api, key) == 404  # still inside the bound: the cached look-up answers
    clock.now += 0.02
    assert status(api, key) == 401


def test_the_bound_is_at_most_one_second_on_the_real_clock(api: Api) -> None:
    assert KEY_CACHE_SECONDS <= 1.0
    key = apikeys.create(api.store, "lims-3", ["system/*.read"])
    assert status(api, key) == 404
    apikeys.revoke(api.store, "lims-3")
    time.sleep(KEY_CACHE_SECONDS + 0.05)
    assert status(api, key) == 401


def test_unknown_and_revoked_keys_are_not_cached(api: Api) -> None:
    clock = Clock()
    cache = KeyCache(KEY_CACHE_SECONDS, clock)
    api.app.extensions["allfhir.api_keys"] = cache
    assert status(api, api.keys["revoked"]) == 401
    assert status(api, "afk_not-a-key") == 401
    assert cache._live == {}
    # a live key is kept by its hash, never as the key itself
    assert status(api, api.keys["reader"]) == 404
    assert list(cache._live) == [apikeys.hash_key(api.keys["reader"])]
