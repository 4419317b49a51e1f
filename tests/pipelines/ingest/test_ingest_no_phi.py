"""A file set aside never has its PHI quoted: the reason (as logged and returned), the
registry row and the quarantine sidecar say where and which rule, but no value that names
a patient. Each case breaks a file right at, or with, a patient's name."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.ingest.run import run_ingest

FIRST, LAST = "Zebulon", "Quaxley"
MEMBER = "XJK987654321"


def _named_835(text: str) -> str:
    """The first NM1*QC renamed to the canary with a member id we know."""
    return re.sub(
        r"NM1\*QC\*1\*[^*~]*\*[^*~]*\*[^~]*",
        f"NM1*QC*1*{LAST}*{FIRST}****MI*{MEMBER}",
        text,
        count=1,
    )


def _named_837(text: str) -> str:
    return re.sub(
        r"NM1\*IL\*1\*[^*~]*\*[^*~]*\*[^~]*",
        f"NM1*IL*1*{LAST}*{FIRST}****MI*{MEMBER}",
        text,
        count=1,
    )


def _element_after(text: str, tag: str, element: int, value: str) -> str:
    """Element ``element`` of the first ``tag`` segment after the canary set to ``value``."""
    start = text.index(f"*{LAST}*")
    head, tail = text[:start], text[start:]
    segs = tail.split("~")
    for i, seg in enumerate(segs):
        parts = seg.strip().split("*")
        if parts[0] == tag:
            parts[element] = value
            segs[i] = seg[: len(seg) - len(seg.lstrip())] + "*".join(parts)
            break
    return head + "~".join(segs)


# case -> (landing folder, file name, how to break the named file)
X12_CASES: dict[str, tuple[str, str, Callable[[str], str]]] = {
    "terminator inside the name": (
        "remits", "bad.835", lambda t: _named_835(t).replace(f"*{LAST}*", f"*{LAST}~{FIRST}*", 1),
    ),
    "truncated after the name": (
        "remits", "bad.835", lambda t: _named_835(t)[: _named_835(t).index(MEMBER) + len(MEMBER)],
    ),
    "name in an amount": (
        "remits", "bad.835", lambda t: _element_after(_named_835(t), "SVC", 2, LAST),
    ),
    "name in a date": (
        "remits", "bad.835", lambda t: _element_after(_named_835(t), "DTM", 2, FIRST + LAST),
    ),
    "not X12, starts with the name": (
        "remits", "bad.835", lambda t: f"{LAST} {FIRST} {MEMBER}\n" + t,
    ),
    "837 name in the birth date": (
        "claims", "bad.837", lambda t: _element_after(_named_837(t), "DMG", 2, LAST),
    ),
    "837 unbalanced claim of the named patient": (
        "claims", "bad.837", lambda t: _element_after(_named_837(t), "CLM", 2, "1.00"),
    ),
}  # fmt: skip


def _assert_no_phi(data_dir: Path, outcome_reason: str) -> None:
    said = [outcome_reason]
    said += [p.read_text() for p in (data_dir / "quarantine").rglob("*.reason.json")]
    con = duckdb.connect(str(data_dir / "warehouse" / "rcm.duckdb"), read_only=True)
    try:
        said += [str(r) for r in con.execute("select * from raw.file_registry").fetchall()]
    finally:
        con.close()
    for text in said:
        for secret in (FIRST, LAST, MEMBER, MEMBER[3:]):
            assert secret.lower() not in text.lower(), text


@pytest.mark.parametrize("case", list(X12_CASES))
def test_x12_rejection_never_quotes_a_name(tmp_path, small_practice, case):
    folder, name, breaker = X12_CASES[case]
    source = sorted((small_practice.landing / folder).glob(f"*.{name.split('.')[1]}"))
    good = next(
        p.read_text()
        for p in source
        if ("NM1*QC*1*" if folder == "remits" else "DMG*") in p.read_text()
    )
    bad = breaker(good)
    assert LAST in bad  # the file does carry the name
    target = tmp_path / "landing" / folder / name
    target.parent.mkdir(parents=True)
    target.write_text(bad, encoding="latin-1")
    (outcome,) = run_ingest(tmp_path, settle_seconds=0.0, workers=1).outcomes
    assert outcome.status == "rejected", (case, outcome)
    assert re.search(r"segment \d+|not an X12 file|file ends", outcome.reason), outcome.reason
    _assert_no_phi(tmp_path, outcome.reason)


def _patients_csv(small_practice) -> tuple[str, str]:
    text = sorted((small_practice.landing / "scheduling").glob("patients_*.csv"))[0].read_text()
    header, first, *rest = text.splitlines(keepends=True)
    cells = first.split(",")
    cells[1], cells[2] = LAST, FIRST
    return header, ",".join(cells) + "".join(rest[:3])


CSV_CASES: dict[str, Callable[[str, str], str]] = {
    "no header: the first row is a patient": lambda header, rows: rows,
    "name in the birth date": lambda header, rows: header + re.sub(f"(,{FIRST},)[^,]*", rf"\g<1>{LAST}", rows, count=1),
    "comma inside the name shifts the row": lambda header, rows: header + rows.replace(f",{FIRST},", f",{FIRST},{LAST} Jr,", 1),
    "unclosed quote before the name": lambda header, rows: header + rows.replace(f",{LAST},", f',"{LAST},', 1),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_csv_rejection_never_quotes_a_name(tmp_path, small_practice, case):
    header, rows = _patients_csv(small_practice)
    bad = CSV_CASES[case](header, rows)
    assert LAST in bad
    target = tmp_path / "landing" / "scheduling" / "patients_2024-01.csv"
    target.parent.mkdir(parents=True)
    target.write_text(bad)
    (outcome,) = run_ingest(tmp_path, settle_seconds=0.0, workers=1).outcomes
    assert outcome.status == "rejected", (case, outcome)
    assert "line " in outcome.reason, outcome.reason
    _assert_no_phi(tmp_path, outcome.reason)


def test_sidecar_keeps_the_shape_of_the_segment(tmp_path, small_practice):
    """What a person needs without the values: the segment's id and element shapes."""
    _, _, breaker = X12_CASES["name in an amount"]
    good = next(
        p.read_text()
        for p in sorted((small_practice.landing / "remits").glob("*.835"))
        if "NM1*QC*1*" in p.read_text()
    )
    target = tmp_path / "landing" / "remits" / "bad.835"
    target.parent.mkdir(parents=True)
    target.write_text(breaker(good))
    run_ingest(tmp_path, settle_seconds=0.0, workers=1)
    sidecar = json.loads((tmp_path / "quarantine" / "remits" / "bad.835.reason.json").read_text())
    assert sidecar["segment_text"].startswith("SVC*AA:99999")
    assert "*AAAAAAA*" in sidecar["segment_text"]  # the name's shape, where an amount belongs
    assert "SVC02" in sidecar["reason"] and "(shaped 'AAAAAAA')" in sidecar["reason"]


