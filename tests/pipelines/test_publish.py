"""publish_serving: the serving file is a faithful, checkpointed copy of the reader-facing
schemas, swapped in atomically; a failure leaves the previous serving file as it was; and a
reader in another process neither blocks a publish nor ever sees a half-built warehouse.

Build files here are tiny and made by hand, so the tests run in seconds."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import pipelines.lib.publish as publish
from pipelines.lib.publish import PublishError, publish_serving
from tests.crash_checks import leftovers, observations, wait_for


def make_build(path: Path, version: int = 1, *, marts: bool = True, empty: bool = False) -> None:
    """A build file in the shape dbt leaves it: marts and terminology tables, a staging
    view and table that must not be published, a marts view that must not either.

    Every row of every table carries ``version``, and version ``v`` has ``100 * v`` claims,
    so a reader can tell whether what it sees comes from one publication."""
    n = 0 if empty else 100 * version
    with duckdb.connect(str(path)) as con:
        for schema in ("marts", "terminology", "staging"):
            con.execute(f"create schema if not exists {schema}")
        for table in ("marts.fct_claims", "marts.dim_payer", "terminology.terminology__carc"):
            con.execute(f"drop table if exists {table}")
        con.execute("drop view if exists marts.v_claims_by_payer")
        con.execute("create or replace view staging.stg_claims as select 1 as claim_id")
        con.execute("create or replace table staging.stg_payers as select 1 as payer_id")
        con.execute(
            """create table terminology.terminology__carc (
                   version integer, carc_code varchar, description varchar)"""
        )
        con.execute(
            "insert into terminology.terminology__carc values (?, '045', 'contractual'), "
            "(?, '1', 'deductible')",
            [version, version],
        )
        if not marts:
            return
        con.execute(
            """create table marts.fct_claims (
                   version integer, claim_id bigint, payer_id varchar, charges decimal(18,2),
                   service_date date, submitted_at timestamp, modifiers varchar[],
                   remit struct(trn02 varchar, paid decimal(18,2)))"""
        )
        con.execute(
            """insert into marts.fct_claims
               select ?, i, lpad((i % 7)::varchar, 5, '0'), (i * 1.25)::decimal(18,2),
                      date '2025-01-01' + (i % 300)::integer,
                      timestamp '2025-01-01 08:00:00' + to_minutes(i),
                      ['25', '59'], {'trn02': 'T' || i, 'paid': (i * 1.00)::decimal(18,2)}
               from range(?) t(i)""",
            [version, n],
        )
        con.execute(
            """create table marts.dim_payer as
               select ? as version, lpad(i::varchar, 5, '0') as payer_id, 'Payer ' || i as name
               from range(?) t(i)""",
            [version, 0 if empty else 7],
        )
        con.execute(
            """create view marts.v_claims_by_payer as
               select payer_id, count(*) as claims from marts.fct_claims group by payer_id"""
        )


def tables_in(path: Path) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            """select table_schema || '.' || table_name, table_type
               from information_schema.tables order by 1"""
        ).fetchall()
    return dict(rows)


def publication(path: Path) -> dict:
    with duckdb.connect(str(path), read_only=True) as con:
        cur = con.execute("select * from meta.publication")
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    assert len(rows) == 1
    return dict(zip(names, rows[0], strict=True))


@pytest.fixture
def build(tmp_path: Path) -> Path:
    path = tmp_path / "rcm.duckdb"
    make_build(path)
    return path


def test_copies_the_tables_of_the_schemas_with_their_types_and_values(build, tmp_path):
    serving = tmp_path / "serving.duckdb"
    result = publish_serving(build, serving)

    assert result.path == serving and serving.is_file()
    assert tables_in(serving) == {
        "marts.dim_payer": "BASE TABLE",
        "marts.fct_claims": "BASE TABLE",
        "meta.publication": "BASE TABLE",
        "terminology.terminology__carc": "BASE TABLE",
    }, "tables only: no views, nothing from staging"
    assert result.rows_by_table() == {
        "marts.dim_payer": 7,
        "marts.fct_claims": 100,
        "terminology.terminology__carc": 2,
    }
    assert result.bytes == serving.stat().st_size and result.seconds > 0
    with duckdb.connect(str(build), read_only=True) as con:
        build_types = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_claims' order by ordinal_position"
        ).fetchall()
    with duckdb.connect(str(serving), read_only=True) as con:
        types = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_claims' order by ordinal_position"
        ).fetchall()
        first = con.execute(
            "select payer_id, charges, service_date, modifiers, remit "
            "from marts.fct_claims where claim_id = 3"
        ).fetchall()
        con.execute("attach ? as build (read_only)", [str(build)])
        differences = con.execute(
            """select count(*) from (
                   (select * from marts.fct_claims except all select * from build.marts.fct_claims)
                   union all
                   (select * from build.marts.fct_claims except all select * from marts.fct_claims))"""
        ).fetchall()
    assert types == build_types
    assert dict(types)["charges"] == "DECIMAL(18,2)"
    assert first == [
        (
            "00003",
            Decimal("3.75"),
            date(2025, 1, 4),
            ["25", "59"],
            {"trn02": "T3", "paid": Decimal("3.00")},
        )
    ]
    assert differences == [(0,)]
    assert leftovers(tmp_path) == []


def test_meta_publication_says_when_from_what_and_how_many_rows(build, tmp_path):
    before = datetime.now(UTC).replace(tzinfo=None)
    result = publish_serving(build, tmp_path / "serving.duckdb", schema_version="rcm 0.1.0")
    meta = publication(result.path)

    assert before <= meta["published_at"] <= datetime.now(UTC).replace(tzinfo=None)
    assert meta["published_at"] == result.published_at
    assert meta["build_path"] == str(build.resolve())
    assert meta["build_bytes"] == build.stat().st_size
    mtime = datetime.fromtimestamp(build.stat().st_mtime, UTC).replace(tzinfo=None)
    assert abs(meta["build_modified_at"] - mtime) < timedelta(seconds=1)
    assert meta["serving_format"] == publish.SERVING_FORMAT
    assert meta["schema_version"] == "rcm 0.1.0"
    assert meta["schema_fingerprint"] == result.schema_fingerprint != ""
    assert {
        f"{t['schema_name']}.{t['table_name']}": t["row_count"] for t in meta["table_rows"]
    } == result.rows_by_table()
    assert len(meta["publication_id"]) == 16


def test_schema_fingerprint_changes_with_the_columns_only(tmp_path):
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    make_build(a, version=1)
    make_build(b, version=2)  # other rows, same columns
    fa = publish_serving(a, tmp_path / "sa.duckdb").schema_fingerprint
    assert publish_serving(b, tmp_path / "sb.duckdb").schema_fingerprint == fa
    with duckdb.connect(str(b)) as con:
        con.execute("alter table marts.dim_payer add column payer_class varchar")
    assert publish_serving(b, tmp_path / "sb.duckdb").schema_fingerprint != fa


def test_publishing_again_replaces_the_file(build, tmp_path):
    serving = tmp_path / "serving.duckdb"
    first = publication(publish_serving(build, serving).path)
    make_build(build, version=3)
    second = publication(publish_serving(build, serving).path)
    assert second["publication_id"] != first["publication_id"]
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select count(*), min(version) from marts.fct_claims").fetchall() == [
            (300, 3)
        ]
    assert leftovers(tmp_path) == []


def test_refuses_a_build_without_marts(tmp_path):
    build = tmp_path / "rcm.duckdb"
    make_build(build, marts=False)
    with pytest.raises(PublishError, match=r"schema 'marts' .* has no tables"):
        publish_serving(build, tmp_path / "serving.duckdb")
    assert not (tmp_path / "serving.duckdb").exists()
    assert leftovers(tmp_path) == []


def test_refuses_marts_whose_tables_are_all_empty(tmp_path):
    build = tmp_path / "rcm.duckdb"
    make_build(build, empty=True)
    with pytest.raises(PublishError, match=r"every table of schema 'marts' .* is empty"):
        publish_serving(build, tmp_path / "serving.duckdb")
    assert not (tmp_path / "serving.duckdb").exists()
    assert leftovers(tmp_path) == []


def test_refuses_a_missing_build_file_and_the_meta_schema(build, tmp_path):
    with pytest.raises(PublishError, match="no build warehouse at"):
        publish_serving(tmp_path / "nothing.duckdb", tmp_path / "serving.duckdb")
    with pytest.raises(PublishError, match="'meta' is the serving file's own"):
        publish_serving(build, tmp_path / "serving.duckdb", ("marts", "meta"))
    assert not (tmp_path / "serving.duckdb").exists()


def test_a_failed_publish_keeps_the_old_serving_file_and_removes_its_temporary_file(
    build, tmp_path
):
    serving = tmp_path / "serving.duckdb"
    good = publication(publish_serving(build, serving).path)
    good_bytes = serving.read_bytes()

    # Version 2 with an empty terminology: refused after the marts were already copied
    # into the temporary file.
    make_build(build, version=2)
    with duckdb.connect(str(build)) as con:
        con.execute("delete from terminology.terminology__carc")
    with pytest.raises(PublishError, match="terminology"):
        publish_serving(build, serving)
    assert serving.read_bytes() == good_bytes
    assert publication(serving)["publication_id"] == good["publication_id"]
    assert leftovers(tmp_path) == []


def test_a_table_that_cannot_be_copied_is_named_and_nothing_is_published(
    build, tmp_path, monkeypatch
):
    """A table listed but gone when copied (as if a writer dropped it meanwhile): DuckDB's
    own error, wrapped with the table's name; the old serving file stays."""
    serving = tmp_path / "serving.duckdb"
    publish_serving(build, serving)
    good_bytes = serving.read_bytes()
    listed = publish._tables_of

    def with_a_vanished_table(con, schemas):
        found = listed(con, schemas)
        found["marts"].append("fct_vanished")
        return found

    monkeypatch.setattr(publish, "_tables_of", with_a_vanished_table)
    with pytest.raises(PublishError, match=r"copying table marts\.fct_vanished from .*rcm\.duckdb"):
        publish_serving(build, serving)
    assert serving.read_bytes() == good_bytes
    assert leftovers(tmp_path) == []


