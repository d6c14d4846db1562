"""Real receivers on loopback: the Medplum FHIR engine peer (tests/peers/medplum, Node) and the
status server (tests/peers/status_server.py) for the failures Medplum cannot be made to produce.
Each is a process of its own, started per test and stopped by its pid."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from allfhir.api import create_app
from allfhir.exchange import endpoints as endpoint_resources
from allfhir.settings import Settings
from allfhir.store import apikeys, schema
from allfhir.store import endpoints as stored_endpoints
from allfhir.worker import Worker
from tests.api.conftest import Api
from tests.conftest import REPO

PEERS = REPO / "tests" / "peers"
MEDPLUM = PEERS / "medplum"
ADMIN = ["system/*.read", "system/*.write", "system/Endpoint.cruds"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _medplum_installed() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable("node and npm are needed for the Medplum test peer")
    if not (MEDPLUM / "node_modules" / "@medplum" / "fhir-router").is_dir():
        # the lock file pins every package; .ci/run does the same before the tests
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=MEDPLUM,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            _unavailable(f"npm ci in tests/peers/medplum failed: {done.stderr[-2000:]}")


@dataclass
class Peer:
    process: subprocess.Popen
    url: str  # the FHIR base, e.g. http://127.0.0.1:40123/fhir

    def get(self, path: str, **params: Any) -> Any:
        r = requests.get(f"{self.url}/{path}", params=params, timeout=30)
        r.raise_for_status()
        return r.json()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(command: list[str], cwd: Path, env: dict[str, str] | None = None, path: str = "/fhir") -> Peer:
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, **(env or {})})
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("listening on "):
        process.kill()
        _, err = process.communicate(timeout=10)
        raise RuntimeError(f"{command[0]} did not start: {line}{err[-2000:]}")
    return Peer(process, f"http://{line.split()[-1]}{path}")


def start_medplum(**env: str) -> Peer:
    _medplum_installed()
    return start(["node", "--experimental-websocket", "server.mjs"], MEDPLUM, {"PORT": "0", **env})


@pytest.fixture
def medplum() -> Iterator[Peer]:
    peer = start_medplum()
    yield peer
    peer.stop()


@dataclass
class StatusServer(Peer):
    def script(self, *answers: dict) -> None:
        requests.post(self.url.removesuffix("/fhir") + "/_script", json=list(answers),
                      timeout=10).raise_for_status()

    def log(self) -> list[dict]:
        return requests.get(self.url.removesuffix("/fhir") + "/_log", timeout=10).json()

    def tokens(self) -> int:
        return requests.get(self.url.removesuffix("/fhir") + "/_tokens", timeout=10).json()["issued"]


def start_status_server(*args: str) -> StatusServer:
    peer = start([sys.executable, str(PEERS / "status_server.py"), "--port", "0", *args], PEERS)
    return StatusServer(peer.process, peer.url)


StartServer = Callable[..., StatusServer]


@pytest.fixture
def status_servers() -> Iterator[StartServer]:
    """Starts a status server with the arguments given (status_server.py's options); each one
    started stops when the test ends, however it ends."""
    started: list[StatusServer] = []

    def start_one(*args: str) -> StatusServer:
        started.append(start_status_server(*args))
        return started[-1]

    yield start_one
    for server in started:
        server.stop()


@pytest.fixture
def status_server(status_servers: StartServer) -> StatusServer:
    return status_servers()


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    app = create_app(Settings(database_url=database_url, base_url="http://allfhir.test/fhir"))
    store = app.extensions["allfhir.store"]
    keys = {"admin": apikeys.create(store, "admin", ADMIN),
            "writer": apikeys.create(store, "writer", ["system/*.read", "system/*.write"]),
            "reader": apikeys.create(store, "reader", ["system/*.read"])}
    yield Api(app, app.test_client(), keys)
    store.dispose()


def add_endpoint(api: Api, address: str, payload: str = "genomic-report-transaction",
                 secret: str | None = None, **settings: Any) -> str:
    resource = endpoint_resources.resource(address, payload, secret=secret, **settings)
    served, secret = endpoint_resources.check(resource)
    return stored_endpoints.create(api.store, served, secret)["id"]


def worker(api: Api, **kw: Any) -> Worker:
    return Worker(api.app.extensions["allfhir.settings"], ["deliver"], name="test-worker", **kw)


def run_due(api: Api) -> int:
    """Run each delivery that is due now once (one retried with a short backoff waits for the
    next call); how many ran."""
    now = datetime.now(UTC)
    with api.store.engine.connect() as conn:
        due = len(conn.execute(schema.jobs.select().where(
            (schema.jobs.c.state == "queued") & (schema.jobs.c.run_after <= now))).all())
    w = worker(api)
    ran = sum(w.run_once() for _ in range(due))
    w.store.dispose()
    return ran


def due_now(api: Api) -> None:
    """Make the waiting deliveries due (instead of waiting out their backoff)."""
    with api.store.transaction() as conn:
        conn.execute(schema.jobs.update().where(schema.jobs.c.state == "queued")
                     .values(run_after=datetime.now(UTC)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
