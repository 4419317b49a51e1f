"""The PHI canary: a patient named Zebulon Quaxley goes through the whole pipeline, and the
name turns up nowhere but in the raw data that legitimately holds it.

One small practice is generated with the canary (GeneratorConfig.canary_name), plus two bad
files that carry the name (an 835 whose NM1*QC is broken inside the name, a roster CSV
whose name has a stray comma), so quarantine reasons are written. Then, as a user would:

1. Dagster, in process on a persistent instance (a DAGSTER_HOME in tmp, so the event log
   and the compute logs are written): the ingest assets and their checks, the dbt assets
   (`dbt build`, every test's failing rows stored in dbt_test__audit) and publish;
2. one dbt test made to fail on purpose (the canary's birth date removed in raw), so a
   failure table holds a row of the canary patient; it runs while 3 and 4 do;
3. `rcm report` (the owner PDF), as a subprocess, its output kept;
4. `rcm serve`, as a subprocess, its output kept, and every page's callbacks fetched over
   HTTP (signing in first when the app asks for it).

Searched, case-insensitively, for the first name and the last name:

- every log: dbt's (the Dagster build's dbt.log and the failing test's), everything Dagster
  wrote under its home (event log database, compute logs), the report's and the server's
  stdout/stderr, and all Python logging and output captured during the run;
- every file under the data folder except those that hold the raw extracts on purpose:
  ``landing/``, ``archive/`` and the rejected files in ``quarantine/`` (their ``.reason.json``
  sidecars are searched) and the build warehouse ``warehouse/rcm.duckdb`` as bytes, since
  its ``raw`` schema holds the extracts as loaded;
- of that build warehouse, every table and view outside ``raw`` (staging, intermediate,
  marts, terminology, every dbt test-failure table) and ``raw.file_registry`` (the
  rejection reasons), row by row;
- the text of every PDF report (pdftotext) and its bytes;
- the serving file's bytes;
- every dashboard response.

The search is shown to work: the name is found in the landing files and in ``raw.patients``.
"""

from __future__ import annotations

import http.cookiejar
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.generator.config import preset_config
from pipelines.lib.generator.practice import generate
from tests.dashboards.conftest import free_port

FIRST, LAST = "Zebulon", "Quaxley"
REPO = Path(__file__).resolve().parents[2]
DBT_BUILD_LOG = REPO / "dbt_project" / "target" / "dagster" / "dbt.log"
# Where the raw extracts live on purpose (see the module docstring).
RAW_FOLDERS = ("landing", "archive", "quarantine")
BUILD_FILE = Path("warehouse") / "rcm.duckdb"
FAILING_TEST = "not_null_stg_scheduling__patients_birth_date"
# No stored test failure may have these columns (dbt_project.yml var phi_columns, and
# what never leaves raw).
PHI_COLUMNS = (
    "birth_date", "patient_birth_date", "zip_code", "member_key", "primary_member_key",
    "secondary_member_key", "last_name", "first_name", "dob", "address1", "phone",
)  # fmt: skip
PAGES = ["/", "/denials", "/ar", "/collections", "/visit-mix", "/scheduling"]


