"""Gather the report's numbers from the published warehouse, through the dashboards' own
queries (:mod:`dashboards.data`), so paper and screen show the same numbers.

KPIs come only from ``fct_kpis_monthly`` and targets from ``terminology__kpi_targets``;
tables beside them sum money and count rows of the facts, as the dashboard charts do.
Call inside ``dashboards.data.reading(path)`` to read a given serving file.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import polars as pl

from dashboards import data
from dashboards.filters import Filters, KpiSegment
from pipelines.lib.report.model import (
    RUN_OUT_DAYS,
    AgingBucket,
    ArSummary,
    DenialSummary,
    KpiLine,
    MoneyLine,
    PayerLine,
    Report,
    ReportKind,
    RootCauseLine,
    VisitMix,
    WeekActivity,
)

HEADLINE = data.HEADLINE_KPIS  # the Overview page's, in its order
NOTES = {
    "net_collection_rate": "services of the month, paid to date",
    "days_in_ar": "A/R ÷ average daily charges, last 90 days",
}
PAYER_COLUMNS = (
    "payer_payments",
    "claims_adjudicated",
    "days_to_payment_avg",
    "initial_denial_rate",
    "net_collection_rate",
    "gross_collection_rate",
)
FAMILIES = (
    ("Problem visit (E/M)", "problem_visits", "problem_visit_share"),
    ("Preventive", "preventive_visits", "preventive_visit_share"),
    ("Medicare wellness", "wellness_visits", "wellness_visit_share"),
    ("Chronic and transitional care", "chronic_care_visits", "chronic_care_visit_share"),
)
CODING = (
    ("E/M level 4–5 (of office E/M visits)", "em_level_4_5_visits", "em_level_4_5_share"),
    ("Modifier 25 (of visits)", "modifier_25_visits", "modifier_25_share"),
    ("G2211 add-on (of office E/M visits)", "g2211_visits", "g2211_share"),
)
TREND_MONTHS = 12
EM_CURVE_PROVIDERS = 4


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


def practice_name(configured: str | None) -> str:
    """The configured name, else the locations' names (the marts carry no practice name)."""
    if configured:
        return configured
    names = [name for _, name in data.locations()]
    if not names:
        return "Family practice"
    if len(names) <= 3:
        return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    return f"{names[0]}, {names[1]} and {len(names) - 2} more locations"


def week_activity(first: date, last: date, location_id: str | None) -> WeekActivity:
    row = data.activity_between(first, last, location_id)
    return WeekActivity(first, last, **row)  # type: ignore[arg-type]


