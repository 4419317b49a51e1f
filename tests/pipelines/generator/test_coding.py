"""Family-medicine coding rules hold in the generated claims."""

from __future__ import annotations

import polars as pl

from pipelines.lib.generator.catalogue import PREVENTIVE_BANDS


def test_preventive_code_matches_age_band(small_practice):
    sp = small_practice.practice
    lines = sp.coding.lines.join(
        sp.coding.encounters.select("claim_id", "age", "is_new"), on="claim_id"
    )
    prev = lines.filter(pl.col("family") == "preventive")
    assert prev.height > 0
    for code, age, is_new in prev.select("procedure", "age", "is_new").iter_rows():
        band = max(i for i, (lo, _, _) in enumerate(PREVENTIVE_BANDS) if age >= lo)
        assert code == PREVENTIVE_BANDS[band][1 if is_new else 2], (code, age)


def test_modifier_25_only_with_preventive_same_day(small_practice):
    lines = small_practice.practice.coding.lines
    with25 = lines.filter(pl.col("modifiers").list.contains("25"))["claim_id"].unique()
    assert with25.len() > 0
    has_prev = lines.filter(pl.col("family").is_in(["preventive", "wellness"]))["claim_id"].unique()
    assert set(with25) <= set(has_prev)


def test_g2211_only_with_office_em(small_practice):
    lines = small_practice.practice.coding.lines
    g = lines.filter(pl.col("procedure") == "G2211")["claim_id"].unique()
    em = lines.filter(
        pl.col("family").is_in(["problem_new", "problem_est"])
        & ~pl.col("modifiers").list.contains("25")
    )["claim_id"].unique()
    assert g.len() > 0 and set(g) <= set(em)


def test_vaccine_products_come_with_administration(small_practice):
    lines = small_practice.practice.coding.lines
    by_claim = lines.group_by("claim_id").agg(pl.col("family"))
    for fams in by_claim["family"]:
        if "vaccine" in fams:
            assert "vaccine_admin" in fams


def test_diagnoses_fit_preventive_visits(small_practice):
    sp = small_practice.practice
    dx1 = sp.coding.diagnoses.filter(pl.col("position") == 1)
    prev = sp.coding.lines.filter(
        (pl.col("family") == "preventive") & (pl.col("line_no") == 1)
    ).join(dx1, on="claim_id")
    assert prev["code"].is_in(["Z0000", "Z0001", "Z00129", "Z00121"]).all()


def test_denials_carry_codes_and_root_causes(small_practice):
    claims = pl.read_parquet(small_practice.truth / "claims.parquet")
    denied = claims.filter(pl.col("denied_first_pass"))
    assert denied.height > 0
    assert denied["root_cause"].null_count() == 0
    assert denied["denial_carc"].null_count() == 0
    assert set(claims["final_status"]) >= {"paid", "pending"}