def test_a_parser_defect_sets_the_file_aside_without_quoting_it(
    tmp_path, small_practice, monkeypatch
):
    """An exception the parser did not mean to raise (a defect of ours, not an InputError)
    sets that one file aside, the run goes on, and its message (here quoting the name) is
    nowhere: the reason gives the exception's type and place."""
    from pipelines.lib.ingest import loader

    remits = sorted((small_practice.landing / "remits").glob("*.835"))[:2]
    landing = tmp_path / "landing" / "remits"
    landing.mkdir(parents=True)
    (landing / "bad.835").write_bytes(remits[0].read_bytes())
    (landing / "good.835").write_bytes(remits[1].read_bytes())
    real_read_835 = loader.read_835

    def defective_group_parser(*args, **kwargs):
        raise KeyError(f"{LAST} {FIRST}")

    def defective_read_835(path, name):
        if name.endswith("bad.835"):
            raise ValueError(f"cannot use {LAST}, {FIRST} ({MEMBER})")
        return real_read_835(path, name)

    monkeypatch.setattr(loader, "parse_many", defective_group_parser)
    monkeypatch.setattr(loader, "read_835", defective_read_835)
    outcomes = {o.name: o for o in run_ingest(tmp_path, settle_seconds=0.0, workers=1).outcomes}
    assert outcomes["remits/good.835"].status == "loaded"
    bad = outcomes["remits/bad.835"]
    assert bad.status == "rejected"
    assert "parser failed unexpectedly (ValueError at test_ingest_no_phi.py:" in bad.reason
    assert "(rule: parser defect)" in bad.reason
    assert (tmp_path / "quarantine" / "remits" / "bad.835").read_bytes() == remits[0].read_bytes()
    _assert_no_phi(tmp_path, bad.reason)
