"""The wheel carries the pages' templates, stylesheet and script, and the users migration."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.conftest import REPO
from tests.test_packaging import wheel  # the built wheel (module-scoped fixture)

WEB = REPO / "service" / "allfhir" / "web"
__all__ = ["wheel"]


def test_the_wheel_ships_every_template_and_static_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"allfhir/web/{p.relative_to(WEB).as_posix()}"
               for folder in ("templates", "static") for p in (WEB / folder).iterdir()}
    assert shipped == {"allfhir/web/templates/base.html", "allfhir/web/templates/cohort.html",
                       "allfhir/web/templates/error.html", "allfhir/web/templates/report.html",
                       "allfhir/web/templates/reports.html", "allfhir/web/templates/sign_in.html",
                       "allfhir/web/templates/upload.html", "allfhir/web/static/web.css",
                       "allfhir/web/static/upload.js"}
    assert shipped <= names
    assert {"allfhir/store/migrations/versions/0003_users.py", "allfhir/store/users.py",
            "allfhir/user_cli.py"} <= names
