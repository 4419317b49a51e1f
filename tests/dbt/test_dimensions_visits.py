"""Dimensions, appointments and visits marts on the small practice: one `dbt build` of
the models and their parents, then every figure against the generator's own tables and
truth ledger: visits claim by claim (charges, lines, payer, dates, patient, provider,
location, coding), appointments and no-shows per month, E/M levels per month, provider
and location names, and dimension keys that are unique and cover every fact."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

DIMENSIONS = {
    "dim_patient": "patient_id",
    "dim_provider": "provider_npi",
    "dim_payer": "payer_id",
    "dim_location": "location_id",
    "dim_date": "date_day",
    "dim_service": "procedure_code",
}
FACTS = ["fct_appointments", "fct_visits", "fct_em_levels_monthly"]
MODELS = [*DIMENSIONS, *FACTS, "int_visits_coded"]
# The visit family each truth visit type may be coded as
FAMILIES_BY_VISIT_TYPE = {
    "acute": {"problem_em"},
    "chronic": {"problem_em"},
    "preventive": {"preventive", "wellness"},
    "transitional": {"transitional_care"},
    "chronic_care": {"chronic_care"},
}


@pytest.fixture(scope="module")
def built(built_small):
    """The session's full `dbt build` of the small practice (tests/conftest.py)."""
    return built_small


@pytest.fixture(scope="module")
def con(built_con):
    return built_con


@pytest.fixture(scope="module")
def truth(small_practice) -> dict[str, pl.DataFrame]:
    return {
        name: pl.read_parquet(small_practice.truth / f"{name}.parquet")
        for name in ("claims", "claim_lines", "kpis_monthly")
    }


def frame(con, sql: str) -> pl.DataFrame:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return pl.DataFrame(cur.fetchall(), schema=names, orient="row", infer_schema_length=None)


def one(con, sql: str):
    return con.execute(sql).fetchall()[0][0]


def age_band(birth: dt.date, on: dt.date) -> str:
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return "0-17" if age < 18 else "18-39" if age < 40 else "40-64" if age < 65 else "65+"


# --------------------------------------------------------------------------- the build


def test_dbt_build_passes_with_every_test_and_contract(built):
    assert built.returncode == 0, built.log[-4000:]
    statuses = {r["unique_id"]: r["status"] for r in built.results}
    for model in MODELS:
        assert statuses[f"model.rcm_warehouse.{model}"] == "success", model
    mine = {
        u: s
        for u, s in statuses.items()
        if u.startswith("test.") and any(model in u for model in MODELS)
    }
    assert len(mine) > 50  # not-null columns are contract constraints, not tests
    assert not {u: s for u, s in mine.items() if s != "pass"}


def test_unit_tests_of_the_visit_coding_pass(built):
    statuses = {r["unique_id"]: r["status"] for r in built.results}
    unit = (
        "unit_test.rcm_warehouse.int_visits_coded.visit_family_precedence_e_m_code_and_modifier_25"
    )
    assert statuses[unit] == "pass"


def test_mart_columns_have_the_contract_types(con):
    types = dict(
        con.execute(
            """select table_name || '.' || column_name, data_type from information_schema.columns
               where table_schema = 'marts'"""
        ).fetchall()
    )
    assert types["fct_visits.charges"] == "DECIMAL(18,2)"
    assert types["fct_visits.em_level"] == "INTEGER"
    assert types["fct_appointments.booked_at"] == "TIMESTAMP"
    assert types["fct_appointments.lead_time_days"] == "INTEGER"
    assert types["dim_date.date_day"] == "DATE"
    assert types["fct_em_levels_monthly.visit_share"] == "DOUBLE"


# --------------------------------------------------------------------------- dimensions


