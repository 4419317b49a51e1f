"""One ingest run over some landing folders, with the warehouse's single-writer lock.

DuckDB lets one process write a database file; a second writer fails with a lock error.
We take our own advisory lock first (``warehouse/.writer.lock``) so a second run waits its
turn with a clear message instead of failing half-way, whatever started it (the ``rcm``
command, a Dagster sensor run, a schedule).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.lib.ingest.landing import KINDS_BY_FOLDER, LandingFile, scan
from pipelines.lib.ingest.loader import FileOutcome, Loader, connect


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse's writer lock."""


def build_db_path(data_dir: Path) -> Path:
    return data_dir / "warehouse" / "rcm.duckdb"


@contextmanager
def writer_lock(data_dir: Path, wait_seconds: float = 600.0) -> Iterator[None]:
    """Hold the warehouse's writer lock; wait up to ``wait_seconds`` for another writer."""
    path = data_dir / "warehouse" / ".writer.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"another pipeline run is writing {build_db_path(data_dir)}; gave up after {wait_seconds:.0f} s"
                    ) from None
                time.sleep(0.5)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def open_writer(data_dir: Path, wait_seconds: float = 600.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """The build warehouse, read-write, under the writer lock."""
    with writer_lock(data_dir, wait_seconds):
        con = connect(build_db_path(data_dir))
        try:
            yield con
        finally:
            con.close()


@dataclass
class IngestSummary:
    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0
    bytes: int = 0

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    def rows_by_table(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for o in self.outcomes:
            total.update(o.rows)
        return dict(sorted(total.items()))

    def problems(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status != "loaded"]


def run_ingest(
    data_dir: Path,
    folders: tuple[str, ...] | None = None,
    *,
    files: list[str] | None = None,
    workers: int = 2,
    settle_seconds: float = 2.0,
    batch_files: int = 200,
    on_start: Callable[[list[LandingFile]], None] = lambda _: None,
    on_file: Callable[[FileOutcome], None] = lambda _: None,
) -> IngestSummary:
    """Load what waits in the landing folders (all four unless ``folders``; only the named
    ``files``, as ``<folder>/<name>``, when given). Files modified in the last
    ``settle_seconds`` may still be being written and wait for the next run. At most
    ``batch_files`` files share one transaction."""
    started = time.perf_counter()
    folders = folders or tuple(KINDS_BY_FOLDER)
    with open_writer(data_dir) as con:
        waiting = scan(data_dir / "landing", folders, settle_seconds)
        if files is not None:
            wanted = set(files)
            waiting = [f for f in waiting if f.name in wanted]
        on_start(waiting)
        loader = Loader(con, data_dir, batch_files=batch_files)
        outcomes = loader.run(waiting, workers=workers, on_file=on_file)
        con.execute("checkpoint")
    return IngestSummary(outcomes, time.perf_counter() - started, sum(f.size for f in waiting))
