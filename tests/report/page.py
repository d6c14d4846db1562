"""Reading a rendered report back: the elements tests assert on, found by class and attribute."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pypdf


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


# elements whose text is a word apart from the next one's (inline ones, <strong> <a>, are not)
BLOCKS = {"p", "div", "td", "th", "tr", "li", "h1", "h2", "h3", "figcaption", "text", "title"}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS:
            self.handle_data(" ")  # cells and blocks are separate words in the text read back
        el = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(el)
        if tag not in ("meta", "rect", "line", "br"):
            self._open.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCKS:
            self.handle_data(" ")
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        for el in self._open:
            el.text += data

    def by_class(self, name: str) -> list[Element]:
        return [e for e in self.elements if name in e.attrs.get("class", "").split()]

    def texts(self, name: str) -> list[str]:
        return [" ".join(e.text.split()) for e in self.by_class(name)]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def bars(page: Page) -> list[tuple[str, float, bool]]:
    """(label, value, is the call) of every bar of every chart, in drawing order."""
    return [(e.attrs["data-label"], float(e.attrs["data-value"]), "call" in e.attrs["class"].split())
            for e in page.by_class("bar")]


def pdf_text(data: bytes) -> str:
    """All the text of a PDF, whitespace collapsed (pypdf breaks lines where the layout does)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    # each page's footer ("page 2 of 3") comes out where a paragraph crosses the page break
    text = " ".join(re.sub(r"page \d+ of \d+\s*$", "", p.extract_text()) for p in reader.pages)
    return " ".join(text.split())


def words(text: str) -> str:
    return " ".join(text.split())
