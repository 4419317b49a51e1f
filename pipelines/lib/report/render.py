"""Draw a :class:`Report` as a PDF with reportlab (US Letter, portrait).

Monthly: a title block; the summary (commentary); headline KPIs against target with the
change from the month before; money; charges and collections; A/R; denials by root cause
with dollars at stake and the avoidable share; the payer scorecard; visit mix with the
E/M curve against the benchmark. The weekly flash keeps the first sections and denials.
A month without data gets one page that says so.

Only aggregates are printed: no patient names or ids, no claim ids (minimum necessary).
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from dashboards.theme import BAD, GOOD, GRID, INK, MUTED, PALETTE, count, days, money, percent
from pipelines.lib.report import charts
from pipelines.lib.report.model import Report, week_label

PAGE = LETTER
MARGIN = 0.6 * inch
FRAME_PADDING = 6  # reportlab's frames keep 6 pt inside the margins
WIDTH = PAGE[0] - 2 * (MARGIN + FRAME_PADDING)  # the text width, about 7.1 in
FONT, BOLD = "Helvetica", "Helvetica-Bold"

ink, muted, grid = colors.HexColor(INK), colors.HexColor(MUTED), colors.HexColor(GRID)
accent = colors.HexColor(PALETTE[0])
zebra = colors.HexColor("#f6f7f9")
STATUS_COLOURS = {"met": colors.HexColor(GOOD), "missed": colors.HexColor(BAD)}

STYLES = {
    "practice": ParagraphStyle("practice", fontName=BOLD, fontSize=20, leading=24, textColor=ink),
    "title": ParagraphStyle("title", fontName=FONT, fontSize=13, leading=17, textColor=accent),
    "meta": ParagraphStyle("meta", fontName=FONT, fontSize=8.5, leading=11, textColor=muted),
    "h2": ParagraphStyle(
        "h2", fontName=BOLD, fontSize=12, leading=15, textColor=ink, spaceBefore=10, spaceAfter=4
    ),
    "body": ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13, textColor=ink),
    "note": ParagraphStyle("note", fontName=FONT, fontSize=7.5, leading=9.5, textColor=muted),
    "cell": ParagraphStyle("cell", fontName=FONT, fontSize=8.5, leading=10.5, textColor=ink),
    "cell_note": ParagraphStyle(
        "cell_note", fontName=FONT, fontSize=7, leading=8.5, textColor=muted
    ),
    "num": ParagraphStyle(
        "num", fontName=FONT, fontSize=8.5, leading=10.5, textColor=ink, alignment=TA_RIGHT
    ),
    "empty": ParagraphStyle("empty", fontName=BOLD, fontSize=14, leading=18, textColor=ink),
}


def _text(value: str) -> str:
    """Escaped for reportlab's markup, numbers kept on one line with their unit."""
    text = escape(value)
    for unit in (" %", " pts", " days"):
        text = text.replace(unit, "&nbsp;" + unit[1:])
    return text


def _p(value: str, style: str = "body") -> Paragraph:
    return Paragraph(_text(value), STYLES[style])


def _section(title: str, *flowables: Flowable) -> KeepTogether:
    return KeepTogether([Paragraph(escape(title), STYLES["h2"]), *flowables])


def _table(
    rows: list[list[object]],
    widths: list[float],
    numeric_from: int = 1,
    extra: list[tuple] | None = None,
    bold_last: bool = False,
) -> Table:
    """A table in the house style: a header row with a rule, light zebra rows, numbers
    right-aligned from column ``numeric_from``."""
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, 0), BOLD, 8),
        ("TEXTCOLOR", (0, 0), (-1, 0), muted),
        ("FONT", (0, 1), (-1, -1), FONT, 8.5),
        ("TEXTCOLOR", (0, 1), (-1, -1), ink),
        ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, ink),
        ("LINEBELOW", (0, -1), (-1, -1), 0.5, grid),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    for row in range(2, len(rows), 2):
        style.append(("BACKGROUND", (0, row), (-1, row), zebra))
    if bold_last:
        style += [
            ("FONT", (0, -1), (-1, -1), BOLD, 8.5),
            ("LINEABOVE", (0, -1), (-1, -1), 0.6, ink),
        ]
    table.setStyle(TableStyle(style + (extra or [])))
    return table


