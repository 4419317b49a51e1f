"""Warehouse build speed and memory: generate and ingest a preset (not timed), then time
the full `rcm build` (Dagster in process: dbt build of seeds, staging, intermediate,
marts and every test, then publish of the serving file) and print a table.

    .venv/bin/python benchmarks/bench_build.py [--presets demo large] [--threads 4]
                                               [--keep DIR]

Targets (issue 4): full build on the demo preset under 60 s; on the large preset it
completes within 24 GiB. Peak memory is the largest sum of resident memory over the
`rcm build` process and its children (dbt runs as a child, DuckDB inside it), sampled
every 0.1 s. Also shown: the same build as a plain `dbt build` (no Dagster, no publish).
With RCM_ENCRYPTION_KEY set, every warehouse file is encrypted (the cost of encryption).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from pipelines.lib import warehouse_files

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def peak_tree_rss(process: subprocess.Popen, samples: list[int]) -> None:
    """Sample the resident memory of a process and its descendants until it ends."""
    try:
        root = psutil.Process(process.pid)
        while process.poll() is None:
            total = 0
            for p in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # a child that just ended
                    total += p.memory_info().rss
            samples.append(total)
            time.sleep(0.1)
    except psutil.Error:
        pass


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """Run a command; return wall seconds, peak tree RSS in GiB and its output tail."""
    samples: list[int] = []
    started = time.perf_counter()
    process = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    sampler = threading.Thread(target=peak_tree_rss, args=(process, samples), daemon=True)
    sampler.start()
    output, _ = process.communicate()
    wall = time.perf_counter() - started
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{output[-4000:]}")
    return wall, max(samples, default=0) / 2**30, output


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--presets", nargs="+", default=["demo", "large"])
    parser.add_argument("--threads", type=int, default=4, help="dbt threads (RCM_DBT_THREADS)")
    parser.add_argument("--keep", type=Path, help="build in DIR/<preset> and keep it")
    parser.add_argument("--no-dbt", action="store_true", help="time `rcm build` only")
    args = parser.parse_args()
    rows = []
    for preset in args.presets:
        tmp = None if args.keep else tempfile.mkdtemp(prefix=f"bench-build-{preset}-")
        root = (args.keep / preset) if args.keep else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "RCM_DATA_DIR": str(root),
            "RCM_DBT_THREADS": str(args.threads),
        }
        rcm = str(BIN / "rcm")
        try:
            if not (root / "warehouse" / "rcm.duckdb").exists():
                print(
                    f"{preset}: generating and ingesting (not timed)", file=sys.stderr, flush=True
                )
                subprocess.run([rcm, "generate", "--preset", preset], env=env, check=True, capture_output=True)  # fmt: skip
                subprocess.run([rcm, "ingest"], env=env, check=True, capture_output=True)
            raw = root / "warehouse" / "rcm.duckdb"
            pristine = root / "raw-only.duckdb"
            shutil.copy(raw, pristine)  # each timed build starts from the ingested file
            with warehouse_files.connect(raw, read_only=True) as con:
                raw_rows = sum(
                    con.execute(f"select count(*) from raw.{t}").fetchall()[0][0]
                    for (t,) in con.execute(
                        "select table_name from information_schema.tables where table_schema = 'raw'"
                    ).fetchall()
                )
            # The first build on a new warehouse path parses the dbt project in full (dbt
            # re-parses when the profile changes); the second is a warehouse's usual build.
            first_s, _, _ = timed([rcm, "build"], env, REPO)
            build_s, build_gib, _ = timed([rcm, "build"], env, REPO)
            with warehouse_files.connect(
                root / "warehouse" / "serving.duckdb", read_only=True
            ) as con:
                claims = con.execute("select count(*) from marts.fct_claims").fetchall()[0][0]
                kpi_rows = con.execute("select count(*) from marts.fct_kpis_monthly").fetchall()[0][0]  # fmt: skip
            dbt_s = dbt_gib = float("nan")
            out = ""
            if not args.no_dbt:
                shutil.copy(pristine, raw)
                dbt_env = {**env, "RCM_WAREHOUSE": str(raw)}
                target = root / "dbt-target"
                dbt_s, dbt_gib, out = timed(
                    [str(BIN / "dbt"), "build", "--project-dir", "dbt_project", "--profiles-dir",
                     "dbt_project", "--target-path", str(target), "--log-path", str(target)],
                    dbt_env, REPO,
                )  # fmt: skip
            done = [line for line in out.splitlines() if "Done. PASS=" in line]
            rows.append((preset, raw_rows, claims, kpi_rows, first_s, build_s, build_gib, dbt_s, dbt_gib,
                         done[-1].split("Done. ")[-1] if done else "-"))  # fmt: skip
            print(f"{preset}: rcm build {first_s:.1f} s first, {build_s:.1f} s again; dbt build {dbt_s:.1f} s", file=sys.stderr)  # fmt: skip
        finally:
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
    header = (
        f"{'preset':<8}{'raw rows':>12}{'claims':>10}{'KPI rows':>10}{'first build s':>15}"
        f"{'rcm build s':>13}{'peak GiB':>10}{'dbt build s':>13}{'peak GiB':>10}  dbt nodes"
    )
    print(header)
    print("-" * len(header))
    for preset, raw_rows, claims, kpi_rows, fs, bs, bg, ds, dg, done in rows:
        print(f"{preset:<8}{raw_rows:>12,}{claims:>10,}{kpi_rows:>10,}{fs:>15.1f}{bs:>13.1f}{bg:>10.2f}{ds:>13.1f}{dg:>10.2f}  {done}")  # fmt: skip
    print(
        "\nrcm build = Dagster in process: dbt build (seeds, models, data tests) and publish of"
        " serving.duckdb, timed on its second run; first build = the first run on the"
        " warehouse, which also parses the dbt project in full. dbt build = plain dbt build"
        " (unit tests included, parse included). Peak = resident memory of the process"
        " tree. Inputs generated and ingested first, not timed."
    )


if __name__ == "__main__":
    main()