def test_a_build_file_held_by_a_writer_is_a_clear_error_not_a_wait(build, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITER, str(build)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        started = time.perf_counter()
        with pytest.raises(PublishError, match=r"cannot open the build warehouse .* read-only"):
            publish_serving(build, tmp_path / "serving.duckdb")
        assert time.perf_counter() - started < 5
    finally:
        holder.kill()
        holder.wait()
    assert not (tmp_path / "serving.duckdb").exists()
    assert leftovers(tmp_path) == []


HOLD_WRITER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(60)
"""


def test_temporary_files_of_dead_publishers_are_removed(build, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(dead.stdout)
    abandoned = tmp_path / f"serving.duckdb.tmp-{dead_pid}-0badc0de"
    abandoned_wal = tmp_path / f"serving.duckdb.tmp-{dead_pid}-0badc0de.wal"
    in_progress = tmp_path / f"serving.duckdb.tmp-{1}-00c0ffee"  # pid 1 is alive
    for path in (abandoned, abandoned_wal, in_progress):
        path.write_bytes(b"partial")
    publish_serving(build, tmp_path / "serving.duckdb")
    assert not abandoned.exists() and not abandoned_wal.exists()
    assert in_progress.exists()


def test_a_temporary_file_is_abandoned_when_its_lock_is_free_whatever_its_process_id(
    build, tmp_path
):
    """A process id can be reused; a lock the kernel released cannot be held again by
    accident. pid 1 is alive here, so only the lock tells the two files apart."""
    abandoned = tmp_path / "serving.duckdb.tmp-1-0badc0de"
    being_written = tmp_path / "serving.duckdb.tmp-1-00c0ffee"
    orphan_lock = tmp_path / "serving.duckdb.tmp-1-0000beef.lock"  # killed before its file
    for path in (abandoned, abandoned.with_name(abandoned.name + ".wal"), being_written):
        path.write_bytes(b"partial")
    for lock in (abandoned.with_name(abandoned.name + ".lock"), orphan_lock):
        lock.touch()
    held = being_written.with_name(being_written.name + ".lock")
    fd = os.open(held, os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a publisher at work (another open file: excludes)
        publish_serving(build, tmp_path / "serving.duckdb")
    finally:
        os.close(fd)
    left = sorted(p.name for p in tmp_path.glob("serving.duckdb.tmp-*"))
    assert left == [being_written.name, held.name]


# ---------------------------------------------------------------- readers and the build

READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import duckdb

    mode, serving, stop, out = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    QUERY = '''
        select (select schema_version from meta.publication),
               (select list(row_count order by table_name) from
                    (select unnest(table_rows, recursive := true) from meta.publication)),
               count(*), min(version), max(version), sum(claim_id), sum(charges)::varchar,
               (select count(*) from marts.dim_payer),
               (select min(version) || '-' || max(version) from marts.dim_payer),
               (select min(version) || '-' || max(version) from terminology.terminology__carc)
        from marts.fct_claims'''

    def observe(con):
        row = con.execute(QUERY).fetchall()[0]
        return {"meta": row[0], "meta_rows": row[1], "claims": row[2], "min": row[3],
                "max": row[4], "sum_id": row[5], "sum_charges": row[6], "payers": row[7],
                "payer_versions": row[8], "carc_versions": row[9]}

    held = duckdb.connect(serving, read_only=True) if mode == "hold" else None
    with open(out, "w") as log:
        while not stop.exists():
            try:
                if held is not None:
                    seen = observe(held)
                else:
                    # A new connection per observation: what a dashboard does on a change.
                    with duckdb.connect(serving, read_only=True) as con:
                        seen = observe(con)
            except Exception as error:
                seen = {"error": f"{type(error).__name__}: {error}"}
            log.write(json.dumps(seen) + "\\n")
            log.flush()
            time.sleep(0.002)
    """
)


