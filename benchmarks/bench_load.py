"""Dashboards under load: many signed-in users browsing while a new warehouse is published.

    .venv/bin/python benchmarks/bench_load.py --data-dir DIR [--users 25] [--duration 120]
        [--publishes 2] [--think 1 5] [--server-threads 8] [--seed 7]

DIR is a data folder with a published warehouse: the build file warehouse/rcm.duckdb and
the serving file warehouse/serving.duckdb. Make one with `RCM_DATA_DIR=DIR rcm demo
--no-serve` (a few minutes). The benchmark republishes DIR's serving file from its build
file (the same data) and appends sign-ins, claim views and exports to DIR's audit log.

What it does:

1. Writes a users file in a temporary folder (``--users`` users, roles taken in turn:
   owner, practice manager, billing lead) and starts `rcm serve --threads N` on DIR with it.
2. Signs headless Chromium in and records every page view's callback requests
   (benchmarks/_dashboard_requests.py): six pages under six filters each, the denial
   drill-down, three claims and the drill-down's CSV export.
3. Replays each recorded request once as a warm-up; those answers are the baseline.
4. Starts the users, one thread each with its own HTTP session, over the first few
   seconds. Each signs in through the real form (GET /login, the CSRF token, POST), loads
   the app (the page, /_dash-layout, /_dash-dependencies), then until ``--duration`` is up:
   picks a page view (weights in ``KIND_WEIGHTS``, then one of that kind's recorded views),
   replays its callbacks as the browser does (wave by wave, a wave's requests at once on at
   most six connections), then thinks for a uniform ``--think`` MIN..MAX seconds.
5. Meanwhile runs ``--publishes`` publications (publish_serving from the build file to the
   serving file, each in its own process), evenly spaced: at 1/3 and 2/3 of the run for 2.

An error is: a failed or timed-out request, an HTTP status other than the baseline's (every
baseline is 200, or 204 where Dash had nothing to update), an answer that updates nothing
where the baseline did (the export gives up that way), or an answer that says something
the baseline did not: "No data…", "No published warehouse", "cannot be read", an
``"error"`` key (a failing callback answers ``{"error": "internal error", ...}``), a
traceback. A failed publication is an error too. Exit code 1 if there was any.

Latency is wall time to the last byte, per callback request and per page view (first
request sent to last answer read). Server CPU is sampled once a second (100 % = one core).
The load generator runs on the same machine, so it competes with the server for CPU: its
own CPU time is shown, with the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests
from _dashboard_requests import (
    BROWSER_CONNECTIONS,
    Callback,
    RecordedView,
    Server,
    SignInError,
    percentile,
    post_callback,
    record,
    sign_in,
    start_server,
    write_users,
)

from pipelines.lib.publish import serving_file

ROLES = ("owner", "practice_manager", "billing_lead")
RECORDER = "load-recorder"
KIND_WEIGHTS = {
    "overview": 20, "denials": 12, "drill-down": 10, "ar": 12, "collections": 10,
    "visit-mix": 7, "scheduling": 7, "claim": 17, "export": 5,
}  # fmt: skip
"""How often a user does each kind of page view, in percent: mostly the overview, pages
under filters and claims looked up from a worklist; now and then an export."""
MARKERS = (
    "No data", "No published warehouse", "No warehouse published", "cannot be read",
    "cannot be opened", "not a published warehouse", '"error"', "Traceback",
)  # fmt: skip
"""Words in an answer that mean the user saw a failure (if the baseline did not say them)."""

_QUEUE_DEPTH = re.compile(r"Task queue depth is (\d+)")
_PUBLISH = """
import json, sys, time
from pathlib import Path
from pipelines.lib.publish import publish_serving
result = publish_serving(Path(sys.argv[1]), Path(sys.argv[2]))
print(json.dumps({"seconds": result.seconds, "bytes": result.bytes,
                  "published_at": result.published_at.strftime("%Y-%m-%d %H:%M UTC")}))
