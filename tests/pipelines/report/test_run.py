"""The owner report end to end on the small practice's published warehouse: the PDF's text,
read back with pdftotext, shows the KPI mart's numbers for the month as the dashboards
format them; every page renders to PNG; no patient or claim identifier is printed; a
month without data gives a one-page report that says so."""

import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dashboards.theme import count, format_value, money, percent
from pipelines.lib import audit
from pipelines.lib.publish import serving_file
from pipelines.lib.report.gather import HEADLINE
from pipelines.lib.report.run import (
    ReportError,
    ReportFile,
    latest_complete_month,
    report_path,
    write_reports,
)

MONTH = date(2024, 3, 1)  # the small practice's last complete month (Jan–Mar 2024, as of 1 Apr)


def pdf_text(path: Path, layout: bool = True) -> str:
    """The PDF's text as poppler's pdftotext reads it, non-breaking spaces as spaces."""
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout
    return out.replace("\u00a0", " ")


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@dataclass
class Written:
    root: Path
    files: list[ReportFile]

    @property
    def practice(self) -> ReportFile:
        return next(f for f in self.files if f.location_id is None)

    @property
    def location(self) -> ReportFile:
        return next(f for f in self.files if f.location_id is not None)


@pytest.fixture(scope="module")
def written(published_small, chart_browser) -> Written:
    files = write_reports(published_small, MONTH, locations="all")
    return Written(published_small, files)


@pytest.fixture(scope="module")
def serving(published_small):
    con = duckdb.connect(str(serving_file(published_small)), read_only=True)
    yield con
    con.close()


def kpi_row(con, segment_type: str, segment_id: str, month: date) -> dict[str, object]:
    cursor = con.execute(
        "select * from marts.fct_kpis_monthly "
        "where segment_type = ? and segment_id = ? and month_start = ?",
        [segment_type, segment_id, month],
    )
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    assert len(rows) == 1
    return dict(zip(names, rows[0], strict=True))


def units(con) -> dict[str, tuple[str, str]]:
    rows = con.execute(
        "select kpi, label, unit from terminology.terminology__kpi_targets"
    ).fetchall()
    return {kpi: (label, unit) for kpi, label, unit in rows}


def test_the_default_month_is_the_last_complete_one(published_small):
    assert latest_complete_month(published_small) == MONTH


def test_files_are_named_for_month_and_location(written):
    assert [f.path.name for f in written.files] == [
        "owner-report-2024-03.pdf",
        "owner-report-2024-03-L01.pdf",
    ]
    assert all(f.path.parent == written.root / "reports" for f in written.files)
    assert report_path(written.root, "flash", MONTH, "L 1/x", date(2024, 3, 25)).name == (
        "owner-flash-2024-03-25-L-1-x.pdf"
    )
    # and each is in the audit log
    logged = [e for e in audit.entries(written.root) if e["event"] == "report_written"]
    assert [(e["path"], e["month"], e["actor"]) for e in logged[-2:]] == [
        ("owner-report-2024-03.pdf", "2024-03", "system"),
        ("owner-report-2024-03-L01.pdf", "2024-03", "system"),
    ]


@pytest.mark.parametrize("scope", ["practice", "location"])
def test_headline_kpis_read_back_equal_the_kpi_mart(written, serving, scope):
    """Each headline KPI's row shows the month's and the previous month's mart values, as
    the Overview cards format them, with the change between them."""
    report = getattr(written, scope)
    segment = ("practice", "all") if scope == "practice" else ("location", report.location_id)
    now = kpi_row(serving, *segment, MONTH)
    before = kpi_row(serving, *segment, date(2024, 2, 1))
    text = pdf_text(report.path)
    labels = units(serving)
    for kpi in HEADLINE:
        label, unit = labels[kpi]
        value, previous = format_value(now[kpi], unit), format_value(before[kpi], unit)
        change = float(now[kpi]) - float(before[kpi])
        change_text = f"{change * 100:+.1f} pts" if unit == "rate" else f"{change:+.1f} days"
        row = re.escape(value) + r"\s+" + re.escape(previous) + r"\s+" + re.escape(change_text)
        assert re.search(row, text), f"{kpi}: no row '{value}  {previous}  {change_text}'"
        assert label in text


def test_money_reads_back_to_the_cent_rounded_as_on_screen(written, serving):
    now = kpi_row(serving, "practice", "all", MONTH)
    text = flat(pdf_text(written.practice.path))
    for column in ("charges", "payer_payments", "patient_payments", "ar_balance", "ar_over_90"):
        assert isinstance(now[column], Decimal)
        assert money(now[column]) in text, column
    collected = now["payer_payments"] + now["patient_payments"]
    assert f"collected {money(collected)}" in text


def test_denials_and_avoidable_share_read_back_from_fct_denials(written, serving):
    rows = serving.execute(
        """select root_cause_label, count(*), sum(amount_at_stake)
           from marts.fct_denials where denial_month = ? group by 1 order by 3 desc, 1""",
        [MONTH],
    ).fetchall()
    total, at_stake, avoidable = serving.execute(
        """select count(*), sum(amount_at_stake), sum(amount_at_stake) filter (where is_avoidable)
           from marts.fct_denials where denial_month = ?""",
        [MONTH],
    ).fetchall()[0]
    text = pdf_text(written.practice.path)
    label, n, amount = rows[0]
    assert re.search(rf"{re.escape(label)}\s+\w.*\s{n}\s+{re.escape(money(amount))}", text)
    assert re.search(rf"All denials\s+{count(total)}\s+{re.escape(money(at_stake))}", text)
    share = percent(avoidable / at_stake)
    assert f"{money(avoidable)} of {money(at_stake)} at stake ({share})" in flat(text)


