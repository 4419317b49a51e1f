"""The publish asset: downstream of every mart and terminology asset of dbt, and only
reached by a build whose tests passed. Real dbt on a copy of the small practice's
warehouse: one build that publishes (through `rcm build`), one whose failing test keeps
the serving file as it was."""

from __future__ import annotations

import contextlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance, materialize

from pipelines.definitions import defs
from pipelines.defs.dbt import DBT_ASSETS, DBT_RESOURCES, WAREHOUSE_POOL, warehouse_file
from pipelines.defs.publish import (
    BLOCKING_CHECKS,
    PUBLISH_ASSETS,
    PUBLISHED_SCHEMAS,
    SERVING_KEY,
    SERVING_STEP,
    serving_file,
)
from pipelines.defs.resources import WarehouseResource


def test_serving_depends_on_every_mart_and_terminology_asset():
    graph = defs.resolve_asset_graph()
    (dbt_assets,) = DBT_ASSETS
    published = {k for k in dbt_assets.keys if k.path[0] in ("marts", "terminology")}
    node = graph.get(SERVING_KEY)
    assert node.parent_keys == published
    assert AssetKey(["terminology", "terminology__carc"]) in published
    assert not any(k.path[0] == "staging" for k in node.parent_keys)
    assert node.group_name == "serving"
    (serving,) = PUBLISH_ASSETS
    assert serving.node_def.pool == WAREHOUSE_POOL
    assert PUBLISHED_SCHEMAS == ("marts", "terminology")
    job = defs.resolve_job_def("build_and_publish")
    assert SERVING_KEY in job.asset_layer.executable_asset_keys
    assert set(dbt_assets.keys) <= set(job.asset_layer.executable_asset_keys)


def test_publish_waits_for_every_blocking_dbt_test():
    (dbt_assets,) = DBT_ASSETS
    blocking = {spec.key for spec in dbt_assets.check_specs if spec.blocking}
    assert set(BLOCKING_CHECKS) == blocking
    assert any(k.asset_key.path[0] == "staging" for k in BLOCKING_CHECKS)


@dataclass
class Built:
    root: Path
    ok: bool
    output: str


def copy_warehouse(source_root: Path, root: Path) -> Path:
    """The warehouse folder of a data folder, copied (the source is never written)."""
    shutil.copytree(source_root / "warehouse", root / "warehouse")
    return root


@pytest.fixture(scope="module")
def built(ingested_small, tmp_path_factory) -> Built:
    """`rcm build` (dbt build, tests, publish) once on a copy of the small practice."""
    from pipelines.cli import run_build_assets

    root = copy_warehouse(ingested_small.data_dir, tmp_path_factory.mktemp("published"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ok = run_build_assets(root)
    return Built(root, ok, out.getvalue())


def base_tables(path: Path, schemas: tuple[str, ...]) -> dict[str, int]:
    """schema.table -> rows of every base table of those schemas."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            """select schema_name || '.' || table_name from duckdb_tables()
               where schema_name in (select unnest(?::varchar[]))""",
            [list(schemas)],
        ).fetchall()
        return {n: con.execute(f"select count(*) from {n}").fetchall()[0][0] for (n,) in names}


def publication_id(path: Path) -> str | None:
    if not path.exists():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select publication_id from meta.publication").fetchall()[0][0]


def test_rcm_build_publishes_the_marts_and_terminology(built):
    """Fails while dbt_project has no marts: publish refuses a warehouse without them."""
    assert built.ok, built.output[-3000:]
    assert "tables published" in built.output and "(published)" in built.output
    serving = serving_file(built.root)
    in_build = base_tables(warehouse_file(built.root), PUBLISHED_SCHEMAS)
    in_serving = base_tables(serving, (*PUBLISHED_SCHEMAS, "meta"))
    assert {k.split(".")[0] for k in in_build} == {"marts", "terminology"}
    assert in_serving == {**in_build, "meta.publication": 1}
    assert sum(rows for name, rows in in_build.items() if name.startswith("marts.")) > 0
    with duckdb.connect(str(serving), read_only=True) as con:
        (version,) = con.execute("select schema_version from meta.publication").fetchall()[0]
    assert version.startswith("rcm_warehouse ")


def test_a_failing_dbt_test_keeps_the_serving_file_as_it_was(built, tmp_path):
    """A not-null/accepted-values test on staging fails: the dbt step fails, the publish
    step never starts, and the serving file (published or absent) is untouched. Run on its
    own afterwards, publish still refuses, naming the failed test."""
    root = copy_warehouse(built.root, tmp_path)
    serving = serving_file(root)
    before = (serving.read_bytes(), publication_id(serving)) if serving.exists() else None
    with duckdb.connect(str(warehouse_file(root))) as con:
        con.execute(
            """update raw.file_registry set status = 'misfiled'
               where file_id = (select min(file_id) from raw.file_registry)"""
        )
    resources = {"warehouse": WarehouseResource(data_dir=str(root)), **DBT_RESOURCES}
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    with DagsterInstance.ephemeral() as instance, contextlib.redirect_stdout(io.StringIO()):
        result = materialize(
            [*DBT_ASSETS, *PUBLISH_ASSETS],
            resources=resources,
            run_config=quiet,
            instance=instance,
            raise_on_error=False,
        )
        plan = instance.get_execution_plan_snapshot(result.dagster_run.execution_plan_snapshot_id)
        alone = materialize(
            PUBLISH_ASSETS, resources=resources, run_config=quiet, instance=instance,
            raise_on_error=False,
        )  # fmt: skip

    assert not result.success
    failed = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
    assert any("file_status" in name for name in failed), failed
    assert SERVING_STEP in {step.key for step in plan.steps}, "publish was part of the run"
    serving_events = [e.event_type for e in result.all_events if e.step_key == SERVING_STEP]
    assert DagsterEventType.STEP_START not in serving_events, "and never started"
    assert not [e for e in result.get_asset_materialization_events() if e.asset_key == SERVING_KEY]

    assert not alone.success
    (failure,) = alone.get_step_failure_events()
    message = failure.step_failure_data.error.message
    assert "not publishing" in message
    first = message.split("\n")[1]  # failures are listed before tests dbt skipped
    assert "file_status" in first and "failed in run" in first, message

    after = (serving.read_bytes(), publication_id(serving)) if serving.exists() else None
    assert after == before
    assert not [p.name for p in serving.parent.iterdir() if ".tmp-" in p.name]


def test_publish_alone_refuses_without_test_results(built, tmp_path):
    """A fresh Dagster instance has no dbt test results: publish refuses rather than
    copying a build nobody checked."""
    root = copy_warehouse(built.root, tmp_path)
    serving = serving_file(root)
    before = serving.read_bytes() if serving.exists() else None
    result = materialize(
        PUBLISH_ASSETS,
        resources={"warehouse": WarehouseResource(data_dir=str(root))},
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert "never run in this Dagster instance" in failure.step_failure_data.error.message
    assert (serving.read_bytes() if serving.exists() else None) == before
