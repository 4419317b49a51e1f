"""Crash safety: a real SIGKILL during ingest leaves the warehouse consistent, and the next
run completes it with no duplicates and totals equal to the truth ledger."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import duckdb
import polars as pl
import pytest

from pipelines.lib.ingest.run import run_ingest
from tests.crash_checks import raw_consistent as consistent

CHILD = "import sys; from pathlib import Path; from pipelines.lib.ingest.run import run_ingest; run_ingest(Path(sys.argv[1]), settle_seconds=0.0, workers=1, batch_files=8)"


@pytest.mark.parametrize("kill_after", [1.0, 3.0, 6.0])
def test_sigkill_mid_ingest_then_rerun_completes(small_practice, tmp_path, kill_after):
    shutil.copytree(small_practice.landing, tmp_path / "landing")
    total_files = sum(1 for p in (tmp_path / "landing").rglob("*") if p.is_file())
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], start_new_session=True)
    time.sleep(kill_after)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    db = tmp_path / "warehouse" / "rcm.duckdb"
    if db.exists():
        consistent(tmp_path)
    # Nothing is lost: every file is in landing or in the archive
    places = [
        p for sub in ("landing", "archive") for p in (tmp_path / sub).rglob("*") if p.is_file()
    ]
    assert len(places) == total_files

    summary = run_ingest(tmp_path, settle_seconds=0.0)
    assert all(o.status == "loaded" for o in summary.outcomes), [
        o for o in summary.outcomes if o.status != "loaded"
    ][:3]
    assert consistent(tmp_path)["loaded"] == total_files
    assert not [p for p in (tmp_path / "landing").rglob("*") if p.is_file()]
    truth = pl.read_parquet(small_practice.truth / "claims.parquet")
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert (
            con.execute("select sum(paid_amount) from raw.remit_claims").fetchall()[0][0]
            == truth["payer_paid"].sum()
        )
        assert (
            con.execute(
                "select count(*) - count(distinct (file_id, segment_index)) from raw.remit_claims"
            ).fetchall()[0][0]
            == 0
        )
    finally:
        con.close()