def test_payer_scorecard_reads_back_from_the_payer_segment(written, serving):
    rows = serving.execute(
        """select p.payer_name, k.payer_payments, k.days_to_payment_avg, k.initial_denial_rate
           from marts.fct_kpis_monthly as k join marts.dim_payer as p on p.payer_id = k.segment_id
           where k.segment_type = 'payer' and k.month_start = ?""",
        [MONTH],
    ).fetchall()
    text = pdf_text(written.practice.path)
    for name, paid, to_payment, denial_rate in rows:
        row = rf"{re.escape(name)}\s+{re.escape(money(paid))}\s+\S+\s+{re.escape(format_value(to_payment, 'days'))}\s+{re.escape(percent(denial_rate))}"
        assert re.search(row, text), name


def test_commentary_is_printed_and_quotes_the_mart(written, serving):
    text = flat(pdf_text(written.practice.path))
    sentences = written.practice.commentary
    assert 4 <= len(sentences) <= 12
    for sentence in sentences:
        assert flat(sentence.text) in text
    ar = kpi_row(serving, "practice", "all", MONTH)
    assert any(
        s.rule == "ar_over_90" and percent(ar["ar_over_90_pct"]) in s.text for s in sentences
    )


def test_every_page_renders_to_png(written, tmp_path):
    for f in written.files:
        assert 2 <= f.pages <= 4, f"{f.path.name}: {f.pages} pages"
        prefix = tmp_path / f.path.stem
        done = subprocess.run(
            ["pdftoppm", "-r", "60", "-png", str(f.path), str(prefix)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0 and not done.stderr.strip(), done.stderr
        pages = sorted(tmp_path.glob(f"{f.path.stem}-*.png"))
        assert len(pages) == f.pages
        assert all(p.stat().st_size > 10_000 for p in pages)  # drawn, not blank


def test_no_patient_or_claim_identifier_is_printed(written, serving, small_practice):
    patient_ids = [
        r[0] for r in serving.execute("select patient_id from marts.dim_patient").fetchall()
    ]
    claim_ids = [r[0] for r in serving.execute("select claim_id from marts.fct_claims").fetchall()]
    assert len(patient_ids) > 100 and len(claim_ids) > 100
    patients = small_practice.practice.population.patients
    providers = set(small_practice.practice.population.providers["last_name"].to_list())
    names = [
        f"{first} {last}"
        for first, last in zip(patients["first_name"], patients["last_name"], strict=True)
        if last not in providers
    ] + [
        f"{last}, {first}"
        for first, last in zip(patients["first_name"], patients["last_name"], strict=True)
        if last not in providers
    ]
    for f in written.files:
        text = pdf_text(f.path, layout=False)
        words = set(re.findall(r"[A-Za-z0-9-]+", text))
        assert not words & set(patient_ids), f.path.name
        assert not words & set(claim_ids), f.path.name
        assert not [n for n in names if n in text], f.path.name


def test_a_location_report_shows_the_location(written, serving):
    (name,) = serving.execute(
        "select location_name from marts.dim_location where location_id = ?",
        [written.location.location_id],
    ).fetchall()[0]
    text = flat(pdf_text(written.location.path))
    assert f"Location: {name}" in text
    assert "Whole practice: KPIs are published per payer" in text


def test_a_month_without_data_says_so(published_small):
    (f,) = write_reports(published_small, date(2030, 1, 1))
    assert not f.has_data and f.pages == 1
    text = flat(pdf_text(f.path))
    assert "No data for January 2030" in text
    assert "it holds Jan 2024 – Apr 2024" in text


def test_a_flash_report_covers_the_week_and_the_month_to_date(published_small, chart_browser):
    (f,) = write_reports(published_small, date(2024, 3, 18), kind="flash")
    assert f.path.name == "owner-flash-2024-03-18.pdf"
    assert f.has_data and 1 <= f.pages <= 3
    text = flat(pdf_text(f.path))
    assert "Weekly flash report · Week of 18 – 24 Mar 2024" in text
    assert f.commentary[0].rule == "week"


def test_unknown_location_and_missing_warehouse_are_errors(published_small, tmp_path):
    with pytest.raises(ReportError, match="unknown location NOPE: the warehouse has L01"):
        write_reports(published_small, MONTH, locations=["NOPE"])
    with pytest.raises(ReportError, match="rcm demo"):
        write_reports(tmp_path, MONTH)


def test_rcm_report_prints_the_path(published_small, chart_browser, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from pipelines.cli import main

    root = tmp_path / "data"
    shutil.copytree(published_small / "warehouse", root / "warehouse")
    monkeypatch.setenv("RCM_DATA_DIR", str(root))
    monkeypatch.delenv("RCM_REPORT_LOCATIONS", raising=False)
    result = CliRunner().invoke(main, ["report"])
    assert result.exit_code == 0, result.output
    path = root / "reports" / "owner-report-2024-03.pdf"
    assert result.output.strip().splitlines()[-1] == str(path)
    assert path.is_file()
    result = CliRunner().invoke(main, ["report", "--month", "2024-13"])
    assert result.exit_code == 2 and "expected YYYY-MM" in result.output
