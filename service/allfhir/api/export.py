"""Bulk export (FHIR Bulk Data Access IG v2, http://hl7.org/fhir/uv/bulkdata/export.html):
`[base]/$export`, `[base]/Patient/$export`, `[base]/Group/{id}/$export`.

- Kick-off (GET, `Prefer: respond-async`): `_type` (comma-separated; default: every type served),
  `_since` (FHIR instant), `_outputFormat` (application/fhir+ndjson, or its short forms). The key
  must read every type asked for. 202 with `Content-Location` = the status URL; the work is an
  `export` job in the worker process (worker.HANDLERS).
- Patient level: the resources that name a subject (reports and Observations, store/export.py).
- Group level: this server stores no Group resources (a registry cohort is a query here, the
  population operations of api/genomics.py), so every Group is unknown: 404.
- Status: 202 with `X-Progress` / `Retry-After` while queued or running; then 200 with the
  manifest (one NDJSON file per type that has resources); a failure as an OperationOutcome.
  DELETE cancels an export that has not finished, or removes the files of one that has (202).
- Files: written by the worker under DATA_DIR/exports/<job>/, one resource a line, from the
  store in chunks (memory flat in the size of the export); served streaming with the same
  credentials and scopes (the exporting client only, read scope on the file's type).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, request, send_file

from ..errors import RequestError
from ..settings import Settings
from ..store import Store, jobs
from ..store import export as exported
from . import audit, capability, scopes
from .auth import requires
from .negotiation import fhir_response, negotiate

Json = dict[str, Any]
KIND = "export"
FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
PATIENT_TYPES = ("DiagnosticReport", "Observation")  # the types indexed by subject (index.py)
BULK = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition"
# CapabilityStatement.rest.operation entries (Bulk Data v2 canonical OperationDefinitions)
OPERATIONS = [
    {"name": "export", "definition": f"{BULK}/export",
     "documentation": "Asynchronous (Prefer: respond-async): _type, _since, _outputFormat="
     "application/fhir+ndjson; one NDJSON file per type"},
    {"name": "export", "definition": f"{BULK}/patient-export",
     "documentation": "Patient/$export: the reports and Observations that name a subject"},
    {"name": "export", "definition": f"{BULK}/group-export",
     "documentation": "Group/{id}/$export: no Group is stored here (404)"},
]
bp = Blueprint("export", __name__)


bp.before_request(negotiate)


def _store() -> Store:
    return current_app.extensions["allfhir.store"]


def _base() -> str:
    return request.url_root.rstrip("/") + "/fhir"


def folder(settings: Settings, job_id: int) -> Path:
    return settings.data_dir / "exports" / str(job_id)


def _instant(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RequestError("malformed", f"_since '{text}' is not a FHIR instant "
                           "(e.g. 2026-01-01T00:00:00Z)", code="value") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _types(level: str) -> list[str]:
    served = PATIENT_TYPES if level == "patient" else capability.READABLE
    asked = [t.strip() for v in request.args.getlist("_type") for t in v.split(",") if t.strip()]
    unknown = [t for t in asked if t not in served]
    if unknown:
        raise RequestError("malformed", f"_type {', '.join(unknown)}: not exported at this level; "
                           f"exported: {', '.join(served)}", code="not-supported")
    return list(dict.fromkeys(asked)) or list(served)


def kick_off(level: str) -> Response:
    prefer = request.headers.get("Prefer", "")
    if "respond-async" not in [p.strip().lower() for p in prefer.split(",")]:
        raise RequestError("malformed", "a bulk export runs asynchronously: send "
                           "'Prefer: respond-async'", code="required")
    fmt = request.args.get("_outputFormat", FORMATS[0])
    if fmt not in FORMATS:
        raise RequestError("malformed", f"_outputFormat '{fmt}' is not supported; supported: "
                           f"{FORMATS[0]}", code="not-supported")
    for name in request.args:
        if name not in ("_type", "_since", "_outputFormat"):
            raise RequestError("malformed", f"'{name}' is not a parameter of $export here; its "
                               "parameters: _type, _since, _outputFormat", code="not-supported")
    types = _types(level)
    missing = [f"system/{t}.read" for t in types if not scopes.allows(g.scopes, t, "r")]
    if missing:
        raise RequestError("forbidden", f"the API key '{g.client}' lacks the scope to export "
                           f"these types: needs {', '.join(missing)}")
    since = request.args.get("_since")
    payload = {"client": g.client, "level": level, "types": types, "request": request.url,
               "since": _instant(since).isoformat() if since else None,
               "transactionTime": datetime.now(UTC).isoformat()}
    job = jobs.submit(_store(), KIND, payload)
    audit.touched(query=True)
    return fhir_response({"resourceType": "OperationOutcome", "issue": [{
        "severity": "information", "code": "informational",
        "diagnostics": f"export job {job} accepted: poll the Content-Location URL"}]},
        status=202, headers={"Content-Location": f"{_base()}/$export-status/{job}"})


def run_job(ctx: Any) -> Json:
    """The worker's handler (worker.HANDLERS['export']): one NDJSON file per type, written
    to a temporary name and renamed, so a retried job never serves a half-written file."""
    p = ctx.job.payload
    out = folder(ctx.settings, ctx.job.id)
    out.mkdir(parents=True, exist_ok=True)
    since = datetime.fromisoformat(p["since"]) if p["since"] else None
    until = datetime.fromisoformat(p["transactionTime"])
    files = []
    for rtype in p["types"]:
        n, part = 0, out / f"{rtype}.ndjson.part"
        with part.open("wb") as f:
            for text in exported.stream(ctx.store, rtype, since, until=until,
                                        with_subject=p["level"] == "patient"):
                f.write(text.encode() + b"\n")
                n += 1
                if n % 5000 == 0:
                    ctx.progress(f"{rtype}: {n} resources")
                    if _cancelled(ctx):
                        shutil.rmtree(out, ignore_errors=True)
                        return {"cancelled": True}
        if n:
            part.rename(out / f"{rtype}.ndjson")
            files.append({"type": rtype, "count": n})
        else:
            part.unlink()
        ctx.progress(f"{rtype}: {n} resources")
    return {"files": files}


def _cancelled(ctx: Any) -> bool:
    job = jobs.get(ctx.store, ctx.job.id)
    return job is None or job.state == jobs.CANCELLED


def job_of(job_id: int) -> jobs.Job:
    job = jobs.get(_store(), job_id)
    # another client's export is as unknown as one that never existed (ids are guessable)
    if job is None or job.kind != KIND or job.payload.get("client") != g.client:
        raise RequestError("not-found", f"no export job {job_id} of this client")
    return job


def _iso(when: str) -> str:
    return datetime.fromisoformat(when).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status(job: jobs.Job) -> Response:
    if job.state in (jobs.QUEUED, jobs.RUNNING):
        progress = job.progress or job.state
        return Response(status=202, headers={"X-Progress": progress, "Retry-After": "2"})
    settings = current_app.extensions["allfhir.settings"]
    if job.state == jobs.CANCELLED or (not folder(settings, job.id).exists() and \
            (job.result or {}).get("files")):
        raise RequestError("not-found", f"export job {job.id} was cancelled or its files removed")
    if job.state == jobs.FAILED:
        raise RequestError("internal", f"export job {job.id} failed: {job.error}")
    output = f"{_base()}/$export-output/{job.id}"
    return fhir_response({
        "transactionTime": _iso(job.payload["transactionTime"]),
        "request": job.payload["request"],
        "requiresAccessToken": True,
        "output": [{"type": f["type"], "url": f"{output}/{f['type']}.ndjson", "count": f["count"]}
                   for f in (job.result or {}).get("files", [])],
        "error": [],
    })


@bp.get("/$export")
@requires("operation", lambda: [])
def system_export() -> Response:
    """Bulk export of every resource (FHIR Bulk Data system-level $export)."""
    return kick_off("system")


@bp.get("/Patient/$export")
@requires("operation", lambda: [])
def patient_export() -> Response:
    """Bulk export of the resources that name a subject (Bulk Data patient-level $export)."""
    return kick_off("patient")


@bp.get("/Group/<gid>/$export")
@requires("operation", lambda gid: [])
def group_export(gid: str) -> Response:
    """Bulk export of a Group: no Group is stored here, so none is known (404)."""
    raise RequestError("not-found", f"Group/{gid} is not known: this server stores no Group "
                       "resources (use Patient/$export, or the population operations for a cohort)")


@bp.get("/$export-status/<int:job>")
@requires("operation", lambda job: [])
def export_status(job: int) -> Response:
    """Poll a bulk export: 202 while it runs, then its manifest."""
    return status(job_of(job))


@bp.delete("/$export-status/<int:job>")
@requires("operation", lambda job: [])
def export_cancel(job: int) -> Response:
    """Cancel a bulk export, or remove the files of a finished one."""
    found = job_of(job)
    if not jobs.cancel(_store(), found.id):
        shutil.rmtree(folder(current_app.extensions["allfhir.settings"], found.id),
                      ignore_errors=True)
    return Response(status=202)


@bp.get("/$export-output/<int:job>/<rtype>.ndjson")
@requires("read", lambda job, rtype: [(rtype, "r")])
def output(job: int, rtype: str) -> Response:
    """One NDJSON file of a finished bulk export, streamed from the data folder."""
    found = job_of(job)
    path = folder(current_app.extensions["allfhir.settings"], found.id) / f"{rtype}.ndjson"
    if found.state != jobs.DONE or rtype not in found.payload["types"] or not path.is_file():
        raise RequestError("not-found", f"export job {job} has no {rtype} file")
    audit.touched(query=True)
    return send_file(path, mimetype="application/fhir+ndjson", conditional=False)
