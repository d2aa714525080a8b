"""Charts as data, and their server-rendered SVG.

Why SVG from the server rather than a JavaScript charting library: the console must work on a government intranet
with nothing fetched at run time, print cleanly, and be testable without a browser (the numbers are in the HTML).
A bar chart with labelled axes, values on the bars and a one-line explanation is all an officer needs here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from markupsafe import Markup, escape

PALETTE = ("#1d4ed8", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2")


@dataclass
class Series:
    name: str
    values: list[float | None]


@dataclass
class Table:
    """A table that goes with a chart (and is what the CSV/XLSX export contains)."""

    title: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class Chart:
    key: str
    title: str
    explanation: str
    kind: Literal["hbar", "vbar"] = "vbar"
    x_label: str = ""
    y_label: str = ""
    categories: list[str] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    unit: str = ""  # "%" or "条" …, shown after each value
    threshold: float | None = None
    threshold_label: str = ""
    tables: list[Table] = field(default_factory=list)
    available: bool = True  # False while the module that provides the data is not installed
    note: str = ""  # e.g. "含临时工作日历" or why the chart is empty

    @property
    def empty(self) -> bool:
        return not self.categories or all(v is None for s in self.series for v in s.values)


def _fmt(value: float, unit: str) -> str:
    text = f"{value:.1f}" if unit == "%" else (f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}")
    return f"{text}{unit}"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def _axis_max(chart: Chart) -> float:
    values = [v for s in chart.series for v in s.values if v is not None]
    top = max([*values, chart.threshold or 0, 0])
    return 100.0 if chart.unit == "%" else _nice_max(top)


def render_svg(chart: Chart) -> Markup:
    if chart.empty:
        return Markup('<p class="chart-empty">{}</p>').format(chart.note or "所选期间没有数据")
    return _hbar(chart) if chart.kind == "hbar" else _vbar(chart)


def _text(x: float, y: float, content: str, **attrs: Any) -> str:
    extra = " ".join(f'{k.replace("_", "-")}="{escape(str(v))}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" {extra}>{escape(content)}</text>'


def _legend(chart: Chart, x: float, y: float) -> list[str]:
    if len(chart.series) < 2:
        return []
    parts, offset = [], 0.0
    for i, series in enumerate(chart.series):
        parts.append(f'<rect x="{x + offset:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{PALETTE[i]}"/>')
        parts.append(_text(x + offset + 16, y, series.name, font_size=12))
        offset += 30 + 13 * len(series.name)
    return parts


def _vbar(chart: Chart) -> Markup:
    n, k = len(chart.categories), len(chart.series)
    left, right, top, bottom = 64, 16, 36, 56
    group = max(48.0, min(120.0, 640 / max(n, 1)))
    width = left + right + group * n
    height = 300
    plot_h = height - top - bottom
    top_value = _axis_max(chart)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width:.0f} {height}" '
        f'width="{width:.0f}" height="{height}" aria-label="{escape(chart.title)}">'
    ]
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(_text(left - 6, y + 4, _fmt(top_value * i / 4, chart.unit), text_anchor="end", font_size=11))
    bar_w = (group - 12) / max(k, 1)
    for c, category in enumerate(chart.categories):
        gx = left + group * c + 6
        for s, series in enumerate(chart.series):
            value = series.values[c]
            if value is None:
                continue
            h = plot_h * min(value, top_value) / top_value
            x = gx + bar_w * s
            y = top + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" fill="{PALETTE[s]}">'
                f"<title>{escape(category)} {escape(series.name)}：{escape(_fmt(value, chart.unit))}</title></rect>"
            )
            parts.append(_text(x + (bar_w - 2) / 2, y - 4, _fmt(value, chart.unit), text_anchor="middle", font_size=10))
        parts.append(_text(gx + (group - 12) / 2, top + plot_h + 16, category, text_anchor="middle", font_size=11))
    if chart.threshold is not None:
        y = top + plot_h - plot_h * min(chart.threshold, top_value) / top_value
        parts.append(
            f'<line x1="{left}" x2="{width - right:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dc2626" '
            'stroke-dasharray="6 4"/>'
        )
        parts.append(
            _text(width - right, y - 4, chart.threshold_label, text_anchor="end", font_size=11, fill="#dc2626")
        )
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#6b7280"/>')
    parts.append(
        f'<line x1="{left}" x2="{width - right:.1f}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#6b7280"/>'
    )
    parts.append(
        _text(left + (width - left - right) / 2, height - 12, chart.x_label, text_anchor="middle", font_size=12)
    )
    parts.append(
        f'<text x="14" y="{top + plot_h / 2:.1f}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">{escape(chart.y_label)}</text>'
    )
    parts += _legend(chart, left, 18)
    parts.append("</svg>")
    return Markup("".join(parts))


def _hbar(chart: Chart) -> Markup:
    n, k = len(chart.categories), len(chart.series)
    label_w = min(240, 14 + 13 * max(len(c) for c in chart.categories))
    left, right, top, bottom = label_w, 70, 36, 44
    row = 14 + 16 * k
    width = 760
    height = top + bottom + row * n
    plot_w = width - left - right
    top_value = _axis_max(chart)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="{escape(chart.title)}">'
    ]
    for i in range(5):
        x = left + plot_w * i / 4
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - bottom}" stroke="#e5e7eb"/>')
        parts.append(
            _text(x, height - bottom + 14, _fmt(top_value * i / 4, chart.unit), text_anchor="middle", font_size=11)
        )
    for c, category in enumerate(chart.categories):
        gy = top + row * c + 7
        parts.append(_text(left - 8, gy + 8 * k + 4, category, text_anchor="end", font_size=12))
        for s, series in enumerate(chart.series):
            value = series.values[c]
            if value is None:
                continue
            w = plot_w * min(value, top_value) / top_value
            y = gy + 16 * s
            parts.append(
                f'<rect x="{left}" y="{y:.1f}" width="{max(w, 1):.1f}" height="14" fill="{PALETTE[s]}">'
                f"<title>{escape(category)} {escape(series.name)}：{escape(_fmt(value, chart.unit))}</title></rect>"
            )
            parts.append(_text(left + w + 4, y + 11, _fmt(value, chart.unit), font_size=11))
    if chart.threshold is not None:
        x = left + plot_w * min(chart.threshold, top_value) / top_value
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 6}" y2="{height - bottom}" stroke="#dc2626" '
            'stroke-dasharray="6 4"/>'
        )
        parts.append(_text(x, top - 10, chart.threshold_label, text_anchor="middle", font_size=11, fill="#dc2626"))
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{height - bottom}" stroke="#6b7280"/>')
    parts.append(_text(left + plot_w / 2, height - 8, chart.x_label, text_anchor="middle", font_size=12))
    parts.append(_text(8, 18, chart.y_label, font_size=12))
    parts += _legend(chart, left + 140, 18)
    parts.append("</svg>")
    return Markup("".join(parts))
