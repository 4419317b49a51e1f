"""Bad files are set aside with a clear reason, nothing of them is loaded, and the run goes
on with the other files. Duplicates are recorded and never double-counted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.ingest.run import run_ingest


@pytest.fixture
def sample(small_practice):
    """Paths of one good 835, one good 837P and one payments CSV from the small practice."""
    remits = sorted((small_practice.landing / "remits").glob("*.835"))
    claims = sorted((small_practice.landing / "claims").glob("*.837"))
    pays = sorted((small_practice.landing / "payments").glob("*.csv"))
    return {
        "remit": max(remits, key=lambda p: p.stat().st_size),
        "claim": claims[5],
        "payments": pays[0],
    }


def land(data_dir: Path, folder: str, name: str, content: bytes) -> Path:
    target = data_dir / "landing" / folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return target


def registry(data_dir: Path) -> list[dict]:
    con = duckdb.connect(str(data_dir / "warehouse" / "rcm.duckdb"), read_only=True)
    try:
        cur = con.execute("select * from raw.file_registry order by file_id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def count(data_dir: Path, table: str) -> int:
    con = duckdb.connect(str(data_dir / "warehouse" / "rcm.duckdb"), read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema='raw' and table_name=?",
            [table],
        ).fetchall()[0][0]
        return con.execute(f"select count(*) from raw.{table}").fetchall()[0][0] if exists else 0
    finally:
        con.close()


def _mutate_amount(text: str, tag: str, element: int, new: str) -> str:
    segs = text.split("~")
    for i, s in enumerate(segs):
        parts = s.strip().split("*")
        if parts[0] == tag:
            parts[element] = new
            segs[i] = s[: len(s) - len(s.lstrip())] + "*".join(parts)
            break
    return "~".join(segs)


def _se_count_wrong(text: str) -> str:
    segs = text.split("~")
    for i, s in enumerate(segs):
        if s.strip().startswith("SE*"):
            parts = s.strip().split("*")
            parts[1] = str(int(parts[1]) + 1)
            segs[i] = s[: len(s) - len(s.lstrip())] + "*".join(parts)
    return "~".join(segs)


# case -> (how to break a good 835, a word the rule must name)
BAD_835 = {
    "empty file": (lambda t: "", "empty"),
    "binary garbage": (lambda t: "\x00\x01\x02\xff garbage \x10" * 40, "ISA"),
    "truncated file": (lambda t: t[: len(t) // 2], "syntax"),
    "wrong SE count": (_se_count_wrong, "SE01"),
    "mismatched control numbers": (lambda t: t.replace("IEA*1*", "IEA*1*9", 1), "IEA02"),
    "non-numeric amount": (lambda t: _mutate_amount(t, "CLP", 4, "12X.00"), "amount"),
    "bad date": (lambda t: _mutate_amount(t, "DTM", 2, "20241341"), "date"),
    "unbalanced line": (lambda t: _mutate_amount(t, "SVC", 3, "1.01"), "service line balancing"),
    "unbalanced claim": (lambda t: _mutate_amount(t, "CLP", 3, "99999.99"), "claim balancing"),
    "unbalanced BPR": (lambda t: _mutate_amount(t, "BPR", 2, "1.23"), "transaction balancing"),
    "unknown transaction type": (
        lambda t: t.replace("ST*835*", "ST*999*").replace("*HP*", "*XX*", 1),
        "transaction set",
    ),
}


@pytest.mark.parametrize("case", list(BAD_835))
def test_bad_835_is_quarantined_with_reason(tmp_path, sample, case):
    good = sample["remit"].read_text()
    breaker, rule_word = BAD_835[case]
    land(tmp_path, "remits", "bad.835", breaker(good).encode("latin-1", "replace"))
    land(
        tmp_path, "payments", sample["payments"].name, sample["payments"].read_bytes()
    )  # the run goes on
    summary = run_ingest(tmp_path, settle_seconds=0.0, workers=1)
    by_name = {o.name: o for o in summary.outcomes}
    bad = by_name["remits/bad.835"]
    assert bad.status == "rejected", (case, bad)
    assert "remits/bad.835" in bad.reason
    assert by_name[f"payments/{sample['payments'].name}"].status == "loaded"
    # nothing of it is loaded
    assert count(tmp_path, "remit_claims") == 0 and count(tmp_path, "remit_payments") == 0
    # quarantined with a sidecar that says why
    moved = tmp_path / "quarantine" / "remits" / "bad.835"
    sidecar = json.loads((tmp_path / "quarantine" / "remits" / "bad.835.reason.json").read_text())
    assert moved.exists() and sidecar["reason"] and sidecar["file"] == "remits/bad.835"
    assert rule_word in sidecar["rule"], (case, sidecar["rule"])
    row = next(r for r in registry(tmp_path) if r["file_name"] == "remits/bad.835")
    assert (
        row["status"] == "rejected"
        and row["reason"]
        and row["moved_to"] == "quarantine/remits/bad.835"
    )


@pytest.mark.parametrize(
    ("case", "content", "expect"),
    [
        (
            "missing column",
            "payment_id,patient_id,payment_date,posted_date,amount,method,channel,reference\n",
            "missing column(s) encounter_id",
        ),
        (
            "bad date",
            "payment_id,patient_id,encounter_id,payment_date,posted_date,amount,method,channel,reference\nPP1,M1,E1,2024-02-30,2024-03-01,10.00,card,statement,\n",
            "payment_date",
        ),
    ],
)
def test_bad_csv_is_quarantined_with_line_and_column(tmp_path, case, content, expect):
    land(tmp_path, "payments", "patient_payments_2024-01.csv", content.encode())
    summary = run_ingest(tmp_path, settle_seconds=0.0, workers=1)
    (outcome,) = summary.outcomes
    assert outcome.status == "rejected" and expect in outcome.reason, outcome.reason
    sidecar = json.loads(
        (
            tmp_path / "quarantine" / "payments" / "patient_payments_2024-01.csv.reason.json"
        ).read_text()
    )
    assert sidecar["line"] in (1, 2)
    assert count(tmp_path, "patient_payments") == 0


def test_unknown_file_in_a_landing_folder_is_rejected(tmp_path):
    land(tmp_path, "scheduling", "notes.txt", b"hello")
    (outcome,) = run_ingest(tmp_path, settle_seconds=0.0).outcomes
    assert (
        outcome.status == "rejected" and "not a file the scheduling folder takes" in outcome.reason
    )


def test_same_content_twice_loads_once(tmp_path, sample):
    content = sample["claim"].read_bytes()
    land(tmp_path, "claims", "a.837", content)
    land(tmp_path, "claims", "b.837", content)
    summary = run_ingest(tmp_path, settle_seconds=0.0)
    assert sorted(o.status for o in summary.outcomes) == ["duplicate", "loaded"]
    # both in one run: the copy names the file it repeats (dbt's staging test requires it)
    first, second = registry(tmp_path)
    assert (first["file_name"], first["status"]) == ("claims/a.837", "loaded")
    assert (second["status"], second["duplicate_of"]) == ("duplicate", first["file_id"])
    rows_once = count(tmp_path, "claims")
    # dropping it again later loads nothing new either
    land(tmp_path, "claims", "c.837", content)
    (again,) = run_ingest(tmp_path, settle_seconds=0.0).outcomes
    assert again.status == "duplicate" and "same content" in again.reason
    assert count(tmp_path, "claims") == rows_once
    assert (tmp_path / "quarantine" / "claims" / "c.837.reason.json").exists()


def test_copies_of_a_rejected_file_in_one_run_are_each_rejected(tmp_path):
    """Not duplicates of a file that was never loaded (a duplicate names what it repeats)."""
    land(tmp_path, "claims", "a.837", b"ISA*not an interchange~")
    land(tmp_path, "claims", "b.837", b"ISA*not an interchange~")
    summary = run_ingest(tmp_path, settle_seconds=0.0)
    assert [(o.name, o.status) for o in summary.outcomes] == [
        ("claims/a.837", "rejected"),
        ("claims/b.837", "rejected"),
    ]


def test_duplicate_remittance_trace_is_not_counted_twice(tmp_path, sample):
    text = sample["remit"].read_text()
    land(tmp_path, "remits", "first.835", text.encode())
    # Same TRN02/TRN03 but a different file (another interchange control number)
    other = text.replace("ISA*00*", "ISA*00*", 1)
    isa_ctrl = other.split("~")[0].split("*")[13]
    other = other.replace(isa_ctrl, str(int(isa_ctrl) + 7).zfill(9))
    land(tmp_path, "remits", "again.835", other.encode())
    summary = run_ingest(tmp_path, settle_seconds=0.0)
    statuses = {o.name: o.status for o in summary.outcomes}
    assert statuses == {"remits/first.835": "loaded", "remits/again.835": "duplicate"}
    assert "already loaded" in next(o for o in summary.outcomes if o.status == "duplicate").reason
    assert count(tmp_path, "remit_payments") == 1


def test_rerun_over_archive_loads_nothing_new(ingested_small, tmp_path):
    """Dropping every file again: all duplicates, row counts unchanged."""
    data = tmp_path / "data"
    shutil.copytree(ingested_small.data_dir / "warehouse", data / "warehouse")
    before = {
        t: count(data, t) for t in ("claims", "remit_claims", "patient_payments", "appointments")
    }
    for p in (ingested_small.data_dir / "archive").rglob("*"):
        if p.is_file():
            land(data, p.parent.name, p.name, p.read_bytes())
    summary = run_ingest(data, settle_seconds=0.0)
    assert summary.outcomes and all(o.status == "duplicate" for o in summary.outcomes)
    assert {t: count(data, t) for t in before} == before
