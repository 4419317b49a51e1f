"""What a browser asks the dashboards for, recorded once in Chromium and replayed by the
dashboard benchmarks (``bench_dashboards.py``: one request at a time; ``bench_load.py``:
many signed-in users at once).

The dashboards are behind sign-in (``dashboards/auth/web.py``): a benchmark makes its own
users file, starts ``rcm serve`` with it, signs the browser in through the real form to
record, and signs every replaying client in the same way (a ``requests.Session`` keeps the
``rcm_session`` cookie: over plain http it is not Secure, so any cookie jar sends it).

A page view is recorded as the callback requests it made, each with its *wave*: 0 for those
the browser sent before any answer came back, otherwise one more than the latest wave
whose answer arrived before it was sent (a callback whose input is another's output).
Replaying wave by wave, each wave's requests at once, is what the browser does.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import requests

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("RCM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
BENCH_PASSWORD = "benchmark only: not a secret"
"""Every benchmark user's password (the users file lives in a temporary folder)."""
BROWSER_CONNECTIONS = 6
"""Chromium's limit of connections to one host over HTTP/1.1: at most this many of a
page's callbacks are in flight at once."""
SHELL_OUTPUTS = ("_pages", "..shell-", "shell-")
"""Outputs of the app shell (page container, filter bar), answered on every page load."""
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class SignInError(RuntimeError):
    """The sign-in form did not give a session; the message says what came back."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_users(path: Path, roles: dict[str, str], password: str = BENCH_PASSWORD) -> Path:
    """A users file at ``path`` with one user per ``name: role``, all with ``password``
    hashed as `rcm users add` does (scrypt, so a sign-in costs what it costs in production;
    one hash for all: hashing 25 times would only slow the set-up)."""
    from dashboards.auth.users import User, hash_password, save_users

    hashed = hash_password(password)
    previous = os.environ.get("RCM_USERS_FILE")
    os.environ["RCM_USERS_FILE"] = str(path)  # save_users writes where this points
    try:
        save_users(path.parent, {n: User(n, r, hashed) for n, r in roles.items()})
    finally:
        if previous is None:
            del os.environ["RCM_USERS_FILE"]
        else:
            os.environ["RCM_USERS_FILE"] = previous
    return path


@dataclass
class Server:
    """``rcm serve`` running in its own process group, its output in ``log``."""

    url: str
    process: subprocess.Popen
    log: Path
    threads: int

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


def start_server(root: Path, users: Path, log: Path, threads: int = 8) -> Server:
    """``rcm serve --threads threads`` on a free port, on data folder ``root``; returns
    once the sign-in page answers."""
    port = free_port()
    env = {**os.environ, "RCM_DATA_DIR": str(root), "RCM_USERS_FILE": str(users)}
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "serve", "--port", str(port),
         "--threads", str(threads)],
        cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"rcm serve exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2) as response:
                if response.status == 200:
                    return Server(url, process, log, threads)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"rcm serve did not answer in 90 s:\n{log.read_text()[-3000:]}")


def sign_in(session: requests.Session, base: str, user: str, password: str = BENCH_PASSWORD):
    """Sign ``session`` in through the real form: GET /login (the form's CSRF token and the
    ``rcm_login`` cookie), POST it back; the answer must be a redirect that sets
    ``rcm_session``. Returns the POST's response."""
    form = session.get(f"{base}/login", timeout=60)
    match = _CSRF.search(form.text)
    if form.status_code != 200 or not match:
        raise SignInError(f"GET /login answered {form.status_code} without a CSRF token")
    answer = session.post(
        f"{base}/login",
        data={"username": user, "password": password, "csrf_token": match.group(1), "next": "/"},
        allow_redirects=False,
        timeout=60,
    )
    if answer.status_code not in (302, 303) or "rcm_session" not in session.cookies:
        raise SignInError(
            f"POST /login for {user} answered {answer.status_code}: {answer.text[:200]}"
        )
    return answer


def sign_in_browser(tab, base: str, user: str, password: str = BENCH_PASSWORD) -> None:
    """Sign a Playwright tab in through the form, as a person would."""
    tab.goto(f"{base}/login")
    tab.fill("#username", user)
    tab.fill("#password", password)
    with tab.expect_navigation():
        tab.click("#sign-in")
    if "/login" in tab.url:
        raise SignInError(f"the browser was not signed in as {user} (still on {tab.url})")


@dataclass(frozen=True)
class ViewSpec:
    """A page view to record: ``kind`` is what a user does (a page, ``drill-down``,
    ``claim``, ``export``), ``page`` the page it happens on, ``path`` with the query string.
    ``click`` is a button clicked once the page has loaded; then only the requests after
    the click belong to the view."""

    kind: str
    page: str
    path: str
    click: str | None = None


@dataclass(frozen=True)
class Callback:
    """One recorded callback request: its outputs, address (path and query) and body, and
    its wave in the page view."""

    output: str
    path: str
    body: bytes
    wave: int

    @property
    def label(self) -> str:
        """The outputs, shortened for a table."""
        return self.output[:60]

    @property
    def shell(self) -> bool:
        return self.output.startswith(SHELL_OUTPUTS)


@dataclass
class RecordedView:
    spec: ViewSpec
    callbacks: list[Callback] = field(default_factory=list)

    def waves(self) -> list[list[Callback]]:
        if not self.callbacks:
            return []
        out: list[list[Callback]] = [[] for _ in range(max(c.wave for c in self.callbacks) + 1)]
        for c in self.callbacks:
            out[c.wave].append(c)
        return [w for w in out if w]


