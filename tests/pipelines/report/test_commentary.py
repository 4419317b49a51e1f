"""The commentary rules on hand-made reports: each sentence quotes the report's numbers as
the dashboards format them, and each rule speaks only when its numbers say so."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from pipelines.lib.report.commentary import write
from pipelines.lib.report.model import (
    ArSummary,
    DenialSummary,
    KpiLine,
    MoneyLine,
    PayerLine,
    Report,
    RootCauseLine,
    WeekActivity,
)

D = Decimal


def kpi(name: str, value, previous, target=None, direction="higher", unit="rate", **kw):
    labels = {
        "net_collection_rate": ("Net collection rate", "95 % or more"),
        "days_in_ar": ("Days in A/R", "under 40 days"),
        "ar_over_90_pct": ("A/R over 90 days", "under 15 %"),
        "initial_denial_rate": ("Initial denial rate", "under 5 %"),
        "clean_claim_rate": ("Clean claim rate", "95 % or more"),
        "no_show_rate": ("No-show rate", "under 8 %"),
        "gross_collection_rate": ("Gross collection rate", ""),
    }
    label, target_text = labels[name]
    return KpiLine(name, label, unit, direction, value, previous, target, target_text, **kw)


def cause(key, label, n, amount, prev_n=0, prev_amount="0.00", avoidability="yes"):
    return RootCauseLine(key, label, avoidability, n, D(amount), prev_n, D(prev_amount))


def base(**changes) -> Report:
    report = Report(
        kind="monthly",
        practice_name="Lakeview Family Medicine",
        month=date(2026, 3, 1),
        scope="Whole practice",
        has_data=True,
        snapshot_date=date(2026, 3, 31),
        as_of=date(2026, 4, 2),
        data_months=(date(2025, 1, 1), date(2026, 4, 1)),
        kpis=(
            kpi("net_collection_rate", 0.41, 0.80, 0.95, judged=False),
            kpi("gross_collection_rate", 0.931, 0.925),
            kpi("days_in_ar", 36.6, 41.8, 40.0, "lower", "days"),
            kpi("ar_over_90_pct", 0.141, 0.120, 0.15, "lower"),
            kpi("initial_denial_rate", 0.087, 0.081, 0.05, "lower"),
            kpi("clean_claim_rate", 0.913, 0.919, 0.95),
            kpi("no_show_rate", 0.0802, 0.073, 0.08, "lower"),
        ),
        money=(
            MoneyLine("Charges", D("570917.00"), D("591649.00")),
            MoneyLine("Collections", D("514614.49"), D("435446.00")),
            MoneyLine("  from payers", D("451491.12"), D("380906.00")),
            MoneyLine("  from patients", D("63123.37"), D("54540.00")),
        ),
        denials=DenialSummary(
            denials=305,
            amount_at_stake=D("50676.00"),
            avoidable_denials=257,
            avoidable_amount=D("44343.00"),
            avoidable_share=44343 / 50676,
            previous_denials=246,
            previous_amount=D("39038.00"),
            causes=(
                cause(
                    "eligibility_registration",
                    "Eligibility / registration",
                    40,
                    "7952.00",
                    36,
                    "7911.00",
                ),
                cause(
                    "non_covered",
                    "Non-covered / benefit limit",
                    48,
                    "6333.00",
                    35,
                    "4772.00",
                    "mostly_not",
                ),
                cause(
                    "authorization_referral",
                    "Authorization / referral",
                    27,
                    "5650.00",
                    12,
                    "2241.00",
                ),
            ),
        ),
        ar=ArSummary(date(2026, 3, 31), D("723308.20"), D("102100.40"), 0.141, 0.120),
        payers=(
            PayerLine("MCD", "State Medicaid", D("57977.00"), 552, 38.8, 0.118, 0.0, 0.55),
            PayerLine("BLUE", "Summit BlueCross", D("121328.00"), 738, 24.9, 0.057, 0.30, 1.1),
            PayerLine("TINY", "Tiny Plan", D("10.00"), 3, 90.0, 0.9, 0.0, 0.1),
        ),
        ncr_mature=(date(2025, 12, 1), 0.969),
    )
    return replace(report, **changes)


def texts(report: Report, rule: str | None = None) -> list[str]:
    return [s.text for s in write(report) if rule is None or s.rule == rule]


def test_rules_run_in_order_and_quote_the_numbers():
    sentences = write(base())
    assert [s.rule for s in sentences] == [
        "money",
        "movers",
        "movers",
        "targets",
        "ncr_runout",
        "top_root_cause",
        "rising_root_cause",
        "avoidable",
        "ar_over_90",
        "payers",
    ]
    assert sentences[0].text == (
        "In March 2026 the practice billed $570,917 in charges and collected $514,614: "
        "$451,491 from payers and $63,123 from patients."
    )


def test_movers_are_the_two_biggest_moves_past_their_threshold():
    assert texts(base(), "movers") == [
        "Days in A/R fell from 41.8 days to 36.6 days (-5.2 days), a change for the better "
        "(target under 40 days).",
        "A/R over 90 days rose from 12.0 % to 14.1 % (+2.1 pts), a change for the worse "
        "(target under 15 %).",
    ]


def test_small_moves_are_not_news():
    calm = base(kpis=(kpi("initial_denial_rate", 0.087, 0.081, 0.05, "lower"),))
    assert texts(calm, "movers") == [
        "No headline KPI moved by 1 point or 2 days or more from February 2026."
    ]


def test_targets_missed_are_listed_with_a_digit_more_when_the_value_rounds_to_the_target():
    (sentence,) = texts(base(), "targets")
    assert sentence == (
        "2 of 5 targets were met; missed: initial denial rate at 8.7 % (target under 5 %), "
        "clean claim rate at 91.3 % (target 95 % or more) and no-show rate at 8.02 % "
        "(target under 8 %)."
    )


def test_all_targets_met():
    good = base(kpis=(kpi("days_in_ar", 30.0, 31.0, 40.0, "lower", "days"),))
    assert texts(good, "targets") == ["The one target of the headline KPIs was met."]


def test_a_net_collection_rate_in_its_run_out_is_not_judged_but_explained():
    report = base()
    assert not any(
        "Net collection" in t for t in texts(report, "movers") + texts(report, "targets")
    )
    assert texts(report, "ncr_runout") == [
        "Net collection rate counts each month's services as they are paid, so March 2026's "
        "41.0 % is still rising; the latest month with 90 days of payments, December 2025, "
        "reached 96.9 % (target 95 % or more)."
    ]
    ripe = base(kpis=(kpi("net_collection_rate", 0.93, 0.97, 0.95),))
    assert texts(ripe, "ncr_runout") == []
    assert "net collection rate at 93.0 % (target 95 % or more)" in texts(ripe, "targets")[0]
    young = base(ncr_mature=None)
    assert texts(young, "ncr_runout")[0].endswith("no month has had 90 days of payments yet.")


def test_root_cause_sentences():
    assert texts(base(), "top_root_cause") == [
        "Eligibility / registration was the largest denial root cause: 40 denials, $7,952 at "
        "stake (February: 36, $7,911)."
    ]
    # the biggest rise in dollars among the others, not the largest cause again
    assert texts(base(), "rising_root_cause") == [
        "Authorization / referral denials rose from 12 to 27, $5,650 at stake (+$3,409)."
    ]
    assert texts(base(), "avoidable") == [
        "$44,343 of the $50,676 at stake (87.5 %) was in root causes the practice can avoid, "
        "fully or partly."
    ]
    none = base(denials=DenialSummary())
    assert texts(none, "top_root_cause") == ["No denials were dated in March 2026."]
    assert texts(none, "rising_root_cause") == texts(none, "avoidable") == []


def test_ar_over_90_sentence():
    assert texts(base(), "ar_over_90") == [
        "A/R over 90 days was $102,100, 14.1 % of the $723,308 owed on 31 Mar 2026 "
        "(12.0 % a month before); target under 15 %."
    ]


def test_payers_sentence_names_one_payer_once_and_skips_small_payers():
    assert texts(base(), "payers") == [
        "State Medicaid was the slowest to pay (38.8 days) and denied the most claims at "
        "first pass (11.8 % of 552)."
    ]
    other = base(payers=(*base().payers, PayerLine("X", "Xpress", D("1"), 50, 20.0, 0.2, 0.5, 0.5)))
    assert texts(other, "payers") == [
        "State Medicaid was the slowest to pay (38.8 days) and Xpress denied the most claims "
        "at first pass (20.0 % of 50)."
    ]


def test_a_location_report_names_the_location():
    report = base(location_id="L02", scope="Location: Cedar Grove")
    assert texts(report, "money")[0].startswith("In March 2026 Cedar Grove billed $570,917")
    assert texts(report, "payers")[0].startswith("Across the whole practice, State Medicaid")


def test_a_month_without_data():
    empty = base(has_data=False)
    assert [(s.rule, s.text) for s in write(empty)] == [
        (
            "no_data",
            "There is no data for March 2026 in the published warehouse (whole practice): "
            "it holds Jan 2025 – Apr 2026.",
        )
    ]


def test_the_flash_opens_with_the_week_and_keeps_the_month_to_date():
    week = WeekActivity(
        date(2026, 3, 30),
        date(2026, 4, 5),
        113,
        D("23412.00"),
        D("60215.10"),
        D("13369.45"),
        31,
        D("5490.00"),
    )
    before = WeekActivity(
        date(2026, 3, 23),
        date(2026, 3, 29),
        492,
        D("103402.00"),
        D("100012.34"),
        D("16693.49"),
        68,
        D("10019.00"),
    )
    report = base(kind="flash", week=(week.first, week.last), this_week=week, week_before=before)
    sentences = write(report)
    assert [s.rule for s in sentences] == [
        "week",
        "money",
        "movers",
        "movers",
        "targets",
        "top_root_cause",
        "ar_over_90",
    ]
    assert sentences[0].text == (
        "In the week of 30 Mar – 5 Apr 2026 (data to 2 Apr) the practice billed $23,412 for "
        "113 claims and posted $73,585 in payments ($60,215 from payers, $13,369 from "
        "patients); 31 denials put $5,490 at stake (week before: $103,402 billed, $116,706 "
        "posted, 68 denials, $10,019)."
    )
    quiet = WeekActivity(date(2026, 4, 6), date(2026, 4, 12))
    assert texts(replace(report, this_week=quiet), "week") == [
        "Nothing was recorded in the week of 6 – 12 Apr 2026 (data to 2 Apr)."
    ]
