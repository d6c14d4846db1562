"""One error handler: every failure becomes an OperationOutcome with its HTTP status.

Never an HTML page, never a traceback: werkzeug's HTTP errors are translated through the status
table in `allfhir.errors`; anything unexpected is a 500 whose details go to the log (ids only).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g
from werkzeug.exceptions import HTTPException

from ..errors import BY_HTTP_STATUS, STATUS, InputError, Problem, http_status, operation_outcome
from .negotiation import fhir_response

log = logging.getLogger("allfhir.api")

MESSAGES = {
    404: "no such resource or endpoint",
    405: "method not allowed here",
    413: "request body larger than the configured limit (ALLFHIR_MAX_BODY_BYTES)",
}


def outcome_response(problems: list[Problem], status: int, headers: dict | None = None) -> Response:
    return fhir_response(operation_outcome(problems), status, headers)


def init_app(app: Flask) -> None:
    @app.errorhandler(InputError)
    def _input(err: InputError) -> Response:
        status = http_status(err)
        headers = {"WWW-Authenticate": 'Bearer realm="allfhir"'} if status == 401 else None
        return outcome_response(err.problems, status, headers)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response:
        status = err.code or 500
        kind = BY_HTTP_STATUS.get(status, "malformed" if status < 500 else "internal")
        message = MESSAGES.get(status) or err.description or err.name
        response = outcome_response([Problem(message, code=STATUS[kind][2])], status)
        if status == 405 and err.get_response().headers.get("Allow"):
            response.headers["Allow"] = err.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _internal(err: Exception) -> Response:
        log.exception("internal error")  # api/logs.py: frames and type only, request id added
        return outcome_response([Problem(f"internal error ({type(err).__name__}); request id "
                                         f"{g.get('request_id')}", code="exception")], 500)
