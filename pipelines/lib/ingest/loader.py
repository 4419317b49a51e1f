"""Load landing files into the DuckDB raw layer: exactly once, validated, nothing lost.

For each file: hash it; a content already loaded is a duplicate (recorded, quarantined);
parse and validate it (a failure is recorded with its reason and the file quarantined with
a sidecar); an 835 whose trace number (TRN02) was already loaded from the same payer
(TRN03) is a duplicate remittance. A good file's rows and its registry row are written in
one transaction, so a file is wholly loaded or not at all; only then is it moved to
``archive/``. A crash between the commit and the move is finished by the next run.

Raw tables (schema ``raw``), each row with its ``file_id`` and, for X12, the interchange,
group and transaction control numbers and the segment position of the segment that said it:

| table | grain | from |
|---|---|---|
| file_registry | one row per file seen | every landing file |
| remit_payments | one row per 835 transaction (BPR/TRN, payer, payee) | 835 |
| remit_claims | one row per CLP (with MOA/MIA remarks as a list) | 835 |
| remit_claim_adjustments | one row per claim CAS group/reason/amount/quantity | 835 |
| remit_service_lines | one row per SVC (code and modifiers split, REF*6R, AMT*B6) | 835 |
| remit_line_adjustments | one row per line CAS triplet | 835 |
| remit_remarks | one row per remark code (LQ, MOA, MIA) | 835 |
| remit_provider_adjustments | one row per PLB reason/amount pair | 835 |
| claims | one row per CLM with providers, payer, subscriber, patient | 837P |
| claim_diagnoses | one row per HI code, in order | 837P |
| claim_service_lines | one row per LX/SV1 (DTP*472, REF*6R, pointers) | 837P |
| appointments, patients | one row per CSV line | scheduling extracts |
| patient_payments | one row per CSV line | payment extracts |

Money is DECIMAL(18,2), dates DATE, codes VARCHAR.
"""

from __future__ import annotations

import json
import secrets
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from multiprocessing import get_context
from pathlib import Path

import duckdb
import polars as pl

from pipelines.lib.csv_extracts import read_extract
from pipelines.lib.errors import InputError, ParserDefect
from pipelines.lib.ingest.landing import LandingFile, archive, placed_as, quarantine, sha256_of
from pipelines.lib.warehouse_files import connect as connect_warehouse_file
from pipelines.lib.x12.claim_837p import parse_837p, read_837p
from pipelines.lib.x12.many import parse_many
from pipelines.lib.x12.remit_835 import parse_835, read_835

# kind -> {raw table: parser table}
RAW_TABLES: dict[str, dict[str, str]] = {
    "remit_835": {
        "remit_payments": "payments",
        "remit_claims": "claims",
        "remit_claim_adjustments": "claim_adjustments",
        "remit_service_lines": "service_lines",
        "remit_line_adjustments": "line_adjustments",
        "remit_remarks": "remarks",
        "remit_provider_adjustments": "provider_adjustments",
    },
    "claim_837p": {
        "claims": "claims",
        "claim_diagnoses": "diagnoses",
        "claim_service_lines": "service_lines",
    },
    "appointments": {"appointments": "rows"},
    "patients": {"patients": "rows"},
    "patient_payments": {"patient_payments": "rows"},
}

REGISTRY_DDL = """
create schema if not exists raw;
create table if not exists raw.file_registry (
    file_id bigint primary key,
    file_name varchar not null,      -- <landing folder>/<file name>
    kind varchar,                    -- remit_835, claim_837p, appointments, patients, patient_payments
    sha256 varchar not null,
    size_bytes bigint not null,
    status varchar not null,         -- loaded, duplicate, rejected
    reason varchar,
    rule varchar,
    segment_index bigint,
    segment_text varchar,
    line bigint,
    "column" bigint,
    duplicate_of bigint,             -- file_id of the loaded file this one repeats
    rows_by_table json,
    row_count bigint not null,
    landed_at timestamp,             -- the file's modification time
    started_at timestamp not null,
    finished_at timestamp not null,
    moved_to varchar                 -- archive/... or quarantine/... once moved
);
-- The secret that keys this warehouse's member-id pseudonyms (dbt's pseudonymise macro):
-- one random value made at the first ingest, never published, so a member key cannot be
-- recomputed from a guessed member id without the build file, which holds the ids anyway.
-- Its own schema: raw holds what the files said.
create schema if not exists secrets;
create table if not exists secrets.pseudonym_key (key varchar not null);
"""