def gather(
    month: date,
    *,
    kind: ReportKind = "monthly",
    location_id: str | None = None,
    name: str | None = None,
    week: tuple[date, date] | None = None,
) -> Report:
    """The report of ``month`` (first day) for the practice or one location. A month
    without KPI rows gives a report with ``has_data`` False."""
    month = date(month.year, month.month, 1)
    segment = KpiSegment("location", location_id) if location_id else KpiSegment("practice", "all")
    scope = data.segment_label(segment) if location_id else "Whole practice"
    bounds = data.month_bounds()
    report = Report(
        kind=kind,
        practice_name=practice_name(name),
        month=month,
        scope=scope,
        location_id=location_id,
        as_of=data.as_of_date(),
        published_at=data.publication().get("published_at"),
        data_months=(bounds[0], bounds[2]) if bounds else None,
        week=week,
    )
    previous = add_months(month, -1)
    rows = data.kpi_months(segment, Filters(previous, month))
    current = rows.filter(pl.col("month_start") == month)
    if current.is_empty():
        return report
    now = current.row(0, named=True)
    before_rows = rows.filter(pl.col("month_start") == previous)
    before = before_rows.row(0, named=True) if before_rows.height else {}
    report.has_data = True
    report.snapshot_date = now["snapshot_date"]

    targets = data.kpi_targets()
    # a month's net collection rate is held against its target after the run-out only
    runout = (
        report.as_of is None or report.snapshot_date + timedelta(days=RUN_OUT_DAYS) > report.as_of
    )
    report.kpis = tuple(
        _kpi_line(
            kpi,
            now,
            before,
            targets.get(kpi, {}),
            judged=not (runout and kpi == "net_collection_rate"),
        )
        for kpi in HEADLINE
    )
    report.money = _money_lines(now, before)
    report.ncr_mature = _mature_ncr(segment, month, report.as_of)

    where = Filters(month, month, location_id=location_id)
    report.denials = _denials(where, Filters(previous, previous, location_id=location_id))
    report.causes = data.denial_causes(where)
    report.payers, report.payers_note = _payers(month, location_id)
    report.ar, report.aging = _ar(where, now, before)
    report.visits = VisitMix(
        visits=now.get("visits"),
        families=tuple((label, now.get(n), now.get(s)) for label, n, s in FAMILIES),
        coding=tuple((label, now.get(n), now.get(s)) for label, n, s in CODING),
    )
    first = report.data_months[0] if report.data_months else month
    trend_from = max(add_months(month, -(TREND_MONTHS - 1)), first)
    report.trend_months = (trend_from, month)
    report.trend = data.charges_and_collections(Filters(trend_from, month, location_id=location_id))
    # the E/M curve over a year of visits (as the dashboard's default range): one month
    # holds too few new-patient visits for a curve
    report.em_curve = data.em_level_curves(
        Filters(trend_from, month, location_id=location_id), max_providers=EM_CURVE_PROVIDERS
    )
    report.families_by_provider = data.visits_by(where, "provider")
    if kind == "flash" and week:
        monday, sunday = week
        report.this_week = week_activity(monday, sunday, location_id)
        report.week_before = week_activity(
            monday - timedelta(days=7), sunday - timedelta(days=7), location_id
        )
    return report


def _kpi_line(
    kpi: str,
    now: dict[str, object],
    before: dict[str, object],
    target: dict[str, object],
    judged: bool = True,
) -> KpiLine:
    goal = target.get("target")
    return KpiLine(
        kpi=kpi,
        label=str(target.get("label") or kpi.replace("_", " ").capitalize()),
        unit=str(target.get("unit") or "rate"),
        direction=str(target.get("direction") or "higher"),
        value=now.get(kpi),  # type: ignore[arg-type]
        previous=before.get(kpi),  # type: ignore[arg-type]
        target=None if goal is None else float(goal),  # type: ignore[arg-type]
        target_text=str(target.get("target_text") or ""),
        note=NOTES.get(kpi, ""),
        judged=judged,
    )


def _money_lines(now: dict[str, object], before: dict[str, object]) -> tuple[MoneyLine, ...]:
    def pair(column: str) -> tuple[Decimal | None, Decimal | None]:
        return now.get(column), before.get(column)  # type: ignore[return-value]

    def collected(row: dict[str, object]) -> Decimal | None:
        if not row or row.get("payer_payments") is None or row.get("patient_payments") is None:
            return None
        return row["payer_payments"] + row["patient_payments"]  # type: ignore[operator]

    return (
        MoneyLine("Charges", *pair("charges"), "services of the month"),
        MoneyLine("Collections", collected(now), collected(before), "payers and patients"),
        MoneyLine("  from payers", *pair("payer_payments"), "posted in the month"),
        MoneyLine("  from patients", *pair("patient_payments"), "posted in the month"),
        MoneyLine("A/R", *pair("ar_balance"), "at the month end"),
        MoneyLine("A/R over 90 days", *pair("ar_over_90"), "service over 90 days before"),
    )


def _mature_ncr(segment: KpiSegment, month: date, as_of: date | None) -> tuple[date, float] | None:
    """The latest month up to ``month`` whose services have had RUN_OUT_DAYS to be paid by
    the data's as-of date, with its net collection rate."""
    if as_of is None:
        return None
    rows = data.kpi_months(segment, Filters(None, month))
    for row in reversed(rows.to_dicts()):
        if (
            row["net_collection_rate"] is not None
            and row["month_end"] + timedelta(days=RUN_OUT_DAYS) <= as_of
        ):
            return row["month_start"], row["net_collection_rate"]
    return None


