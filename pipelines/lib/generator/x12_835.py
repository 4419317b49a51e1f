"""Write a simulated practice's remittances as 835 files (005010X221A1).

One file per ``remit_payments`` row, ``remits/<payer_id>_<trace_number>.835``: one
interchange, one functional group (GS01 HP), one transaction set.

TR3 loops written
- Header: BPR (I payment or H zero-pay notification; ACH with sender/receiver DFI and
  account elements, CHK, or NON when nothing is paid), TRN*1, REF*EV, DTM*405.
- 1000A payer (N1*PR, N3, N4, REF*2U, PER*BL); 1000B payee (N1*PE XX NPI, N3, N4, REF*TJ).
- 2000 header number (LX*1) and per claim 2100 (CLP, CAS, NM1*QC, NM1*IL when the
  subscriber is not the patient, NM1*82, MOA, DTM*232/233, DTM*050) with its 2110 service
  lines (SVC, DTM*472, CAS, REF*6R, AMT*B6, LQ*HE).
- Footer PLB (PLB01 practice NPI, PLB02 fiscal period YYYY1231 of the payment year, up to
  six adjustment pairs per segment).

Balancing (x12-notes.md, TR3 005010X221A1) is checked for every payment before any file is
written, and an ``X12WriteError`` names the rows that fail:
1. service line: SVC02 - sum of line CAS = SVC03;
2. claim: CLP03 - sum of CAS (claim level and its lines) = CLP04;
3. transaction: sum of CLP04 - sum of PLB = BPR02 (and BPR02 is never negative).

Bank and payer identifiers the tables do not carry (BPR DFI and account numbers, the
"1"+9-digit TRN03/BPR10 company id) are derived from a SHA-256 of the payer id or practice
TIN: stable, plausible in shape (routing numbers carry a valid ABA check digit), and fake.
CLP06 takes the claim's filing indicator; the 837-only codes CI, BL, FI and 11, which the
835 code list does not have, are written as 12, 12, OF and ZZ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime, time
from pathlib import Path

import polars as pl

from pipelines.lib.generator.tables import Practice, conform
from pipelines.lib.generator.x12_envelope import (
    Interchange,
    X12WriteError,
    blocks,
    cas_segments,
    check_practice,
    check_text,
    d8_expr,
    fail_rows,
    money,
    procedure_composite,
    render_interchange,
    require_keys,
    segment,
    segment_text,
    subscriber_nm1,
)

__all__ = ["X12WriteError", "write_835_files"]

VERSION = "005010X221A1"
CAS_GROUPS = ("CO", "OA", "PI", "PR")  # 5010 dropped CR
PAYMENT_METHODS = ("ACH", "CHK")
PLB_PAIRS = 6
MAX_MOA_REMARKS = 5  # MOA03..MOA07
# SBR09 codes that the 835 CLP06 list lacks, and what the 835 says instead.
CLP06_FROM_SBR09 = {"CI": "12", "BL": "12", "FI": "OF", "11": "ZZ"}

INPUT_TABLES = (
    "payers",
    "patients",
    "coverages",
    "providers",
    "remit_payments",
    "remit_claims",
    "remit_claim_adjustments",
    "remit_lines",
    "remit_line_adjustments",
    "remit_plb",
)


def write_835_files(
    practice: Practice,
    tables: Mapping[str, pl.DataFrame],
    out_dir: Path,
    start_control: int,
    *,
    remit_time: time = time(6, 0),
    usage: str = "P",
    claims_per_pass: int = 250_000,
) -> list[Path]:
    """Write one 835 file per remit_payments row under ``out_dir/remits`` (in payment_id
    order) and return their paths.

    Interchange control numbers are ``start_control``, ``start_control + 1``, ... in file
    order. The creation timestamp (ISA09/10, GS04/05) is the payment's production date at
    ``remit_time``. Every input check, balancing included, runs before the first file is
    written; a failure raises ``X12WriteError``. ``claims_per_pass`` only bounds memory.
    """
    frames = {name: conform(name, tables[name]) for name in INPUT_TABLES}
    check_practice(practice)
    _check_inputs(frames)
    payments = frames["remit_payments"].sort("payment_id", maintain_order=True)
    if payments.height == 0:
        return []

    remits_dir = Path(out_dir) / "remits"
    remits_dir.mkdir(parents=True, exist_ok=True)
    interchanges: dict[str, Interchange] = {}
    paths: list[Path] = []
    control = start_control
    for ids in _payment_passes(payments, frames["remit_claims"], claims_per_pass):
        rendered = _render_payments(practice, frames, ids)
        for payer_id, trace, production_date, body in rendered.iter_rows():
            ic = interchanges.get(payer_id)
            if ic is None:
                ic = interchanges[payer_id] = Interchange(
                    sender_id=practice.receiver_id,  # the clearinghouse relays the remit
                    receiver_id=practice.submitter_id,
                    app_sender=payer_id,
                    app_receiver=practice.submitter_id,
                    functional_id="HP",
                    transaction_set="835",
                    version=VERSION,
                    st03=False,
                    usage=usage,
                )
            created = datetime.combine(production_date, remit_time)
            text = render_interchange(ic, [body], control_number=control, created=created)
            path = remits_dir / f"{payer_id}_{trace}.835"
            path.write_bytes(text.encode("ascii"))
            paths.append(path)
            control += 1
    return paths


# ---------------------------------------------------------------------------------------
# Derived identifiers
# ---------------------------------------------------------------------------------------


def _digits(seed: str, n: int) -> str:
    """``n`` decimal digits that depend only on ``seed``."""
    value = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:16], "big")
    return f"{value % 10**n:0{n}d}"


def _routing_number(seed: str) -> str:
    """A 9-digit ABA routing number (valid check digit) derived from ``seed``."""
    first = _digits("aba:" + seed, 8)
    d = [int(ch) for ch in first]
    weighted = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5])
    return first + str((10 - weighted % 10) % 10)


def _payer_identity(payers: pl.DataFrame, practice: Practice) -> pl.DataFrame:
    """Per payer: the TRN03/BPR10 company id and the BPR bank elements (both parties)."""
    ids = payers.get_column("payer_id").to_list()
    return pl.DataFrame(
        {
            "payer_id": ids,
            "company_id": ["1" + _digits("tin:" + p, 9) for p in ids],
            "payer_dfi": [_routing_number("payer:" + p) for p in ids],
            "payer_account": [_digits("account:" + p, 10) for p in ids],
        },
        schema={
            "payer_id": pl.Utf8,
            "company_id": pl.Utf8,
            "payer_dfi": pl.Utf8,
            "payer_account": pl.Utf8,
        },
    ).with_columns(
        payee_dfi=pl.lit(_routing_number("payee:" + practice.tin)),
        payee_account=pl.lit(_digits("account:" + practice.tin, 12)),
    )


# ---------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------


def _payment_passes(
    payments: pl.DataFrame, claims: pl.DataFrame, claims_per_pass: int
) -> list[list[int]]:
    """Payment ids (in order) grouped into passes of roughly ``claims_per_pass`` claims."""
    counts = payments.select("payment_id").join(
        claims.group_by("payment_id").len(), on="payment_id", how="left", maintain_order="left"
    )
    passes: list[list[int]] = [[]]
    running = 0
    for payment_id, n in counts.iter_rows():
        n = n or 0
        if passes[-1] and running + n > claims_per_pass:
            passes.append([])
            running = 0
        passes[-1].append(payment_id)
        running += n
    return passes


def _render_payments(
    practice: Practice, frames: dict[str, pl.DataFrame], ids: list[int]
) -> pl.DataFrame:
    """One row per payment: payer_id, trace_number, production_date, transaction body."""

    def of_pass(name: str) -> pl.DataFrame:
        return frames[name].filter(pl.col("payment_id").is_in(ids))

    payments = of_pass("remit_payments").sort("payment_id", maintain_order=True)
    claims = _render_claims(frames, of_pass)
    plb = _render_plb(practice, payments, of_pass("remit_plb"))
    payments = (
        payments.join(
            _payer_identity(frames["payers"], practice),
            on="payer_id",
            how="left",
            maintain_order="left",
        )
        .join(
            frames["payers"].select(
                "payer_id",
                payer_name="name",
                payer_address1="address1",
                payer_city="city",
                payer_state="state",
                payer_zip="zip",
                payer_phone="phone",
            ),
            on="payer_id",
            how="left",
            maintain_order="left",
        )
        .join(claims, on="payment_id", how="left", maintain_order="left")
        .join(plb, on="payment_id", how="left", maintain_order="left")
    )
    body = blocks(
        _bpr(),
        segment("TRN", "1", pl.col("trace_number"), pl.col("company_id")),
        segment_text("REF", "EV", practice.submitter_id),
        segment("DTM", "405", d8_expr(pl.col("production_date"))),
        segment("N1", "PR", pl.col("payer_name")),
        segment("N3", pl.col("payer_address1")),
        segment("N4", pl.col("payer_city"), pl.col("payer_state"), pl.col("payer_zip")),
        segment("REF", "2U", pl.col("payer_id")),
        segment(
            "PER",
            "BL",
            "PROVIDER SERVICES",
            pl.when(pl.col("payer_phone").is_not_null()).then(pl.lit("TE")),
            pl.col("payer_phone"),
        ),
        segment_text("N1", "PE", practice.name, "XX", practice.npi),
        segment_text("N3", practice.address1),
        segment_text("N4", practice.city, practice.state, practice.zip),
        segment_text("REF", "TJ", practice.tin),
        pl.when(pl.col("claims_block").is_not_null()).then(
            pl.lit(segment_text("LX", "1")) + pl.col("claims_block")
        ),
        pl.col("plb_block"),
    )
    return payments.select("payer_id", "trace_number", "production_date", body=body)


def _bpr() -> pl.Expr:
    """BPR: I + ACH/CHK when money moves, H + NON for a zero-pay notification."""
    c = pl.col
    paid = money(c("total_cents"))
    on = d8_expr(c("payment_date"))
    ach = segment(
        "BPR",
        "I",
        paid,
        "C",
        "ACH",
        "CCP",
        "01",
        c("payer_dfi"),
        "DA",
        c("payer_account"),
        c("company_id"),
        None,
        "01",
        c("payee_dfi"),
        "DA",
        c("payee_account"),
        on,
    )
    check = segment("BPR", "I", paid, "C", "CHK", *[None] * 11, on)
    notice = segment("BPR", "H", paid, "C", "NON", *[None] * 11, on)
    return (
        pl.when(c("total_cents") == 0)
        .then(notice)
        .when(c("method") == "ACH")
        .then(ach)
        .otherwise(check)
    )


def _render_claims(
    frames: dict[str, pl.DataFrame], of_pass: Callable[[str], pl.DataFrame]
) -> pl.DataFrame:
    """Loop 2100 (with its 2110 lines) per claim, joined per payment in clp_seq order."""
    c = pl.col
    claim_key = ["payment_id", "clp_seq"]
    line_key = [*claim_key, "svc_seq"]
    line_cas = cas_segments(of_pass("remit_line_adjustments"), line_key)
    lines = (
        of_pass("remit_lines")
        .join(line_cas, on=line_key, how="left", maintain_order="left")
        .sort(line_key, maintain_order=True)
    )
    line_block = blocks(
        segment(
            "SVC",
            procedure_composite(c("procedure"), c("modifiers")),
            money(c("charge_cents")),
            money(c("paid_cents")),
            None,
            c("units"),
        ),
        pl.when(c("service_date").is_not_null()).then(
            segment("DTM", "472", d8_expr(c("service_date")))
        ),
        c("cas"),
        pl.when(c("line_ctrl").is_not_null()).then(segment("REF", "6R", c("line_ctrl"))),
        pl.when(c("allowed_cents").is_not_null()).then(
            segment("AMT", "B6", money(c("allowed_cents")))
        ),
        c("remarks").list.eval(pl.lit("LQ*HE*") + pl.element() + pl.lit("~\n")).list.join(""),
    )
    # Render first, then aggregate: expressions inside agg() run group by group.
    lines_per_claim = (
        lines.select(*claim_key, block=line_block)
        .group_by(claim_key, maintain_order=True)
        .agg(lines_block=pl.col("block").str.join(""))
    )

    claim_cas = cas_segments(of_pass("remit_claim_adjustments"), claim_key)
    claims = (
        of_pass("remit_claims")
        .join(claim_cas, on=claim_key, how="left", maintain_order="left")
        .join(lines_per_claim, on=claim_key, how="left", maintain_order="left")
        .join(
            frames["patients"].select("patient_id", "last_name", "first_name"),
            on="patient_id",
            how="left",
            maintain_order="left",
        )
        .join(
            frames["coverages"].select(
                "coverage_id", "member_id", "relationship", "subscriber_last", "subscriber_first"
            ),
            on="coverage_id",
            how="left",
            maintain_order="left",
        )
        .join(
            frames["providers"].select(
                "provider_id", prov_npi="npi", prov_last="last_name", prov_first="first_name"
            ),
            on="provider_id",
            how="left",
            maintain_order="left",
        )
        .sort(claim_key, maintain_order=True)
    )
    has_member = c("member_id").is_not_null()
    filing = c("filing_indicator").replace(CLP06_FROM_SBR09)
    claim_block = blocks(
        segment(
            "CLP",
            c("claim_id"),
            c("status"),
            money(c("charge_cents")),
            money(c("paid_cents")),
            money(c("patient_resp_cents")),
            filing,
            c("payer_claim_control"),
            c("facility_code"),
            c("frequency"),
        ),
        c("cas"),
        segment(
            "NM1",
            "QC",
            "1",
            c("last_name"),
            c("first_name"),
            None,
            None,
            None,
            pl.when(has_member).then(pl.lit("MI")),
            c("member_id"),
        ),
        pl.when(has_member & (c("relationship") != "18")).then(
            subscriber_nm1(c("member_id"), c("subscriber_last"), c("subscriber_first"))
        ),
        pl.when(c("provider_id").is_not_null()).then(
            segment(
                "NM1",
                "82",
                "1",
                c("prov_last"),
                c("prov_first"),
                None,
                None,
                None,
                "XX",
                c("prov_npi"),
            )
        ),
        pl.when(c("moa_remarks").list.len() > 0).then(
            segment("MOA", None, None, c("moa_remarks").list.join("*"))
        ),
        pl.when(c("service_date").is_not_null()).then(
            blocks(
                segment("DTM", "232", d8_expr(c("service_date"))),
                segment("DTM", "233", d8_expr(c("service_date"))),
            )
        ),
        pl.when(c("received_date").is_not_null()).then(
            segment("DTM", "050", d8_expr(c("received_date")))
        ),
        c("lines_block"),
    )
    return (
        claims.select("payment_id", block=claim_block)
        .group_by("payment_id", maintain_order=True)
        .agg(claims_block=pl.col("block").str.join(""))
    )


def _render_plb(practice: Practice, payments: pl.DataFrame, plb: pl.DataFrame) -> pl.DataFrame:
    """PLB segments per payment, up to six reason:reference / amount pairs each. PLB02 is
    the fiscal period date, the last day of the payment's year."""
    c = pl.col
    pairs = (
        plb.join(payments.select("payment_id", "payment_date"), on="payment_id", how="left")
        .sort(["payment_id", "plb_seq"], maintain_order=True)
        .with_columns(
            pair=pl.concat_str(
                [
                    pl.concat_str([c("reason"), c("reference")], separator=":", ignore_nulls=True),
                    money(c("amount_cents")),
                ],
                separator="*",
            ),
            chunk=pl.int_range(pl.len()).over("payment_id") // PLB_PAIRS,
        )
    )
    segments = (
        pairs.group_by(["payment_id", "chunk"], maintain_order=True)
        .agg(c("pair").str.join("*"), year=c("payment_date").dt.year().first())
        .with_columns(plb=segment("PLB", practice.npi, c("year").cast(pl.Utf8) + "1231", c("pair")))
    )
    return segments.group_by("payment_id", maintain_order=True).agg(plb_block=c("plb").str.join(""))