def _month_heading(report: Report) -> str:
    return report.month.strftime("%b %Y") + (" to date" if report.is_month_to_date else "")


def _image(png: bytes, height_px: int) -> Image:
    height = WIDTH * height_px / charts.CHART_WIDTH
    return Image(io.BytesIO(png), width=WIDTH, height=height)


# ---------------------------------------------------------------- sections


def _title_block(report: Report) -> list[Flowable]:
    if report.kind == "flash" and report.week:
        period = f"Week of {week_label(*report.week)} · {report.period_text}"
        if report.has_data and not report.is_month_to_date:
            period += " (complete month)"
    else:
        period = report.period_text
    published = report.published_at
    published_text = f"{published:%-d %b %Y %H:%M} UTC" if isinstance(published, datetime) else "–"
    meta = (
        f"{report.scope} · data as of {report.as_of:%-d %b %Y}"
        if isinstance(report.as_of, date)
        else report.scope
    )
    meta += f" · warehouse published {published_text}"
    rule = Table([[""]], colWidths=[WIDTH], rowHeights=[2])
    rule.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), accent)]))
    return [
        _p(report.practice_name, "practice"),
        _p(f"{report.title} · {period}", "title"),
        Spacer(1, 2),
        _p(meta, "meta"),
        Spacer(1, 6),
        rule,
    ]


def _summary(report: Report) -> Flowable:
    items = [ListItem(_p(s.text), leftIndent=12) for s in report.commentary]
    bullets = ListFlowable(
        items, bulletType="bullet", start="•", leftIndent=12, bulletFontSize=9, bulletColor=accent
    )
    return _section("Summary", bullets)


def _kpi_table(report: Report) -> Flowable:
    month, before = _month_heading(report), report.previous_month.strftime("%b %Y")
    rows: list[list[object]] = [["KPI", month, before, "Change", "Target", "Status"]]
    extra: list[tuple] = []
    for i, kpi in enumerate(report.kpis, start=1):
        label: object = kpi.label
        if kpi.note:
            label = [_p(kpi.label, "cell"), _p(kpi.note, "cell_note")]
        rows.append(
            [
                label,
                kpi.value_text,
                kpi.previous_text,
                kpi.change_text,
                kpi.target_text if kpi.target is not None else "none",
                kpi.status,
            ]
        )
        if kpi.improved is not None:
            tone = GOOD if kpi.improved else BAD
            extra.append(("TEXTCOLOR", (3, i), (3, i), colors.HexColor(tone)))
        if kpi.status in STATUS_COLOURS:
            extra += [
                ("TEXTCOLOR", (5, i), (5, i), STATUS_COLOURS[kpi.status]),
                ("FONT", (5, i), (5, i), BOLD, 8.5),
            ]
    widths = [0.33, 0.12, 0.12, 0.11, 0.21, 0.11]
    table = _table(rows, [w * WIDTH for w in widths], extra=extra)
    note = _p(
        "KPIs from fct_kpis_monthly, targets from terminology__kpi_targets; the change is in "
        "percentage points (pts) for rates. Green: a change the good way.",
        "note",
    )
    return _section("Headline KPIs", table, Spacer(1, 3), note)


def _money_table(report: Report) -> Flowable:
    month, before = _month_heading(report), report.previous_month.strftime("%b %Y")
    rows: list[list[object]] = [["", month, before, "Change", ""]]
    for line in report.money:
        note = line.note
        if report.is_month_to_date and note == "at the month end":
            note = "on the latest day of data"
        rows.append(
            [
                line.label.replace("  ", "\u00a0\u00a0\u00a0"),
                line.value_text,
                line.previous_text,
                line.change_text,
                note,
            ]
        )
    widths = [0.22, 0.15, 0.15, 0.15, 0.33]
    extra = [("ALIGN", (4, 0), (4, -1), "LEFT"), ("TEXTCOLOR", (4, 1), (4, -1), muted)]
    return _section("Money", _table(rows, [w * WIDTH for w in widths], extra=extra))


