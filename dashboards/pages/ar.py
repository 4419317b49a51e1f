"""A/R: what is owed to the practice, by whom and for how long. Aging on the range's last
month end (or the as-of date in a running month), days in A/R over the range, and the
oldest open claims."""

import dash
import dash_ag_grid as dag
import polars as pl
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboards import data, figures
from dashboards.app import URL
from dashboards.components import figures_or_notice, graph, notice, page_header, page_link
from dashboards.filters import Filters, kpi_segment
from dashboards.theme import money

OLDEST_COLUMNS = [
    {
        "field": "claim_id",
        "headerName": "Claim",
        "width": 170,
        "cellStyle": {"color": "#0072B2", "textDecoration": "underline", "cursor": "pointer"},
    },
    {"field": "service_date", "headerName": "Service date", "width": 120},
    {"field": "days_outstanding", "headerName": "Days", "width": 90, "type": "rightAligned"},
    {"field": "aging_bucket", "headerName": "Bucket", "width": 100},
    {"field": "responsible_party", "headerName": "Owed by", "width": 110},
    {"field": "payer", "headerName": "Payer"},
    {"field": "provider", "headerName": "Provider"},
    {"field": "claim_status", "headerName": "Claim status"},
    {
        "field": "balance",
        "headerName": "Balance",
        "type": "rightAligned",
        "valueFormatter": {"function": "d3.format('$,.2f')(params.value)"},
    },
]


def layout(**query: str) -> html.Div:
    return html.Div(
        [
            page_header(
                "Accounts receivable",
                "Aging by payer class and who owes it; days in "
                "A/R over time; the oldest open claims.",
            ),
            dcc.Store(id="ar-query", data=query),
            html.Div(id="ar-notice"),
            html.Div(
                [graph("ar-aging-class", 400), graph("ar-aging-party", 400)], className="grid-2"
            ),
            html.Div(
                [graph("ar-days-trend", 360), graph("ar-over-90-trend", 360)], className="grid-2"
            ),
            html.H2("Oldest open claims"),
            dag.AgGrid(
                id="ar-oldest",
                columnDefs=OLDEST_COLUMNS,
                rowData=[],
                defaultColDef={"sortable": True, "filter": True, "resizable": True},
                dashGridOptions={"pagination": True, "paginationPageSize": 20},
                style={"height": "560px"},
                className="ag-theme-alpine",
            ),
        ]
    )


dash.register_page(
    __name__, path="/ar", name="A/R", title="A/R · rcm-warehouse", order=2, layout=layout
)


@callback(
    Output("ar-notice", "children"),
    Output("ar-aging-class", "figure"),
    Output("ar-aging-party", "figure"),
    Output("ar-days-trend", "figure"),
    Output("ar-over-90-trend", "figure"),
    Output("ar-oldest", "rowData"),
    Input("ar-query", "data"),
)
@figures_or_notice(4, tail=([],))
def update(query: dict[str, str]):
    filters = data.resolved(Filters.from_query(query or {}))
    snapshot = data.ar_snapshot_date(filters)
    aging = data.ar_aging(filters, snapshot)
    segment = kpi_segment(filters)
    kpis = data.kpi_months(segment, filters)
    targets = data.kpi_targets()
    oldest = data.oldest_open_claims(filters, snapshot)
    by_party = (
        aging.group_by("aging_bucket", "aging_bucket_order", "responsible_party")
        .agg(pl.col("balance").sum())
        .sort("aging_bucket_order", "responsible_party")
    )
    when = f"{snapshot:%d %b %Y}" if snapshot else "–"
    total = aging["balance"].sum() if aging.height else 0
    message = notice(
        f"Open A/R on {when}: {money(total)}",
        f"Days in A/R and A/R over 90 days: {data.segment_label(segment)} (fct_kpis_monthly).",
    )
    rows = oldest.with_columns(
        pl.col("service_date").cast(pl.Utf8), pl.col("balance").cast(pl.Float64)
    ).to_dicts()
    return (
        message,
        figures.bar_chart(
            aging,
            "aging_bucket",
            "balance",
            f"A/R by age and payer class, {when}",
            "money",
            color="payer_class",
            x_title="days since service",
        ),
        figures.bar_chart(
            by_party,
            "aging_bucket",
            "balance",
            f"A/R by age and who owes it, {when}",
            "money",
            color="responsible_party",
            x_title="days since service",
        ),
        figures.line_chart(
            kpis,
            "month_start",
            "days_in_ar",
            "Days in A/R",
            "days",
            target=targets.get("days_in_ar", {}).get("target"),
        ),
        figures.line_chart(
            kpis,
            "month_start",
            "ar_over_90_pct",
            "A/R over 90 days",
            "rate",
            target=targets.get("ar_over_90_pct", {}).get("target"),
        ),
        rows,
    )


@callback(
    Output(URL, "href", allow_duplicate=True),
    Input("ar-oldest", "cellClicked"),
    State(URL, "search"),
    prevent_initial_call=True,
)
def open_claim(cell, search: str | None):
    if not cell or cell.get("colId") != "claim_id" or not cell.get("value"):
        return no_update
    return page_link(f"/claims/{cell['value']}", search)
