"""Shared Dash building blocks: KPI cards, notices, chart panels. No DuckDB here."""

from dash import dcc, html

from dashboards.filters import global_search
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
) -> html.Div:
    """One headline KPI: value for the latest month of the range, the change from the month
    before, the target and whether it is met, and a sparkline over the range."""
    return html.Div(
        [
            html.Div(label, className="kpi-label"),
            html.Div(value, className="kpi-value", id=f"{card_id}-value"),
            html.Div(change, className="kpi-change", style={"color": change_colour}),
            html.Div(
                [
                    html.Span(status, className=f"kpi-status kpi-{status.split()[0].lower()}"),
                    html.Span(f" target {target}", style={"color": MUTED}),
                ],
                className="kpi-target",
            ),
            sparkline or html.Div(className="kpi-spark-empty"),
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