def _aging_table(report: Report) -> Table:
    ar = report.ar
    head = [b.bucket for b in ar.buckets] + ["Total A/R", "Over 90 days"]
    values = [money(b.balance) for b in ar.buckets] + [
        money(ar.balance),
        f"{money(ar.over_90)} ({percent(ar.over_90_pct)})",
    ]
    n = len(head)
    widths = [WIDTH * 0.8 / max(n - 1, 1)] * (n - 1) + [WIDTH * 0.2]
    return _table(
        [[f"{h} days" if h[0].isdigit() else h for h in head], values],
        widths,
        numeric_from=0,
        extra=[("FONT", (-2, 1), (-1, 1), BOLD, 8.5)],
    )


def _denials(report: Report, renderer: charts.ChartRenderer, chart: bool) -> list[Flowable]:
    d = report.denials
    if not d.denials:
        return [_section("Denials", _p(f"No denials were dated in {report.month_text}."))]
    before = report.previous_month.strftime("%b %Y")
    rows: list[list[object]] = [
        [
            "Root cause",
            "Avoidable",
            "Denials",
            "At stake",
            f"Denials {before}",
            f"At stake {before}",
        ]
    ]
    for cause in d.top(8):
        rows.append(
            [
                cause.label,
                cause.avoidability_text,
                count(cause.denials),
                money(cause.amount_at_stake),
                count(cause.previous_denials),
                money(cause.previous_amount),
            ]
        )
    shown = len(rows) - 1
    if len(d.causes) > shown:
        rest = d.causes[shown:]
        rows.append(
            [
                f"{len(rest)} other root cause{'s' * (len(rest) != 1)}",
                "",
                count(sum(c.denials for c in rest)),
                money(sum((c.amount_at_stake for c in rest), start=Decimal("0.00"))),
                count(sum(c.previous_denials for c in rest)),
                money(sum((c.previous_amount for c in rest), start=Decimal("0.00"))),
            ]
        )
    rows.append(
        [
            "All denials",
            "",
            count(d.denials),
            money(d.amount_at_stake),
            count(d.previous_denials),
            money(d.previous_amount),
        ]
    )
    widths = [0.30, 0.17, 0.10, 0.13, 0.15, 0.15]
    table = _table(rows, [w * WIDTH for w in widths], numeric_from=2, bold_last=True)
    avoidable = _p(
        f"Avoidable (fully or partly): {count(d.avoidable_denials)} denials, "
        f"{money(d.avoidable_amount)} of {money(d.amount_at_stake)} at stake "
        f"({percent(d.avoidable_share)}).",
    )
    note = _p(
        "Denials dated in the month (fct_denials, by 835 payment date), claim and line "
        "denials at any adjudication; dollars at stake are the denial adjustment amounts. "
        "Root causes and avoidability from terminology__carc.",
        "note",
    )
    flow: list[Flowable] = [_section("Denials by root cause", avoidable, Spacer(1, 4), table)]
    if chart:
        png = renderer.png(charts.causes_figure(report), 300)
        flow.append(KeepTogether([Spacer(1, 6), _image(png, 300)]))
    flow += [Spacer(1, 3), note]
    return flow


