"""Denials: where money is denied and why, down to the claims to work.

Drill-down, each step kept in the URL (``root_cause``, ``carc``): click a root cause on the
Pareto → its CARC/RARC breakdown and the denied claims → click a CARC to narrow the grid →
click a claim → the claim's page (``/claims/<claim_id>``)."""

import dash
import dash_ag_grid as dag
import polars as pl
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboards import data, figures
from dashboards.app import URL
from dashboards.auth.web import audit_event
from dashboards.components import (
    claim_link_callback,
    figure_callback,
    graph,
    notice,
    page_header,
    page_link,
)
from dashboards.filters import Filters, build_search, parse_search
from dashboards.theme import PALETTE, count, money

EXPORT_ROW_LIMIT = 100_000

AVOIDABILITY = {
    "yes": "Avoidable",
    "partly": "Partly avoidable",
    "mostly_not": "Mostly not avoidable",
}
AVOIDABLE_COLOURS = [PALETTE[5], PALETTE[1], PALETTE[4]]
GRID_COLUMNS = [
    {
        "field": "claim_id",
        "headerName": "Claim",
        "pinned": "left",
        "width": 170,
        "cellStyle": {"color": "#0072B2", "textDecoration": "underline", "cursor": "pointer"},
    },
    {"field": "denial_date", "headerName": "Denied on", "width": 120},
    {"field": "service_date", "headerName": "Service date", "width": 120},
    {"field": "payer", "headerName": "Payer"},
    {"field": "provider", "headerName": "Provider"},
    {"field": "reason", "headerName": "CARC", "width": 100},
    {"field": "rarc_codes", "headerName": "RARC", "width": 110},
    {"field": "root_cause_label", "headerName": "Root cause"},
    {"field": "denial_level", "headerName": "Level", "width": 90},
    {"field": "avoidability", "headerName": "Avoidable", "width": 110},
    {"field": "denial_outcome", "headerName": "Outcome"},
    {
        "field": "amount_at_stake",
        "headerName": "At stake",
        "type": "rightAligned",
        "filter": "agNumberColumnFilter",
        "valueFormatter": {"function": "d3.format('$,.2f')(params.value)"},
    },
    {"field": "claim_status", "headerName": "Claim status"},
    {
        "field": "balance",
        "headerName": "Balance",
        "type": "rightAligned",
        "filter": "agNumberColumnFilter",
        "valueFormatter": {"function": "d3.format('$,.2f')(params.value)"},
    },
]


def layout(root_cause: str | None = None, carc: str | None = None, **query: str) -> html.Div:
    drilled = [
        html.H2(id="denials-drill-title"),
        html.Div([graph("denials-reasons", 380)], className="grid-2"),
        html.Div(
            [
                html.Span(id="denials-grid-count"),
                html.Div(
                    [
                        html.Span(id="denials-export-status", role="status"),
                        html.Button(
                            "Export CSV", id="denials-export", n_clicks=0, className="button"
                        ),
                        dcc.Download(id="denials-download"),
                    ],
                    className="grid-actions",
                ),
            ],
            className="grid-toolbar",
        ),
        dag.AgGrid(
            id="denials-grid",
            columnDefs=GRID_COLUMNS,
            rowData=[],
            defaultColDef={"sortable": True, "filter": True, "resizable": True},
            dashGridOptions={"pagination": True, "paginationPageSize": 20, "animateRows": False},
            style={"height": "620px"},
            className="ag-theme-alpine",
        ),
    ]
    return html.Div(
        [
            page_header(
                "Denials",
                "Denied dollars by root cause, payer and reason code, down to the claims to "
                "work. Click a root cause, then a reason code, then a claim.",
            ),
            dcc.Store(id="denials-query", data={"root_cause": root_cause, "carc": carc, **query}),
            html.Div(id="denials-crumbs", className="crumbs"),
            html.Div(id="denials-notice"),
            html.Div(
                [graph("denials-pareto-dollars", 380), graph("denials-pareto-count", 380)],
                className="grid-2",
            ),
            html.Div(
                [graph("denials-trend", 380), graph("denials-avoidable", 380)],
                className="grid-2",
            ),
            graph("denials-heatmap", 460),
            # always in the layout (the click callbacks need it), shown once drilled
            html.Div(drilled, id="denials-drill", style={} if root_cause else {"display": "none"}),
        ]
    )


