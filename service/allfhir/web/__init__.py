"""The lab's web pages (/web), served by the same Flask app as the FHIR API: sign-in, upload,
the report list and page, and the cohort view. Templates and the one CSS file ship in the
package: nothing is fetched from another host (hospitals run offline).

Sessions are Flask's signed cookies, keyed by a secret the service keeps in its database (made
on first use, so every worker and every restart signs alike); every form carries a CSRF token
(Flask-WTF). The pages read and write only through the store's functions and api/conversion.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

from ..store import users
from . import cohort_page, report_pages, signin, upload
from .blueprint import bp, csrf

__all__ = ["init_app"]
_ROUTES = (cohort_page, report_pages, signin, upload)  # imported for their routes on `bp`
SESSION_HOURS = 8  # a working day: the lab signs in once per shift


class StoredKeySessions(SecureCookieSessionInterface):
    """Cookie sessions for /web only; the signing key read from the store on first use (not at
    start-up: the API starts, and answers /health, also before its database is reachable)."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if not request.path.startswith(bp.url_prefix or "/web"):
            return self.make_null_session(app)
        if not app.secret_key:
            app.secret_key = users.secret(app.extensions["allfhir.store"], "session")
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    config: dict[str, Any] = {
        "SESSION_COOKIE_NAME": "allfhir_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_PATH": "/web",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=SESSION_HOURS),
        # pages protect their own POSTs (blueprint.py); the API's routes use bearer keys
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": SESSION_HOURS * 3600,
    }
    for key, value in config.items():
        app.config.setdefault(key, value)
    app.session_interface = StoredKeySessions()
    csrf.init_app(app)
    app.register_blueprint(bp)
