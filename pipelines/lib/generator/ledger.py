"""The truth ledger: what really happened to every claim, as of the period's last day, and
the headline KPIs per month computed from it with the definitions in
../shared/reference/kpis.md. Never ingested; tests hold the warehouse to it.

Money identity per claim (cents, exact):
    charges = payer_paid + contractual + denial_writeoff + patient_paid + balance
where contractual is CO-45 plus CO-253 (sequestration), net of reversals; OA-23 on a
secondary is the prior payer's impact, not an adjustment. The patient share
(patient_resp) is the primary payer's PR net of reversals, less what a secondary paid.
Only billed claims (an 837P sent by the end date) are in the ledger; self-pay visits are
not claims, and their payments are excluded from the KPIs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines.lib.generator.adjudication import Lifecycle
from pipelines.lib.generator.catalogue import SPEC_BY_ID
from pipelines.lib.generator.coding import Coding
from pipelines.lib.generator.config import GeneratorConfig
from pipelines.lib.generator.patient_pay import PRIMARY_KINDS

CONTRACTUAL = (("CO", "45"), ("CO", "253"))


@dataclass
class Ledger:
    claims: pl.DataFrame
    claim_lines: pl.DataFrame
    adjustments: pl.DataFrame
    adjudications: pl.DataFrame
    provider_adjustments: pl.DataFrame
    patient_payments: pl.DataFrame
    kpis_monthly: pl.DataFrame
    as_of: date  # the date the data runs to (data_as_of)


def data_as_of(lc: Lifecycle, patient_payments: pl.DataFrame) -> date:
    """The date the data runs to: the latest claim submission, remittance or patient
    payment posting. Policy events with a date of their own (the denial write-off after
    ``writeoff_after_days``) count only up to it; the warehouse uses the same rule."""
    days = [
        lc.claim_submissions["submit_date"].max(),
        lc.remit_payments["payment_date"].max(),
        patient_payments["posted_date"].max(),
    ]
    return max(d for d in days if d is not None)


def _is_contractual() -> pl.Expr:
    return pl.any_horizontal(
        [(pl.col("group") == g) & (pl.col("reason") == r) for g, r in CONTRACTUAL]
    )


def build_ledger(
    cfg: GeneratorConfig,
    coding: Coding,
    lc: Lifecycle,
    appointments: pl.DataFrame,
    patient_payments: pl.DataFrame,
) -> Ledger:
    adj = lc.adjudications
    as_of = data_as_of(lc, patient_payments)
    truth = lc.claims_truth
    billed = truth.select("claim_id")
    lines = coding.lines.join(billed, on="claim_id", how="semi")

    # Adjustments, one row per CAS amount, with the claim and line they belong to
    keys = adj.select("payment_id", "clp_seq", "claim_id", "adj_seq", "kind", "payment_date")
    cas = lc.remit_line_adjustments.join(keys, on=["payment_id", "clp_seq"]).rename(
        {"svc_seq": "line_no"}
    )
    rl = lc.remit_lines.join(keys, on=["payment_id", "clp_seq"]).rename({"svc_seq": "line_no"})

    # Denial outcome and write-off (policy: no successful follow-up within N days)
    first = adj.filter(pl.col("adj_seq") == 1).select(
        "claim_id", first_kind="kind", first_pay_date="payment_date", first_status="status"
    )
    later_paid = (
        adj.filter(
            (pl.col("adj_seq") > 1) & pl.col("kind").is_in(["pay"]) & (pl.col("paid_cents") > 0)
        )
        .select("claim_id")
        .unique()
    )
    wo_days = cfg.realism.writeoff_after_days
    t = (
        truth.join(first, on="claim_id", how="left")
        .with_columns(overturned=pl.col("claim_id").is_in(later_paid["claim_id"].implode()))
        .with_columns(
            denied_first_pass=pl.col("first_kind").is_in(["deny_claim", "deny_line"]),
            writeoff_date=pl.col("first_pay_date") + pl.duration(days=wo_days),
        )
        .with_columns(
            denial_outcome=pl.when(~pl.col("denied_first_pass").fill_null(False)).then(None)
            .when(pl.col("overturned")).then(pl.lit("overturned"))
            .when(pl.col("follow_up") == "patient").then(pl.lit("patient_responsibility"))
            .when(pl.col("writeoff_date") <= as_of).then(pl.lit("written_off"))
            .otherwise(pl.lit("open")),
        )
    )  # fmt: skip
    denied_amount = (
        cas.filter((pl.col("adj_seq") == 1) & pl.col("kind").is_in(["deny_claim", "deny_line"]) & ~_is_contractual() & (pl.col("group") != "PR"))
        .group_by("claim_id").agg(denied_cents=pl.col("amount_cents").sum())
    )  # fmt: skip
    t = t.join(denied_amount, on="claim_id", how="left").with_columns(
        denial_writeoff_cents=pl.when(pl.col("denial_outcome") == "written_off")
        .then(pl.col("denied_cents").fill_null(0))
        .otherwise(0)
    )

    money = (
        rl.group_by("claim_id").agg(
            payer_paid_cents=pl.col("paid_cents").sum(),
            primary_paid_cents=pl.col("paid_cents").filter(pl.col("kind").is_in(PRIMARY_KINDS)).sum(),
            secondary_paid_cents=pl.col("paid_cents").filter(pl.col("kind") == "secondary").sum(),
            allowed_cents=pl.col("allowed_cents").filter(pl.col("kind").is_in(PRIMARY_KINDS)).fill_null(0).sum(),
        )
    )  # fmt: skip
    adj_money = cas.group_by("claim_id").agg(
        contractual_cents=pl.col("amount_cents").filter(_is_contractual()).sum(),
        primary_pr_cents=pl.col("amount_cents")
        .filter((pl.col("group") == "PR") & pl.col("kind").is_in(PRIMARY_KINDS))
        .sum(),
    )
    pp = (
        patient_payments.group_by("encounter_id")
        .agg(patient_paid_cents=pl.col("amount_cents").sum())
        .rename({"encounter_id": "claim_id"})
    )
    first_paid = (
        adj.filter(pl.col("paid_cents") > 0)
        .group_by("claim_id")
        .agg(first_payment_date=pl.col("payment_date").min())
    )
    enc = coding.encounters.select(
        "claim_id", "patient_id", "provider_id", "location_id", "service_date", "visit_type"
    )
    charges = lines.group_by("claim_id").agg(
        charges_cents=pl.col("charge_cents").sum(), line_count=pl.len()
    )
    final_payer = (
        adj.filter(pl.col("kind").is_in(["pay", "deny_claim", "deny_line"]))
        .sort("adj_seq")
        .group_by("claim_id")
        .agg(final_payer_id=pl.col("payer_id").last())
    )
    reversed_ = adj.filter(pl.col("kind") == "reversal").select("claim_id").unique()

    payer_class = pl.col("payer_id").replace_strict(
        {k: v.payer_class for k, v in SPEC_BY_ID.items()}
    )
    claims = (
        t.drop("first_payment_date")
        .join(enc, on="claim_id")
        .join(charges, on="claim_id")
        .join(money, on="claim_id", how="left")
        .join(adj_money, on="claim_id", how="left")
        .join(pp, on="claim_id", how="left")
        .join(first_paid, on="claim_id", how="left")
        .join(final_payer, on="claim_id", how="left")
        .with_columns(pl.col(c).fill_null(0) for c in ["payer_paid_cents", "primary_paid_cents", "secondary_paid_cents", "allowed_cents", "contractual_cents", "primary_pr_cents", "patient_paid_cents"])
        .with_columns(
            payer_class=payer_class,
            patient_resp_cents=pl.col("primary_pr_cents") - pl.col("secondary_paid_cents"),
            reversed=pl.col("claim_id").is_in(reversed_["claim_id"].implode()),
        )
        .with_columns(
            balance_cents=pl.col("charges_cents") - pl.col("payer_paid_cents") - pl.col("contractual_cents")
            - pl.col("denial_writeoff_cents") - pl.col("patient_paid_cents"),
            paid_first_pass=pl.col("first_kind") == "pay",
            # Proxy (kpis.md): accepted and paid on the first submission, no correction
            clean_claim=pl.col("first_kind") == "pay",
            charge_lag_days=(pl.col("submit_date") - pl.col("service_date")).dt.total_days(),
            days_to_payment=(pl.col("first_payment_date") - pl.col("submit_date")).dt.total_days(),
        )
    )  # fmt: skip
    claims = claims.with_columns(
        first_pass_resolved=pl.col("paid_first_pass") & ~pl.col("reversed"),
        final_status=pl.when(pl.col("first_kind").is_null()).then(pl.lit("pending"))
        .when(pl.col("denial_outcome") == "open").then(pl.lit("denied"))
        .when((pl.col("denial_outcome") == "written_off") & (pl.col("payer_paid_cents") == 0)).then(pl.lit("written_off"))
        .when(pl.col("balance_cents") > 0).then(pl.lit("patient_balance"))
        .otherwise(pl.lit("paid")),
    ).select(
        "claim_id", "patient_id", "provider_id", "location_id", "payer_id", "payer_class", "final_payer_id", "secondary_payer_id",
        "visit_type", "service_date", "submit_date", "first_payment_date", "line_count",
        "charges_cents", "allowed_cents", "primary_paid_cents", "secondary_paid_cents", "payer_paid_cents",
        "contractual_cents", "denial_writeoff_cents", "patient_resp_cents", "patient_paid_cents", "balance_cents",
        "final_status", "denied_first_pass", "paid_first_pass", "clean_claim", "first_pass_resolved", "reversed",
        "root_cause", "denial_level", "denial_group", "denial_carc", "denial_rarc", "follow_up", "denial_outcome",
        "denied_cents", pl.when(pl.col("denial_outcome") == "written_off").then(pl.col("writeoff_date")).alias("writeoff_date"),
        "charge_lag_days", "days_to_payment",
    ).sort("claim_id")  # fmt: skip

    line_money = rl.group_by("claim_id", "line_no").agg(
        payer_paid_cents=pl.col("paid_cents").sum(),
        allowed_cents=pl.col("allowed_cents")
        .filter(pl.col("kind").is_in(PRIMARY_KINDS))
        .fill_null(0)
        .sum(),
    )
    line_adj = cas.group_by("claim_id", "line_no").agg(
        contractual_cents=pl.col("amount_cents").filter(_is_contractual()).sum(),
        primary_pr_cents=pl.col("amount_cents")
        .filter((pl.col("group") == "PR") & pl.col("kind").is_in(PRIMARY_KINDS))
        .sum(),
        secondary_paid_cents=pl.lit(0),
    )
    sec_line = (
        rl.filter(pl.col("kind") == "secondary")
        .group_by("claim_id", "line_no")
        .agg(sec=pl.col("paid_cents").sum())
    )
    claim_lines = (
        lines.select("claim_id", "line_no", "procedure", "family", "modifiers", "units", "charge_cents")
        .join(line_money, on=["claim_id", "line_no"], how="left")
        .join(line_adj.drop("secondary_paid_cents"), on=["claim_id", "line_no"], how="left")
        .join(sec_line, on=["claim_id", "line_no"], how="left")
        .with_columns(pl.col(c).fill_null(0) for c in ["payer_paid_cents", "allowed_cents", "contractual_cents", "primary_pr_cents", "sec"])
        .with_columns(patient_resp_cents=pl.col("primary_pr_cents") - pl.col("sec"))
        .drop("primary_pr_cents", "sec")
        .sort("claim_id", "line_no")
    )  # fmt: skip

    adjustments = cas.select(
        "claim_id",
        "line_no",
        "adj_seq",
        "payment_id",
        "clp_seq",
        "payment_date",
        "group",
        "reason",
        "amount_cents",
    ).sort("claim_id", "adj_seq", "line_no", "group", "reason")
    plb = lc.remit_plb.join(
        lc.remit_payments.select("payment_id", "payer_id", "trace_number", "payment_date"),
        on="payment_id",
    )
    billed_pp = patient_payments.filter(pl.col("encounter_id").is_in(billed["claim_id"].implode()))
    contractual = cas.filter(_is_contractual()).select(
        "claim_id", day="payment_date", delta=-pl.col("amount_cents")
    )
    kpis = _kpis_monthly(cfg, claims, adj, contractual, billed_pp, appointments)
    return Ledger(
        claims=claims,
        claim_lines=claim_lines,
        adjustments=adjustments,
        adjudications=adj,
        provider_adjustments=plb,
        patient_payments=patient_payments,
        kpis_monthly=kpis,
        as_of=as_of,
    )


def segment_kpis_monthly(
    cfg: GeneratorConfig, ledger: Ledger, claim_ids: pl.Series, appointments: pl.DataFrame
) -> pl.DataFrame:
    """The headline KPIs per month of one segment of the practice (a payer class, a
    provider, ...), with the ledger's definitions: over the segment's claims, their
    adjudications, contractual adjustments and patient payments, and over the
    appointments given (the caller attributes appointments to the segment). Money in
    cents, as ``ledger.kpis_monthly``, which is what every claim and appointment gives."""
    ids = claim_ids.implode()
    in_segment = pl.col("claim_id").is_in(ids)
    contractual = ledger.adjustments.filter(in_segment & _is_contractual()).select(
        "claim_id", day="payment_date", delta=-pl.col("amount_cents")
    )
    return _kpis_monthly(
        cfg,
        ledger.claims.filter(in_segment),
        ledger.adjudications.filter(in_segment),
        contractual,
        ledger.patient_payments.filter(pl.col("encounter_id").is_in(ids)),
        appointments,
    )


def _kpis_monthly(
    cfg: GeneratorConfig,
    claims: pl.DataFrame,
    adj: pl.DataFrame,
    contractual: pl.DataFrame,
    patient_payments: pl.DataFrame,
    appointments: pl.DataFrame,
) -> pl.DataFrame:
    """Headline KPIs per calendar month (definitions and date bases: README, "Truth ledger")."""
    months = pl.DataFrame(
        {"month": pl.date_range(cfg.start, cfg.end, interval="1mo", eager=True)}
    ).with_columns(month_end=pl.col("month").dt.month_end())
    m = lambda col: pl.col(col).dt.truncate("1mo").alias("month")  # noqa: E731

    # Balance events per claim: + charge at service, − payer paid and contractual at
    # payment, − write-off at its date, − patient payments at posting
    events = pl.concat(
        [
            claims.select("claim_id", day="service_date", delta="charges_cents"),
            adj.select("claim_id", day="payment_date", delta=-pl.col("paid_cents")),
            claims.filter(pl.col("writeoff_date").is_not_null()).select(
                "claim_id", day="writeoff_date", delta=-pl.col("denial_writeoff_cents")
            ),
            patient_payments.select(
                claim_id="encounter_id", day="posted_date", delta=-pl.col("amount_cents")
            ),
        ]
    )
    events = pl.concat([events, contractual]).join(
        claims.select("claim_id", "service_date"), on="claim_id"
    )
    ar = _ar_by_month(months, events)
    charges_by_day = claims.group_by("service_date").agg(c=pl.col("charges_cents").sum())
    trailing = (
        months.join(charges_by_day, how="cross")
        .filter((pl.col("service_date") <= pl.col("month_end")) & ((pl.col("month_end") - pl.col("service_date")).dt.total_days() < 90))
        .group_by("month").agg(charges_90d_cents=pl.col("c").sum())
    )  # fmt: skip
    svc = claims.group_by(m("service_date")).agg(
        charges_cents=pl.col("charges_cents").sum(),
        cohort_paid_cents=(pl.col("payer_paid_cents") + pl.col("patient_paid_cents")).sum(),
        cohort_contractual_cents=pl.col("contractual_cents").sum(),
        claims_count=pl.len(),
    )
    payer_pay = adj.group_by(m("payment_date")).agg(payer_payments_cents=pl.col("paid_cents").sum())
    pat_pay = patient_payments.group_by(m("posted_date")).agg(
        patient_payments_cents=pl.col("amount_cents").sum(),
        pos_cents=pl.col("amount_cents").filter(pl.col("channel") == "point_of_service").sum(),
        gross_patient_cents=pl.col("amount_cents").filter(pl.col("amount_cents") > 0).sum(),
    )
    adjud = (
        claims.filter(pl.col("denied_first_pass").is_not_null())
        .join(adj.filter(pl.col("adj_seq") == 1).select("claim_id", "payment_date"), on="claim_id")
        .group_by(m("payment_date"))
        .agg(
            claims_adjudicated=pl.len(),
            claims_denied=pl.col("denied_first_pass").sum(),
            adjudicated_charges_cents=pl.col("charges_cents").sum(),
            denied_charges_cents=pl.col("charges_cents").filter(pl.col("denied_first_pass")).sum(),
            clean_claims=pl.col("clean_claim").sum(),
            first_pass_resolved=pl.col("first_pass_resolved").sum(),
            overturned=(pl.col("denial_outcome") == "overturned").sum(),
            denials_resolved=pl.col("denial_outcome").is_in(["overturned", "written_off"]).sum(),
        )
    )
    writeoffs = (
        claims.filter(pl.col("writeoff_date").is_not_null())
        .group_by(m("writeoff_date"))
        .agg(denial_writeoff_cents=pl.col("denial_writeoff_cents").sum())
    )
    submitted = claims.group_by(m("submit_date")).agg(
        charge_lag_days_avg=pl.col("charge_lag_days").mean()
    )
    first_payment = (
        claims.filter(pl.col("first_payment_date").is_not_null())
        .group_by(m("first_payment_date"))
        .agg(days_to_payment_avg=pl.col("days_to_payment").mean())
    )
    appts = (
        appointments.filter(pl.col("status").is_in(["completed", "no_show"]))
        .group_by(m("start_at"))
        .agg(appointments_due=pl.len(), no_shows=(pl.col("status") == "no_show").sum())
        .with_columns(pl.col("month").cast(pl.Date))
    )

    k = months
    for part in (
        svc,
        ar,
        trailing,
        payer_pay,
        pat_pay,
        adjud,
        writeoffs,
        submitted,
        first_payment,
        appts,
    ):
        k = k.join(part, on="month", how="left")
    money_cols = [c for c in k.columns if c.endswith("_cents")]
    k = k.with_columns(pl.col(c).fill_null(0) for c in money_cols).with_columns(
        pl.col(c).fill_null(0)
        for c in [
            "claims_count",
            "claims_adjudicated",
            "claims_denied",
            "clean_claims",
            "first_pass_resolved",
            "overturned",
            "denials_resolved",
            "appointments_due",
            "no_shows",
        ]
    )
    div = lambda a, b: pl.when(b != 0).then(a / b).otherwise(None)  # noqa: E731
    return k.with_columns(
        gross_collection_rate=div(
            pl.col("payer_payments_cents") + pl.col("patient_payments_cents"),
            pl.col("charges_cents"),
        ),
        net_collection_rate=div(
            pl.col("cohort_paid_cents"),
            pl.col("charges_cents") - pl.col("cohort_contractual_cents"),
        ),
        days_in_ar=div(pl.col("ar_cents"), pl.col("charges_90d_cents") / 90),
        ar_over_90_pct=div(pl.col("ar_over_90_cents"), pl.col("ar_cents")),
        initial_denial_rate=div(pl.col("claims_denied"), pl.col("claims_adjudicated")),
        initial_denial_rate_dollars=div(
            pl.col("denied_charges_cents"), pl.col("adjudicated_charges_cents")
        ),
        clean_claim_rate=div(pl.col("clean_claims"), pl.col("claims_adjudicated")),
        first_pass_resolution_rate=div(pl.col("first_pass_resolved"), pl.col("claims_adjudicated")),
        denial_overturn_rate=div(pl.col("overturned"), pl.col("denials_resolved")),
        denial_writeoff_pct=div(
            pl.col("denial_writeoff_cents"),
            pl.col("charges_cents") - pl.col("cohort_contractual_cents"),
        ),
        pos_collection_share=div(pl.col("pos_cents"), pl.col("gross_patient_cents")),
        no_show_rate=div(pl.col("no_shows"), pl.col("appointments_due")),
    ).sort("month")


def _ar_by_month(months: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """A/R at each month end, and the part over 90 days from the service date.

    A balance at month end M is the sum of a claim's events dated up to M. A claim counts as
    over 90 days from the first month whose end is more than 90 days after its service date
    (its ageing month). So both figures are sums over (event month, ageing month) cells with
    both months up to M: a cumulative sum, not a per-claim walk."""
    cells = (
        events.with_columns(
            event_month=pl.col("day").dt.truncate("1mo"),
            ageing_month=(pl.col("service_date") + pl.duration(days=91)).dt.truncate("1mo"),
        )
        .with_columns(  # the ageing month is the one whose end is > 90 days after service
            ageing_month=pl.when(
                pl.col("ageing_month").dt.month_end() - pl.col("service_date")
                > pl.duration(days=90)
            )
            .then(pl.col("ageing_month"))
            .otherwise(pl.col("ageing_month").dt.offset_by("1mo"))
        )
        .group_by("event_month", "ageing_month")
        .agg(delta=pl.col("delta").sum())
    )
    rows = []
    for month in months["month"]:
        upto = cells.filter(pl.col("event_month") <= month)
        rows.append(
            {
                "month": month,
                "ar_cents": upto["delta"].sum(),
                "ar_over_90_cents": upto.filter(pl.col("ageing_month") <= month)["delta"].sum(),
            }
        )
    return pl.DataFrame(
        rows, schema={"month": pl.Date, "ar_cents": pl.Int64, "ar_over_90_cents": pl.Int64}
    )
