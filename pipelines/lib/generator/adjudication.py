"""The claim lifecycle: submissions (837P) and payer adjudications (835), as a payer and a
billing office would really produce them.

Per claim (one encounter, CLM01):
1. the original claim goes to the primary payer a few days after the visit;
2. the payer adjudicates it after its own lag and pays on its next payment run: paid (with
   contractual CO-45, patient share PR-1/2/3, Medicare sequestration CO-253), one line
   denied, or the whole claim denied (CLP02 = 4) for a root cause the generator chose;
3. denials are followed up as a billing office would: a corrected claim (frequency 7 with
   REF*F8), an appeal that the payer overturns, a re-bill to the right payer, a transfer to
   the patient (PR-204), or a write-off after ``writeoff_after_days``;
4. some paid claims are later reversed (CLP02 = 22, all amounts negated) and reprocessed in
   the same 835; some are sent twice by mistake and the copy is denied CO-18;
5. secondary coverage pays the patient share: Medicare crosses over to the Medigap plan
   (CLP02 = 19 on the primary), other secondaries get a secondary 837P with the primary's
   adjudication (loops 2320/2430);
6. payments are grouped per payer and payment run into one 835 each, with PLB interest on
   late commercial payments and forward balances when a payment would go negative.
Events dated after the period's end are not emitted: those claims are still pending.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.lib.generator.catalogue import (
    DENIAL_CAUSES,
    DUPLICATE,
    FOLLOW_UPS,
    LINE_LEVEL_CAUSES,
    SPEC_BY_ID,
    SUPPLEMENT_PAYER,
    PayerSpec,
)
from pipelines.lib.generator.coding import Coding
from pipelines.lib.generator.config import GeneratorConfig
from pipelines.lib.generator.population import Population, from_ordinal, to_ordinals
from pipelines.lib.generator.tables import conform

SPEC = SPEC_BY_ID
NO_COST_SHARE = ("preventive", "wellness", "vaccine", "vaccine_admin", "screening")
COPAY_FAMILIES = ("problem_new", "problem_est", "transitional_care")
CAUSES = list(DENIAL_CAUSES)
MAX_INTEREST_ITEMS = 4  # leaves room for a forward balance and its recovery in one PLB


@dataclass
class Lifecycle:
    """Frames in the tables.py contract, plus the generator's own truth about each claim."""

    claim_submissions: pl.DataFrame
    submission_lines: pl.DataFrame
    submission_line_prior_adjustments: pl.DataFrame
    remit_payments: pl.DataFrame
    remit_claims: pl.DataFrame
    remit_claim_adjustments: pl.DataFrame
    remit_lines: pl.DataFrame
    remit_line_adjustments: pl.DataFrame
    remit_plb: pl.DataFrame
    coverages: pl.DataFrame  # population coverages plus coverage found on re-bill
    claims_truth: pl.DataFrame  # one row per claim: root cause, follow-up, dates
    adjudications: pl.DataFrame  # one row per CLP with its kind and dates (truth)


def payer_attr(payer_ids: np.ndarray, attr: Callable[[PayerSpec], float]) -> np.ndarray:
    """A payer attribute for each element of ``payer_ids``, vectorised."""
    unique, inverse = np.unique(np.asarray(payer_ids, dtype=str), return_inverse=True)
    return np.array([attr(SPEC[p]) for p in unique])[inverse]


def _next_run(ready: np.ndarray, payer: np.ndarray) -> np.ndarray:
    """The payer's next payment-run date on or after ``ready`` (ordinals)."""
    out = ready.copy()
    for pid, spec in SPEC.items():
        m = payer == pid
        if not m.any():
            continue
        d = ready[m]
        wd = (d + 6) % 7
        best = np.full(len(d), 10**9)
        for run in spec.run_weekdays:
            best = np.minimum(best, d + (run - wd) % 7)
        out[m] = best
    return out


def _weekday_forward(d: np.ndarray) -> np.ndarray:
    wd = (d + 6) % 7
    return d + np.where(wd >= 5, 7 - wd, 0)


