"""The report's charts: the dashboards' figure builders (:mod:`dashboards.figures`, house
template ``rcm``) drawn to PNG by kaleido in Debian's Chromium.

Chromium starts once per report run (``kaleido.start_sync_server()``: about 0.1–0.5 s per
image after the first, instead of seconds per image with a browser each time; stack-notes).
:class:`ChartRenderer` starts it when it is not running yet and stops it afterwards only if
it started it, so a run that writes several reports (practice and locations) or a test
session shares one browser.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import threading
from types import TracebackType

import plotly.graph_objects as go
import polars as pl

from dashboards import figures
from dashboards.theme import FAMILY_COLOURS, GRID, MUTED, PALETTE
from pipelines.lib.report.model import Report

# drawn at this size in CSS pixels and placed at the page's text width (about 7.3 in),
# so the template's 13 px text prints at about 8.5 pt; scale 2 keeps it sharp
CHART_WIDTH = 800
SCALE = 2
TIMEOUT = 120  # seconds for one image, the browser's start included
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
AVOIDABILITY = {
    "yes": ("avoidable", PALETTE[5]),
    "partly": ("partly avoidable", PALETTE[1]),
    "mostly_not": ("mostly not avoidable", PALETTE[0]),
    "unknown": ("unclassified", MUTED),
}


class _DropPartialReads(logging.Filter):
    """choreographer logs a traceback when a read from Chromium's pipe ends mid-message
    and it ignores that message ("JSONError decoding message. Ignoring"); seen now and
    then when the browser starts or stops, with every image drawn. Dropped, so a report
    run does not print a traceback for it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("JSONError decoding message")


class ChartError(RuntimeError):
    """Charts cannot be drawn (no Chromium, or kaleido failed): the message says what to do."""


def browser_path() -> str | None:
    """``BROWSER_PATH`` if set, else the first Chromium or Chrome on the PATH."""
    configured = os.environ.get("BROWSER_PATH")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


class ChartRenderer:
    """PNG bytes of Plotly figures from one kaleido server (one Chromium) per run. The
    browser starts with the first chart, so a report without charts (a month without
    data) never starts it."""

    def __init__(self) -> None:
        self._owner = False
        self._checked = False

    def __enter__(self) -> ChartRenderer:
        return self

    def start(self) -> None:
        """Start Chromium now (else the first chart starts it)."""
        import kaleido

        if not self._checked:
            path = browser_path()
            if path is None:
                # checked here: a server whose browser cannot start waits for ever
                raise ChartError(
                    "no Chromium for the report's charts: install Debian's chromium "
                    "(`apt-get install chromium`; `make demo` and `make test` do) or set "
                    "BROWSER_PATH to a Chrome or Chromium executable"
                )
            os.environ.setdefault("BROWSER_PATH", path)
            # after importing kaleido: choreographer's loggers are of logistro's own class
            pipe_log = logging.getLogger("choreographer.channels.pipe")
            if not any(isinstance(f, _DropPartialReads) for f in pipe_log.filters):
                pipe_log.addFilter(_DropPartialReads())
            self._checked = True
        if not kaleido._global_server.is_running():
            # no MathJax (it would be fetched from a CDN); the plotly.js of plotly.py
            kaleido.start_sync_server(n=1, timeout=60, mathjax=False, silence_warnings=True)
            self._owner = True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._owner:
            import kaleido

            kaleido.stop_sync_server(silence_warnings=True)
            self._owner = False

    def png(self, fig: go.Figure, height: int, width: int = CHART_WIDTH) -> bytes:
        """The figure as PNG bytes. Waits at most ``TIMEOUT`` seconds: kaleido's server
        waits for ever for a browser that died, so the call runs in a daemon thread."""
        import kaleido

        self.start()
        answer: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=1)

        def draw() -> None:
            try:
                answer.put(
                    kaleido.calc_fig_sync(
                        fig.to_plotly_json(),
                        opts={"format": "png", "width": width, "height": height, "scale": SCALE},
                    )
                )
            except BaseException as error:  # handed to the caller below
                answer.put(error)

        threading.Thread(target=draw, name="report-chart", daemon=True).start()
        title = fig.layout.title.text
        try:
            result = answer.get(timeout=TIMEOUT)
        except queue.Empty:
            raise ChartError(
                f"kaleido drew nothing for {title!r} in {TIMEOUT} s: is Chromium "
                f"({os.environ.get('BROWSER_PATH')}) able to start here?"
            ) from None
        if isinstance(result, BaseException):
            raise ChartError(f"kaleido could not draw {title!r}: {result}") from result
        return result


