"""The dbt project as Dagster assets: one graph with the ingest assets (raw/* upstream of
staging), dbt tests as asset checks, the ingest writers' pool, and `rcm build`
materialising it in process against a copy of the small practice's warehouse."""

from __future__ import annotations

import shutil

import duckdb
from dagster import AssetKey

from pipelines.definitions import defs
from pipelines.defs.dbt import DBT_ASSETS, WAREHOUSE_POOL, dbt_project
from pipelines.defs.ingest import INGEST_ASSETS
from pipelines.lib.ingest.loader import RAW_TABLES

RAW_KEYS = {AssetKey(["raw", t]) for kind in RAW_TABLES.values() for t in kind} | {
    AssetKey(["raw", "file_registry"])
}
SECRET_KEY = AssetKey(["secrets", "pseudonym_key"])  # the loader's, beside the registry


def test_dbt_assets_sit_downstream_of_the_raw_assets():
    graph = defs.resolve_asset_graph()
    (dbt_assets,) = DBT_ASSETS
    own = set(dbt_assets.keys)
    upstream = {dep for key in own for dep in graph.get(key).parent_keys} - own
    assert upstream == RAW_KEYS | {SECRET_KEY}
    ingest_keys = {key for asset in INGEST_ASSETS for key in asset.keys}
    assert RAW_KEYS - ingest_keys == {AssetKey(["raw", "file_registry"])}
    staging = graph.get(AssetKey(["staging", "stg_remits_835__claims"]))
    assert staging.parent_keys == {AssetKey(["raw", "remit_claims"]), SECRET_KEY}
    assert staging.group_name == "staging"
    assert graph.get(AssetKey(["terminology", "terminology__carc"])).group_name == "terminology"
    assert {k.path[0] for k in own} >= {"staging", "terminology"}


def test_dbt_tests_are_asset_checks_and_the_pool_is_the_writers():
    (dbt_assets,) = DBT_ASSETS
    checks = list(dbt_assets.check_specs)
    assert len(checks) > 200
    assert any(
        c.asset_key == AssetKey(["staging", "stg_remits_835__claims"])
        and c.name.startswith("unique_")
        for c in checks
    )
    assert WAREHOUSE_POOL == "warehouse_writer"
    assert dbt_assets.node_def.pool == WAREHOUSE_POOL
    assert {asset.node_def.pool for asset in INGEST_ASSETS} == {WAREHOUSE_POOL}
    assert dbt_project.manifest_path.exists()


def test_rcm_build_materialises_the_dbt_assets_in_process(ingested_small, tmp_path, capsys):
    from pipelines.cli import run_build_assets

    (tmp_path / "warehouse").mkdir()
    shutil.copy(
        ingested_small.data_dir / "warehouse" / "rcm.duckdb", tmp_path / "warehouse" / "rcm.duckdb"
    )
    assert run_build_assets(tmp_path)
    assert "models built" in capsys.readouterr().out
    with duckdb.connect(str(tmp_path / "warehouse" / "rcm.duckdb"), read_only=True) as con:
        built = dict(
            con.execute(
                """select table_schema, count(*) from information_schema.tables
                   where table_schema in ('staging', 'terminology') group by table_schema"""
            ).fetchall()
        )
    assert built == {"staging": 14, "terminology": 7}


def test_rcm_build_fails_without_a_warehouse(tmp_path, capsys):
    from pipelines.cli import run_build_assets

    assert not run_build_assets(tmp_path)
    assert "rcm ingest" in capsys.readouterr().out
