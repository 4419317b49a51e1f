"""The ``rcm`` command (contract in ARCHITECTURE.md). Thin: each command calls library code
and prints what it did."""

from __future__ import annotations

import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipelines.lib.generator.canary import split_canary_name
from pipelines.lib.generator.config import PRESETS, GeneratorConfig, preset_config
from pipelines.lib.generator.practice import STEPS, generate

console = Console()


def audit_events() -> list[str]:
    from pipelines.lib.audit import EVENTS

    return list(EVENTS)


def data_dir() -> Path:
    """``RCM_DATA_DIR`` (default ``./data``)."""
    return Path(os.environ.get("RCM_DATA_DIR", "data"))


@click.group()
def main() -> None:
    """rcm-warehouse: revenue-cycle analytics for family-medicine practices."""


@main.command("generate")
@click.option(
    "--preset",
    type=click.Choice(list(PRESETS)),
    default="demo",
    show_default=True,
    help="Practice size.",
)
@click.option(
    "--providers", type=click.IntRange(1, 2000), help="Override the preset's provider count."
)
@click.option(
    "--locations", type=click.IntRange(1, 100), help="Override the preset's location count."
)
@click.option(
    "--months", type=click.IntRange(1, 120), help="Override the preset's number of months."
)
@click.option(
    "--start", type=click.DateTime(["%Y-%m-%d", "%Y-%m"]), help="First month simulated (YYYY-MM)."
)
@click.option("--seed", type=int, help="Random seed; the same seed gives byte-identical files.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Landing folder [default: $RCM_DATA_DIR/landing].",
)
@click.option(
    "--truth",
    type=click.Path(file_okay=False, path_type=Path),
    help="Truth ledger folder [default: $RCM_DATA_DIR/truth].",
)
@click.option(
    "--canary-name",
    metavar="'FIRST LAST'",
    help="Give one patient (with visits, claims, remittances and payments) this name, to "
    "look for in logs and outputs (tests/security/test_phi_canary.py).",
)
def generate_cmd(
    preset: str,
    providers: int | None,
    locations: int | None,
    months: int | None,
    start: object | None,
    seed: int | None,
    out: Path | None,
    truth: Path | None,
    canary_name: str | None,
) -> None:
    """Generate a synthetic family practice: 837P, 835 and CSV extracts plus a truth ledger."""
    first = date(start.year, start.month, 1) if start is not None else None  # type: ignore[attr-defined]
    if canary_name is not None:
        try:
            split_canary_name(canary_name)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--canary-name") from None
    cfg = preset_config(
        preset, providers=providers, locations=locations, months=months, start=first, seed=seed,
        canary_name=canary_name,
    )  # fmt: skip
    run_generate(cfg, out or data_dir() / "landing", truth or data_dir() / "truth")