@dataclass
class FileOutcome:
    file_id: int
    name: str
    kind: str | None
    status: str  # loaded, duplicate, rejected
    reason: str | None = None
    rows: dict[str, int] = field(default_factory=dict)


def connect(db_path: Path) -> duckdb.DuckDBPyConnection:
    """Open the build warehouse read-write (encrypted when RCM_ENCRYPTION_KEY is set) and
    make sure the registry exists."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = connect_warehouse_file(db_path)
    con.begin()  # the registry and the secret arrive together, even if we are killed
    con.execute(REGISTRY_DDL)
    con.execute(
        "insert into secrets.pseudonym_key select ? where not exists (select 1 from secrets.pseudonym_key)",
        [secrets.token_hex(32)],
    )
    con.commit()
    return con


def parse(file: LandingFile) -> dict[str, pl.DataFrame]:
    """Parse and validate a landing file into {raw table: frame}. Raises InputError."""
    if file.kind is None:
        raise InputError(
            f"not a file the {file.folder} folder takes (expected {_expected(file.folder)})",
            file=file.name,
            rule="landing file kind",
        )
    if file.size == 0:
        raise InputError("the file is empty", file=file.name, rule="non-empty file")
    if file.kind == "remit_835":
        tables = read_835(file.path, file.name).tables()
    elif file.kind == "claim_837p":
        tables = read_837p(file.path, file.name).tables()
    else:
        tables = {"rows": read_extract(file.path, file.kind, name=file.name)}
    return {raw: tables[part] for raw, part in RAW_TABLES[file.kind].items()}


def _expected(folder: str) -> str:
    return {
        "claims": "X12 837P files",
        "remits": "X12 835 files",
        "scheduling": "appointments_*.csv or patients_*.csv",
        "payments": "patient_payments_*.csv",
    }.get(folder, "a known extract")


def _ensure_table(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Create ``raw.<table>`` from the parser's schema the first time it is needed."""
    con.register("_shape", frame.head(0).to_arrow())
    con.execute(
        f"create table if not exists raw.{table} as select cast(null as bigint) as file_id, * from _shape limit 0"
    )
    con.unregister("_shape")


def raw_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    }


def _register(con: duckdb.DuckDBPyConnection, row: dict[str, object]) -> None:
    cols = ", ".join(f'"{k}"' for k in row)
    marks = ", ".join("?" for _ in row)
    con.execute(f"insert into raw.file_registry ({cols}) values ({marks})", list(row.values()))


@dataclass
class _Parsed:
    file: LandingFile
    tables: dict[str, pl.DataFrame] | None
    error: InputError | None


def _parse_safely(file: LandingFile) -> _Parsed:
    """Parse one file: bad input comes back as a value, never as a crash."""
    try:
        return _Parsed(file, parse(file), None)
    except InputError as err:
        return _Parsed(file, None, err)
    except (MemoryError, OSError):
        raise  # the machine's trouble, not the file's: the run stops and the file waits
    except Exception as err:  # a defect this file revealed: set it aside, quote nothing
        return _Parsed(file, None, ParserDefect.from_exception(err, file.name))


GROUP_BYTES = 8 << 20  # small X12 files of one kind are parsed together up to this size
GROUP_FILES = 400
PARALLEL_BYTES = 64 << 20
_DOC_PARSERS = {"remit_835": parse_835, "claim_837p": parse_837p}


def _parse_group(files: list[LandingFile]) -> list[_Parsed]:
    """Parse a group of files (in a worker process). X12 files of one kind go through
    ``parse_many`` in one pass; anything it will not take is parsed file by file."""
    kind = files[0].kind
    if (
        len(files) > 1
        and kind in _DOC_PARSERS
        and all(f.kind == kind and f.size > 0 for f in files)
    ):
        try:
            grouped = parse_many([f.path.read_bytes() for f in files], _DOC_PARSERS[kind])
        except (MemoryError, OSError):
            raise
        except Exception:  # file by file below, which says which file and why
            grouped = None
        if grouped is not None:
            return [
                _Parsed(f, {raw: t[part] for raw, part in RAW_TABLES[kind].items()}, None)
                for f, t in zip(files, grouped, strict=True)
            ]
    return [_parse_safely(f) for f in files]


def _groups(files: list[LandingFile]) -> Iterator[list[LandingFile]]:
    """Consecutive files of the same kind, up to GROUP_BYTES / GROUP_FILES per group."""
    group: list[LandingFile] = []
    size = 0
    for f in files:
        if group and (
            f.kind != group[0].kind or size + f.size > GROUP_BYTES or len(group) >= GROUP_FILES
        ):
            yield group
            group, size = [], 0
        group.append(f)
        size += f.size
    if group:
        yield group


