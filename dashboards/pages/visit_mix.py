"""Visit mix, the family-medicine view: preventive, problem, wellness and chronic-care
visits by age band and provider; each provider's E/M level curve beside the family-medicine
benchmark; modifier 25 and G2211 use (fct_kpis_monthly)."""

import dash
import polars as pl
from dash import Input, Output, callback, dcc, html

from dashboards import data, figures
from dashboards.components import figures_or_notice, graph, page_header
from dashboards.filters import Filters, kpi_segment
from dashboards.theme import PALETTE

SHARES = {
    "preventive_visit_share": "Preventive",
    "wellness_visit_share": "Medicare wellness",
    "problem_visit_share": "Problem visit (E/M)",
    "chronic_care_visit_share": "Chronic care",
}
# one colour per visit family on every chart of the page
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


@callback(
    Output("visit-mix-notice", "children"),
    Output("visit-mix-by-age", "figure"),
    Output("visit-mix-by-provider", "figure"),
    Output("visit-mix-em-curve", "figure"),
    Output("visit-mix-family-trend", "figure"),
    Output("visit-mix-coding-trend", "figure"),
    Input("visit-mix-query", "data"),
)
@figures_or_notice(5)
def update(query: dict[str, str]):
    filters = data.resolved(Filters.from_query(query or {}))
    segment = kpi_segment(filters)
    kpis = data.kpi_months(segment, filters)
    label = data.segment_label(segment)
    return (
        None,
        figures.bar_chart(
            data.visits_by(filters, "age"),
            "segment",
            "visits",
            "Visit families by age band",
            "count",
            color="visit_family",
            colors=FAMILY_COLOURS,
            normalise=True,
            x_title="age at visit",
        ),
        figures.bar_chart(
            data.visits_by(filters, "provider"),
            "segment",
            "visits",
            "Visit families by provider",
            "count",
            color="visit_family",
            colors=FAMILY_COLOURS,
            normalise=True,
            horizontal=True,
        ),
        figures.em_curve(
            data.em_level_curves(filters),
            "Office E/M level curve against the family-medicine benchmark",
        ),
        figures.line_chart(
            _long(kpis, SHARES),
            "month_start",
            "value",
            f"Visit family shares · {label}",
            "rate",
            color="measure",
            colors=FAMILY_COLOURS,
        ),
        figures.line_chart(
            _long(kpis, CODING),
            "month_start",
            "value",
            f"E/M level 4–5, modifier 25 and G2211 use · {label}",
            "rate",
            color="measure",
        ),
    )
