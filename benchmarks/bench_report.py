"""Owner report speed: write the monthly report (practice and every location) and the
weekly flash on a published data folder, and print the time, pages and size of each.

    .venv/bin/python benchmarks/bench_report.py --data-dir DIR [--month YYYY-MM] [--runs 3]

DIR holds warehouse/serving.duckdb (e.g. after `rcm demo --no-serve` with RCM_DATA_DIR=DIR).
Reports go to a temporary folder, not DIR/reports. Each run starts Chromium once (kaleido's
server) for all its reports, as a scheduled run does; the first report of a run carries the
browser's start.
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from pipelines.lib.publish import serving_file  # noqa: E402
from pipelines.lib.report.charts import ChartRenderer  # noqa: E402
from pipelines.lib.report.run import (  # noqa: E402
    latest_as_of,
    latest_complete_month,
    week_of,
    write_reports,
)
from pipelines.lib.report.settings import parse_month  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--month", help="YYYY-MM (default: the last complete month)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    source = serving_file(args.data_dir)
    if not source.is_file():
        raise SystemExit(f"no published warehouse at {source}")
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        root = Path(tmp)
        (root / "warehouse").mkdir()
        shutil.copy(source, serving_file(root))
        month = parse_month(args.month) if args.month else latest_complete_month(root)
        week = week_of(latest_as_of(root))  # type: ignore[arg-type]
        table = Table(title=f"Owner reports on {args.data_dir} ({month:%B %Y})")
        for column in ("run", "report", "scope", "pages", "KB", "seconds"):
            table.add_column(column, justify="left" if column in ("report", "scope") else "right")
        totals: list[float] = []
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            with ChartRenderer() as renderer:  # one Chromium for the run's reports
                renderer.start()
                files = write_reports(root, month, locations="all")  # type: ignore[arg-type]
                files += write_reports(root, week[0], kind="flash", week=week)
            totals.append(time.perf_counter() - started)
            for f in files:
                table.add_row(
                    str(run),
                    f.path.name,
                    f.scope,
                    str(f.pages),
                    f"{f.bytes / 1024:,.0f}",
                    f"{f.seconds:.2f}",
                )
        console = Console(width=120)
        console.print(table)
        console.print(
            f"{len(files)} reports per run; a run (Chromium's start included) took "
            f"{statistics.median(totals):.1f} s (median of {len(totals)})"
        )


if __name__ == "__main__":
    main()