@pytest.mark.parametrize(("model", "key"), sorted(DIMENSIONS.items()))
def test_dimension_keys_are_unique_and_cover_the_facts(con, model, key):
    rows, keys, nulls = con.execute(
        f"select count(*), count(distinct {key}), count(*) - count({key}) from marts.{model}"
    ).fetchall()[0]
    assert rows == keys > 0 and nulls == 0
    # Every key a fact uses is in the dimension (the dbt relationships tests, asserted here
    # too so a relaxed test severity cannot hide a gap)
    uses = {
        "dim_patient": [("fct_appointments", "patient_id"), ("fct_visits", "patient_id")],
        "dim_provider": [("fct_appointments", "provider_npi"), ("fct_visits", "provider_npi")],
        "dim_payer": [("fct_appointments", "payer_id"), ("fct_visits", "payer_id")],
        "dim_location": [("fct_appointments", "location_id"), ("fct_visits", "location_id")],
        "dim_date": [("fct_appointments", "appointment_date"), ("fct_visits", "service_date")],
        "dim_service": [("fct_visits", "em_code"), ("fct_em_levels_monthly", "em_code")],
    }[model]
    for fact, column in uses:
        missing = one(
            con,
            f"""select count(*) from marts.{fact} f
                where f.{column} is not null
                  and not exists (select 1 from marts.{model} d where d.{key} = f.{column})""",
        )
        assert missing == 0, (fact, column)


def test_providers_are_named_from_the_837p_rendering_loop(con, small_practice):
    providers = small_practice.practice.population.providers
    expected = {
        r["npi"]: (f"{r['last_name']}, {r['first_name']}", r["taxonomy"])
        for r in providers.iter_rows(named=True)
    }
    got = {
        npi: (name, taxonomy)
        for npi, name, taxonomy in con.execute(
            "select provider_npi, provider_name, taxonomy_code from marts.dim_provider"
        ).fetchall()
    }
    assert got == expected
    claims = one(con, "select sum(claim_count) from marts.dim_provider")
    assert claims == one(con, "select count(*) from marts.fct_visits")


def test_locations_are_named_from_the_837p_service_facility(con, small_practice):
    locations = small_practice.practice.population.locations
    expected = {r["location_id"]: (r["name"], r["npi"]) for r in locations.iter_rows(named=True)}
    got = {
        lid: (name, npi)
        for lid, name, npi in con.execute(
            "select location_id, location_name, location_npi from marts.dim_location"
        ).fetchall()
    }
    assert got == expected


def test_payers_cover_the_terminology_and_every_payer_seen(con):
    listed = set(con.execute("select payer_id from terminology.terminology__payer_classes").fetchall())  # fmt: skip
    dim = dict(con.execute("select payer_id, is_in_terminology from marts.dim_payer").fetchall())
    assert {p for (p,) in listed} == {p for p, listed_ in dim.items() if listed_}
    seen = {
        p
        for (p,) in con.execute(
            """select payer_id from staging.stg_claims_837__claims
               union select payer_id from staging.stg_remits_835__payments"""
        ).fetchall()
    }
    assert seen <= set(dim)


def test_services_cover_the_catalogue_and_every_code_billed(con):
    catalogue = one(con, "select count(*) from terminology.terminology__service_catalogue")
    assert one(con, "select count(*) from marts.dim_service where is_in_catalogue") == catalogue
    missing = one(
        con,
        """select count(*) from staging.stg_claims_837__service_lines l
           where not exists (select 1 from marts.dim_service s where s.procedure_code = l.procedure_code)""",
    )
    assert missing == 0
    other = con.execute(
        "select distinct service_family from marts.dim_service where not is_in_catalogue"
    ).fetchall()
    assert other in ([], [("other",)])


def test_calendar_is_contiguous_with_iso_weekdays(con, truth):
    days = frame(con, "select * from marts.dim_date order by date_day")
    first, last = days["date_day"][0], days["date_day"][-1]
    assert days.height == (last - first).days + 1
    assert first <= truth["claims"]["service_date"].min()
    assert last >= truth["claims"]["service_date"].max()
    for row in days.iter_rows(named=True):
        d = row["date_day"]
        assert row["iso_weekday"] == d.isoweekday()
        assert row["weekday_name"] == d.strftime("%A")
        assert row["month_name"] == d.strftime("%B")
        assert row["month_start"] == d.replace(day=1)
        assert row["quarter_number"] == (d.month - 1) // 3 + 1
        assert row["is_weekend"] == (d.isoweekday() >= 6)
        assert (row["month_end"] + dt.timedelta(days=1)).day == 1