def _denials(where: Filters, before: Filters) -> DenialSummary:
    now = data.denial_totals(where)
    prev = data.denial_totals(before)
    previous = {
        row["root_cause"]: (row["denials"], row["amount_at_stake"])
        for row in data.denial_causes(before).iter_rows(named=True)
    }
    causes = tuple(
        RootCauseLine(
            root_cause=row["root_cause"],
            label=row["root_cause_label"] or "Unclassified",
            avoidability=row["avoidability"] or "unknown",
            denials=row["denials"],
            amount_at_stake=row["amount_at_stake"] or Decimal("0.00"),
            previous_denials=previous.get(row["root_cause"], (0, None))[0],
            previous_amount=previous.get(row["root_cause"], (0, None))[1] or Decimal("0.00"),
        )
        for row in data.denial_causes(where).iter_rows(named=True)
    )
    return DenialSummary(
        denials=now["denials"],  # type: ignore[arg-type]
        amount_at_stake=now["amount_at_stake"],  # type: ignore[arg-type]
        avoidable_denials=now["avoidable_denials"],  # type: ignore[arg-type]
        avoidable_amount=now["avoidable_amount"],  # type: ignore[arg-type]
        avoidable_share=now["avoidable_share"],  # type: ignore[arg-type]
        previous_denials=prev["denials"],  # type: ignore[arg-type]
        previous_amount=prev["amount_at_stake"],  # type: ignore[arg-type]
        causes=causes,
    )


def _payers(month: date, location_id: str | None) -> tuple[tuple[PayerLine, ...], str]:
    """Each payer's month, most paid first. KPIs are published per payer for the whole
    practice (fct_kpis_monthly has one segment at a time), so a location's report shows
    the practice's payers and says so."""
    rows = data.kpi_by_segment("payer", Filters(month, month), PAYER_COLUMNS)
    lines = [
        PayerLine(
            payer_id=row["segment_id"],
            name=row["segment_name"],
            payer_payments=row["payer_payments"],
            claims_adjudicated=row["claims_adjudicated"],
            days_to_payment=row["days_to_payment_avg"],
            initial_denial_rate=row["initial_denial_rate"],
            net_collection_rate=row["net_collection_rate"],
            gross_collection_rate=row["gross_collection_rate"],
        )
        for row in rows.iter_rows(named=True)
    ]
    lines.sort(key=lambda p: (-(p.payer_payments or 0), p.name))
    note = (
        "Whole practice: KPIs are published per payer, not per payer and location."
        if location_id
        else ""
    )
    return tuple(lines), note


def _ar(
    where: Filters, now: dict[str, object], before: dict[str, object]
) -> tuple[ArSummary, pl.DataFrame]:
    snapshot = now["snapshot_date"]
    aging = data.ar_aging(where, snapshot)  # type: ignore[arg-type]
    buckets: dict[tuple[str, int], Decimal] = {}
    for row in aging.iter_rows(named=True):
        key = (row["aging_bucket"], row["aging_bucket_order"])
        buckets[key] = buckets.get(key, Decimal("0.00")) + row["balance"]
    summary = ArSummary(
        snapshot_date=snapshot,  # type: ignore[arg-type]
        balance=now.get("ar_balance"),  # type: ignore[arg-type]
        over_90=now.get("ar_over_90"),  # type: ignore[arg-type]
        over_90_pct=now.get("ar_over_90_pct"),  # type: ignore[arg-type]
        previous_over_90_pct=before.get("ar_over_90_pct"),  # type: ignore[arg-type]
        buckets=tuple(
            AgingBucket(bucket, order, balance)
            for (bucket, order), balance in sorted(buckets.items(), key=lambda kv: kv[0][1])
        ),
    )
    return summary, aging
