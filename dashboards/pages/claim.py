"""One claim, the end of the denial drill-down: what was billed (837P lines and every
submission), every 835 adjudication with its CAS adjustments and RARCs, the patient's
payments, and a timeline of it all. Everything is from the marts; identifiers are the
warehouse's pseudonymous keys."""

import dash
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html

from dashboards import data, figures
from dashboards.app import URL
from dashboards.auth.access import current_viewer, mask_patient_identifiers
from dashboards.auth.web import audit_event
from dashboards.components import graph, notice, page_header, page_link, table
from dashboards.theme import PALETTE, TEMPLATE_NAME, money

LINE_COLUMNS = [
    ("line_number", "Line", "count"),
    ("procedure_code", "Procedure", "text"),
    ("modifiers", "Modifiers", "text"),
    ("units", "Units", "count"),
    ("charges", "Charge", "money"),
    ("allowed_amount", "Allowed", "money"),
    ("payer_paid", "Payer paid", "money"),
    ("contractual_amount", "Contractual", "money"),
    ("denied_amount", "Denied", "money"),
    ("patient_responsibility", "Patient resp.", "money"),
]
PAYMENT_COLUMNS = [
    ("posted_date", "Posted", "text"),
    ("payment_type", "Type", "text"),
    ("payment_method", "Method", "text"),
    ("payment_channel", "Channel", "text"),
    ("is_point_of_service", "At the visit", "text"),
    ("amount", "Amount", "money"),
]


def layout(claim_id: str | None = None, **query: str) -> html.Div:
    return html.Div(
        [
            html.Div(id="claim-crumbs", className="crumbs"),
            page_header(f"Claim {claim_id}", "Billed, adjudicated, paid: the whole story."),
            dcc.Store(id="claim-query", data={"claim_id": claim_id, **query}),
            dcc.Loading(html.Div(id="claim-content"), type="dot"),
            graph("claim-timeline", 300),
        ]
    )


dash.register_page(
    __name__,
    path_template="/claims/<claim_id>",
    name="Claim",
    title="Claim · rcm-warehouse",
    order=9,
    layout=layout,
)


SUBMISSION_COLUMNS = [
    ("submission_sequence", "#", "count"),
    ("submission_date", "Submitted", "text"),
    ("submission_kind", "Kind", "text"),
    ("claim_frequency_code", "Frequency", "text"),
    ("payer_id", "Payer", "text"),
    ("interchange_control_number", "Interchange (ISA13)", "text"),
    ("line_count", "Lines", "count"),
    ("charges", "Charges", "money"),
]
ADJUDICATION_COLUMNS = [
    ("adjudication_sequence", "#", "count"),
    ("payment_date", "Paid on", "text"),
    ("adjudication_kind", "Outcome", "text"),
    ("claim_status_code", "CLP02", "text"),
    ("payer_id", "Payer", "text"),
    ("trace_number", "Trace (TRN02)", "text"),
    ("payer_claim_control_number", "Payer claim no.", "text"),
    ("charges", "Charges", "money"),
    ("allowed_amount", "Allowed", "money"),
    ("paid_amount", "Paid", "money"),
    ("contractual_amount", "Contractual", "money"),
    ("denied_amount", "Denied", "money"),
    ("patient_responsibility", "Patient resp.", "money"),
]
ADJUSTMENT_COLUMNS = [
    ("adjustment_level", "Level", "text"),
    ("line_number", "Line", "count"),
    ("procedure_code", "Procedure", "text"),
    ("adjustment_group_code", "Group", "text"),
    ("carc_code", "CARC", "text"),
    ("carc_description", "Reason", "text"),
    ("rarc_codes", "RARC", "text"),
    ("adjustment_class", "Class", "text"),
    ("adjustment_quantity", "Units", "count"),
    ("adjustment_amount", "Amount", "money"),
]


def _adjudication_blocks(adjudications: list[dict], adjustments: list[dict]) -> list:
    blocks = []
    for adj in adjudications:
        own = [a for a in adjustments if a.get("remit_claim_id") == adj.get("remit_claim_id")]
        blocks.append(
            html.Div(
                [
                    table(
                        [adj],
                        ADJUDICATION_COLUMNS,
                        f"claim-adjudication-{adj.get('remit_claim_id')}",
                    ),
                    table(
                        own,
                        ADJUSTMENT_COLUMNS,
                        f"claim-cas-{adj.get('remit_claim_id')}",
                    )
                    if own
                    else html.P("No CAS adjustments on this adjudication."),
                ],
                className="adjudication",
            )
        )
    return blocks or [html.P("No 835 adjudication yet.")]


