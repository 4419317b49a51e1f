"""SIGKILL during ingest, during the dbt build and during publish, at several points each:
readers only ever see a whole published warehouse (the previous one or the new one), and
re-running the killed step completes with totals equal to the truth ledger, to the cent.

One sequence on the small practice, phase by phase (the tests run in file order and each
starts where the previous one left the data folder):

1. A published warehouse to start from: the session's ingest and dbt build of the small
   practice (fixtures ``ingested_small``, ``built_small``), published into a fresh data
   folder. A reader process starts (tests/faults/serving_reader.py: the dashboards' own
   ``dashboards.data.Warehouse``) and reads serving.duckdb until the end.
2. The practice's extracts land in that folder (plus two re-sent copies, which must end as
   duplicates) and the real ``rcm ingest`` is killed with its process group: when the build
   file appears (the first source's batch not yet committed), when the first file reaches
   archive/ (a batch committed, its moves under way), when half the files are archived.
3. The real ``rcm build -v`` is killed at points read from dbt's own progress lines: the
   first staging model, the first data test, the first of the claim marts.
4. The re-run ``rcm build`` completes dbt and is killed when its publish has created the
   serving file's temporary copy; then the publish step alone (the library call the
   Dagster asset makes, in its own process) kills itself at named points: inside the copy
   transaction, after CHECKPOINT and close but before the rename, after the rename before
   the directory fsync. A last run completes.

After every kill: the build file opens, its registry and raw tables agree, nothing landed
is lost, the writer lock is free, no process of the group survives. After every re-run
to completion: the truth ledger's totals (DECIMAL, never float). Throughout, every reader
observation is one whole publication: its meta row, its tables' row counts as meta says,
and the ledger's totals, or the test fails.

Cost: three killed ``rcm build`` runs (each killed early or mid-way) and one complete dbt
build; the previous publication reuses the session's build (``built_small``). The reader
sleeps between reads so that it leaves the pipeline the CPU.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.lib.ingest.landing import sha256_of
from pipelines.lib.ingest.run import writer_lock
from pipelines.lib.publish import publish_serving, serving_file
from tests.crash_checks import leftovers, observations, raw_consistent, wait_for
from tests.dbt.test_warehouse_vs_truth import CLAIM_COLUMNS, frame, kpi_mismatches, mismatches

RCM = Path(sys.executable).with_name("rcm")
PUBLISHED_SCHEMAS = ("marts", "terminology")  # pipelines.defs.publish (not imported: Dagster)
SCHEMA_VERSION = "rcm_warehouse 0.1.0"
RESENT = ("remits", "claims")  # a file of each re-sent under a new name: must be duplicates

# The publish step, in its own process, with a fault at a named point: the library call
# the Dagster asset makes (under the writers' lock), with one private function of
# pipelines.lib.publish wrapped so that the process SIGKILLs itself there. No hook in
# the pipeline's code: the wrap is the test's.
PUBLISH_CHILD = """
import os, signal, sys
from pathlib import Path
import pipelines.lib.publish as publish
from pipelines.lib.ingest.landing import sha256_of
from pipelines.lib.ingest.run import writer_lock

root, point, schema_version = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
serving = publish.serving_file(root)

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def wrap(name, when):
    original = getattr(publish, name)
    def wrapped(*args, **kwargs):
        if when(*args):
            die()
        return original(*args, **kwargs)
    setattr(publish, name, wrapped)

if point == "in-copy-transaction":  # every table copied, meta not written, not committed
    wrap("_write_meta", lambda *a: True)
elif point == "before-rename":  # written, CHECKPOINT, closed; fsync of the temporary file
    wrap("_fsync", lambda path: path.name.startswith(serving.name + ".tmp-"))
elif point == "after-rename":  # renamed over serving.duckdb; fsync of the folder
    wrap("_fsync", lambda path: path == serving.parent)
elif point != "none":
    raise SystemExit(f"unknown fault point {point}")
with writer_lock(root):
    result = publish.publish_serving(
        root / "warehouse" / "rcm.duckdb", serving, ("marts", "terminology"),
        schema_version=schema_version,
    )
