"""The classifier's score for every label it scored, as an inline SVG bar chart.

Made on the server as text (no JavaScript, no fonts or files fetched), so it shows the same in a
browser, in an EHR's HTML viewer and in the PDF. Readable in black and white: the classifier's label is a
solid black bar with its name in bold, marked "(call)" (or "(best label, no call)" when the
classifier gave no call); the other labels are white bars with a black
outline; a classifier threshold, where the Bundle carries one, is a dashed line with its value.
"""

from __future__ import annotations

from html import escape

from .view import ScoreSeries

ROW = 16  # px per bar
LABEL_WIDTH = 190
BAR_WIDTH = 360
VALUE_WIDTH = 80
TOP = 22  # the axis ticks above the bars
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"


def svg(series: ScoreSeries) -> str:
    """One horizontal bar chart, bars as the series orders them (highest first)."""
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    height = TOP + ROW * len(series.scores) + 8
    # every score the classifiers write lies in 0..1 (probabilities, vote and run shares)
    top = max([1.0, *(s.value for s in series.scores)])
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="score-chart" role="img" '
           f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'aria-label="{escape(series.title)}: {len(series.scores)} labels">',
           f'<title>{escape(series.title)}</title>',
           f'<g font-family="{FONT}" font-size="10">']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = LABEL_WIDTH + BAR_WIDTH * tick / top
        out.append(f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{height - 8}" '
                   'stroke="#999" stroke-width="0.5"/>')
        out.append(f'<text x="{x:.1f}" y="{TOP - 8}" text-anchor="middle">{tick:g}</text>')
    for i, score in enumerate(series.scores):
        y = TOP + i * ROW
        length = BAR_WIDTH * score.value / top
        weight = ' font-weight="bold"' if score.called else ""
        css = "bar call" if score.called else "bar"
        fill = "#000" if score.called else "#fff"
        out.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 11}" text-anchor="end"{weight}>'
                   f'{escape(score.label)}</text>')
        out.append(f'<rect class="{css}" data-label="{escape(score.label)}" data-value="{score.value:g}" '
                   f'x="{LABEL_WIDTH}" y="{y + 2}" width="{max(length, 0.5):.1f}" height="{ROW - 4}" '
                   f'fill="{fill}" stroke="#000" stroke-width="0.8"/>')
        mark = " (call)" if series.assigned else " (best label, no call)"
        value = f"{score.value:g}" + (mark if score.called else "")
        out.append(f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{y + 11}"{weight}>{escape(value)}</text>')
    if series.threshold is not None:
        x = LABEL_WIDTH + BAR_WIDTH * series.threshold / top
        # a white casing under the dashes keeps the line visible across the solid call bar
        out.append(f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{height - 8}" '
                   'stroke="#fff" stroke-width="3.2"/>')
        out.append(f'<line class="threshold" data-value="{series.threshold:g}" x1="{x:.1f}" '
                   f'y1="{TOP - 4}" x2="{x:.1f}" y2="{height - 8}" stroke="#000" stroke-width="1.2" '
                   'stroke-dasharray="4 3"/>')
        out.append(f'<text x="{x + 3:.1f}" y="{height - 1}" font-style="italic">'
                   f'threshold {series.threshold:g}</text>')
    out.append("</g></svg>")
    return "".join(out)
