"""Dashboard callback speed: how long each page's callbacks take to answer, after warm-up.

    .venv/bin/python benchmarks/bench_dashboards.py --data-dir DIR [--rounds 20]

DIR is a data folder with a published warehouse (warehouse/serving.duckdb), for example
one kept by `benchmarks/bench_build.py --presets large --keep DIR`. The script starts
`rcm serve` on it, opens every page in headless Chromium under several views (no filter, a
payer, a provider, a location, a payer class, a short range, the denial drill-down and a
claim) and records the callback requests the browser makes. It then replays each recorded
request: twice to warm up, then ``--rounds`` times, one at a time, and prints p50, p95 and
the maximum per page and callback.

Target (issue 5): on the large preset, every page's callbacks answer with p95 < 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
TARGET_MS = 300.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(root: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "serve", "--port", str(port)],
        cwd=REPO, env={**os.environ, "RCM_DATA_DIR": str(root)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
            return process
        except OSError:
            time.sleep(0.2)
    raise SystemExit("rcm serve did not start")


def views(root: Path) -> list[tuple[str, str]]:
    """(page, path and query) to record: each page under several filters."""
    con = duckdb.connect(":memory:")
    con.execute(f"attach '{root / 'warehouse' / 'serving.duckdb'}' as s (read_only)")
    payer, payer_class = con.execute(
        "select payer_id, payer_class from s.marts.dim_payer order by payer_id limit 1"
    ).fetchall()[0]
    provider = con.execute("select min(provider_npi) from s.marts.dim_provider").fetchall()[0][0]
    location = con.execute("select min(location_id) from s.marts.dim_location").fetchall()[0][0]
    last = con.execute("select max(month_start) from s.marts.fct_kpis_monthly").fetchall()[0][0]
    root_cause, carc, claim = con.execute(
        "select root_cause, carc_code, min(claim_id) from s.marts.fct_denials "
        "group by 1, 2 order by count(*) desc limit 1"
    ).fetchall()[0]
    short = f"from={last.year}-{max(last.month - 2, 1):02d}&to={last:%Y-%m}"
    filters = ["", f"payer={payer}", f"provider={provider}", f"location={location}",
               f"payer_class={payer_class}", short]  # fmt: skip
    pages = {"overview": "/", "denials": "/denials", "ar": "/ar",
             "collections": "/collections", "visit-mix": "/visit-mix",
             "scheduling": "/scheduling"}  # fmt: skip
    out = [(name, f"{path}?{query}") for name, path in pages.items() for query in filters]
    out.append(("denials", f"/denials?root_cause={root_cause}"))
    out.append(("denials", f"/denials?root_cause={root_cause}&carc={carc}"))
    out.append(("claim", f"/claims/{claim}"))
    return out


def record(base: str, root: Path) -> list[tuple[str, str, str, bytes]]:
    """Open each view in Chromium; keep (page, callback outputs, address, request body)."""
    from playwright.sync_api import sync_playwright

    recorded: list[tuple[str, str, str, bytes]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        current = {"name": ""}

        def keep(request) -> None:
            if "/_dash-update-component" in request.url and request.post_data:
                body = json.loads(request.post_data)
                if not body["output"].startswith(("_pages", "..shell-", "shell-")):
                    recorded.append(
                        (
                            current["name"],
                            body["output"][:60],
                            request.url,
                            request.post_data_buffer,
                        )
                    )

        page.on("request", keep)
        for name, path in views(root):
            current["name"] = name
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(300)
        browser.close()
    return recorded


def post(url: str, body: bytes) -> float:
    request = urllib.request.Request(
        url, data=body,
        headers={"Content-Type": "application/json"}, method="POST",
    )  # fmt: skip
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    serving = args.data_dir / "warehouse" / "serving.duckdb"
    if not serving.exists():
        raise SystemExit(f"no published warehouse at {serving}")
    con = duckdb.connect(":memory:")
    con.execute(f"attach '{serving}' as s (read_only)")
    claims = con.execute("select count(*) from s.marts.fct_claims").fetchall()[0][0]
    port = free_port()
    server = serve(args.data_dir, port)
    base = f"http://127.0.0.1:{port}"
    try:
        recorded = record(base, args.data_dir)
        for _name, _output, url, body in recorded:  # warm-up
            post(url, body)
            post(url, body)
        timings: dict[tuple[str, str], list[float]] = defaultdict(list)
        per_page: dict[str, list[float]] = defaultdict(list)
        for _ in range(args.rounds):
            for name, output, url, body in recorded:
                ms = post(url, body)
                timings[(name, output)].append(ms)
                per_page[name].append(ms)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
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