def hits(text: str | bytes) -> list[str]:
    """The canary's names found in ``text`` (case-insensitive), with some context."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    found = []
    for word in (FIRST, LAST):
        for match in re.finditer(re.escape(word), text, flags=re.IGNORECASE):
            found.append(text[max(0, match.start() - 60) : match.end() + 60])
    return found


@dataclass
class CanaryRun:
    data: Path
    dagster_home: Path
    logs: Path  # stdout/stderr of the subprocesses, dbt's logs, captured Python logging
    canary_patient: str
    texts: dict[str, str] = field(default_factory=dict)  # what else was said, by source
    failing_rows: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------- the run


def _plant_bad_files(landing: Path) -> None:
    """Two files that carry the canary and must be rejected."""
    remit = next(
        p for p in sorted((landing / "remits").glob("*.835")) if f"*{LAST}*{FIRST}" in p.read_text()
    )
    text = remit.read_text()
    (landing / "remits" / "canary_broken.835").write_text(
        text.replace(f"*{LAST}*{FIRST}", f"*{LAST}~{FIRST}", 1)
    )
    roster = next(
        p
        for p in sorted((landing / "scheduling").glob("patients_*.csv"))
        if f",{LAST},{FIRST}," in p.read_text()
    )
    header, *rows = roster.read_text().splitlines(keepends=True)
    row = next(r for r in rows if f",{LAST},{FIRST}," in r)
    (landing / "scheduling" / "patients_2099-01.csv").write_text(
        header + row.replace(f",{LAST},", f",{LAST} Jr,{LAST},", 1)
    )


def _dagster_run(data: Path, home: Path) -> None:
    """Ingest, checks, dbt build and publish in one in-process run on a persistent instance."""
    from dagster import DagsterInstance, materialize

    from pipelines.defs.checks import INGEST_CHECKS
    from pipelines.defs.dbt import DBT_ASSETS, DBT_RESOURCES
    from pipelines.defs.ingest import ASSET_NAMES, INGEST_ASSETS
    from pipelines.defs.publish import PUBLISH_ASSETS
    from pipelines.defs.resources import Progress, WarehouseResource

    instance = DagsterInstance.local_temp(tempdir=str(home))
    try:
        result = materialize(
            [*INGEST_ASSETS, *INGEST_CHECKS, *DBT_ASSETS, *PUBLISH_ASSETS],
            resources={
                "warehouse": WarehouseResource(data_dir=str(data)),
                "progress": Progress(),
                **DBT_RESOURCES,
            },
            run_config={
                "ops": {name: {"config": {"settle_seconds": 0.0}} for name in ASSET_NAMES.values()},
                "loggers": {"console": {"config": {"log_level": "DEBUG"}}},
            },
            instance=instance,
            raise_on_error=False,
        )
        assert result.success, [e.message for e in result.get_step_failure_events()]
    finally:
        instance.dispose()


def _start_failing_test(data: Path, logs: Path, canary_patient: str) -> subprocess.Popen:
    """Remove the canary's birth date in raw and start the not_null test on it (stored
    failures). It runs while the report and the dashboards (which read only the serving
    file) do; :func:`_failing_rows` waits for it. The build's warehouse path and
    partial-parse state are given to dbt, so it need not parse again when no other build
    has written that state since."""
    build = data / BUILD_FILE
    con = duckdb.connect(str(build))
    try:
        con.execute("update raw.patients set dob = null where patient_id = ?", [canary_patient])
    finally:
        con.close()
    target = logs / "dbt_failing_test"
    target.mkdir()
    state = DBT_BUILD_LOG.parent / "partial_parse.msgpack"
    if state.exists():
        shutil.copy2(state, target / "partial_parse.msgpack")
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("dbt")), "test", "--select", FAILING_TEST,
         "--project-dir", str(REPO / "dbt_project"), "--profiles-dir", str(REPO / "dbt_project"),
         "--target-path", str(target)],
        env={**os.environ, "RCM_WAREHOUSE": str(build.resolve()), "DBT_LOG_PATH": str(target),
             "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        stdout=(logs / "dbt_failing_test.out").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def _failing_rows(process: subprocess.Popen, data: Path, logs: Path) -> int:
    """Wait for the failing test; the rows of its failure table."""
    process.wait(timeout=300)
    output = (logs / "dbt_failing_test.out").read_text()
    assert process.returncode == 1 and "FAIL 1" in output, output[-3000:]
    con = duckdb.connect(str(data / BUILD_FILE), read_only=True)
    try:
        return con.execute(f"select count(*) from dbt_test__audit.{FAILING_TEST}").fetchone()[0]
    finally:
        con.close()


def _report(data: Path, logs: Path) -> None:
    with (logs / "report.out").open("w") as out:
        process = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "report"],
            cwd=REPO, env={**os.environ, "RCM_DATA_DIR": str(data)},
            stdout=out, stderr=subprocess.STDOUT, timeout=300,
        )  # fmt: skip
    assert process.returncode == 0, (logs / "report.out").read_text()[-3000:]


@dataclass
class Client:
    """An HTTP client with cookies (a signed-in session, once signed in)."""

    url: str
    opener: urllib.request.OpenerDirector = field(
        default_factory=lambda: urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
    )
    said: list[str] = field(default_factory=list)  # every response body

    def get(self, path: str) -> tuple[int, str, str]:
        return self._open(urllib.request.Request(self.url + path))

    def post(self, path: str, body: bytes, content_type: str) -> tuple[int, str, str]:
        request = urllib.request.Request(
            self.url + path, data=body, headers={"Content-Type": content_type}
        )
        return self._open(request)

    def _open(self, request: urllib.request.Request) -> tuple[int, str, str]:
        try:
            with self.opener.open(request, timeout=60) as response:
                text = response.read().decode("utf-8", "replace")
                status, final = response.status, response.url
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            status, final = error.code, error.url
        self.said.append(text)
        return status, final, text


USER, PASSWORD = "canary-owner", "canary-password-0123456789"


def _add_user(data: Path) -> None:
    """An owner (who sees the most) in the data folder's users file, for the sign-in."""
    try:
        from dashboards.auth.users import set_user
    except ImportError:  # dashboards without sign-in
        return
    set_user(data, USER, "owner", PASSWORD)