def _print_layout(fig: go.Figure, height: int) -> go.Figure:
    """The screen figure, set for paper: a fixed size, tighter margins, the title clear of
    the image's edge."""
    fig.update_layout(
        height=height,
        width=CHART_WIDTH,
        margin={"l": 60, "r": 10, "t": 40, "b": 40},
        title={"x": 0.005},
    )
    return fig


def trend_figure(report: Report) -> go.Figure:
    fig = figures.line_chart(
        report.trend,
        "month_start",
        "amount",
        "Charges (by service month) and collections (by posting month)",
        "money",
        color="series",
    )
    fig.update_xaxes(tickformat="%b %Y", dtick="M1" if report.trend.height <= 3 * 6 else "M2")
    return _print_layout(fig, 320)


def aging_figure(report: Report) -> go.Figure:
    when = f"{report.ar.snapshot_date:%-d %b %Y}" if report.ar.snapshot_date else ""
    fig = figures.bar_chart(
        report.aging,
        "aging_bucket",
        "balance",
        f"A/R by age and payer class, {when}",
        "money",
        color="payer_class",
        x_title="days since service",
    )
    return _print_layout(fig, 300)


def causes_figure(report: Report, top: int = 8) -> go.Figure:
    """Dollars at stake per root cause, largest on top, coloured by avoidability."""
    causes = report.causes.head(top)
    order: list[str] = []
    if causes.height:
        causes = causes.with_columns(
            pl.col("avoidability").fill_null("unknown"),
            pl.col("root_cause_label").fill_null("Unclassified"),
        )
        order = causes["root_cause_label"].to_list()  # largest first
        # one trace per avoidability, in the legend's order: avoidable first
        rank = {k: i for i, k in enumerate(AVOIDABILITY)}
        causes = causes.sort(
            pl.col("avoidability").replace_strict(rank, default=len(rank)), maintain_order=True
        ).with_columns(
            pl.col("avoidability").replace_strict(
                {k: v[0] for k, v in AVOIDABILITY.items()}, default="unclassified"
            )
        )
    fig = figures.bar_chart(
        causes,
        "root_cause_label",
        "amount_at_stake",
        f"Denials: dollars at stake by root cause, {report.month_text}",
        "money",
        color="avoidability",
        horizontal=True,
        colors={label: colour for label, colour in AVOIDABILITY.values()},
        height=300,
    )
    fig.update_layout(legend={"traceorder": "normal"})
    if order:
        fig.update_yaxes(categoryorder="array", categoryarray=order)
    fig.update_xaxes(gridcolor=GRID)
    return _print_layout(fig, 300)


def em_figure(report: Report) -> go.Figure:
    months = report.trend_months
    span = f", {months[0]:%b %Y} – {months[1]:%b %Y}" if months else ""
    curves = report.em_curve
    if curves.height:  # the query's name for the whole selection, as this report names it
        whole = "Whole practice" if report.location_id is None else report.scope.split(": ")[-1]
        curves = curves.with_columns(pl.col("segment_name").replace("All selected visits", whole))
    fig = figures.em_curve(
        curves, f"Office E/M level curve against the family-medicine benchmark{span}"
    )
    return _print_layout(fig, 320)


def families_figure(report: Report) -> go.Figure:
    fig = figures.bar_chart(
        report.families_by_provider,
        "segment",
        "visits",
        f"Visit families by provider, {report.month_text}",
        "count",
        color="visit_family",
        colors=FAMILY_COLOURS,
        normalise=True,
        horizontal=True,
        height=280,
    )
    return _print_layout(fig, 280)
