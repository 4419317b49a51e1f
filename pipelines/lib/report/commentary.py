"""Commentary: a few sentences written by rules from the report's numbers, never by hand.

Each rule reads mart values already in the :class:`Report` (``fct_kpis_monthly``,
``fct_denials``, ``terminology__kpi_targets``) and prints them with the dashboards'
formats, so every figure in a sentence can be found in a table of the same PDF or in the
mart. The rules, in the order their sentences appear:

1. ``money``: charges and collections of the month.
2. ``movers``: the (at most two) headline KPIs that moved most since the month before,
   counting a move from 1 point (rates) or 2 days (days); better or worse by the KPI's
   direction.
3. ``targets``: the headline KPIs that missed their target, or that all were met.
4. ``ncr_runout``: while a month's services are still being paid (less than 90 days of
   run-out at the data's as-of date), its net collection rate is left out of rules 2
   and 3 and this sentence gives the latest month that has had the run-out.
5. ``top_root_cause``: the denial root cause with the most dollars at stake, with the
   month before.
6. ``rising_root_cause``: the root cause whose dollars at stake rose most, if another.
7. ``avoidable``: the dollars at stake in avoidable root causes and their share.
8. ``ar_over_90``: A/R over 90 days, its share of A/R and the target.
9. ``payers``: the slowest payer to pay and the payer with the highest initial denial
   rate, among payers with at least 10 claims.

The weekly flash opens with ``week`` (charges, payments and denials dated in the week,
against the week before) and keeps rules 1, 2, 3, 5 and 8 for the month so far.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dashboards.theme import days, money, percent
from pipelines.lib.report.model import RUN_OUT_DAYS, KpiLine, Report, Sentence

MOVE_THRESHOLD = {"rate": 0.01, "days": 2.0}  # a move worth a sentence
MAX_MOVERS = 2
MIN_PAYER_CLAIMS = 10


def write(report: Report) -> tuple[Sentence, ...]:
    """The commentary of a report, in rule order."""
    if not report.has_data:
        return (_no_data(report),)
    sentences: list[Sentence] = []
    for rule in FLASH_RULES if report.kind == "flash" else MONTHLY_RULES:
        sentences.extend(rule(report))
    return tuple(sentences)


def _lower(label: str) -> str:
    """'Initial denial rate' -> 'initial denial rate'; 'A/R over 90 days' stays."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def _value_near_target(kpi: KpiLine) -> str:
    """The value as on screen, or with one more digit when that would print the same
    number as the target (8.0 % missing 'under 8 %')."""
    if kpi.target is None or kpi.value is None or kpi.unit != "rate":
        return kpi.value_text
    if percent(kpi.value) == percent(kpi.target):
        return percent(kpi.value, digits=2)
    return kpi.value_text


def _no_data(report: Report) -> Sentence:
    held = (
        f"it holds {report.data_range_text}"
        if report.data_months
        else "it holds no months with KPIs"
    )
    return Sentence(
        "no_data",
        f"There is no data for {report.month_text} in the published warehouse "
        f"({report.scope.lower() if report.location_id is None else report.scope}): {held}.",
    )


def _subject(report: Report) -> str:
    if report.location_id:
        return report.scope.split(": ", 1)[-1]
    return "the practice"


def _when(report: Report) -> str:
    if report.is_month_to_date and report.snapshot_date:
        return f"So far in {report.month_text} (to {report.snapshot_date:%-d %b})"
    return f"In {report.month_text}"


def _judged(report: Report) -> list[KpiLine]:
    """The headline KPIs the movers and targets rules may speak about (not a net
    collection rate still in its run-out)."""
    return [k for k in report.kpis if k.judged and k.value is not None]


def _money(report: Report) -> list[Sentence]:
    lines = {m.label.strip(): m for m in report.money}
    charges, collected = lines["Charges"], lines["Collections"]
    payers, patients = lines["from payers"], lines["from patients"]
    return [
        Sentence(
            "money",
            f"{_when(report)} {_subject(report)} billed {charges.value_text} in charges and collected {collected.value_text}: "
            f"{payers.value_text} from payers and {patients.value_text} from patients.",
        )
    ]