def _sign_in_if_asked(client: Client) -> None:
    """The dashboards' sign-in (dashboards/auth/web.py): when the app sends us to /login,
    sign in with the form's CSRF token; the session cookie rides on every later request."""
    status, final, _ = client.get("/")
    if status == 200 and not urllib.parse.urlparse(final).path.startswith("/login"):
        return
    _, _, form = client.get("/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', form
    )
    assert token, form[:2000]
    body = urllib.parse.urlencode(
        {"username": USER, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"}
    ).encode()
    status, final, _ = client.post("/login", body, "application/x-www-form-urlencoded")
    status, final, _ = client.get("/")
    assert status == 200 and not urllib.parse.urlparse(final).path.startswith("/login")


def _components(tree: object, found: dict[str, dict]) -> None:
    """Every component with an id in a Dash layout (JSON), by id: its props."""
    if isinstance(tree, list):
        for item in tree:
            _components(item, found)
    elif isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict) and "type" in tree:
            if isinstance(props.get("id"), str):
                found.setdefault(props["id"], {}).update(props)
            for value in props.values():
                _components(value, found)


def _outputs(spec: str) -> list[dict]:
    parts = spec[2:-2].split("...") if spec.startswith("..") else [spec]
    return [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in parts]


def _crawl_page(client: Client, callbacks: list[dict], shell: dict, path: str) -> int:
    """Fire every callback of a page whose inputs exist, rounds until nothing new, as the
    browser would on first load. Returns the callbacks fired."""
    known = {k: dict(v) for k, v in shell.items()}
    known.setdefault("_pages_location", {}).update({"pathname": path, "search": "", "hash": ""})
    fired: set[str] = set()
    for _round in range(5):
        progress = False
        for cb in callbacks:
            spec = cb["output"]
            ids = [d["id"] for d in cb["inputs"] + cb.get("state", [])]
            if spec in fired or "{" in spec or any(not isinstance(i, str) for i in ids):
                continue
            if cb.get("clientside_function") or any(i not in known for i in ids):
                continue
            outputs = _outputs(spec)
            body = {
                "output": spec,
                "outputs": outputs if spec.startswith("..") else outputs[0],
                "inputs": [{**d, "value": known[d["id"]].get(d["property"])} for d in cb["inputs"]],
                "changedPropIds": [f"{d['id']}.{d['property']}" for d in cb["inputs"]],
                "state": [
                    {**d, "value": known[d["id"]].get(d["property"])} for d in cb.get("state", [])
                ],
            }
            status, _, text = client.post(
                "/_dash-update-component", json.dumps(body).encode(), "application/json"
            )
            fired.add(spec)
            progress = True
            assert status in (200, 204), (path, spec, status, text[:500])
            if status == 200:
                for component_id, props in json.loads(text).get("response", {}).items():
                    known.setdefault(component_id, {}).update(props)
                    _components(list(props.values()), known)
        if not progress:
            break
    return len(fired)