def expected_observation(version: int) -> dict:
    n = 100 * version
    v = str(version)
    return {
        "meta": v,
        "meta_rows": [7, n, 2],  # dim_payer, fct_claims, terminology__carc
        "claims": n,
        "min": version,
        "max": version,
        "sum_id": n * (n - 1) // 2,
        "sum_charges": f"{Decimal('1.25') * (n * (n - 1) // 2):.2f}",
        "payers": 7,
        "payer_versions": f"{v}-{v}",
        "carc_versions": f"{v}-{v}",
    }


def test_readers_never_block_a_build_and_never_see_a_half_built_warehouse(tmp_path):
    """Two reader processes on serving.duckdb: one opens a new read-only connection for
    every observation, one holds a single connection open throughout. Meanwhile the build
    file is rewritten and published again for versions 2..6. Every publish and every build
    write succeeds at once; every observation is one whole version; the polling reader
    sees each version in turn; the holding reader keeps the file it opened."""
    build, serving, stop = tmp_path / "rcm.duckdb", tmp_path / "serving.duckdb", tmp_path / "stop"
    script = tmp_path / "reader.py"
    script.write_text(READER)
    make_build(build, version=1)
    publish_serving(build, serving, schema_version="1")
    logs = {mode: tmp_path / f"{mode}.jsonl" for mode in ("poll", "hold")}
    readers = {
        mode: subprocess.Popen(
            [sys.executable, str(script), mode, str(serving), str(stop), str(log)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode, log in logs.items()
    }
    versions = range(2, 7)
    durations: list[float] = []
    try:
        wait_for(lambda: all(observations(log) for log in logs.values()), "readers to start")
        for version in versions:
            started = time.perf_counter()
            make_build(build, version=version)  # the build writes its own file meanwhile
            publish_serving(build, serving, schema_version=str(version))
            durations.append(time.perf_counter() - started)
            wait_for(
                lambda v=version: any(o.get("meta") == str(v) for o in observations(logs["poll"])),
                f"the polling reader to see version {version}",
            )
        time.sleep(0.1)  # a few more observations of the last version
    finally:
        stop.touch()
        for proc in readers.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    for mode, proc in readers.items():
        assert proc.returncode == 0, f"{mode} reader: {proc.stderr.read() if proc.stderr else ''}"

    polled, held = observations(logs["poll"]), observations(logs["hold"])
    errors = [o["error"] for o in polled + held if "error" in o]
    assert errors == [], errors[:5]
    for seen in polled:
        assert seen == expected_observation(int(seen["meta"])), seen
    seen_versions = [int(o["meta"]) for o in polled]
    assert seen_versions == sorted(seen_versions), "a reader never goes back to an older file"
    assert set(seen_versions) == {1, *versions}
    assert held and all(o == expected_observation(1) for o in held), "held: the file it opened"
    assert max(durations) < 5, f"a build write + publish took {max(durations):.1f} s"
    assert leftovers(tmp_path) == []
