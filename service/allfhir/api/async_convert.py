"""`$convert` with `Prefer: respond-async`: a cohort converts in the worker process.

The FHIR asynchronous request pattern (http://hl7.org/fhir/R4/async.html, as in Bulk Data):
- the kick-off answers 202 with `Content-Location` = the status URL; the upload waits in the
  queue (store/jobs.py) as a `convert` job named by the submission's digest, so the same
  cohort sent twice is one job;
- polling the status URL answers 202 with `X-Progress` and `Retry-After` while the job waits or
  runs, then 200 with a manifest naming one NDJSON file of report Bundles (and one of the
  refused rows' OperationOutcome), or the job's failure as an OperationOutcome (422 for
  unconvertible input, as the synchronous `$convert` answers);
- `DELETE` on the status URL cancels a job that has not finished (202).
Only the client that sent the cohort sees its status and output; the reports themselves are
stored like any other and read with the usual scopes.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from ..errors import BY_HTTP_STATUS, InputError, Problem, RequestError, http_status, operation_outcome
from ..fhir.bundle import id_systems
from ..jsonout import dumps
from ..store import Store, jobs, submissions
from . import conversion

Json = dict[str, Any]
KIND = "convert"


def wanted(prefer: str | None) -> bool:
    return any(p.strip().lower() == "respond-async" for p in (prefer or "").split(","))


def kick_off(store: Store, content_type: str, body: bytes, query: MultiDict,
             sub: submissions.Submission, if_match: int | str | None = None) -> int:
    """Queue the conversion; the job's id names the status URL. The job keeps the request as it
    came (its body once, its Content-Type header, its query): the worker reads it again as the
    request did (`conversion.received`), so files, companions and a Parameters body's
    parameters are taken one way. `if_match` guards the amendment when the job runs, as it
    would the synchronous write."""
    payload = {
        "body": base64.b64encode(body).decode(), "content_type": content_type,
        "query": list(query.items(multi=True)), "client": sub.client,
        "idempotency_key": sub.idempotency_key, "sha256": sub.sha256, "if_match": if_match,
        "requested": datetime.now(UTC).isoformat(),
    }
    return jobs.submit(store, KIND, payload, key=f"{KIND}:{sub.sha256}")


def run_job(ctx: Any) -> Json:
    """The worker's handler (worker.HANDLERS['convert'])."""
    from ..worker import Refused

    p = ctx.job.payload
    up, args = _request(p)
    opts = conversion.options(args, id_systems(ctx.settings))
    sub = conversion.submission(up, opts, p["client"], p["idempotency_key"])
    ctx.progress("converting")
    try:
        stored = conversion.run(ctx.store, up, opts, sub, p.get("if_match"))
    except InputError as err:  # also a RequestError: a stale If-Match (412), another patient (409)
        raise Refused(err.problems[0].text(), {"outcome": operation_outcome(err.problems),
                                               "status": http_status(err)}) from None
    return {"sha256": sub.sha256, "reports": len(stored.reports),
            "refused": bool(stored.outcome)}


def _request(p: Json) -> tuple[conversion.Upload, MultiDict]:
    body = base64.b64decode(p["body"])
    if "files" in p:  # queued by a release that kept the files beside the body: still runs
        files = [(name, base64.b64decode(data)) for name, data in p["files"]]
        return conversion.Upload(files, body, p["content_type"]), MultiDict(p["args"])
    return conversion.received(p["content_type"], body, MultiDict(p["query"]))


def job_of(store: Store, job_id: int, client: str) -> jobs.Job:
    job = jobs.get(store, job_id)
    # another client's job is as unknown as one that never existed (ids are guessable)
    if job is None or job.kind != KIND or job.payload.get("client") != client:
        raise RequestError("not-found", f"no conversion job {job_id} of this client")
    return job


def status(job: jobs.Job, base: str) -> tuple[int, Json | None, dict[str, str]]:
    """(HTTP status, body, headers) of a poll."""
    if job.state in (jobs.QUEUED, jobs.RUNNING):
        progress = job.progress or ("queued" if job.state == jobs.QUEUED else "running")
        if job.error:
            progress += f" (attempt {job.attempts + 1})"
        return 202, None, {"X-Progress": progress, "Retry-After": "1"}
    if job.state == jobs.CANCELLED:
        raise RequestError("not-found", f"conversion job {job.id} was cancelled")
    if job.state == jobs.FAILED:
        outcome = (job.result or {}).get("outcome")
        if outcome:
            problems = [Problem(i["diagnostics"], code=i.get("code", "processing"))
                        for i in outcome["issue"]]
            kind = BY_HTTP_STATUS.get((job.result or {}).get("status", 422), "unprocessable")
            if kind == "unprocessable":
                raise InputError(problems)
            raise RequestError(kind, problems[0].message, code=problems[0].code)
        raise RequestError("internal", f"conversion job {job.id} failed")
    result = job.result or {}
    output = f"{base}/$convert-output/{job.id}"
    manifest: Json = {
        "transactionTime": job.updated.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "request": f"{base}/$convert",
        "requiresAccessToken": True,
        "output": [{"type": "Bundle", "url": f"{output}/Bundle.ndjson",
                    "count": result.get("reports", 0)}],
        "error": ([{"type": "OperationOutcome", "url": f"{output}/OperationOutcome.ndjson",
                    "count": 1}] if result.get("refused") else []),
    }
    return 200, manifest, {}


def output(store: Store, job: jobs.Job, kind: str) -> str:
    """The NDJSON file `kind` (Bundle | OperationOutcome) of a finished job."""
    if job.state != jobs.DONE:
        raise RequestError("not-found", f"conversion job {job.id} has no output yet")
    stored = submissions.find(store, job.result["sha256"], None) if job.result else None
    if stored is None:
        raise RequestError("not-found", f"the reports of conversion job {job.id} are not stored")
    if kind == "Bundle":
        return "".join(dumps(b) + "\n" for b in stored.reports)
    if kind == "OperationOutcome" and stored.outcome:
        return dumps(stored.outcome) + "\n"
    raise RequestError("not-found", f"conversion job {job.id} has no {kind} output")
