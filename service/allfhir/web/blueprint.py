"""The `web` blueprint under /web: who is signed in, what their role allows, and error pages.

Errors on these pages are the same OperationOutcomes the API answers, shown as a page (status,
each issue's location and message) instead of JSON: a person reads them in a browser.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from ..errors import BY_HTTP_STATUS, STATUS, InputError, Problem, RequestError, http_status
from ..store import Store, users
from ..store.users import Role

bp = Blueprint("web", __name__, url_prefix="/web", template_folder="templates")
STATIC = Path(__file__).resolve().parent / "static"
csrf = CSRFProtect()
log = logging.getLogger("allfhir.api")
F = TypeVar("F", bound=Callable[..., Any])


def store() -> Store:
    return current_app.extensions["allfhir.store"]


@bp.before_request
def _who() -> None:
    g.user = None
    name = session.get("user")
    if name:
        user = users.get(store(), name)
        if user is None or user.disabled:  # removed or disabled since: signed out now
            session.clear()
        else:
            g.user = user
            g.client = f"user:{user.name}"  # who the request log and the AuditEvents name
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        # Every form of these pages is a POST under the session cookie, so each must carry the
        # session's CSRF token (the API's routes are not checked: their bearer keys are never
        # sent by a browser on its own). The raw body is read first and cached: an upload stores
        # it as $convert does, and the form is then parsed from this copy.
        request.get_data()
        csrf.protect()


def signed_in(role: Role | None = None) -> Callable[[F], F]:
    """Guard a page: a visitor goes to sign-in (and back); a user without `role` is refused."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if g.user is None:
                return redirect(url_for("web.sign_in", next=request.full_path.rstrip("?")))
            if role is not None and g.user.role != role:
                raise RequestError("forbidden", f"signed in as '{g.user.name}' (role "
                                   f"{g.user.role}): this page needs the role {role}")
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


@bp.get("/static/<filename>")
def static(filename: str) -> Response:
    """The CSS and the script (a plain route, not a `<path:>` one: there are no folders)."""
    return send_from_directory(STATIC, filename, max_age=3600)


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a path on this site only (never another host)."""
    if target and target.startswith("/web") and not urlsplit(target).netloc:
        return target
    return url_for("web.reports")


def _page(problems: list[Problem], status: int) -> tuple[str, int]:
    return render_template("error.html", problems=problems, status=status), status


@bp.errorhandler(CSRFError)
def _csrf(err: CSRFError) -> tuple[str, int]:
    return _page([Problem(f"the form was refused: {err.description} Reload the page and send "
                          "it again.", code="security")], 400)


@bp.errorhandler(InputError)
def _input(err: InputError) -> tuple[str, int]:
    return _page(err.problems, http_status(err))


@bp.errorhandler(HTTPException)
def _http(err: HTTPException) -> tuple[str, int]:
    status = err.code or 500
    kind = BY_HTTP_STATUS.get(status, "malformed" if status < 500 else "internal")
    return _page([Problem(err.description or err.name, code=STATUS[kind][2])], status)


@bp.errorhandler(Exception)
def _internal(err: Exception) -> tuple[str, int]:
    log.exception("internal error", extra={"request_id": g.get("request_id")})
    return _page([Problem(f"internal error ({type(err).__name__}); request id "
                          f"{g.get('request_id')}", code="exception")], 500)

