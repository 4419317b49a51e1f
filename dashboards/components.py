"""Shared Dash building blocks: KPI cards, notices, chart panels. No DuckDB here."""

from collections.abc import Callable

from dash import Input, Output, callback, dcc, html

from dashboards.filters import Filters, global_search
from dashboards.theme import MUTED

GRAPH_CONFIG = {"displaylogo": False, "responsive": True}


def graph(component_id: str, height: int = 360) -> dcc.Graph:
    return dcc.Graph(
        id=component_id,
        config=GRAPH_CONFIG,
        style={"height": f"{height}px"},
        className="panel",
    )


def notice(title: str, body: str, kind: str = "info") -> html.Div:
    return html.Div([html.Strong(title), html.P(body)], className=f"notice notice-{kind}")


def page_header(title: str, subtitle: str) -> html.Div:
    return html.Div(
        [html.H1(title), html.P(subtitle, className="subtitle")], className="page-header"
    )


def kpi_card(
    card_id: str,
    label: str,
    value: str,
    change: str,
    change_colour: str,
    target: str,
    status: str,
    sparkline: dcc.Graph | None,
    note: str = "",
) -> html.Div:
    """One headline KPI: value for the latest month of the range, the change from the month
    before, the target and whether it is met, and a sparkline over the range."""
    return html.Div(
        [
            html.Div(label, className="kpi-label"),
            html.Div(note, className="kpi-note") if note else None,
            html.Div(value, className="kpi-value", id=f"{card_id}-value"),
            html.Div(change, className="kpi-change", style={"color": change_colour}),
            html.Div(
                [
                    html.Span(status, className=f"kpi-status kpi-{status.split()[0].lower()}"),
                    html.Span(f" target {target}", style={"color": MUTED}),
                ],
                className="kpi-target",
            ),
            sparkline if sparkline is not None else html.Div(className="kpi-spark-empty"),
        ],
        className="kpi-card",
        id=card_id,
    )


def page_link(path: str, search: str | None, extra: dict[str, str] | None = None) -> str:
    """A link to another page that keeps the global filters (and adds page parameters)."""
    from dashboards.filters import build_search, parse_search

    params = parse_search(global_search(search))
    params.update(extra or {})
    return f"{path}{build_search(params)}"


def table(
    rows: list[dict[str, object]], columns: list[tuple[str, str, str]], table_id: str
) -> html.Table:
    """A plain detail table: columns are (key, heading, unit) with unit money/count/text."""
    from dashboards.theme import money as fmt_money

    def cell(value: object, unit: str) -> html.Td:
        if unit == "money":
            return html.Td(fmt_money(value, cents=True), className="num")  # type: ignore[arg-type]
        if unit == "count":
            return html.Td("" if value is None else f"{value}", className="num")
        if isinstance(value, bool):
            return html.Td("yes" if value else "no")
        return html.Td("" if value is None else str(value))

    head = html.Tr(
        [html.Th(h, className="num" if u in ("money", "count") else "") for _k, h, u in columns]
    )
    body = [html.Tr([cell(row.get(k), u) for k, _h, u in columns]) for row in rows]
    return html.Table([html.Thead(head), html.Tbody(body)], className="detail", id=table_id)


def figure_callback(graph_id: str, store_id: str, build: Callable[[Filters], object]) -> None:
    """One callback per chart: the browser asks for a page's charts at once and the server
    answers them in parallel, each as soon as it is drawn. ``build`` takes the page's
    filters (range resolved) and returns the figure."""
    from dashboards import data
    from dashboards.figures import empty_figure

    @callback(Output(graph_id, "figure"), Input(store_id, "data"))
    def update(query: dict[str, str] | None):
        try:
            return build(data.resolved(Filters.from_query(query or {})))
        except data.WarehouseUnavailable:
            return empty_figure("No published warehouse")


def notice_callback(notice_id: str, store_id: str, build: Callable[[Filters], object]) -> None:
    """The page's notice: what ``build`` says, or how to load data when there is none."""
    from dashboards import data

    @callback(Output(notice_id, "children"), Input(store_id, "data"))
    def update(query: dict[str, str] | None):
        try:
            return build(data.resolved(Filters.from_query(query or {})))
        except data.WarehouseUnavailable as error:
            return notice("No data to show yet", str(error), "warning")


def claim_link_callback(grid_id: str) -> None:
    """A click on a grid's claim cell opens that claim's page, keeping the filters."""
    from dash import State, no_update

    from dashboards.app import URL

    @callback(
        Output(URL, "href", allow_duplicate=True),
        Input(grid_id, "cellClicked"),
        State(URL, "search"),
        prevent_initial_call=True,
    )
    def open_claim(cell, search: str | None):
        if not cell or cell.get("colId") != "claim_id" or not cell.get("value"):
            return no_update
        return page_link(f"/claims/{cell['value']}", search)
