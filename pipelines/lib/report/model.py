"""The owner report as data: every number the PDF prints, read from the marts, before any
layout. Gathering fills it (``gather.py``), the commentary rules read it
(``commentary.py``) and the renderer draws it (``render.py``).

Units: money is ``Decimal`` dollars as the marts store it (DECIMAL(18,2)); rates are
fractions (0.953 = 95.3 %) exactly as ``fct_kpis_monthly`` holds them; days are days.
Formatting goes through :mod:`dashboards.theme`, so the paper shows a number the way the
screen does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

import polars as pl

from dashboards.theme import format_value, money, month_label

ReportKind = Literal["monthly", "flash"]
# A month's net collection rate is judged once its services have had this long to be paid
# (kpis.md: NCR is best measured by service-date cohort after a run-out).
RUN_OUT_DAYS = 90


@dataclass(frozen=True)
class KpiLine:
    """One headline KPI for the report's month and the month before, with its target
    (``terminology__kpi_targets``). ``direction`` says which way is good."""

    kpi: str
    label: str
    unit: str  # rate, days
    direction: str  # higher, lower
    value: float | None
    previous: float | None
    target: float | None = None
    target_text: str = ""
    note: str = ""
    judged: bool = True  # False: too early to hold against its target (NCR during run-out)

    @property
    def value_text(self) -> str:
        return format_value(self.value, self.unit)

    @property
    def previous_text(self) -> str:
        return format_value(self.previous, self.unit)

    @property
    def target_value_text(self) -> str:
        return format_value(self.target, self.unit) if self.target is not None else ""

    @property
    def change(self) -> float | None:
        """Current minus previous, in the KPI's own unit (a display difference, as the
        Overview cards show it; no KPI is derived here)."""
        if self.value is None or self.previous is None:
            return None
        return float(self.value) - float(self.previous)

    @property
    def change_text(self) -> str:
        """'+1.4 pts' for rates, '-2.0 days' for days, '–' without a previous month."""
        change = self.change
        if change is None:
            return "–"
        if self.unit == "rate":
            return f"{change * 100:+.1f} pts"
        return f"{change:+.1f} days"

    @property
    def improved(self) -> bool | None:
        """True when the change goes the good way, False the bad way, None if no change."""
        change = self.change
        if change is None or round(change, 6) == 0:
            return None
        return change > 0 if self.direction == "higher" else change < 0

    @property
    def status(self) -> str:
        """met, missed, no target, too early (not judged yet), or – (no value)."""
        if self.value is None:
            return "–"
        if self.target is None:
            return "no target"
        if not self.judged:
            return "too early"
        met = (
            float(self.value) >= self.target
            if self.direction == "higher"
            else float(self.value) <= self.target
        )
        return "met" if met else "missed"


@dataclass(frozen=True)
class MoneyLine:
    """A dollar amount of the mart for the month and the month before."""

    label: str
    value: Decimal | None
    previous: Decimal | None
    note: str = ""

    @property
    def value_text(self) -> str:
        return money(self.value)

    @property
    def previous_text(self) -> str:
        return money(self.previous)

    @property
    def change(self) -> Decimal | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return "–"
        return ("+" if change >= 0 else "") + money(change)


@dataclass(frozen=True)
class RootCauseLine:
    """Denials of one root cause dated in the month (fct_denials), and the month before."""

    root_cause: str
    label: str
    avoidability: str  # yes, partly, mostly_not, unknown
    denials: int
    amount_at_stake: Decimal
    previous_denials: int = 0
    previous_amount: Decimal = Decimal("0.00")

    @property
    def avoidability_text(self) -> str:
        return {
            "yes": "avoidable",
            "partly": "partly avoidable",
            "mostly_not": "mostly not avoidable",
        }.get(self.avoidability, "unclassified")


@dataclass(frozen=True)
class DenialSummary:
    """Denials dated in the month: totals, the avoidable part (dollars and their share of
    the dollars at stake, from SQL over fct_denials) and each root cause, largest first."""

    denials: int = 0
    amount_at_stake: Decimal = Decimal("0.00")
    avoidable_denials: int = 0
    avoidable_amount: Decimal = Decimal("0.00")
    avoidable_share: float | None = None
    previous_denials: int = 0
    previous_amount: Decimal = Decimal("0.00")
    causes: tuple[RootCauseLine, ...] = ()

    def top(self, n: int = 6) -> tuple[RootCauseLine, ...]:
        return self.causes[:n]


@dataclass(frozen=True)
class PayerLine:
    """One payer's month from fct_kpis_monthly (segment payer)."""

    payer_id: str
    name: str
    payer_payments: Decimal | None
    claims_adjudicated: int | None
    days_to_payment: float | None
    initial_denial_rate: float | None
    net_collection_rate: float | None
    gross_collection_rate: float | None


@dataclass(frozen=True)
class AgingBucket:
    bucket: str
    order: int
    balance: Decimal


