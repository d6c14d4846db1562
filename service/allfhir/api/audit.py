"""An AuditEvent per read, search and write (IHE Basic Audit Log Patterns: who, what, when,
outcome), stored after the response is decided. Views say what they touched in `g.audit`.

The audit log is for administrators: reading or searching it needs a scope that names AuditEvent
itself (`system/AuditEvent.rs`, or v1 `system/AuditEvent.read`). A wildcard such as
`system/*.read` does not grant it: a service account that reads reports has no business reading
who else read them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from flask import Flask, Response, current_app, g, request

from ..errors import RequestError
from ..store import Store, Transaction, audit
from . import scopes

ADMIN_SCOPE = "system/AuditEvent.rs"  # the admin scope (v1: system/AuditEvent.read)

# restful-interaction -> AuditEvent.action (C create, R read, E execute)
ACTIONS = {"read": "R", "vread": "R", "history-instance": "R", "search-type": "E", "operation": "E"}


@dataclass(slots=True)
class Access:
    interaction: str  # http://hl7.org/fhir/restful-interaction code
    entities: list[str] = field(default_factory=list)  # 'Type/id' references touched
    query: bool = False  # a search: the query itself is the entity


def note(interaction: str) -> Access:
    g.audit = Access(interaction)
    return g.audit


def touched(*entities: str, query: bool = False) -> None:
    """The view says what it read or wrote (after authorisation)."""
    access: Access | None = g.get("audit")
    if access is not None:
        access.entities.extend(entities)
        access.query = access.query or query


def report_references(bundles: list[dict]) -> list[str]:
    """'DiagnosticReport/<id>' of each report Bundle (its first entry is the report)."""
    return [f"DiagnosticReport/{b['entry'][0]['resource']['id']}" for b in bundles]


def with_the_write(store: Store, conn: Transaction, reports: list[dict]) -> None:
    """The request's AuditEvent, written in the transaction that stores its reports (a
    `submissions.AfterWrite`): the write and its record commit together, in one turn at
    SQLite's write lock instead of two. The request's own record after the response is then
    dropped by `written`; a transaction that rolls back takes this event with it, and the
    request is recorded after its response as any other."""
    access: Access | None = g.get("audit")
    if access is not None:
        audit.write(store, conn, event(Access(access.interaction,
                                              [*access.entities, *report_references(reports)],
                                              access.query), 200))


def written() -> None:
    """The request's AuditEvent went in with its write (`with_the_write`, committed)."""
    g.pop("audit", None)


def require_admin(letter: str) -> None:
    """403 unless the caller's scopes name AuditEvent with this permission (no wildcard)."""
    if scopes.allows(g.get("scopes") or (), "AuditEvent", letter, wildcard=False):
        return
    raise RequestError("forbidden", f"the API key '{g.get('client')}' lacks the admin scope of the "
                       f"audit log: needs {ADMIN_SCOPE} (a wildcard such as system/*.read does not "
                       "grant it)")


def outcome(status: int) -> str:
    # AuditEvent.outcome: 0 success, 4 minor failure (the client's), 8 serious failure (ours)
    return "0" if status < 400 else "4" if status < 500 else "8"


def event(access: Access, status: int) -> dict:
    entities: list[dict] = [{"what": {"reference": ref}} for ref in access.entities]
    if access.query:
        entities.append({"type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                                  "code": "2", "display": "System Object"},
                         "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role",
                                  "code": "24", "display": "Query"},
                         "query": base64.b64encode(request.query_string).decode()})
    return {
        "resourceType": "AuditEvent",
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
                 "code": "rest", "display": "RESTful Operation"},
        "subtype": [{"system": "http://hl7.org/fhir/restful-interaction",
                     "code": access.interaction}],
        "action": ACTIONS.get(access.interaction, "E"),
        "outcome": outcome(status),
        "agent": [{"who": {"display": g.get("client") or "anonymous"}, "requestor": True,
                   "network": {"address": request.remote_addr or "", "type": "2"}}],
        "source": {"observer": {"display": "allfhir"},
                   "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                             "code": "3", "display": "Web Server"}]},
        **({"entity": entities} if entities else {}),
    }


def init_app(app: Flask) -> None:
    @app.after_request
    def _record(response: Response) -> Response:
        access = g.pop("audit", None)
        if access is not None:
            audit.record(current_app.extensions["allfhir.store"], event(access, response.status_code))
        return response