def _payer_table(report: Report) -> Flowable:
    rows: list[list[object]] = [
        [
            "Payer",
            "Paid",
            "Claims adjudicated",
            "Days to payment",
            "Initial denial rate",
            "Net collection rate",
            "Gross collection rate",
        ]
    ]
    for p in report.payers:
        rows.append(
            [
                p.name,
                money(p.payer_payments),
                count(p.claims_adjudicated),
                days(p.days_to_payment),
                percent(p.initial_denial_rate),
                percent(p.net_collection_rate),
                percent(p.gross_collection_rate),
            ]
        )
    widths = [0.26, 0.13, 0.12, 0.12, 0.12, 0.12, 0.13]
    rows[0] = [rows[0][0], *[_right_header(str(h)) for h in rows[0][1:]]]
    table = _table(rows, [w * WIDTH for w in widths])
    text = (
        "Paid: payer payments posted in the month. Days to payment: submission to first "
        "payment, claims first paid in the month. Initial denial rate: claims denied at "
        "first adjudication. Net collection rate: the month's services, paid to date "
        "(recent months are still being paid). All from fct_kpis_monthly (segment payer)."
    )
    if report.payers_note:
        text = report.payers_note + " " + text
    return _section("Payer scorecard", table, Spacer(1, 3), _p(text, "note"))


def _right_header(text: str) -> Paragraph:
    style = ParagraphStyle(
        "head", fontName=BOLD, fontSize=8, leading=9.5, textColor=muted, alignment=TA_RIGHT
    )
    return Paragraph(escape(text), style)


def _visit_mix(report: Report, renderer: charts.ChartRenderer) -> list[Flowable]:
    v = report.visits
    rows: list[list[object]] = [["Visits of the month", "Visits", "Share"]]
    for label, n, share in v.families:
        rows.append([label, count(n), percent(share)])
    rows.append(["All billed visits", count(v.visits), ""])
    families = _table(rows, [WIDTH * 0.28, WIDTH * 0.1, WIDTH * 0.1], bold_last=True)
    coding_rows: list[list[object]] = [["Coding", "Visits", "Share"]]
    for label, n, share in v.coding:
        coding_rows.append([label, count(n), percent(share)])
    coding = _table(coding_rows, [WIDTH * 0.29, WIDTH * 0.09, WIDTH * 0.09])
    side = Table([[families, coding]], colWidths=[WIDTH * 0.5, WIDTH * 0.5])
    side.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    curve = renderer.png(charts.em_figure(report), 320)
    families = renderer.png(charts.families_figure(report), 280)
    note = _p(
        "Counts and shares from fct_kpis_monthly; visit families by provider from "
        "fct_visits; the E/M curve from fct_visits (office E/M visits of the last 12 months, "
        "the practice and its four busiest providers) against terminology__em_benchmark "
        "(Medicare family physicians, 2017).",
        "note",
    )
    return [
        _section("Visit mix", side, Spacer(1, 6), _image(families, 280)),
        KeepTogether([Spacer(1, 4), _image(curve, 320)]),
        Spacer(1, 3),
        note,
    ]


def _trend(report: Report, renderer: charts.ChartRenderer) -> Flowable:
    png = renderer.png(charts.trend_figure(report), 320)
    return _section("Charges and collections", _image(png, 320))


def _accounts_receivable(
    report: Report, renderer: charts.ChartRenderer, chart: bool = True
) -> Flowable:
    when = f"{report.ar.snapshot_date:%-d %b %Y}" if report.ar.snapshot_date else "–"
    parts: list[Flowable] = [_aging_table(report)]
    if chart:
        parts += [Spacer(1, 6), _image(renderer.png(charts.aging_figure(report), 300), 300)]
    return _section(f"Accounts receivable on {when}", *parts)


