"""Pure figure builders: a DataFrame in, a Plotly figure out, in the house template.
No Dash, no DuckDB; the same builders can draw the owner report's static charts."""

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl

from dashboards.theme import BAD, GOOD, GRID, INK, MUTED, PALETTE, SEQUENTIAL

# axis tick and hover formats per unit (d3-format)
AXIS_FORMAT = {"rate": ".0%", "money": "$,.0f", "days": ",.0f", "count": ",d"}
HOVER_FORMAT = {"rate": ".1%", "money": "$,.2f", "days": ",.1f", "count": ",d"}
UNIT_TITLE = {"rate": "", "money": "US$", "days": "days", "count": ""}


def _floats(df: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Decimals as floats for drawing only (the exact values stay in the warehouse)."""
    return df.with_columns(
        [pl.col(c).cast(pl.Float64) for c in columns if df.schema[c].is_numeric()]
    )


def _x_title(column: str) -> str:
    """A readable axis title for the usual month columns (posted_month -> 'posting month')."""
    return {
        "month_start": "month",
        "denial_month": "month denied",
        "posted_month": "month posted",
        "service_month": "month of service",
    }.get(column, "")


def _layout(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
    """Title and height; the house template is every figure's default (theme.py)."""
    fig.update_layout(title=title, height=height)
    return fig


def empty_figure(message: str, title: str = "", height: int = 360) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        font={"color": MUTED, "size": 14},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, height)


def sparkline(values: Sequence[float | None], labels: Sequence[str]) -> dict:
    """A bare trend line for a KPI card, as a plain figure dict: eight of these are drawn per
    page load, and a dict skips Plotly's object validation (about 20 ms a figure)."""
    return {
        "data": [
            {
                "type": "scatter",
                "x": list(labels),
                "y": [None if v is None else float(v) for v in values],
                "mode": "lines",
                "line": {"color": PALETTE[0], "width": 2},
                "hoverinfo": "skip",
            }
        ],
        "layout": {
            "height": 48,
            "margin": {"l": 0, "r": 0, "t": 2, "b": 2},
            "showlegend": False,
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
        },
    }


def line_chart(
    df: pl.DataFrame,
    x: str,
    y: str,
    title: str,
    unit: str,
    color: str | None = None,
    target: float | None = None,
    x_title: str = "",
    y_title: str | None = None,
    colors: dict[str, str] | None = None,
) -> go.Figure:
    if df.is_empty():
        return empty_figure("No data for these filters", title)
    df = _floats(df, [y])
    fig = go.Figure()
    groups = df.partition_by(color, maintain_order=True) if color else [df]
    for i, part in enumerate(groups):
        name = str(part[color][0]) if color else title
        fig.add_trace(
            go.Scatter(
                x=part[x].to_list(),
                y=part[y].to_list(),
                name=name,
                mode="lines+markers",
                line={"color": (colors or {}).get(name, PALETTE[i % len(PALETTE)]), "width": 2},
                marker={"size": 5},
                hovertemplate=f"%{{x|%b %Y}}<br>{name}: %{{y:{HOVER_FORMAT[unit]}}}<extra></extra>",
            )
        )
    if target is not None:
        fig.add_hline(
            y=float(target),
            line={"color": MUTED, "dash": "dash", "width": 1},
            annotation_text="target",
            annotation_position="top left",
        )
    fig.update_yaxes(tickformat=AXIS_FORMAT[unit], title=y_title or UNIT_TITLE[unit])
    fig.update_xaxes(title=x_title or _x_title(x))
    fig.update_layout(showlegend=bool(color))
    return _layout(fig, title)


def bar_chart(
    df: pl.DataFrame,
    x: str,
    y: str,
    title: str,
    unit: str,
    color: str | None = None,
    barmode: str = "stack",
    horizontal: bool = False,
    normalise: bool = False,
    x_title: str = "",
    y_title: str | None = None,
    colors: dict[str, str] | None = None,
    height: int = 360,
) -> go.Figure:
    """Bars (stacked by ``color``); ``normalise`` draws each bar as 100 % of its total,
    with the counts kept in the hover."""
    if df.is_empty():
        return empty_figure("No data for these filters", title, height)
    df = _floats(df, [y])
    fig = go.Figure()
    groups = df.partition_by(color, maintain_order=True) if color else [df]
    for i, part in enumerate(groups):
        name = str(part[color][0]) if color else y
        fill = (colors or {}).get(name, PALETTE[i % len(PALETTE)])
        cats, vals = part[x].to_list(), part[y].to_list()
        fig.add_trace(
            go.Bar(
                x=vals if horizontal else cats,
                y=cats if horizontal else vals,
                name=name,
                orientation="h" if horizontal else "v",
                marker_color=fill,
                hovertemplate=(
                    f"%{{{'y' if horizontal else 'x'}}}<br>{name}: "
                    f"%{{{'x' if horizontal else 'y'}:{HOVER_FORMAT[unit]}}}<extra></extra>"
                ),
            )
        )
    fig.update_layout(
        barmode=barmode, showlegend=bool(color), barnorm="percent" if normalise else None
    )
    value_axis = fig.update_xaxes if horizontal else fig.update_yaxes
    value_axis(
        tickformat=",.0f" if normalise else AXIS_FORMAT[unit],
        ticksuffix=" %" if normalise else "",
        title=(
            "share (%)" if normalise else (y_title if y_title is not None else UNIT_TITLE[unit])
        ),
    )
    (fig.update_yaxes if horizontal else fig.update_xaxes)(title=x_title or _x_title(x))
    if horizontal:
        fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, height)


