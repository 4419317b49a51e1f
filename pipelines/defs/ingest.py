"""Ingest assets: one multi-asset per raw source, each producing that source's raw tables
(asset keys ``raw/<table>``, which dbt's ``source('raw', ...)`` maps onto)."""

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetSpec,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    multi_asset,
)

from pipelines.defs.resources import Progress, WarehouseResource
from pipelines.lib.errors import exception_place
from pipelines.lib.ingest.landing import KINDS_BY_FOLDER
from pipelines.lib.ingest.loader import RAW_TABLES
from pipelines.lib.ingest.run import WarehouseBusy, run_ingest
from pipelines.lib.warehouse_files import WarehouseFileError

# Raw source (landing folder) -> the file kinds it holds
SOURCE_KINDS = KINDS_BY_FOLDER
SOURCE_DESCRIPTIONS = {
    "scheduling": "Appointments and patient roster CSV extracts",
    "claims": "X12 5010 837P professional claims",
    "remits": "X12 5010 835 remittance advice",
    "payments": "Patient payment CSV extracts",
}
ASSET_NAMES = {
    "scheduling": "ingest_scheduling",
    "claims": "ingest_claims_837",
    "remits": "ingest_remits_835",
    "payments": "ingest_patient_payments",
}


def raw_tables_of(source: str) -> list[str]:
    return [t for kind in SOURCE_KINDS[source] for t in RAW_TABLES[kind]]


class IngestConfig(Config):
    """Which landing files to load: all waiting ones unless ``files`` names some
    (``<folder>/<name>``, as the sensor asks)."""

    files: list[str] | None = None
    workers: int = 2
    settle_seconds: float = 2.0


def _make_ingest_asset(source: str):
    specs = [
        AssetSpec(
            ["raw", table],
            group_name="raw",
            kinds={"duckdb"},
            description=f"raw.{table} ({SOURCE_DESCRIPTIONS[source]})",
        )
        for table in raw_tables_of(source)
    ]

    @multi_asset(
        name=ASSET_NAMES[source],
        specs=specs,
        pool="warehouse_writer",  # one writer of the DuckDB build file at a time
        retry_policy=RetryPolicy(max_retries=2, delay=15),
        description=f"Load new {SOURCE_DESCRIPTIONS[source].lower()} from data/landing/{source}/ into raw.*",
        required_resource_keys={"warehouse", "progress"},
    )
    def ingest(context: AssetExecutionContext, config: IngestConfig):
        warehouse: WarehouseResource = context.resources.warehouse
        progress: Progress = context.resources.progress
        try:
            summary = run_ingest(
                warehouse.root,
                (source,),
                files=config.files,
                workers=config.workers,
                settle_seconds=config.settle_seconds,
                on_start=lambda files: progress.start(source, len(files)),
                on_file=lambda outcome: progress.advance(source, outcome.status),
            )
        except (WarehouseBusy, duckdb.IOException):
            raise  # another writer, or the disk: the retry policy's next try may succeed
        except WarehouseFileError as err:  # a missing or wrong key: no retry can help
            raise Failure(str(err), allow_retries=False) from None
        except Exception as err:
            # Dagster's event log would keep the message, which can quote a value from a
            # file or the warehouse: log the type and the place only, and do not retry a
            # defect. Bad files never get here (they are set aside, see the loader).
            raise Failure(
                f"ingest of landing/{source}/ failed: {exception_place(err)}",
                allow_retries=False,
            ) from None
        rows = summary.rows_by_table()
        problems = {o.name: f"{o.status}: {o.reason}" for o in summary.problems()}
        for name, why in problems.items():
            context.log.warning(f"{name} set aside ({why})")  # file names and rules only: no PHI
        common = {
            "files_loaded": summary.count("loaded"),
            "files_duplicate": summary.count("duplicate"),
            "files_rejected": summary.count("rejected"),
            "seconds": round(summary.seconds, 2),
            "megabytes": round(summary.bytes / 1e6, 2),
            "set_aside": MetadataValue.json(problems),
        }
        for table in raw_tables_of(source):
            yield MaterializeResult(
                asset_key=["raw", table], metadata={**common, "rows_added": rows.get(table, 0)}
            )

    return ingest


INGEST_ASSETS = [_make_ingest_asset(source) for source in SOURCE_KINDS]
