"""dbt staging and seeds on the small practice: `dbt build` passes with every test, each
staging view has exactly its raw table's rows, PHI stops at raw, and the terminology seeds
cover every code the practice emits."""

from __future__ import annotations

import json

import pytest

from pipelines.lib.generator.catalogue import DENIAL_CAUSES, DUPLICATE, PAYERS, SERVICES

# raw table → its staging model
STAGING = {
    "file_registry": "stg_ingest__file_registry",
    "remit_payments": "stg_remits_835__payments",
    "remit_claims": "stg_remits_835__claims",
    "remit_claim_adjustments": "stg_remits_835__claim_adjustments",
    "remit_service_lines": "stg_remits_835__service_lines",
    "remit_line_adjustments": "stg_remits_835__line_adjustments",
    "remit_remarks": "stg_remits_835__remarks",
    "remit_provider_adjustments": "stg_remits_835__provider_adjustments",
    "claims": "stg_claims_837__claims",
    "claim_diagnoses": "stg_claims_837__diagnoses",
    "claim_service_lines": "stg_claims_837__service_lines",
    "appointments": "stg_scheduling__appointments",
    "patients": "stg_scheduling__patients",
    "patient_payments": "stg_patient_payments__payments",
}


@pytest.fixture(scope="module")
def built(built_small):
    """The session's full `dbt build` of the small practice (tests/conftest.py)."""
    return built_small


@pytest.fixture(scope="module")
def con(built_con):
    return built_con


def one(con, sql: str):
    return con.execute(sql).fetchall()[0][0]


def test_dbt_build_of_staging_and_seeds_passes(built):
    assert built.returncode == 0, built.log[-4000:]
    statuses = {r["unique_id"]: r["status"] for r in built.results}
    models = [u for u in statuses if u.startswith("model.") and ".stg_" in u]
    seeds = [u for u in statuses if u.startswith("seed.")]
    tests = [u for u in statuses if u.startswith("test.")]
    assert len(models) == len(STAGING) and len(seeds) == 7
    assert len(tests) > 200 and "test.rcm_warehouse.assert_portability_macros" in tests
    assert all(statuses[u] == "success" for u in models + seeds)
    bad = {u: s for u, s in statuses.items() if u.startswith("test.") and s not in ("pass", "warn")}
    assert not bad


@pytest.mark.parametrize("table", sorted(STAGING))
def test_staging_has_every_raw_row(con, table):
    raw = one(con, f"select count(*) from raw.{table}")
    staged = one(con, f"select count(*) from staging.{STAGING[table]}")
    assert staged == raw
    if table != "remit_claim_adjustments":  # the generator puts every CAS on a line
        assert raw > 0


def test_every_staging_model_has_a_unique_and_not_null_key(built):
    manifest = json.loads((built.target / "manifest.json").read_text())
    tested: dict[str, set[tuple[str, str]]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or "test_metadata" not in node:
            continue
        column = node.get("column_name")
        for parent in node["depends_on"]["nodes"]:
            tested.setdefault(parent, set()).add((node["test_metadata"]["name"], column))
    for model in STAGING.values():
        tests = tested.get(f"model.rcm_warehouse.{model}", set())
        unique = {c for name, c in tests if name == "unique"}
        not_null = {c for name, c in tests if name == "not_null"}
        assert unique & not_null, f"{model} has no column tested unique and not null"


def test_keys_trace_back_to_file_and_segment(con):
    """An X12 key names the file and the segment that said the row."""
    row = con.execute(
        """select c.remit_claim_id, c.file_id, c.segment_index, r.segment_index
           from staging.stg_remits_835__claims c
           join raw.remit_claims r on r.file_id = c.file_id and r.segment_index = c.segment_index
           limit 1"""
    ).fetchone()
    assert row[0] == f"{row[1]}-{row[2]}" and row[2] == row[3]
    orphans = one(
        con,
        """select count(*) from staging.stg_remits_835__line_adjustments a
           left join staging.stg_remits_835__service_lines l using (remit_line_id)
           where l.remit_line_id is null""",
    )
    assert orphans == 0


PHI_COLUMNS = {
    "last_name", "first_name", "middle_name", "address1", "city", "phone",
    "member_id", "subscriber_member_id", "primary_member_id", "secondary_member_id",
    "patient_last_name", "patient_first_name", "patient_middle_name",
    "subscriber_last_name", "subscriber_first_name", "segment_text",
}  # fmt: skip


def test_no_names_addresses_or_member_ids_past_raw(con):
    columns = con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = 'staging'"
    ).fetchall()
    leaked = [
        (t, c) for t, c in columns if c in PHI_COLUMNS or (c.endswith("_name") and "patient" in c)
    ]
    assert not leaked
    patients = {c for t, c in columns if t == "stg_scheduling__patients"}
    assert patients == {
        "patient_id", "home_location_id", "pcp_npi", "primary_payer_id", "primary_member_key",
        "secondary_payer_id", "secondary_member_key", "sex_code", "zip_code", "birth_date",
        "registered_date", "file_id", "source_line_number",
    }  # fmt: skip
    # No raw member id shows up as a value either.
    ids = {r[0] for r in con.execute("select primary_member_id from raw.patients").fetchall()}
    keys = {r[0] for r in con.execute("select member_key from staging.stg_claims_837__claims").fetchall()}  # fmt: skip
    assert ids and not ids & keys


