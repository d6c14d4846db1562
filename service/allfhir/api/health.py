"""Liveness and readiness, without credentials (load balancers and orchestrators poll them)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> Response:
    """Liveness (no credentials)."""
    return jsonify(status="ok")


@bp.get("/ready")
def ready() -> tuple[Response, int]:
    """Readiness: the database answers (no credentials)."""
    if current_app.extensions["allfhir.store"].reachable():
        return jsonify(status="ready"), 200
    return jsonify(status="database unreachable"), 503