def views(root: Path) -> list[ViewSpec]:
    """Page views to record: each page under several filters (none, a payer, a provider, a
    location, a payer class, the last three months), the denial drill-down by root cause and
    by CARC, three claims and the drill-down's CSV export."""
    from pipelines.lib import warehouse_files
    from pipelines.lib.publish import serving_file

    con = duckdb.connect(":memory:")
    warehouse_files.attach(con, serving_file(root), "s", read_only=True)
    payer, payer_class = con.execute(
        "select payer_id, payer_class from s.marts.dim_payer order by payer_id limit 1"
    ).fetchall()[0]
    provider = con.execute("select min(provider_npi) from s.marts.dim_provider").fetchall()[0][0]
    location = con.execute("select min(location_id) from s.marts.dim_location").fetchall()[0][0]
    last = con.execute("select max(month_start) from s.marts.fct_kpis_monthly").fetchall()[0][0]
    top = con.execute(
        "select root_cause, carc_code, min(claim_id) from s.marts.fct_denials "
        "group by 1, 2 order by count(*) desc, 1, 2 limit 3"
    ).fetchall()
    con.close()
    root_cause, carc, _claim = top[0]
    short = f"from={last.year}-{max(last.month - 2, 1):02d}&to={last:%Y-%m}"
    filters = ["", f"payer={payer}", f"provider={provider}", f"location={location}",
               f"payer_class={payer_class}", short]  # fmt: skip
    pages = {"overview": "/", "denials": "/denials", "ar": "/ar",
             "collections": "/collections", "visit-mix": "/visit-mix",
             "scheduling": "/scheduling"}  # fmt: skip
    out = [
        ViewSpec(name, name, f"{path}?{query}") for name, path in pages.items() for query in filters
    ]
    drill = f"/denials?root_cause={root_cause}"
    out.append(ViewSpec("drill-down", "denials", drill))
    out.append(ViewSpec("drill-down", "denials", f"{drill}&carc={carc}"))
    out += [ViewSpec("claim", "claim", f"/claims/{claim}") for _rc, _carc, claim in top]
    out.append(ViewSpec("export", "denials", drill, click="#denials-export"))
    return out


def record(base: str, root: Path, user: str, password: str = BENCH_PASSWORD) -> list[RecordedView]:
    """Open every view of :func:`views` in headless Chromium, signed in as ``user``, and keep
    the callback requests each one made, with their waves (from the browser's own timings)."""
    from playwright.sync_api import sync_playwright

    recorded: list[RecordedView] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        tab = browser.new_context(accept_downloads=True).new_page()
        sign_in_browser(tab, base, user, password)
        seen: list = []
        in_flight = [0]

        def sent(request) -> None:
            if "/_dash-update-component" in request.url:
                in_flight[0] += 1

        def failed(request) -> None:
            if "/_dash-update-component" in request.url:
                in_flight[0] -= 1

        def keep(request) -> None:
            if "/_dash-update-component" in request.url:
                in_flight[0] -= 1
                if request.post_data:
                    seen.append(request)

        tab.on("request", sent)
        tab.on("requestfinished", keep)
        tab.on("requestfailed", failed)
        for spec in views(root):
            seen.clear()
            tab.goto(base + spec.path)
            _settle(tab, in_flight)
            if spec.click:
                seen.clear()
                with tab.expect_download():
                    tab.click(spec.click)
                _settle(tab, in_flight)
            if not seen:
                raise RuntimeError(f"{spec.path} made no callback request in the browser")
            recorded.append(RecordedView(spec, _with_waves(seen, base)))
        browser.close()
    return recorded


def _settle(tab, in_flight: list[int], timeout_s: float = 120, quiet_ms: float = 500) -> None:
    """Wait until the page has rendered and Dash has answered everything: no callback in
    flight for ``quiet_ms`` and nothing marked loading. (``networkidle`` alone is not
    enough: on a busy machine the browser can be quiet for half a second while it runs the
    scripts, before the first callback is sent.)"""
    tab.wait_for_load_state("load", timeout=timeout_s * 1000)
    tab.locator("#_pages_content h1").first.wait_for(timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        tab.wait_for_timeout(50)  # lets Playwright deliver the request events
        busy = in_flight[0] > 0 or tab.evaluate(
            "() => !!document.querySelector('[data-dash-is-loading=\"true\"]')"
        )
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
            return
    raise TimeoutError(f"Dash still busy after {timeout_s:.0f} s on {tab.url}")


def _with_waves(requests_seen: list, base: str) -> list[Callback]:
    timed = []
    for request in requests_seen:
        timing = request.timing
        start = timing["startTime"]
        end = start + max(timing["responseEnd"], 0)
        timed.append((start, end, request))
    timed.sort(key=lambda t: t[0])
    waves: list[int] = []
    out: list[Callback] = []
    for i, (start, _end, request) in enumerate(timed):
        before = [waves[j] for j in range(i) if timed[j][1] <= start]
        waves.append(1 + max(before) if before else 0)
        body = json.loads(request.post_data)
        out.append(
            Callback(
                output=body["output"],
                path=request.url.removeprefix(base),
                body=request.post_data_buffer,
                wave=waves[-1],
            )
        )
    return out


def post_callback(
    session: requests.Session, base: str, callback: Callback
) -> tuple[int, bytes, float]:
    """Replay one callback request: (HTTP status, body, milliseconds to the last byte)."""
    started = time.perf_counter()
    response = session.post(
        base + callback.path,
        data=callback.body,
        headers={"Content-Type": "application/json"},
        timeout=120,
    )
    body = response.content
    return response.status_code, body, (time.perf_counter() - started) * 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