print(f"published {len(result.tables)} tables", flush=True)
"""


@dataclass
class Kill:
    step: str
    point: str
    seconds: float  # how long the process ran before the kill
    note: str = ""


@dataclass
class Scenario:
    """The data folder, the truth, the reader and what happened so far."""

    root: Path
    truth_dir: Path
    landing_files: int
    truth: dict[str, object]
    tables: list[str]
    publications: dict[str, dict] = field(default_factory=dict)  # id -> whole meta
    reader: subprocess.Popen | None = None
    reader_log: Path | None = None
    stop: Path | None = None
    kills: list[Kill] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)

    @property
    def serving(self) -> Path:
        return serving_file(self.root)

    @property
    def build(self) -> Path:
        return self.root / "warehouse" / "rcm.duckdb"


# ---------------------------------------------------------------- truth and observations


def truth_totals(truth: Path) -> dict[str, object]:
    """The totals the reader reports, from the truth ledger (Decimal sums as text)."""
    claims = pl.read_parquet(truth / "claims.parquet")
    plb = pl.read_parquet(truth / "provider_adjustments.parquet")["amount"].sum()
    patient = pl.read_parquet(truth / "patient_payments.parquet")["amount"].sum()

    def money(value: Decimal) -> str:
        assert isinstance(value, Decimal), type(value)
        return f"{value:.2f}"

    return {
        "claims": claims.height,
        "distinct_claims": claims["claim_id"].n_unique(),
        "charges": money(claims["charges"].sum()),
        "payer_paid": money(claims["payer_paid"].sum()),
        "patient_paid": money(claims["patient_paid"].sum()),
        "contractual": money(claims["contractual"].sum()),
        "denial_writeoff": money(claims["denial_writeoff"].sum()),
        "balance": money(claims["balance"].sum()),
        "ar_as_of": money(claims["balance"].sum()),
        # provider-level adjustments (PLB) reduce the payer's payment
        "payer_payments": money(claims["payer_paid"].sum() - plb),
        "patient_payments": money(patient),
    }


def read_publication(serving: Path) -> dict:
    with duckdb.connect(str(serving), read_only=True) as con:
        cur = con.execute("select * from meta.publication")
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    assert len(rows) == 1, rows
    meta = dict(zip(names, rows[0], strict=True))
    meta["table_rows"] = {f"{t['schema_name']}.{t['table_name']}": t["row_count"] for t in meta["table_rows"]}  # fmt: skip
    return meta


def note_publication(sc: Scenario) -> dict:
    """Remember the publication now in serving.duckdb (readers may see any remembered one)."""
    meta = read_publication(sc.serving)
    sc.publications.setdefault(meta["publication_id"], meta)
    assert sc.publications[meta["publication_id"]] == meta
    return meta


def check_reader(sc: Scenario) -> Counter[str]:
    """Every observation so far is one whole, known publication with the ledger's totals.
    Returns the number of observations by publication id."""
    seen = observations(sc.reader_log)
    assert seen, "the reader made no observation"
    errors = [o for o in seen if "error" in o]
    assert errors == [], f"{len(errors)} of {len(seen)} reads failed: {errors[:3]}"
    by_id: Counter[str] = Counter()
    for o in seen:
        meta = sc.publications.get(o["publication_id"])
        assert meta is not None, f"a publication the pipeline never made: {o['publication_id']}"
        assert o["meta_rows"] == 1
        assert o["build_path"] == meta["build_path"]
        assert datetime.fromisoformat(o["published_at"]) == meta["published_at"]
        assert o["table_rows"] == meta["table_rows"], "meta.publication of another file"
        wanted = {t: meta["table_rows"][t] for t in sc.tables}
        assert o["counts"] == wanted, "tables that are not the ones this publication wrote"
        assert o["totals"] == sc.truth, "totals other than the ledger's"
        by_id[o["publication_id"]] += 1
    return by_id


# ---------------------------------------------------------------- processes


def launch(args: list[str], root: Path, log: Path) -> subprocess.Popen:
    """The real ``rcm`` command on the data folder, in a process group of its own (dbt
    runs as its child), its output to ``log``."""
    with log.open("a") as out:
        out.write(f"\n$ rcm {' '.join(args)}\n")
    return subprocess.Popen(
        [str(RCM), *args],
        env={**os.environ, "RCM_DATA_DIR": str(root), "COLUMNS": "200", "NO_COLOR": "1"},
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_group_when(
    proc: subprocess.Popen, condition: Callable[[], bool], what: str, timeout: float = 900
) -> float:
    """SIGKILL ``proc``'s whole process group as soon as ``condition`` holds (polled every
    5 ms); returns the seconds it ran. Fails if the process ends first: the kill point
    was never reached, which is a broken test, not a pass."""
    started = time.monotonic()
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"{what}: the process ended (exit {proc.returncode}) before the kill point")  # fmt: skip
        if time.monotonic() - started > timeout:
            proc.kill()
            raise AssertionError(f"{what}: kill point not reached in {timeout} s")
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    wait_for(lambda: not group_alive(proc.pid), f"the process group of {what} to be gone")
    return time.monotonic() - started


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # A member killed but not yet reaped by init counts until it is; only zombies left?
    out = subprocess.run(["ps", "-o", "stat=", "-g", str(pgid)], capture_output=True, text=True)
    return any(not s.startswith("Z") for s in out.stdout.split())


def finish(proc: subprocess.Popen, what: str, log: Path, timeout: float = 600) -> None:
    assert proc.wait(timeout=timeout) == 0, f"{what} failed:\n{log.read_text()[-4000:]}"


def log_has(log: Path, text: str) -> Callable[[], bool]:
    """Whether ``text`` has been written to ``log`` (read incrementally: polled often)."""
    seen = {"offset": 0, "tail": ""}

    def check() -> bool:
        with log.open("rb") as fh:
            fh.seek(seen["offset"])
            new = fh.read().decode(errors="replace")
        seen["offset"] += len(new.encode(errors="replace"))
        window = seen["tail"] + new
        seen["tail"] = window[-len(text) :]
        return text in window

    return check


def serving_leftovers(sc: Scenario) -> list[str]:
    return [n for n in leftovers(sc.serving.parent) if n.startswith(sc.serving.name)]


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def lock_is_free(root: Path) -> bool:
    with writer_lock(root, wait_seconds=0):
        return True


def assert_previous_state_intact(sc: Scenario, publication_id: str) -> None:
    """What must hold after any kill: the serving file is the given publication, the build
    file opens, the writer lock is free and no dead publisher's file stops the next run."""
    assert read_publication(sc.serving)["publication_id"] == publication_id
    assert lock_is_free(sc.root)
    if not sc.build.exists():
        return
    with duckdb.connect(str(sc.build), read_only=True) as con:
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
    if "raw" in schemas:
        raw_consistent(sc.root)
    else:  # killed before the registry was created: nothing can have been loaded
        assert files_in(sc.root / "archive") == []


