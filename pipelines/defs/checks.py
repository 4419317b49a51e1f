"""Asset checks on the raw layer: what must hold before anything downstream reads it."""

import json
from collections import Counter

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSpec,
    MetadataValue,
    multi_asset_check,
)

from pipelines.defs.ingest import SOURCE_KINDS, raw_tables_of
from pipelines.defs.resources import WarehouseResource
from pipelines.lib.ingest.loader import raw_tables
from pipelines.lib.ingest.run import open_writer

ALL_RAW_TABLES = [t for source in SOURCE_KINDS for t in raw_tables_of(source)]

# 835 transaction balancing, recomputed from the raw tables (x12-notes.md, rule 3):
# Σ CLP04 − Σ PLB = BPR02 for every loaded transaction.
UNBALANCED_835 = """
with clp as (
    select file_id, transaction_index, sum(paid_amount) as paid
    from raw.remit_claims group by all
), plb as (
    select file_id, transaction_index, sum(amount) as plb
    from raw.remit_provider_adjustments group by all
)
select p.file_id, p.transaction_control_number, p.payment_amount,
       coalesce(c.paid, 0) - coalesce(b.plb, 0) as computed
from raw.remit_payments p
left join clp c using (file_id, transaction_index)
left join plb b using (file_id, transaction_index)
where p.payment_amount <> coalesce(c.paid, 0) - coalesce(b.plb, 0)
"""


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            "remittances_balance",
            asset=["raw", "remit_payments"],
            description="Every loaded 835 transaction: Σ CLP04 − Σ PLB = BPR02",
        )
    ],
    pool="warehouse_writer",
)
def remittances_balance(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
    with open_writer(warehouse.root) as con:
        if "remit_payments" not in raw_tables(con):
            yield AssetCheckResult(
                check_name="remittances_balance", passed=True, metadata={"transactions": 0}
            )
            return
        bad = con.execute(UNBALANCED_835).fetchall()
        total = con.execute("select count(*) from raw.remit_payments").fetchall()[0][0]
    yield AssetCheckResult(
        check_name="remittances_balance",
        passed=not bad,
        metadata={
            "transactions": total,
            "unbalanced": len(bad),
            "examples": MetadataValue.json([[str(v) for v in r] for r in bad[:5]]),
        },
    )


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            "rows_match_registry",
            asset=["raw", t],
            description="Rows in the table = rows the file registry says were loaded into it",
        )
        for t in ALL_RAW_TABLES
    ],
    pool="warehouse_writer",
)
def rows_match_registry(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
    with open_writer(warehouse.root) as con:
        existing = raw_tables(con)
        expected: Counter[str] = Counter()
        if "file_registry" in existing:
            for (rows,) in con.execute(
                "select rows_by_table from raw.file_registry where status = 'loaded'"
            ).fetchall():
                expected.update(json.loads(rows) if isinstance(rows, str) else rows)
        actual = {
            t: con.execute(f"select count(*) from raw.{t}").fetchall()[0][0] if t in existing else 0
            for t in ALL_RAW_TABLES
        }
    for table in ALL_RAW_TABLES:
        yield AssetCheckResult(
            check_name="rows_match_registry",
            asset_key=["raw", table],
            passed=actual[table] == expected.get(table, 0),
            metadata={"rows": actual[table], "registered": expected.get(table, 0)},
        )


INGEST_CHECKS = [remittances_balance, rows_match_registry]