def _movers(report: Report) -> list[Sentence]:
    scored = []
    for kpi in _judged(report):
        change = kpi.change
        threshold = MOVE_THRESHOLD.get(kpi.unit)
        if change is None or threshold is None or abs(change) < threshold:
            continue
        scored.append((abs(change) / threshold, kpi))
    scored.sort(key=lambda pair: (-pair[0], pair[1].kpi))
    sentences = []
    for _, kpi in scored[:MAX_MOVERS]:
        verb = "rose" if (kpi.change or 0) > 0 else "fell"
        way = "for the better" if kpi.improved else "for the worse"
        target = (
            f" (target {kpi.target_text})" if kpi.target_text and kpi.target is not None else ""
        )
        sentences.append(
            Sentence(
                "movers",
                f"{kpi.label} {verb} from {kpi.previous_text} to {kpi.value_text} "
                f"({kpi.change_text}), a change {way}{target}.",
            )
        )
    if not sentences and any(k.previous is not None for k in _judged(report)):
        sentences.append(
            Sentence(
                "movers",
                f"No headline KPI moved by 1 point or 2 days or more from "
                f"{report.previous_month_text}.",
            )
        )
    return sentences


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _targets(report: Report) -> list[Sentence]:
    with_target = [k for k in _judged(report) if k.target is not None]
    if not with_target:
        return []
    missed = [k for k in with_target if k.status == "missed"]
    if not missed:
        every = "The one target" if len(with_target) == 1 else f"All {len(with_target)} targets"
        verb = "was" if len(with_target) == 1 else "were"
        return [Sentence("targets", f"{every} of the headline KPIs {verb} met.")]
    items = [
        f"{_lower(k.label)} at {_value_near_target(k)} (target {k.target_text})" for k in missed
    ]
    return [
        Sentence(
            "targets",
            f"{len(with_target) - len(missed)} of {len(with_target)} targets were met; missed: "
            f"{_join(items)}.",
        )
    ]


def _ncr_runout(report: Report) -> list[Sentence]:
    ncr = next((k for k in report.kpis if k.kpi == "net_collection_rate"), None)
    if ncr is None or ncr.value is None or ncr.judged:
        return []
    text = (
        f"Net collection rate counts each month's services as they are paid, so "
        f"{report.month_text}'s {ncr.value_text} is still rising"
    )
    if report.ncr_mature:
        month, value = report.ncr_mature
        target = f" (target {ncr.target_text})" if ncr.target_text else ""
        text += (
            f"; the latest month with {RUN_OUT_DAYS} days of payments, "
            f"{month:%B %Y}, reached {percent(value)}{target}."
        )
    else:
        text += f"; no month has had {RUN_OUT_DAYS} days of payments yet."
    return [Sentence("ncr_runout", text)]


def _top_root_cause(report: Report) -> list[Sentence]:
    denials = report.denials
    if not denials.causes:
        return [Sentence("top_root_cause", f"No denials were dated in {report.month_text}.")]
    top = denials.causes[0]
    before = (
        f"{report.previous_month:%B}: {top.previous_denials:,}, {money(top.previous_amount)}"
        if top.previous_denials
        else f"none in {report.previous_month:%B}"
    )
    return [
        Sentence(
            "top_root_cause",
            f"{top.label} was the largest denial root cause: {top.denials:,} "
            f"denial{'s' * (top.denials != 1)}, {money(top.amount_at_stake)} at stake "
            f"({before}).",
        )
    ]


def _rising_root_cause(report: Report) -> list[Sentence]:
    causes = report.denials.causes
    if len(causes) < 2:
        return []
    rises = [
        (c.amount_at_stake - c.previous_amount, c)
        for c in causes[1:]
        if c.amount_at_stake > c.previous_amount and c.denials > c.previous_denials
    ]
    if not rises:
        return []
    rise, cause = max(rises, key=lambda pair: (pair[0], pair[1].root_cause))
    return [
        Sentence(
            "rising_root_cause",
            f"{cause.label} denials rose from {cause.previous_denials:,} to {cause.denials:,}, "
            f"{money(cause.amount_at_stake)} at stake (+{money(rise)}).",
        )
    ]