# ---------------------------------------------------------------- the scenario


@contextmanager
def phase(sc: Scenario, name: str, after: str | None = None) -> Iterator[None]:
    """One phase of the scenario (the tests run in order on one scenario): the phase before
    it must have completed; its seconds go to the summary."""
    if after is not None:
        assert after in sc.done, f"the {after} phase did not complete"
    started = time.monotonic()
    yield
    sc.seconds[name] = time.monotonic() - started
    sc.done.add(name)


@pytest.fixture(scope="module")
def scenario(
    small_practice, built_small, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    assert built_small.returncode == 0, built_small.log[-4000:]
    started = time.monotonic()
    root = tmp_path_factory.mktemp("sigkill")
    # 1. the previous publication: the session's ingest + dbt build of this practice
    publish_serving(
        built_small.warehouse, serving_file(root), PUBLISHED_SCHEMAS, schema_version=SCHEMA_VERSION
    )
    shutil.copytree(small_practice.landing, root / "landing")
    for folder in RESENT:
        first = sorted((root / "landing" / folder).iterdir())[0]
        shutil.copy(first, first.with_name("resent_" + first.name))
    meta = read_publication(serving_file(root))
    sc = Scenario(
        root=root,
        truth_dir=small_practice.truth,
        landing_files=len(files_in(root / "landing")),
        truth=truth_totals(small_practice.truth),
        tables=sorted(meta["table_rows"]),
    )
    note_publication(sc)
    # the reader, for the whole sequence
    sc.reader_log, sc.stop = root / "reader.jsonl", root / "reader.stop"
    sc.reader = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.serving_reader", str(sc.serving),
         json.dumps(sc.tables), str(sc.stop), str(sc.reader_log)],
        stderr=(root / "reader.err").open("w"),
    )  # fmt: skip
    wait_for(lambda: observations(sc.reader_log), "the reader's first observation", 60)
    sc.seconds["setup"] = time.monotonic() - started
    yield sc
    sc.stop.touch()
    try:
        sc.reader.wait(timeout=30)
    finally:
        if sc.reader.poll() is None:
            sc.reader.kill()
    print_summary(sc)


