"""Ingest speed and memory, end to end: generate a preset (not timed), then time
`run_ingest` over its landing folders in a fresh process and print a table.

    .venv/bin/python benchmarks/bench_ingest.py [--presets small demo large] [--workers 2]

Target (issue 3): ingest the large preset end to end; report wall time and peak memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
from pathlib import Path
from pipelines.lib.ingest.run import run_ingest
root = Path(sys.argv[1])
t = time.perf_counter()
s = run_ingest(root, settle_seconds=0.0, workers=int(sys.argv[2]))
print(json.dumps({"seconds": time.perf_counter() - t, "files": len(s.outcomes), "loaded": s.count("loaded"),
                  "bytes": s.bytes, "rows": sum(s.rows_by_table().values()),
                  "peak_kib": max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--presets", nargs="+", default=["small", "demo", "large"])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rows = []
    for preset in args.presets:
        with tempfile.TemporaryDirectory(prefix=f"bench-ingest-{preset}-") as tmp:
            root = Path(tmp)
            subprocess.run([sys.executable, "-m", "pipelines.cli", "generate", "--preset", preset, "--out", str(root / "landing"),
                            "--truth", str(root / "truth")], check=True, capture_output=True)  # fmt: skip
            started = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(root), str(args.workers)],
                check=True,
                capture_output=True,
                text=True,
            )
            wall = time.perf_counter() - started
            r = json.loads(out.stdout.strip().splitlines()[-1])
            peak = r["peak_kib"] / 1024 / 1024
            rows.append((preset, r, wall, peak))
            print(f"{preset}: {wall:.1f} s", file=sys.stderr, flush=True)
    header = f"{'preset':<8}{'files':>8}{'loaded':>8}{'MB':>9}{'rows':>12}{'ingest s':>10}{'MB/s':>8}{'rows/s':>11}{'peak RSS GiB':>14}"
    print(header)
    print("-" * len(header))
    for preset, r, _wall, peak in rows:
        print(f"{preset:<8}{r['files']:>8,}{r['loaded']:>8,}{r['bytes'] / 1e6:>9.1f}{r['rows']:>12,}{r['seconds']:>10.1f}"
              f"{r['bytes'] / 1e6 / r['seconds']:>8.1f}{r['rows'] / r['seconds']:>11,.0f}{peak:>14.2f}")  # fmt: skip
    print(
        f"\nworkers = {args.workers} parser processes; peak RSS is the ingest process's own (or a worker's, if larger)"
    )


if __name__ == "__main__":
    main()
