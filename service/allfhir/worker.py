"""The worker process: claims queued jobs from the store and runs each kind's handler.

An edge, like the CLI and the API: it imports each kind's handler (by dotted name, on first use,
so a worker for deliveries does not load the conversion pipeline). A handler gets a `JobContext`
and returns the job's result (a dict) or raises:
- `RetryLater(delay, reason)`: a transient failure (network, 429, 5xx); the job is due again
  after `delay` seconds;
- `Refused(reason, result)`: a permanent one (the receiver's 4xx, a NACK); the job is kept as
  failed (dead letter) with the reason, until an operator requeues it.
Any other exception is treated as transient, with exponential backoff, until `max_attempts`.

While a handler runs, a heartbeat thread extends the job's lease; if the job was cancelled or
taken over (its lease lapsed), the heartbeat sees it and the handler's answer is ignored.
"""

from __future__ import annotations

import importlib
import logging
import os
import random
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .settings import Settings
from .store import Store, jobs

Json = dict[str, Any]
log = logging.getLogger("allfhir.worker")

# job kind -> "module:function" of its handler
HANDLERS: dict[str, str] = {
    "convert": "allfhir.api.async_convert:run_job",
    "deliver": "allfhir.exchange.deliver:run",
    "export": "allfhir.api.export:run_job",
}


class RetryLater(Exception):
    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay, self.reason = delay, reason


class Refused(Exception):
    def __init__(self, reason: str, result: Json | None = None) -> None:
        super().__init__(reason)
        self.reason, self.result = reason, result


def backoff(attempt: int, base: float = 2.0, cap: float = 3600.0) -> float:
    """Exponential backoff with full jitter (attempt 1 waits up to `base` seconds): retries of
    many jobs that failed together spread out instead of arriving at the receiver at once."""
    return random.uniform(0, min(cap, base * 2 ** max(attempt - 1, 0)))


@dataclass
class JobContext:
    store: Store
    settings: Settings
    job: jobs.Job
    worker: str
    lease: float
    _progress: str | None = field(default=None, repr=False)

    def progress(self, text: str) -> None:
        """Say how far the job is (polling clients see it as X-Progress)."""
        self._progress = text[:100]
        jobs.heartbeat(self.store, self.job.id, self.worker, lease=self.lease,
                       progress=self._progress)


def handler(kind: str) -> Callable[[JobContext], Json | None]:
    module, _, name = HANDLERS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


class Worker:
    def __init__(self, settings: Settings, kinds: Sequence[str] | None = None, *,
                 name: str | None = None, lease: float = 120.0, max_attempts: int = 8) -> None:
        unknown = sorted(set(kinds or ()) - set(HANDLERS))
        if unknown:
            raise ValueError(f"unknown job kind(s): {', '.join(unknown)}; known: "
                             f"{', '.join(sorted(HANDLERS))}")
        self.settings = settings
        self.store = Store(settings.database_url)
        self.kinds = list(kinds) if kinds else list(HANDLERS)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.lease = lease
        self.max_attempts = max_attempts
        self.stopping = threading.Event()

    def run_once(self) -> bool:
        """Claim and run one due job; False when none was due."""
        claimed = jobs.claim(self.store, self.name, self.kinds, lease=self.lease)
        if not claimed:
            return False
        self._run(claimed[0])
        return True

    def run(self, poll: float = 1.0) -> None:
        """Run jobs until SIGTERM/SIGINT; a job being run is finished first."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        log.info('{"event": "worker-start", "worker": "%s", "kinds": "%s"}', self.name,
                 ",".join(self.kinds))
        while not self.stopping.is_set():
            if not self.run_once():
                self.stopping.wait(poll)
        self.store.dispose()

    def _run(self, job: jobs.Job) -> None:
        ctx = JobContext(self.store, self.settings, job, self.name, self.lease)
        done = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(ctx, done), daemon=True)
        beat.start()
        try:
            result = handler(job.kind)(ctx)
        except RetryLater as later:
            self._again(job, later.delay, later.reason)
        except Refused as refused:
            jobs.fail(self.store, job.id, self.name, refused.reason, refused.result)
            log.info('{"event": "job-failed", "job": %d, "kind": "%s"}', job.id, job.kind)
        except Exception as exc:  # a handler's bug or an unforeseen transient failure
            log.exception('{"event": "job-error", "job": %d, "kind": "%s"}', job.id, job.kind)
            self._again(job, backoff(job.attempts), f"{type(exc).__name__}: {exc}")
        else:
            jobs.complete(self.store, job.id, self.name, result)
            log.info('{"event": "job-done", "job": %d, "kind": "%s"}', job.id, job.kind)
        finally:
            done.set()
            beat.join()

    def _again(self, job: jobs.Job, delay: float, reason: str) -> None:
        if job.attempts >= self.max_attempts:
            jobs.fail(self.store, job.id, self.name, f"gave up after {job.attempts} attempts: "
                      f"{reason}")
        else:
            jobs.retry(self.store, job.id, self.name, delay, reason)

    def _heartbeat(self, ctx: JobContext, done: threading.Event) -> None:
        while not done.wait(self.lease / 3):
            jobs.heartbeat(self.store, ctx.job.id, self.name, lease=self.lease)