def simulate_lifecycle(
    cfg: GeneratorConfig, pop: Population, coding: Coding, rng: np.random.Generator
) -> Lifecycle:
    r = cfg.realism
    end = cfg.end.toordinal()
    enc = coding.encounters.filter(pl.col("payer_id").is_not_null())
    n = enc.height
    claim_id = enc["claim_id"].to_numpy()
    payer = enc["payer_id"].to_numpy().astype(str)
    service = to_ordinals(enc["service_date"])
    month = enc["service_date"].dt.month().to_numpy()
    plan = enc["plan_type"].to_numpy().astype(str)
    sec_payer = enc["secondary_payer_id"].fill_null("").to_numpy().astype(str)
    lines = coding.lines.join(enc.select("claim_id"), on="claim_id").sort("claim_id", "line_no")

    # ---- 1. original submission
    lag = 1 + rng.poisson(r.mean_charge_lag_days - 1, n)
    lag = np.where(rng.random(n) < 0.03, lag + rng.integers(8, 30, n), lag)  # coding backlog
    # ---- 2. first-pass outcome and root cause
    denial_factor = payer_attr(payer, lambda p: p.denial_factor)
    u = rng.random(n)
    claim_denied = u < r.claim_denial_rate * denial_factor
    line_denied = (~claim_denied) & (u < (r.claim_denial_rate + r.line_denial_rate) * denial_factor)
    shares = np.array([DENIAL_CAUSES[c][0] for c in CAUSES])
    cause_idx = rng.choice(len(CAUSES), size=n, p=shares / shares.sum())
    line_causes = np.array([CAUSES.index(c) for c in LINE_LEVEL_CAUSES])
    cause_idx = np.where(line_denied, line_causes[rng.integers(0, len(line_causes), n)], cause_idx)
    # Claims from a provider in the first 60 days after joining meet credentialing denials
    prov_ids = pop.providers["provider_id"].to_numpy().astype(str)  # sorted P001, P002, ...
    prov_start = to_ordinals(pop.providers["start_date"])
    which = np.searchsorted(prov_ids, enc["provider_id"].to_numpy().astype(str))
    new_prov = service - prov_start[which] < 60
    cred = new_prov & (rng.random(n) < 0.5) & (payer != "MCDST")
    claim_denied |= cred
    line_denied &= ~cred
    cause_idx = np.where(cred, CAUSES.index("credentialing_network"), cause_idx)
    cause = np.array(CAUSES)[cause_idx]
    cause = np.where(claim_denied | line_denied, cause, "")
    timely = cause == "timely_filing"
    lag = np.where(timely, lag + rng.integers(95, 130, n), lag)
    submit = _weekday_forward(service + lag)
    # Follow-up chosen by root cause
    fu = np.full(n, "", dtype=object)
    for c in CAUSES:
        m = cause == c
        w = np.array(DENIAL_CAUSES[c][2])
        fu[m] = np.array(FOLLOW_UPS)[rng.choice(len(FOLLOW_UPS), size=m.sum(), p=w / w.sum())]
    fu = fu.astype(str)
    # The exact CARC: PR-204 only when the balance goes to the patient
    code_choice = rng.integers(0, 10, n)
    d_group = np.full(n, "", dtype=object)
    d_carc = np.full(n, "", dtype=object)
    d_rarc = np.full(n, "", dtype=object)
    for c in CAUSES:
        opts = np.array(
            [(g, carc, rarc or "") for g, carc, rarc in DENIAL_CAUSES[c][1]], dtype=object
        )
        m = cause == c
        pick = (
            np.where(fu[m] == "patient", 0, 1) if c == "non_covered" else code_choice[m] % len(opts)
        )
        d_group[m], d_carc[m], d_rarc[m] = opts[pick, 0], opts[pick, 1], opts[pick, 2]
    d_group, d_carc, d_rarc = d_group.astype(str), d_carc.astype(str), d_rarc.astype(str)

    # Which line a line-level denial hits: the last line (add-ons are what payers deny)
    n_lines = lines.group_by("claim_id", maintain_order=True).agg(pl.len())["len"].to_numpy()
    denied_line = np.where(line_denied, n_lines, 0)
    # A line denial on a one-line claim is a claim denial
    claim_denied |= line_denied & (n_lines == 1)
    line_denied &= n_lines > 1

    # ---- adjudication timeline
    lag_min = payer_attr(payer, lambda p: p.lag_days[0])
    lag_mean = payer_attr(payer, lambda p: p.lag_days[1])
    received = submit + 1
    ready1 = received + lag_min + rng.poisson(lag_mean)
    pay1 = _next_run(ready1, payer)
    # Secondary billing only after a clean primary adjudication
    secondary = (sec_payer != "") & ~claim_denied & ~line_denied
    crossover = secondary & (payer == "MCRB1") & (sec_payer == SUPPLEMENT_PAYER)

    claims = pl.DataFrame(
        {
            "claim_id": claim_id,
            "payer_id": payer,
            "coverage_id": enc["coverage_id"],
            "secondary_payer_id": sec_payer,
            "secondary_coverage_id": enc["secondary_coverage_id"],
            "plan_type": plan,
            "copay_cents": enc["copay_cents"].to_numpy(),
            "month": month,
            "service": service,
            "submit": submit,
            "received": received,
            "pay1": pay1,
            "claim_denied": claim_denied,
            "line_denied": line_denied,
            "denied_line": denied_line.astype(np.int16),
            "cause": cause,
            "follow_up": np.where(claim_denied | line_denied, fu, ""),
            "d_group": d_group,
            "d_carc": d_carc,
            "d_rarc": d_rarc,
            "crossover": crossover & secondary,
        }
    )

    # Deductible applies early in the benefit year (per claim)
    p_ded = np.where(plan == "medicare", np.select([month <= 3, month <= 6], [0.7, 0.12], 0.02),
                     np.where(plan == "hdhp", np.maximum(0.05, 0.8 - 0.07 * (month - 1)), 0.0))  # fmt: skip
    claims = claims.with_columns(
        deductible=pl.Series(rng.random(n) < p_ded),
        ded_share=pl.Series(np.where(rng.random(n) < 0.6, 1.0, 0.5)),
    )

    adj: list[pl.DataFrame] = []  # adjudication specs
    subs: list[pl.DataFrame] = []  # submission specs

    def sub(
        df: pl.DataFrame,
        seq: int,
        freq: str,
        resp: str,
        payer_col: str,
        cov_col: str,
        date_col: str,
        ref: bool,
    ) -> None:
        subs.append(
            df.select(
                "claim_id",
                sub_seq=pl.lit(seq),
                payer_id=pl.col(payer_col),
                coverage_id=pl.col(cov_col),
                frequency=pl.lit(freq),
                payer_responsibility=pl.lit(resp),
                submit=pl.col(date_col),
                ref_clp=pl.lit(True) if ref else pl.lit(False),
            )
        )

    def adjud(
        df: pl.DataFrame,
        seq: int,
        kind: str,
        payer_col: str,
        cov_col: str,
        received_col: str,
        pay_col: str,
        factor: pl.Expr | float = 1.0,
        off_cycle: pl.Expr | bool = False,
    ) -> None:
        adj.append(
            df.select(
                "claim_id",
                adj_seq=pl.lit(seq),
                kind=pl.lit(kind),
                payer_id=pl.col(payer_col),
                coverage_id=pl.col(cov_col),
                received=pl.col(received_col),
                pay=pl.col(pay_col),
                factor=factor if isinstance(factor, pl.Expr) else pl.lit(factor),
                off_cycle=off_cycle if isinstance(off_cycle, pl.Expr) else pl.lit(off_cycle),
            )
        )

    # 1st submission and adjudication
    sub(claims, 1, "1", "P", "payer_id", "coverage_id", "submit", ref=False)
    first_kind = (
        pl.when(pl.col("claim_denied")).then(pl.lit("deny_claim"))
        .when(pl.col("line_denied")).then(pl.lit("deny_line"))
        .otherwise(pl.lit("pay"))
    )  # fmt: skip
    first = claims.with_columns(kind=first_kind)
    for kind in ("pay", "deny_claim", "deny_line"):
        adjud(
            first.filter(pl.col("kind") == kind),
            1,
            kind,
            "payer_id",
            "coverage_id",
            "received",
            "pay1",
        )

    # ---- 3. follow-ups (each lands within 55 days of the denial's payment date)
    denied = claims.filter(pl.col("claim_denied") | pl.col("line_denied"))
    k = denied.height
    corr = denied.with_columns(
        resubmit=pl.Series(_weekday_forward(denied["pay1"].to_numpy() + rng.integers(4, 15, k))),
    )
    corr = corr.with_columns(
        received2=pl.col("resubmit") + 1,
        pay2=pl.Series(
            _next_run(
                corr["resubmit"].to_numpy() + 1 + rng.integers(7, 25, k),
                corr["payer_id"].to_numpy(),
            )
        ),
        appeal_pay=pl.Series(
            _next_run(
                denied["pay1"].to_numpy() + rng.integers(20, 45, k), denied["payer_id"].to_numpy()
            )
        ),
    ).with_columns(
        pay2=pl.min_horizontal("pay2", pl.col("pay1") + 55),
        appeal_pay=pl.min_horizontal("appeal_pay", pl.col("pay1") + 55),
    )
    corrected = corr.filter(pl.col("follow_up") == "corrected")
    sub(corrected, 2, "7", "P", "payer_id", "coverage_id", "resubmit", ref=True)
    appealed = corr.filter(pl.col("follow_up") == "appeal")
    for df, received_col, pay_col in (
        (corrected, "received2", "pay2"),
        (appealed, "received", "appeal_pay"),
    ):
        # Reprocessing a partly paid claim first reverses the original adjudication
        partly = df.filter(pl.col("line_denied"))
        adjud(partly, 2, "reversal", "payer_id", "coverage_id", received_col, pay_col)
        adjud(partly, 3, "pay", "payer_id", "coverage_id", received_col, pay_col)
        adjud(
            df.filter(~pl.col("line_denied")),
            2,
            "pay",
            "payer_id",
            "coverage_id",
            received_col,
            pay_col,
        )
    # Re-bill to the right payer: coverage the registration desk found
    rebill = corr.filter(pl.col("follow_up") == "rebill")
    alt = np.array(["SBLUE", "CARDH", "KEYHM", "NSTAR"])
    rb_payer = alt[rng.integers(0, len(alt), rebill.height)]
    rb_payer = np.where(rb_payer == rebill["payer_id"].to_numpy(), "MCDST", rb_payer)
    rebill = rebill.with_columns(
        rebill_payer=pl.Series(rb_payer, dtype=pl.Utf8),
        rebill_coverage=pl.concat_str([pl.lit("COVR"), pl.col("claim_id").str.slice(1)]),
    )
    sub(rebill, 2, "1", "P", "rebill_payer", "rebill_coverage", "resubmit", ref=False)
    rebill_pay = _next_run(
        rebill["received2"].to_numpy() + payer_attr(rb_payer, lambda p: p.lag_days[0]),
        rb_payer,
    )
    rebill = rebill.with_columns(pay2=pl.min_horizontal(pl.Series(rebill_pay), pl.col("pay1") + 55))
    adjud(rebill, 2, "pay", "rebill_payer", "rebill_coverage", "received2", "pay2")
    coverages = _found_coverages(pop, rebill)

    # ---- 4. reversals of clean paid claims, and duplicate submissions
    clean = claims.filter(
        ~pl.col("claim_denied") & ~pl.col("line_denied") & (pl.col("secondary_payer_id") == "")
    )
    m = clean.height
    pick = rng.random(m)
    rev = clean.filter(pl.Series(pick < r.reversal_rate))
    rev = rev.with_columns(
        pay_rev=pl.Series(
            _next_run(
                rev["pay1"].to_numpy() + rng.integers(30, 90, rev.height),
                rev["payer_id"].to_numpy(),
            )
        ),
        factor=pl.Series(rng.choice([0.9, 0.95, 1.04, 1.08], size=rev.height)),
    )
    # Most payers reverse and reprocess in one 835; some recoup in an off-cycle 835 that
    # holds only reversals, and reprocess on their next payment run
    later = rng.random(rev.height) < 0.4
    next_run = _next_run(rev["pay_rev"].to_numpy() + 1, rev["payer_id"].to_numpy())
    rev = rev.with_columns(
        pay_reproc=pl.Series(np.where(later, next_run, rev["pay_rev"].to_numpy())),
        off_cycle=pl.Series(later),
    )
    adjud(
        rev,
        3,
        "reversal",
        "payer_id",
        "coverage_id",
        "received",
        "pay_rev",
        off_cycle=pl.col("off_cycle"),
    )
    adjud(
        rev, 4, "pay", "payer_id", "coverage_id", "received", "pay_reproc", factor=pl.col("factor")
    )
    dup = clean.filter(
        pl.Series(
            (pick >= r.reversal_rate) & (pick < r.reversal_rate + r.duplicate_submission_rate)
        )
    )
    dup = dup.with_columns(
        dup_submit=pl.Series(
            _weekday_forward(dup["submit"].to_numpy() + rng.integers(20, 35, dup.height))
        )
    )
    dup = dup.with_columns(
        dup_received=pl.col("dup_submit") + 1,
        dup_pay=pl.Series(
            _next_run(
                dup["dup_submit"].to_numpy()
                + 1
                + payer_attr(dup["payer_id"].to_numpy(), lambda p: p.lag_days[0]),
                dup["payer_id"].to_numpy(),
            )
        ),
    )
    sub(dup, 5, "1", "P", "payer_id", "coverage_id", "dup_submit", ref=False)
    adjud(dup, 5, "deny_duplicate", "payer_id", "coverage_id", "dup_received", "dup_pay")

    # ---- 5. secondary: after the primary's (final) payment
    sec = claims.filter(
        (pl.col("secondary_payer_id") != "") & ~pl.col("claim_denied") & ~pl.col("line_denied")
    )
    s = sec.height
    sec = sec.with_columns(
        sec_submit=pl.Series(_weekday_forward(sec["pay1"].to_numpy() + rng.integers(3, 8, s))),
        cross_received=pl.col("pay1") + 2,
    )
    sec = sec.with_columns(
        sec_received=pl.when(pl.col("crossover"))
        .then(pl.col("cross_received"))
        .otherwise(pl.col("sec_submit") + 1),
    )
    sec = sec.with_columns(
        sec_pay=pl.Series(
            _next_run(
                sec["sec_received"].to_numpy() + rng.integers(7, 20, s),
                sec["secondary_payer_id"].to_numpy(),
            )
        )
    )
    sub(
        sec.filter(~pl.col("crossover")),
        6,
        "1",
        "S",
        "secondary_payer_id",
        "secondary_coverage_id",
        "sec_submit",
        ref=False,
    )
    adjud(
        sec,
        6,
        "secondary",
        "secondary_payer_id",
        "secondary_coverage_id",
        "sec_received",
        "sec_pay",
    )

    adjudications = pl.concat(adj).sort("claim_id", "adj_seq")
    submissions = pl.concat(subs).sort("claim_id", "sub_seq")
    return _materialise(
        cfg, pop, claims, lines, coding, adjudications, submissions, coverages, end, rng
    )


