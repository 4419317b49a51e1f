"""Collections: cash in by payer and month, each payer's collection rates and days to
payment (from fct_kpis_monthly), and patient collections at the visit or after."""

import dash
from dash import dcc, html

from dashboards import data, figures
from dashboards.components import (
    figure_callback,
    graph,
    notice,
    notice_callback,
    page_header,
)
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


def _by_payer(column: str, title: str, unit: str, target_kpi: str | None = None):
    def build(filters: Filters):
        by_payer = data.kpi_by_segment("payer", filters, [column], busiest=("charges", 8))
        target = data.kpi_targets().get(target_kpi, {}).get("target") if target_kpi else None
        return figures.line_chart(
            by_payer, "month_start", column, title, unit, color="segment_name", target=target
        )

    return build


def _pos_share(filters: Filters):
    segment = kpi_segment(filters)
    return figures.line_chart(
        data.kpi_months(segment, filters),
        "month_start",
        "pos_collection_share",
        f"Share of patient payments taken at the visit · {data.segment_label(segment)}",
        "rate",
    )


def _notice(filters: Filters):
    if filters.provider_npi or filters.location_id:
        return notice(
            "",
            "Rates by payer are published per payer for the whole practice: the provider "
            "and location filters apply to the payment charts only.",
        )
    return None


FIGURES = {
    "collections-by-payer": lambda f: figures.bar_chart(
        data.payments_by_source(f),
        "posted_month",
        "amount",
        "Payments by posting month and source",
        "money",
        color="source",
    ),
    "collections-patient": lambda f: figures.bar_chart(
        data.patient_collections(f),
        "posted_month",
        "amount",
        "Patient payments: at the visit or after",
        "money",
        color="timing",
    ),
    "collections-ncr": _by_payer(
        "net_collection_rate",
        "Net collection rate by payer (service-month cohort)",
        "rate",
        "net_collection_rate",
    ),
    "collections-gcr": _by_payer("gross_collection_rate", "Gross collection rate by payer", "rate"),
    "collections-days-to-payment": _by_payer(
        "days_to_payment_avg", "Days from submission to first payment, by payer", "days"
    ),
    "collections-pos-share": _pos_share,
}
for graph_id, build in FIGURES.items():
    figure_callback(graph_id, "collections-query", build)
notice_callback("collections-notice", "collections-query", _notice)