@dataclass(frozen=True)
class ArSummary:
    """A/R on the month's snapshot date: the mart's balance, over-90 dollars and share,
    and the aging buckets (fct_ar_snapshots)."""

    snapshot_date: date | None = None
    balance: Decimal | None = None
    over_90: Decimal | None = None
    over_90_pct: float | None = None
    previous_over_90_pct: float | None = None
    buckets: tuple[AgingBucket, ...] = ()


@dataclass(frozen=True)
class VisitMix:
    """The month's billed visits by family and E/M coding (fct_kpis_monthly counts and
    shares)."""

    visits: int | None = None
    families: tuple[tuple[str, int | None, float | None], ...] = ()  # label, visits, share
    coding: tuple[tuple[str, int | None, float | None], ...] = ()  # label, visits, share


def week_label(first: date, last: date) -> str:
    """'2 – 8 Mar 2026', '24 Feb – 2 Mar 2026', '29 Dec 2025 – 4 Jan 2026'."""
    if first.year != last.year:
        return f"{first:%-d %b %Y} – {last:%-d %b %Y}"
    if first.month != last.month:
        return f"{first:%-d %b} – {last:%-d %b %Y}"
    return f"{first:%-d} – {last:%-d %b %Y}"


@dataclass(frozen=True)
class WeekActivity:
    """Money and denials dated in one week (Monday to Sunday): charges by service date,
    payments by posting date, denials by 835 payment date."""

    first: date
    last: date
    claims: int = 0
    charges: Decimal = Decimal("0.00")
    payer_payments: Decimal = Decimal("0.00")
    patient_payments: Decimal = Decimal("0.00")
    denials: int = 0
    amount_at_stake: Decimal = Decimal("0.00")

    @property
    def payments(self) -> Decimal:
        return self.payer_payments + self.patient_payments

    @property
    def label(self) -> str:
        return week_label(self.first, self.last)


@dataclass(frozen=True)
class Sentence:
    """One sentence of commentary and the rule that wrote it."""

    rule: str
    text: str


@dataclass
class Report:
    """Everything one PDF shows. ``has_data`` is False for a month without KPI rows: the
    PDF then says so and shows nothing else."""

    kind: ReportKind
    practice_name: str
    month: date
    scope: str  # "Whole practice" or "Location: <name>"
    location_id: str | None = None
    has_data: bool = False
    snapshot_date: date | None = None  # month end, or the as-of date in a running month
    as_of: date | None = None
    published_at: object = None
    data_months: tuple[date, date] | None = None  # first and last month with KPIs
    week: tuple[date, date] | None = None  # flash: Monday and Sunday
    this_week: WeekActivity | None = None  # flash: the week and the one before
    week_before: WeekActivity | None = None
    kpis: tuple[KpiLine, ...] = ()
    money: tuple[MoneyLine, ...] = ()
    denials: DenialSummary = field(default_factory=DenialSummary)
    payers: tuple[PayerLine, ...] = ()
    payers_note: str = ""
    ar: ArSummary = field(default_factory=ArSummary)
    visits: VisitMix = field(default_factory=VisitMix)
    ncr_mature: tuple[date, float] | None = None  # the latest run-out NCR (month, value)
    commentary: tuple[Sentence, ...] = ()
    trend_months: tuple[date, date] | None = None  # the trend and E/M curve's months
    # chart data, drawn by dashboards.figures
    trend: pl.DataFrame = field(default_factory=pl.DataFrame)
    aging: pl.DataFrame = field(default_factory=pl.DataFrame)
    causes: pl.DataFrame = field(default_factory=pl.DataFrame)
    em_curve: pl.DataFrame = field(default_factory=pl.DataFrame)
    families_by_provider: pl.DataFrame = field(default_factory=pl.DataFrame)

    @property
    def month_text(self) -> str:
        return self.month.strftime("%B %Y")

    @property
    def previous_month(self) -> date:
        return date(self.month.year - (self.month.month == 1), (self.month.month - 2) % 12 + 1, 1)

    @property
    def previous_month_text(self) -> str:
        return self.previous_month.strftime("%B %Y")

    @property
    def is_month_to_date(self) -> bool:
        """The month is still running in the data (its snapshot is not the month end)."""
        if self.snapshot_date is None:
            return False
        nxt = date(self.month.year + (self.month.month == 12), self.month.month % 12 + 1, 1)
        return self.snapshot_date < date.fromordinal(nxt.toordinal() - 1)

    @property
    def title(self) -> str:
        if self.kind == "flash":
            return "Weekly flash report"
        return "Monthly owner report"

    @property
    def period_text(self) -> str:
        """'March 2026', or 'March 2026, month to date (to 6 Mar 2026)'."""
        text = self.month_text
        if self.has_data and self.is_month_to_date and self.snapshot_date:
            text += f", month to date (data to {self.snapshot_date:%-d %b %Y})"
        return text

    @property
    def data_range_text(self) -> str:
        if not self.data_months:
            return "none"
        first, last = self.data_months
        return f"{month_label(first)} – {month_label(last)}"