def _found_coverages(pop: Population, rebill: pl.DataFrame) -> pl.DataFrame:
    """Coverage discovered when a claim is re-billed to the right payer."""
    pats = pop.coverages.select("coverage_id", "patient_id")
    found = (
        rebill.join(pats, on="coverage_id")
        .join(
            pop.patients.select("patient_id", "last_name", "first_name", "dob", "sex"),
            on="patient_id",
        )
        .select(
            coverage_id=pl.col("rebill_coverage"),
            patient_id="patient_id",
            payer_id=pl.col("rebill_payer"),
            priority=pl.lit(1, pl.Int8),
            member_id=pl.concat_str([pl.lit("RB"), pl.col("claim_id").str.slice(1)]),
            group_number=pl.when(pl.col("rebill_payer") == "MCDST")
            .then(None)
            .otherwise(pl.lit("GRP700100")),
            relationship=pl.lit("18"),
            subscriber_last="last_name",
            subscriber_first="first_name",
            subscriber_dob="dob",
            subscriber_sex="sex",
            start_date=from_ordinal(pl.col("service") - 365),
            end_date=pl.lit(None, pl.Date),
            plan_type=pl.when(pl.col("rebill_payer") == "MCDST")
            .then(pl.lit("medicaid"))
            .otherwise(pl.lit("copay")),
            copay_cents=pl.lit(0, pl.Int64),
        )
    )
    return pl.concat([pop.coverages, found]).unique("coverage_id", keep="first").sort("coverage_id")