def _avoidable(report: Report) -> list[Sentence]:
    denials = report.denials
    if not denials.denials or denials.amount_at_stake == Decimal("0.00"):
        return []
    return [
        Sentence(
            "avoidable",
            f"{money(denials.avoidable_amount)} of the {money(denials.amount_at_stake)} at "
            f"stake ({percent(denials.avoidable_share)}) was in root causes the practice can "
            f"avoid, fully or partly.",
        )
    ]


def _ar_over_90(report: Report) -> list[Sentence]:
    ar = report.ar
    if ar.balance is None or ar.over_90_pct is None:
        return []
    kpi = next((k for k in report.kpis if k.kpi == "ar_over_90_pct"), None)
    when = (
        f"{ar.snapshot_date:%-d %b %Y}" if isinstance(ar.snapshot_date, date) else "the month end"
    )
    text = (
        f"A/R over 90 days was {money(ar.over_90)}, {percent(ar.over_90_pct)} of the "
        f"{money(ar.balance)} owed on {when}"
    )
    if ar.previous_over_90_pct is not None:
        text += f" ({percent(ar.previous_over_90_pct)} a month before)"
    if kpi and kpi.target is not None:
        text += f"; target {kpi.target_text}"
    return [Sentence("ar_over_90", text + ".")]


def _payers(report: Report) -> list[Sentence]:
    busy = [p for p in report.payers if (p.claims_adjudicated or 0) >= MIN_PAYER_CLAIMS]
    parts = []
    slow = [p for p in busy if p.days_to_payment is not None]
    slowest = max(slow, key=lambda p: (p.days_to_payment, p.name)) if slow else None
    if slowest:
        parts.append(f"{slowest.name} was the slowest to pay ({days(slowest.days_to_payment)})")
    denying = [p for p in busy if p.initial_denial_rate is not None]
    if denying:
        payer = max(denying, key=lambda p: (p.initial_denial_rate, p.name))
        who = "" if payer is slowest else f"{payer.name} "
        parts.append(
            f"{who}denied the most claims at first pass "
            f"({percent(payer.initial_denial_rate)} of {payer.claims_adjudicated:,})"
        )
    if not parts:
        return []
    scope = "Across the whole practice, " if report.location_id else ""
    return [Sentence("payers", f"{scope}{_join(parts)}.")]


def _week(report: Report) -> list[Sentence]:
    week, before = report.this_week, report.week_before
    if week is None:
        return []
    cut = (
        f" (data to {report.as_of:%-d %b})"
        if isinstance(report.as_of, date) and report.as_of < week.last
        else ""
    )
    if not week.claims and not week.payments and not week.denials:
        return [Sentence("week", f"Nothing was recorded in the week of {week.label}{cut}.")]
    text = (
        f"In the week of {week.label}{cut} {_subject(report)} billed {money(week.charges)} "
        f"for {week.claims:,} claims and posted {money(week.payments)} in payments "
        f"({money(week.payer_payments)} from payers, {money(week.patient_payments)} from "
        f"patients); {week.denials:,} denial{'s' * (week.denials != 1)} put "
        f"{money(week.amount_at_stake)} at stake"
    )
    if before is not None:
        text += (
            f" (week before: {money(before.charges)} billed, {money(before.payments)} "
            f"posted, {before.denials:,} denials, {money(before.amount_at_stake)})"
        )
    return [Sentence("week", text + ".")]


MONTHLY_RULES = (
    _money,
    _movers,
    _targets,
    _ncr_runout,
    _top_root_cause,
    _rising_root_cause,
    _avoidable,
    _ar_over_90,
    _payers,
)
# the flash: the week, then the month so far
FLASH_RULES = (_week, _money, _movers, _targets, _top_root_cause, _ar_over_90)
