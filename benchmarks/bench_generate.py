"""Generator speed and memory: runs `rcm generate` in a fresh process per preset and prints a
table of wall time, peak RSS, rows written and rows per second.

    .venv/bin/python benchmarks/bench_generate.py [--presets demo large] [--keep DIR]

Targets (issue 2): demo under 30 s on 2 cores; large completes within 24 GiB.
Each run happens in a child process so its peak RSS is its own (resource.getrusage of the
children), and in a temporary folder unless --keep is given.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, sys, time
from pathlib import Path
from pipelines.lib.generator.config import preset_config
from pipelines.lib.generator.practice import generate
root = Path(sys.argv[2])
started = time.perf_counter()
summary = generate(preset_config(sys.argv[1]), root / "landing", root / "truth")
elapsed = time.perf_counter() - started
size = sum(p.stat().st_size for p in (root / "landing").rglob("*") if p.is_file())
print(json.dumps({"seconds": elapsed, "rows": summary.total_rows(), "files": sum(summary.files.values()), "bytes": size, "detail": summary.rows}))
"""


def run(preset: str, root: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, preset, str(root)], check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    result["peak_gib"] = max(peak_kib, before) / 1024 / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--presets", nargs="+", default=["small", "demo", "large"])
    parser.add_argument(
        "--keep", type=Path, help="write into DIR/<preset> instead of a temporary folder"
    )
    args = parser.parse_args()
    rows = []
    for preset in args.presets:
        if args.keep:
            results = run(preset, args.keep / preset)
        else:
            with tempfile.TemporaryDirectory(prefix=f"bench-{preset}-") as tmp:
                results = run(preset, Path(tmp))
        rows.append((preset, results))
        print(f"{preset}: done in {results['wall']:.1f} s", file=sys.stderr, flush=True)

    header = f"{'preset':<8}{'generate s':>12}{'process s':>11}{'peak RSS GiB':>14}{'files':>8}{'rows':>12}{'rows/s':>11}{'landing MB':>12}"
    print(header)
    print("-" * len(header))
    for preset, r in rows:
        print(
            f"{preset:<8}{r['seconds']:>12.1f}{r['wall']:>11.1f}{r['peak_gib']:>14.2f}{r['files']:>8,}"
            f"{r['rows']:>12,}{r['rows'] / r['seconds']:>11,.0f}{r['bytes'] / 1e6:>12.0f}"
        )
    print("\nrows = appointments + 837P claims and lines + 835 CLP, SVC and CAS + patient payments")
    print(
        "peak RSS is the largest child so far (getrusage of children), so read it per row in order"
    )


if __name__ == "__main__":
    main()
