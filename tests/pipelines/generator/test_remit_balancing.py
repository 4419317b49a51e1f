"""Every generated 835 balances and ties out with the truth ledger, read back with a reader
that shares no code with the generator."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import polars as pl
import pytest
from x12_readback import read_835, totals_by_claim


@pytest.fixture(scope="module")
def remits(small_practice):
    paths = sorted((small_practice.landing / "remits").glob("*.835"))
    assert paths, "the small practice has remittances"
    return [read_835(p) for p in paths]


def test_service_lines_balance(remits):
    checked = 0
    for r in remits:
        for c in r.claims:
            for ln in c["lines"]:
                assert ln["charge"] - sum(a for _, _, a in ln["cas"]) == ln["paid"], (
                    r.path.name,
                    c["id"],
                    ln,
                )
                checked += 1
    assert checked > 1000


def test_claims_balance(remits):
    for r in remits:
        for c in r.claims:
            cas = sum(a for _, _, a in c["cas"]) + sum(
                a for ln in c["lines"] for _, _, a in ln["cas"]
            )
            assert c["charge"] - cas == c["paid"], (r.path.name, c["id"])


def test_transactions_balance(remits):
    for r in remits:
        assert sum(c["paid"] for c in r.claims) - sum(a for _, a in r.plb) == r.bpr02, r.path.name


def test_remits_tie_to_ledger_per_claim(remits, small_practice):
    """Per claim: payer paid and every CAS group/reason equal the ledger to the cent."""
    from_files = totals_by_claim(remits)
    truth = pl.read_parquet(small_practice.truth / "claims.parquet")
    adjustments = pl.read_parquet(small_practice.truth / "adjustments.parquet")
    ledger_cas: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for claim_id, group, reason, amount in adjustments.select(
        "claim_id", "group", "reason", "amount"
    ).iter_rows():
        ledger_cas[claim_id][f"{group}-{reason}"] += amount
    paid = dict(truth.select("claim_id", "payer_paid").iter_rows())
    assert set(from_files) <= set(paid)
    for claim_id, amounts in paid.items():
        got = from_files.get(claim_id, {})
        assert got.get("paid", Decimal(0)) == amounts, claim_id
        file_cas = {k: v for k, v in got.items() if k != "paid" and v != 0}
        want_cas = {k: v for k, v in ledger_cas[claim_id].items() if v != 0}
        assert file_cas == want_cas, claim_id


def test_plb_ties_to_ledger(remits, small_practice):
    plb = pl.read_parquet(small_practice.truth / "provider_adjustments.parquet")
    from_files = sum((a for r in remits for _, a in r.plb), Decimal(0))
    assert from_files == plb["amount"].sum()
    reasons = set(plb["reason"])
    assert {"L6", "FB", "WO"} <= reasons, "interest, a forward balance and its recovery"
    forwarded = plb.filter(pl.col("reason") == "FB")["amount"].sum()
    recovered = plb.filter(pl.col("reason") == "WO")["amount"].sum()
    assert forwarded < 0 and forwarded + recovered == 0


def test_patient_payments_tie_to_ledger(small_practice):
    csv = pl.concat(
        [
            pl.read_csv(p, schema_overrides={"amount": pl.String})
            for p in sorted((small_practice.landing / "payments").glob("*.csv"))
        ]
    )
    total = sum((Decimal(a) for a in csv["amount"]), Decimal(0))
    ledger = pl.read_parquet(small_practice.truth / "patient_payments.parquet")
    assert total == ledger["amount"].sum()
    assert csv.height == ledger.height
    assert set(csv["channel"]) >= {"point_of_service", "statement", "online"}


def test_ledger_money_identity(small_practice):
    """charges = payer paid + contractual + denial write-off + patient paid + balance."""
    c = pl.read_parquet(small_practice.truth / "claims.parquet")
    lhs = c["charges"]
    rhs = (
        c["payer_paid"] + c["contractual"] + c["denial_writeoff"] + c["patient_paid"] + c["balance"]
    )
    assert (lhs == rhs).all()
    assert c["charges"].dtype == pl.Decimal(18, 2)