# ---------------------------------------------------------------------------------------
# Input checks, balancing first (all before writing)
# ---------------------------------------------------------------------------------------


def _check_inputs(frames: dict[str, pl.DataFrame]) -> None:
    c = pl.col
    for name, df in frames.items():
        check_text(df, name)
    payments = frames["remit_payments"]
    claims = frames["remit_claims"]
    claim_adj = frames["remit_claim_adjustments"]
    lines = frames["remit_lines"]
    line_adj = frames["remit_line_adjustments"]
    plb = frames["remit_plb"]
    claim_key = ["payment_id", "clp_seq"]
    line_key = [*claim_key, "svc_seq"]

    for df, table, key in (
        (payments, "remit_payments", ["payment_id"]),
        (claims, "remit_claims", claim_key),
        (lines, "remit_lines", line_key),
        (plb, "remit_plb", ["payment_id", "plb_seq"]),
    ):
        fail_rows(df.group_by(key).len().filter(c("len") > 1), table, f"{key} must be unique")
    require_keys(
        payments, frames["payers"], "payer_id", child_table="remit_payments", parent_table="payers"
    )
    require_keys(
        claims, payments, "payment_id", child_table="remit_claims", parent_table="remit_payments"
    )
    require_keys(
        claim_adj,
        claims,
        claim_key,
        child_table="remit_claim_adjustments",
        parent_table="remit_claims",
    )
    require_keys(lines, claims, claim_key, child_table="remit_lines", parent_table="remit_claims")
    require_keys(
        line_adj, lines, line_key, child_table="remit_line_adjustments", parent_table="remit_lines"
    )
    require_keys(
        plb, payments, "payment_id", child_table="remit_plb", parent_table="remit_payments"
    )
    require_keys(
        claims,
        frames["patients"],
        "patient_id",
        child_table="remit_claims",
        parent_table="patients",
    )
    require_keys(
        claims,
        frames["coverages"],
        "coverage_id",
        child_table="remit_claims",
        parent_table="coverages",
    )
    require_keys(
        claims,
        frames["providers"],
        "provider_id",
        child_table="remit_claims",
        parent_table="providers",
    )

    required = {
        "remit_payments": (
            payments,
            [
                "payer_id",
                "trace_number",
                "method",
                "payment_date",
                "production_date",
                "total_cents",
            ],
        ),
        "remit_claims": (
            claims,
            [
                "claim_id",
                "status",
                "charge_cents",
                "paid_cents",
                "filing_indicator",
                "payer_claim_control",
                "patient_id",
            ],
        ),
        "remit_claim_adjustments": (claim_adj, ["group", "reason", "amount_cents"]),
        "remit_lines": (lines, ["procedure", "charge_cents", "paid_cents"]),
        "remit_line_adjustments": (line_adj, ["group", "reason", "amount_cents"]),
        "remit_plb": (plb, ["reason", "amount_cents"]),
        "payers": (frames["payers"], ["name", "address1", "city"]),
    }
    for table, (df, cols) in required.items():
        for col in cols:
            fail_rows(df.filter(c(col).is_null()), table, f"{col} is required (not null)")

    fail_rows(
        payments.filter(~c("method").is_in(PAYMENT_METHODS)).select("payment_id", "method"),
        "remit_payments",
        f"method must be one of {PAYMENT_METHODS} (BPR04)",
    )
    fail_rows(
        payments.filter(~c("trace_number").str.contains(r"^[A-Za-z0-9_-]+$")).select(
            "payment_id", "trace_number"
        ),
        "remit_payments",
        "trace_number must be letters, digits, '-' or '_' (it names the file)",
    )
    fail_rows(
        payments.group_by(["payer_id", "trace_number"]).len().filter(c("len") > 1),
        "remit_payments",
        "trace_number must be unique per payer (TRN02)",
    )
    for df, table in ((claim_adj, "remit_claim_adjustments"), (line_adj, "remit_line_adjustments")):
        fail_rows(
            df.filter(~c("group").is_in(CAS_GROUPS)).select("payment_id", "clp_seq", "group"),
            table,
            f"CAS01 group must be one of {CAS_GROUPS} in 5010 (reversals repeat the original group)",
        )
    fail_rows(
        claims.filter(c("moa_remarks").list.len() > MAX_MOA_REMARKS).select(
            *claim_key, "moa_remarks"
        ),
        "remit_claims",
        f"at most {MAX_MOA_REMARKS} MOA remark codes",
    )

    _check_balancing(payments, claims, claim_adj, lines, line_adj, plb)


