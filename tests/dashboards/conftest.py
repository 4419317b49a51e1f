"""Dashboard fixtures: the small practice published to a serving file, the real app served
by ``rcm serve`` in its own process, and Debian's headless Chromium driven by Playwright."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

from pipelines.lib.publish import publish_serving, serving_file

CHROMIUM = Path(os.environ.get("RCM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "data" / "screenshots"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    root: Path
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


# Test-only users, one per role; the password is a test fixture, not a secret.
TEST_PASSWORD = "correct horse battery staple"
TEST_USERS = {
    "test-owner": "owner",
    "test-manager": "practice_manager",
    "test-billing": "billing_lead",
}


@pytest.fixture(scope="session")
def users_file(tmp_path_factory) -> Path:
    """A users file with :data:`TEST_USERS` (pbkdf2 hashes: quicker than scrypt in tests)."""
    from werkzeug.security import generate_password_hash

    from dashboards.auth.users import User, save_users

    path = tmp_path_factory.mktemp("users") / "users.toml"
    os.environ["RCM_USERS_FILE"] = str(path)
    try:
        hashed = generate_password_hash(TEST_PASSWORD, method="pbkdf2:sha256:60000")
        save_users(path.parent, {n: User(n, r, hashed) for n, r in TEST_USERS.items()})
    finally:
        del os.environ["RCM_USERS_FILE"]
    return path


def sign_in(tab, user: str = "test-owner", password: str = TEST_PASSWORD) -> None:
    """Fill in the sign-in form the server redirected to; it sends the browser back."""
    tab.fill("#username", user)
    tab.fill("#password", password)
    with tab.expect_navigation():
        tab.click("#sign-in")


def start_server(root: Path, log: Path, users: Path, **env_extra: str) -> Server:
    port = free_port()
    env = {**os.environ, "RCM_DATA_DIR": str(root), "RCM_USERS_FILE": str(users), **env_extra}
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rcm serve exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2) as response:
                if response.status == 200:
                    return Server(url, root, process, log)
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"rcm serve did not answer in 60 s: {log.read_text()[-3000:]}")


def stop_server(server: Server) -> None:
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(server.process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def served_small(built_small, tmp_path_factory) -> Path:
    """A data folder whose serving file is the small practice's published warehouse."""
    assert built_small.returncode == 0, built_small.log[-4000:]
    root = tmp_path_factory.mktemp("served")
    publish_serving(built_small.warehouse, serving_file(root))
    return root


@pytest.fixture(scope="session")
def dash_server(served_small: Path, users_file: Path, tmp_path_factory) -> Iterator[Server]:
    server = start_server(served_small, tmp_path_factory.mktemp("logs") / "serve.log", users_file)
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the test set-up (make test) installs Debian's chromium",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Console:
    """What the browser said: console errors and warnings, page errors, failed responses."""

    messages: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [m for m in self.messages if m.startswith(("error", "pageerror", "http"))]


@pytest.fixture
def page(browser, request):
    """A tab that signs in as the owner whenever the server asks (the first page load)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    tab = signing_in(context.new_page())
    console = Console()
    tab.on("console", lambda m: console.messages.append(f"{m.type}: {m.text}"))
    tab.on("pageerror", lambda e: console.messages.append(f"pageerror: {e}"))
    tab.on(
        "response",
        lambda r: console.messages.append(f"http {r.status}: {r.url}") if r.status >= 400 else None,
    )
    tab.console = console  # type: ignore[attr-defined]
    # callbacks in flight, so settle() knows when Dash has finished answering
    tab.in_flight = 0  # type: ignore[attr-defined]

    def started(request) -> None:
        if "/_dash-update-component" in request.url:
            tab.in_flight += 1  # type: ignore[attr-defined]

    def ended(request) -> None:
        if "/_dash-update-component" in request.url:
            tab.in_flight -= 1  # type: ignore[attr-defined]

    tab.on("request", started)
    tab.on("requestfinished", ended)
    tab.on("requestfailed", ended)
    yield tab
    context.close()


def signing_in(tab, user: str = "test-owner"):
    """``tab`` whose ``goto`` answers the sign-in page, if it comes, as ``user``."""
    original_goto = tab.goto

    def goto(url: str, **kwargs):
        response = original_goto(url, **kwargs)
        if urlparse(tab.url).path == "/login":
            sign_in(tab, user)
        return response

    tab.goto = goto
    return tab


def settle(tab, timeout_ms: int = 30000, quiet_ms: int = 400) -> None:
    """Wait until Dash has answered: no callback request in flight for ``quiet_ms`` (a
    callback's answer can start another, so one quiet moment is not enough), nothing
    marked loading, and the page loaded."""
    tab.wait_for_load_state("load", timeout=timeout_ms)
    # the page itself rendered (every page has a heading): before that, Dash may not have
    # sent its first callback yet, and a quiet network means nothing
    tab.locator("#_pages_content h1").first.wait_for(timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    quiet_since = None
    while time.monotonic() < deadline:
        tab.wait_for_timeout(50)  # lets Playwright deliver request events
        busy = getattr(tab, "in_flight", 0) > 0 or tab.evaluate(
            "() => !!document.querySelector('[data-dash-is-loading=\"true\"]')"
        )
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
            # and every chart on the page has been drawn
            tab.wait_for_function(
                "() => Array.from(document.querySelectorAll('.dash-graph'))"
                ".every(g => g.querySelector('.main-svg'))",
                timeout=timeout_ms,
            )
            return
    raise TimeoutError(f"Dash still busy after {timeout_ms} ms on {tab.url}")


def screenshot(tab, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path
