"""/openapi.json: an OpenAPI 3.0 description of every route, built from the app's URL rules, so
it cannot list a route that does not exist or miss one that does.

A route guarded by `auth.requires` needs credentials (bearer or X-API-Key); the others
(/health, /ready, /metrics, /openapi.json, /fhir/metadata) are open. What the rules cannot say
(request media types, query parameters) comes from the small tables below, keyed by endpoint.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from .. import __version__, ingest
from ..genomics.definitions import OPERATIONS
from .conversion import VALUE_TYPES
from .negotiation import JSON_FORMATS, NDJSON, NDJSON_FILES
from .search import AUDIT_PARAMS, INCLUDES, PARAMS

bp = Blueprint("openapi", __name__)
Json = dict[str, Any]

FHIR_JSON = "application/fhir+json"
PARAMETERS_BODY = {FHIR_JSON: {"schema": {"type": "object"}}}
BODIES: dict[str, Json] = {
    "fhir.convert": {"text/csv": {"schema": {"type": "string"}},
                     "text/tab-separated-values": {"schema": {"type": "string"}},
                     "application/json": {"schema": {"type": "object"}},
                     "multipart/form-data": {"schema": {"type": "object"}},
                     **PARAMETERS_BODY},
    "fhir.validate_any": PARAMETERS_BODY, "fhir.validate_type": PARAMETERS_BODY,
    "fhir.validate_instance": PARAMETERS_BODY,
    "conformance.translate": PARAMETERS_BODY, "conformance.lookup": PARAMETERS_BODY,
    "exchange.endpoint_create": PARAMETERS_BODY, "exchange.process_message": PARAMETERS_BODY,
}
QUERY: dict[str, list[str]] = {
    "fhir.convert": list(VALUE_TYPES),
    "fhir.validate_any": ["mode", "profile"], "fhir.validate_type": ["mode", "profile"],
    "fhir.validate_instance": ["mode", "profile"],
    "fhir.audit_search": [*AUDIT_PARAMS, "_count", "_offset", "_elements"],
    "conformance.translate": ["url", "code", "system", "target", "targetsystem", "reverse"],
    "conformance.lookup": ["code", "system"],
    "render.render": ["format"],
    "exchange.endpoint_search": ["status"],
    "fhir.search_type": sorted({name for params in PARAMS.values() for name in params}
                               | {"_count", "_offset", "_include", "_summary", "_elements"}),
}
# parameters whose values the server checks: said here, so clients (and schemathesis) know them
BOOLEAN = {"type": "string", "enum": ["true", "false"]}
NUMBER = {"type": "string", "pattern": "^[0-9]+$"}
SCHEMAS: dict[str, Json] = {
    "_format": {"type": "string", "enum": sorted(JSON_FORMATS)}, "_pretty": BOOLEAN,
    "format": {"type": "string", "enum": sorted(ingest.ADAPTERS)},
    "bundle-type": {"type": "string", "enum": ["collection", "transaction"]},
    "actionability": BOOLEAN, "reverse": BOOLEAN, "mode": {"type": "string", "enum": ["create", "profile"]},
    "_count": NUMBER, "_offset": NUMBER, "_summary": {"type": "string", "enum": ["count"]},
    "_include": {"type": "string", "enum": sorted({i for t in INCLUDES.values() for i in t})},
    "vid": NUMBER, "rid": {"type": "string", "pattern": "^[A-Za-z0-9.-]{1,64}$"},
}
STRING: Json = {"type": "string"}
OPEN_MEDIA = {"health.health": "application/json", "health.ready": "application/json",
              "metrics.scrape": "text/plain", "openapi.document": "application/json",
              **dict.fromkeys(NDJSON_FILES, NDJSON)}
HEADERS: dict[str, list[str]] = {"fhir.convert": ["Prefer", "Idempotency-Key", "If-Match"]}
# the Genomics Reporting IG operations, at [base]/$name and the reference implementation's path
for _op in OPERATIONS.values():
    for _bp in ("genomics", "genomics_compat"):
        BODIES[f"{_bp}.{_op.name.replace('-', '_')}"] = PARAMETERS_BODY
        QUERY[f"{_bp}.{_op.name.replace('-', '_')}"] = [p.name for p in _op.inputs]
for _kick_off in ("export.system_export", "export.patient_export", "export.group_export"):
    HEADERS[_kick_off] = ["Prefer"]
    QUERY[_kick_off] = ["_type", "_since", "_outputFormat"]
# routes that answer in something other than FHIR JSON
RESPONSE_MEDIA: dict[str, list[str]] = {"render.render": ["text/html", "application/pdf"]}
# a Werkzeug path variable: <name> or <converter:name>
_ARG = re.compile(r"<(?:([a-z]+):)?([a-z_]+)>")
# Werkzeug URL converter -> OpenAPI schema type of the path parameter
CONVERTER_TYPES = {"int": "integer", "float": "number"}


@bp.get("/openapi.json")
def document() -> Response:
    """This OpenAPI description (no credentials)."""
    return jsonify(describe())


def describe() -> Json:
    paths: dict[str, Json] = {}
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        # the lab's web pages are for people (HTML forms with CSRF tokens), not an API
        if rule.endpoint == "static" or rule.endpoint.startswith("web."):
            continue
        view = current_app.view_functions[rule.endpoint]
        path = _ARG.sub(r"{\2}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, view, method)
    return {
        "openapi": "3.0.3",
        "info": {"title": "allfhir FHIR R4 service", "version": __version__,
                 "description": "BCP-ALL classifier output as HL7 Genomics Reporting IG 3.0.0 "
                                "reports; errors are FHIR OperationOutcomes."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": {"Resource": {"type": "object", "required": ["resourceType"],
                                     "properties": {"resourceType": {"type": "string"}}}},
        },
    }


def _operation(rule: Any, view: Any, method: str) -> Json:
    endpoint = rule.endpoint
    doc = (view.__doc__ or "").strip().splitlines()
    media = OPEN_MEDIA.get(endpoint, FHIR_JSON)
    ok = {m: {"schema": {"$ref": "#/components/schemas/Resource"} if m == FHIR_JSON else {}}
          for m in RESPONSE_MEDIA.get(endpoint, [media])}
    op: Json = {
        "operationId": f"{endpoint}.{method.lower()}",
        "summary": doc[0] if doc else endpoint,
        "parameters": [{"name": name, "in": "path", "required": True,
                        "schema": SCHEMAS.get(name, {"type": CONVERTER_TYPES.get(converter, "string")})}
                       for converter, name in _ARG.findall(rule.rule)],
        "responses": {"200": {"description": "OK", "content": ok},
                      "default": {"description": "an OperationOutcome", "content": {
                          FHIR_JSON: {"schema": {"$ref": "#/components/schemas/Resource"}}}}},
    }
    if endpoint.startswith(("fhir.", "conformance.", "exchange.")):
        op["parameters"] += [{"name": n, "in": "query", "required": False, "schema": SCHEMAS[n]}
                             for n in ("_format", "_pretty")]
    query = QUERY.get(endpoint, ["url"] if endpoint.startswith("conformance.search_") else [])
    op["parameters"] += [{"name": n, "in": "query", "required": False,
                          "schema": SCHEMAS.get(n, STRING)} for n in query]
    op["parameters"] += [{"name": n, "in": "header", "required": False, "schema": STRING}
                         for n in HEADERS.get(endpoint, [])]
    if method == "POST" and endpoint in BODIES:
        op["requestBody"] = {"required": True, "content": BODIES[endpoint]}
    if getattr(view, "allfhir_interaction", None):
        op["security"] = [{"bearer": []}, {"apiKey": []}]
    else:
        op["security"] = []
    return op