def _check_balancing(
    payments: pl.DataFrame,
    claims: pl.DataFrame,
    claim_adj: pl.DataFrame,
    lines: pl.DataFrame,
    line_adj: pl.DataFrame,
    plb: pl.DataFrame,
) -> None:
    """The three 835 balancing rules of TR3 005010X221A1 (see x12-notes.md)."""
    c = pl.col
    claim_key = ["payment_id", "clp_seq"]
    line_key = [*claim_key, "svc_seq"]

    line_adjusted = line_adj.group_by(line_key).agg(adjusted=c("amount_cents").sum())
    checked_lines = lines.join(line_adjusted, on=line_key, how="left").with_columns(
        c("adjusted").fill_null(0)
    )
    fail_rows(
        checked_lines.filter(c("charge_cents") - c("adjusted") != c("paid_cents"))
        .select(*line_key, "charge_cents", "adjusted", "paid_cents")
        .sort(line_key),
        "remit_lines",
        "service line balancing SVC02 - sum(line CAS) = SVC03",
    )

    adjusted = (
        pl.concat(
            [
                claim_adj.select(*claim_key, "amount_cents"),
                line_adj.select(*claim_key, "amount_cents"),
            ]
        )
        .group_by(claim_key)
        .agg(adjusted=c("amount_cents").sum())
    )
    checked_claims = claims.join(adjusted, on=claim_key, how="left").with_columns(
        c("adjusted").fill_null(0)
    )
    fail_rows(
        checked_claims.filter(c("charge_cents") - c("adjusted") != c("paid_cents"))
        .select(*claim_key, "claim_id", "charge_cents", "adjusted", "paid_cents")
        .sort(claim_key),
        "remit_claims",
        "claim balancing CLP03 - sum(claim and line CAS) = CLP04",
    )

    paid = claims.group_by("payment_id").agg(claims_paid=c("paid_cents").sum())
    provider_adj = plb.group_by("payment_id").agg(plb=c("amount_cents").sum())
    checked_payments = (
        payments.join(paid, on="payment_id", how="left")
        .join(provider_adj, on="payment_id", how="left")
        .with_columns(c("claims_paid").fill_null(0), c("plb").fill_null(0))
    )
    fail_rows(
        checked_payments.filter(c("claims_paid") - c("plb") != c("total_cents"))
        .select("payment_id", "trace_number", "claims_paid", "plb", "total_cents")
        .sort("payment_id"),
        "remit_payments",
        "transaction balancing sum(CLP04) - sum(PLB) = BPR02",
    )
    fail_rows(
        payments.filter(c("total_cents") < 0).select("payment_id", "trace_number", "total_cents"),
        "remit_payments",
        "BPR02 cannot be negative (carry a negative balance forward with PLB FB)",
    )
