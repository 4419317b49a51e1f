"""Fixtures of the pipeline tests: the small practice's build published to a data folder,
and one Chromium for every chart the report tests draw."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.lib.publish import publish_serving, serving_file


@pytest.fixture(scope="session")
def published_small(built_small, tmp_path_factory) -> Path:
    """A data folder whose warehouse/serving.duckdb is the small practice's published
    build (tests read it, and write reports into its reports/ folder only)."""
    assert built_small.returncode == 0, built_small.log[-4000:]
    root = tmp_path_factory.mktemp("published_small")
    publish_serving(built_small.warehouse, serving_file(root))
    return root


@pytest.fixture(scope="session")
def chart_browser() -> Iterator[None]:
    """kaleido's server started once for the session: every report run finds it running
    and leaves it alone, so the tests start Chromium once (as one report run does)."""
    from pipelines.lib.report.charts import ChartRenderer

    renderer = ChartRenderer()
    with renderer:
        renderer.start()
        yield
