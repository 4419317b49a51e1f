"""A/R: what is owed to the practice, by whom and for how long. Aging on the range's last
month end (or the as-of date in a running month), days in A/R over the range, and the
oldest open claims."""

import dash
import dash_ag_grid as dag
import polars as pl
from dash import Input, Output, callback, dcc, html

from dashboards import data, figures
from dashboards.components import (
    claim_link_callback,
    figure_callback,
    graph,
    notice,
    notice_callback,
    page_header,
)
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


def _aging(color: str, title: str):
    def build(filters: Filters):
        snapshot = data.ar_snapshot_date(filters)
        aging = data.ar_aging(filters, snapshot)
        if color == "responsible_party" and aging.height:
            aging = (
                aging.group_by("aging_bucket", "aging_bucket_order", color)
                .agg(pl.col("balance").sum())
                .sort("aging_bucket_order", color)
            )
        when = f"{snapshot:%d %b %Y}" if snapshot else "–"
        return figures.bar_chart(
            aging,
            "aging_bucket",
            "balance",
            f"{title}, {when}",
            "money",
            color=color,
            x_title="days since service",
        )

    return build


def _kpi_line(kpi: str, title: str, unit: str):
    def build(filters: Filters):
        target = data.kpi_targets().get(kpi, {}).get("target")
        kpis = data.kpi_months(kpi_segment(filters), filters)
        return figures.line_chart(kpis, "month_start", kpi, title, unit, target=target)

    return build


def _notice(filters: Filters):
    snapshot = data.ar_snapshot_date(filters)
    when = f"{snapshot:%d %b %Y}" if snapshot else "–"
    return notice(
        f"Open A/R on {when}: {money(data.ar_total(filters, snapshot))}",
        f"Days in A/R and A/R over 90 days: {data.segment_label(kpi_segment(filters))} "
        "(fct_kpis_monthly).",
    )


FIGURES = {
    "ar-aging-class": _aging("payer_class", "A/R by age and payer class"),
    "ar-aging-party": _aging("responsible_party", "A/R by age and who owes it"),
    "ar-days-trend": _kpi_line("days_in_ar", "Days in A/R", "days"),
    "ar-over-90-trend": _kpi_line("ar_over_90_pct", "A/R over 90 days", "rate"),
}
for graph_id, build in FIGURES.items():
    figure_callback(graph_id, "ar-query", build)
notice_callback("ar-notice", "ar-query", _notice)


@callback(Output("ar-oldest", "rowData"), Input("ar-query", "data"))
def update_oldest(query: dict[str, str] | None):
    try:
        filters = data.resolved(Filters.from_query(query or {}))
        oldest = data.oldest_open_claims(filters, data.ar_snapshot_date(filters))
    except data.WarehouseUnavailable:
        return []
    return oldest.with_columns(
        pl.col("service_date").cast(pl.Utf8), pl.col("balance").cast(pl.Float64)
    ).to_dicts()


claim_link_callback("ar-oldest")
