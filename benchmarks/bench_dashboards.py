"""Dashboard callback speed: how long each page's callbacks take to answer, after warm-up.

    .venv/bin/python benchmarks/bench_dashboards.py --data-dir DIR [--rounds 20]

DIR is a data folder with a published warehouse (warehouse/serving.duckdb), for example
one kept by `benchmarks/bench_build.py --presets large --keep DIR`. The script writes a
users file with one owner in a temporary folder, starts `rcm serve` on DIR with it, signs
headless Chromium in through the sign-in form, opens every page under several views (no
filter, a payer, a provider, a location, a payer class, a short range, the denial
drill-down, three claims, the drill-down's CSV export) and records the callback requests the
browser makes (benchmarks/_dashboard_requests.py; the app shell's own callbacks are left
out). It then signs a plain HTTP client in the same way and replays each recorded request:
twice to warm up, then ``--rounds`` times, one at a time, and prints p50, p95 and the
maximum per kind of view and the slowest callbacks.

Target (issue 5): on the large preset, every page's callbacks answer with p95 < 300 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections import defaultdict
from pathlib import Path

import duckdb
import requests
from _dashboard_requests import (
    percentile,
    post_callback,
    record,
    sign_in,
    start_server,
    write_users,
)

from pipelines.lib import warehouse_files

TARGET_MS = 300.0
USER = "bench-owner"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    serving = args.data_dir / "warehouse" / "serving.duckdb"
    if not serving.exists():
        raise SystemExit(f"no published warehouse at {serving}")
    con = duckdb.connect(":memory:")
    warehouse_files.attach(con, serving, "s", read_only=True)
    claims = con.execute("select count(*) from s.marts.fct_claims").fetchall()[0][0]
    con.close()
    with tempfile.TemporaryDirectory(prefix="bench-dashboards-") as tmp:
        users = write_users(Path(tmp) / "users.toml", {USER: "owner"})
        server = start_server(args.data_dir, users, Path(tmp) / "serve.log")
        base = server.url
        try:
            # the app shell's callbacks are left out: this times each page's own
            recorded = [
                (view.spec.kind, callback)
                for view in record(base, args.data_dir, USER)
                for callback in view.callbacks
                if not callback.shell
            ]
            session = requests.Session()
            sign_in(session, base, USER)

            def post(callback) -> float:
                status, _body, ms = post_callback(session, base, callback)
                if status not in (200, 204):
                    raise SystemExit(f"{callback.label} answered HTTP {status}")
                return ms

            for _kind, callback in recorded:  # warm-up
                post(callback)
                post(callback)
            timings: dict[tuple[str, str], list[float]] = defaultdict(list)
            per_page: dict[str, list[float]] = defaultdict(list)
            for _ in range(args.rounds):
                for kind, callback in recorded:
                    ms = post(callback)
                    timings[(kind, callback.label)].append(ms)
                    per_page[kind].append(ms)
        finally:
            server.stop()
    print(
        f"\nserving file: {serving} ({serving.stat().st_size / 2**20:.0f} MiB, {claims:,} claims)"
    )
    print(
        f"{len(recorded)} recorded callback requests × {args.rounds} rounds, after 2 warm-up rounds\n"
    )
    print(
        f"| {'page':<12} | {'requests':>8} | {'p50 ms':>7} | {'p95 ms':>7} | {'max ms':>7} | p95 < {TARGET_MS:.0f} ms |"
    )
    print(f"|{'-' * 14}|{'-' * 10}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 14}|")
    worst = 0.0
    for name, values in per_page.items():
        p95 = percentile(values, 0.95)
        worst = max(worst, p95)
        print(f"| {name:<12} | {len(values):>8} | {statistics.median(values):>7.0f} | "
              f"{p95:>7.0f} | {max(values):>7.0f} | {'yes' if p95 < TARGET_MS else 'NO':<12} |")  # fmt: skip
    print("\nslowest callbacks (p95):")
    slowest = sorted(timings.items(), key=lambda kv: -percentile(kv[1], 0.95))[:8]
    for (name, output), values in slowest:
        print(f"  {percentile(values, 0.95):7.0f} ms  {name:<12} {output}")
    print(f"\nworst page p95: {worst:.0f} ms (target < {TARGET_MS:.0f} ms)")


if __name__ == "__main__":
    main()
