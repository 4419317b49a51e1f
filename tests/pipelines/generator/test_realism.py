"""On the demo preset the headline rates fall inside the configured ranges (kpis.md) and the
E/M level mix is within 5 points of the family-medicine benchmark."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.lib.generator.catalogue import EM_BENCHMARK_ESTABLISHED, EM_BENCHMARK_NEW
from pipelines.lib.generator.config import preset_config
from pipelines.lib.generator.practice import simulate


@pytest.fixture(scope="module")
def demo():
    return simulate(preset_config("demo"))


def _settled(kpis: pl.DataFrame) -> pl.DataFrame:
    """Months past a 3-month warm-up and with at least 3 months of run-out."""
    return kpis.slice(3, kpis.height - 6)


def test_headline_rates_in_range(demo):
    k = demo.ledger.kpis_monthly
    s = _settled(k)
    whole = lambda num, den: k[num].sum() / k[den].sum()  # noqa: E731
    assert 0.05 <= whole("claims_denied", "claims_adjudicated") <= 0.12
    assert 0.05 <= whole("no_shows", "appointments_due") <= 0.10
    ncr = s["cohort_paid_cents"].sum() / (
        s["charges_cents"].sum() - s["cohort_contractual_cents"].sum()
    )
    assert 0.95 <= ncr <= 0.98
    assert 30 <= s["days_in_ar"].mean() <= 45
    assert s["days_in_ar"].min() >= 25 and s["days_in_ar"].max() <= 50


def _shares(lines: pl.DataFrame, codes: dict[str, float]) -> dict[str, float]:
    em = lines.filter(pl.col("procedure").is_in(list(codes)))
    counts = dict(em.group_by("procedure").len().iter_rows())
    return {c: counts.get(c, 0) / em.height for c in codes}


@pytest.mark.parametrize(
    "benchmark", [EM_BENCHMARK_ESTABLISHED, EM_BENCHMARK_NEW], ids=["established", "new"]
)
def test_em_levels_near_benchmark(demo, benchmark):
    shares = _shares(demo.coding.lines, benchmark)
    for code, expected in benchmark.items():
        assert abs(shares[code] - expected) <= 0.05, (code, shares[code], expected)


def test_payer_mix_and_coverage(demo):
    enc = demo.coding.encounters
    classes = set(demo.population.payers["payer_class"])
    assert {"medicare", "medicare_advantage", "medicaid", "commercial"} <= classes
    assert demo.population.payers.filter(pl.col("payer_class") == "commercial").height >= 3
    assert enc["payer_id"].null_count() > 0, "self-pay visits"
    assert enc["secondary_payer_id"].is_not_null().sum() > 0
    cov = demo.population.coverages
    assert cov["end_date"].is_not_null().sum() > 0, "coverage that changes or terminates"
    ages = (enc["age"]).to_numpy()
    assert ages.min() < 1 and ages.max() > 80
