"""Figure builders are pure: a DataFrame in, a figure in the house style out."""

from datetime import date
from decimal import Decimal

import polars as pl

from dashboards import figures
from dashboards.theme import PALETTE, TEMPLATE_NAME, days, money, percent


def test_formats_are_money_percent_and_days():
    assert money(Decimal("1234567.891")) == "$1,234,568"
    assert money(Decimal("-12.5"), cents=True) == "-$12.50"
    assert percent(Decimal("0.9534")) == "95.3 %"
    assert days(Decimal("41.26")) == "41.3 days"
    assert money(None) == percent(None) == "–"


def test_an_empty_frame_gives_a_figure_that_says_so():
    fig = figures.bar_chart(pl.DataFrame(), "x", "y", "Nothing", "money")
    assert fig.layout.annotations[0].text == "No data for these filters"


def test_bars_keep_exact_totals_per_series_and_use_the_palette():
    df = pl.DataFrame(
        {
            "month": [date(2026, 1, 1), date(2026, 1, 1), date(2026, 2, 1)],
            "source": ["Payer", "Patient", "Payer"],
            "amount": [Decimal("10.10"), Decimal("2.02"), Decimal("5.00")],
        }
    )
    fig = figures.bar_chart(df, "month", "amount", "Payments", "money", color="source")
    assert [t.name for t in fig.data] == ["Payer", "Patient"]
    assert list(fig.data[0].y) == [10.10, 5.0]
    assert fig.data[0].marker.color == PALETTE[0]
    assert fig.layout.template.layout.colorway == tuple(PALETTE)
    assert fig.layout.yaxis.tickformat == "$,.0f"
    assert TEMPLATE_NAME == "rcm"


def test_pareto_sorts_and_accumulates_to_one():
    df = pl.DataFrame({"cause": ["a", "b", "c"], "code": ["A", "B", "C"], "n": [1, 5, 4]})
    fig = figures.pareto(df, "cause", "n", "Pareto", "count", key="code")
    assert list(fig.data[0].x) == ["b", "c", "a"]
    assert list(fig.data[0].customdata) == ["B", "C", "A"]
    assert fig.data[1].y[-1] == 1.0
