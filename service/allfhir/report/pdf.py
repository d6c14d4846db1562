"""HTML -> PDF with WeasyPrint: the PDF is the HTML page itself (one template, one content), laid
out on A4 with CSS paged media. WeasyPrint draws with Pango/HarfBuzz and the system's fonts
(Debian libpango-1.0-0, libpangoft2-1.0-0, fonts-dejavu-core; .ci/run installs them).

Offline by construction: the page holds no external reference, and the URL fetcher refuses any
that a Bundle's text might smuggle in, so rendering never opens a network connection.
"""

from __future__ import annotations

from typing import Any


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"the report fetches nothing: refused {url}")


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported on first use: loading Pango takes a moment

    pdf = HTML(string=html, url_fetcher=_no_fetch).write_pdf()
    assert pdf is not None  # write_pdf() without a target returns the bytes
    return pdf