"""


@dataclass(frozen=True)
class Baseline:
    status: int
    markers: frozenset[str]
    empty: bool
    """Dash answered with nothing to update (``"response": {}``)."""


@dataclass
class Sample:
    """One request or page view: when it started (seconds into the run), what it was,
    how long it took (ms), and the error if it was one."""

    at: float
    kind: str
    ms: float
    error: str | None = None


@dataclass
class Publication:
    index: int
    planned: float
    started: float = 0.0
    ended: float = 0.0
    seconds: float = 0.0
    published_at: str = ""
    error: str | None = None


@dataclass
class Results:
    requests: list[Sample] = field(default_factory=list)
    views: list[Sample] = field(default_factory=list)
    sign_ins: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, bucket: list[Sample], sample: Sample) -> None:
        with self.lock:
            bucket.append(sample)

    def errors(self) -> list[Sample]:
        """Failed requests and sign-ins (a page view fails through its requests)."""
        return [s for s in self.requests + self.sign_ins if s.error]


def markers_in(body: bytes) -> frozenset[str]:
    text = body.decode("utf-8", errors="replace")
    return frozenset(m for m in MARKERS if m in text)


def is_empty(body: bytes) -> bool:
    """A Dash answer that updates nothing: what a callback that gave up returns (the
    export, when the warehouse cannot be read, answers 200 and nothing)."""
    try:
        return not json.loads(body or b"{}").get("response")
    except (ValueError, AttributeError):
        return False


def check(status: int, body: bytes, baseline: Baseline) -> str | None:
    """The error in this answer compared with the baseline, or None."""
    if status != baseline.status or status not in (200, 204):
        return f"HTTP {status}"
    if status == 200 and is_empty(body) and not baseline.empty:
        return "answer updates nothing"
    new = markers_in(body) - baseline.markers
    if new:
        return "answer says " + ", ".join(sorted(new))
    return None


def take_baseline(base: str, recorded: list[RecordedView]) -> dict[tuple[str, bytes], Baseline]:
    """Every recorded request replayed once (also the warm-up), by (address, body)."""
    session = requests.Session()
    sign_in(session, base, RECORDER)
    out: dict[tuple[str, bytes], Baseline] = {}
    for view in recorded:
        for callback in view.callbacks:
            key = (callback.path, callback.body)
            if key in out:
                continue
            status, body, _ms = post_callback(session, base, callback)
            markers = markers_in(body) & set(MARKERS[1:])  # "No data" for a filter is normal
            if status not in (200, 204) or markers:
                raise SystemExit(
                    f"before the load, {view.spec.path} ({callback.label}) answered "
                    f"HTTP {status} {sorted(markers)}: fix the data folder first"
                )
            out[key] = Baseline(status, markers_in(body), status == 204 or is_empty(body))
    return out


class User(threading.Thread):
    """One person: signs in, then browses until the end of the run."""

    def __init__(
        self,
        name: str,
        base: str,
        plan: dict[str, list[RecordedView]],
        baselines: dict[tuple[str, bytes], Baseline],
        results: Results,
        t0: float,
        start_after: float,
        stop_at: float,
        think: tuple[float, float],
        seed: int,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.base, self.plan, self.baselines, self.results = base, plan, baselines, results
        self.t0, self.start_after, self.stop_at, self.think = t0, start_after, stop_at, think
        self.random = random.Random(seed)
        self.kinds = [k for k in KIND_WEIGHTS if plan.get(k)]
        self.weights = [KIND_WEIGHTS[k] for k in self.kinds]

    def now(self) -> float:
        return time.monotonic() - self.t0

    def run(self) -> None:
        time.sleep(max(0.0, self.start_after - self.now()))
        session = requests.Session()
        started = self.now()
        clock = time.perf_counter()
        try:
            sign_in(session, self.base, self.name)
            for path in ("/", "/_dash-layout", "/_dash-dependencies"):  # the app's first load
                response = session.get(self.base + path, timeout=120)
                if response.status_code != 200:
                    raise SignInError(f"GET {path} answered {response.status_code}")
        except (SignInError, requests.RequestException) as error:
            self.results.add(
                self.results.sign_ins,
                Sample(started, "sign-in", 0.0, f"sign-in: {type(error).__name__}: {error}"),
            )
            return
        ms = (time.perf_counter() - clock) * 1000
        self.results.add(self.results.sign_ins, Sample(started, "sign-in", ms))
        with ThreadPoolExecutor(BROWSER_CONNECTIONS) as pool:
            while self.now() < self.stop_at:
                kind = self.random.choices(self.kinds, self.weights)[0]
                self.view(session, pool, kind, self.random.choice(self.plan[kind]))
                pause = self.random.uniform(*self.think)
                time.sleep(max(0.0, min(pause, self.stop_at - self.now())))

    def view(self, session, pool: ThreadPoolExecutor, kind: str, view: RecordedView) -> None:
        started = self.now()
        clock = time.perf_counter()
        errors: list[str] = []
        for wave in view.waves():
            for error in pool.map(lambda c: self.request(session, kind, c), wave):
                if error:
                    errors.append(error)
        ms = (time.perf_counter() - clock) * 1000
        self.results.add(
            self.results.views, Sample(started, kind, ms, errors[0] if errors else None)
        )

    def request(self, session, kind: str, callback: Callback) -> str | None:
        started = self.now()
        try:
            status, body, ms = post_callback(session, self.base, callback)
            error = check(status, body, self.baselines[(callback.path, callback.body)])
        except requests.RequestException as exc:
            ms, error = (self.now() - started) * 1000, f"request failed: {type(exc).__name__}"
        if error:
            error = f"{error} ({kind}: {callback.label[:40]})"
        self.results.add(self.results.requests, Sample(started, kind, ms, error))
        return error


def publisher(
    root: Path, publications: list[Publication], t0: float, stop: threading.Event
) -> None:
    """Each publication at its planned time, in a process of its own."""
    build, serving = root / "warehouse" / "rcm.duckdb", serving_file(root)
    for publication in publications:
        if stop.wait(max(0.0, publication.planned - (time.monotonic() - t0))):
            return
        publication.started = time.monotonic() - t0
        done = subprocess.run(
            [sys.executable, "-c", _PUBLISH, str(build), str(serving)],
            capture_output=True,
            text=True,
            env=os.environ,
        )
        publication.ended = time.monotonic() - t0
        if done.returncode != 0:
            publication.error = f"publish failed: {done.stderr.strip().splitlines()[-1:]}"
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        publication.seconds, publication.published_at = result["seconds"], result["published_at"]


@dataclass
class CpuSamples:
    server: list[float] = field(default_factory=list)
    machine: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)


def sample_cpu(server: Server, samples: CpuSamples, stop: threading.Event) -> None:
    """Server CPU (its process and children; 100 % = one core) and memory, and the whole
    machine's CPU (100 % = every core busy), once a second."""
    process = psutil.Process(server.process.pid)

    def tree() -> list[psutil.Process]:
        return [process, *process.children(recursive=True)]

    def busy() -> float:
        return sum(sum(p.cpu_times()[:2]) for p in tree())

    psutil.cpu_percent()
    last, last_at = busy(), time.monotonic()
    while not stop.wait(1.0):
        try:
            now, now_at = busy(), time.monotonic()
            samples.server.append(100 * (now - last) / (now_at - last_at))
            samples.rss.append(sum(p.memory_info().rss for p in tree()))
            samples.machine.append(psutil.cpu_percent())
            last, last_at = now, now_at
        except psutil.Error:
            return