def _line_outcomes(
    adjs: pl.DataFrame, lines: pl.DataFrame, claims: pl.DataFrame, coverages: pl.DataFrame
) -> pl.DataFrame:
    """Per adjudication and line: allowed, paid and the CAS amounts (cents), before
    reversals and secondaries (which derive from these)."""
    rate_factor = pl.DataFrame(
        {"payer_id": list(SPEC), "rate_factor": [s.rate_factor for s in SPEC.values()]}
    )
    x = (
        adjs.filter(pl.col("kind").is_in(["pay", "deny_claim", "deny_line", "deny_duplicate"]))
        .join(lines, on="claim_id")
        .join(rate_factor, on="payer_id")
        .join(
            coverages.select("coverage_id", "plan_type", "copay_cents"),
            on="coverage_id",
            how="left",
        )
        .join(
            claims.select(
                "claim_id", "denied_line", "deductible", "ded_share", "d_group", "d_carc", "d_rarc"
            ),
            on="claim_id",
        )
    )
    denied = (
        (pl.col("kind") == "deny_claim")
        | (pl.col("kind") == "deny_duplicate")
        | ((pl.col("kind") == "deny_line") & (pl.col("line_no") == pl.col("denied_line")))
    )
    shareable = ~pl.col("family").is_in(NO_COST_SHARE) & ~denied
    x = x.with_columns(
        denied=denied,
        allowed=pl.when(denied)
        .then(0)
        .otherwise(
            pl.min_horizontal(
                pl.col("charge_cents"),
                (pl.col("rate_cents") * pl.col("rate_factor") * pl.col("factor"))
                .round(0)
                .cast(pl.Int64),
            )
        ),
    )
    x = x.with_columns(
        ded=pl.when(
            shareable & pl.col("deductible") & pl.col("plan_type").is_in(["medicare", "hdhp"])
        )
        .then((pl.col("allowed") * pl.col("ded_share")).round(0).cast(pl.Int64))
        .otherwise(0),
    )
    x = x.with_columns(
        coins=pl.when(shareable & pl.col("plan_type").is_in(["medicare", "hdhp"]))
        .then(((pl.col("allowed") - pl.col("ded")) * 0.2).round(0).cast(pl.Int64))
        .otherwise(0),
    )
    # Copay on the visit's first E/M line
    em_line = shareable & pl.col("family").is_in(COPAY_FAMILIES)
    first_em = pl.col("line_no") == pl.when(em_line).then(pl.col("line_no")).min().over(
        "claim_id", "adj_seq"
    )
    x = x.with_columns(
        copay=pl.when(em_line & first_em)
        .then(
            pl.min_horizontal(
                pl.col("copay_cents"), pl.col("allowed") - pl.col("ded") - pl.col("coins")
            )
        )
        .otherwise(0),
    )
    x = x.with_columns(
        seq=pl.when(pl.col("payer_id") == "MCRB1")
        .then(
            ((pl.col("allowed") - pl.col("ded") - pl.col("coins") - pl.col("copay")) * 0.02)
            .round(0)
            .cast(pl.Int64)
        )
        .otherwise(0),
    )
    x = x.with_columns(
        paid=pl.col("allowed") - pl.col("ded") - pl.col("coins") - pl.col("copay") - pl.col("seq")
    )
    return x


