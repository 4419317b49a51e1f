"""Appointments: booked with a lead time, then completed, no-show, cancelled or rescheduled.

Daily volume per provider follows weekday (Monday busiest) and season (respiratory season
October–March lifts acute visits). Visit types depend on the patient's age and the season.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl

from pipelines.lib.generator.config import GeneratorConfig
from pipelines.lib.generator.population import Population, from_ordinal, to_ordinals

WEEKDAY_FACTOR = np.array([1.12, 1.02, 0.98, 1.0, 0.88, 0.0, 0.0])  # Mon..Sun; closed weekends
VISIT_TYPES = ("preventive", "acute", "chronic", "transitional")
# Lead time in days from booking to the visit, by visit type: (fixed minimum, mean extra)
LEAD_TIME = {
    "preventive": (7, 24.0),
    "acute": (0, 1.2),
    "chronic": (3, 16.0),
    "transitional": (2, 4.0),
}
# US federal holidays the practice closes on (month, day); enough for realistic gaps
HOLIDAYS = {(1, 1), (7, 4), (12, 25), (11, 28), (5, 27), (9, 2)}


def build_appointments(
    cfg: GeneratorConfig, pop: Population, rng: np.random.Generator
) -> pl.DataFrame:
    """One row per appointment, including the ones that did not happen.

    Columns: appointment_id, patient_id, provider_id, location_id, booked_at, start_at,
    duration_min, visit_type, status (completed, no_show, cancelled, rescheduled),
    rescheduled_to (appointment_id of the new booking)."""
    r = cfg.realism
    start_ord, end_ord = cfg.start.toordinal(), cfg.end.toordinal()
    days = np.arange(start_ord, end_ord + 1)
    weekday = (days + 6) % 7  # date.fromordinal(1) is a Monday -> 0
    month = np.array([cfg.start.fromordinal(int(d)).month for d in days])
    mmdd = [(cfg.start.fromordinal(int(d)).month, cfg.start.fromordinal(int(d)).day) for d in days]
    open_day = np.array([m not in HOLIDAYS for m in mmdd]) & (weekday < 5)
    season = np.where(
        np.isin(month, [10, 11, 12, 1, 2, 3]),
        1.0 + r.respiratory_season_lift / 2,
        1.0 - r.respiratory_season_lift / 2,
    )

    prov = pop.providers
    physician = prov["credential"].is_in(["MD", "DO"]).to_numpy()
    capacity = np.where(physician, r.visits_per_physician_day, r.visits_per_app_day)
    prov_start_ord = to_ordinals(prov["start_date"])
    # Scheduled (booked) appointments: visits that happen plus those that fall through
    lost = r.no_show_rate + r.cancel_rate + r.reschedule_rate
    lam = (
        capacity[:, None]
        * (WEEKDAY_FACTOR[weekday] * season * open_day)[None, :]
        / (1 - lost * 0.6)
    )
    # New providers ramp up over their first 3 months
    ramp = np.clip((days[None, :] - prov_start_ord[:, None]) / 90.0, 0, 1)
    ramp = np.where(days[None, :] < prov_start_ord[:, None], 0, np.maximum(ramp, 0.35))
    counts = rng.poisson(lam * ramp)
    p_idx, d_idx = np.nonzero(counts)
    reps = counts[p_idx, d_idx]
    appt_prov = np.repeat(p_idx, reps)
    appt_day = np.repeat(days[d_idx], reps)
    n = len(appt_day)

    # Patient: mostly the provider's own panel, sometimes a colleague's at the same location
    pats = pop.patients
    pcp = pats["pcp_provider_id"].to_numpy()
    prov_ids = prov["provider_id"].to_numpy()
    order = np.argsort(pcp, kind="stable")
    bounds = np.searchsorted(pcp[order], prov_ids)
    bounds_end = np.searchsorted(pcp[order], prov_ids, side="right")
    sizes = bounds_end - bounds
    own = rng.random(n) < 0.9
    panel_of = np.where(own, appt_prov, rng.integers(0, len(prov_ids), n))
    panel_of = np.where(sizes[panel_of] > 0, panel_of, appt_prov)
    pick = bounds[panel_of] + (rng.random(n) * sizes[panel_of]).astype(np.int64)
    patient_idx = order[pick]
    dob_ord = to_ordinals(pats["dob"])
    age = (appt_day - dob_ord[patient_idx]) / 365.25

    # Visit type by age and season
    acute_lift = np.where(
        np.isin(month[appt_day - start_ord], [10, 11, 12, 1, 2, 3]),
        1.0 + r.respiratory_season_lift,
        1.0,
    )
    w_prev = np.where(age < 18, 0.30, np.where(age < 65, 0.16, 0.14))
    w_acute = np.where(age < 18, 0.52, np.where(age < 65, 0.36, 0.22)) * acute_lift
    w_chron = np.where(age < 18, 0.18, np.where(age < 65, 0.48, 0.60))
    w_tcm = np.where(age < 65, 0.0, 0.015)
    w = np.stack([w_prev, w_acute, w_chron, w_tcm], axis=1)
    cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    vt = (rng.random(n)[:, None] > cum).sum(axis=1)
    visit_type = np.array(VISIT_TYPES)[np.minimum(vt, 3)]

    lead = np.zeros(n, dtype=np.int64)
    for t, (lo, mean) in LEAD_TIME.items():
        m = visit_type == t
        lead[m] = lo + rng.poisson(mean, m.sum())
    slot = rng.integers(0, 26, n)  # 20-minute slots from 08:00
    start_minutes = 8 * 60 + slot * 20 + np.where(slot >= 12, 60, 0)  # lunch 12:00-13:00
    booked_minutes = rng.integers(7 * 60, 18 * 60, n)
    # A same-day booking is made before the slot, not after it
    earlier = np.maximum(7 * 60, start_minutes - rng.integers(20, 240, n))
    booked_minutes = np.where(lead == 0, np.minimum(booked_minutes, earlier), booked_minutes)

    # Outcome: no-shows rise with lead time and for Medicaid-aged young adults
    u = rng.random(n)
    ns = (
        r.no_show_rate
        * np.where(lead > 14, 1.25, 0.85)
        * np.where((age >= 18) & (age < 40), 1.2, 0.95)
    )
    status = np.full(n, "completed", dtype=object)
    status[u < ns] = "no_show"
    status[(u >= ns) & (u < ns + r.cancel_rate)] = "cancelled"
    status[(u >= ns + r.cancel_rate) & (u < ns + r.cancel_rate + r.reschedule_rate)] = "rescheduled"
    status[appt_day > end_ord] = "scheduled"

    appts = pl.DataFrame(
        {
            "patient_idx": patient_idx,
            "provider_idx": appt_prov,
            "day": appt_day,
            "start_minutes": start_minutes,
            "booked_day": appt_day - lead,
            "booked_minutes": booked_minutes,
            "visit_type": visit_type,
            "status": status.astype(str),
        }
    )
    # A rescheduled appointment gets a new booking 2–20 days later that is kept
    resched = appts.filter(pl.col("status") == "rescheduled")
    k = resched.height
    rebook = resched.with_columns(
        booked_day=pl.col("day") - 1,
        day=pl.col("day") + pl.Series(rng.integers(2, 21, k)),
        status=pl.Series(np.where(rng.random(k) < 0.93, "completed", "no_show")),
        from_rescheduled=pl.lit(True),
    )
    appts = pl.concat([appts.with_columns(from_rescheduled=pl.lit(False)), rebook])
    appts = appts.filter(pl.col("day") <= end_ord).sort(
        "day", "provider_idx", "start_minutes", "patient_idx"
    )
    # Weekend rebookings move to Monday
    wd = (appts["day"].to_numpy() + 6) % 7
    appts = appts.with_columns(day=pl.col("day") + pl.Series(np.where(wd >= 5, 7 - wd, 0)))
    appts = appts.with_columns(
        appointment_id=pl.concat_str(
            [pl.lit("A"), (pl.int_range(pl.len()) + 1).cast(pl.Utf8).str.zfill(8)]
        )
    )
    # Link each rescheduled appointment to its new booking (same patient, provider, order)
    link = (
        appts.filter(pl.col("status") == "rescheduled")
        .select("patient_idx", "provider_idx", "appointment_id")
        .with_columns(n=pl.int_range(pl.len()).over("patient_idx", "provider_idx"))
    )
    target = (
        appts.filter(pl.col("from_rescheduled"))
        .select("patient_idx", "provider_idx", rescheduled_to="appointment_id")
        .with_columns(n=pl.int_range(pl.len()).over("patient_idx", "provider_idx"))
    )
    link = link.join(target, on=["patient_idx", "provider_idx", "n"], how="left").select(
        "appointment_id", "rescheduled_to"
    )
    appts = appts.join(link, on="appointment_id", how="left", maintain_order="left")

    patient_ids = pats["patient_id"]
    prov_loc = prov["location_id"]
    return appts.select(
        "appointment_id",
        patient_id=pl.Series(patient_ids.to_numpy()[appts["patient_idx"].to_numpy()]),
        provider_id=pl.Series(prov_ids[appts["provider_idx"].to_numpy()]),
        location_id=pl.Series(prov_loc.to_numpy()[appts["provider_idx"].to_numpy()]),
        booked_at=from_ordinal(pl.col("booked_day")).cast(pl.Datetime("us"))
        + pl.duration(minutes=pl.col("booked_minutes")),
        start_at=from_ordinal(pl.col("day")).cast(pl.Datetime("us"))
        + pl.duration(minutes=pl.col("start_minutes")),
        duration_min=pl.when(pl.col("visit_type") == "preventive")
        .then(40)
        .otherwise(20)
        .cast(pl.Int32),
        visit_type=pl.col("visit_type"),
        status=pl.col("status"),
        rescheduled_to=pl.col("rescheduled_to"),
    )


def register_on_first_booking(
    cfg: GeneratorConfig, pop: Population, appts: pl.DataFrame
) -> Population:
    """A patient new to the practice is registered when first booked: their roster date
    becomes the date of their first booking (not before the period starts)."""
    first = appts.group_by("patient_id").agg(first_booked=pl.col("booked_at").min().dt.date())
    patients = (
        pop.patients.join(first, on="patient_id", how="left", maintain_order="left")
        .with_columns(
            created_date=pl.when(
                (pl.col("created_date") >= cfg.start) & pl.col("first_booked").is_not_null()
            )
            .then(pl.max_horizontal(pl.col("first_booked"), pl.lit(cfg.start)))
            .otherwise(pl.col("created_date"))
        )
        .drop("first_booked")
    )
    return replace(pop, patients=patients)
