"""The app under change: publishing while people browse, and no warehouse at all."""

import socket
import threading
import time
import urllib.request

from pipelines.lib.publish import publish_serving, serving_file
from tests.dashboards.conftest import screenshot, settle, start_server, stop_server
from tests.dashboards.test_browser import assert_clean

BROWSED = ["/", "/denials", "/ar", "/collections"]


def test_the_app_keeps_answering_while_a_new_build_is_published(dash_server, built_small, page):
    stop = threading.Event()
    published: list[object] = []
    failures: list[BaseException] = []

    def republish() -> None:
        while not stop.is_set():
            try:
                result = publish_serving(built_small.warehouse, serving_file(dash_server.root))
                published.append(result.published_at)
            except BaseException as error:  # the test reports it below
                failures.append(error)
                return

    thread = threading.Thread(target=republish)
    thread.start()
    try:
        for _ in range(3):
            for path in BROWSED:
                page.goto(dash_server.url + path)
                settle(page)
                assert page.locator(".notice-warning").count() == 0, page.url
                assert page.locator(".js-plotly-plot").count() >= 1
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    assert len(published) >= 3, "the publisher should have replaced the file several times"
    assert_clean(page)
    assert "Traceback" not in dash_server.output()


def test_no_warehouse_shows_how_to_load_data_then_the_first_publish(
    built_small, users_file, tmp_path, page
):
    root = tmp_path / "empty"
    root.mkdir()
    server = start_server(root, tmp_path / "serve.log", users_file)
    try:
        for path in ["/", "/denials", "/scheduling"]:
            page.goto(server.url + path)
            settle(page)
            warning = page.locator(".notice-warning").first.inner_text()
            assert "No data to show yet" in warning
            assert "rcm demo" in warning
        screenshot(page, "no-warehouse")
        assert_clean(page)

        publish_serving(built_small.warehouse, serving_file(root))
        page.goto(server.url + "/denials")
        settle(page)
        assert page.locator(".notice-warning").count() == 0
        assert "Traceback" not in server.output()
    finally:
        stop_server(server)


def test_many_idle_browser_connections_do_not_block_a_new_visitor(dash_server):
    """25 people's browsers keep about 150 connections open, most idle; waitress's default
    limit (100) made the next visitor wait for minutes (benchmarks/bench_load.py)."""
    address = dash_server.url.removeprefix("http://").split(":")
    idle = [socket.create_connection((address[0], int(address[1])), timeout=5) for _ in range(150)]
    try:
        started = time.monotonic()
        with urllib.request.urlopen(f"{dash_server.url}/login", timeout=20) as response:
            assert response.status == 200
        assert time.monotonic() - started < 10
    finally:
        for connection in idle:
            connection.close()
