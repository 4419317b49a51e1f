"""Publish the serving file: a copy of the reader-facing schemas of the build warehouse.

DuckDB lets one process write a file or many processes read it, never both
(ARCHITECTURE.md, "Warehouse files and concurrency"). Readers (dashboards, reports) must
neither block the pipeline nor see a half-built warehouse, so they never open the build
file ``rcm.duckdb``; they open ``serving.duckdb`` read-only. This module writes that file:

1. a new file ``serving.duckdb.tmp-<pid>-<random>`` beside the serving file, claimed by an
   exclusive lock on ``<that name>.lock`` for as long as it is being written;
2. the build file ATTACHed ``READ_ONLY`` to it, and every *table* of the given schemas
   copied with ``CREATE TABLE ... AS SELECT *`` (column types kept: DECIMAL stays
   DECIMAL), plus ``meta.publication``, all in one transaction;
3. ``CHECKPOINT``, close, fsync, then ``os.replace`` over the serving path.

The rename is atomic: a reader that already has the old file open keeps reading the old
inode, a reader that opens after it sees the whole new file. Any error deletes the
temporary file and leaves the old serving file as it was. A publisher killed outright
leaves its temporary file behind; the next publish removes it once its lock is free (the
kernel releases the lock when the process dies, however it dies, and unlike a process id
a released lock cannot be mistaken for a live publisher).

Pure: no Dagster import, so the Dagster asset and tests call it alike.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

import duckdb

from pipelines.lib import warehouse_files

SERVING_FORMAT = "1"
"""Version of the serving file's own layout (the ``meta`` schema). Readers can refuse a
format they do not know; bump it when ``meta.publication`` changes shape."""

_BUILD_ALIAS = "build"
_TMP_PATTERN = re.compile(r"\.tmp-(\d+)-[0-9a-f]+$")


class PublishError(RuntimeError):
    """The serving file could not be published; the previous one, if any, is untouched.

    The message names the build file and, where it applies, the schema or table."""


@dataclass(frozen=True)
class PublishedTable:
    """One table copied into the serving file: ``schema.name`` with its row count."""

    schema: str
    name: str
    rows: int

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class PublishResult:
    """What one publication wrote: the serving path, the tables copied (``meta`` not
    included) with their rows, the file's size in bytes and the wall time in seconds."""

    path: Path
    tables: list[PublishedTable] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0
    published_at: datetime | None = None
    schema_fingerprint: str = ""

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def rows_by_table(self) -> dict[str, int]:
        return {t.qualified: t.rows for t in self.tables}


def serving_file(root: Path) -> Path:
    """The published warehouse inside a data folder (ARCHITECTURE.md:
    warehouse/serving.duckdb)."""
    return root / "warehouse" / "serving.duckdb"


