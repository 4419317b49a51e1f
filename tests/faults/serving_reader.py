"""A dashboard-like reader of serving.duckdb for the fault tests, run as its own process:

    python -m tests.faults.serving_reader SERVING TABLES_JSON STOP_FILE OUT_JSONL

Until STOP_FILE exists it reads the serving file through ``dashboards.data.Warehouse``
(the dashboards' own code: ATTACH read-only, reopen when the file changes), alternating a
fresh Warehouse per observation (a new open every time) with one long-lived Warehouse
that follows new publications. Each observation is one SQL statement, so it sees one
file: ``meta.publication``, the row count of every table of TABLES_JSON and the money
totals the test ties to the truth ledger (DECIMAL sums as text: never a float). It writes
one JSON line per observation, or ``{"error": ...}``; judging them is the test's job.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from dashboards.data import Warehouse

TOTALS = {
    "claims": "select count(*) from marts.fct_claims",
    "distinct_claims": "select count(distinct claim_id) from marts.fct_claims",
    "charges": "select sum(charges)::varchar from marts.fct_claims",
    "payer_paid": "select sum(payer_paid)::varchar from marts.fct_claims",
    "patient_paid": "select sum(patient_paid)::varchar from marts.fct_claims",
    "contractual": "select sum(contractual_amount)::varchar from marts.fct_claims",
    "denial_writeoff": "select sum(denial_writeoff_amount)::varchar from marts.fct_claims",
    "balance": "select sum(balance)::varchar from marts.fct_claims",
    "ar_as_of": "select sum(balance)::varchar from marts.fct_ar_snapshots where is_as_of_date",
    "payer_payments": "select sum(amount)::varchar from marts.fct_payments where payment_source = 'payer'",
    "patient_payments": "select sum(amount)::varchar from marts.fct_payments where payment_source = 'patient'",
}


def statement(tables: list[str]) -> str:
    counts = [f'(select count(*) from {t}) as "count {t}"' for t in tables]
    totals = [f'({sql}) as "total {name}"' for name, sql in TOTALS.items()]
    return (
        "select publication_id, build_path, published_at::varchar as published_at, "
        "(select count(*) from meta.publication) as meta_rows, "
        "table_rows, " + ", ".join(counts + totals) + " from meta.publication"
    )


def observe(warehouse: Warehouse, sql: str) -> dict:
    frame = warehouse.query(sql)
    if frame.height != 1:
        return {"error": f"meta.publication has {frame.height} rows"}
    row = frame.row(0, named=True)
    return {
        "publication_id": row["publication_id"],
        "build_path": row["build_path"],
        "published_at": row["published_at"],
        "meta_rows": row["meta_rows"],
        "table_rows": {
            f"{t['schema_name']}.{t['table_name']}": t["row_count"] for t in row["table_rows"]
        },
        "counts": {k.removeprefix("count "): v for k, v in row.items() if k.startswith("count ")},
        "totals": {k.removeprefix("total "): v for k, v in row.items() if k.startswith("total ")},
    }


def main() -> None:
    serving, tables, stop, out = (
        Path(sys.argv[1]),
        json.loads(sys.argv[2]),
        Path(sys.argv[3]),
        Path(sys.argv[4]),
    )
    sql = statement(tables)
    following = Warehouse(serving)
    n = 0
    with out.open("w") as log:
        while not stop.exists():
            fresh = n % 2 == 0
            warehouse = Warehouse(serving) if fresh else following
            try:
                seen = {"mode": "fresh" if fresh else "follow", **observe(warehouse, sql)}
            except Exception as error:  # every failure is a finding: record it, go on
                seen = {
                    "mode": "fresh" if fresh else "follow",
                    "error": f"{type(error).__name__}: {error}",
                }
            finally:
                if fresh:
                    warehouse.close()
            log.write(json.dumps(seen) + "\n")
            log.flush()
            n += 1
            time.sleep(0.3)  # two shared cores: leave the pipeline most of them


if __name__ == "__main__":
    main()
