"""Generate a synthetic family practice: simulate it, then write its landing files (837P,
835, scheduling and patient-payment CSVs) and its truth ledger.

One seeded numpy Generator drives every draw in a fixed order, and every output is sorted
before it is written, so the same config gives byte-identical files.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.lib.generator.adjudication import Lifecycle, simulate_lifecycle
from pipelines.lib.generator.canary import plant_canary
from pipelines.lib.generator.coding import Coding, build_encounters, code_encounters
from pipelines.lib.generator.config import GeneratorConfig
from pipelines.lib.generator.extracts import write_patient_payments, write_scheduling
from pipelines.lib.generator.ledger import Ledger, build_ledger
from pipelines.lib.generator.patient_pay import build_patient_payments
from pipelines.lib.generator.population import Population, build_population
from pipelines.lib.generator.scheduling import build_appointments, register_on_first_booking
from pipelines.lib.generator.tables import cents_to_text
from pipelines.lib.generator.x12_835 import write_835_files
from pipelines.lib.generator.x12_837p import write_837p_batches

LANDING_FOLDERS = ("scheduling", "claims", "remits", "payments")
Step = Callable[[str], None]


@dataclass
class SimulatedPractice:
    config: GeneratorConfig
    population: Population
    appointments: pl.DataFrame
    coding: Coding
    lifecycle: Lifecycle
    patient_payments: pl.DataFrame
    ledger: Ledger

    def x12_tables(self) -> dict[str, pl.DataFrame]:
        """The frames the X12 writers take (tables.py contract)."""
        lc = self.lifecycle
        pop = self.population
        return {
            "payers": pop.payers,
            "locations": pop.locations,
            "providers": pop.providers,
            "patients": pop.patients,
            "coverages": lc.coverages,
            "claim_submissions": lc.claim_submissions,
            "submission_lines": lc.submission_lines,
            "submission_line_prior_adjustments": lc.submission_line_prior_adjustments,
            "remit_payments": lc.remit_payments,
            "remit_claims": lc.remit_claims,
            "remit_claim_adjustments": lc.remit_claim_adjustments,
            "remit_lines": lc.remit_lines,
            "remit_line_adjustments": lc.remit_line_adjustments,
            "remit_plb": lc.remit_plb,
        }


@dataclass(frozen=True)
class GenerateSummary:
    landing_dir: Path
    truth_dir: Path
    files: dict[str, int]  # landing folder -> files written
    rows: dict[str, int]  # headline row counts

    def total_rows(self) -> int:
        return sum(self.rows.values())


STEPS = ("population", "appointments", "coding", "claims and remittances", "patient payments", "truth ledger",
         "837P files", "835 files", "CSV extracts", "ledger files")  # fmt: skip


def simulate(cfg: GeneratorConfig, step: Step = lambda _: None) -> SimulatedPractice:
    """Everything that happened in the practice, in memory."""
    rng = np.random.default_rng(cfg.seed)
    step("population")
    pop = build_population(cfg, rng)
    step("appointments")
    appts = build_appointments(cfg, pop, rng)
    pop = register_on_first_booking(cfg, pop, appts)
    step("coding")
    enc = build_encounters(cfg, pop, appts, rng)
    coding = code_encounters(cfg, enc, rng)
    step("claims and remittances")
    lc = simulate_lifecycle(cfg, pop, coding, rng)
    step("patient payments")
    pp = build_patient_payments(cfg, coding, lc, rng)
    if cfg.canary_name is not None:  # after every draw, so the rest is as without it
        pop, lc = plant_canary(cfg.canary_name, pop, lc, pp)
    step("truth ledger")
    ledger = build_ledger(cfg, coding, lc, appts, pp)
    return SimulatedPractice(cfg, pop, appts, coding, lc, pp, ledger)


def write_practice(
    sp: SimulatedPractice, landing_dir: Path, truth_dir: Path, step: Step = lambda _: None
) -> GenerateSummary:
    """Write the landing files and the ledger. The landing sub-folders and the truth folder
    are replaced, so a re-run leaves exactly one practice behind."""
    landing_dir = Path(landing_dir)
    truth_dir = Path(truth_dir)
    for sub in LANDING_FOLDERS:
        shutil.rmtree(landing_dir / sub, ignore_errors=True)
    shutil.rmtree(truth_dir, ignore_errors=True)
    tables = sp.x12_tables()
    practice = sp.population.practice
    step("837P files")
    claims = write_837p_batches(practice, tables, landing_dir, start_control=100_000_001)
    step("835 files")
    remits = write_835_files(practice, tables, landing_dir, start_control=500_000_001)
    step("CSV extracts")
    sched = write_scheduling(sp.appointments, sp.coding.encounters, sp.population.patients, sp.population.providers, sp.lifecycle.coverages,
                             sp.config.start.strftime("%Y-%m"), landing_dir)  # fmt: skip
    pays = write_patient_payments(sp.patient_payments, landing_dir)
    step("ledger files")
    write_ledger(sp, truth_dir)
    lc = sp.lifecycle
    return GenerateSummary(
        landing_dir=landing_dir,
        truth_dir=truth_dir,
        files={
            "claims": len(claims),
            "remits": len(remits),
            "scheduling": len(sched),
            "payments": len(pays),
        },
        rows={
            "appointments": sp.appointments.height,
            "claims (837P)": lc.claim_submissions.height,
            "claim lines (837P)": lc.submission_lines.height,
            "claim payments (835 CLP)": lc.remit_claims.height,
            "service lines (835 SVC)": lc.remit_lines.height,
            "adjustments (835 CAS)": lc.remit_line_adjustments.height
            + lc.remit_claim_adjustments.height,
            "patient payments": sp.patient_payments.height,
        },
    )


def generate(
    cfg: GeneratorConfig, landing_dir: Path, truth_dir: Path, step: Step = lambda _: None
) -> GenerateSummary:
    """Simulate the practice and write it out."""
    return write_practice(simulate(cfg, step), landing_dir, truth_dir, step)


def _money_to_decimal(df: pl.DataFrame) -> pl.DataFrame:
    """``*_cents`` Int64 columns become exact DECIMAL(18,2) columns without the suffix."""
    cents = [c for c in df.columns if c.endswith("_cents")]
    return df.with_columns(
        cents_to_text(pl.col(c)).cast(pl.Decimal(18, 2)).alias(c.removesuffix("_cents"))
        for c in cents
    ).drop(cents)


def write_ledger(sp: SimulatedPractice, truth_dir: Path) -> None:
    """Parquet files (money as DECIMAL(18,2)) and a config.json; format in README.md."""
    truth_dir.mkdir(parents=True, exist_ok=True)
    led = sp.ledger
    frames = {
        "claims": led.claims,
        "claim_lines": led.claim_lines,
        "adjustments": led.adjustments,
        "adjudications": led.adjudications,
        "provider_adjustments": led.provider_adjustments,
        "patient_payments": led.patient_payments,
        "kpis_monthly": led.kpis_monthly,
    }
    for name, df in frames.items():
        _money_to_decimal(df).write_parquet(truth_dir / f"{name}.parquet", statistics=False)
    cfg = sp.config
    meta = {
        "preset": cfg.preset,
        "seed": cfg.seed,
        "providers": cfg.providers,
        "locations": cfg.locations,
        "months": cfg.months,
        "start": cfg.start.isoformat(),
        "end": cfg.end.isoformat(),
        "as_of": led.as_of.isoformat(),
        "realism": asdict(cfg.realism),
    }
    (truth_dir / "config.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
