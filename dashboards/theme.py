"""The house style: one Plotly template, a colour-blind-safe palette and the number formats
every page and report uses. Pure: no Dash, no DuckDB."""

from datetime import date
from decimal import Decimal

import plotly.graph_objects as go
import plotly.io as pio

# Okabe & Ito (2008), "Color Universal Design": distinguishable with the common forms of
# colour blindness. Order matters: the first colours go to the most common series.
PALETTE = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
]
INK = "#1f2933"
MUTED = "#6b7280"
GRID = "#e5e7eb"
GOOD = "#009E73"
BAD = "#D55E00"
# Sequential scale for heat maps (light to dark blue), readable without hue.
SEQUENTIAL = ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"]
FONT = "Inter, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

# one colour per visit family, on the Visit mix page and in the owner report
FAMILY_COLOURS = dict(
    zip(
        [
            "Preventive",
            "Problem visit (E/M)",
            "Medicare wellness",
            "Chronic care",
            "Transitional care",
            "Other",
        ],
        PALETTE,
        strict=False,
    )
)

TEMPLATE_NAME = "rcm"


def _template() -> go.layout.Template:
    return go.layout.Template(
        layout=go.Layout(
            font={"family": FONT, "size": 13, "color": INK},
            colorway=PALETTE,
            paper_bgcolor="white",
            plot_bgcolor="white",
            margin={"l": 60, "r": 20, "t": 50, "b": 50},
            title={"x": 0, "xanchor": "left", "font": {"size": 15}},
            hoverlabel={"font": {"family": FONT}},
            legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "font": {"size": 11}},
            xaxis={"gridcolor": GRID, "linecolor": GRID, "zeroline": False, "automargin": True},
            yaxis={"gridcolor": GRID, "linecolor": GRID, "zeroline": False, "automargin": True},
            colorscale={"sequential": SEQUENTIAL},
        )
    )


pio.templates[TEMPLATE_NAME] = _template()
# Every figure starts in the house template. As the default it is taken as it is; naming
# it in each figure's update_layout copied and validated the whole template every time
# (about 5 ms a chart, a tenth of the dashboards' callback CPU under benchmarks/bench_load.py).
pio.templates.default = TEMPLATE_NAME


def money(value: Decimal | float | int | None, cents: bool = False) -> str:
    """$1,234,567 (or $1,234,567.89 with cents); negative as -$1,234."""
    if value is None:
        return "–"
    amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    sign = "-" if amount < 0 else ""
    text = f"{abs(amount):,.2f}" if cents else f"{abs(amount):,.0f}"
    return f"{sign}${text}"


def percent(value: Decimal | float | None, digits: int = 1) -> str:
    """A rate stored as a fraction (0.953) shown as 95.3 %."""
    if value is None:
        return "–"
    return f"{float(value) * 100:.{digits}f} %"


def days(value: Decimal | float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{float(value):.{digits}f} days"


def count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def month_label(value: date | None) -> str:
    return "–" if value is None else value.strftime("%b %Y")


FORMATS = {"rate": percent, "days": days, "money": money, "count": count}


def format_value(value: object, unit: str) -> str:
    return FORMATS[unit](value)  # type: ignore[operator]
