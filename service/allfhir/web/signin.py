"""Sign in and sign out (a session cookie, signed; the CSRF token rides in the same session)."""

from __future__ import annotations

from flask import Response, g, redirect, render_template, request, session, url_for

from ..store import users
from .blueprint import bp, safe_next, store


@bp.get("/")
def home() -> Response:
    return redirect(url_for("web.reports"))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | tuple[str, int] | str:
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.user is not None:
            return redirect(target)
        return render_template("sign_in.html", next=target, name="", failed=False)
    name = request.form.get("name", "").strip()
    user = users.authenticate(store(), name, request.form.get("password", ""))
    if user is None:
        # one message for an unknown name and a wrong password: it does not tell which names exist
        return render_template("sign_in.html", next=target, name=name, failed=True), 401
    session.clear()  # a fresh session (and CSRF token) for the signed-in user
    session.permanent = True
    session["user"] = user.name
    return redirect(target)


@bp.post("/sign-out")
def sign_out() -> Response:
    session.clear()
    return redirect(url_for("web.sign_in"))
