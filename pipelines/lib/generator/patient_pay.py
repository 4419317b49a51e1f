"""What patients pay: copays at check-in, statement and online payments after the payers
have adjudicated, payment plans for larger balances, refunds of over-collected copays, and
self-pay visits. One row per payment (refunds negative), as a PM system exports them.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.lib.generator.adjudication import Lifecycle
from pipelines.lib.generator.coding import Coding
from pipelines.lib.generator.config import GeneratorConfig
from pipelines.lib.generator.population import from_ordinal, to_ordinals

PRIMARY_KINDS = ("pay", "deny_claim", "deny_line", "reversal")


def patient_balances(coding: Coding, lc: Lifecycle) -> pl.DataFrame:
    """Per encounter: what the patient owes after the payers (cents) and since when.

    Billed claims: net primary patient responsibility less what the secondary paid, known
    at the last adjudication. Self-pay visits: the whole charge, known at the visit."""
    adj = lc.adjudications
    pr = (
        adj.filter(pl.col("kind").is_in(PRIMARY_KINDS))
        .group_by("claim_id")
        .agg(pr=pl.col("patient_resp_cents").sum(), last_pay=pl.col("payment_date").max())
    )
    sec = (
        adj.filter(pl.col("kind") == "secondary")
        .group_by("claim_id")
        .agg(sec_paid=pl.col("paid_cents").sum(), sec_pay=pl.col("payment_date").max())
    )
    billed = (
        pr.join(sec, on="claim_id", how="left")
        .select("claim_id", owed=pl.col("pr") - pl.col("sec_paid").fill_null(0), known=pl.max_horizontal("last_pay", "sec_pay"))
    )  # fmt: skip
    charges = coding.lines.group_by("claim_id").agg(charge=pl.col("charge_cents").sum())
    enc = coding.encounters.select(
        "claim_id",
        "patient_id",
        "service_date",
        "visit_type",
        "copay_cents",
        self_pay=pl.col("payer_id").is_null(),
    )
    self_pay = (
        enc.filter("self_pay")
        .join(charges, on="claim_id")
        .select("claim_id", owed="charge", known="service_date")
    )
    return enc.join(pl.concat([billed, self_pay]), on="claim_id", how="left")


def build_patient_payments(
    cfg: GeneratorConfig, coding: Coding, lc: Lifecycle, rng: np.random.Generator
) -> pl.DataFrame:
    r = cfg.realism
    end = cfg.end.toordinal()
    bal = patient_balances(coding, lc).sort("claim_id")
    n = bal.height
    service = to_ordinals(bal["service_date"])
    self_pay = bal["self_pay"].to_numpy()
    copay = bal["copay_cents"].to_numpy()
    owed = bal["owed"].fill_null(0).to_numpy()
    known = bal["known"]
    known_ord = np.where(
        known.is_null().to_numpy(), 10**9, to_ordinals(known.fill_null(bal["service_date"]))
    )
    has_em = bal["visit_type"].is_in(["acute", "chronic", "transitional"]).to_numpy()
    rows: list[pl.DataFrame] = []

    def emit(
        mask: np.ndarray,
        day: np.ndarray,
        amount: np.ndarray,
        method: np.ndarray | str,
        channel: str,
    ) -> None:
        idx = np.nonzero(mask)[0]
        rows.append(
            pl.DataFrame(
                {
                    "i": idx,
                    "day": np.broadcast_to(day, (n,))[idx],
                    "amount_cents": np.broadcast_to(amount, (n,))[idx].astype(np.int64),
                    "method": np.broadcast_to(np.asarray(method, dtype=object), (n,))[idx].astype(
                        str
                    ),
                    "channel": np.full(len(idx), channel),
                }
            )
        )

    card_or_cash = np.where(rng.random(n) < 0.8, "card", "cash")
    # At check-in: the plan's copay, or a deposit on a self-pay visit
    pos_copay = (copay > 0) & has_em & ~self_pay & (rng.random(n) < r.pos_copay_collection_rate)
    deposit = np.where(self_pay, np.minimum(owed, np.where(rng.random(n) < 0.5, 7500, 5000)), 0)
    pos_deposit = self_pay & (rng.random(n) < 0.75) & (deposit > 0)
    pos_amount = np.where(pos_copay, copay, np.where(pos_deposit, deposit, 0))
    emit(pos_copay | pos_deposit, service, pos_amount, card_or_cash, "point_of_service")

    # After the payers: refund over-collection, or send a statement for the rest
    due = owed - pos_amount
    settled = known_ord <= end
    refund = settled & (due < 0)
    emit(refund, known_ord + rng.integers(10, 30, n), due, "card", "refund")
    statement = known_ord + rng.integers(3, 8, n)
    open_bal = settled & (due > 0)
    pay_rate = np.where(self_pay, r.statement_pay_rate * 0.6, r.statement_pay_rate)
    u = rng.random(n)
    plan = open_bal & (due > 20000) & (u < r.payment_plan_share)
    in_full = open_bal & ~plan & (u < pay_rate)
    method = np.where(
        rng.random(n) < 0.55, "online", np.where(rng.random(n) < 0.5, "check", "card")
    )
    pay_day = statement + rng.integers(8, 50, n)
    emit(in_full & (method == "online"), pay_day, due, "card", "online")
    emit(in_full & (method != "online"), pay_day, due, method, "statement")
    # Payment plans: 3–6 monthly instalments, the last one takes the remainder
    k = rng.integers(3, 7, n)
    instalment = due // np.maximum(k, 1)
    for j in range(6):
        last = j == k - 1
        amount = np.where(last, due - instalment * (k - 1), instalment)
        emit(plan & (j < k), statement + 14 + 30 * j, amount, "ach", "payment_plan")

    pays = pl.concat(rows).filter((pl.col("day") <= end) & (pl.col("amount_cents") != 0))
    pays = pays.with_columns(
        encounter_id=pl.Series(bal["claim_id"].to_numpy()[pays["i"].to_numpy()]),
        patient_id=pl.Series(bal["patient_id"].to_numpy()[pays["i"].to_numpy()]),
    ).sort("day", "encounter_id", "channel", "amount_cents")
    # Posting: same day at the desk; the next business day for mail and online
    posted = pays["day"].to_numpy() + np.where(
        pays["channel"].to_numpy() == "point_of_service", 0, 1
    )
    wd = (posted + 6) % 7
    posted = posted + np.where(wd >= 5, 7 - wd, 0)
    return pays.with_columns(
        payment_id=pl.concat_str(
            [pl.lit("PP"), (pl.int_range(pl.len()) + 1).cast(pl.Utf8).str.zfill(8)]
        ),
        payment_date=from_ordinal(pl.col("day")),
        posted_date=from_ordinal(pl.Series(posted)),
        reference=pl.when(pl.col("channel") == "refund")
        .then(pl.lit("overpayment refund"))
        .otherwise(pl.lit(None, pl.Utf8)),
    ).select(
        "payment_id",
        "patient_id",
        "encounter_id",
        "payment_date",
        "posted_date",
        "amount_cents",
        "method",
        "channel",
        "reference",
    )