dash.register_page(
    __name__,
    path="/denials",
    name="Denials",
    title="Denials · rcm-warehouse",
    order=1,
    layout=layout,
)


def _crumbs(search: str | None, root_cause: str | None, carc: str | None) -> list:
    items: list = [dcc.Link("All root causes", href=page_link("/denials", search))]
    if root_cause:
        label = data.root_cause_label(root_cause)
        items += [
            " › ",
            dcc.Link(label, href=page_link("/denials", search, {"root_cause": root_cause})),
        ]
    if carc:
        items += [" › ", html.Span(f"CARC {carc}")]
    return items


@callback(
    Output("denials-crumbs", "children"),
    Output("denials-notice", "children"),
    Input("denials-query", "data"),
    State(URL, "search"),
)
def update_crumbs(query: dict[str, str] | None, search: str | None):
    query = query or {}
    try:
        data.resolved(Filters.from_query(query))  # is there a warehouse to read?
        return _crumbs(search, query.get("root_cause"), query.get("carc")), None
    except data.WarehouseUnavailable as error:
        return [], notice("No data to show yet", str(error), "warning")


FIGURES = {
    "denials-pareto-dollars": lambda f: figures.pareto(
        data.denial_root_causes(f),
        "root_cause_label",
        "amount_at_stake",
        "Dollars at stake by root cause",
        "money",
        key="root_cause",
    ),
    "denials-pareto-count": lambda f: figures.pareto(
        data.denial_root_causes(f),
        "root_cause_label",
        "denials",
        "Denials by root cause",
        "count",
        key="root_cause",
    ),
    "denials-trend": lambda f: figures.bar_chart(
        data.denial_trend(f),
        "denial_month",
        "amount_at_stake",
        "Denied dollars by month and root cause",
        "money",
        color="root_cause_label",
    ),
    "denials-avoidable": lambda f: figures.bar_chart(
        data.denial_avoidability(f).with_columns(pl.col("avoidability").replace(AVOIDABILITY)),
        "avoidability",
        "amount_at_stake",
        "Avoidable or not: dollars at stake",
        "money",
        color="avoidability",
        colors=dict(zip(AVOIDABILITY.values(), AVOIDABLE_COLOURS, strict=True)),
    ),
    "denials-heatmap": lambda f: figures.heatmap(
        data.denial_payer_matrix(f),
        "root_cause_label",
        "payer_name",
        "amount_at_stake",
        "Dollars at stake: payer × root cause",
        "money",
    ),
}
for graph_id, build in FIGURES.items():
    figure_callback(graph_id, "denials-query", build)


@callback(Output("denials-reasons", "figure"), Input("denials-query", "data"))
def update_reasons(query: dict[str, str] | None):
    query = query or {}
    root_cause = query.get("root_cause")
    if not root_cause:
        return no_update
    try:
        filters = data.resolved(Filters.from_query(query))
        reasons = data.denial_reasons(filters, root_cause)
        label = data.root_cause_label(root_cause)
    except data.WarehouseUnavailable:
        return figures.empty_figure("No published warehouse")
    reasons = reasons.with_columns(
        (
            pl.col("adjustment_group_code")
            + "-"
            + pl.col("carc_code")
            + pl.when(pl.col("rarc_codes") != "")
            .then(" / " + pl.col("rarc_codes"))
            .otherwise(pl.lit(""))
        ).alias("reason")
    )
    figure = figures.bar_chart(
        reasons,
        "reason",
        "amount_at_stake",
        f"{label}: dollars at stake by CARC / RARC",
        "money",
        horizontal=True,
    )
    return figure.update_traces(customdata=reasons["carc_code"].to_list())


