"""The exchange routes under /fhir: Endpoint management, a report's deliveries, $process-message.

- `POST|GET /fhir/Endpoint`, `GET|DELETE /fhir/Endpoint/{id}`: the destinations reports are
  delivered to (exchange/endpoints.py). Managing them needs a scope that names Endpoint itself
  (system/Endpoint.cruds, system/Endpoint.*, v1 system/Endpoint.write): where reports go is an
  administrator's decision, so a wildcard writer's system/*.write does not grant it.
- `GET /fhir/DiagnosticReport/{id}/$delivery-status`: one `delivery` parameter per Endpoint and
  report version (exchange/status.py); `POST .../$retry` requeues the dead letters (Endpoint u).
- `POST /fhir/$process-message`: classifier output in a message (exchange/messaging.py), converted
  and stored as `$convert` does; answered with a response message, the same one for a resent
  message (store/messages.py).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from ..errors import InputError, Problem, RequestError, operation_outcome
from ..exchange import endpoints as endpoint_resources
from ..exchange import messaging, status
from ..parameters_body import json_body
from ..store import endpoints, messages, reads
from . import audit, conversion, metrics, scopes
from .auth import requires
from .fhir import ID, WRITES, base, store
from .negotiation import fhir_response, negotiate

bp = Blueprint("exchange", __name__)
log = logging.getLogger("allfhir.api")
Json = dict[str, Any]


bp.before_request(negotiate)


def _admin(letter: str) -> None:
    # the key must name Endpoint: system/*.write (any writer) does not choose destinations
    if scopes.allows(g.scopes, "Endpoint", letter, wildcard=False):
        return
    raise RequestError("forbidden", f"the API key '{g.client}' lacks the scope for this request: "
                       f"needs system/Endpoint.{letter} by name (a wildcard type does not manage "
                       "delivery destinations)")


def _endpoint_id(eid: str) -> str:
    if not ID.match(eid):
        raise RequestError("malformed", f"'{eid}' is not a FHIR id", code="value")
    return eid


@bp.post("/Endpoint")
@requires("create", lambda: [("Endpoint", "c")])
def endpoint_create() -> Response:
    """Create a delivery destination (Endpoint); its secret is stored, never returned."""
    _admin("c")
    resource, secret = endpoint_resources.check(json_body(request.get_data()))
    stored = endpoints.create(store(), resource, secret)
    audit.touched(f"Endpoint/{stored['id']}")
    return fhir_response(stored, status=201, headers={
        "Location": f"{base()}/Endpoint/{stored['id']}/_history/1", "ETag": 'W/"1"'})


@bp.get("/Endpoint/<eid>")
@requires("read", lambda eid: [("Endpoint", "r")])
def endpoint_read(eid: str) -> Response:
    """Read a delivery destination (without its secret)."""
    _admin("r")
    found = endpoints.get(store(), _endpoint_id(eid))
    if found is None:
        raise RequestError("not-found", f"Endpoint/{eid} is not known")
    audit.touched(f"Endpoint/{eid}")
    return fhir_response(found.resource, headers={"ETag": 'W/"1"'})


@bp.get("/Endpoint")
@requires("search-type", lambda: [("Endpoint", "s")])
def endpoint_search() -> Response:
    """Every delivery destination (optionally ?status=active|off|...)."""
    _admin("s")
    unknown = sorted(set(request.args) - {"status", "_format", "_pretty"})
    if unknown:
        raise RequestError("malformed", f"Endpoint cannot be searched by {', '.join(unknown)} here; "
                           "searchable: status", code="not-supported")
    wanted = request.args.get("status")
    found = [e for e in endpoints.every(store()) if wanted is None or e.get("status") == wanted]
    audit.touched(query=True)
    return fhir_response({
        "resourceType": "Bundle", "type": "searchset", "total": len(found),
        "link": [{"relation": "self", "url": request.url}],
        "entry": [{"fullUrl": f"{base()}/Endpoint/{e['id']}", "resource": e,
                   "search": {"mode": "match"}} for e in found],
    })


@bp.delete("/Endpoint/<eid>")
@requires("delete", lambda eid: [("Endpoint", "d")])
def endpoint_delete(eid: str) -> Response:
    """Remove a delivery destination (its queued deliveries then fail as dead letters)."""
    _admin("d")
    if not endpoints.remove(store(), _endpoint_id(eid)):
        raise RequestError("not-found", f"Endpoint/{eid} is not known")
    audit.touched(f"Endpoint/{eid}")
    return Response(status=204)


def _report(rid: str) -> None:
    if not ID.match(rid):
        raise RequestError("malformed", f"'{rid}' is not a FHIR id", code="value")
    if reads.read(store(), "DiagnosticReport", rid) is None:
        raise RequestError("not-found", f"DiagnosticReport/{rid} is not known")
    audit.touched(f"DiagnosticReport/{rid}")


@bp.get("/DiagnosticReport/<rid>/$delivery-status")
@requires("operation", lambda rid: [("DiagnosticReport", "r")])
def delivery_status(rid: str) -> Response:
    """Where a report's deliveries stand: one `delivery` per Endpoint and report version."""
    _report(rid)
    return fhir_response(status.parameters(store(), rid))


@bp.post("/DiagnosticReport/<rid>/$retry")
@requires("operation", lambda rid: [("DiagnosticReport", "r"), ("Endpoint", "u")])
def delivery_retry(rid: str) -> Response:
    """Requeue a report's dead-letter deliveries; answers their status."""
    _admin("u")
    _report(rid)
    status.retry(store(), rid)
    return fhir_response(status.parameters(store(), rid))


@bp.post("/$process-message")
@requires("operation", lambda: [(t, p) for t in WRITES for p in "cu"])
def process_message() -> Response:
    """Process a message carrying classifier output; answers a response message."""
    msg = messaging.inbound(json_body(request.get_data()))
    first = messages.response(store(), msg.system, msg.value)
    if first is not None:  # a resent message: the response it got, nothing processed again
        return fhir_response(first)
    now = datetime.now(UTC)
    if msg.problem is not None:
        answer = messaging.response(msg, "fatal-error", base(), now,
                                    outcome=operation_outcome([msg.problem]))
        return fhir_response(messages.record(store(), msg.system, msg.value, answer))
    up = conversion.Upload(msg.files, request.get_data(), "application/fhir+json")
    opts = conversion.options({}, current_app.extensions["allfhir.id_systems"])
    sub = conversion.submission(up, opts, g.client, None)
    try:
        stored = conversion.run(store(), up, opts, sub)
    except InputError as err:
        answer = messaging.response(msg, "fatal-error", base(), now, outcome=err.operation_outcome())
    except Exception:
        # not processed (the database, a bug): the sender may resend, nothing was recorded
        log.exception("process-message failed", extra={"request_id": g.get("request_id")})
        answer = messaging.response(msg, "transient-error", base(), now, outcome=operation_outcome([
            Problem(f"the message was not processed (request id {g.get('request_id')}); send it "
                    "again later", code="transient")]))
        return fhir_response(answer, status=503)
    else:
        metrics.converted(stored)
        refs = tuple(audit.report_references(stored.reports))
        audit.touched(*refs)
        answer = messaging.response(msg, "ok", base(), now, reports=refs, outcome=stored.outcome)
    return fhir_response(messages.record(store(), msg.system, msg.value, answer))