def run_generate(cfg: GeneratorConfig, landing: Path, truth: Path) -> None:
    console.print(
        f"Generating the [bold]{cfg.preset}[/] practice: {cfg.providers} providers, {cfg.locations} locations, "
        f"{cfg.months} months from {cfg.start:%Y-%m}, seed {cfg.seed}"
    )
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=len(STEPS))

        def step(name: str) -> None:
            bar.update(task, description=name, completed=STEPS.index(name))

        summary = generate(cfg, landing, truth, step)
    elapsed = time.perf_counter() - started
    table = Table(title=f"Generated in {elapsed:.1f} s", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    for folder, n in summary.files.items():
        table.add_row(f"{folder}/ files", f"{n:,}")
    for name, n in summary.rows.items():
        table.add_row(name, f"{n:,}")
    console.print(table)
    console.print(f"Landing files: {summary.landing_dir}\nTruth ledger:  {summary.truth_dir}")


@main.command("ingest")
@click.option(
    "--workers", type=click.IntRange(1, 16), default=2, show_default=True, help="Parser processes."
)
def ingest_cmd(workers: int) -> None:
    """Load everything new in the landing folders into the DuckDB warehouse (raw.*)."""
    ok = run_ingest_assets(data_dir(), workers)
    raise SystemExit(0 if ok else 1)


def run_ingest_assets(root: Path, workers: int = 2) -> bool:
    """Materialise the ingest assets and their checks in process, with a progress bar and
    a summary table. Returns False when a run step failed (bad files are not failures)."""
    from dagster import DagsterInstance, materialize

    from pipelines.defs.checks import INGEST_CHECKS
    from pipelines.defs.ingest import ASSET_NAMES, INGEST_ASSETS
    from pipelines.defs.resources import Progress as ProgressHooks
    from pipelines.defs.resources import WarehouseResource

    started = time.perf_counter()
    with Progress(TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.completed}/{task.total} files"),
                  TimeElapsedColumn(), console=console) as bar:  # fmt: skip
        tasks: dict[str, int] = {}

        def on_start(label: str, total: int) -> None:
            tasks[label] = bar.add_task(f"ingest {label}", total=total)

        def on_advance(label: str, detail: str) -> None:
            bar.advance(tasks[label])

        config = {"ops": {name: {"config": {"workers": workers, "settle_seconds": 0.0}} for name in ASSET_NAMES.values()},
                  "loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # fmt: skip
        result = materialize(
            [*INGEST_ASSETS, *INGEST_CHECKS],
            resources={
                "warehouse": WarehouseResource(data_dir=str(root)),
                "progress": ProgressHooks(on_start, on_advance),
            },
            run_config=config,
            instance=DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
    elapsed = time.perf_counter() - started
    table = Table(title=f"Ingest finished in {elapsed:.1f} s", title_justify="left")
    for col in ("source", "loaded", "duplicate", "rejected", "rows added"):
        table.add_column(col, justify="left" if col == "source" else "right")
    set_aside: dict[str, str] = {}
    for source, node in ASSET_NAMES.items():
        events = result.asset_materializations_for_node(node)
        if not events:
            table.add_row(source, "-", "-", "-", "failed")
            continue
        meta = {k: v.value for k, v in events[0].metadata.items()}
        rows = sum(int(e.metadata["rows_added"].value) for e in events)
        table.add_row(
            source,
            str(meta["files_loaded"]),
            str(meta["files_duplicate"]),
            str(meta["files_rejected"]),
            f"{rows:,}",
        )
        set_aside.update(meta["set_aside"])
    console.print(table)
    for name, why in sorted(set_aside.items()):
        console.print(f"[yellow]set aside[/] {name}: {why}")
    checks = [e for e in result.get_asset_check_evaluations()]
    failed = [c for c in checks if not c.passed]
    console.print(f"Checks: {len(checks) - len(failed)} of {len(checks)} passed")
    for c in failed:
        console.print(
            f"[red]check failed[/] {c.asset_key.to_user_string()} {c.check_name}: {c.metadata}"
        )
    return result.success and not failed


@main.command("build")
@click.option("--verbose", "-v", is_flag=True, help="Show dbt's own log as it runs.")
def build_cmd(verbose: bool) -> None:
    """Build the warehouse with dbt (staging, intermediate, marts, seeds), run its tests and
    publish the serving file readers open (warehouse/serving.duckdb)."""
    ok = run_build_assets(data_dir(), verbose=verbose)
    raise SystemExit(0 if ok else 1)


def run_build_assets(root: Path, verbose: bool = False) -> bool:
    """Materialise the dbt assets (``dbt build``: models, seeds and tests as asset checks)
    and the publish asset in one in-process run against ``<root>/warehouse/rcm.duckdb``,
    and print a summary table. Publish only runs when dbt's build and tests passed, so a
    failed build leaves ``serving.duckdb`` as it was. dbt's log is shown when ``verbose``,
    else only its tail when the build fails. Returns False when the build, a test or the
    publish failed (tests that only warn are reported)."""
    import contextlib
    import io

    from dagster import AssetCheckSeverity, DagsterInstance, materialize

    from pipelines.defs.dbt import DBT_ASSETS, DBT_RESOURCES, warehouse_file
    from pipelines.defs.publish import PUBLISH_ASSETS, SERVING_KEY, SERVING_STEP, serving_file
    from pipelines.defs.resources import WarehouseResource
    from pipelines.lib import warehouse_files
    from pipelines.lib.ingest.loader import RAW_TABLES

    warehouse = warehouse_file(root)
    if not warehouse.exists():
        console.print(f"[red]No warehouse at {warehouse}[/]: run `rcm ingest` first.")
        return False
    try:
        with warehouse_files.connect(warehouse, read_only=True) as con:
            present = {r[0] for r in con.execute("select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}  # fmt: skip
    except warehouse_files.WarehouseFileError as error:
        console.print(str(error), style="red", markup=False)
        return False
    missing = sorted(
        {"file_registry", *(t for kind in RAW_TABLES.values() for t in kind)} - present
    )
    if missing:
        console.print(f"[red]Raw tables missing[/] (no file of their kind loaded yet): {', '.join(missing)}")  # fmt: skip
        return False

    started = time.perf_counter()
    dbt_log = io.StringIO()  # dagster-dbt echoes dbt's log to stdout
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(dbt_log)
    with Console(file=sys.stdout).status("dbt build: models, seeds and tests; publish"), quiet:
        result = materialize(
            [*DBT_ASSETS, *PUBLISH_ASSETS],
            resources={"warehouse": WarehouseResource(data_dir=str(root)), **DBT_RESOURCES},
            # Failures are summed up below, with dbt's own messages.
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
            instance=DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
    elapsed = time.perf_counter() - started
    materialised = result.get_asset_materialization_events()
    built = [e.asset_key for e in materialised if e.asset_key != SERVING_KEY]
    seeds = [k for k in built if k.path[0] == "terminology"]
    published = [e.materialization.metadata for e in materialised if e.asset_key == SERVING_KEY]
    checks = result.get_asset_check_evaluations()
    failed = [c for c in checks if not c.passed and c.severity == AssetCheckSeverity.ERROR]
    warned = [c for c in checks if not c.passed and c.severity == AssetCheckSeverity.WARN]
    table = Table(title=f"Build finished in {elapsed:.1f} s", title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("models built", f"{len(built) - len(seeds):,}")
    table.add_row("seeds loaded", f"{len(seeds):,}")
    table.add_row("tests passed", f"{len(checks) - len(failed) - len(warned):,}")
    table.add_row("tests warned", f"{len(warned):,}")
    table.add_row("tests failed", f"{len(failed):,}")
    table.add_row("tables published", f"{published[0]['tables'].value:,}" if published else "none")
    table.add_row("seconds", f"{elapsed:.1f}")
    console.print(table)
    for c in warned:
        console.print(f"[yellow]test warned[/] {c.asset_key.to_user_string()} {c.check_name}")
    for c in failed:
        console.print(f"[red]test failed[/] {c.asset_key.to_user_string()} {c.check_name}")
    failures = result.get_step_failure_events()
    if not result.success and not failures and not verbose:
        console.print("\n".join(dbt_log.getvalue().splitlines()[-40:]), markup=False)
    for event in failures:
        error = event.step_failure_data.error
        what = "publish" if event.step_key == SERVING_STEP else "build"
        console.print(f"[red]{what} failed[/]: {error.message.strip() if error else event.message}")
    console.print(f"Warehouse: {warehouse}")
    serving = serving_file(root)
    if published:
        console.print(f"Serving:   {serving} (published)")
    else:
        state = "unchanged" if serving.exists() else "not published yet"
        console.print(f"Serving:   {serving} ({state}: readers keep the last good build)")
    return result.success and not failed and bool(published)


@main.command("report")
@click.option(
    "--month",
    metavar="YYYY-MM",
    help="Month to report [default: the last complete month of the published data].",
)
@click.option(
    "--location",
    "locations",
    multiple=True,
    metavar="ID",
    help="Only this location's report (repeatable), or 'all' for every location "
    "[default: the practice, and the locations of RCM_REPORT_LOCATIONS].",
)
@click.option("--flash", is_flag=True, help="The weekly flash report instead of the monthly.")
@click.option(
    "--week",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="With --flash: a day of the week to report [default: the week of the data's as-of date].",
)
@click.option(
    "--email",
    is_flag=True,
    help="Email the reports (RCM_SMTP_HOST, RCM_REPORT_SENDER, RCM_REPORT_RECIPIENTS, …).",
)
def report_cmd(
    month: str | None,
    locations: tuple[str, ...],
    flash: bool,
    week: object | None,
    email: bool,
) -> None:
    """Owner PDF reports from the published warehouse, into $RCM_DATA_DIR/reports/."""
    from pipelines.lib.report.run import week_of
    from pipelines.lib.report.settings import ReportSettingsError, parse_month

    if flash and month:
        raise click.UsageError("--month is for the monthly report; with --flash, use --week")
    if week is not None and not flash:
        raise click.UsageError("--week is for the flash report: add --flash")
    chosen: list[str] | str | None = None
    if locations:
        chosen = "all" if "all" in locations else list(locations)
    day = date(week.year, week.month, week.day) if week is not None else None  # type: ignore[attr-defined]
    try:
        first = parse_month(month, "--month") if month else None
    except ReportSettingsError as error:
        raise click.BadParameter(str(error), param_hint="--month") from None
    ok = run_report(
        data_dir(),
        month=first,
        locations=chosen,
        flash_week=week_of(day) if day else None,
        flash=flash,
        email=email,
    )
    raise SystemExit(0 if ok else 1)


def run_report(
    root: Path,
    month: date | None = None,
    locations: list[str] | str | None = None,
    flash: bool = False,
    flash_week: tuple[date, date] | None = None,
    email: bool = False,
) -> bool:
    """Write the owner reports and print their paths. ``locations`` None: the practice and
    the locations of RCM_REPORT_LOCATIONS; else only those (or ``"all"``). The month
    defaults to the last complete month of the data, the flash's week to the week of the
    data's as-of date. Returns False (after saying why) when no report could be written."""
    from pipelines.lib.report.charts import ChartError
    from pipelines.lib.report.deliver import DeliveryError
    from pipelines.lib.report.run import (
        ReportError,
        latest_as_of,
        latest_complete_month,
        week_of,
        write_reports,
    )
    from pipelines.lib.report.settings import ReportSettings, ReportSettingsError, SmtpSettings

    started = time.perf_counter()
    try:
        settings = ReportSettings.from_env()
        smtp = SmtpSettings.from_env() if email else None
        if flash:
            if flash_week is None:
                as_of = latest_as_of(root)
                if as_of is None:
                    raise ReportError("the published warehouse holds no data yet")
                flash_week = week_of(as_of)
            month = flash_week[0]
        elif month is None:
            month = latest_complete_month(root)
            if month is None:
                raise ReportError("the published warehouse holds no complete month yet")
        if locations is None:
            locations = "all" if settings.all_locations else list(settings.locations)
            include_practice = True
        else:
            include_practice = False
        with console.status("Writing the report (charts in Chromium, PDF)"):
            files = write_reports(
                root,
                month,
                kind="flash" if flash else "monthly",
                week=flash_week,
                locations=locations,
                include_practice=include_practice,
                settings=settings,
                smtp=smtp,
            )
    except (ReportError, ReportSettingsError, ChartError, DeliveryError) as error:
        console.print(f"[red]No report[/]: {error}")
        return False
    elapsed = time.perf_counter() - started
    for f in files:
        what = "Weekly flash" if f.kind == "flash" else "Owner report"
        data_note = "" if f.has_data else ", [yellow]no data for that month[/]"
        console.print(
            f"{what}, {f.month:%B %Y}, {f.scope}: {f.pages} page{'s' * (f.pages != 1)}, "
            f"{f.bytes / 1024:,.0f} KB{data_note}"
        )
    if smtp is not None:
        console.print(f"Emailed to {', '.join(smtp.recipients)} through {smtp.host}")
    console.print(f"Written in {elapsed:.1f} s:")
    for f in files:
        click.echo(str(f.path))
    return True


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8050, show_default=True)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Requests answered at once.",
)
def serve_cmd(host: str, port: int, threads: int) -> None:
    """Dashboards on the published warehouse ($RCM_DATA_DIR/warehouse/serving.duckdb),
    behind sign-in: add users first with `rcm users add`."""
    from dashboards.server import serve

    serve(host=host, port=port, threads=threads)


@main.group("users")
def users_cmd() -> None:
    """Dashboard users and their roles ($RCM_USERS_FILE, default $RCM_DATA_DIR/users.toml)."""


def _cli_actor() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


@users_cmd.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["owner", "practice_manager", "billing_lead"]),
    required=True,
    help="owner: everything; practice_manager: everything, patient identifiers masked; "
    "billing_lead: claim detail with patient identifiers.",
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
def users_add_cmd(name: str, role: str, password_stdin: bool) -> None:
    """Add a user, or give an existing one a new role and password."""
    from dashboards.auth.users import MIN_PASSWORD_LENGTH, UsersError, load_users, set_user
    from pipelines.lib import audit

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(
            f"Password for {name} (at least {MIN_PASSWORD_LENGTH} characters)",
            hide_input=True,
            confirmation_prompt=True,
        )
    root = data_dir()
    try:
        existed = name in load_users(root)
        user = set_user(root, name, role, password)
    except UsersError as error:
        raise click.ClickException(str(error)) from None
    audit.append(
        root, "user_changed" if existed else "user_added", _cli_actor(), user=name, role=role
    )
    console.print(f"{'Changed' if existed else 'Added'} {user.name} ({user.role_title}).")


@users_cmd.command("list")
def users_list_cmd() -> None:
    """The users and their roles (never their password hashes)."""
    from dashboards.auth.users import UsersError, load_users, users_file

    try:
        users = load_users(data_dir())
    except UsersError as error:
        raise click.ClickException(str(error)) from None
    if not users:
        console.print(f"No users in {users_file(data_dir())}: add one with `rcm users add`.")
        return
    table = Table("user", "role")
    for user in sorted(users.values(), key=lambda u: u.name):
        table.add_row(user.name, user.role_title)
    console.print(table)


@users_cmd.command("remove")
@click.argument("name")
def users_remove_cmd(name: str) -> None:
    """Remove a user (their open sessions end at the next request or restart)."""
    from dashboards.auth.users import remove_user
    from pipelines.lib import audit

    if not remove_user(data_dir(), name):
        raise click.ClickException(f"no user {name!r}")
    audit.append(data_dir(), "user_removed", _cli_actor(), user=name)
    console.print(f"Removed {name}.")


@main.command("audit")
@click.option("--user", "actor", help="Only this user's entries.")
@click.option("--event", type=click.Choice(sorted(audit_events())), help="Only this event.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only from this day (UTC).")
@click.option(
    "--limit", type=click.IntRange(0), default=50, show_default=True, help="Latest N (0: all)."
)
def audit_cmd(actor: str | None, event: str | None, since: object | None, limit: int) -> None:
    """The audit log ($RCM_DATA_DIR/audit/audit.jsonl): sign-ins, claim views, exports,
    reports, user changes. Checks the hash chain first; exits 1 if it was tampered with."""
    from pipelines.lib import audit

    root = data_dir()
    check = audit.verify(root)
    rows = [
        e
        for e in audit.entries(root)
        if (actor is None or e.get("actor") == actor)
        and (event is None or e.get("event") == event)
        and (since is None or e.get("at", "") >= since.strftime("%Y-%m-%d"))
    ]
    if limit:
        rows = rows[-limit:]
    table = Table("at (UTC)", "user", "event", "details")
    skip = {"at", "actor", "event", "prev", "hash"}
    for e in rows:
        details = ", ".join(f"{k}={v}" for k, v in e.items() if k not in skip)
        table.add_row(e["at"].replace("T", " ")[:23], e["actor"], e["event"], details)
    console.print(table)
    if check.intact:
        console.print(f"[green]Audit chain intact: {check.entries} entries.[/green]")
    else:
        console.print(
            f"[red]AUDIT LOG TAMPERED: line {check.broken_at} {check.reason}; "
            f"{check.entries} entries before it verify.[/red]"
        )
        raise SystemExit(1)


@main.command("demo")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--serve/--no-serve",
    default=True,
    show_default=True,
    help="End by serving the dashboards on 127.0.0.1:8050.",
)
def demo_cmd(seed: int, serve: bool) -> None:
    """The main job: generate the demo practice, ingest it, build the warehouse with its
    tests, publish the serving file, write the latest month's owner report, then serve
    the dashboards.

    The demo starts from a clean slate: it clears the generated folders of $RCM_DATA_DIR
    (landing, archive, quarantine, truth, warehouse) so a re-run shows the same practice."""
    root = data_dir()
    for sub in ("landing", "archive", "quarantine", "truth", "warehouse"):
        shutil.rmtree(root / sub, ignore_errors=True)
    run_generate(preset_config("demo", seed=seed), root / "landing", root / "truth")
    ok = run_ingest_assets(root) and run_build_assets(root) and run_report(root)
    if not ok:
        raise SystemExit(1)
    from dashboards.auth.users import reset_demo_users

    table = Table("demo user", "role", "password (new each demo run)", title="Dashboard sign-in")
    for name, (role, password) in reset_demo_users(root).items():
        table.add_row(name, role, password)
    console.print(table)
    if serve:
        from dashboards.server import serve as serve_dashboards

        serve_dashboards()


if __name__ == "__main__":
    main()
