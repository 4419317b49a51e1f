"""End to end: the small practice's extracts, ingested and built by dbt, give the truth
ledger's numbers. Every claim's and line's money to the cent, counts exactly, and every
monthly headline KPI (money exact, rates to 4 decimals) for the practice and for each
payer class."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from pipelines.lib.generator.catalogue import SPEC_BY_ID
from pipelines.lib.generator.ledger import segment_kpis_monthly
from pipelines.lib.generator.tables import cents_to_text

# fct_claims column → truth claims.parquet column
CLAIM_COLUMNS = {
    "patient_id": "patient_id",
    "location_id": "location_id",
    "payer_id": "payer_id",
    "payer_class": "payer_class",
    "final_payer_id": "final_payer_id",
    "service_date": "service_date",
    "submission_date": "submit_date",
    "first_payment_date": "first_payment_date",
    "line_count": "line_count",
    "charges": "charges",
    "allowed_amount": "allowed",
    "primary_paid": "primary_paid",
    "secondary_paid": "secondary_paid",
    "payer_paid": "payer_paid",
    "contractual_amount": "contractual",
    "denial_writeoff_amount": "denial_writeoff",
    "patient_responsibility": "patient_resp",
    "patient_paid": "patient_paid",
    "balance": "balance",
    "claim_status": "final_status",
    "is_denied_first_pass": "denied_first_pass",
    "is_paid_first_pass": "paid_first_pass",
    "is_clean_claim": "clean_claim",
    "is_first_pass_resolved": "first_pass_resolved",
    "is_reversed": "reversed",
    "denial_outcome": "denial_outcome",
    "writeoff_date": "writeoff_date",
    "charge_lag_days": "charge_lag_days",
    "days_to_payment": "days_to_payment",
}
# Known only once the payer has decided: the ledger knows the generator's plan for a
# claim still pending, the warehouse only what the 835s said.
DECIDED_COLUMNS = {
    "denial_level": "denial_level",
    "denial_root_cause": "root_cause",
    "denial_group_code": "denial_group",
    "denial_carc_code": "denial_carc",
}
LINE_COLUMNS = {
    "procedure_code": "procedure",
    "charges": "charge",
    "allowed_amount": "allowed",
    "payer_paid": "payer_paid",
    "contractual_amount": "contractual",
    "patient_responsibility": "patient_resp",
}
# fct_kpis_monthly column → truth kpis_monthly.parquet column
KPI_EXACT = {
    "month_end": "month_end",
    "claims_count": "claims_count",
    "claims_adjudicated": "claims_adjudicated",
    "claims_denied": "claims_denied",
    "clean_claims": "clean_claims",
    "first_pass_resolved": "first_pass_resolved",
    "denials_overturned": "overturned",
    "denials_resolved": "denials_resolved",
    "appointments_due": "appointments_due",
    "no_shows": "no_shows",
    "charges": "charges",
    "cohort_paid": "cohort_paid",
    "cohort_contractual": "cohort_contractual",
    "ar_balance": "ar",
    "ar_over_90": "ar_over_90",
    "charges_90d": "charges_90d",
    "payer_payments": "payer_payments",
    "patient_payments": "patient_payments",
    "point_of_service_payments": "pos",
    "gross_patient_payments": "gross_patient",
    "adjudicated_charges": "adjudicated_charges",
    "denied_charges": "denied_charges",
    "denial_writeoffs": "denial_writeoff",
}
KPI_RATES = [
    "gross_collection_rate",
    "net_collection_rate",
    "days_in_ar",
    "ar_over_90_pct",
    "initial_denial_rate",
    "initial_denial_rate_dollars",
    "clean_claim_rate",
    "first_pass_resolution_rate",
    "denial_overturn_rate",
    "denial_writeoff_pct",
    "charge_lag_days_avg",
    "days_to_payment_avg",
    "pos_collection_share",
    "no_show_rate",
]


@pytest.fixture(scope="module")
def con(built_con):
    return built_con


@pytest.fixture(scope="module")
def truth(built_small):
    return built_small.ingested.files.truth


def frame(con, sql: str) -> pl.DataFrame:
    return pl.from_arrow(con.sql(sql).to_arrow_table())


def mismatches(joined: pl.DataFrame, keys: list[str], pairs: dict[str, str]) -> dict:
    """Per column pair, the rows whose values differ (nulls equal only to nulls); values
    compare as text so Decimal('1.50') and Decimal('1.5') would differ: money is exact."""
    out = {}
    for ours, theirs in pairs.items():
        left = f"{ours}_w" if ours == theirs else ours
        bad = joined.filter(pl.col(left).cast(pl.Utf8).ne_missing(pl.col(theirs).cast(pl.Utf8)))
        if bad.height:
            out[ours] = bad.select(*keys, left, theirs).head(5).rows()
    return out


def test_dbt_build_passes_every_test(built_small):
    assert built_small.returncode == 0, built_small.log[-4000:]
    statuses = {r["unique_id"]: r["status"] for r in built_small.results}
    failed = {u: s for u, s in statuses.items() if s not in ("success", "pass", "warn")}
    assert not failed
    kinds = {u.split(".")[0] for u in statuses}
    assert {"model", "seed", "test", "unit_test"} <= kinds
    marts = {u.split(".")[-1] for u in statuses if u.startswith("model.")}
    assert {"fct_claims", "fct_claim_lines", "fct_denials", "fct_payments", "fct_ar_daily"} <= marts
    assert {"fct_kpis_monthly", "fct_appointments", "fct_visits"} <= marts


def test_as_of_date_is_the_ledgers(con, truth):
    config = json.loads((truth / "config.json").read_text())
    as_of = con.sql("select as_of_date from intermediate.int_as_of_date_derived").fetchall()
    assert as_of == [(date.fromisoformat(config["as_of"]),)]


def test_every_claim_ties_to_the_ledger(con, truth):
    ours = frame(con, "select * from marts.fct_claims")
    ledger = pl.read_parquet(truth / "claims.parquet")
    assert ours.height == ledger.height > 1000
    joined = ledger.join(ours, on="claim_id", how="full", suffix="_w", coalesce=True)
    assert joined.height == ledger.height, "claims only on one side"
    assert mismatches(joined, ["claim_id"], CLAIM_COLUMNS) == {}
    decided = joined.filter(pl.col("final_status") != "pending")
    assert mismatches(decided, ["claim_id"], DECIDED_COLUMNS) == {}
    # denied_amount: the ledger leaves it null for claims not denied
    at_stake = decided.filter(
        pl.col("denied").fill_null(Decimal("0.00")) != pl.col("denied_amount")
    )
    assert at_stake.height == 0
    # the lifecycle's variety is really exercised
    assert set(ledger["final_status"]) >= {"pending", "denied", "patient_balance", "paid"}
    assert ledger["reversed"].sum() > 0 and (ledger["secondary_paid"] > 0).sum() > 0
    assert set(ledger["denial_outcome"].drop_nulls()) >= {
        "overturned",
        "open",
        "patient_responsibility",
    }


def test_every_claim_line_ties_to_the_ledger(con, truth):
    ours = frame(con, "select *, line_number as line_no from marts.fct_claim_lines")
    ledger = pl.read_parquet(truth / "claim_lines.parquet").with_columns(
        pl.col("line_no").cast(pl.Int32)
    )
    assert ours.height == ledger.height
    joined = ledger.join(
        ours.rename({"charges": "charges_w"}),
        on=["claim_id", "line_no"],
        how="full",
        suffix="_w",
        coalesce=True,
    ).rename({"charges_w": "charges"})
    pairs = {k: v for k, v in LINE_COLUMNS.items()}
    assert mismatches(joined, ["claim_id", "line_no"], pairs) == {}


def kpi_mismatches(con, segment_type: str, segment_id: str, ledger: pl.DataFrame) -> dict:
    """Per KPI, the months where fct_kpis_monthly's row of one segment differs from the
    ledger's (money and counts exact, rates to 4 decimals); {} when they tie."""
    ours = frame(
        con,
        f"""select * from marts.fct_kpis_monthly
            where segment_type = '{segment_type}' and segment_id = '{segment_id}'
            order by month_start""",
    )
    joined = ledger.sort("month").join(
        ours, left_on="month", right_on="month_start", how="left", suffix="_w"
    )
    assert joined.height == ledger.height == 3, (segment_type, segment_id)
    out = mismatches(joined, ["month"], KPI_EXACT)
    for rate in KPI_RATES:
        for month, expected, actual in joined.select("month", rate, f"{rate}_w").rows():
            tied = (expected is None) == (actual is None) and (
                expected is None or round(actual, 4) == round(expected, 4)
            )
            if not tied:
                out.setdefault(rate, []).append((month, expected, actual))
    return out


