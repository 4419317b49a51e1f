"""Collections: cash in by payer and month, each payer's collection rates and days to
payment (from fct_kpis_monthly), and patient collections at the visit or after."""

import dash
from dash import Input, Output, callback, dcc, html

from dashboards import data, figures
from dashboards.components import figures_or_notice, graph, notice, page_header
from dashboards.filters import Filters, kpi_segment


def layout(**query: str) -> html.Div:
    return html.Div(
        [
            page_header(
                "Collections",
                "Payments by payer and month; collection rates and "
                "days to payment by payer; patient collections.",
            ),
            dcc.Store(id="collections-query", data=query),
            html.Div(id="collections-notice"),
            html.Div(
                [graph("collections-by-payer", 400), graph("collections-patient", 400)],
                className="grid-2",
            ),
            html.Div(
                [graph("collections-ncr", 380), graph("collections-gcr", 380)], className="grid-2"
            ),
            html.Div(
                [graph("collections-days-to-payment", 380), graph("collections-pos-share", 380)],
                className="grid-2",
            ),
        ]
    )


dash.register_page(
    __name__,
    path="/collections",
    name="Collections",
    title="Collections · rcm-warehouse",
    order=3,
    layout=layout,
)


@callback(
    Output("collections-notice", "children"),
    Output("collections-by-payer", "figure"),
    Output("collections-patient", "figure"),
    Output("collections-ncr", "figure"),
    Output("collections-gcr", "figure"),
    Output("collections-days-to-payment", "figure"),
    Output("collections-pos-share", "figure"),
    Input("collections-query", "data"),
)
@figures_or_notice(6)
def update(query: dict[str, str]):
    filters = data.resolved(Filters.from_query(query or {}))
    by_payer = data.kpi_by_segment(
        "payer", filters, ["net_collection_rate", "gross_collection_rate", "days_to_payment_avg"]
    )
    segment = kpi_segment(filters)
    kpis = data.kpi_months(segment, filters)
    targets = data.kpi_targets()
    note = None
    if filters.provider_npi or filters.location_id:
        note = notice(
            "",
            "Rates by payer are published per payer for the whole practice: the "
            "provider and location filters apply to the payment charts only.",
        )
    return (
        note,
        figures.bar_chart(
            data.payments_by_source(filters),
            "posted_month",
            "amount",
            "Payments by posting month and source",
            "money",
            color="source",
        ),
        figures.bar_chart(
            data.patient_collections(filters),
            "posted_month",
            "amount",
            "Patient payments: at the visit or after",
            "money",
            color="timing",
        ),
        figures.line_chart(
            by_payer,
            "month_start",
            "net_collection_rate",
            "Net collection rate by payer (service-month cohort)",
            "rate",
            color="segment_name",
            target=targets.get("net_collection_rate", {}).get("target"),
        ),
        figures.line_chart(
            by_payer,
            "month_start",
            "gross_collection_rate",
            "Gross collection rate by payer",
            "rate",
            color="segment_name",
        ),
        figures.line_chart(
            by_payer,
            "month_start",
            "days_to_payment_avg",
            "Days from submission to first payment, by payer",
            "days",
            color="segment_name",
        ),
        figures.line_chart(
            kpis,
            "month_start",
            "pos_collection_share",
            f"Share of patient payments taken at the visit · {data.segment_label(segment)}",
            "rate",
        ),
    )
