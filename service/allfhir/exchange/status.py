"""A report's deliveries as the API shows them (`$delivery-status`), and `$retry`.

One `delivery` parameter per (Endpoint, report version): its state, attempts, last error,
when it is due again, and the receiver's answer (its OperationOutcome or response message when
it refused, where the report landed when it confirmed).
"""

from __future__ import annotations

from typing import Any

from ..store import Store, jobs
from ..store.submissions import instant
from .outbox import KIND, prefix

Json = dict[str, Any]
STATES = {jobs.QUEUED: "queued", jobs.RUNNING: "sending", jobs.DONE: "delivered",
          jobs.FAILED: "dead-letter", jobs.CANCELLED: "cancelled"}


def deliveries(store: Store, report_id: str) -> list[jobs.Job]:
    return jobs.of_kind(store, KIND, prefix(report_id))


def _part(job: jobs.Job) -> Json:
    p = job.payload
    parts: list[Json] = [
        {"name": "endpoint", "valueReference": {"reference": f"Endpoint/{p['endpoint']}"}},
        {"name": "version", "valueString": str(p["version"])},
        {"name": "state", "valueCode": STATES[job.state]},
        {"name": "attempts", "valueInteger": job.attempts},
        {"name": "updated", "valueInstant": instant(job.updated)},
    ]
    if job.state == jobs.QUEUED:
        parts.append({"name": "nextAttempt", "valueInstant": instant(job.run_after)})
    if job.error:
        parts.append({"name": "lastError", "valueString": job.error})
    result = job.result or {}
    answer = result.get("response")
    if isinstance(answer, dict) and answer.get("resourceType"):
        parts.append({"name": "response", "resource": answer})
    elif isinstance(answer, str) and answer:
        parts.append({"name": "response", "valueString": answer})
    if job.state == jobs.DONE:
        if "created" in result:
            parts += [{"name": "created", "valueInteger": result["created"]},
                      {"name": "existing", "valueInteger": result["existing"]}]
        landed = next((e.get("location") for e in result.get("entries", [])
                       if e.get("request") == "DiagnosticReport" and e.get("location")), None)
        if landed:
            parts.append({"name": "location", "valueString": landed})
    return {"name": "delivery", "part": parts}


def parameters(store: Store, report_id: str) -> Json:
    return {"resourceType": "Parameters",
            "parameter": [_part(job) for job in deliveries(store, report_id)]}


def retry(store: Store, report_id: str) -> int:
    """Requeue the report's dead-letter (and cancelled) deliveries, due now; how many."""
    return sum(jobs.requeue(store, job.id) for job in deliveries(store, report_id)
               if job.state in (jobs.FAILED, jobs.CANCELLED))
