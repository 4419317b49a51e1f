"""Encounters and their coding: what a family physician bills for each kept visit.

Preventive visits by age band (99381–99397), Medicare wellness (G0402/G0438/G0439) instead
of preventive codes for Medicare patients, problem E/M new and established on the published
family-medicine level curve, G2211 on longitudinal problem visits, a problem addressed at a
preventive visit billed with modifier 25, vaccines with their administration codes,
screenings, in-office labs and procedures, transitional care after discharge and monthly
chronic care management. Diagnoses fit the visit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.lib.generator.catalogue import (
    DX_ACUTE,
    DX_ACUTE_WEIGHTS,
    DX_CHRONIC,
    DX_CHRONIC_WEIGHTS,
    DX_PREVENTIVE_ADULT,
    DX_PREVENTIVE_CHILD,
    DX_VACCINE,
    EM_BENCHMARK_ESTABLISHED,
    EM_BENCHMARK_NEW,
    PREVENTIVE_BANDS,
    PROBLEM_ADD_ONS,
    SERVICES,
)
from pipelines.lib.generator.config import GeneratorConfig
from pipelines.lib.generator.population import Population

# Vaccines for children at preventive visits: (min age, max age, code, components)
CHILD_VACCINES = [
    (0, 7, "90700", 3),
    (1, 13, "90707", 3),
    (1, 13, "90716", 1),
    (11, 18, "90715", 3),
    (9, 18, "90651", 1),
]
FLU_MONTHS = (9, 10, 11, 12, 1, 2)


@dataclass
class Coding:
    """encounters: one row per billable encounter (claim_id is CLM01);
    lines: one row per service line; diagnoses: one row per encounter diagnosis, in order."""

    encounters: pl.DataFrame
    lines: pl.DataFrame
    diagnoses: pl.DataFrame


def _pick(rng: np.random.Generator, options: list[str], weights: list[float], n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return np.asarray(options)[rng.choice(len(options), size=n, p=w / w.sum())]


def build_encounters(
    cfg: GeneratorConfig, pop: Population, appts: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """Kept appointments plus monthly chronic-care-management services, with the coverage in
    force on the service date."""
    kept = appts.filter(pl.col("status") == "completed").select(
        "appointment_id", "patient_id", "provider_id", "location_id", "visit_type",
        service_date=pl.col("start_at").dt.date(),
    )  # fmt: skip
    # New patient: the first kept visit of a patient who joined during the period
    new_pats = pop.patients.filter(pl.col("created_date") >= cfg.start).select("patient_id")
    first_visit = (
        kept.join(new_pats, on="patient_id")
        .group_by("patient_id")
        .agg(pl.col("appointment_id").min())
    )
    kept = kept.with_columns(
        is_new=pl.col("appointment_id").is_in(first_visit["appointment_id"].implode())
    )

    # Chronic care management: enrolled Medicare patients with 2+ chronic conditions,
    # billed monthly by their PCP (no appointment)
    cov1 = pop.coverages.filter(pl.col("priority") == 1)
    medicare_pats = cov1.filter(pl.col("payer_id") == "MCRB1")["patient_id"].unique().sort()
    ccm_pats = medicare_pats.filter(pl.Series(rng.random(medicare_pats.len()) < 0.10))
    months = pl.date_range(cfg.start, cfg.end, interval="1mo", eager=True)
    month_ends = months.dt.month_end()
    ccm = (
        pl.DataFrame({"patient_id": ccm_pats})
        .join(pl.DataFrame({"service_date": month_ends}), how="cross")
        .join(
            pop.patients.select(
                "patient_id", provider_id="pcp_provider_id", location_id="home_location_id"
            ),
            on="patient_id",
        )
        .with_columns(
            appointment_id=pl.lit(None, pl.Utf8),
            visit_type=pl.lit("chronic_care"),
            is_new=pl.lit(False),
        )
    )
    # Month-end on a weekend moves back to Friday
    wd = ccm["service_date"].dt.weekday().to_numpy()  # 1=Mon..7=Sun
    ccm = ccm.with_columns(
        service_date=pl.col("service_date")
        - pl.duration(days=pl.Series(np.where(wd > 5, wd - 5, 0)))
    )
    ccm = ccm.filter(pl.Series(rng.random(ccm.height) < 0.85)).select(kept.columns)
    enc = pl.concat([kept, ccm]).sort(
        "service_date", "provider_id", "patient_id", "appointment_id", nulls_last=True
    )

    # Coverage in force on the service date (primary and secondary)
    def in_force(priority: int, prefix: str) -> pl.DataFrame:
        c = pop.coverages.filter(pl.col("priority") == priority)
        return (
            enc.select("patient_id", "service_date").unique()
            .join(c, on="patient_id")
            .filter((pl.col("start_date") <= pl.col("service_date")) & (pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("service_date"))))
            .group_by("patient_id", "service_date").agg(pl.all().sort_by("start_date").last())
            .select("patient_id", "service_date", pl.col("coverage_id").alias(f"{prefix}coverage_id"), pl.col("payer_id").alias(f"{prefix}payer_id"),
                    *( [pl.col("plan_type"), pl.col("copay_cents")] if priority == 1 else []))
        )  # fmt: skip

    enc = enc.join(in_force(1, ""), on=["patient_id", "service_date"], how="left").join(
        in_force(2, "secondary_"), on=["patient_id", "service_date"], how="left"
    )
    enc = enc.join(pop.patients.select("patient_id", "dob"), on="patient_id").with_columns(
        age=((pl.col("service_date") - pl.col("dob")).dt.total_days() / 365.25),
    )
    # Secondary only where there is a primary; CCM only where Medicare is still primary
    enc = enc.filter((pl.col("visit_type") != "chronic_care") | (pl.col("payer_id") == "MCRB1"))
    enc = enc.sort("service_date", "provider_id", "patient_id", "appointment_id", nulls_last=True)
    return enc.with_columns(
        claim_id=pl.concat_str(
            [pl.lit("E"), (pl.int_range(pl.len()) + 1).cast(pl.Utf8).str.zfill(8)]
        ),
        plan_type=pl.col("plan_type").fill_null("self_pay"),
        copay_cents=pl.col("copay_cents").fill_null(0),
    )


class _Builder:
    """Collects service lines and diagnoses in blocks; each block is vectorised."""

    def __init__(self) -> None:
        self.lines: list[pl.DataFrame] = []
        self.dx: list[pl.DataFrame] = []

    def dx_block(self, enc: np.ndarray, codes: np.ndarray | str, order: int) -> None:
        self.dx.append(
            pl.DataFrame(
                {
                    "enc": enc,
                    "order": np.full(len(enc), order),
                    "code": np.broadcast_to(np.asarray(codes, dtype=object), enc.shape).astype(str),
                }
            )
        )

    def line_block(
        self,
        enc: np.ndarray,
        code: np.ndarray | str,
        order: int,
        modifier: np.ndarray | str | None = None,
        units: np.ndarray | int = 1,
        dx: np.ndarray | str | None = None,
    ) -> None:
        n = len(enc)
        if n == 0:
            return
        mod = np.broadcast_to(
            np.asarray(modifier if modifier is not None else "", dtype=object), (n,)
        ).astype(str)
        self.lines.append(
            pl.DataFrame(
                {
                    "enc": enc,
                    "order": np.full(n, order),
                    "procedure": np.broadcast_to(np.asarray(code, dtype=object), (n,)).astype(str),
                    "modifier": mod,
                    "units": np.broadcast_to(np.asarray(units), (n,)).astype(np.int32),
                    "dx": np.broadcast_to(
                        np.asarray(dx if dx is not None else "", dtype=object), (n,)
                    ).astype(str),
                }
            )
        )
        if dx is not None:
            self.dx_block(enc, dx, 50 + order)


def code_encounters(cfg: GeneratorConfig, enc: pl.DataFrame, rng: np.random.Generator) -> Coding:
    """Service lines and diagnoses for every encounter."""
    n = enc.height
    idx = np.arange(n)
    vt = enc["visit_type"].to_numpy()
    age = enc["age"].to_numpy()
    payer = enc["payer_id"].fill_null("").to_numpy()
    is_new = enc["is_new"].to_numpy()
    month = enc["service_date"].dt.month().to_numpy()
    medicare_like = np.isin(payer, ["MCRB1", "MAPL1"])
    b = _Builder()

    # --- the visit's main code
    prev = idx[vt == "preventive"]
    wellness = prev[medicare_like[prev] & (age[prev] >= 65)]
    prev = prev[~(medicare_like[prev] & (age[prev] >= 65))]
    band = np.searchsorted([lo for lo, _, _ in PREVENTIVE_BANDS], age[prev], side="right") - 1
    new_codes = np.array([c for _, c, _ in PREVENTIVE_BANDS])
    est_codes = np.array([c for _, _, c in PREVENTIVE_BANDS])
    prev_code = np.where(is_new[prev], new_codes[band], est_codes[band])
    abnormal = rng.random(len(prev)) < 0.3
    prev_dx = np.where(
        age[prev] < 18,
        np.array(DX_PREVENTIVE_CHILD)[abnormal.astype(int)],
        np.array(DX_PREVENTIVE_ADULT)[abnormal.astype(int)],
    )
    b.line_block(prev, prev_code, 0, dx=prev_dx)
    # Medicare wellness: IPPE in the first year of Part B, then initial and subsequent AWV
    first_year = (age[wellness] < 66) & (rng.random(len(wellness)) < 0.7)
    awv_initial = ~first_year & (rng.random(len(wellness)) < 0.25)
    w_code = np.where(first_year, "G0402", np.where(awv_initial, "G0438", "G0439"))
    b.line_block(wellness, w_code, 0, dx="Z0000")
    b.line_block(wellness[rng.random(len(wellness)) < 0.6], "G0444", 30, dx="Z1331")

    problem = idx[np.isin(vt, ["acute", "chronic"])]
    # A problem addressed at a preventive visit: separate E/M with modifier 25
    prev_all = np.concatenate([prev, wellness])
    with_problem = prev_all[rng.random(len(prev_all)) < 0.22]
    em_enc = np.concatenate([problem, with_problem])
    em_new = is_new[em_enc] & np.isin(vt[em_enc], ["acute", "chronic"])
    est_levels, est_w = list(EM_BENCHMARK_ESTABLISHED), list(EM_BENCHMARK_ESTABLISHED.values())
    new_levels, new_w = list(EM_BENCHMARK_NEW), list(EM_BENCHMARK_NEW.values())
    em_code = np.where(
        em_new,
        _pick(rng, new_levels, new_w, len(em_enc)),
        _pick(rng, est_levels, est_w, len(em_enc)),
    )
    # With a preventive visit the problem part is usually minor (99212–99214)
    add25 = np.isin(em_enc, with_problem)
    em_code = np.where(add25 & np.isin(em_code, ["99211", "99215"]), "99213", em_code)
    acute = vt[em_enc] == "acute"
    em_dx = np.where(
        acute,
        _pick(rng, DX_ACUTE, DX_ACUTE_WEIGHTS, len(em_enc)),
        _pick(rng, DX_CHRONIC, DX_CHRONIC_WEIGHTS, len(em_enc)),
    )
    b.line_block(em_enc, em_code, 10, modifier=np.where(add25, "25", ""), dx=em_dx)
    # Further diagnoses: chronic visits manage 1–2 more conditions
    extra1 = em_enc[(~acute) & (rng.random(len(em_enc)) < 0.7)]
    b.dx_block(extra1, _pick(rng, DX_CHRONIC, DX_CHRONIC_WEIGHTS, len(extra1)), 60)
    extra2 = extra1[rng.random(len(extra1)) < 0.45]
    b.dx_block(extra2, _pick(rng, DX_CHRONIC, DX_CHRONIC_WEIGHTS, len(extra2)), 61)
    # G2211: longitudinal care on office E/M (not with modifier 25), ~38 % of office E/M
    g2211 = em_enc[
        ~add25 & (np.where(acute, 0.18, 0.62) > rng.random(len(em_enc))) & (em_code != "99211")
    ]
    b.line_block(g2211, "G2211", 15)

    # --- transitional care after discharge
    tcm = idx[vt == "transitional"]
    b.line_block(
        tcm,
        np.where(rng.random(len(tcm)) < 0.6, "99495", "99496"),
        0,
        dx=_pick(rng, DX_CHRONIC, DX_CHRONIC_WEIGHTS, len(tcm)),
    )
    # --- chronic care management (monthly, non face-to-face)
    ccm = idx[vt == "chronic_care"]
    ccm_dx = _pick(rng, DX_CHRONIC, DX_CHRONIC_WEIGHTS, len(ccm))
    b.line_block(ccm, "99490", 0, dx=ccm_dx)
    b.dx_block(ccm, np.where(ccm_dx == "I10", "E119", "I10"), 1)
    b.line_block(ccm[rng.random(len(ccm)) < 0.3], "99439", 5, dx=None)

    # --- screening: adolescents at preventive visits
    teen = prev[(age[prev] >= 12) & (age[prev] < 18) & (rng.random(len(prev)) < 0.7)]
    b.line_block(teen, "96127", 30, dx="Z1331")

    # --- vaccines: children at preventive visits, counselling admin codes 90460/90461
    child_prev = prev[age[prev] < 18]
    for j, (lo, hi, code, comps) in enumerate(CHILD_VACCINES):
        cand = child_prev[(age[child_prev] >= lo) & (age[child_prev] < hi)]
        got = cand[rng.random(len(cand)) < 0.35]
        b.line_block(got, code, 40 + 2 * j, dx=DX_VACCINE)
        b.line_block(got, "90460", 41 + 2 * j, dx=DX_VACCINE)
        if comps > 1:
            b.line_block(got, "90461", 41 + 2 * j, units=comps - 1, dx=DX_VACCINE)
    # Adults: influenza in season (Medicare uses G0008 for its administration)
    flu_season = (
        np.isin(month, FLU_MONTHS) & (age >= 18) & np.isin(vt, ["preventive", "acute", "chronic"])
    )
    flu = idx[flu_season & (rng.random(n) < 0.28)]
    b.line_block(flu, "90686", 60, dx=DX_VACCINE)
    b.line_block(flu, np.where(payer[flu] == "MCRB1", "G0008", "90471"), 61, dx=DX_VACCINE)
    older = idx[(age >= 50) & np.isin(vt, ["preventive", "chronic"]) & (rng.random(n) < 0.03)]
    b.line_block(older, "90750", 62, dx=DX_VACCINE)
    b.line_block(
        older,
        np.where(np.isin(older, flu), "90472", np.where(payer[older] == "MCRB1", "G0008", "90471")),
        63,
        dx=DX_VACCINE,
    )

    # --- labs and procedures with problem visits
    for j, (code, (p, dx)) in enumerate(PROBLEM_ADD_ONS.items()):
        got = problem[rng.random(len(problem)) < p]
        modifier = np.where(
            np.isin(code, ["87880", "87804", "81002", "82962", "83036"])
            & np.isin(payer[got], ["MCRB1", "MAPL1"]),
            "QW",
            "",
        )
        b.line_block(got, code, 70 + j, modifier=modifier, dx=dx)
    # Adult preventive: lipid panel with a blood draw
    lipid = prev[(age[prev] >= 20) & (rng.random(len(prev)) < 0.25)]
    b.line_block(lipid, "80061", 90, dx="Z1322")
    b.line_block(lipid, "36415", 91, dx="Z1322")

    return _assemble(enc, b)


def _assemble(enc: pl.DataFrame, b: _Builder) -> Coding:
    claim_ids = enc["claim_id"]
    dx = (
        pl.concat(b.dx)
        .sort("enc", "order")
        .unique(subset=["enc", "code"], keep="first", maintain_order=True)
        .with_columns(position=pl.int_range(pl.len()).over("enc") + 1)
        .filter(pl.col("position") <= 12)
    )
    lines = (
        pl.concat(b.lines)
        .sort("enc", "order", "procedure")
        # the same code twice on one encounter bills once, with summed units
        .group_by("enc", "procedure", "modifier", maintain_order=True)
        .agg(pl.col("order").first(), pl.col("units").sum(), pl.col("dx").first())
        .sort("enc", "order", "procedure")
        .with_columns(line_no=(pl.int_range(pl.len()).over("enc") + 1).cast(pl.Int16))
        .filter(pl.col("line_no") <= 50)
    )
    # Pointers: the line's own diagnosis when it has one, else the visit's first four
    pointer_own = lines.join(
        dx.select("enc", dx="code", own="position"), on=["enc", "dx"], how="left"
    )
    max_dx = dx.group_by("enc").agg(n_dx=pl.len())
    lines = pointer_own.join(max_dx, on="enc", how="left").with_columns(
        dx_pointers=pl.when(
            pl.col("own").is_not_null() & (pl.col("own") <= 4) & (pl.col("order") != 10)
        )
        .then(pl.concat_list(pl.col("own").cast(pl.Int8)))
        .otherwise(pl.int_ranges(1, pl.min_horizontal(pl.col("n_dx"), 4) + 1, dtype=pl.Int8))
    )
    fees = pl.DataFrame(
        {
            "procedure": list(SERVICES),
            "family": [v[0] for v in SERVICES.values()],
            "fee_cents": [round(v[2] * 100) for v in SERVICES.values()],
            "rate_cents": [round(v[3] * 100) for v in SERVICES.values()],
        }
    )
    lines = lines.join(fees, on="procedure", how="left").sort("enc", "line_no")
    lines = lines.with_columns(claim_id=pl.Series(claim_ids.to_numpy()[lines["enc"].to_numpy()]))
    missing = lines.filter(pl.col("fee_cents").is_null())["procedure"].unique().to_list()
    if missing:
        raise ValueError(f"codes without a fee: {missing}")
    lines = lines.select(
        "claim_id",
        "line_no",
        "procedure",
        "family",
        modifiers=pl.when(pl.col("modifier") == "")
        .then(pl.lit([], pl.List(pl.Utf8)))
        .otherwise(pl.concat_list("modifier")),
        units=pl.col("units"),
        charge_cents=pl.col("fee_cents") * pl.col("units"),
        rate_cents=pl.col("rate_cents") * pl.col("units"),
        dx_pointers=pl.col("dx_pointers"),
    )
    diagnoses = dx.select(
        claim_id=pl.Series(claim_ids.to_numpy()[dx["enc"].to_numpy()]),
        position=pl.col("position").cast(pl.Int8),
        code=pl.col("code"),
    )
    return Coding(encounters=enc, lines=lines, diagnoses=diagnoses)
