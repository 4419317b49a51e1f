"""Publish: the serving file readers open, written after the dbt build and its tests.

``serving/warehouse`` depends on every dbt asset of the reader-facing schemas (``marts/*``
and ``terminology/*``, taken from the dbt assets' keys, so new marts join by themselves)
and copies those schemas from the build file ``warehouse/rcm.duckdb`` into
``warehouse/serving.duckdb`` with :func:`pipelines.lib.publish.publish_serving` (a new
file, then an atomic rename: ARCHITECTURE.md, "Warehouse files and concurrency").

A failed build must never reach readers. Inside one run Dagster does that already: a
failing dbt test (severity error) fails the dbt step, so this step is skipped. Run on its
own (the UI, a later run) it looks at the latest result of every blocking dbt test in the
Dagster instance and refuses when one failed, did not finish, or never ran.

It reads the build file, and a DuckDB file being written cannot be read by another
process, so it shares the build writers' pool (``warehouse_writer``).
"""

import yaml
from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    define_asset_job,
)

# Not re-exported by dagster; the event log's check records are typed with it.
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from pipelines.defs.dbt import DBT_ASSETS, DBT_PROJECT_DIR, WAREHOUSE_POOL, warehouse_file
from pipelines.defs.resources import WarehouseResource
from pipelines.lib.ingest.run import WarehouseBusy, writer_lock
from pipelines.lib.publish import PublishError, publish_serving, serving_file

PUBLISHED_SCHEMAS = ("marts", "terminology")
SERVING_KEY = AssetKey(["serving", "warehouse"])

PUBLISHED_DEPS = sorted(
    (key for assets in DBT_ASSETS for key in assets.keys if key.path[0] in PUBLISHED_SCHEMAS),
    key=lambda key: key.to_user_string(),
)
# Every dbt test of severity error (dagster-dbt makes those blocking checks), staging's
# included: a failed staging test means dbt skipped the marts built on it.
BLOCKING_CHECKS = sorted(
    (spec.key for assets in DBT_ASSETS for spec in assets.check_specs if spec.blocking),
    key=lambda key: key.to_user_string(),
)


def _dbt_project_version() -> str:
    """``<name> <version>`` of the dbt project, recorded as the serving schema's version."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    return f"{project['name']} {project['version']}"


def unverified_checks(context: AssetExecutionContext, keys: list[AssetCheckKey]) -> list[str]:
    """The blocking dbt tests whose latest result in the Dagster instance does not allow a
    publish, each with why: failed, planned in a run that never evaluated it (dbt skips the
    tests of models downstream of a failure), or never run. Failures come first: they are
    the ones to fix. A planned check of the current run cannot be waiting: this step runs
    after dbt's."""
    latest = context.instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    failed: list[str] = []
    not_evaluated: list[str] = []
    never_run: list[str] = []
    for key in keys:
        record = latest.get(key)
        name = f"{key.asset_key.to_user_string()} {key.name}"
        if record is None:
            never_run.append(f"{name}: never run in this Dagster instance")
        elif record.status == AssetCheckExecutionRecordStatus.FAILED:
            evaluation = record.evaluation
            if evaluation is None or evaluation.severity == AssetCheckSeverity.ERROR:
                failed.append(f"{name}: failed in run {record.run_id}")
        elif record.status == AssetCheckExecutionRecordStatus.PLANNED:
            not_evaluated.append(f"{name}: not evaluated in run {record.run_id}")
    return failed + not_evaluated + never_run


@asset(
    key=SERVING_KEY,
    deps=PUBLISHED_DEPS,
    group_name="serving",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,  # reads the build file, which a writer would hold exclusively
    description=(
        "warehouse/serving.duckdb: the marts and terminology tables copied from the build "
        "file after the dbt build and its tests passed, swapped in with an atomic rename; "
        "dashboards and reports open it read-only"
    ),
)
def serving_warehouse(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """Publish the serving file and record what it holds (tables and rows, bytes, seconds)."""
    problems = unverified_checks(context, BLOCKING_CHECKS)
    if problems:
        shown = "\n  ".join(problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise Failure(
            f"not publishing: {len(problems)} dbt test(s) have not passed on the current "
            f"build (materialise the dbt assets with it: job build_and_publish, or "
            f"`rcm build`); the serving file is unchanged:\n  {shown}{more}"
        )
    root = warehouse.root
    try:
        # The ingest's advisory lock as well as the pool: an `rcm ingest` started outside
        # this Dagster instance makes publish wait its turn instead of failing on DuckDB's.
        with writer_lock(root):
            result = publish_serving(
                warehouse_file(root),
                serving_file(root),
                PUBLISHED_SCHEMAS,
                schema_version=_dbt_project_version(),
            )
    except (PublishError, WarehouseBusy) as error:
        raise Failure(f"not publishing: {error}; the serving file is unchanged") from error
    context.log.info(
        f"published {len(result.tables)} tables ({result.rows:,} rows) to {result.path} "
        f"in {result.seconds:.2f} s"
    )
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(result.path)),
            "tables": len(result.tables),
            "rows": result.rows,
            "rows_by_table": MetadataValue.json(result.rows_by_table()),
            "bytes": result.bytes,
            "seconds": round(result.seconds, 3),
            "schema_fingerprint": result.schema_fingerprint,
        }
    )


PUBLISH_ASSETS = [serving_warehouse]
SERVING_STEP = serving_warehouse.node_def.name  # its step key in a run: serving__warehouse

build_and_publish_job = define_asset_job(
    "build_and_publish",
    selection=AssetSelection.assets(*DBT_ASSETS, *PUBLISH_ASSETS),
    description="dbt build with its tests, then publish warehouse/serving.duckdb for readers",
)
