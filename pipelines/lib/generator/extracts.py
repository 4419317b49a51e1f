"""CSV extracts as a practice-management system exports them: appointments and the patient
roster (scheduling) and patient payments, one file per month."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.lib.generator.tables import cents_to_text


def _write_monthly(
    df: pl.DataFrame, date_col: str, folder: Path, stem: str, drop: tuple[str, ...] = ()
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    keyed = df.with_columns(_month=pl.col(date_col).dt.strftime("%Y-%m"))
    for (month,), part in keyed.group_by("_month", maintain_order=True):
        path = folder / f"{stem}_{month}.csv"
        part.drop("_month", *drop).write_csv(
            path, datetime_format="%Y-%m-%d %H:%M", date_format="%Y-%m-%d"
        )
        paths.append(path)
    return paths


def write_scheduling(
    appointments: pl.DataFrame,
    encounters: pl.DataFrame,
    patients: pl.DataFrame,
    providers: pl.DataFrame,
    coverages: pl.DataFrame,
    start_month: str,
    out_dir: Path,
) -> list[Path]:
    """appointments_YYYY-MM.csv by appointment month (a kept visit carries its encounter
    number, the CLM01 of its claim); patients_YYYY-MM.csv with the patients registered that
    month (the first file also holds the existing roster)."""
    folder = out_dir / "scheduling"
    appts = (
        appointments.join(providers.select("provider_id", provider_npi="npi"), on="provider_id")
        .join(encounters.filter(pl.col("appointment_id").is_not_null()).select("appointment_id", encounter_id="claim_id"),
              on="appointment_id", how="left")
        .sort("start_at", "appointment_id")
        .select(
            "appointment_id", "patient_id", "provider_npi", "location_id",
            booked_at="booked_at", appointment_start="start_at", duration_min="duration_min",
            visit_type="visit_type", status="status", rescheduled_to="rescheduled_to", encounter_id="encounter_id",
        )
    )  # fmt: skip
    primary = (
        coverages.filter(pl.col("priority") == 1)
        .sort("start_date")
        .group_by("patient_id")
        .agg(
            primary_payer_id=pl.col("payer_id").first(),
            primary_member_id=pl.col("member_id").first(),
        )
    )
    secondary = (
        coverages.filter(pl.col("priority") == 2)
        .group_by("patient_id")
        .agg(
            secondary_payer_id=pl.col("payer_id").first(),
            secondary_member_id=pl.col("member_id").first(),
        )
    )
    roster = (
        patients.join(providers.select(pcp_provider_id="provider_id", pcp_npi="npi"), on="pcp_provider_id")
        .join(primary, on="patient_id", how="left")
        .join(secondary, on="patient_id", how="left")
        .with_columns(registered_month=pl.max_horizontal(pl.col("created_date"), pl.lit(start_month).str.to_date("%Y-%m")))
        .sort("registered_month", "patient_id")
        .select(
            "patient_id", "last_name", "first_name", "dob", "sex", "address1", "city", "state", "zip", "phone",
            "created_date", "home_location_id", "pcp_npi", "primary_payer_id", "primary_member_id",
            "secondary_payer_id", "secondary_member_id", "registered_month",
        )
    )  # fmt: skip
    paths = _write_monthly(appts, "appointment_start", folder, "appointments")
    paths += _write_monthly(
        roster, "registered_month", folder, "patients", drop=("registered_month",)
    )
    return paths


def write_patient_payments(payments: pl.DataFrame, out_dir: Path) -> list[Path]:
    """patient_payments_YYYY-MM.csv by posting month; amounts as exact decimal text."""
    df = payments.sort("posted_date", "payment_id").select(
        "payment_id", "patient_id", "encounter_id", "payment_date", "posted_date",
        amount=cents_to_text(pl.col("amount_cents")), method="method", channel="channel", reference="reference",
    )  # fmt: skip
    return _write_monthly(df, "posted_date", out_dir / "payments", "patient_payments")
