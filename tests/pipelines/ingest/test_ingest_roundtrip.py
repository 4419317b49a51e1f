"""The small practice loads completely and the raw layer ties out with the truth ledger to
the cent."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import polars as pl
import pytest


@pytest.fixture(scope="module")
def con(ingested_small):
    c = duckdb.connect(str(ingested_small.data_dir / "warehouse" / "rcm.duckdb"), read_only=True)
    yield c
    c.close()


def one(con, sql):
    return con.execute(sql).fetchall()[0][0]


def test_every_file_loaded_and_archived(ingested_small, con):
    assert ingested_small.outcomes and all(o.status == "loaded" for o in ingested_small.outcomes)
    landing = ingested_small.data_dir / "landing"
    assert not [p for p in landing.rglob("*") if p.is_file()], "landing is empty after the run"
    archived = [p for p in (ingested_small.data_dir / "archive").rglob("*") if p.is_file()]
    assert len(archived) == len(ingested_small.outcomes)
    assert one(
        con,
        "select count(*) from raw.file_registry where status = 'loaded' and moved_to like 'archive/%'",
    ) == len(archived)


def test_payer_money_ties_to_ledger(ingested_small, con):
    truth = pl.read_parquet(ingested_small.files.truth / "claims.parquet")
    assert one(con, "select sum(paid_amount) from raw.remit_claims") == truth["payer_paid"].sum()
    by_claim = dict(
        con.execute(
            "select patient_control_number, sum(paid_amount) from raw.remit_claims group by 1"
        ).fetchall()
    )
    for claim_id, paid in (
        truth.filter(pl.col("payer_paid") != 0).select("claim_id", "payer_paid").iter_rows()
    ):
        assert by_claim[claim_id] == paid, claim_id


def test_charges_tie_to_ledger(ingested_small, con):
    """Original claims (frequency 1, primary) carry each claim's charges once."""
    truth = pl.read_parquet(ingested_small.files.truth / "claims.parquet")
    charges = one(
        con,
        """select sum(total_charge_amount) from (
               select distinct on (patient_control_number) patient_control_number, total_charge_amount
               from raw.claims order by patient_control_number, file_id, segment_index)""",
    )
    assert charges == truth["charges"].sum()
    assert one(con, "select count(distinct patient_control_number) from raw.claims") == truth.height


def test_submission_dates_tie_to_ledger(ingested_small, con):
    """BHT04 of a claim's first 837P is the ledger's submission date (charge lag's basis)."""
    truth = pl.read_parquet(ingested_small.files.truth / "claims.parquet")
    first = dict(
        con.execute(
            "select patient_control_number, min(submission_date) from raw.claims group by 1"
        ).fetchall()
    )
    for claim_id, submitted in truth.select("claim_id", "submit_date").iter_rows():
        assert first[claim_id] == submitted, claim_id


def test_every_claim_submission_names_its_patient_by_mrn(ingested_small, con):
    """2300 REF*EA on every 837P claim, and every submission of a claim (original,
    correction, void, secondary) names the ledger's patient for it."""
    truth = pl.read_parquet(ingested_small.files.truth / "claims.parquet")
    assert one(con, "select count(*) from raw.claims where medical_record_number is null") == 0
    mrns = dict(
        con.execute(
            """select patient_control_number, min(medical_record_number)
               from raw.claims group by 1 having count(distinct medical_record_number) = 1"""
        ).fetchall()
    )
    assert len(mrns) == truth.height
    for claim_id, patient_id in truth.select("claim_id", "patient_id").iter_rows():
        assert mrns[claim_id] == patient_id, claim_id


def test_each_adjustment_group_and_reason_ties_to_ledger(ingested_small, con):
    adj = pl.read_parquet(ingested_small.files.truth / "adjustments.parquet")
    want = {
        (g, r): a
        for g, r, a in adj.group_by("group", "reason").agg(pl.col("amount").sum()).iter_rows()
    }
    got = dict(
        ((g, r), a)
        for g, r, a in con.execute(
            """select group_code, reason_code, sum(amount) from (
                   select group_code, reason_code, amount from raw.remit_line_adjustments
                   union all select group_code, reason_code, amount from raw.remit_claim_adjustments)
               group by all"""
        ).fetchall()
    )
    assert got == want
    assert len(want) >= 8


def test_plb_and_patient_payments_tie_to_ledger(ingested_small, con):
    plb = pl.read_parquet(ingested_small.files.truth / "provider_adjustments.parquet")
    for reason, amount in plb.group_by("reason").agg(pl.col("amount").sum()).iter_rows():
        assert (
            one(
                con,
                f"select sum(amount) from raw.remit_provider_adjustments where reason_code = '{reason}'",
            )
            == amount
        )
    pp = pl.read_parquet(ingested_small.files.truth / "patient_payments.parquet")
    assert one(con, "select sum(amount) from raw.patient_payments") == pp["amount"].sum()
    assert one(con, "select count(*) from raw.patient_payments") == pp.height


def test_scheduling_rows_complete(ingested_small, con):
    appts = ingested_small.files.practice.appointments
    assert one(con, "select count(*) from raw.appointments") == appts.height
    assert (
        one(con, "select count(distinct patient_id) from raw.patients")
        == ingested_small.files.practice.population.patients.height
    )


def test_lineage_and_types(con):
    cols = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns where table_schema='raw' and table_name='remit_claims'"
        ).fetchall()
    )
    assert cols["paid_amount"] == "DECIMAL(18,2)"
    assert cols["received_date"] == "DATE"
    for c in (
        "file_id",
        "interchange_control_number",
        "group_control_number",
        "transaction_control_number",
        "segment_index",
    ):
        assert c in cols
    assert (
        one(
            con,
            "select count(*) from raw.remit_claims where file_id is null or segment_index is null",
        )
        == 0
    )
    assert Decimal(str(one(con, "select sum(amount) from raw.patient_payments"))) != 0