def money_as_decimal(df: pl.DataFrame) -> pl.DataFrame:
    """The ledger's ``*_cents`` columns as DECIMAL(18,2) without the suffix, as the truth
    parquet files hold them."""
    cents = [c for c in df.columns if c.endswith("_cents")]
    return df.with_columns(
        cents_to_text(pl.col(c)).cast(pl.Decimal(18, 2)).alias(c.removesuffix("_cents"))
        for c in cents
    ).drop(cents)


def test_every_monthly_kpi_ties_to_the_ledger(con, truth):
    ledger = pl.read_parquet(truth / "kpis_monthly.parquet")
    assert kpi_mismatches(con, "practice", "all", ledger) == {}


def test_payer_class_kpis_tie_to_the_ledger(con, built_small):
    """Every KPI of every payer-class segment is the ledger's definition applied to that
    class's claims (the class of the payer first billed) and to the appointments of
    patients whose primary payer on the roster is of that class."""
    sp = built_small.ingested.files.practice
    ledger = sp.ledger
    whole = segment_kpis_monthly(sp.config, ledger, ledger.claims["claim_id"], sp.appointments)
    assert whole.equals(ledger.kpis_monthly)  # the segment helper is the ledger's own rule
    payer_class = {payer_id: spec.payer_class for payer_id, spec in SPEC_BY_ID.items()}
    # the roster extract's primary payer: the patient's earliest priority-1 coverage
    roster_payer = (
        sp.lifecycle.coverages.filter(pl.col("priority") == 1)
        .sort("start_date")
        .group_by("patient_id")
        .agg(pl.col("payer_id").first())
        .with_columns(payer_class=pl.col("payer_id").replace_strict(payer_class))
    )
    appointments = sp.appointments.join(roster_payer, on="patient_id", how="left")
    classes = set(ledger.claims["payer_class"]) | set(appointments["payer_class"].drop_nulls())
    ours = {
        segment_id
        for (segment_id,) in con.sql(
            "select distinct segment_id from marts.fct_kpis_monthly where segment_type = 'payer_class'"
        ).fetchall()
    }
    assert ours == classes and len(classes) >= 3
    for cls in sorted(classes):
        claim_ids = ledger.claims.filter(pl.col("payer_class") == cls)["claim_id"]
        kpis = segment_kpis_monthly(
            sp.config,
            ledger,
            claim_ids,
            appointments.filter(pl.col("payer_class") == cls).drop("payer_id", "payer_class"),
        )
        assert kpi_mismatches(con, "payer_class", cls, money_as_decimal(kpis)) == {}, cls


