"""FHIR JSON in and out: `_format`, `Accept`, `_pretty`, the request id and the request log.

We speak JSON only; asking for XML (or anything else) is 406 with an OperationOutcome, as the
FHIR http page says for an unsupported `_format`.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request

from .. import jsonout
from ..errors import RequestError

FHIR_JSON = "application/fhir+json"
JSON_FORMATS = {"json", "application/json", FHIR_JSON, "application/json+fhir"}
log = logging.getLogger("allfhir.api")
# A client's X-Request-ID is kept when it looks like an id; anything else (free text could carry a
# name, or forge log lines) is replaced by our own.
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


NDJSON = "application/fhir+ndjson"
# What the FHIR routes answer besides FHIR JSON, by endpoint: the output files of asynchronous
# work are NDJSON whatever the Accept says; `$convert` also streams NDJSON, as the CLI writes it.
NDJSON_FILES = frozenset({"fhir.convert_output", "export.output"})
ALSO_ACCEPTED = {"fhir.convert": (NDJSON,)}


def negotiate() -> None:
    """The FHIR blueprints' `before_request`: 406 (or 400 for a bad `_pretty`) before any work."""
    if request.endpoint not in NDJSON_FILES:
        check_acceptable(also=ALSO_ACCEPTED.get(request.endpoint or "", ()))


def check_acceptable(also: tuple[str, ...] = ()) -> None:
    """406 unless the client accepts FHIR JSON (or one of `also`, the route's other types)."""
    fmt = request.args.get("_format")
    if fmt is not None and fmt.split(";")[0].strip() not in JSON_FORMATS:
        raise RequestError("not-acceptable", f"_format '{fmt}' is not supported: this server "
                           "speaks FHIR JSON only (_format=json)")
    pretty = request.args.get("_pretty")
    if pretty is not None and pretty not in ("true", "false"):
        raise RequestError("malformed", f"_pretty '{pretty}' is not true or false", code="value")
    if request.headers.get("Accept") and request.accept_mimetypes.best_match(
            [FHIR_JSON, "application/json", *also]) is None:
        raise RequestError("not-acceptable", f"cannot answer in {request.headers['Accept']}: this "
                           "server speaks FHIR JSON only (application/fhir+json)")


def fhir_response(resource: dict[str, Any], status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    # compact: jsonout (orjson, the same bytes as the stdlib's compact form, several times faster)
    body = json.dumps(resource, ensure_ascii=False, indent=2) \
        if pretty() else jsonout.dumps_bytes(resource)
    return fhir_json_response(body, status, headers)


def pretty() -> bool:
    return request.args.get("_pretty") == "true"


def fhir_json_response(body: bytes | str, status: int = 200,
                       headers: dict[str, str] | None = None) -> Response:
    """A response of FHIR JSON text already written (a stored resource as it is stored)."""
    response = Response(body, status=status, content_type=f"{FHIR_JSON}; charset=utf-8")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        # ids, route and timing only: never query strings, bodies or names (they carry PHI)
        log.info("request", extra={
            "method": request.method, "route": request.url_rule.rule if request.url_rule else None,
            "status": response.status_code, "client": g.get("client"),
            "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
        })
        return response
