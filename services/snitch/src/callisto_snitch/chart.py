"""A report as a server-rendered SVG chart: calls offered and answered per bucket as bars, the service
level as a line, and the compared period's service level dashed beside it. No script, no library:
the SVG is readable in any browser, mail client or document."""

from __future__ import annotations

from html import escape
from typing import Any

WIDTH, HEIGHT = 900, 360
LEFT, RIGHT, TOP, BOTTOM = 56, 56, 36, 56


def _points(values: list[float | None], x_of: Any, y_of: Any) -> str:
    return " ".join(f"{x_of(i):.1f},{y_of(v):.1f}" for i, v in enumerate(values) if v is not None)


def svg(report: dict[str, Any]) -> str:
    rows: list[dict[str, Any]] = report["rows"]
    compared: list[dict[str, Any]] = report.get("compare_rows") or []
    n = max(1, len(rows))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    peak = float(max([1] + [max(r.get("offered") or 0, r.get("answered") or 0) for r in rows]))
    slot = plot_w / n
    bar = max(1.0, slot * 0.38)

    def x_of(i: int) -> float:
        return LEFT + slot * (i + 0.5)

    def y_calls(v: float) -> float:
        return TOP + plot_h - plot_h * v / peak

    def y_share(v: float) -> float:
        return TOP + plot_h - plot_h * v

    title = f"{report['kind']} {report['id']}: calls and service level by {report['interval']}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" font-family="sans-serif" font-size="12" role="img" aria-label="{escape(title)}">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        f'<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#333"/>',
        f'<text x="{LEFT - 8}" y="{TOP + 4}" text-anchor="end">{peak:g}</text>',
        f'<text x="{LEFT + plot_w + 8}" y="{TOP + 4}">100 %</text>',
        f'<text x="{LEFT + plot_w + 8}" y="{TOP + plot_h}">0 %</text>',
    ]
    for i, row in enumerate(rows):
        offered, answered = row.get("offered") or 0, row.get("answered") or 0
        parts.append(
            f'<rect class="offered" x="{x_of(i) - bar:.1f}" y="{y_calls(offered):.1f}" width="{bar:.1f}" '
            f'height="{TOP + plot_h - y_calls(offered):.1f}" fill="#9ecae1">'
            f"<title>offered {offered}</title></rect>"
        )
        parts.append(
            f'<rect class="answered" x="{x_of(i):.1f}" y="{y_calls(answered):.1f}" width="{bar:.1f}" '
            f'height="{TOP + plot_h - y_calls(answered):.1f}" fill="#3182bd">'
            f"<title>answered {answered}</title></rect>"
        )
    step = max(1, n // 8)
    for i in range(0, len(rows), step):
        label = str(rows[i]["bucket"]).replace("T", " ")[
            : 16 if report["interval"] in ("15min", "hour") else 10
        ]
        parts.append(
            f'<text x="{x_of(i):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">{escape(label)}</text>'
        )
    current = [r.get("service_level") for r in rows]
    parts.append(
        f'<polyline class="service-level" fill="none" stroke="#e6550d" stroke-width="2.5" '
        f'points="{_points(current, x_of, y_share)}"/>'
    )
    parts.extend(
        f'<circle class="service-level-point" cx="{x_of(i):.1f}" cy="{y_share(v):.1f}" r="4" fill="#e6550d">'
        f"<title>service level {v:.0%}</title></circle>"
        for i, v in enumerate(current)
        if v is not None
    )
    if compared:
        past = [r.get("service_level") for r in compared[: len(rows)]]
        parts.append(
            f'<polyline class="service-level-compared" fill="none" stroke="#fdae6b" stroke-width="2" '
            f'stroke-dasharray="6 4" points="{_points(past, x_of, y_share)}"/>'
        )
    legend = [("#9ecae1", "offered"), ("#3182bd", "answered"), ("#e6550d", "service level")]
    if compared:
        legend.append(("#fdae6b", f"service level, {report['compare']} before"))
    for i, (colour, text) in enumerate(legend):
        x = LEFT + i * 190
        parts.append(f'<rect x="{x}" y="{HEIGHT - 22}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 18}" y="{HEIGHT - 12}">{escape(text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
