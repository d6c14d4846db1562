"""The FHIR REST routes under /fhir: metadata, $convert, read, vread, history, search."""

from __future__ import annotations

from email.utils import format_datetime

from flask import Blueprint, Response, current_app, g, request

from ..errors import RequestError
from ..fhir.common import FHIR_ID as ID
from ..store import Store, jobs, reads
from ..store import audit as audit_store
from ..store.reads import Version
from . import async_convert, audit, conversion, metrics, scopes, search, validate
from .auth import requires
from .capability import READABLE, capability_statement
from .negotiation import FHIR_JSON, NDJSON, fhir_json_response, fhir_response, negotiate, pretty

bp = Blueprint("fhir", __name__)
WRITES = ("DiagnosticReport", "Observation", "Task", "ResearchStudy", "Device", "MedicationStatement")


def store() -> Store:
    return current_app.extensions["allfhir.store"]


def base() -> str:
    return request.url_root.rstrip("/") + "/fhir"


bp.before_request(negotiate)


@bp.get("/metadata")
def metadata() -> Response:
    """The CapabilityStatement (no credentials)."""
    return fhir_response(capability_statement(base()))


def _write_needs() -> list[tuple[str, str]]:
    # a conversion creates resources and may amend (update) earlier versions of each type
    return [(t, p) for t in WRITES for p in "cu"]


@bp.post("/$convert")
@requires("operation", _write_needs)
def convert() -> Response:
    """Convert classifier output into stored report Bundles."""
    body = request.get_data()  # cached: the multipart parser reads the same bytes
    # Every part, also several under one field name (`curl -F file=@a -F file=@b`): a dropped
    # companion file would silently lose its findings.
    parts = [f for _, f in request.files.items(multi=True)]
    up, args = conversion.receive(request.mimetype, body, parts, request.args)
    opts = conversion.options(args, current_app.extensions["allfhir.id_systems"])
    sub = conversion.submission(up, opts, g.client, request.headers.get("Idempotency-Key"))
    if_match = conversion.precondition(request.headers.get("If-Match"))
    if async_convert.wanted(request.headers.get("Prefer")):
        job = async_convert.kick_off(store(), request.headers.get("Content-Type", ""), body,
                                     request.args, sub, if_match)
        return fhir_response(_accepted(job), status=202,
                             headers={"Content-Location": f"{base()}/$convert-status/{job}"})
    stored = conversion.run(store(), up, opts, sub, if_match, also=audit.with_the_write)
    metrics.converted(stored)
    if stored.created:
        audit.written()
    else:  # a resubmission wrote nothing: its AuditEvent is recorded after the response
        audit.touched(*audit.report_references(stored.reports))
    if _wants_ndjson():
        return Response(conversion.ndjson(stored), content_type=NDJSON)
    return fhir_response(conversion.parameters(stored))


def _accepted(job: int) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [{
        "severity": "information", "code": "informational",
        "diagnostics": f"conversion job {job} accepted: poll the Content-Location URL"}]}


def _read_reports(**_: str) -> list[tuple[str, str]]:
    return [("DiagnosticReport", "r")]


@bp.get("/$convert-status/<int:job>")
@requires("operation", _read_reports)
def convert_status(job: int) -> Response:
    """Poll an asynchronous conversion: 202 while it runs, then its manifest."""
    code, body, headers = async_convert.status(async_convert.job_of(store(), job, g.client), base())
    if body is None:
        return Response(status=code, headers=headers)
    return fhir_response(body, status=code, headers=headers)


@bp.delete("/$convert-status/<int:job>")
@requires("operation", _read_reports)
def convert_cancel(job: int) -> Response:
    """Cancel an asynchronous conversion that has not finished."""
    found = async_convert.job_of(store(), job, g.client)
    if not jobs.cancel(store(), found.id):
        raise RequestError("conflict", f"conversion job {job} has already finished")
    return Response(status=202)


@bp.get("/$convert-output/<int:job>/<kind>.ndjson")
@requires("operation", _read_reports)
def convert_output(job: int, kind: str) -> Response:
    """An output file of a finished asynchronous conversion."""
    text = async_convert.output(store(), async_convert.job_of(store(), job, g.client), kind)
    return Response(text, content_type="application/fhir+ndjson")


def _wants_ndjson() -> bool:
    best = request.accept_mimetypes.best_match([FHIR_JSON, "application/json", NDJSON])
    return best == NDJSON


def _no_scope(**_: str) -> list[tuple[str, str]]:
    # validation reads and writes no stored resource: any valid key may ask; the audit log
    # checks its admin scope in the view, as that scope admits no wildcard (api/audit.py)
    return []


@bp.post("/$validate")
@requires("operation", _no_scope)
def validate_any() -> Response:
    """Validate a resource or Bundle (R4 Resource-validate)."""
    return fhir_response(validate.run(validate.parse(request.get_data(), request.args, None)))


@bp.post("/<rtype>/$validate")
@requires("operation", _no_scope)
def validate_type(rtype: str) -> Response:
    """Validate a resource of this type (R4 Resource-validate)."""
    return fhir_response(validate.run(validate.parse(request.get_data(), request.args, rtype)))


@bp.post("/<rtype>/<rid>/$validate")
@requires("operation", lambda rtype, rid: [(rtype, "r")])
def validate_instance(rtype: str, rid: str) -> Response:
    """Validate a resource against a stored instance: as its update, its deletion, or a profile."""
    _readable(rtype, rid)
    audit.touched(f"{rtype}/{rid}")
    if reads.read(store(), rtype, rid) is None:
        raise _gone(rtype, rid)
    return fhir_response(validate.run(validate.parse(request.get_data(), request.args, rtype, rid)))