def test_segments_add_up_to_the_practice(con):
    """Every claim is in exactly one provider, payer, location and payer-class segment, so
    their counts and money add up to the practice's each month."""
    rows = con.sql(
        """select month_start, segment_type, sum(claims_count), sum(charges),
                  sum(payer_payments), sum(ar_balance), sum(claims_denied)
           from marts.fct_kpis_monthly group by 1, 2 order by 1, 2"""
    ).fetchall()
    by_month: dict = {}
    for month, segment, *values in rows:
        by_month.setdefault(month, {})[segment] = values
    segment_types = ("provider", "payer", "location", "payer_class")
    for month, segments in by_month.items():
        assert set(segments) == {"practice", *segment_types}
        for segment in segment_types:
            assert segments[segment] == segments["practice"], (month, segment)


def test_ar_daily_ties_to_claim_balances_and_month_ends(con, truth):
    as_of_balance = con.sql(
        """select sum(ar_balance) from marts.fct_ar_daily
           where date_day = (select as_of_date from intermediate.int_as_of_date_derived)"""
    ).fetchall()[0][0]
    claims_balance = con.sql("select sum(balance) from marts.fct_claims").fetchall()[0][0]
    assert as_of_balance == claims_balance
    ledger = pl.read_parquet(truth / "kpis_monthly.parquet")
    for month_end, ar in ledger.select("month_end", "ar").rows():
        ours = con.execute(
            "select sum(ar_balance) from marts.fct_ar_daily where date_day = ?", [month_end]
        ).fetchall()[0][0]
        assert ours == ar, month_end


def test_ar_snapshots_tie_to_the_ledger_and_claims(con, truth):
    """Claim-level A/R: each month end's snapshots sum to the ledger's A/R and A/R over 90
    days, and on the as-of date each claim's rows sum to its balance in the ledger."""
    ledger = pl.read_parquet(truth / "kpis_monthly.parquet")
    for month_end, ar, ar_over_90 in ledger.select("month_end", "ar", "ar_over_90").rows():
        ours = con.execute(
            """select sum(balance), sum(case when is_over_90_days then balance else 0 end),
                      bool_and(is_month_end)
               from marts.fct_ar_snapshots where snapshot_date = ?""",
            [month_end],
        ).fetchall()[0]
        assert ours == (ar, ar_over_90, True), month_end
    ours = frame(
        con,
        """select claim_id, sum(balance) as balance_w from marts.fct_ar_snapshots
           where is_as_of_date group by claim_id""",
    )
    claims = pl.read_parquet(truth / "claims.parquet").select("claim_id", "balance")
    joined = claims.join(ours, on="claim_id", how="full", coalesce=True).with_columns(
        pl.col("balance", "balance_w").fill_null(Decimal("0.00"))
    )
    assert joined.height == claims.height, "snapshots of claims the ledger does not have"
    assert mismatches(joined, ["claim_id"], {"balance_w": "balance"}) == {}
    assert (claims["balance"] != 0).sum() > 100