def test_patients_keep_only_minimum_necessary_columns(con, small_practice):
    columns = {
        (t, c)
        for t, c in con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
        ).fetchall()
        if t in DIMENSIONS or t in FACTS
    }
    patient_columns = {c for t, c in columns if t == "dim_patient"}
    assert patient_columns == {
        "patient_id", "is_on_roster", "sex_code", "age_band", "zip3", "home_location_id",
        "pcp_npi", "primary_payer_id", "secondary_payer_id", "registered_date",
    }  # fmt: skip
    leaked = [
        (t, c)
        for t, c in columns
        if "birth" in c or "member" in c or c in {"dob", "zip_code", "first_name", "last_name"}
    ]
    assert not leaked
    assert one(con, "select max(length(zip3)) from marts.dim_patient") == 3
    # Age bands on the as-of date, checked against the generator's birth dates
    as_of = one(con, "select as_of_date from intermediate.int_as_of_date_derived")
    births = dict(
        small_practice.practice.population.patients.select("patient_id", "dob").iter_rows()
    )
    bands = con.execute("select patient_id, age_band from marts.dim_patient where is_on_roster").fetchall()  # fmt: skip
    assert bands and all(band == age_band(births[pid], as_of) for pid, band in bands)


# --------------------------------------------------------------------------- visits


def test_visits_are_the_truth_claims_one_by_one(con, truth, small_practice):
    npi = dict(
        small_practice.practice.population.providers.select("provider_id", "npi").iter_rows()
    )
    expected = truth["claims"].select(
        "claim_id",
        "patient_id",
        pl.col("provider_id").replace_strict(npi).alias("provider_npi"),
        "location_id",
        "payer_id",
        "service_date",
        pl.col("submit_date").alias("submission_date"),
        pl.col("line_count").cast(pl.Int64),
        "charges",
    )
    got = frame(con, f"select {', '.join(expected.columns)} from marts.fct_visits").with_columns(
        pl.col("line_count").cast(pl.Int64)
    )
    assert got.height == expected.height
    diff = got.join(expected, on="claim_id", how="full", suffix="_truth", coalesce=True)
    for column in expected.columns[1:]:
        wrong = diff.filter(pl.col(column).ne_missing(pl.col(f"{column}_truth")))
        assert wrong.height == 0, (column, wrong.head(3).to_dicts())


def test_visit_coding_matches_the_truth_lines(con, truth, small_practice):
    lines = truth["claim_lines"]
    per_claim = lines.group_by("claim_id").agg(
        em_code=pl.col("procedure").filter(pl.col("family").is_in(["problem_new", "problem_est"])).max(),
        has_modifier_25=pl.col("modifiers").list.contains("25").any(),
        has_g2211=(pl.col("procedure") == "G2211").any(),
    )  # fmt: skip
    got = frame(
        con,
        """select claim_id, em_code, has_modifier_25, has_g2211, em_level, visit_family,
                  has_problem_and_preventive, age_band_at_visit, service_date, patient_id
           from marts.fct_visits""",
    )
    both = got.join(per_claim, on="claim_id", suffix="_truth")
    assert both.height == got.height
    for column in ("em_code", "has_modifier_25", "has_g2211"):
        wrong = both.filter(pl.col(column).ne_missing(pl.col(f"{column}_truth")))
        assert wrong.height == 0, (column, wrong.head(3).to_dicts())
    levels = both.filter(pl.col("em_code").is_not_null())
    assert (levels["em_level"] == levels["em_code"].str.slice(4, 1).cast(pl.Int32)).all()
    # Same-day preventive + problem E/M: exactly the claims the generator gave modifier 25
    assert (both["has_problem_and_preventive"] == both["has_modifier_25"]).all()
    assert both["has_modifier_25"].sum() > 0 and both["has_g2211"].sum() > 0
    # The visit family agrees with the visit type the generator booked
    visit_types = truth["claims"].select("claim_id", "visit_type")
    for claim_id, family, visit_type in (
        got.join(visit_types, on="claim_id").select("claim_id", "visit_family", "visit_type").iter_rows()
    ):  # fmt: skip
        assert family in FAMILIES_BY_VISIT_TYPE[visit_type], (claim_id, family, visit_type)
    # Age at the visit from the generator's birth dates
    births = dict(
        small_practice.practice.population.patients.select("patient_id", "dob").iter_rows()
    )
    for pid, band, day in got.select("patient_id", "age_band_at_visit", "service_date").iter_rows():
        assert band == age_band(births[pid], day)


