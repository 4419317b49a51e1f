"""The ``rcm`` command (contract in ARCHITECTURE.md). Thin: each command calls library code
and prints what it did."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipelines.lib.generator.config import PRESETS, GeneratorConfig, preset_config
from pipelines.lib.generator.practice import STEPS, generate

console = Console()


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
def generate_cmd(
    preset: str,
    providers: int | None,
    locations: int | None,
    months: int | None,
    start: object | None,
    seed: int | None,
    out: Path | None,
    truth: Path | None,
) -> None:
    """Generate a synthetic family practice: 837P, 835 and CSV extracts plus a truth ledger."""
    first = date(start.year, start.month, 1) if start is not None else None  # type: ignore[attr-defined]
    cfg = preset_config(
        preset, providers=providers, locations=locations, months=months, start=first, seed=seed
    )
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


@main.command("demo")
@click.option("--seed", type=int, default=42, show_default=True)
def demo_cmd(seed: int) -> None:
    """The main job: generate the demo practice (later: ingest, build, report, serve)."""
    run_generate(preset_config("demo", seed=seed), data_dir() / "landing", data_dir() / "truth")


if __name__ == "__main__":
    main()
