"""Generator settings: presets and the realism defaults, each with where it comes from.

Rates are per visit or per claim unless said otherwise. Sources are cited in README.md
("Realism defaults"); figures marked secondary there are ranges for realism, not truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date


@dataclass(frozen=True)
class Realism:
    """Knobs for how the practice behaves. Defaults land the headline KPIs in the ranges of
    ../shared/reference/kpis.md: initial denial 5–12 %, no-show 5–10 %, NCR 95–98 %,
    days in A/R 30–45."""

    # Scheduling (no-show 7.8 % / 8.0 % in two family-medicine studies)
    no_show_rate: float = 0.065
    cancel_rate: float = 0.07
    reschedule_rate: float = 0.04
    visits_per_physician_day: float = 20.0  # MGMA family medicine ~ 18–22 visits/day
    visits_per_app_day: float = 15.0  # NP/PA
    respiratory_season_lift: float = 0.18  # Oct–Mar acute-visit lift
    self_pay_share: float = 0.04
    secondary_coverage_share: float = 0.22  # of Medicare patients (Medigap or Medicaid dual)
    coverage_change_share: float = 0.08  # patients whose primary coverage changes
    # Claims
    mean_charge_lag_days: float = 2.5
    # First-pass outcomes (per claim): whole-claim denials and single-line denials
    claim_denial_rate: float = 0.05
    line_denial_rate: float = 0.03
    duplicate_submission_rate: float = 0.006
    reversal_rate: float = 0.012  # paid claims later reversed and reprocessed
    # Patient collections
    pos_copay_collection_rate: float = 0.88
    statement_pay_rate: float = 0.90
    payment_plan_share: float = 0.08  # of statement balances over $200
    # Practice policy: a denial with no successful follow-up is written off after this
    writeoff_after_days: int = 60


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. ``months`` full calendar months from ``start``."""

    preset: str = "demo"
    providers: int = 8
    locations: int = 2
    months: int = 24
    start: date = date(2024, 1, 1)
    seed: int = 42
    realism: Realism = field(default_factory=Realism)
    # A "First Last" name given to one patient who has visits, claims, remittances and
    # payments, in every landing file that carries names: a canary that a PHI test looks
    # for in logs, errors and outputs. None (the default) changes nothing.
    canary_name: str | None = None

    @property
    def end(self) -> date:
        """Last day of the simulated period; also the extract cut-off (as-of date)."""
        y, m = divmod(self.start.month - 1 + self.months, 12)
        first_after = date(self.start.year + y, m + 1, 1)
        return date.fromordinal(first_after.toordinal() - 1)


PRESETS: dict[str, GeneratorConfig] = {
    "small": GeneratorConfig(preset="small", providers=2, locations=1, months=3),
    "demo": GeneratorConfig(preset="demo", providers=8, locations=2, months=24),
    "large": GeneratorConfig(preset="large", providers=200, locations=12, months=24),
}


def preset_config(name: str, **overrides: object) -> GeneratorConfig:
    """The preset ``name`` with any non-None override applied."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(PRESETS[name], **given)
