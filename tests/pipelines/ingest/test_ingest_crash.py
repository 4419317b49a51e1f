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

from pipelines.lib.ingest.landing import sha256_of
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


MOVE_KILLER = """
import os, signal, sys
from pathlib import Path
import pipelines.lib.ingest.loader as loader
from pipelines.lib.ingest.landing import sha256_of
from pipelines.lib.ingest.run import run_ingest

moves = []
def archive_then_die(file, data_dir):
    moves.append(loader_archive(file, data_dir))
    if len(moves) == 3:  # the batch is committed, three of its files moved, none recorded
        os.kill(os.getpid(), signal.SIGKILL)
    return moves[-1]
loader_archive, loader.archive = loader.archive, archive_then_die
run_ingest(Path(sys.argv[1]), ('claims',), settle_seconds=0.0, workers=1)
"""


def test_sigkill_between_moves_and_their_record_is_recorded_by_the_next_run(
    small_practice, tmp_path
):
    """A batch's files move to archive/ after its commit and their ``moved_to`` is written
    after the moves: a kill in between must not leave archived files the registry says
    were never moved."""
    shutil.copytree(small_practice.landing / "claims", tmp_path / "landing" / "claims")
    proc = subprocess.run([sys.executable, "-c", MOVE_KILLER, str(tmp_path)], check=False)
    assert proc.returncode == -signal.SIGKILL
    assert len(list((tmp_path / "archive" / "claims").iterdir())) == 3

    run_ingest(tmp_path, settle_seconds=0.0)
    con = duckdb.connect(str(tmp_path / "warehouse" / "rcm.duckdb"), read_only=True)
    try:
        rows = con.execute("select file_name, sha256, moved_to from raw.file_registry").fetchall()
    finally:
        con.close()
    assert len(rows) == len(list((small_practice.landing / "claims").iterdir()))
    for name, sha, moved_to in rows:
        assert moved_to is not None, name
        assert sha256_of(tmp_path / moved_to) == sha, name


ASIDE_KILLER = """
import os, signal, sys
from pathlib import Path
import pipelines.lib.ingest.loader as loader
from pipelines.lib.ingest.run import run_ingest

def die(*args):  # registered as rejected, not yet moved to quarantine
    os.kill(os.getpid(), signal.SIGKILL)
loader.quarantine = die
run_ingest(Path(sys.argv[1]), settle_seconds=0.0, workers=1)
"""


def test_sigkill_between_registering_a_bad_file_and_moving_it_keeps_one_registry_row(tmp_path):
    """A file seen once has one registry row: the re-run moves the file the killed run
    registered as rejected instead of registering it again."""
    bad = tmp_path / "landing" / "claims" / "bad.837"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"ISA*not an interchange~")
    proc = subprocess.run([sys.executable, "-c", ASIDE_KILLER, str(tmp_path)], check=False)
    assert proc.returncode == -signal.SIGKILL and bad.exists()

    (outcome,) = run_ingest(tmp_path, settle_seconds=0.0).outcomes
    assert outcome.status == "rejected"
    con = duckdb.connect(str(tmp_path / "warehouse" / "rcm.duckdb"), read_only=True)
    try:
        rows = con.execute("select file_id, status, moved_to from raw.file_registry").fetchall()
    finally:
        con.close()
    assert rows == [(outcome.file_id, "rejected", "quarantine/claims/bad.837")]
    assert not bad.exists() and (tmp_path / "quarantine" / "claims" / "bad.837").exists()