def test_submissions_tie_to_the_generated_837s(con, built_small):
    """fct_claim_submissions holds every 837P claim the generator sent, as sent: payer,
    payer order, frequency, date and total charge, claim by claim."""
    sent = built_small.ingested.files.practice.lifecycle.claim_submissions.select(
        "claim_id",
        "payer_id",
        payer_responsibility_code="payer_responsibility",
        claim_frequency_code="frequency",
        submission_date="submit_date",
        charges=cents_to_text(pl.col("total_charge_cents")),
    )
    ours = frame(
        con,
        """select claim_id, payer_id, payer_responsibility_code, claim_frequency_code,
                  submission_date, cast(charges as varchar) as charges, submission_kind
           from marts.fct_claim_submissions""",
    )
    columns = sent.columns
    assert sorted(ours.select(columns).rows()) == sorted(sent.rows())
    assert set(ours["submission_kind"]) >= {"original", "corrected", "secondary"}


def test_adjudications_and_adjustments_tie_to_the_ledger(con, truth):
    """fct_claim_adjudications is the ledger's 835 claim payments, one for one and in the
    claim's order (kind, CLP02, date, CLP03/04/05); fct_claim_adjustments its CAS
    amounts, per adjudication, line, group and CARC, to the cent."""
    kinds = {"pay": "paid", "deny_claim": "claim_denied", "deny_line": "line_denied",
             "deny_duplicate": "duplicate_denied", "reversal": "reversal", "secondary": "secondary"}  # fmt: skip
    ledger = pl.read_parquet(truth / "adjudications.parquet").with_columns(
        # the ledger numbers adjudications by kind of event; their order is the claim's
        sequence=pl.col("adj_seq").rank("ordinal").over("claim_id").cast(pl.Int64),
        adjudication_kind=pl.col("kind").replace_strict(kinds),
    )
    ours = frame(
        con, "select *, adjudication_sequence as sequence from marts.fct_claim_adjudications"
    )
    joined = ledger.join(ours, on=["claim_id", "sequence"], how="full", suffix="_w", coalesce=True)
    assert joined.height == ledger.height == ours.height > 1000
    pairs = {
        "adjudication_kind_w": "adjudication_kind",
        "claim_status_code": "status",
        "payment_date_w": "payment_date",
        "payer_id_w": "payer_id",
        "payer_claim_control_number": "payer_claim_control",
        "charges": "charge",
        "paid_amount": "paid",
        "patient_responsibility": "patient_resp",
    }
    assert mismatches(joined, ["claim_id", "sequence"], pairs) == {}
    assert set(ours["adjudication_kind"]) == set(kinds.values())

    keys = ["claim_id", "sequence", "line_number", "group", "carc_code"]
    cas = (
        pl.read_parquet(truth / "adjustments.parquet")
        .join(ledger.select("claim_id", "adj_seq", "sequence"), on=["claim_id", "adj_seq"])
        .rename({"line_no": "line_number", "reason": "carc_code"})
        .group_by(keys)
        .agg(pl.col("amount").sum(), amounts=pl.len())
    )
    ours = (
        frame(
            con,
            """select adjustments.*, adjustments.adjustment_group_code as "group",
                      adjudications.adjudication_sequence as sequence
               from marts.fct_claim_adjustments as adjustments
               inner join marts.fct_claim_adjudications as adjudications
                   on adjustments.remit_claim_id = adjudications.remit_claim_id""",
        )
        .group_by(keys)
        .agg(pl.col("adjustment_amount").sum(), amounts_w=pl.len())
    )
    joined = cas.join(ours, on=keys, how="full", coalesce=True)
    assert joined.height == cas.height == ours.height > 1000
    assert mismatches(joined, keys, {"adjustment_amount": "amount", "amounts_w": "amounts"}) == {}


def test_payments_tie_to_the_ledger(con, truth):
    ledger_pp = pl.read_parquet(truth / "patient_payments.parquet")["amount"].sum()
    ledger_plb = pl.read_parquet(truth / "provider_adjustments.parquet")["amount"].sum()
    ledger_paid = pl.read_parquet(truth / "adjudications.parquet")["paid"].sum()
    rows = dict(
        con.sql(
            """select case when payment_source = 'patient' then 'patient'
                           when claim_id is null then 'plb' else 'claims' end, sum(amount)
               from marts.fct_payments group by 1"""
        ).fetchall()
    )
    assert rows["patient"] == ledger_pp
    assert rows["claims"] == ledger_paid
    assert rows["plb"] == -ledger_plb  # PLB amounts withhold; interest is negative there