def _readable(rtype: str, rid: str | None = None) -> None:
    if rtype not in READABLE:
        raise RequestError("not-found", f"resource type '{rtype}' is not served here; served: "
                           f"{', '.join(READABLE)}", code="not-supported")
    if rid is not None and not ID.match(rid):
        raise RequestError("malformed", f"'{rid}' is not a FHIR id", code="value")


def _versioned(v: Version, rtype: str, rid: str) -> Response:
    names = search.elements(request.args)  # read and vread take _elements as search does
    return fhir_response(search.subset(v.resource, names) if names else v.resource,
                         headers=_version_headers(v))


def _version_headers(v: Version | reads.JsonVersion) -> dict[str, str]:
    return {"ETag": f'W/"{v.version_id}"',
            "Last-Modified": format_datetime(v.last_updated, usegmt=True)}


def _gone(rtype: str, rid: str, vid: str | None = None) -> RequestError:
    what = f"{rtype}/{rid}" + (f" version {vid}" if vid else "")
    return RequestError("not-found", f"{what} is not known")


@bp.get("/AuditEvent")
@requires("search-type", _no_scope)
def audit_search() -> Response:
    """Search the audit log (admin scope)."""
    audit.require_admin("s")
    criteria, count, offset = search.parse("AuditEvent", request.args)
    search.includes("AuditEvent", request.args)  # none: refuse any asked for
    audit.touched(query=True)
    page = audit_store.search(store(), criteria, count, offset)
    return fhir_response(search.searchset(base(), "AuditEvent", request.args, page, count, offset))


@bp.get("/AuditEvent/<rid>")
@requires("read", _no_scope)
def audit_read(rid: str) -> Response:
    """Read one AuditEvent (admin scope)."""
    audit.require_admin("r")
    if not ID.match(rid):
        raise RequestError("malformed", f"'{rid}' is not a FHIR id", code="value")
    audit.touched(f"AuditEvent/{rid}")
    event = audit_store.read(store(), rid)
    if event is None:
        raise _gone("AuditEvent", rid)
    return fhir_response(event)


@bp.get("/<rtype>/<rid>")
@requires("read", lambda rtype, rid: [(rtype, "r")])
def read(rtype: str, rid: str) -> Response:
    """Read the current version of a stored resource."""
    _readable(rtype, rid)
    audit.touched(f"{rtype}/{rid}")
    if not pretty() and search.elements(request.args) is None:
        # the whole resource, compact: served as stored, without decoding and encoding it again
        text = reads.read_text(store(), rtype, rid)
        if text is None:
            raise _gone(rtype, rid)
        return fhir_json_response(text.json, headers=_version_headers(text))
    v = reads.read(store(), rtype, rid)
    if v is None:
        raise _gone(rtype, rid)
    return _versioned(v, rtype, rid)


@bp.get("/<rtype>/<rid>/_history/<vid>")
@requires("vread", lambda rtype, rid, vid: [(rtype, "r")])
def vread(rtype: str, rid: str, vid: str) -> Response:
    """Read one version of a stored resource."""
    _readable(rtype, rid)
    if not (vid.isascii() and vid.isdigit()):  # '²'.isdigit() is true, int('²') fails
        raise RequestError("malformed", f"'{vid}' is not a version id", code="value")
    audit.touched(f"{rtype}/{rid}/_history/{vid}")
    v = reads.vread(store(), rtype, rid, int(vid))
    if v is None:
        raise _gone(rtype, rid, vid)
    return _versioned(v, rtype, rid)


@bp.get("/<rtype>/<rid>/_history")
@requires("history-instance", lambda rtype, rid: [(rtype, "r")])
def history(rtype: str, rid: str) -> Response:
    """Every version of a stored resource."""
    _readable(rtype, rid)
    audit.touched(f"{rtype}/{rid}")
    versions = reads.history(store(), rtype, rid)
    if not versions:
        raise _gone(rtype, rid)
    url = f"{base()}/{rtype}/{rid}"
    return fhir_response({
        "resourceType": "Bundle", "type": "history", "total": len(versions),
        "link": [{"relation": "self", "url": f"{url}/_history"}],
        "entry": [{
            "fullUrl": url, "resource": v.resource,
            "request": {"method": "POST" if v.version_id == 1 else "PUT",
                        "url": rtype if v.version_id == 1 else f"{rtype}/{rid}"},
            "response": {"status": "201 Created" if v.version_id == 1 else "200 OK",
                         "etag": f'W/"{v.version_id}"',
                         "lastModified": v.resource.get("meta", {}).get("lastUpdated")},
        } for v in versions],
    })


@bp.get("/<rtype>")
@requires("search-type", lambda rtype: [(rtype, "s")])
def search_type(rtype: str) -> Response:
    """Search the stored resources of a type."""
    if rtype not in search.PARAMS:
        _readable(rtype)
        raise RequestError("malformed", f"{rtype} cannot be searched here; searchable: "
                           f"{', '.join(search.PARAMS)}", code="not-supported")
    criteria, count, offset = search.parse(rtype, request.args)
    wanted = search.includes(rtype, request.args)
    # included resources are read too: the key must be allowed to read them
    missing = sorted({f"system/{target}.r" for _, target in wanted
                      if not scopes.allows(g.scopes, target, "r")})
    if missing:
        raise RequestError("forbidden", f"{g.caller.describe()} lacks the scope for the "
                           f"included resources: needs {', '.join(missing)}")
    audit.touched(query=True)
    page = reads.search(store(), rtype, criteria, count, offset)
    included = reads.read_many(store(), search.included_keys(page, wanted))
    return fhir_response(search.searchset(base(), rtype, request.args, page, count, offset, included))