def timeline(
    header: dict, submissions: list[dict], adjudications: list[dict], payments: list[dict]
) -> go.Figure:
    """Events on a date axis, one row per kind."""
    events: list[tuple[object, str, str]] = [
        (header.get("service_date"), "Service", "date of service")
    ]
    for s in submissions:
        events.append(
            (s.get("submission_date"), "837P submitted", str(s.get("submission_kind", "")))
        )
    for a in adjudications:
        events.append(
            (
                a.get("payment_date"),
                "835 adjudicated",
                f"{a.get('adjudication_kind', '')}, paid {money(a.get('paid_amount'), cents=True)}",
            )
        )
    for p in payments:
        events.append((p.get("posted_date"), "Patient paid", money(p.get("amount"), cents=True)))
    if header.get("writeoff_date"):
        events.append(
            (
                header["writeoff_date"],
                "Written off",
                money(header.get("denial_writeoff_amount"), cents=True),
            )
        )
    events = [e for e in events if e[0] is not None]
    if not events:
        return figures.empty_figure("No dated events", "Timeline", 300)
    kinds = ["Service", "837P submitted", "835 adjudicated", "Patient paid", "Written off"]
    fig = go.Figure()
    for i, kind in enumerate(kinds):
        mine = [e for e in events if e[1] == kind]
        if not mine:
            continue
        fig.add_trace(
            go.Scatter(
                x=[e[0] for e in mine],
                y=[kind] * len(mine),
                mode="markers",
                name=kind,
                marker={"size": 14, "color": PALETTE[i % len(PALETTE)], "symbol": "diamond"},
                text=[e[2] for e in mine],
                hovertemplate="%{x|%d %b %Y}<br>%{y}: %{text}<extra></extra>",
            )
        )
    fig.update_layout(template=TEMPLATE_NAME, title="Timeline", height=300, showlegend=False)
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(kinds)))
    return fig


@callback(
    Output("claim-crumbs", "children"),
    Output("claim-content", "children"),
    Output("claim-timeline", "figure"),
    Input("claim-query", "data"),
    State(URL, "search"),
)
def update(query: dict[str, str], search: str | None):
    claim_id = (query or {}).get("claim_id")
    crumbs = [dcc.Link("← Denials", href=page_link("/denials", search))]
    try:
        header = data.claim_header(claim_id) if claim_id else None
        if header is None:
            return (
                crumbs,
                notice("Claim not found", f"No claim {claim_id} in the warehouse.", "warning"),
                figures.empty_figure(""),
            )
        lines = data.claim_lines(claim_id).to_dicts()
        submissions = data.claim_submissions(claim_id).to_dicts()
        adjudications = data.claim_adjudications(claim_id).to_dicts()
        adjustments = data.claim_adjustments(claim_id).to_dicts()
        payments = data.claim_patient_payments(claim_id).to_dicts()
    except data.WarehouseUnavailable as error:
        return (
            crumbs,
            notice("No data to show yet", str(error), "warning"),
            figures.empty_figure(""),
        )
    # the role decides, here on the server; nothing in the request can ask for more
    header = mask_patient_identifiers(header)
    submissions, adjudications, adjustments, payments = (
        [mask_patient_identifiers(row) for row in rows]
        for rows in (submissions, adjudications, adjustments, payments)
    )
    viewer = current_viewer()
    audit_event(
        "view_claim",
        claim_id=claim_id,
        patient_identifiers="shown" if viewer and viewer.sees_patient_identifiers else "masked",
    )
    summary = [
        ("claim_status", "Status", "text"),
        ("payer_name", "Payer", "text"),
        ("provider_name", "Provider", "text"),
        ("location_name", "Location", "text"),
        ("patient_id", "Patient MRN", "text"),
        ("service_date", "Service date", "text"),
        ("charges", "Charges", "money"),
        ("payer_paid", "Payer paid", "money"),
        ("contractual_amount", "Contractual", "money"),
        ("denial_writeoff_amount", "Denial write-off", "money"),
        ("patient_paid", "Patient paid", "money"),
        ("balance", "Balance", "money"),
        ("denial_outcome", "Denial outcome", "text"),
    ]
    content = [
        table([header], summary, "claim-summary"),
        html.H2("837P service lines"),
        table(lines, LINE_COLUMNS, "claim-lines"),
        html.H2("837P submissions"),
        table(submissions, SUBMISSION_COLUMNS, "claim-submissions"),
        html.H2("835 adjudications, with CAS adjustments and RARCs"),
        *_adjudication_blocks(adjudications, adjustments),
        html.H2("Patient payments"),
        table(payments, PAYMENT_COLUMNS, "claim-payments") if payments else html.P("None."),
    ]
    return crumbs, content, timeline(header, submissions, adjudications, payments)