def pareto(
    df: pl.DataFrame, category: str, value: str, title: str, unit: str, key: str | None = None
) -> go.Figure:
    """Bars sorted high to low with the cumulative share as a line (right axis); each bar
    carries ``key`` (e.g. the root-cause code) as customdata for click-through."""
    if df.is_empty():
        return empty_figure("No data for these filters", title)
    df = _floats(df, [value]).sort(value, descending=True)
    total = df[value].sum() or 1.0
    cumulative = (df[value].cum_sum() / total).to_list()
    cats = df[category].to_list()
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=cats,
            y=df[value].to_list(),
            name=title,
            marker_color=PALETTE[0],
            customdata=df[key].to_list() if key else cats,
            hovertemplate=f"%{{x}}<br>%{{y:{HOVER_FORMAT[unit]}}}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=cats,
            y=cumulative,
            name="cumulative share",
            yaxis="y2",
            mode="lines+markers",
            line={"color": PALETTE[1]},
            hovertemplate="cumulative %{y:.1%}<extra></extra>",
        )
    )
    fig.update_layout(
        yaxis={"tickformat": AXIS_FORMAT[unit], "title": UNIT_TITLE[unit]},
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "range": [0, 1.05],
            # fixed: left to itself the axis lines its ticks up with the bars' (102 %, 91 %...)
            "tickvals": [0, 0.2, 0.4, 0.6, 0.8, 1.0],
            "tickformat": ".0%",
            "showgrid": False,
            "title": "cumulative",
        },
        showlegend=False,
        clickmode="event",
    )
    return _layout(fig, title)


def heatmap(
    df: pl.DataFrame, x: str, y: str, z: str, title: str, unit: str, height: int = 420
) -> go.Figure:
    if df.is_empty():
        return empty_figure("No data for these filters", title, height)
    df = _floats(df, [z])
    xs = sorted(set(df[x].to_list()))
    ys = sorted(set(df[y].to_list()))
    cells = {(r[x], r[y]): r[z] for r in df.iter_rows(named=True)}
    matrix = [[cells.get((cx, cy)) for cx in xs] for cy in ys]
    fig = go.Figure(
        go.Heatmap(
            x=xs,
            y=ys,
            z=matrix,
            colorscale=SEQUENTIAL,
            xgap=1,
            ygap=1,
            colorbar={"tickformat": AXIS_FORMAT[unit]},
            hovertemplate=f"%{{y}} · %{{x}}<br>%{{z:{HOVER_FORMAT[unit]}}}<extra></extra>",
        )
    )
    fig.update_layout(plot_bgcolor=GRID)
    fig.update_xaxes(tickangle=-30)
    return _layout(fig, title, height)


def em_curve(df: pl.DataFrame, title: str) -> go.Figure:
    """E/M level curves: one line per segment over levels, the benchmark dashed. Columns:
    segment_name, patient_status, em_level, visit_share, benchmark_share."""
    if df.is_empty():
        return empty_figure("No E/M visits for these filters", title, 380)
    df = _floats(df, ["visit_share", "benchmark_share"])
    fig = go.Figure()
    statuses = [s for s in ("established", "new") if s in set(df["patient_status"].to_list())]
    # the first segment (the whole selection) in ink and thick; each provider keeps one colour
    names = list(dict.fromkeys(df["segment_name"].to_list()))
    lines = [c for c in PALETTE if c != "#000000"]
    colours = {n: INK if i == 0 else lines[(i - 1) % len(lines)] for i, n in enumerate(names)}
    for col, status in enumerate(statuses, start=1):
        part = df.filter(pl.col("patient_status") == status)
        axis = "" if col == 1 else str(col)
        for seg in part.partition_by("segment_name", maintain_order=True):
            name = str(seg["segment_name"][0])
            first = name == names[0]
            fig.add_trace(
                go.Scatter(
                    x=seg["em_level"].to_list(),
                    y=seg["visit_share"].to_list(),
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    mode="lines+markers",
                    line={"color": colours[name], "width": 4 if first else 2},
                    xaxis=f"x{axis}",
                    yaxis=f"y{axis}",
                    hovertemplate=f"{name} · {status} level %{{x}}: %{{y:.1%}}<extra></extra>",
                )
            )
        bench = part.unique(["em_level"]).sort("em_level")
        fig.add_trace(
            go.Scatter(
                x=bench["em_level"].to_list(),
                y=bench["benchmark_share"].to_list(),
                name="benchmark",
                legendgroup="benchmark",
                showlegend=col == 1,
                mode="lines",
                line={"color": MUTED, "dash": "dash", "width": 3},
                xaxis=f"x{axis}",
                yaxis=f"y{axis}",
                hovertemplate=f"benchmark · {status} level %{{x}}: %{{y:.1%}}<extra></extra>",
            )
        )
    n = len(statuses)
    for col, status in enumerate(statuses, start=1):
        axis = "" if col == 1 else str(col)
        lo, hi = (col - 1) / n + 0.04, col / n - 0.04
        fig.layout[f"xaxis{axis}"] = {
            "domain": [lo, hi],
            "title": f"{status} patients: E/M level",
            "dtick": 1,
            "anchor": f"y{axis}",
            "gridcolor": GRID,
        }
        fig.layout[f"yaxis{axis}"] = {
            "tickformat": ".0%",
            "anchor": f"x{axis}",
            "gridcolor": GRID,
            "title": "share of E/M visits" if col == 1 else "",
        }
    return _layout(fig, title, 380)


def delta_colour(change: float | None, direction: str) -> str:
    """Green when the change goes the good way, vermillion when it goes the bad way."""
    if change is None or change == 0:
        return MUTED
    good = change > 0 if direction == "higher" else change < 0
    return GOOD if good else BAD