def stats(values: list[float]) -> str:
    if not values:
        return "|      – |      – |      – |      – |"
    return (
        f"| {statistics.median(values):>6.0f} | {percentile(values, 0.95):>6.0f} | "
        f"{percentile(values, 0.99):>6.0f} | {max(values):>6.0f} |"
    )


def report(
    args: argparse.Namespace,
    server: Server,
    recorded: list[RecordedView],
    results: Results,
    publications: list[Publication],
    cpu: CpuSamples,
    wall: float,
    client_cpu: float,
    loads: tuple[tuple[float, ...], tuple[float, ...]],
    switched: bool | None,
    log_lines: list[str],
) -> int:
    reqs, views = results.requests, results.views
    errors = results.errors()
    publish_errors = [p for p in publications if p.error]
    total_errors = len(errors) + len(publish_errors) + (switched is False)
    serving = serving_file(args.data_dir)
    print(
        f"\ndata: {args.data_dir} (serving file {serving.stat().st_size / 2**20:.0f} MiB); "
        f"rcm serve --threads {server.threads} (waitress); {len(recorded)} recorded page views, "
        f"{sum(len(v.callbacks) for v in recorded)} callback requests"
    )
    print(
        f"{args.users} users, think {args.think[0]:g}-{args.think[1]:g} s, a page view's "
        f"callbacks wave by wave, up to {BROWSER_CONNECTIONS} at once per user\n"
    )
    print("| users | duration s | requests | page views | errors | requests/s | views/s |")
    print("|------:|-----------:|---------:|-----------:|-------:|-----------:|--------:|")
    print(
        f"| {args.users:>5} | {wall:>10.0f} | {len(reqs):>8} | {len(views):>10} | "
        f"{total_errors:>6} | {len(reqs) / wall:>10.1f} | {len(views) / wall:>7.2f} |\n"
    )
    print("| latency ms            | count  |    p50 |    p95 |    p99 |    max |")
    print("|-----------------------|-------:|-------:|-------:|-------:|-------:|")
    sign_in_ms = [s.ms for s in results.sign_ins if not s.error]
    windows = [(p.started, p.ended + 1.0) for p in publications if p.ended]

    def during(sample: Sample) -> bool:
        return any(a <= sample.at <= b for a, b in windows)

    rows = [
        ("per request", [s.ms for s in reqs]),
        ("per page view", [s.ms for s in views]),
        ("  requests in publish", [s.ms for s in reqs if during(s)]),
        ("  requests otherwise", [s.ms for s in reqs if not during(s)]),
        ("sign-in + app load", sign_in_ms),
    ]
    for label, values in rows:
        print(f"| {label:<21} | {len(values):>6} {stats(values)}")
    print(
        "\n| page view     | views | requests | errors | view p50 | view p95 | view max | request p95 |"
    )
    print(
        "|---------------|------:|---------:|-------:|---------:|---------:|---------:|------------:|"
    )
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    req_by_kind: dict[str, list[Sample]] = defaultdict(list)
    for s in views:
        by_kind[s.kind].append(s)
    for s in reqs:
        req_by_kind[s.kind].append(s)
    for kind in KIND_WEIGHTS:
        vs, rs = by_kind.get(kind, []), req_by_kind.get(kind, [])
        if not vs:
            continue
        ms = [s.ms for s in vs]
        print(
            f"| {kind:<13} | {len(vs):>5} | {len(rs):>8} | {sum(1 for s in rs if s.error):>6} | "
            f"{statistics.median(ms):>8.0f} | {percentile(ms, 0.95):>8.0f} | {max(ms):>8.0f} | "
            f"{percentile([s.ms for s in rs], 0.95):>11.0f} |"
        )
    print(f"\npublications during the run: {sum(1 for p in publications if p.ended)}")
    for p in publications:
        if not p.ended:
            print(f"  #{p.index}: planned at {p.planned:.0f} s, not run (the run ended first)")
            continue
        in_window = [s for s in reqs if p.started <= s.at <= p.ended + 1.0]
        what = p.error or (
            f"published in {p.seconds:.1f} s ({p.published_at}); {len(in_window)} requests "
            f"meanwhile, {sum(1 for s in in_window if s.error)} errors"
        )
        print(f"  #{p.index}: {p.started:.1f}-{p.ended:.1f} s into the run: {what}")
    if switched is not None:
        print(
            "  the dashboards show the last publication afterwards: "
            + ("yes" if switched else "NO (error)")
        )
    if cpu.server:
        per_request = sum(cpu.server) / 100 / max(len(reqs), 1) * 1000  # 1 s samples
        print(
            f"\nserver CPU: mean {statistics.mean(cpu.server):.0f} %, max {max(cpu.server):.0f} % "
            f"(100 % = one core), {per_request:.0f} ms of CPU per request; memory "
            f"{cpu.rss[0] / 2**20:.0f} → {cpu.rss[-1] / 2**20:.0f} MiB (max {max(cpu.rss) / 2**20:.0f})"
        )
        print(
            f"machine: {psutil.cpu_count()} cores, mean {statistics.mean(cpu.machine):.0f} % busy; "
            f"load average {loads[0][0]:.1f} before, {loads[1][0]:.1f} after; this load "
            f"generator used {client_cpu:.0f} % of a core"
        )
    queued = [int(m.group(1)) for m in map(_QUEUE_DEPTH.search, log_lines) if m]
    if queued:
        print(
            f"waitress warned {len(queued)} times that requests waited for one of its "
            f"{server.threads} threads (queue depth up to {max(queued)})"
        )
    log_errors = [line for line in log_lines if re.search(r"\berror\b|Traceback", line, re.I)]
    if log_errors:
        print(f"\nserver log: {len(log_errors)} error lines, e.g. {log_errors[0][:200]}")
    if total_errors:
        failed_views = sum(1 for v in views if v.error)
        print(f"\nERRORS: {total_errors} (page views that met one: {failed_views})")
        for message, count in Counter(s.error for s in errors).most_common(10):
            print(f"  {count:>5} × {message}")
        for p in publish_errors:
            print(f"      1 × {p.error}")
        return 1
    print("\nno errors")
    return 0


