"""Visit mix, the family-medicine view: preventive, problem, wellness and chronic-care
visits by age band and provider; each provider's E/M level curve beside the family-medicine
benchmark; modifier 25 and G2211 use (fct_kpis_monthly)."""

import dash
import polars as pl
from dash import dcc, html

from dashboards import data, figures
from dashboards.components import figure_callback, graph, notice_callback, page_header
from dashboards.filters import Filters, kpi_segment
from dashboards.theme import FAMILY_COLOURS

SHARES = {
    "preventive_visit_share": "Preventive",
    "wellness_visit_share": "Medicare wellness",
    "problem_visit_share": "Problem visit (E/M)",
    "chronic_care_visit_share": "Chronic care",
}
CODING = {
    "em_level_4_5_share": "E/M level 4–5",
    "modifier_25_share": "Modifier 25",
    "g2211_share": "G2211 add-on",
}


def layout(**query: str) -> html.Div:
    return html.Div(
        [
            page_header(
                "Visit mix",
                "What kind of visits the practice sees and how they are "
                "coded, against the family-medicine benchmark.",
            ),
            dcc.Store(id="visit-mix-query", data=query),
            html.Div(id="visit-mix-notice"),
            html.Div(
                [graph("visit-mix-by-age", 400), graph("visit-mix-by-provider", 400)],
                className="grid-2",
            ),
            graph("visit-mix-em-curve", 400),
            html.Div(
                [graph("visit-mix-family-trend", 380), graph("visit-mix-coding-trend", 380)],
                className="grid-2",
            ),
        ]
    )


dash.register_page(
    __name__,
    path="/visit-mix",
    name="Visit mix",
    title="Visit mix · rcm-warehouse",
    order=4,
    layout=layout,
)


def _long(kpis: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """KPI columns as (month_start, measure, value) rows for one chart."""
    if kpis.is_empty():
        return pl.DataFrame()
    return (
        kpis.select("month_start", *names)
        .unpivot(index="month_start", variable_name="measure", value_name="value")
        .with_columns(pl.col("measure").replace_strict(names))
    )


def _kpi_lines(columns: dict[str, str], title: str, colors: dict[str, str] | None = None):
    def build(filters: Filters):
        segment = kpi_segment(filters)
        kpis = data.kpi_months(segment, filters)
        return figures.line_chart(
            _long(kpis, columns),
            "month_start",
            "value",
            f"{title} · {data.segment_label(segment)}",
            "rate",
            color="measure",
            colors=colors,
        )

    return build


FIGURES = {
    "visit-mix-by-age": lambda f: figures.bar_chart(
        data.visits_by(f, "age"),
        "segment",
        "visits",
        "Visit families by age band",
        "count",
        color="visit_family",
        colors=FAMILY_COLOURS,
        normalise=True,
        x_title="age at visit",
    ),
    "visit-mix-by-provider": lambda f: figures.bar_chart(
        data.visits_by(f, "provider"),
        "segment",
        "visits",
        "Visit families by provider",
        "count",
        color="visit_family",
        colors=FAMILY_COLOURS,
        normalise=True,
        horizontal=True,
    ),
    "visit-mix-em-curve": lambda f: figures.em_curve(
        data.em_level_curves(f), "Office E/M level curve against the family-medicine benchmark"
    ),
    "visit-mix-family-trend": _kpi_lines(SHARES, "Visit family shares", FAMILY_COLOURS),
    "visit-mix-coding-trend": _kpi_lines(CODING, "E/M level 4–5, modifier 25 and G2211 use"),
}
for graph_id, build in FIGURES.items():
    figure_callback(graph_id, "visit-mix-query", build)
notice_callback("visit-mix-notice", "visit-mix-query", lambda f: None)