@callback(
    Output("denials-drill-title", "children"),
    Output("denials-grid", "rowData"),
    Output("denials-grid-count", "children"),
    Input("denials-query", "data"),
)
def update_grid(query: dict[str, str] | None):
    query = query or {}
    root_cause, carc = query.get("root_cause"), query.get("carc")
    if not root_cause:
        return no_update, no_update, no_update
    try:
        filters = data.resolved(Filters.from_query(query))
        rows, total = data.denied_claims(filters, root_cause, carc)
        label = data.root_cause_label(root_cause)
    except data.WarehouseUnavailable:
        return "", [], ""
    shown = f"{count(rows.height)} of {count(total)} denials" + (
        f" (the {count(rows.height)} largest; narrow the filters to see the rest)"
        if total > rows.height
        else ""
    )
    title = (
        f"{label}"
        + (f" · CARC {carc}" if carc else "")
        + f" · {money(rows['amount_at_stake'].sum())} at stake in the grid"
    )
    grid_rows = rows.with_columns(
        pl.col("denial_date").cast(pl.Utf8),
        pl.col("service_date").cast(pl.Utf8),
        pl.col("amount_at_stake").cast(pl.Float64),
        pl.col("balance").cast(pl.Float64),
    ).to_dicts()
    return title, grid_rows, shown


@callback(
    Output(URL, "search", allow_duplicate=True),
    Input("denials-pareto-dollars", "clickData"),
    Input("denials-pareto-count", "clickData"),
    Input("denials-reasons", "clickData"),
    State(URL, "search"),
    prevent_initial_call=True,
)
def drill_down(dollars, counts, reasons, search: str | None):
    """A click on a root cause or a reason code moves the drill-down, in the URL."""
    click = {
        "denials-pareto-dollars": dollars,
        "denials-pareto-count": counts,
        "denials-reasons": reasons,
    }.get(ctx.triggered_id)
    if not click or not click.get("points"):
        return no_update
    key = click["points"][0].get("customdata")
    if not key:
        return no_update
    params = parse_search(search)
    if ctx.triggered_id == "denials-reasons":
        params["carc"] = key
    else:
        params["root_cause"] = key
        params.pop("carc", None)
    return build_search(params)


claim_link_callback("denials-grid")


@callback(
    Output("denials-download", "data"),
    Output("denials-export-status", "children"),
    Input("denials-export", "n_clicks"),
    State("denials-query", "data"),
    prevent_initial_call=True,
)
def export_csv(n_clicks: int, query: dict[str, str] | None):
    """Every denial of the drill-down (not only the grid's largest), built on the server so
    the export is exact (DECIMAL money as text) and written to the audit log. A failure
    says so beside the button rather than doing nothing."""
    query = query or {}
    root_cause, carc = query.get("root_cause"), query.get("carc")
    if not n_clicks or not root_cause:
        return no_update, no_update
    try:
        filters = data.resolved(Filters.from_query(query))
        rows, _total = data.denied_claims(filters, root_cause, carc, limit=EXPORT_ROW_LIMIT)
    except data.WarehouseUnavailable:
        return no_update, html.Span(
            "Export failed: the warehouse cannot be read just now. Try again in a moment.",
            className="export-status failed",
        )
    audit_event(
        "export",
        what="denied claims (CSV)",
        rows=rows.height,
        root_cause=root_cause,
        carc=carc,
        filters=build_search({k: v for k, v in query.items() if k not in {"root_cause", "carc"}}),
    )
    csv = rows.with_columns(pl.col(pl.Decimal).cast(pl.Utf8)).write_csv()
    exported = html.Span(f"Exported {rows.height:,} denied claims", className="export-status")
    return dcc.send_string(csv, "denied_claims.csv", type="text/csv"), exported
