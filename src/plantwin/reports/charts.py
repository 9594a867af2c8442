"""Charts as inline SVG, built on the server: the report needs no JavaScript and WeasyPrint
draws SVG as vectors in the PDF.

Each chart is a small function from numbers to an SVG string; labels are escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#2f6db5", "#e08a1e", "#3c9a5f", "#b23a48", "#7a5ba8", "#6b7b8c")
WIDTH = 640
FONT = 'font-family="DejaVu Sans, sans-serif" font-size="11"'


@dataclass(frozen=True, slots=True, kw_only=True)
class Series:
    name: str
    values: Sequence[float | None]


def _svg(height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {FONT} {extra}>{escape(text)}</text>'
    )


def _empty(title: str) -> str:
    return _svg(40, [_text(10, 24, "no data in this period", extra='fill="#666"')], title)


def grouped_bars(
    title: str, groups: Sequence[str], series: Sequence[Series], *, percent: bool = True
) -> str:
    """Vertical bars, one group per label and one bar per series (e.g. A, E, Q, OEE)."""
    values = [v for s in series for v in s.values if v is not None]
    if not groups or not values:
        return _empty(title)
    top = max(1.0, *values) if percent else max(values) * 1.1 or 1.0
    left, right, plot_top, plot_h = 44, 10, 28, 180
    height = plot_top + plot_h + 40
    group_w = (WIDTH - left - right) / len(groups)
    bar_w = min(22.0, group_w * 0.8 / len(series))
    body: list[str] = []
    for i, s in enumerate(series):  # legend
        x = left + i * 110
        body.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{PALETTE[i % 6]}"/>')
        body.append(_text(x + 14, 15, s.name))
    for k in range(5):  # grid and axis labels
        frac = k / 4
        y = plot_top + plot_h * (1 - frac)
        label = f"{frac * top * 100:.0f} %" if percent else f"{frac * top:.3g}"
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - right}" y2="{y:.1f}" '
            'stroke="#ddd" stroke-width="0.5"/>'
        )
        body.append(_text(left - 4, y + 4, label, "end"))
    for g, name in enumerate(groups):
        x0 = left + g * group_w + (group_w - bar_w * len(series)) / 2
        for i, s in enumerate(series):
            v = s.values[g]
            if v is None:
                continue
            h = plot_h * max(0.0, v) / top
            body.append(
                f'<rect x="{x0 + i * bar_w:.1f}" y="{plot_top + plot_h - h:.1f}" '
                f'width="{bar_w * 0.9:.1f}" height="{h:.1f}" fill="{PALETTE[i % 6]}"/>'
            )
        body.append(_text(left + (g + 0.5) * group_w, plot_top + plot_h + 16, name, "middle"))
    return _svg(height, body, title)


def horizontal_bars(title: str, labels: Sequence[str], values: Sequence[float], unit: str) -> str:
    """One horizontal bar per label, longest first as given (downtime, alarm counts ...)."""
    if not labels or not any(v > 0 for v in values):
        return _empty(title)
    left, right, row = 220, 70, 20
    height = len(labels) * row + 10
    top = max(values)
    body: list[str] = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 5 + i * row
        w = (WIDTH - left - right) * max(0.0, value) / top
        body.append(_text(left - 6, y + 13, label[:38], "end"))
        body.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
            f'fill="{PALETTE[i % len(PALETTE)] if unit == "" else PALETTE[0]}"/>'
        )
        body.append(_text(left + w + 4, y + 13, f"{value:,.4g} {unit}".strip()))
    return _svg(height, body, title)


def waterfall(title: str, steps: Sequence[tuple[str, float]], unit: str) -> str:
    """A start total, then losses taken off it one by one, then what is left (OEE losses)."""
    if not steps or steps[0][1] <= 0:
        return _empty(title)
    left, plot_top, plot_h = 50, 12, 180
    height = plot_top + plot_h + 40
    total = steps[0][1]
    col = (WIDTH - left - 10) / (len(steps) + 1)
    body: list[str] = []
    level = total
    bars = [(steps[0][0], 0.0, total, PALETTE[0])]
    for name, loss in steps[1:]:
        bars.append((name, level - loss, loss, PALETTE[3]))
        level -= loss
    bars.append(("left: OEE time", 0.0, level, PALETTE[2]))
    for i, (name, base, size, color) in enumerate(bars):
        x = left + i * col + col * 0.15
        y = plot_top + plot_h * (1 - (base + size) / total)
        h = plot_h * size / total
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{col * 0.7:.1f}" height="{max(h, 0.5):.1f}" '
            f'fill="{color}"/>'
        )
        body.append(_text(x + col * 0.35, y - 3, f"{size:,.1f} {unit}", "middle"))
        body.append(_text(x + col * 0.35, plot_top + plot_h + 16, name, "middle"))
    return _svg(height, body, title)
