"""A real `allfhir serve` (gunicorn) on 127.0.0.1, for the tests that drive it with requests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from allfhir.store import Store

LIMIT = 100_000  # body limit of the served app (413 above)


@dataclass
class Server:
    url: str
    key: str
    database_url: str

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"allfhir serve exited with {proc.returncode}")
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or workers still loading
            pass
        time.sleep(0.1)
    raise RuntimeError("allfhir serve did not become healthy")


def create_key(env: dict[str, str], name: str = "lims",
               scopes: tuple[str, ...] = ("system/*.read", "system/*.write")) -> str:
    created = subprocess.run([sys.executable, "-m", "allfhir", "apikey", "create", name,
                              "--scope", *scopes], env=env, check=True, capture_output=True, text=True)
    return created.stdout.splitlines()[-1]  # the key is the last line of output


def server_env(database_url: str, settings: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "ALLFHIR_DATABASE_URL": database_url, "ALLFHIR_MAX_BODY_BYTES": str(LIMIT),
            **(settings or {})}


@contextmanager
def running_server(database_url: str, settings: dict[str, str] | None = None, *, workers: int = 2,
                   key: str | None = None, log: Path | None = None, args: tuple[str, ...] = ()
                   ) -> Iterator[tuple[Server, subprocess.Popen]]:
    """The server on a free port until the block ends; a new API key unless `key` is given (a
    second server on the same database shares the first one's). Its stderr (the JSON log) goes
    to `log` when given."""
    env = server_env(database_url, settings)
    port = free_port()
    err: Any = log.open("ab") if log else subprocess.DEVNULL
    # its own process group, so a test can kill the master and its workers at once
    proc = subprocess.Popen([sys.executable, "-m", "allfhir", "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", str(workers), *args], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=err)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield Server(url, key or create_key(env), database_url), proc
    finally:
        stop(proc)
        if log:
            err.close()


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def rows(database_url: str, table) -> int:
    store = Store(database_url)
    try:
        with store.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar_one()
    finally:
        store.dispose()