def _parsed_in_order(files: list[LandingFile], workers: int) -> Iterator[_Parsed]:
    """Parse files in groups on ``workers`` processes, yielding per file in input order,
    with a few groups in flight so memory stays bounded."""
    groups = list(_groups(files))
    # Worker processes pay off only for a lot of data (start-up and moving frames back)
    if workers <= 1 or len(groups) < 3 or sum(f.size for f in files) < PARALLEL_BYTES:
        for g in groups:
            yield from _parse_group(g)
        return
    ahead = workers * 2
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        pending: deque[Future[list[_Parsed]]] = deque()
        queue = iter(groups)
        for g in islice(queue, ahead):
            pending.append(pool.submit(_parse_group, g))
        while pending:
            done = pending.popleft().result()
            nxt = next(queue, None)
            if nxt is not None:
                pending.append(pool.submit(_parse_group, nxt))
            yield from done


class Loader:
    """Loads landing files into the raw tables of one open warehouse connection.

    Good files are written in batches: each batch is one transaction holding the rows of
    several whole files and their registry rows, so every file is wholly loaded or not at
    all; files move to ``archive/`` only after their batch commits."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        data_dir: Path,
        batch_rows: int = 250_000,
        batch_files: int = 200,
    ) -> None:
        self.con = con
        self.data_dir = data_dir
        self.batch_rows = batch_rows
        self.batch_files = batch_files
        self.tables = raw_tables(con)
        self._last_id = con.execute(
            "select coalesce(max(file_id), 0) from raw.file_registry"
        ).fetchall()[0][0]
        self._batch: list[tuple[LandingFile, int, dict[str, object], dict[str, pl.DataFrame]]] = []
        self._batch_rows = 0
        # What is already loaded, read once: content hashes and 835 trace numbers
        self._loaded: dict[str, tuple[int, str, str | None]] = {
            sha: (fid, name, moved)
            for fid, sha, name, moved in con.execute(
                "select file_id, sha256, file_name, moved_to from raw.file_registry where status = 'loaded' order by file_id desc"
            ).fetchall()
        }
        self._traces: dict[tuple[str, str], int] = {}
        if "remit_payments" in self.tables:
            for trace, origin, fid in con.execute(
                "select trace_number, trace_originator_id, min(file_id) from raw.remit_payments group by all"
            ).fetchall():
                self._traces[(trace or "", origin or "")] = fid
        self._record_unrecorded_moves()
        # Files set aside by a run killed before it moved them: registered, still in landing
        self._unmoved_aside: dict[tuple[str, str, str], int] = {
            (name, sha, status): fid
            for fid, name, sha, status in con.execute(
                "select file_id, file_name, sha256, status from raw.file_registry where status <> 'loaded' and moved_to is null"
            ).fetchall()
        }

    def _record_unrecorded_moves(self) -> None:
        """Record where a killed run moved files it did not get to record: a batch's files
        move to ``archive/`` after its commit and their ``moved_to`` is written after the
        moves, so a crash in between leaves files archived (gone from landing) with no
        ``moved_to``. Nothing else would ever fix those rows: find each file by its name
        and SHA-256 in ``archive/`` (loaded) or ``quarantine/`` (set aside). A file still in
        landing is left for this run, which finishes its move."""
        rows = self.con.execute(
            "select file_id, file_name, sha256, status from raw.file_registry where moved_to is null"
        ).fetchall()
        for file_id, name, sha, status in rows:
            folder, _, file_name = name.partition("/")
            if (self.data_dir / "landing" / folder / file_name).exists():
                continue
            place = self.data_dir / ("archive" if status == "loaded" else "quarantine") / folder
            found = next((p for p in placed_as(place, file_name) if sha256_of(p) == sha), None)
            if found is not None:
                self.con.execute(
                    "update raw.file_registry set moved_to = ? where file_id = ?",
                    [_rel(found, self.data_dir), file_id],
                )
                if status == "loaded" and sha in self._loaded:
                    self._loaded[sha] = (file_id, name, _rel(found, self.data_dir))

    def _next_id(self) -> int:
        # One writer at a time (run.writer_lock), so a counter in memory is safe
        self._last_id += 1
        return self._last_id

    def run(
        self,
        files: Iterable[LandingFile],
        workers: int = 2,
        on_file: Callable[[FileOutcome], None] = lambda _: None,
    ) -> list[FileOutcome]:
        """Load ``files`` in order and return one outcome per file.

        A file with the same content as one earlier in this run waits for that one's
        outcome: a duplicate of it once it is loaded (``duplicate_of`` its file id), else
        loaded or set aside on its own in the next pass."""
        outcomes: list[FileOutcome] = []
        emit = lambda o: (on_file(o), outcomes.append(o))  # noqa: E731
        waiting = [(file, self._base(file)) for file in files]
        while waiting:
            waiting = self._pass(waiting, workers, emit)
            for sha, (prev_id, _name, _moved) in list(self._loaded.items()):
                if prev_id < 0:  # claimed by this run but not loaded: free for the next pass
                    del self._loaded[sha]
        return outcomes

    def _pass(
        self,
        files: list[tuple[LandingFile, dict[str, object]]],
        workers: int,
        emit: Callable[[FileOutcome], object],
    ) -> list[tuple[LandingFile, dict[str, object]]]:
        """Load what can be decided now; return the copies of files of this pass."""
        to_parse: list[tuple[LandingFile, dict[str, object]]] = []
        later: list[tuple[LandingFile, dict[str, object]]] = []
        for file, base in files:
            previous = self._loaded.get(str(base["sha256"]))
            if previous is not None and previous[0] < 0:
                later.append((file, base))
                continue
            known = self._known_content(file, base)
            if known is not None:
                emit(known)
            else:
                to_parse.append((file, base))
        bases = {f.path: b for f, b in to_parse}
        for parsed in _parsed_in_order([f for f, _ in to_parse], workers):
            base = bases[parsed.file.path]
            if parsed.error is not None:
                emit(self._set_aside(parsed.file, base, "rejected", parsed.error))
                continue
            assert parsed.tables is not None
            dup = self._duplicate_remittance(parsed.file, parsed.tables)
            if dup is not None:
                emit(dup)
                continue
            for outcome in self._add(parsed.file, base, parsed.tables):
                emit(outcome)
        for outcome in self.flush():
            emit(outcome)
        return later

    def _base(self, file: LandingFile) -> dict[str, object]:
        return {
            "file_name": file.name,
            "kind": file.kind,
            "sha256": sha256_of(file.path),
            "size_bytes": file.size,
            "landed_at": datetime.fromtimestamp(file.mtime),
            "started_at": datetime.now(),
        }

    def _known_content(self, file: LandingFile, base: dict[str, object]) -> FileOutcome | None:
        """A file whose content is already loaded: a duplicate, or the leftover of a run
        that crashed after its commit and before the move (finish the move)."""
        sha = str(base["sha256"])
        previous = self._loaded.get(sha)
        if previous is None:
            self._loaded[sha] = (-1, file.name, None)  # claimed by this run
            return None
        prev_id, prev_name, prev_moved = previous
        if prev_id >= 0 and prev_name == file.name and prev_moved is None:
            moved = archive(file, self.data_dir)
            self.con.execute(
                "update raw.file_registry set moved_to = ? where file_id = ?",
                [_rel(moved, self.data_dir), prev_id],
            )
            return FileOutcome(
                prev_id, file.name, file.kind, "loaded", "completed an interrupted run"
            )
        err = InputError(
            f"same content (SHA-256) as {prev_name}, already loaded as file {prev_id}",
            file=file.name,
            rule="exactly once: file content",
        )
        return self._set_aside(file, base, "duplicate", err, duplicate_of=prev_id)

    def _duplicate_remittance(
        self, file: LandingFile, tables: dict[str, pl.DataFrame]
    ) -> FileOutcome | None:
        if file.kind != "remit_835":
            return None
        payments = tables["remit_payments"]
        traces = [
            (t or "", o or "")
            for t, o in payments.select("trace_number", "trace_originator_id").iter_rows()
        ]
        hit = next(((t, self._traces[t]) for t in traces if t in self._traces), None)
        if hit is None:
            return None
        (trace, _), prev = hit
        err = InputError(
            f"remittance trace {trace} from this payer was already loaded (file {prev}); not counted twice",
            file=file.name,
            rule="duplicate remittance: same TRN02 and TRN03",
        )
        return self._set_aside(file, self._base(file), "duplicate", err, duplicate_of=prev)

    def _add(
        self, file: LandingFile, base: dict[str, object], tables: dict[str, pl.DataFrame]
    ) -> list[FileOutcome]:
        file_id = self._next_id()
        self._loaded[str(base["sha256"])] = (file_id, file.name, None)
        if file.kind == "remit_835":
            for t, o in (
                tables["remit_payments"].select("trace_number", "trace_originator_id").iter_rows()
            ):
                self._traces[(t or "", o or "")] = file_id
        self._batch.append((file, file_id, base, tables))
        self._batch_rows += sum(f.height for f in tables.values())
        if self._batch_rows >= self.batch_rows or len(self._batch) >= self.batch_files:
            return self.flush()
        return []

    def flush(self) -> list[FileOutcome]:
        """Write the pending files in one transaction, then move them to the archive."""
        if not self._batch:
            return []
        batch, self._batch, self._batch_rows = self._batch, [], 0
        by_table: dict[str, list[pl.DataFrame]] = {}
        registry: list[dict[str, object]] = []
        for _file, file_id, base, tables in batch:
            rows = {t: f.height for t, f in tables.items()}
            for table, frame in tables.items():
                by_table.setdefault(table, []).append(
                    frame.with_columns(file_id=pl.lit(file_id, pl.Int64))
                )
            registry.append({**base, "file_id": file_id, "status": "loaded", "rows_by_table": json.dumps(rows),
                             "row_count": sum(rows.values()), "finished_at": datetime.now()})  # fmt: skip
        con = self.con
        con.begin()
        try:
            for table, frames in by_table.items():
                frame = pl.concat(frames, how="vertical_relaxed")
                if table not in self.tables:
                    _ensure_table(con, table, frame.drop("file_id"))
                con.register("_rows", frame.to_arrow())
                con.execute(f"insert into raw.{table} by name select * from _rows")
                con.unregister("_rows")
            con.register("_registry", pl.DataFrame(registry).to_arrow())
            con.execute("insert into raw.file_registry by name select * from _registry")
            con.unregister("_registry")
            con.commit()
        except BaseException:
            con.rollback()
            raise
        self.tables |= set(by_table)
        outcomes = []
        moves = []
        for file, file_id, _base, tables in batch:
            moves.append((file_id, _rel(archive(file, self.data_dir), self.data_dir)))
            rows = {t: f.height for t, f in tables.items()}
            outcomes.append(FileOutcome(file_id, file.name, file.kind, "loaded", rows=rows))
        con.register(
            "_moves",
            pl.DataFrame(
                moves, schema={"file_id": pl.Int64, "moved_to": pl.Utf8}, orient="row"
            ).to_arrow(),
        )
        con.execute(
            "update raw.file_registry set moved_to = m.moved_to from _moves m where file_registry.file_id = m.file_id"
        )
        con.unregister("_moves")
        return outcomes

    def _set_aside(
        self,
        file: LandingFile,
        base: dict[str, object],
        status: str,
        err: InputError,
        duplicate_of: int | None = None,
    ) -> FileOutcome:
        """Record a rejected or duplicate file, then move it to quarantine with its reason.

        A file a killed run registered but did not move keeps its registry row (a file
        seen once has one row), and is moved now."""
        file_id = self._unmoved_aside.pop((file.name, str(base["sha256"]), status), None)
        if file_id is None:
            file_id = self._next_id()
            _register(self.con, {**base, "file_id": file_id, "status": status, "reason": err.reason, "rule": err.rule,
                                 "segment_index": err.segment_index, "segment_text": err.segment_text,
                                 "line": err.line, "column": err.column, "duplicate_of": duplicate_of,
                                 "row_count": 0, "finished_at": datetime.now()})  # fmt: skip
        why = err.as_dict() | {
            "status": status,
            "file_id": file_id,
            "sha256": base["sha256"],
            "duplicate_of": duplicate_of,
        }
        moved = quarantine(file, self.data_dir, why)
        self.con.execute(
            "update raw.file_registry set moved_to = ? where file_id = ?",
            [_rel(moved, self.data_dir), file_id],
        )
        return FileOutcome(file_id, file.name, file.kind, status, str(err))


def _rel(path: Path, data_dir: Path) -> str:
    try:
        return str(path.relative_to(data_dir))
    except ValueError:
        return str(path)


def ingest_files(
    con: duckdb.DuckDBPyConnection,
    files: Iterable[LandingFile],
    data_dir: Path,
    workers: int = 2,
    on_file: Callable[[FileOutcome], None] = lambda _: None,
) -> list[FileOutcome]:
    """Load files (see Loader)."""
    return Loader(con, data_dir).run(files, workers=workers, on_file=on_file)
