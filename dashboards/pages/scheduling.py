"""Scheduling: appointment volume and outcomes, no-show rate (fct_kpis_monthly) and booking
lead time, by provider, weekday and month."""

import dash
import polars as pl
from dash import dcc, html

from dashboards import data, figures
from dashboards.components import figure_callback, graph, notice_callback, page_header
from dashboards.filters import Filters, kpi_segment

WEEKDAYS = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


def layout(**query: str) -> html.Div:
    return html.Div(
        [
            page_header(
                "Scheduling",
                "Appointment volume, no-shows and how far ahead "
                "patients book, by provider, weekday and month.",
            ),
            dcc.Store(id="scheduling-query", data=query),
            html.Div(id="scheduling-notice"),
            html.Div(
                [graph("scheduling-volume", 380), graph("scheduling-no-show-trend", 380)],
                className="grid-2",
            ),
            html.Div(
                [graph("scheduling-weekday", 380), graph("scheduling-provider", 380)],
                className="grid-2",
            ),
            html.Div(
                [graph("scheduling-lead-weekday", 360), graph("scheduling-lead-provider", 360)],
                className="grid-2",
            ),
        ]
    )


dash.register_page(
    __name__,
    path="/scheduling",
    name="Scheduling",
    title="Scheduling · rcm-warehouse",
    order=5,
    layout=layout,
)


def _weekday_names(df: pl.DataFrame) -> pl.DataFrame:
    if df.is_empty():
        return df
    return df.sort("segment").with_columns(
        pl.col("segment").replace_strict(WEEKDAYS, return_dtype=pl.Utf8)
    )


def _lead(df: pl.DataFrame) -> pl.DataFrame:
    if df.is_empty():
        return df
    return df.unpivot(index="segment", variable_name="measure", value_name="days").with_columns(
        pl.col("measure").replace_strict({"median_days": "median", "p90_days": "90th percentile"})
    )


def _no_show_trend(filters: Filters):
    segment = kpi_segment(filters)
    practice = data.kpi_months(segment, filters).with_columns(
        pl.lit(data.segment_label(segment)).alias("segment_name")
    )
    trend = practice.select("month_start", "segment_name", "no_show_rate")
    if not filters.provider_npi:
        by_provider = data.kpi_by_segment(
            "provider", filters, ["no_show_rate"], busiest=("appointments_due", 8)
        )
        trend = pl.concat(
            [trend, by_provider.select("month_start", "segment_name", "no_show_rate")],
            how="vertical_relaxed",
        )
    target = data.kpi_targets().get("no_show_rate", {}).get("target")
    return figures.line_chart(
        trend,
        "month_start",
        "no_show_rate",
        "No-show rate: the selection and its eight busiest providers",
        "rate",
        color="segment_name",
        target=target,
    )


FIGURES = {
    "scheduling-volume": lambda f: figures.bar_chart(
        data.appointments_by(f, "month"),
        "segment",
        "appointments",
        "Appointments by month and outcome",
        "count",
        color="appointment_status",
        x_title="month of appointment",
    ),
    "scheduling-no-show-trend": _no_show_trend,
    "scheduling-weekday": lambda f: figures.bar_chart(
        _weekday_names(data.appointments_by(f, "weekday")),
        "segment",
        "appointments",
        "Outcomes by weekday",
        "count",
        color="appointment_status",
        normalise=True,
        x_title="weekday",
    ),
    "scheduling-provider": lambda f: figures.bar_chart(
        data.appointments_by(f, "provider"),
        "segment",
        "appointments",
        "Appointments by provider and outcome",
        "count",
        color="appointment_status",
        horizontal=True,
    ),
    "scheduling-lead-weekday": lambda f: figures.bar_chart(
        _lead(_weekday_names(data.lead_times(f, "weekday"))),
        "segment",
        "days",
        "Booking lead time by weekday",
        "days",
        color="measure",
        barmode="group",
        x_title="weekday",
    ),
    "scheduling-lead-provider": lambda f: figures.bar_chart(
        _lead(data.lead_times(f, "provider")),
        "segment",
        "days",
        "Booking lead time by provider",
        "days",
        color="measure",
        barmode="group",
        horizontal=True,
    ),
}
for graph_id, build in FIGURES.items():
    figure_callback(graph_id, "scheduling-query", build)
notice_callback("scheduling-notice", "scheduling-query", lambda f: None)
