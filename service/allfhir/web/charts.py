"""Charts as inline SVG made on the server: no JavaScript, no network, readable in black and white
(every bar carries its number as text; the highlighted bar differs by pattern, not only colour).

Each chart is an `<svg role="img">` with a `<title>` and a `<desc>` that says what it shows, so a
screen reader reads the numbers a sighted reader sees.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

ROW = 22  # px per bar of a horizontal chart
CHAR = 6.6  # px per character of a 12px label (a wide sans-serif), to leave the labels room
WIDTH = 720


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    text: str  # what is written beside the bar (the number, formatted)
    marked: bool = False  # drawn hatched (the unclassified share, a highlighted call)


_DEFS = ('<defs><pattern id="{id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
         'patternTransform="rotate(45)"><rect width="6" height="6" class="bar-marked-bg"/>'
         '<line x1="0" y1="0" x2="0" y2="6" class="bar-marked-line"/></pattern></defs>')


def _open(chart_id: str, title: str, desc: str, width: int, height: int) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}">'
            f'<title id="{chart_id}-title">{escape(title)}</title>'
            f'<desc id="{chart_id}-desc">{escape(desc)}</desc>' + _DEFS.format(id=chart_id))


def _fill(chart_id: str, bar: Bar) -> str:
    return f'url(#{chart_id}-hatch)' if bar.marked else "currentColor"


def horizontal(chart_id: str, title: str, bars: list[Bar]) -> Markup:
    """One labelled bar per row, longest = full width."""
    top = max((b.value for b in bars), default=0) or 1
    label = int(min(max((len(b.label) for b in bars), default=10) * CHAR + 12, WIDTH / 2))
    span = WIDTH - label - 80
    height = ROW * len(bars) + 8
    desc = "; ".join(f"{b.label}: {b.text}" for b in bars) or "no data"
    parts = [_open(chart_id, title, desc, WIDTH, max(height, ROW))]
    for i, bar in enumerate(bars):
        y = 4 + i * ROW
        w = round(span * bar.value / top, 1)
        parts.append(
            f'<g class="bar{" bar-marked" if bar.marked else ""}">'
            f'<text x="{label - 6}" y="{y + 14}" text-anchor="end" class="label">{escape(bar.label)}</text>'
            f'<rect x="{label}" y="{y + 2}" width="{w}" height="{ROW - 6}" fill="{_fill(chart_id, bar)}" '
            f'stroke="currentColor"/>'
            f'<text x="{label + w + 6}" y="{y + 14}" class="value">{escape(bar.text)}</text></g>')
    if not bars:
        parts.append('<text x="8" y="15" class="label">no data</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(chart_id: str, title: str, bars: list[Bar], axis: str) -> Markup:
    """Vertical columns over labelled slots (a histogram, or counts per month)."""
    top = max((b.value for b in bars), default=0) or 1
    plot_h, base_y, left = 160, 190, 40
    slot = max(min((WIDTH - left - 10) / max(len(bars), 1), 80), 24)
    width = int(left + slot * len(bars) + 10)
    desc = "; ".join(f"{b.label}: {b.text}" for b in bars) or "no data"
    parts = [_open(chart_id, title, desc, max(width, 200), 240),
             f'<line x1="{left}" y1="{base_y}" x2="{max(width, 200) - 10}" y2="{base_y}" '
             f'stroke="currentColor"/>',
             f'<text x="{left}" y="236" class="label">{escape(axis)}</text>']
    for i, bar in enumerate(bars):
        x = left + i * slot
        h = round(plot_h * bar.value / top, 1)
        parts.append(
            f'<g class="bar{" bar-marked" if bar.marked else ""}">'
            f'<rect x="{x + 3:.1f}" y="{base_y - h}" width="{slot - 6:.1f}" height="{h}" '
            f'fill="{_fill(chart_id, bar)}" stroke="currentColor"/>'
            f'<text x="{x + slot / 2:.1f}" y="{base_y - h - 4}" text-anchor="middle" class="value">'
            f'{escape(bar.text)}</text>'
            f'<text x="{x + slot / 2:.1f}" y="{base_y + 16}" text-anchor="middle" class="label">'
            f'{escape(bar.label)}</text></g>')
    if not bars:
        parts.append(f'<text x="{left + 8}" y="100" class="label">no data</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
