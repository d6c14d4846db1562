"""The FHIR REST routes under /fhir: metadata, $convert, read, vread, history, search."""

from __future__ import annotations

import re
from email.utils import format_datetime

from flask import Blueprint, Response, current_app, g, request

from ..errors import RequestError
from ..store import Store, reads
from ..store.reads import Version
from . import audit, conversion, metrics, scopes, search, validate
from .auth import requires
from .capability import READABLE, capability_statement
from .negotiation import check_acceptable, fhir_response

bp = Blueprint("fhir", __name__)
ID = re.compile(r"[A-Za-z0-9\-.]{1,64}$")
WRITES = ("DiagnosticReport", "Observation", "Task", "ResearchStudy", "Device", "MedicationStatement")


def store() -> Store:
    return current_app.extensions["allfhir.store"]


def base() -> str:
    return request.url_root.rstrip("/") + "/fhir"


@bp.before_request
def _negotiate() -> None:
    check_acceptable()


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
    opts = conversion.options(request.args, current_app.extensions["allfhir.id_systems"])
    body = request.get_data()  # cached: the multipart parser reads the same bytes
    # Every part, also several under one field name (`curl -F file=@a -F file=@b`): a dropped
    # companion file would silently lose its findings.
    parts = [f for _, f in request.files.items(multi=True)]
    up = conversion.upload(request.mimetype, body, parts)
    sub = conversion.submission(up, opts, g.client, request.headers.get("Idempotency-Key"))
    stored = conversion.run(store(), up, opts, sub)
    metrics.converted(stored)
    audit.touched(*(f"DiagnosticReport/{b['entry'][0]['resource']['id']}" for b in stored.reports))
    return fhir_response(conversion.parameters(stored))


def _no_scope(**_: str) -> list[tuple[str, str]]:
    # validation reads and writes no stored resource: any valid key may ask
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


def _readable(rtype: str, rid: str | None = None) -> None:
    if rtype not in READABLE:
        raise RequestError("not-found", f"resource type '{rtype}' is not served here; served: "
                           f"{', '.join(READABLE)}", code="not-supported")
    if rid is not None and not ID.match(rid):
        raise RequestError("malformed", f"'{rid}' is not a FHIR id", code="value")


def _versioned(v: Version, rtype: str, rid: str) -> Response:
    return fhir_response(v.resource, headers={"ETag": f'W/"{v.version_id}"',
                                              "Last-Modified": format_datetime(v.last_updated, usegmt=True)})


def _gone(rtype: str, rid: str, vid: str | None = None) -> RequestError:
    what = f"{rtype}/{rid}" + (f" version {vid}" if vid else "")
    return RequestError("not-found", f"{what} is not known")


@bp.get("/<rtype>/<rid>")
@requires("read", lambda rtype, rid: [(rtype, "r")])
def read(rtype: str, rid: str) -> Response:
    """Read the current version of a stored resource."""
    _readable(rtype, rid)
    audit.touched(f"{rtype}/{rid}")
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
