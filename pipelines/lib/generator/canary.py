"""A canary patient: one seeded patient renamed to a name the caller chooses, so a test can
look for that name everywhere the pipeline writes text (logs, errors, failure tables,
reports, the serving file) and be sure it only ever sits in the raw landing data.

The patient chosen has visits, claims, remittances and payments and is their own
subscriber, so the name is in the scheduling roster, in the 837P (NM1*IL and, as the
subscriber is the patient, nowhere else needed) and in the 835 (NM1*QC). No random draw is
made here: planting a canary changes the names of one patient and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import replace

import polars as pl

from pipelines.lib.generator.adjudication import Lifecycle
from pipelines.lib.generator.population import Population

_NAME_PART = re.compile(r"^[A-Za-z][A-Za-z'-]{1,34}$")


def split_canary_name(name: str) -> tuple[str, str]:
    """``"First Last"`` → ``("First", "Last")``; both parts letters (with ' or -) only, so
    they can be written as X12 and CSV text as they are.

    Raises:
        ValueError: not two such words.
    """
    parts = name.split()
    if len(parts) != 2 or not all(_NAME_PART.match(p) for p in parts):
        raise ValueError(
            "a canary name is two words of 2-35 letters (' and - allowed), e.g. 'Zebulon Quaxley'"
        )
    return parts[0], parts[1]


def canary_patient(pop: Population, lc: Lifecycle, patient_payments: pl.DataFrame) -> str:
    """The patient_id to rename: the first (by id) patient with a claim billed to a
    coverage they subscribe to themselves, a remittance and a patient payment."""
    self_subscribed = lc.coverages.filter(pl.col("relationship") == "18").select("coverage_id")
    billed = lc.claim_submissions.join(self_subscribed, on="coverage_id").select("patient_id")
    remitted = lc.remit_claims.select("patient_id")
    paid = patient_payments.select("patient_id")
    candidates = (
        billed.unique()
        .join(remitted.unique(), on="patient_id")
        .join(paid.unique(), on="patient_id")
        .sort("patient_id")
    )
    if candidates.height == 0:
        raise ValueError("no patient has claims, remittances and payments to carry a canary")
    return str(candidates["patient_id"][0])


def plant_canary(
    name: str, pop: Population, lc: Lifecycle, patient_payments: pl.DataFrame
) -> tuple[Population, Lifecycle]:
    """``pop`` and ``lc`` with one patient (see :func:`canary_patient`) named ``name``, as
    the patient and as the subscriber of their own coverages."""
    first, last = split_canary_name(name)
    patient_id = canary_patient(pop, lc, patient_payments)
    is_patient = pl.col("patient_id") == patient_id
    patients = pop.patients.with_columns(
        first_name=pl.when(is_patient).then(pl.lit(first)).otherwise("first_name"),
        last_name=pl.when(is_patient).then(pl.lit(last)).otherwise("last_name"),
    )
    own = is_patient & (pl.col("relationship") == "18")
    coverages = lc.coverages.with_columns(
        subscriber_first=pl.when(own).then(pl.lit(first)).otherwise("subscriber_first"),
        subscriber_last=pl.when(own).then(pl.lit(last)).otherwise("subscriber_last"),
    )
    return replace(pop, patients=patients), replace(lc, coverages=coverages)