def publish_serving(
    build_db: Path,
    serving_db: Path,
    schemas: Sequence[str] = ("marts", "terminology"),
    *,
    schema_version: str = "",
) -> PublishResult:
    """Copy every table of ``schemas`` from ``build_db`` into a new file and atomically
    rename it to ``serving_db``.

    Views are not copied: the serving file holds materialised tables only, so it does not
    depend on the build file or on schemas it does not carry. A schema that has no table,
    or whose tables are all empty, is refused (``PublishError``): publishing it would
    replace a good serving file with an empty warehouse. ``schema_version`` is recorded in
    ``meta.publication`` as the caller's name for the model version (e.g. the dbt
    project's); a fingerprint of the columns and types is recorded beside it.

    The build file must not be written while this runs (the Dagster asset shares the
    build writers' pool); opening it read-only fails with a ``PublishError`` if a writer
    holds it."""
    started = time.perf_counter()
    build_db, serving_db = Path(build_db), Path(serving_db)
    schemas = list(dict.fromkeys(schemas))
    if not schemas:
        raise PublishError("no schemas to publish")
    if "meta" in schemas:
        raise PublishError("schema 'meta' is the serving file's own (meta.publication)")
    if not build_db.is_file():
        raise PublishError(f"no build warehouse at {build_db}: run `rcm ingest` and `rcm build`")
    serving_db.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_tmp_files(serving_db)
    tmp = serving_db.with_name(f"{serving_db.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    with _claimed(tmp):
        try:
            tables, fingerprint, published_at = _write_serving_file(
                tmp, build_db, schemas, schema_version
            )
            _fsync(tmp)
            stale_wal = _wal(serving_db)  # belongs to the file being replaced, not to ours
            if stale_wal.exists():
                stale_wal.unlink()
            os.replace(tmp, serving_db)
            _fsync(serving_db.parent)  # make the rename itself durable
        except BaseException:
            for leftover in (tmp, _wal(tmp)):
                leftover.unlink(missing_ok=True)
            raise
    return PublishResult(
        path=serving_db,
        tables=tables,
        bytes=serving_db.stat().st_size,
        seconds=time.perf_counter() - started,
        published_at=published_at,
        schema_fingerprint=fingerprint,
    )


def _write_serving_file(
    tmp: Path, build_db: Path, schemas: list[str], schema_version: str
) -> tuple[list[PublishedTable], str, datetime]:
    """Write the whole serving file at ``tmp`` and close it (checkpointed, no WAL). Both
    files are encrypted when RCM_ENCRYPTION_KEY is set (warehouse_files)."""
    try:
        con = warehouse_files.connect(tmp, alias="serving")
    except warehouse_files.WarehouseFileError as error:
        raise PublishError(str(error)) from None
    try:
        try:
            warehouse_files.attach(con, build_db, _BUILD_ALIAS, read_only=True)
        except warehouse_files.WarehouseFileError as error:
            raise PublishError(str(error)) from None
        except duckdb.Error as error:
            raise PublishError(
                f"cannot open the build warehouse {build_db} read-only: {error}. Is an ingest "
                "or a dbt build writing it? Publish runs after the build, in the writers' pool."
            ) from error
        found = _tables_of(con, schemas)
        for schema in schemas:
            if not found.get(schema):
                raise PublishError(
                    f"schema {schema!r} of {build_db} has no tables: refusing to publish a "
                    "serving file without it (has `rcm build` built it?)"
                )
        columns = _columns_of(con, schemas)
        fingerprint = sha256("\n".join("|".join(c) for c in sorted(columns)).encode()).hexdigest()[
            :16
        ]

        con.execute("begin")
        tables: list[PublishedTable] = []
        for schema in schemas:
            con.execute(f"create schema {_ident(schema)}")
            for name in found[schema]:
                target = f"{_ident(schema)}.{_ident(name)}"
                try:
                    con.execute(f"create table {target} as select * from {_BUILD_ALIAS}.{target}")
                    (rows,) = con.execute(f"select count(*) from {target}").fetchall()[0]
                except duckdb.Error as error:
                    raise PublishError(
                        f"copying table {schema}.{name} from {build_db} failed: {error}"
                    ) from error
                tables.append(PublishedTable(schema, name, int(rows)))
            if not any(t.rows for t in tables if t.schema == schema):
                raise PublishError(
                    f"every table of schema {schema!r} in {build_db} is empty "
                    f"({', '.join(found[schema])}): refusing to publish an empty warehouse"
                )
        published_at = datetime.now(UTC).replace(tzinfo=None)
        _write_meta(con, build_db, tables, schema_version, fingerprint, published_at)
        con.execute("commit")
        con.execute("detach " + _BUILD_ALIAS)
        con.execute("checkpoint")
    finally:
        con.close()
    if _wal(tmp).exists():
        raise PublishError(f"{tmp} still has a write-ahead log after CHECKPOINT and close")
    return tables, fingerprint, published_at


def _tables_of(con: duckdb.DuckDBPyConnection, schemas: list[str]) -> dict[str, list[str]]:
    """Base tables (not views) of each schema in the attached build file, by name."""
    rows = con.execute(
        """select schema_name, table_name from duckdb_tables()
           where database_name = ? and schema_name in (select unnest(?::varchar[]))
           order by schema_name, table_name""",
        [_BUILD_ALIAS, schemas],
    ).fetchall()
    found: dict[str, list[str]] = {}
    for schema, name in rows:
        found.setdefault(schema, []).append(name)
    return found


def _columns_of(con: duckdb.DuckDBPyConnection, schemas: list[str]) -> list[tuple[str, ...]]:
    """(schema, table, column, type) of every column of those tables: the layout readers
    depend on, fingerprinted in ``meta.publication``."""
    return con.execute(
        """select c.schema_name, c.table_name, c.column_name, c.data_type
           from duckdb_columns() c
           join duckdb_tables() t using (database_name, schema_name, table_name)
           where c.database_name = ? and c.schema_name in (select unnest(?::varchar[]))""",
        [_BUILD_ALIAS, schemas],
    ).fetchall()


def _write_meta(
    con: duckdb.DuckDBPyConnection,
    build_db: Path,
    tables: list[PublishedTable],
    schema_version: str,
    fingerprint: str,
    published_at: datetime,
) -> None:
    """``meta.publication``: one row saying when, from which build file (path, size and
    modification time: a hash of a multi-GB build file would cost more than the copy) and
    what (tables with rows), so a reader can show the data's age and notice a new file."""
    stat = build_db.stat()
    con.execute("create schema meta")
    con.execute(
        """create table meta.publication (
               publication_id varchar not null,
               published_at timestamp not null,      -- UTC
               build_path varchar not null,
               build_bytes bigint not null,
               build_modified_at timestamp not null, -- UTC
               serving_format varchar not null,
               schema_version varchar not null,
               schema_fingerprint varchar not null,
               table_rows struct(schema_name varchar, table_name varchar, row_count bigint)[]
                   not null
           )"""
    )
    con.execute(
        "insert into meta.publication values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            secrets.token_hex(8),
            published_at,
            str(build_db.resolve()),
            stat.st_size,
            datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None),
            SERVING_FORMAT,
            schema_version,
            fingerprint,
            [{"schema_name": t.schema, "table_name": t.name, "row_count": t.rows} for t in tables],
        ],
    )


@contextmanager
def _claimed(tmp: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<tmp>.lock`` while ``tmp`` is written (taken before
    ``tmp`` exists, dropped after it is renamed or removed)."""
    lock = _lock_of(tmp)
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)


def _remove_abandoned_tmp_files(serving_db: Path) -> None:
    """Delete temporary files left by a publisher that died (killed mid-copy), with their
    WAL and lock file: those whose lock is free. Each can be as large as the serving file.
    A temporary file without a lock file (written before locks were used) is abandoned
    when its process id no longer runs."""
    for path in serving_db.parent.glob(f"{serving_db.name}.tmp-*"):
        match = _TMP_PATTERN.search(path.name)
        if match and not _lock_of(path).exists() and not _pid_alive(int(match.group(1))):
            for leftover in (path, _wal(path)):
                leftover.unlink(missing_ok=True)
    for lock in serving_db.parent.glob(f"{serving_db.name}.tmp-*.lock"):
        _remove_if_abandoned(lock)


def _remove_if_abandoned(lock: Path) -> None:
    """Remove a temporary file, its WAL and ``lock`` unless a publisher holds ``lock``."""
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # being written
    else:
        tmp = lock.with_name(lock.name.removesuffix(".lock"))
        for leftover in (tmp, _wal(tmp), lock):
            leftover.unlink(missing_ok=True)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _lock_of(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