def shows_publication(
    base: str, recorded: list[RecordedView], publications: list[Publication]
) -> bool | None:
    """Whether the filter bar's 'published …' stamp, asked for now, is the last
    publication's (the server switched to the new file)."""
    last = next((p for p in reversed(publications) if p.published_at), None)
    stamp = next((c for v in recorded for c in v.callbacks if "shell-published" in c.output), None)
    if last is None or stamp is None:
        return None
    session = requests.Session()
    sign_in(session, base, RECORDER)
    _status, body, _ms = post_callback(session, base, stamp)
    return last.published_at in body.decode("utf-8", errors="replace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--users", type=int, default=25)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds")
    parser.add_argument("--publishes", type=int, default=2)
    parser.add_argument(
        "--think", type=float, nargs=2, default=(1.0, 5.0), metavar=("MIN", "MAX"),
        help="seconds a user spends on a page before the next (uniform)",
    )  # fmt: skip
    parser.add_argument("--server-threads", type=int, default=8, help="rcm serve --threads")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    root = args.data_dir
    for needed in (root / "warehouse" / "rcm.duckdb", serving_file(root)):
        if not needed.exists():
            raise SystemExit(
                f"{needed} is missing: make a demo data folder with "
                f"`RCM_DATA_DIR={root} rcm demo --no-serve`"
            )
    names = {f"load-{i + 1:02d}": ROLES[i % len(ROLES)] for i in range(args.users)}
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        users = write_users(Path(tmp) / "users.toml", {**names, RECORDER: "owner"})
        server = start_server(root, users, Path(tmp) / "serve.log", args.server_threads)
        try:
            print("recording page views in Chromium…", flush=True)
            recorded = record(server.url, root, RECORDER)
            print("warming up (every recorded request once)…", flush=True)
            baselines = take_baseline(server.url, recorded)
            plan: dict[str, list[RecordedView]] = defaultdict(list)
            for view in recorded:
                plan[view.spec.kind].append(view)

            results, cpu = Results(), CpuSamples()
            stop = threading.Event()
            loads_before = os.getloadavg()
            print(f"{args.users} users for {args.duration:g} s…", flush=True)
            t0 = time.monotonic()
            client_before = sum(psutil.Process().cpu_times()[:2])
            monitor = threading.Thread(target=sample_cpu, args=(server, cpu, stop), daemon=True)
            monitor.start()
            publications = [
                Publication(i + 1, args.duration * (i + 1) / (args.publishes + 1))
                for i in range(args.publishes)
            ]
            publishing = threading.Thread(
                target=publisher, args=(root, publications, t0, stop), daemon=True
            )
            publishing.start()
            ramp = min(args.think[1], args.duration / 10)
            people = [
                User(
                    name,
                    server.url,
                    plan,
                    baselines,
                    results,
                    t0,
                    i * ramp / args.users,
                    args.duration,
                    tuple(args.think),
                    args.seed * 1000 + i,
                )
                for i, name in enumerate(names)
            ]
            for person in people:
                person.start()
            for person in people:
                person.join()
            publishing.join()  # a publication still running is waited for
            wall = time.monotonic() - t0
            client_cpu = 100 * (sum(psutil.Process().cpu_times()[:2]) - client_before) / wall
            stop.set()
            monitor.join()
            loads_after = os.getloadavg()
            switched = shows_publication(server.url, recorded, publications)
        finally:
            server.stop()
        log_lines = server.log.read_text(errors="replace").splitlines()
    code = report(
        args, server, recorded, results, publications, cpu, wall, client_cpu,
        (loads_before, loads_after), switched, log_lines,
    )  # fmt: skip
    raise SystemExit(code)


if __name__ == "__main__":
    main()
