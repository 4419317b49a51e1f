"""Encryption at rest (RCM_ENCRYPTION_KEY): the small practice ingested, built by dbt and
published with a key. The files show no plaintext of values known to be in them (a
plain copy of the same data shows them: the control that lets this test fail); opening
without the key or with another one fails with a message that names the file and
RCM_ENCRYPTION_KEY and holds no key; with the key the serving file ties to the truth
ledger and the dashboards' queries read it.

DuckDB writes encrypted files with OpenSSL from its httpfs extension; where that is not
installed (no extension downloads here) the test lets it write with its built-in crypto
(RCM_ENCRYPTION_INSECURE_CRYPTO=1): the same file format, cipher and code paths.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboards import data
from dashboards.filters import Filters, kpi_segment
from pipelines.lib import warehouse_files
from pipelines.lib.ingest.run import run_ingest
from pipelines.lib.publish import PublishError, publish_serving, serving_file
from pipelines.lib.warehouse_files import KEY_ENV, WarehouseFileError
from tests.conftest import run_dbt

KEY = "9f2c4e7a1b3d5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e"
WRONG_KEY = "0" * 64


@dataclass
class EncryptedPractice:
    data_dir: Path
    build: Path
    serving: Path
    truth: Path
    dbt_output: str
    dbt_target: Path


@pytest.fixture(scope="module")
def encrypted(small_practice, tmp_path_factory) -> EncryptedPractice:
    """Ingest, dbt (seeds and models: the tests of the data run elsewhere) and publish,
    all with the key set."""
    root = tmp_path_factory.mktemp("encrypted")
    shutil.copytree(small_practice.landing, root / "landing")
    build = root / "warehouse" / "rcm.duckdb"
    with pytest.MonkeyPatch.context() as env:
        env.setenv(KEY_ENV, KEY)
        env.setenv(warehouse_files.INSECURE_CRYPTO_ENV, "1")
        summary = run_ingest(root, settle_seconds=0.0)
        assert summary.count("loaded") > 100
        target = root / "target"
        dbt = run_dbt(["build", "--resource-type", "seed", "--resource-type", "model"], build, target)  # fmt: skip
        assert dbt.returncode == 0, dbt.stdout[-4000:]
        publish_serving(build, serving_file(root))
    return EncryptedPractice(
        root, build, serving_file(root), small_practice.truth, dbt.stdout + dbt.stderr, target
    )


@pytest.fixture
def with_key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)


def plain_copy(encrypted_file: Path, out: Path) -> Path:
    """The same database written without encryption (read with the key)."""
    con = duckdb.connect(":memory:")
    con.execute(f"attach '{encrypted_file}' as enc (read_only, encryption_key '{KEY}')")
    con.execute(f"attach '{out}' as plain")
    con.execute("copy from database enc to plain")
    con.close()
    return out


def known_values(practice: EncryptedPractice) -> list[str]:
    """A patient's medical record number, street address and surname, and a claim id:
    values that are in the warehouse, read from it with the key."""
    con = duckdb.connect(":memory:")
    con.execute(f"attach '{practice.build}' as b (read_only, encryption_key '{KEY}')")
    mrn, address, surname = con.execute(
        "select patient_id, address1, last_name from b.raw.patients order by patient_id limit 1"
    ).fetchone()
    (claim_id,) = con.execute("select min(claim_id) from b.marts.fct_claims").fetchone()
    con.close()
    return [mrn, address, surname, claim_id]


def test_files_show_no_plaintext_of_known_values(encrypted, tmp_path):
    values = known_values(encrypted)
    for path, must_show in ((encrypted.build, values), (encrypted.serving, [values[0], values[3]])):
        control = plain_copy(path, tmp_path / f"plain-{path.name}").read_bytes()
        for value in must_show:  # the control: unencrypted, the bytes show them
            assert value.encode() in control, (path.name, value)
        on_disk = path.read_bytes()
        for value in values:
            assert value.encode() not in on_disk, (path.name, value)
        assert b"Medicare" in control and b"Medicare" not in on_disk
        assert not Path(str(path) + ".wal").exists()


def test_opening_without_the_key_fails_clearly(encrypted, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    for path in (encrypted.build, encrypted.serving):
        with pytest.raises(WarehouseFileError) as caught:
            warehouse_files.connect(path, read_only=True)
        message = str(caught.value)
        assert str(path) in message and KEY_ENV in message and "is not set" in message
        with pytest.raises(duckdb.Error, match="without a key"):  # and plain DuckDB too
            duckdb.connect(str(path), read_only=True)
    with pytest.raises(data.WarehouseUnavailable) as caught:
        data.Warehouse(encrypted.serving).rows("select 1")
    assert KEY_ENV in str(caught.value) and str(encrypted.serving) in str(caught.value)
    with pytest.raises(PublishError, match=KEY_ENV):
        publish_serving(encrypted.build, encrypted.data_dir / "elsewhere" / "serving.duckdb")


def test_a_wrong_key_fails_clearly_and_is_not_shown(encrypted, monkeypatch):
    monkeypatch.setenv(KEY_ENV, WRONG_KEY)
    for path in (encrypted.build, encrypted.serving):
        with pytest.raises(WarehouseFileError) as caught:
            warehouse_files.connect(path, read_only=True)
        message = str(caught.value)
        assert str(path) in message and f"{KEY_ENV} is not the key" in message
        assert WRONG_KEY not in message and KEY not in message
    with pytest.raises(data.WarehouseUnavailable) as caught:
        data.Warehouse(encrypted.serving).rows("select 1")
    assert "is not the key" in str(caught.value) and WRONG_KEY not in str(caught.value)


def test_a_key_for_a_plain_file_is_refused_with_advice(ingested_small, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    plain = ingested_small.data_dir / "warehouse" / "rcm.duckdb"
    with pytest.raises(WarehouseFileError, match="is not encrypted") as caught:
        warehouse_files.connect(plain, read_only=True)
    assert str(plain) in str(caught.value) and KEY not in str(caught.value)


def test_writing_needs_a_secure_crypto_module_or_the_explicit_opt_in(
    encrypted, tmp_path, monkeypatch
):
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.delenv(warehouse_files.INSECURE_CRYPTO_ENV, raising=False)
    try:
        duckdb.connect(":memory:").execute("load httpfs")
    except duckdb.Error:
        pass
    else:
        pytest.skip("httpfs is installed: DuckDB writes with OpenSSL")
    with pytest.raises(WarehouseFileError, match="httpfs") as caught:
        warehouse_files.connect(tmp_path / "new.duckdb")
    assert KEY not in str(caught.value)
    assert not (tmp_path / "new.duckdb").exists()
    existing = tmp_path / "existing.duckdb"
    shutil.copy(encrypted.build, existing)
    monkeypatch.setenv(KEY_ENV, WRONG_KEY)  # the wrong key is told before httpfs
    with pytest.raises(WarehouseFileError, match=f"{KEY_ENV} is not the key"):
        warehouse_files.connect(existing)


def test_with_the_key_serving_ties_to_the_truth_ledger(encrypted, with_key):
    con = warehouse_files.connect(encrypted.serving, read_only=True)
    totals = con.execute(
        "select sum(charges), sum(payer_paid), sum(patient_paid), sum(balance), count(*) "
        "from marts.fct_claims"
    ).fetchone()
    spill = con.execute(
        "select current_setting('temp_file_encryption'), current_setting('temp_directory')"
    ).fetchone()
    con.close()
    assert spill == (True, f"{encrypted.serving}.tmp")  # spill files encrypted, beside it
    ledger = pl.read_parquet(encrypted.truth / "claims.parquet")
    expected = ledger.select("charges", "payer_paid", "patient_paid", "balance").sum().row(0)
    assert totals[:4] == expected and all(isinstance(t, Decimal) for t in totals[:4])
    assert totals[4] == ledger.height > 1000


def test_with_the_key_the_dashboards_read_the_serving_file(encrypted, with_key):
    ledger = pl.read_parquet(encrypted.truth / "kpis_monthly.parquet").sort("month")
    with data.reading(encrypted.serving):
        months = data.kpi_months(kpi_segment(Filters()), Filters())
        assert data.publication()["serving_format"] == "1"
    # the ledger's months (the warehouse also has the month in progress)
    months = months.filter(pl.col("month_start").is_in(ledger["month"].implode()))
    assert months["month_start"].to_list() == ledger["month"].to_list()
    assert months["charges"].to_list() == ledger["charges"].to_list()
    assert months["payer_payments"].to_list() == ledger["payer_payments"].to_list()


def test_dbt_output_and_files_hold_no_key(encrypted):
    assert "encrypted" in encrypted.dbt_output  # the target's name
    assert KEY not in encrypted.dbt_output
    files = [p for p in encrypted.dbt_target.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"dbt.log", "manifest.json", "run_results.json"} <= names
    assert [p for p in files if KEY.encode() in p.read_bytes()] == []
