"""The FHIR REST service: `create_app(settings)` builds the Flask app.

Views parse the request, call the pipeline or the store, and render FHIR JSON; every failure
leaves through `errors.py` as an OperationOutcome. No SQL here: the store answers in dicts.
"""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.routing import BaseConverter

from .. import knowledge
from ..fhir.bundle import id_systems
from ..settings import Settings
from ..store import init_app as init_store
from ..web import init_app as init_web
from . import (
    audit,
    auth,
    conformance,
    errors,
    exchange,
    export,
    fhir,
    genomics,
    health,
    metrics,
    negotiation,
    openapi,
    render,
)


class Segment(BaseConverter):
    """A path variable (type, id, version) never starts with `$`: such a segment names an
    operation, so GET /fhir/$convert is 405 (Allow: POST), not a search of a type '$convert'."""

    regex = r"[^/$][^/]*"


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    # Load the curated knowledge now, in each worker, not on the first conversion (seconds).
    knowledge.default()
    app = Flask("allfhir")
    app.url_map.converters["default"] = Segment  # before any route is added
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["allfhir.settings"] = settings
    app.extensions["allfhir.id_systems"] = id_systems(settings)
    init_store(app, settings.database_url)
    errors.init_app(app)
    negotiation.init_app(app)
    audit.init_app(app)
    auth.init_app(app, settings)
    metrics.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(fhir.bp, url_prefix="/fhir")
    app.register_blueprint(conformance.bp, url_prefix="/fhir")
    app.register_blueprint(render.bp, url_prefix="/fhir")
    app.register_blueprint(exchange.bp, url_prefix="/fhir")
    app.register_blueprint(openapi.bp)
    genomics.register(app)
    app.register_blueprint(export.bp, url_prefix="/fhir")
    init_web(app)  # the lab's pages under /web
    logging.getLogger("allfhir.api").setLevel(logging.INFO)
    return app