def _week_table(report: Report) -> Flowable:
    week, before = report.this_week, report.week_before
    assert week is not None and before is not None
    rows: list[list[object]] = [["", week.label, before.label, "Change"]]

    def money_row(label: str, now: Decimal, then: Decimal) -> list[object]:
        change = now - then
        return [label, money(now), money(then), ("+" if change >= 0 else "") + money(change)]

    def count_row(label: str, now: int, then: int) -> list[object]:
        return [label, count(now), count(then), f"{now - then:+,}"]

    rows += [
        money_row("Charges (services of the week)", week.charges, before.charges),
        count_row("Claims (services of the week)", week.claims, before.claims),
        money_row("Payments posted", week.payments, before.payments),
        money_row("   from payers", week.payer_payments, before.payer_payments),
        money_row("   from patients", week.patient_payments, before.patient_payments),
        count_row("Denials (by 835 payment date)", week.denials, before.denials),
        money_row("Denied dollars at stake", week.amount_at_stake, before.amount_at_stake),
    ]
    widths = [0.37, 0.21, 0.21, 0.21]
    return _section("This week", _table(rows, [w * WIDTH for w in widths]))


def _empty(report: Report) -> list[Flowable]:
    box = Table(
        [
            [_p(f"No data for {report.month_text}", "empty")],
            [_p(report.commentary[0].text if report.commentary else "")],
            [
                _p(
                    "The report is written from the published warehouse "
                    "(warehouse/serving.duckdb). Once the month's extracts are in the "
                    "landing folders, `rcm ingest` and `rcm build` publish them and the "
                    "next report shows the month.",
                    "note",
                )
            ],
        ],
        colWidths=[WIDTH],
    )
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.8, grid),
                ("BACKGROUND", (0, 0), (-1, -1), zebra),
                ("LEFTPADDING", (0, 0), (-1, -1), 12),
                ("RIGHTPADDING", (0, 0), (-1, -1), 12),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return [Spacer(1, 24), box]


# ---------------------------------------------------------------- the document


def _story(report: Report, renderer: charts.ChartRenderer) -> list[Flowable]:
    story = _title_block(report)
    if not report.has_data:
        return story + _empty(report)
    story.append(_summary(report))
    if report.kind == "flash":
        if report.this_week is not None:
            story.append(_week_table(report))
        story += [_kpi_table(report), _money_table(report), _trend(report, renderer)]
        story.append(_accounts_receivable(report, renderer, chart=False))
        story += _denials(report, renderer, chart=False)
        return story
    story += [_kpi_table(report), _money_table(report), _trend(report, renderer)]
    story.append(_accounts_receivable(report, renderer))
    story += _denials(report, renderer, chart=True)
    story.append(_payer_table(report))
    story += _visit_mix(report, renderer)
    return story


def _numbered_canvas(report: Report) -> type[Canvas]:
    footer_left = f"{report.practice_name} · {report.title.lower()} · {report.month_text}" + (
        f" · {report.scope}" if report.location_id else ""
    )

    class NumberedCanvas(Canvas):
        """Writes 'Page n of N' once the page count is known."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:  # reportlab names it so
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            self.saveState()
            self.setStrokeColor(grid)
            self.setLineWidth(0.5)
            left, right = MARGIN + FRAME_PADDING, PAGE[0] - MARGIN - FRAME_PADDING
            self.line(left, 0.55 * inch, right, 0.55 * inch)
            self.setFont(FONT, 7)
            self.setFillColor(muted)
            self.drawString(left, 0.4 * inch, footer_left)
            self.drawRightString(right, 0.4 * inch, f"Page {self._pageNumber} of {total}")
            self.drawString(
                left,
                0.27 * inch,
                "Aggregates from the published warehouse (rcm-warehouse marts); "
                "no patient or claim identifiers.",
            )
            self.restoreState()

    return NumberedCanvas


def render_pdf(report: Report, path: Path, renderer: charts.ChartRenderer) -> int:
    """Write the PDF to ``path`` (through a temporary file, then a rename, so a reader
    never sees half a report) and return its number of pages."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    subject = f"{report.title}, {report.month_text}, {report.scope}"
    doc = SimpleDocTemplate(
        str(tmp),
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=0.8 * inch,
        title=f"{report.practice_name}: {subject}",
        author="rcm-warehouse",
        subject=subject,
        creator="rcm-warehouse (reportlab)",
    )
    try:
        doc.build(_story(report, renderer), canvasmaker=_numbered_canvas(report))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return doc.page
