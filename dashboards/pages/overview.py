"""Overview: the practice manager's morning page. Headline KPIs against their targets for the
latest month of the range, with the change from the month before and a sparkline; charges
against collections over the range."""

import dash
import polars as pl
from dash import Input, Output, callback, dcc, html

from dashboards import data, figures
from dashboards.components import (
    GRAPH_CONFIG,
    figure_callback,
    graph,
    kpi_card,
    notice,
    page_header,
)
from dashboards.filters import Filters, kpi_segment
from dashboards.theme import format_value, month_label

HEADLINE = data.HEADLINE_KPIS
# what a reader must know to read a card right
NOTES = {
    "net_collection_rate": "services of that month: recent months are still being paid",
    "days_in_ar": "A/R at month end ÷ average daily charges, last 90 days",
}


def layout(**query: str) -> html.Div:
    return html.Div(
        [
            page_header(
                "Overview",
                "Headline KPIs for the last month of the range, against target; "
                "charges and collections over the range.",
            ),
            dcc.Store(id="overview-query", data=query),
            html.Div(id="overview-notice"),
            dcc.Loading(html.Div(id="overview-kpis", className="kpis"), type="dot"),
            html.Div([graph("overview-charges-collections", 380)], className="grid-2"),
        ]
    )


dash.register_page(
    __name__, path="/", name="Overview", title="Overview · rcm-warehouse", order=0, layout=layout
)


def _change_text(current: object, previous: object, unit: str) -> tuple[str, float | None]:
    if current is None or previous is None:
        return "no previous month", None
    change = float(current) - float(previous)  # type: ignore[arg-type]
    if unit == "rate":
        return f"{change * 100:+.1f} pts vs previous month", change
    return f"{change:+.1f} days vs previous month", change


def _status(value: object, target: dict[str, object] | None) -> str:
    if not target or target.get("target") is None or value is None:
        return "no target"
    goal = float(target["target"])  # type: ignore[arg-type]
    met = float(value) >= goal if target["direction"] == "higher" else float(value) <= goal  # type: ignore[arg-type]
    return "met" if met else "missed"


def kpi_cards(months: pl.DataFrame, targets: dict[str, dict[str, object]], month_to) -> list:
    """One card per headline KPI from the mart rows of the range plus the month before."""
    current = months.filter(pl.col("month_start") == month_to)
    before = months.filter(pl.col("month_start") == data.previous_month(month_to))
    in_range = months.filter(pl.col("month_start") <= month_to)
    cards = []
    for kpi in HEADLINE:
        target = targets.get(kpi, {})
        unit = str(target.get("unit", "rate"))
        value = current[kpi][0] if current.height else None
        previous = before[kpi][0] if before.height else None
        change_text, change = _change_text(value, previous, unit)
        series = in_range[kpi].to_list()
        spark = dcc.Graph(
            figure=figures.sparkline(series, [month_label(m) for m in in_range["month_start"]]),
            config={**GRAPH_CONFIG, "staticPlot": True},
            style={"height": "48px"},
        )
        cards.append(
            kpi_card(
                f"overview-kpi-{kpi.replace('_', '-')}",
                str(target.get("label", kpi)),
                format_value(value, unit),
                change_text,
                figures.delta_colour(change, str(target.get("direction", "higher"))),
                str(target.get("target_text") or "none"),
                _status(value, target),
                spark if len(series) > 1 else None,
                NOTES.get(kpi, ""),
            )
        )
    return cards


@callback(
    Output("overview-notice", "children"),
    Output("overview-kpis", "children"),
    Input("overview-query", "data"),
)
def update_cards(query: dict[str, str] | None):
    try:
        filters = data.resolved(Filters.from_query(query or {}))
        segment = kpi_segment(filters)
        wide = Filters(data.previous_month(filters.month_from), filters.month_to)  # type: ignore[arg-type]
        cards = kpi_cards(data.kpi_months(segment, wide), data.kpi_targets(), filters.month_to)
        label = data.segment_label(segment)
    except data.WarehouseUnavailable as error:
        return notice("No data to show yet", str(error), "warning"), []
    explain = (
        f"KPIs: {label}, {month_label(filters.month_to)} "
        f"(range {month_label(filters.month_from)} – {month_label(filters.month_to)})."
    )
    if segment.ignored:
        explain += (
            " KPIs are published per practice, payer, payer class, provider or location, one "
            "at a time, so the KPI cards show the first of these; charts apply every filter."
        )
    return notice("", explain), cards


figure_callback(
    "overview-charges-collections",
    "overview-query",
    lambda f: figures.line_chart(
        data.charges_and_collections(f),
        "month_start",
        "amount",
        "Charges (by service month) and collections (by posting month)",
        "money",
        color="series",
    ),
)