def _dashboards(data: Path, logs: Path, claim_id: str) -> tuple[list[str], int]:
    """Serve the dashboards (`rcm serve`), sign in if asked, fetch every page's layout and
    callbacks and a claim drill-down. Returns the responses and the callbacks fired."""
    _add_user(data)
    port = free_port()
    out = (logs / "serve.out").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "serve", "--port", str(port)],
        cwd=REPO, env={**os.environ, "RCM_DATA_DIR": str(data)},
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    client = Client(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (logs / "serve.out").read_text()[-3000:]
            try:
                urllib.request.urlopen(client.url + "/", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # answering (perhaps asking to sign in)
            except OSError:
                assert time.monotonic() < deadline, "rcm serve did not answer in 60 s"
                time.sleep(0.2)
        _sign_in_if_asked(client)
        _, _, layout = client.get("/_dash-layout")
        _, _, deps = client.get("/_dash-dependencies")
        shell: dict[str, dict] = {}
        _components(json.loads(layout), shell)
        callbacks = json.loads(deps)
        fired = 0
        for path in [*PAGES, f"/claims/{claim_id}"]:
            status, _, _ = client.get(path)
            assert status == 200, path
            fired += _crawl_page(client, callbacks, shell, path)
        return client.said, fired
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it had ended: its output says why
        out.close()


@pytest.fixture(scope="module")
def canary_run(tmp_path_factory) -> Iterator[CanaryRun]:
    root = tmp_path_factory.mktemp("canary")
    data, home, logs = root / "data", root / "dagster_home", root / "logs"
    home.mkdir()
    logs.mkdir()
    timings: dict[str, float] = {}

    def timed(name: str, started: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - started, 1)
        return now

    t = time.perf_counter()
    practice = generate(
        preset_config("small", seed=7, canary_name=f"{FIRST} {LAST}"),
        data / "landing",
        data / "truth",
    )
    _plant_bad_files(practice.landing_dir)
    # The search works: the name is in the landing files.
    landing_hits = [
        p for p in (data / "landing").rglob("*") if p.is_file() and hits(p.read_bytes())
    ]
    assert len(landing_hits) >= 4, landing_hits
    t = timed("generate", t)

    # Everything Python logs while the pipeline runs, whatever the logger.
    handler_file = logs / "python_logging.log"
    handler = logging.FileHandler(handler_file)
    handler.setLevel(logging.DEBUG)
    root_logger = logging.getLogger()
    previous_level = root_logger.level
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.DEBUG)
    try:
        _dagster_run(data, home)
    finally:
        root_logger.removeHandler(handler)
        root_logger.setLevel(previous_level)
        handler.close()
    t = timed("dagster: ingest, dbt build, publish", t)
    # dbt's debug log of the build: the Dagster dbt asset writes it to the project's
    # target/dagster (shared with other builds, rotated at 10 MB), so all of it is kept.
    (logs / "dagster_dbt").mkdir()
    for log in DBT_BUILD_LOG.parent.glob("dbt.log*"):
        shutil.copy2(log, logs / "dagster_dbt" / log.name)

    con = duckdb.connect(str(data / BUILD_FILE), read_only=True)
    try:
        # The search works: the name is in the raw roster as loaded.
        (named,) = con.execute(
            "select count(*) from raw.patients where last_name = ? and first_name = ?",
            [LAST, FIRST],
        ).fetchone()
        assert named == 1
        patient, claim = con.execute(
            """select p.patient_id, c.patient_control_number
               from raw.patients p join raw.claims c on c.medical_record_number = p.patient_id
               where p.last_name = ? order by 2 limit 1""",
            [LAST],
        ).fetchone()
        rejected = con.execute(
            "select file_name from raw.file_registry where status = 'rejected' order by 1"
        ).fetchall()
    finally:
        con.close()
    assert [r[0] for r in rejected] == [
        "remits/canary_broken.835",
        "scheduling/patients_2099-01.csv",
    ]
    run = CanaryRun(data, home, logs, patient)
    failing_test = _start_failing_test(data, logs, patient)

    _report(data, logs)
    t = timed("rcm report", t)
    said, fired = _dashboards(data, logs, claim)
    run.texts["dashboards"] = "\n".join(said)
    assert fired >= 20, fired  # the pages' callbacks did run
    t = timed("rcm serve and every page's callbacks", t)
    run.failing_rows = _failing_rows(failing_test, data, logs)
    timed("the failing dbt test, after the report and dashboards", t)
    run.seconds = timings
    (logs / "timings.json").write_text(json.dumps(timings, indent=2))
    yield run


@pytest.fixture(autouse=True)
def _show_timings(canary_run, record_property):
    record_property("seconds", canary_run.seconds)


# --------------------------------------------------------------------------- the searches


def test_no_log_holds_the_name(canary_run, capfd):
    """dbt's logs, the report's and the server's output, all Python logging of the run."""
    logs = [p for p in canary_run.logs.rglob("*") if p.is_file()]
    names = {p.name for p in logs}
    assert {"python_logging.log", "report.out", "serve.out", "dbt.log"} <= names
    assert (canary_run.logs / "python_logging.log").stat().st_size > 0
    found = {str(p): hits(p.read_bytes()) for p in logs}
    out, err = capfd.readouterr()
    found["captured stdout/stderr"] = hits(out + err)
    assert not {k: v for k, v in found.items() if v}


def test_no_dagster_record_holds_the_name(canary_run):
    """Dagster's event log (the warnings about the files set aside, their metadata) and
    the compute logs of every step."""
    files = [p for p in canary_run.dagster_home.rglob("*") if p.is_file()]
    compute_logs = [p for p in files if p.suffix in (".out", ".err", ".complete")]
    assert compute_logs, sorted(str(p) for p in files)[:50]
    everything = b"".join(p.read_bytes() for p in files)
    assert b"canary_broken.835 set aside" in everything  # the rejection was logged
    assert b"Running with dbt=" in everything  # and dbt's output
    found = {str(p): hits(p.read_bytes()) for p in files}
    assert not {k: v for k, v in found.items() if v}


def test_no_data_file_outside_the_raw_extracts_holds_the_name(canary_run):
    data = canary_run.data
    searched, found = [], {}
    for path in data.rglob("*"):
        relative = path.relative_to(data)
        if not path.is_file() or relative == BUILD_FILE:
            continue
        raw_extract = relative.parts[0] in RAW_FOLDERS and not path.name.endswith(".reason.json")
        if raw_extract:
            continue
        searched.append(str(relative))
        found[str(relative)] = hits(path.read_bytes())
    assert any(s.endswith(".reason.json") for s in searched)
    assert "warehouse/serving.duckdb" in searched
    assert any(s.startswith("reports/") and s.endswith(".pdf") for s in searched)
    assert not {k: v for k, v in found.items() if v}


def test_no_reason_of_a_rejected_file_holds_the_name(canary_run):
    sidecars = list((canary_run.data / "quarantine").rglob("*.reason.json"))
    assert len(sidecars) == 2
    for sidecar in sidecars:
        why = json.loads(sidecar.read_text())
        assert why["reason"] and why["rule"], why
        assert why["segment_index"] or why["line"], why  # it still says where
        assert not hits(sidecar.read_text()), why


def test_no_table_past_raw_and_no_test_failure_table_holds_the_name(canary_run):
    con = duckdb.connect(str(canary_run.data / BUILD_FILE), read_only=True)
    try:
        relations = con.execute(
            """select table_schema, table_name from information_schema.tables
               where table_schema <> 'raw' or table_name = 'file_registry'"""
        ).fetchall()
        schemas = {s for s, _ in relations}
        assert {"staging", "intermediate", "marts", "terminology", "dbt_test__audit"} <= schemas
        found = {}
        for schema, table in relations:
            rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            found[f"{schema}.{table}"] = hits("\n".join(map(repr, rows)))
        audit = [t for s, t in relations if s == "dbt_test__audit"]
        columns = con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'dbt_test__audit'"
        ).fetchall()
        failing = con.execute(f"select * from dbt_test__audit.{FAILING_TEST}").fetchall()
        failing_columns = [d[0] for d in con.description]
    finally:
        con.close()
    assert len(audit) > 400  # every data test keeps its failing rows
    assert not {k: v for k, v in found.items() if v}
    assert not [(t, c) for t, c in columns if c in PHI_COLUMNS]
    # The failure we caused is there, with the patient's key and without the birth date.
    assert canary_run.failing_rows == 1 and len(failing) == 1
    assert "patient_id" in failing_columns and "birth_date" not in failing_columns
    assert canary_run.canary_patient in failing[0]