def print_summary(sc: Scenario) -> None:
    by_mode = Counter(o.get("mode") for o in observations(sc.reader_log))
    print("\nkill points:")
    for k in sc.kills:
        print(f"  {k.step:<8} {k.point:<52} killed after {k.seconds:5.1f} s {k.note}")
    print(f"reader observations: {dict(by_mode)}")
    print("phase seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in sc.seconds.items()))


def test_sigkill_during_ingest_then_rerun_loads_everything_once(scenario: Scenario):
    sc = scenario
    with phase(sc, "ingest"):
        log = sc.root / "ingest.log"
        landing, archive = sc.root / "landing", sc.root / "archive"
        before = next(iter(sc.publications))

        points: list[tuple[str, Callable[[], bool]]] = [
            ("build file created, first batch not committed", sc.build.exists),
            ("first file archived, moves under way", lambda: bool(files_in(archive))),
            ("half the files archived", lambda: len(files_in(archive)) >= sc.landing_files // 2),
        ]
        for point, condition in points:
            proc = launch(["ingest"], sc.root, log)
            seconds = kill_group_when(proc, condition, f"rcm ingest: {point}")
            sc.kills.append(Kill("ingest", point, seconds, f"{len(files_in(archive))} archived"))
            # nothing landed is lost: every file is still waiting, archived or quarantined
            placed = files_in(landing) + files_in(archive)
            placed += [p for p in files_in(sc.root / "quarantine") if ".reason.json" not in p.name]
            assert len(placed) == sc.landing_files, point
            assert_previous_state_intact(sc, before)
            check_reader(sc)

        finish(launch(["ingest"], sc.root, log), "rcm ingest after the kills", log)
        assert files_in(landing) == []
        assert raw_consistent(sc.root)["loaded"] == sc.landing_files - len(RESENT)
        with duckdb.connect(str(sc.build), read_only=True) as con:
            statuses = dict(con.execute("select status, count(*) from raw.file_registry group by 1").fetchall())  # fmt: skip
            assert statuses == {"loaded": sc.landing_files - len(RESENT), "duplicate": len(RESENT)}
            assert con.execute(
                "select count(*) - count(distinct sha256) from raw.file_registry where status = 'loaded'"
            ).fetchall() == [(0,)]
            assert con.execute(
                "select count(*) - count(distinct (file_id, segment_index)) from raw.remit_claims"
            ).fetchall() == [(0,)]
            paid = con.execute("select sum(paid_amount) from raw.remit_claims").fetchall()[0][0]
            registry = con.execute("select file_name, sha256, moved_to, status, duplicate_of from raw.file_registry").fetchall()  # fmt: skip
        for name, sha, moved_to, status, duplicate_of in registry:
            # the registry says where each file went, even for moves a killed run made
            assert moved_to is not None and sha256_of(sc.root / moved_to) == sha, name
            assert (status == "duplicate") == (duplicate_of is not None), name
        assert isinstance(paid, Decimal) and f"{paid:.2f}" == sc.truth["payer_paid"]
        assert_previous_state_intact(sc, before)
        check_reader(sc)


def test_sigkill_during_dbt_build_leaves_serving_alone(scenario: Scenario):
    sc = scenario
    with phase(sc, "dbt", after="ingest"):
        log = sc.root / "build.log"
        before = next(iter(sc.publications))
        points = [
            ("staging: first model started", "START sql view model staging."),
            ("tests: first data test started", "START test "),
            ("marts: fct_claims started", "START sql table model marts.fct_claims "),
        ]
        for point, line in points:
            log.write_text("")
            proc = launch(["build", "-v"], sc.root, log)
            seconds = kill_group_when(proc, log_has(log, line), f"rcm build: {point}")
            assert "Finished running" not in log.read_text(), "killed too late: dbt had finished"
            assert_previous_state_intact(sc, before)
            assert serving_leftovers(sc) == [], "a dbt kill must not touch the serving file"
            # left for the next run as it is (a stale WAL included): the pipeline must cope
            wal = sc.build.with_name(sc.build.name + ".wal")
            sc.kills.append(Kill("build", point, seconds, "stale WAL left" if wal.exists() else ""))
            check_reader(sc)


def test_sigkill_during_publish_then_rerun_publishes_the_ledger(scenario: Scenario):
    sc = scenario
    with phase(sc, "publish", after="dbt"):
        before = next(iter(sc.publications))
        folder = sc.serving.parent

        def tmp_files() -> list[Path]:  # the copy itself, not the lock that claims it
            return [p for p in folder.glob(f"{sc.serving.name}.tmp-*") if p.suffix != ".lock"]

        # the killed builds re-run: dbt completes, publish is killed once its copy has begun
        log = sc.root / "build.log"
        log.write_text("")
        proc = launch(["build", "-v"], sc.root, log)
        point = "rcm build: publish copying into its temporary file"
        sc.kills.append(
            Kill("publish", point, kill_group_when(proc, lambda: bool(tmp_files()), point))
        )
        assert " ERROR=0 " in log.read_text(), "dbt's build (re-run after its kills) did not pass"
        assert_previous_state_intact(sc, before)
        assert tmp_files(), "the killed publisher's temporary file (removed by the next publish)"
        check_reader(sc)

        # the publish step alone, killing itself at named points
        child_log = sc.root / "publish.log"
        for point, publishes in [
            ("in-copy-transaction", False),
            ("before-rename", False),
            ("after-rename", True),
        ]:
            t0 = time.monotonic()
            proc = subprocess.Popen(
                [sys.executable, "-c", PUBLISH_CHILD, str(sc.root), point, SCHEMA_VERSION],
                stdout=child_log.open("a"), stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            proc.wait(timeout=120)
            assert proc.returncode == -signal.SIGKILL, child_log.read_text()[-2000:]
            sc.kills.append(Kill("publish", f"publish step: {point}", time.monotonic() - t0))
            if publishes:
                before = note_publication(sc)["publication_id"]
            assert_previous_state_intact(sc, before)
            check_reader(sc)

        # the re-run completes and cleans up after the dead publishers
        proc = subprocess.Popen(
            [sys.executable, "-c", PUBLISH_CHILD, str(sc.root), "none", SCHEMA_VERSION],
            stdout=child_log.open("a"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        assert proc.wait(timeout=120) == 0, child_log.read_text()[-2000:]
        final = note_publication(sc)
        assert final["publication_id"] != before
        assert leftovers(folder) == []
        assert final["build_path"] == str(sc.build.resolve())
        assert lock_is_free(sc.root)

        # the published warehouse ties to the ledger: every claim to the cent, every KPI
        truth = sc.truth_dir
        with duckdb.connect(str(sc.serving), read_only=True) as con:
            ours = frame(con, "select * from marts.fct_claims")
            ledger = pl.read_parquet(truth / "claims.parquet")
            joined = ledger.join(ours, on="claim_id", how="full", suffix="_w", coalesce=True)
            assert ours.height == ledger.height == joined.height
            assert mismatches(joined, ["claim_id"], CLAIM_COLUMNS) == {}
            kpis = pl.read_parquet(truth / "kpis_monthly.parquet")
            assert kpi_mismatches(con, "practice", "all", kpis) == {}
            for table, key in [("fct_claims", "claim_id"), ("fct_payments", "payment_id")]:
                assert con.execute(
                    f"select count(*) - count(distinct {key}) from marts.{table}"
                ).fetchall() == [(0,)], table

        # give the reader a moment on the final publication, then judge every observation
        wait_for(
            lambda: (
                observations(sc.reader_log)[-1].get("publication_id") == final["publication_id"]
            ),
            "the reader to see the final publication",
            30,
        )
        sc.stop.touch()
        sc.reader.wait(timeout=30)
        assert sc.reader.returncode == 0, (sc.root / "reader.err").read_text()[-2000:]
        by_id = check_reader(sc)
        first = next(iter(sc.publications))
        assert {first, final["publication_id"]} <= set(by_id), "the reader saw old and new"
        assert sum(by_id.values()) >= 50
