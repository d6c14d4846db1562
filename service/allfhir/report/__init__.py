"""A report Bundle -> the report people read: HTML and PDF (Jinja2 templates in templates/).

`render_html(bundle)` and `render_pdf(bundle)` take the Bundle alone (a converted, stored,
received or re-delivered one renders the same); the laboratory's name and address come from the
settings (ALLFHIR_LAB_NAME, ALLFHIR_LAB_ADDRESS). What is read from which resource: view.py;
the score chart: chart.py; the PDF engine: pdf.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .. import __version__
from ..settings import Settings
from . import chart, view

__all__ = ["Lab", "render_html", "render_pdf"]

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Lab:
    name: str
    address: str

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Lab:
        s = settings or Settings()
        return cls(s.lab_name, s.lab_address)


@cache
def _environment() -> Environment:
    # Autoescape everything: every string in a Bundle is data, never markup.
    return Environment(loader=PackageLoader("allfhir.report", "templates"),
                       autoescape=select_autoescape(["html", "j2"], default_for_string=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_html(bundle: Json, lab: Lab | None = None) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG; nothing fetched)."""
    from markupsafe import Markup

    r = view.read(bundle)
    charts = [(s, Markup(chart.svg(s))) for s in r.charts]  # escaped inside chart.svg
    return _environment().get_template("report.html.j2").render(
        r=r, lab=lab or Lab.from_settings(), charts=charts, tiers=view.TIERS, version=__version__)


def render_pdf(bundle: Json, lab: Lab | None = None) -> bytes:
    """The same page as PDF (WeasyPrint; see pdf.py)."""
    from .pdf import html_to_pdf

    return html_to_pdf(render_html(bundle, lab))