def _cas_long(x: pl.DataFrame) -> pl.DataFrame:
    """CAS rows (group, reason, amount) per adjudication line, non-zero only."""
    keys = ["claim_id", "adj_seq", "line_no"]
    parts = [
        x.filter(~pl.col("denied")).select(
            *keys,
            group=pl.lit("CO"),
            reason=pl.lit("45"),
            amount=pl.col("charge_cents") - pl.col("allowed"),
            o=pl.lit(1),
        ),
        x.select(*keys, group=pl.lit("PR"), reason=pl.lit("1"), amount="ded", o=pl.lit(2)),
        x.select(*keys, group=pl.lit("PR"), reason=pl.lit("2"), amount="coins", o=pl.lit(3)),
        x.select(*keys, group=pl.lit("PR"), reason=pl.lit("3"), amount="copay", o=pl.lit(4)),
        x.select(*keys, group=pl.lit("CO"), reason=pl.lit("253"), amount="seq", o=pl.lit(5)),
        x.filter(pl.col("denied") & (pl.col("kind") != "deny_duplicate")).select(
            *keys, group="d_group", reason="d_carc", amount="charge_cents", o=pl.lit(0)
        ),
        x.filter(pl.col("kind") == "deny_duplicate").select(
            *keys,
            group=pl.lit(DUPLICATE[0]),
            reason=pl.lit(DUPLICATE[1]),
            amount="charge_cents",
            o=pl.lit(0),
        ),
    ]
    return pl.concat(parts).filter(pl.col("amount") != 0)