def test_no_report_holds_the_name(canary_run):
    pdfs = list((canary_run.data / "reports").rglob("*.pdf"))
    assert pdfs
    for pdf in pdfs:
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "Collection" in text or "collection" in text, text[:500]  # a real report
        assert not hits(text), pdf
        assert not hits(pdf.read_bytes()), pdf


def test_the_serving_file_does_not_hold_the_name_nor_the_failure_tables(canary_run):
    serving = canary_run.data / "warehouse" / "serving.duckdb"
    assert not hits(serving.read_bytes())
    con = duckdb.connect(str(serving), read_only=True)
    try:
        schemas = {
            r[0]
            for r in con.execute("select schema_name from information_schema.schemata").fetchall()
        }
    finally:
        con.close()
    assert "dbt_test__audit" not in schemas and "raw" not in schemas and "staging" not in schemas


def test_no_dashboard_response_holds_the_name(canary_run):
    said = canary_run.texts["dashboards"]
    assert canary_run.canary_patient in said or "claim" in said.lower()  # pages did answer
    assert not hits(said)


def test_every_phi_column_past_raw_is_kept_out_of_failure_tables(canary_run):
    """A column past raw that looks like PHI must be in dbt_project.yml's phi_columns (or be
    the ZIP3 that Safe Harbor allows), so a new model cannot put it in a failure table."""
    import yaml

    listed = set(yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())["vars"]["phi_columns"])  # fmt: skip
    con = duckdb.connect(str(canary_run.data / BUILD_FILE), read_only=True)
    try:
        columns = con.execute(
            """select table_schema || '.' || table_name, column_name
               from information_schema.columns
               where table_schema in ('staging', 'intermediate', 'marts')"""
        ).fetchall()
    finally:
        con.close()
    looks_like_phi = re.compile(
        r"birth|dob|zip|member_(id|key)|phone|address|^(first|last|middle)_name"
        r"|^(patient|subscriber)_.*name"
    )
    unlisted = [
        (t, c)
        for t, c in columns
        if looks_like_phi.search(c)
        and c not in listed
        and c != "zip3"
        and not c.endswith("_qualifier")  # a code saying what kind of id, not the id
    ]
    assert not unlisted
    assert {c for _, c in columns} >= {"birth_date", "member_key"}  # the pattern can match
