"""Checks shared by the crash tests (tests/pipelines/ingest/test_ingest_crash.py,
tests/pipelines/test_publish.py, tests/faults/): what must hold after a process dies
mid-way, and a few waits and readers of what a watcher process wrote."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import duckdb


def raw_consistent(data_dir: Path) -> dict:
    """The build warehouse's registry and raw tables agree: every raw table holds exactly
    the rows the registry says its loaded files gave, and no row belongs to a file that is
    not registered as loaded. Returns ``{"loaded": <files loaded>}``: 0 when the process
    was killed before its first transaction created the raw schema."""
    con = duckdb.connect(str(data_dir / "warehouse" / "rcm.duckdb"), read_only=True)
    try:
        schemas = con.execute("select schema_name from duckdb_schemas()").fetchall()
        if ("raw",) not in schemas:
            return {"loaded": 0}
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema='raw' and table_name <> 'file_registry'"
            ).fetchall()
        ]
        # the loader's own table: one secret, made once, whatever was killed
        assert con.execute("select count(*) from secrets.pseudonym_key").fetchall() == [(1,)]
        expected: Counter[str] = Counter()
        for (rows,) in con.execute(
            "select rows_by_table from raw.file_registry where status = 'loaded'"
        ).fetchall():
            expected.update(json.loads(rows))
        for t in tables:
            actual = con.execute(f"select count(*) from raw.{t}").fetchall()[0][0]
            assert actual == expected[t], (t, actual, expected[t])
            orphans = con.execute(
                f"select count(*) from raw.{t} where file_id not in (select file_id from raw.file_registry where status = 'loaded')"
            ).fetchall()[0][0]
            assert orphans == 0, t
        loaded = con.execute(
            "select count(*) from raw.file_registry where status='loaded'"
        ).fetchall()[0][0]
        return {"loaded": loaded}
    finally:
        con.close()


def leftovers(folder: Path) -> list[str]:
    """Temporary serving files and write-ahead logs left in a warehouse folder."""
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or p.suffix == ".wal")


def wait_for(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def observations(log: Path) -> list[dict]:
    """The JSON lines a reader process wrote (a line cut short by a kill is skipped)."""
    lines = log.read_text().splitlines() if log.exists() else []
    return [json.loads(line) for line in lines if line.endswith("}")]
