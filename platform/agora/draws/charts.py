"""Charts of a draw's public record, drawn on the server as SVG (no script).

Each chart is an image with a title (``role="img"``, ``aria-labelledby``); the page puts the
same numbers in a table next to it, which is the chart's text alternative (RGAA 1.3). Every
bar carries its number as text, so the colours are never the only way to read it.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

#: Left column for the labels, the bars' width, one bar's height and the gap between groups.
LABEL_WIDTH = 190
BAR_WIDTH = 300
BAR_HEIGHT = 16
GROUP_GAP = 12
#: Bar colours (GOV.UK palette, each at least 3:1 against white, WCAG 1.4.11).
COLOURS = ("#505a5f", "#1d70b8", "#00703c", "#d4351c", "#4c2c92")


def _text(x: float, y: float, content: str, *, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="12" text-anchor="{anchor}" '
        f'font-family="system-ui, sans-serif" fill="#0b0c0c">{escape(content)}</text>'
    )


def grouped_bars(
    chart_id: str,
    title: str,
    series: Sequence[str],
    groups: Sequence[tuple[str, Sequence[tuple[float, str]]]],
    *,
    maximum: float,
) -> Markup:
    """Horizontal bars, one group per label and one bar per series in each group; each
    value is drawn to scale (``maximum`` fills the width) with its ``text`` at its end. A
    legend above names the series."""
    legend_height = 22 * len(series)
    group_height = len(series) * BAR_HEIGHT + GROUP_GAP
    height = legend_height + len(groups) * group_height + 4
    width = LABEL_WIDTH + BAR_WIDTH + 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{chart_id}-title" '
        f'viewBox="0 0 {width} {height}" width="100%" class="agora-chart">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]
    for index, name in enumerate(series):
        y = 4 + index * 22
        colour = COLOURS[index % len(COLOURS)]
        parts.append(f'<rect x="0" y="{y}" width="14" height="14" fill="{colour}"/>')
        parts.append(_text(20, y + 12, name))
    for number, (label, values) in enumerate(groups):
        top = legend_height + number * group_height
        middle = top + BAR_HEIGHT * len(series) / 2 + 4
        parts.append(_text(LABEL_WIDTH - 8, middle, label, anchor="end"))
        for index, (value, text) in enumerate(values):
            y = top + index * BAR_HEIGHT
            length = BAR_WIDTH * value / maximum if maximum else 0
            colour = COLOURS[index % len(COLOURS)]
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y + 1}" width="{length:.1f}" '
                f'height="{BAR_HEIGHT - 2}" fill="{colour}"/>'
            )
            parts.append(_text(LABEL_WIDTH + length + 4, y + BAR_HEIGHT - 4, text))
    parts.append("</svg>")
    # Every text put in the chart went through escape() above.
    return Markup("".join(parts))  # noqa: S704