def _materialise(
    cfg: GeneratorConfig,
    pop: Population,
    claims: pl.DataFrame,
    lines: pl.DataFrame,
    coding: Coding,
    adjs: pl.DataFrame,
    subs: pl.DataFrame,
    coverages: pl.DataFrame,
    end: int,
    rng: np.random.Generator,
) -> Lifecycle:
    keys = ["claim_id", "adj_seq", "line_no"]
    base = _line_outcomes(adjs, lines, claims, coverages)
    cas = _cas_long(base)
    # Secondary lines: pay the primary's patient share (from the first adjudication)
    primary_pr = (
        cas.filter((pl.col("adj_seq") == 1) & (pl.col("group") == "PR"))
        .group_by("claim_id", "line_no").agg(pr=pl.col("amount").sum())
    )  # fmt: skip
    sec_adj = adjs.filter(pl.col("kind") == "secondary")
    sec_lines = (
        sec_adj.join(lines, on="claim_id")
        .join(primary_pr, on=["claim_id", "line_no"], how="left")
        .with_columns(
            paid=pl.col("pr").fill_null(0), allowed=pl.lit(None, pl.Int64), denied=pl.lit(False)
        )
    )
    # Drop secondaries with nothing to pay (the primary left no patient share)
    needed = (
        sec_lines.group_by("claim_id")
        .agg(pl.col("paid").sum())
        .filter(pl.col("paid") > 0)["claim_id"]
    )
    sec_lines = sec_lines.filter(pl.col("claim_id").is_in(needed.implode()))
    adjs = adjs.filter((pl.col("kind") != "secondary") | pl.col("claim_id").is_in(needed.implode()))
    subs = subs.filter((pl.col("sub_seq") != 6) | pl.col("claim_id").is_in(needed.implode()))
    sec_cas = sec_lines.select(
        *keys,
        group=pl.lit("OA"),
        reason=pl.lit("23"),
        amount=pl.col("charge_cents") - pl.col("paid"),
        o=pl.lit(0),
    ).filter(pl.col("amount") != 0)
    # Reversals negate the first adjudication, line by line
    rev_adj = adjs.filter(pl.col("kind") == "reversal").select("claim_id", "adj_seq")
    rev_lines = rev_adj.join(
        base.filter(pl.col("adj_seq") == 1).drop("adj_seq"), on="claim_id"
    ).with_columns(
        paid=-pl.col("paid"),
        allowed=-pl.col("allowed"),
        charge_cents=-pl.col("charge_cents"),
        units=-pl.col("units"),
    )
    rev_cas = rev_adj.join(
        cas.filter(pl.col("adj_seq") == 1).drop("adj_seq"), on="claim_id"
    ).with_columns(amount=-pl.col("amount"))

    line_cols = [
        "claim_id",
        "adj_seq",
        "line_no",
        "procedure",
        "modifiers",
        "charge_cents",
        "paid",
        "allowed",
        "units",
        "denied",
        "line_ctrl",
    ]
    all_lines = pl.concat(
        [
            df.with_columns(
                line_ctrl=pl.concat_str(
                    [pl.col("claim_id"), pl.lit("-"), pl.col("line_no").cast(pl.Utf8)]
                )
            ).select(line_cols)
            for df in (base, sec_lines, rev_lines)
        ]
    ).sort(keys)
    all_cas = pl.concat([cas, sec_cas, rev_cas.select(cas.columns)]).sort(*keys, "o")

    # ---- keep what happened by the end of the period
    adjs = adjs.filter(pl.col("pay") <= end)
    subs = subs.filter(pl.col("submit") <= end)
    # A claim exists once submitted; its adjudications need their submission sent
    adjs = adjs.join(
        subs.filter(pl.col("sub_seq") == 1).select("claim_id"), on="claim_id", how="semi"
    )
    status_expr = (
        pl.when(pl.col("kind") == "reversal").then(pl.lit("22"))
        .when(pl.col("kind") == "secondary").then(pl.lit("2"))
        .when(pl.col("kind").is_in(["deny_claim", "deny_duplicate"])).then(pl.lit("4"))
        .when(pl.col("crossover") & (pl.col("adj_seq") == 1)).then(pl.lit("19"))
        .otherwise(pl.lit("1"))
    )  # fmt: skip
    adjs = adjs.join(
        claims.select("claim_id", "crossover", "d_rarc", "cause", "follow_up"), on="claim_id"
    ).with_columns(status=status_expr)

    # Payments: one per payer and payment-run date
    payments = (
        adjs.select("payer_id", "pay", "off_cycle").unique().sort("pay", "payer_id", "off_cycle")
        .with_columns(payment_id=pl.int_range(pl.len(), dtype=pl.Int64) + 1)
    )  # fmt: skip
    adjs = adjs.join(payments, on=["payer_id", "pay", "off_cycle"]).sort(
        "payment_id", "claim_id", "adj_seq"
    )
    adjs = adjs.with_columns(clp_seq=(pl.int_range(pl.len()).over("payment_id") + 1).cast(pl.Int32))
    # Payer claim control numbers: new for each adjudication but a reversal's
    adjs = adjs.with_columns(
        payer_claim_control=pl.concat_str(
            [
                pl.col("payer_id").str.slice(0, 2),
                from_ordinal(pl.col("pay")).dt.strftime("%y%j"),
                (pl.int_range(pl.len()) + 1).cast(pl.Utf8).str.zfill(8),
            ]
        )
    )
    first_ctrl = adjs.filter(pl.col("adj_seq") == 1).select(
        "claim_id", first_ctrl="payer_claim_control"
    )
    adjs = adjs.join(first_ctrl, on="claim_id", how="left").with_columns(
        payer_claim_control=pl.when(pl.col("kind") == "reversal")
        .then(pl.col("first_ctrl"))
        .otherwise(pl.col("payer_claim_control"))
    )

    rl = all_lines.join(
        adjs.select("claim_id", "adj_seq", "payment_id", "clp_seq", "kind", "d_rarc"),
        on=["claim_id", "adj_seq"],
    )
    rl = rl.with_columns(svc_seq=(pl.col("line_no")).cast(pl.Int32))
    rcas = all_cas.join(
        adjs.select("claim_id", "adj_seq", "payment_id", "clp_seq"), on=["claim_id", "adj_seq"]
    )
    pr_sum = (
        rcas.filter(pl.col("group") == "PR")
        .group_by("claim_id", "adj_seq")
        .agg(pr=pl.col("amount").sum())
    )
    clp_money = rl.group_by("claim_id", "adj_seq").agg(
        charge=pl.col("charge_cents").sum(), paid=pl.col("paid").sum()
    )
    adjs = (
        adjs.join(clp_money, on=["claim_id", "adj_seq"])
        .join(pr_sum, on=["claim_id", "adj_seq"], how="left")
        .with_columns(pr=pl.col("pr").fill_null(0))
    )

    enc = coding.encounters.select(
        "claim_id", "patient_id", "provider_id", "location_id", "service_date"
    )
    remit_claims = adjs.join(enc, on="claim_id").select(
        "payment_id", "clp_seq", "claim_id", "status",
        charge_cents="charge", paid_cents="paid", patient_resp_cents="pr",
        filing_indicator=pl.col("payer_id").replace_strict({k: v.filing_indicator for k, v in SPEC.items()}),
        payer_claim_control="payer_claim_control",
        facility_code=pl.lit("11"),
        frequency=pl.lit("1"),
        patient_id="patient_id", coverage_id="coverage_id", provider_id="provider_id",
        service_date="service_date",
        received_date=from_ordinal(pl.col("received")),
        moa_remarks=pl.when((pl.col("payer_id") == "MCRB1") & (pl.col("status") == "4")).then(pl.lit(["MA01"])).otherwise(pl.lit([], pl.List(pl.Utf8))),
    ).sort("payment_id", "clp_seq")  # fmt: skip
    remit_lines = rl.join(enc.select("claim_id", "service_date"), on="claim_id").select(
        "payment_id", "clp_seq", "svc_seq", "procedure", "modifiers",
        "charge_cents", paid_cents="paid", units="units", service_date="service_date", line_ctrl="line_ctrl",
        allowed_cents=pl.when(pl.col("kind").is_in(["secondary", "deny_duplicate"]) | pl.col("denied")).then(None).otherwise(pl.col("allowed")),
        remarks=pl.when(pl.col("denied") & (pl.col("d_rarc") != "") & (pl.col("kind") != "deny_duplicate")).then(pl.concat_list("d_rarc")).otherwise(pl.lit([], pl.List(pl.Utf8))),
    ).sort("payment_id", "clp_seq", "svc_seq")  # fmt: skip
    remit_line_adj = rcas.select(
        "payment_id", "clp_seq", svc_seq=pl.col("line_no").cast(pl.Int32), group="group", reason="reason",
        amount_cents="amount", quantity=pl.lit(None, pl.Int32),
    ).sort("payment_id", "clp_seq", "svc_seq")  # fmt: skip

    plb, totals = _provider_adjustments(adjs, payments)
    payer_tin = {pid: f"1{59_000_000 + i:09d}" for i, pid in enumerate(SPEC)}
    remit_payments = totals.select(
        "payment_id", "payer_id",
        trace_number=pl.concat_str([pl.col("payer_id").replace_strict(payer_tin).str.slice(1, 4), from_ordinal(pl.col("pay")).dt.strftime("%Y%m%d"), pl.col("payment_id").cast(pl.Utf8).str.zfill(6)]),
        method=pl.col("payer_id").replace_strict({k: v.method for k, v in SPEC.items()}),
        payment_date=from_ordinal(pl.col("pay")),
        production_date=from_ordinal(pl.col("pay") - 2),
        total_cents="total",
    )  # fmt: skip

    # ---- submissions (837P)
    subs = subs.sort("submit", "claim_id", "sub_seq").with_columns(
        submission_id=pl.int_range(pl.len(), dtype=pl.Int64) + 1
    )
    subs = subs.join(first_ctrl, on="claim_id", how="left")
    first_pay = adjs.filter(pl.col("adj_seq") == 1).select(
        "claim_id", "payer_id", "coverage_id", "paid", "pay"
    )
    subs = subs.join(
        first_pay.select(
            "claim_id",
            prior_payer_id="payer_id",
            prior_coverage_id="coverage_id",
            prior_paid_cents="paid",
            prior_pay="pay",
        ),
        on="claim_id",
        how="left",
    )
    is_sec = pl.col("payer_responsibility") == "S"
    claim_dx = (
        coding.diagnoses.sort("claim_id", "position")
        .group_by("claim_id", maintain_order=True)
        .agg(diagnoses=pl.col("code"))
    )
    charge = lines.group_by("claim_id").agg(total_charge_cents=pl.col("charge_cents").sum())
    claim_submissions = (
        subs.join(enc, on="claim_id").join(claim_dx, on="claim_id").join(charge, on="claim_id")
        .select(
            "submission_id", "claim_id", "patient_id", "coverage_id", "payer_id", "payer_responsibility", "frequency",
            payer_claim_ref=pl.when(pl.col("ref_clp")).then(pl.col("first_ctrl")),
            submit_date=from_ordinal(pl.col("submit")), service_date="service_date",
            provider_id="provider_id", location_id="location_id", place_of_service=pl.lit("11"),
            total_charge_cents="total_charge_cents", diagnoses="diagnoses",
            prior_payer_id=pl.when(is_sec).then(pl.col("prior_payer_id")),
            prior_coverage_id=pl.when(is_sec).then(pl.col("prior_coverage_id")),
            prior_paid_cents=pl.when(is_sec).then(pl.col("prior_paid_cents")),
            prior_adjudication_date=pl.when(is_sec).then(from_ordinal(pl.col("prior_pay"))),
        )
        .sort("submission_id")
    )  # fmt: skip
    first_lines = all_lines.filter(pl.col("adj_seq") == 1).select(
        "claim_id", "line_no", prior_line_paid="paid"
    )
    submission_lines = (
        claim_submissions.select("submission_id", "claim_id", "payer_responsibility", "service_date")
        .join(lines, on="claim_id")
        .join(first_lines, on=["claim_id", "line_no"], how="left")
        .select(
            "submission_id", "line_no",
            line_ctrl=pl.concat_str([pl.col("claim_id"), pl.lit("-"), pl.col("line_no").cast(pl.Utf8)]),
            procedure="procedure", modifiers="modifiers", charge_cents="charge_cents", units="units",
            service_date="service_date", dx_pointers="dx_pointers",
            prior_paid_cents=pl.when(pl.col("payer_responsibility") == "S").then(pl.col("prior_line_paid")),
        )
        .sort("submission_id", "line_no")
    )  # fmt: skip
    sec_subs = claim_submissions.filter(pl.col("payer_responsibility") == "S").select(
        "submission_id", "claim_id"
    )
    prior_adj = (
        sec_subs.join(all_cas.filter(pl.col("adj_seq") == 1), on="claim_id")
        .select("submission_id", "line_no", "group", "reason", amount_cents="amount", quantity=pl.lit(None, pl.Int32))
        .sort("submission_id", "line_no")
    )  # fmt: skip

    truth_adj = adjs.select(
        "claim_id", "adj_seq", "kind", "status", "payer_id", "coverage_id", "payment_id", "clp_seq",
        "payer_claim_control", received_date=from_ordinal(pl.col("received")), payment_date=from_ordinal(pl.col("pay")),
        charge_cents="charge", paid_cents="paid", patient_resp_cents="pr",
    ).sort("claim_id", "adj_seq")  # fmt: skip
    claims_truth = claims.join(subs.filter(pl.col("sub_seq") == 1).select("claim_id"), on="claim_id", how="semi").select(
        "claim_id", "payer_id", "coverage_id", "secondary_payer_id",
        submit_date=from_ordinal(pl.col("submit")), first_payment_date=from_ordinal(pl.col("pay1")),
        root_cause=pl.when(pl.col("cause") != "").then(pl.col("cause")),
        denial_level=pl.when(pl.col("claim_denied")).then(pl.lit("claim")).when(pl.col("line_denied")).then(pl.lit("line")),
        denied_line_no=pl.when(pl.col("line_denied")).then(pl.col("denied_line")),
        follow_up=pl.when(pl.col("follow_up") != "").then(pl.col("follow_up")),
        denial_group=pl.when(pl.col("cause") != "").then(pl.col("d_group")),
        denial_carc=pl.when(pl.col("cause") != "").then(pl.col("d_carc")),
        denial_rarc=pl.when(pl.col("d_rarc") != "").then(pl.col("d_rarc")),
    ).sort("claim_id")  # fmt: skip

    return Lifecycle(
        claim_submissions=conform("claim_submissions", claim_submissions),
        submission_lines=conform("submission_lines", submission_lines),
        submission_line_prior_adjustments=conform("submission_line_prior_adjustments", prior_adj),
        remit_payments=conform("remit_payments", remit_payments),
        remit_claims=conform("remit_claims", remit_claims),
        remit_claim_adjustments=pl.DataFrame(schema={"payment_id": pl.Int64}).pipe(
            lambda _: _empty_claim_adj()
        ),
        remit_lines=conform("remit_lines", remit_lines),
        remit_line_adjustments=conform("remit_line_adjustments", remit_line_adj),
        remit_plb=conform("remit_plb", plb),
        coverages=coverages,
        claims_truth=claims_truth,
        adjudications=truth_adj,
    )


