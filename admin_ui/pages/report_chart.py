"""The report page's charts as plain geometry for a server-drawn SVG (the CSP allows no script)."""
from __future__ import annotations

from dataclasses import dataclass, field

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 36, 12, 40  # room for the axis labels
X_TICKS = 6
# Tick spacings in seconds that read well on a time axis.
NICE_TICKS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800,
              21600, 43200, 86400, 172800, 604800)


@dataclass
class Line:
    label: str
    css: str  # classes from report.css: colour by channel, dash by kind
    cumulative: list[int]
    total: int
    points: str = ""


@dataclass
class Chart:
    title: str
    description: str
    y_label: str
    lines: list[Line]
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    rows: list[tuple[str, list[int]]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def elapsed(seconds: float) -> str:
    """A time after sending as people say it: 45 s, 2.5 min, 3 h, 2 d."""
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    if seconds < 172800:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86400:.3g} d"


def cumulative(counts: list[int]) -> list[int]:
    out, running = [], 0
    for n in counts:
        running += n
        out.append(running)
    return out


def build(title: str, description: str, step: int, buckets: int, lines: list[Line],
          percent: bool) -> Chart:
    """Place `lines` (cumulative counts per bucket) on a time axis of `buckets` × `step` s.

    `percent`: each line as a share of its own total (channels of different sizes compare);
    else the count, on an axis up to the largest.
    """
    chart = Chart(title, description, "%" if percent else "#", lines)
    span = max(buckets, 1) * step
    top_value = 100 if percent else max([max(line.cumulative, default=0) for line in lines] + [1])

    def x(seconds: float) -> float:
        return round(chart.left + (chart.right - chart.left) * seconds / span, 1)

    def y(value: float) -> float:
        return round(chart.bottom - (chart.bottom - chart.top) * value / top_value, 1)

    for line in lines:
        values = [n * 100 / line.total if percent and line.total else n for n in line.cumulative]
        coords = [(x(0), y(0))] + [(x((i + 1) * step), y(v)) for i, v in enumerate(values)]
        line.points = " ".join(f"{a},{b}" for a, b in coords)
    tick = next((t for t in NICE_TICKS if t % step == 0 and span <= t * X_TICKS),
                step * max(1, -(-buckets // X_TICKS)))
    chart.x_ticks = [(x(t), elapsed(t)) for t in range(0, span + 1, tick)]
    y_step = top_value / 4
    chart.y_ticks = [(y(i * y_step), f"{i * y_step:g}{' %' if percent else ''}")
                     for i in range(5)]
    chart.rows = [(elapsed((i + 1) * step), [line.cumulative[i] for line in lines])
                  for i in range(buckets)]
    return chart


def over_time_chart(over_time: dict, names: dict[str, str], words: dict[str, str]) -> Chart | None:
    """Hand-over (solid) and delivery (dashed) per channel, as shares of the channel's messages."""
    if not over_time["buckets"]:
        return None
    lines = []
    for kind in ("handed_over", "delivered"):
        for channel in sorted(over_time["meant"]):
            # A channel with none (email rarely reports delivery) shows as a flat line at 0.
            counts = over_time["series"][kind].get(channel) or [0] * over_time["buckets"]
            lines.append(Line(f"{names.get(channel, channel)}: {words[kind]}",
                              f"line line-{channel} line-{kind}", cumulative(counts),
                              over_time["meant"].get(channel, 0)))
    return build(words["title"], words["description"], over_time["bucket_seconds"],
                 over_time["buckets"], lines, percent=True)


def acknowledgement_chart(acks: dict, words: dict[str, str]) -> Chart | None:
    """Acknowledgements so far, as a count."""
    if not acks["buckets"]:
        return None
    line = Line(words["line"], "line line-acknowledged", cumulative(acks["counts"]), acks["count"])
    return build(words["title"], words["description"], acks["bucket_seconds"], acks["buckets"],
                 [line], percent=False)
