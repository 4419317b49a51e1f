"""Property: a randomly mutated valid file either loads correctly or is rejected with an
InputError; never an unhandled exception, never a partial load."""

from __future__ import annotations

import shutil

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.lib.errors import InputError
from pipelines.lib.ingest.landing import scan
from pipelines.lib.ingest.loader import Loader, connect
from pipelines.lib.x12.claim_837p import parse_837p_bytes
from pipelines.lib.x12.remit_835 import parse_835_bytes

SEPARATORS = b"*~:^\n"


@st.composite
def mutations(draw, size: int):
    """A short list of byte edits: replace, delete, insert, or duplicate a span."""
    edits = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["replace", "delete", "insert", "duplicate"]))
        pos = draw(st.integers(0, size - 1))
        length = draw(st.integers(1, 40))
        byte = draw(
            st.sampled_from(
                [*list(SEPARATORS), ord("0"), ord("9"), ord("A"), ord("-"), ord("."), 255]
            )
        )
        edits.append((kind, pos, length, byte))
    return edits


def apply(data: bytes, edits) -> bytes:
    buf = bytearray(data)
    for kind, pos, length, byte in edits:
        pos = min(pos, max(len(buf) - 1, 0))
        if kind == "replace":
            buf[pos : pos + 1] = bytes([byte])
        elif kind == "delete":
            del buf[pos : pos + length]
        elif kind == "insert":
            buf[pos:pos] = bytes([byte]) * (length % 5 + 1)
        else:
            buf[pos:pos] = buf[pos : pos + length]
    return bytes(buf)


def _check_parse(parse, data: bytes) -> None:
    try:
        tables = parse(data, "mutant").tables()
    except InputError:
        return
    assert all(frame.height >= 0 for frame in tables.values())


def test_mutated_835s_parse_or_reject(small_practice):
    original = max(
        (small_practice.landing / "remits").glob("*.835"), key=lambda p: p.stat().st_size
    ).read_bytes()

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(mutations(len(original)))
    def run(edits):
        _check_parse(parse_835_bytes, apply(original, edits))

    run()


def test_mutated_837s_parse_or_reject(small_practice):
    original = sorted((small_practice.landing / "claims").glob("*.837"))[4].read_bytes()

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(mutations(len(original)))
    def run(edits):
        _check_parse(parse_837p_bytes, apply(original, edits))

    run()


def test_mutants_through_the_loader_never_half_load(small_practice, tmp_path_factory):
    """Through the real loader and DuckDB: each mutant is loaded whole or set aside whole."""
    original = max(
        (small_practice.landing / "remits").glob("*.835"), key=lambda p: p.stat().st_size
    ).read_bytes()
    data_dir = tmp_path_factory.mktemp("mutants")
    con = connect(data_dir / "warehouse" / "rcm.duckdb")
    counter = iter(range(10**6))

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(mutations(len(original)))
    def run(edits):
        n = next(counter)
        landing = data_dir / "landing" / "remits"
        landing.mkdir(parents=True, exist_ok=True)
        (landing / f"m{n}.835").write_bytes(apply(original, edits))
        (outcome,) = Loader(con, data_dir).run(scan(data_dir / "landing"), workers=1)
        rows = (
            con.execute(
                "select count(*) from raw.remit_claims where file_id = ?", [outcome.file_id]
            ).fetchall()[0][0]
            if _has(con, "remit_claims")
            else 0
        )
        if outcome.status == "loaded":
            claims = parse_835_bytes(
                (data_dir / "archive" / "remits" / f"m{n}.835").read_bytes(), "x"
            ).claims.height
            assert rows == claims
        else:
            assert outcome.status in ("rejected", "duplicate") and outcome.reason
            assert rows == 0

    try:
        run()
    finally:
        con.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema='raw' and table_name=?",
            [table],
        ).fetchall()[0][0]
    )