def _empty_claim_adj() -> pl.DataFrame:
    from pipelines.lib.generator.tables import empty

    return empty("remit_claim_adjustments")


def _provider_adjustments(
    adjs: pl.DataFrame, payments: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """PLB rows and each payment's BPR02 total. Interest (L6, negative) on commercial
    payments made over 40 days after receipt. When reversals make a payment negative the
    payer sends nothing that day and forwards the balance (FB, negative), then recovers the
    overpayment from its next payment (WO, positive, referencing the forward balance)."""
    commercial = [k for k, v in SPEC.items() if v.payer_class == "commercial"]
    late = adjs.filter(
        pl.col("payer_id").is_in(commercial)
        & (pl.col("paid") > 0)
        & (pl.col("pay") - pl.col("received") > 40)
    ).with_columns(
        interest=(pl.col("paid") * 0.10 * (pl.col("pay") - pl.col("received") - 40) / 365)
        .round(0)
        .cast(pl.Int64)
    )
    per_claim = late.filter(pl.col("interest") > 0).select(
        "payment_id", reason=pl.lit("L6"), reference="claim_id", amount_cents=-pl.col("interest")
    )
    # Payers list interest per claim, but one PLB holds six items and validators choke on a
    # repeated PLB: a payment with many late claims reports its interest as one item.
    many = (
        per_claim.group_by("payment_id")
        .len()
        .filter(pl.col("len") > MAX_INTEREST_ITEMS)["payment_id"]
    )
    interest = pl.concat(
        [
            per_claim.filter(~pl.col("payment_id").is_in(many.implode())),
            per_claim.filter(pl.col("payment_id").is_in(many.implode()))
            .group_by("payment_id")
            .agg(reason=pl.lit("L6"), amount_cents=pl.col("amount_cents").sum())
            .with_columns(
                reference=pl.concat_str(
                    [pl.lit("INT"), pl.col("payment_id").cast(pl.Utf8).str.zfill(6)]
                )
            )
            .select("payment_id", "reason", "reference", "amount_cents"),
        ]
    )
    base = (
        payments.join(
            adjs.group_by("payment_id").agg(clp=pl.col("paid").sum()), on="payment_id", how="left"
        )
        .join(
            interest.group_by("payment_id").agg(l6=pl.col("amount_cents").sum()),
            on="payment_id",
            how="left",
        )
        .with_columns(pl.col("clp").fill_null(0), pl.col("l6").fill_null(0))
        .sort("payer_id", "pay")
    )
    fb_rows: list[tuple[int, str, str, int]] = []
    totals: dict[int, int] = {}
    carry: dict[str, tuple[int, int]] = {}
    for pid, payer, clp, l6 in base.select("payment_id", "payer_id", "clp", "l6").iter_rows():
        total = clp - l6
        owed = carry.pop(payer, None)
        if owed is not None:
            fb_rows.append((pid, "WO", f"FB{owed[0]:06d}", owed[1]))
            total -= owed[1]
        if total < 0:
            fb_rows.append((pid, "FB", f"FB{pid:06d}", total))
            carry[payer] = (pid, -total)
            total = 0
        totals[pid] = total
    fb = pl.DataFrame(
        fb_rows,
        schema={
            "payment_id": pl.Int64,
            "reason": pl.Utf8,
            "reference": pl.Utf8,
            "amount_cents": pl.Int64,
        },
        orient="row",
    )
    plb = (
        pl.concat([interest, fb])
        .sort("payment_id", "reason", "reference")
        .with_columns(plb_seq=(pl.int_range(pl.len()).over("payment_id") + 1).cast(pl.Int32))
    )
    tot = payments.with_columns(
        total=pl.col("payment_id").replace_strict(totals, return_dtype=pl.Int64)
    )
    return plb, tot