def test_member_keys_join_as_the_member_ids_do(con):
    """Pseudonymising keeps every join: claims match the roster by member key exactly as
    often as they match by the raw member id."""
    by_id = one(
        con,
        """select count(*) from raw.claims c where exists (
               select 1 from raw.patients p
               where (p.primary_payer_id = c.payer_id and p.primary_member_id = c.subscriber_member_id)
                  or (p.secondary_payer_id = c.payer_id and p.secondary_member_id = c.subscriber_member_id))""",
    )
    by_key = one(
        con,
        """select count(*) from staging.stg_claims_837__claims c where exists (
               select 1 from staging.stg_scheduling__patients p
               where (p.primary_payer_id = c.payer_id and p.primary_member_key = c.member_key)
                  or (p.secondary_payer_id = c.payer_id and p.secondary_member_key = c.member_key))""",
    )
    assert by_key == by_id > 0
    remits = one(
        con,
        """select count(*) from staging.stg_remits_835__claims r
           join staging.stg_claims_837__claims c on c.claim_id = r.claim_id and c.member_key = r.member_key""",
    )
    assert remits > 0


def test_member_keys_cannot_be_recomputed_from_a_guessed_member_id(con):
    """An unkeyed hash of a member id is reversed by hashing guesses; the keys are keyed
    by the warehouse's own secret instead, which the serving file never carries."""
    (secret,) = con.execute("select key from secrets.pseudonym_key").fetchall()
    assert len(secret[0]) == 64
    unkeyed = one(
        con,
        """select count(*) from staging.stg_claims_837__claims
           where member_key in (select md5(subscriber_member_id) from raw.claims
                                union all select sha256(subscriber_member_id) from raw.claims)""",
    )
    mismatched = one(
        con,
        """select count(*) from (
               (select member_key from staging.stg_claims_837__claims
                except select sha256((select key from secrets.pseudonym_key) || subscriber_member_id)
                       from raw.claims)
               union all
               (select sha256((select key from secrets.pseudonym_key) || subscriber_member_id)
                       from raw.claims
                except select member_key from staging.stg_claims_837__claims))""",
    )
    assert unkeyed == 0 and mismatched == 0


def test_money_and_codes_keep_their_types(con):
    types = dict(
        con.execute(
            """select table_name || '.' || column_name, data_type from information_schema.columns
               where table_schema in ('staging', 'terminology')"""
        ).fetchall()
    )
    assert types["stg_remits_835__claims.paid_amount"] == "DECIMAL(18,2)"
    assert types["stg_claims_837__service_lines.charge_amount"] == "DECIMAL(18,2)"
    assert types["stg_patient_payments__payments.payment_amount"] == "DECIMAL(18,2)"
    assert types["stg_claims_837__service_lines.service_from_date"] == "DATE"
    assert types["stg_claims_837__service_lines.line_number"] == "INTEGER"
    assert types["terminology__carc.carc_code"] == "VARCHAR"
    assert types["terminology__place_of_service.place_of_service_code"] == "VARCHAR"
    assert types["terminology__carc.is_denial"] == "BOOLEAN"
    assert one(con, "select count(*) from terminology.terminology__place_of_service where place_of_service_code = '02'") == 1  # fmt: skip
    assert one(
        con, "select sum(payment_amount) from staging.stg_patient_payments__payments"
    ) == one(con, "select sum(amount) from raw.patient_payments")


def test_carc_seed_covers_every_code_the_practice_uses(con):
    seed = {
        code: (category, root_cause)
        for code, category, root_cause in con.execute(
            "select carc_code, adjustment_category, root_cause from terminology.terminology__carc"
        ).fetchall()
    }
    for cause, (_share, codes, _follow) in DENIAL_CAUSES.items():
        for _group, carc, _rarc in codes:
            assert seed[carc] == ("denial", cause), carc
    assert seed[DUPLICATE[1]] == ("denial", "duplicate")
    for carc, category in {"1": "patient_responsibility", "2": "patient_responsibility",
                           "3": "patient_responsibility", "45": "contractual",
                           "253": "sequestration", "23": "prior_payer"}.items():  # fmt: skip
        assert seed[carc] == (category, None), carc
    used = {r[0] for r in con.execute("select distinct carc_code from staging.stg_remits_835__line_adjustments").fetchall()}  # fmt: skip
    assert used <= set(seed)


def test_rarc_service_and_payer_seeds_cover_the_catalogue(con):
    rarcs = {r[0] for r in con.execute("select rarc_code from terminology.terminology__rarc").fetchall()}  # fmt: skip
    emitted = {rarc for _s, codes, _f in DENIAL_CAUSES.values() for _g, _c, rarc in codes if rarc}
    assert emitted | {"MA01"} <= rarcs
    families = dict(
        con.execute(
            "select procedure_code, service_family from terminology.terminology__service_catalogue"
        ).fetchall()
    )
    assert {code: spec[0] for code, spec in SERVICES.items()}.items() <= families.items()
    levels = dict(
        con.execute(
            "select procedure_code, em_level from terminology.terminology__service_catalogue where is_office_em"
        ).fetchall()
    )
    assert levels == {"99202": 2, "99203": 3, "99204": 4, "99205": 5, "99211": 1,
                      "99212": 2, "99213": 3, "99214": 4, "99215": 5}  # fmt: skip
    payers = set(
        con.execute(
            "select payer_id, payer_name, payer_class from terminology.terminology__payer_classes"
        ).fetchall()
    )
    assert payers == {(p.payer_id, p.name, p.payer_class) for p in PAYERS}
    shares = dict(
        con.execute(
            """select new_or_established, sum(benchmark_share)
               from terminology.terminology__em_benchmark group by new_or_established"""
        ).fetchall()
    )
    assert float(shares["established"]) == pytest.approx(0.999) and float(shares["new"]) == pytest.approx(0.993)  # fmt: skip