def test_em_levels_monthly_count_the_truth_e_m_lines(con, truth, small_practice):
    claims = truth["claims"].select("claim_id", "service_date", "provider_id")
    em_lines = (
        truth["claim_lines"]
        .filter(pl.col("family").is_in(["problem_new", "problem_est"]))
        .join(claims, on="claim_id")
        .with_columns(month=pl.col("service_date").dt.truncate("1mo"))
    )
    expected = {
        (month, code): n
        for month, code, n in em_lines.group_by("month", "procedure").agg(pl.len()).iter_rows()
    }
    got = frame(
        con,
        """select service_month, em_code, em_visits, segment_type, segment_id, patient_status,
                  visit_share, benchmark_share
           from marts.fct_em_levels_monthly""",
    )
    practice = got.filter(pl.col("segment_type") == "practice")
    counted = {
        (r["service_month"], r["em_code"]): r["em_visits"]
        for r in practice.iter_rows(named=True)
        if r["em_visits"]
    }
    assert counted == expected
    # Providers add up to the practice; shares add up to 1 per segment, month and status
    by_provider = got.filter(pl.col("segment_type") == "provider")
    npis = set(small_practice.practice.population.providers["npi"])
    assert set(by_provider["segment_id"]) <= npis
    assert by_provider["em_visits"].sum() == practice["em_visits"].sum()
    sums = got.group_by("service_month", "segment_type", "segment_id", "patient_status").agg(
        pl.col("visit_share").sum(), pl.len()
    )
    assert ((sums["visit_share"] - 1).abs() < 1e-9).all()
    assert set(sums.filter(pl.col("patient_status") == "new")["len"]) == {4}
    assert set(sums.filter(pl.col("patient_status") == "established")["len"]) == {5}
    seed = dict(
        con.execute(
            "select procedure_code, benchmark_share from terminology.terminology__em_benchmark"
        ).fetchall()
    )
    shares = dict(got.select("em_code", "benchmark_share").unique().iter_rows())
    assert shares == {code: float(share) for code, share in seed.items()}


# --------------------------------------------------------------------------- appointments


def test_appointments_are_the_extract_rows(con, small_practice):
    files = sorted((small_practice.landing / "scheduling").glob("appointments_*.csv"))
    extract = pl.concat([pl.read_csv(f, infer_schema=False) for f in files])
    assert extract["appointment_id"].n_unique() == extract.height
    assert one(con, "select count(*) from marts.fct_appointments") == extract.height
    statuses = dict(extract.group_by("status").agg(pl.len()).iter_rows())
    got = dict(
        con.execute(
            "select appointment_status, count(*) from marts.fct_appointments group by 1"
        ).fetchall()
    )
    assert got == statuses
    # Kept visits link to their claims; every billed appointment is a visit
    billed = one(
        con,
        """select count(*) from marts.fct_appointments a
           join marts.fct_visits v on v.claim_id = a.encounter_id and v.appointment_id = a.appointment_id
           where a.is_billed""",
    )
    assert billed == one(con, "select count(*) from marts.fct_appointments where is_billed") > 0
    assert one(con, "select count(*) from marts.fct_appointments where lead_time_days < 0") == 0


def test_no_shows_per_month_equal_the_truth(con, truth):
    got = {
        month: (due, no_shows)
        for month, due, no_shows in con.execute(
            """select appointment_month, count(case when is_due then 1 end),
                      count(case when is_no_show then 1 end)
               from marts.fct_appointments group by 1"""
        ).fetchall()
    }
    kpis = truth["kpis_monthly"]
    assert kpis.height > 0
    for month, due, no_shows in kpis.select("month", "appointments_due", "no_shows").iter_rows():
        assert got.get(month) == (due, no_shows), month
