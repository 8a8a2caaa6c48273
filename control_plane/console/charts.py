"""Bar charts drawn as inline SVG on the server: no chart library, nothing to load."""

from dataclasses import dataclass
from datetime import date

WIDTH = 600
HEIGHT = 160


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    count: int


@dataclass(frozen=True)
class Tick:
    """A day label under the chart, placed by percent of the width (HTML text does not stretch)."""

    label: str
    left_percent: float
    align: str


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    ticks: list[Tick]
    total: int
    peak: int
    width: int = WIDTH
    height: int = HEIGHT


def day_bar_chart(series: list[DayCount]) -> BarChart:
    """One bar per day, scaled to the busiest day; every seventh day labelled."""
    peak = max((point.count for point in series), default=0)
    plot_height = HEIGHT
    slot = WIDTH / max(len(series), 1)
    bars = []
    for index, point in enumerate(series):
        height = plot_height * point.count / peak if peak else 0
        bars.append(
            Bar(
                x=round(index * slot + slot * 0.1, 1),
                y=round(plot_height - height, 1),
                width=round(slot * 0.8, 1),
                height=round(height, 1),
                label=point.day.strftime("%b %d"),
                count=point.count,
            )
        )
    ticks = [
        Tick(
            label=bar.label,
            left_percent=round(100 * (bar.x + bar.width / 2) / WIDTH, 2),
            align="end" if index == len(bars) - 1 else "start" if index == 0 else "middle",
        )
        for index, bar in enumerate(bars)
        if (len(bars) - 1 - index) % 7 == 0
    ]
    return BarChart(bars=bars, ticks=ticks, total=sum(p.count for p in series), peak=peak)
