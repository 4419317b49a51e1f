"""Write a simulated practice's claim submissions as 837P files (005010X222A1).

One file per submit date, ``claims/837P_<YYYYMMDD>.837``: one interchange, one functional
group (GS01 HC) and one transaction set per payer, chunked at 5000 claims per ST. Each claim
gets its own subscriber HL (and patient HL for a dependent), which the TR3 allows and keeps
the hierarchy a pure function of the claim row.

TR3 loops written
- Header: BHT; 1000A submitter (NM1*41, PER*IC); 1000B receiver (NM1*40).
- 2000A billing provider (HL*20, PRV*BI*PXC); 2010AA (NM1*85 XX, N3, N4, REF*EI).
- 2000B subscriber (HL*22, SBR); 2010BA (NM1*IL MI, plus N3/N4/DMG when the patient is the
  subscriber); 2010BB payer (NM1*PR PI, N3, N4).
- 2000C patient (HL*23, PAT) with 2010CA (NM1*QC, N3, N4, DMG) when the patient is a
  dependent of the subscriber.
- 2300 claim (CLM, REF*F8 for frequency 7/8, REF*EA medical record number = patient_id
  on every claim, HI ABK/ABF); 2310B rendering (NM1*82, PRV*PE); 2310C service facility
  (NM1*77, N3, N4); for secondary claims 2320 (SBR, AMT*D, OI), 2330A other subscriber
  (NM1*IL), 2330B other payer (NM1*PR, DTP*573 only when no line carries a 2430 loop, as
  the TR3 asks).
- 2400 line (LX, SV1, DTP*472, REF*6R) and 2430 prior payer line adjudication (SVD, CAS,
  DTP*573).

Inputs are checked before anything is written: keys resolve, required values are present,
CLM02 equals the sum of SV102, and for coordination of benefits each line balances
(SV102 - sum of 2430 CAS = SVD02) and AMT*D equals the sum of SVD02.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import polars as pl

from pipelines.lib.generator.tables import Practice, conform
from pipelines.lib.generator.x12_envelope import (
    COMPONENT_SEP,
    Interchange,
    X12WriteError,
    blocks,
    cas_segments,
    check_practice,
    check_text,
    d8,
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

__all__ = ["X12WriteError", "write_837p_batches"]

VERSION = "005010X222A1"
CLAIMS_PER_ST = 5000
MAX_LINES = 50  # loop 2400 repeat
MAX_DIAGNOSES = 12  # HI01..HI12
MAX_POINTERS = 4  # SV107-1..4
MAX_MODIFIERS = 4  # SV101-3..6
MAX_CAS_2430 = 5  # CAS segments per 2430 loop
# SBR05 when Medicare is billed as a secondary payer: 12 = working aged with employer plan.
MEDICARE_SECONDARY_TYPE = "12"

INPUT_TABLES = (
    "payers",
    "locations",
    "providers",
    "patients",
    "coverages",
    "claim_submissions",
    "submission_lines",
    "submission_line_prior_adjustments",
)


def write_837p_batches(
    practice: Practice,
    tables: Mapping[str, pl.DataFrame],
    out_dir: Path,
    start_control: int,
    *,
    batch_time: time = time(18, 0),
    claims_per_st: int = CLAIMS_PER_ST,
    usage: str = "P",
    claims_per_pass: int = 250_000,
) -> list[Path]:
    """Write one 837P file per submit date under ``out_dir/claims`` and return their paths
    in date order.

    Interchange control numbers are ``start_control``, ``start_control + 1``, ... in file
    order (the next free number is ``start_control + len(paths)``). Each file's ISA/GS/BHT
    creation timestamp is its submit date at ``batch_time``. All input checks run before the
    first file is written; a failed check raises ``X12WriteError``. ``claims_per_pass`` only
    bounds memory (dates are rendered in passes of about that many claims).
    """
    frames = {name: conform(name, tables[name]) for name in INPUT_TABLES}
    check_practice(practice)
    _check_inputs(frames)
    subs = frames["claim_submissions"]
    if subs.height == 0:
        return []

    ic = Interchange(
        sender_id=practice.submitter_id,
        receiver_id=practice.receiver_id,
        app_sender=practice.submitter_id,
        app_receiver=practice.receiver_id,
        functional_id="HC",
        transaction_set="837",
        version=VERSION,
        st03=True,
        usage=usage,
    )
    claims_dir = Path(out_dir) / "claims"
    claims_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    control = start_control
    for dates in _date_passes(subs, claims_per_pass):
        rendered = _render_transactions(frames, dates, claims_per_st)
        sets = zip(rendered.get_column("submit_date"), rendered.get_column("body"), strict=True)
        for submit_date, day_sets in groupby(sets, key=itemgetter(0)):
            created = datetime.combine(submit_date, batch_time)
            bodies = [
                _transaction_header(practice, created, f"{control:09d}{i:04d}") + body
                for i, (_, body) in enumerate(day_sets, start=1)
            ]
            text = render_interchange(ic, bodies, control_number=control, created=created)
            path = claims_dir / f"837P_{d8(submit_date)}.837"
            path.write_bytes(text.encode("ascii"))
            paths.append(path)
            control += 1
    return paths


# ---------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------


def _transaction_header(practice: Practice, created: datetime, batch_id: str) -> str:
    """BHT, 1000A, 1000B and 2000A/2010AA: the same for every ST of the practice."""
    return "".join(
        [
            segment_text(
                "BHT", "0019", "00", batch_id, d8(created), created.strftime("%H%M"), "CH"
            ),
            segment_text(
                "NM1", "41", "2", practice.name, None, None, None, None, "46", practice.submitter_id
            ),
            segment_text("PER", "IC", practice.contact_name, "TE", practice.phone),
            segment_text(
                "NM1",
                "40",
                "2",
                practice.receiver_name,
                None,
                None,
                None,
                None,
                "46",
                practice.receiver_id,
            ),
            segment_text("HL", "1", None, "20", "1"),
            segment_text("PRV", "BI", "PXC", practice.taxonomy),
            segment_text(
                "NM1", "85", "2", practice.name, None, None, None, None, "XX", practice.npi
            ),
            segment_text("N3", practice.address1),
            segment_text("N4", practice.city, practice.state, practice.zip),
            segment_text("REF", "EI", practice.tin),
        ]
    )


def _date_passes(subs: pl.DataFrame, claims_per_pass: int) -> list[list[date]]:
    """Group submit dates (in order) into passes of roughly ``claims_per_pass`` claims."""
    per_date = subs.group_by("submit_date").len().sort("submit_date")
    passes: list[list[date]] = [[]]
    running = 0
    for day, n in per_date.iter_rows():
        if passes[-1] and running + n > claims_per_pass:
            passes.append([])
            running = 0
        passes[-1].append(day)
        running += n
    return passes


def _render_transactions(
    frames: dict[str, pl.DataFrame], dates: list[date], claims_per_st: int
) -> pl.DataFrame:
    """One row per transaction set (submit_date, payer, chunk) with its claims' segments."""
    subs = frames["claim_submissions"].filter(pl.col("submit_date").is_in(dates))
    lines = frames["submission_lines"].join(
        subs.select("submission_id"), on="submission_id", how="semi"
    )
    prior_adj = frames["submission_line_prior_adjustments"].join(
        subs.select("submission_id"), on="submission_id", how="semi"
    )
    line_blocks = _render_lines(subs, lines, prior_adj)
    claims = _claim_frame(frames, subs).join(
        line_blocks, on="submission_id", how="left", maintain_order="left"
    )
    claims = _assign_hierarchy(claims, claims_per_st)
    claims = claims.with_columns(block=_claim_block())
    return (
        claims.group_by(["submit_date", "payer_id", "st_chunk"], maintain_order=True)
        .agg(body=pl.col("block").str.join(""))
        .select("submit_date", "body")
    )


def _render_lines(subs: pl.DataFrame, lines: pl.DataFrame, prior_adj: pl.DataFrame) -> pl.DataFrame:
    """Loop 2400 (with 2430) rendered per line, then joined per claim in line order."""
    cas = cas_segments(prior_adj, ["submission_id", "line_no"])
    lines = (
        lines.join(
            subs.select("submission_id", "prior_payer_id", "prior_adjudication_date"),
            on="submission_id",
            how="left",
            maintain_order="left",
        )
        .join(cas, on=["submission_id", "line_no"], how="left", maintain_order="left")
        .sort(["submission_id", "line_no"], maintain_order=True)
    )
    proc = procedure_composite(pl.col("procedure"), pl.col("modifiers"))
    pointers = pl.col("dx_pointers").cast(pl.List(pl.Utf8)).list.join(COMPONENT_SEP)
    has_2430 = pl.col("prior_paid_cents").is_not_null()
    block = blocks(
        segment("LX", pl.col("line_no")),
        segment(
            "SV1", proc, money(pl.col("charge_cents")), "UN", pl.col("units"), None, None, pointers
        ),
        segment("DTP", "472", "D8", d8_expr(pl.col("service_date"))),
        pl.when(pl.col("line_ctrl").is_not_null()).then(segment("REF", "6R", pl.col("line_ctrl"))),
        pl.when(has_2430).then(
            blocks(
                segment(
                    "SVD",
                    pl.col("prior_payer_id"),
                    money(pl.col("prior_paid_cents")),
                    proc,
                    None,
                    pl.col("units"),
                ),
                pl.col("cas"),
                segment("DTP", "573", "D8", d8_expr(pl.col("prior_adjudication_date"))),
            )
        ),
    )
    # Render first, then aggregate: expressions inside agg() run group by group.
    return (
        lines.select("submission_id", block=block, has_2430=has_2430)
        .group_by("submission_id", maintain_order=True)
        .agg(lines_block=pl.col("block").str.join(""), any_2430=pl.col("has_2430").any())
    )


def _claim_frame(frames: dict[str, pl.DataFrame], subs: pl.DataFrame) -> pl.DataFrame:
    """Claims joined with everything their 2000B..2330B segments need, columns prefixed by
    role (payer_, pat_, prov_, loc_, prior_; the billed coverage's columns keep their names)."""
    cov_cols = ["member_id", "group_number", "relationship", "subscriber_last", "subscriber_first"]
    person = ["last_name", "first_name", "dob", "sex", "address1", "city", "state", "zip"]
    place = ["address1", "city", "state", "zip"]
    joins = [
        (
            "payers",
            "payer_id",
            "payer_id",
            "payer_",
            ["name", "payer_class", "filing_indicator", *place],
        ),
        ("coverages", "coverage_id", "coverage_id", "", cov_cols),
        ("patients", "patient_id", "patient_id", "pat_", person),
        (
            "providers",
            "provider_id",
            "provider_id",
            "prov_",
            ["npi", "last_name", "first_name", "taxonomy"],
        ),
        ("locations", "location_id", "location_id", "loc_", ["name", "npi", *place]),
        ("coverages", "prior_coverage_id", "coverage_id", "prior_", cov_cols),
        ("payers", "prior_payer_id", "payer_id", "prior_", ["name", "filing_indicator"]),
    ]
    claims = subs
    for table, left_on, key, prefix, cols in joins:
        right = frames[table].select(
            pl.col(key).alias("_key"), *[pl.col(c).alias(f"{prefix}{c}") for c in cols]
        )
        claims = claims.join(
            right, left_on=left_on, right_on="_key", how="left", maintain_order="left"
        )
    return claims


def _assign_hierarchy(claims: pl.DataFrame, claims_per_st: int) -> pl.DataFrame:
    """Order claims into transaction sets and number their HL loops (HL 1 is 2000A)."""
    claims = claims.sort(["submit_date", "payer_id", "submission_id"], maintain_order=True)
    dependent = pl.col("relationship") != "18"
    claims = claims.with_columns(
        dependent=dependent,
        st_chunk=pl.int_range(pl.len()).over(["submit_date", "payer_id"]) // claims_per_st,
        hl_count=1 + dependent.cast(pl.Int64),
    )
    return claims.with_columns(
        sub_hl=pl.col("hl_count").cum_sum().over(["submit_date", "payer_id", "st_chunk"])
        - pl.col("hl_count")
        + 2
    ).with_columns(pat_hl=pl.col("sub_hl") + 1)


def _claim_block() -> pl.Expr:
    """Loops 2000B through 2400 of one claim as text."""
    c = pl.col
    dependent = c("dependent")
    secondary = c("prior_payer_id").is_not_null()
    sbr05 = pl.when(
        (c("payer_payer_class") == "medicare") & (c("payer_responsibility") != "P")
    ).then(pl.lit(MEDICARE_SECONDARY_TYPE))
    address = [
        segment("N3", c("pat_address1")),
        segment("N4", c("pat_city"), c("pat_state"), c("pat_zip")),
    ]
    demographics = segment("DMG", "D8", d8_expr(c("pat_dob")), c("pat_sex"))
    principal = pl.lit("ABK:") + c("diagnoses").list.first()
    others = c("diagnoses").list.slice(1).list.eval(pl.lit("ABF:") + pl.element()).list.join("*")
    health_codes = (
        pl.when(c("diagnoses").list.len() > 1)
        .then(pl.concat_str([principal, others], separator="*"))
        .otherwise(principal)
    )
    frequency = c("frequency")

    subscriber = [
        segment(
            "HL",
            c("sub_hl"),
            "1",
            "22",
            pl.when(dependent).then(pl.lit("1")).otherwise(pl.lit("0")),
        ),
        segment(
            "SBR",
            c("payer_responsibility"),
            pl.when(~dependent).then(pl.lit("18")),
            c("group_number"),
            None,
            sbr05,
            None,
            None,
            None,
            c("payer_filing_indicator"),
        ),
        subscriber_nm1(c("member_id"), c("subscriber_last"), c("subscriber_first")),
        pl.when(~dependent).then(blocks(*address, demographics)),
        segment("NM1", "PR", "2", c("payer_name"), None, None, None, None, "PI", c("payer_id")),
        pl.when(c("payer_address1").is_not_null()).then(
            blocks(
                segment("N3", c("payer_address1")),
                segment("N4", c("payer_city"), c("payer_state"), c("payer_zip")),
            )
        ),
    ]
    patient = pl.when(dependent).then(
        blocks(
            segment("HL", c("pat_hl"), c("sub_hl"), "23", "0"),
            segment("PAT", c("relationship")),
            segment("NM1", "QC", "1", c("pat_last_name"), c("pat_first_name")),
            *address,
            demographics,
        )
    )
    claim = [
        segment(
            "CLM",
            c("claim_id"),
            money(c("total_charge_cents")),
            None,
            None,
            pl.concat_str([c("place_of_service"), pl.lit("B"), frequency], separator=COMPONENT_SEP),
            "Y",
            "A",
            "Y",
            "Y",
        ),
        # 2300 REF segments in TR3 order: F8 (payer claim control number) before EA
        # (medical record number, the practice's MRN; it names the patient when no
        # appointment does, e.g. chronic care management).
        pl.when(frequency.is_in(["7", "8"])).then(segment("REF", "F8", c("payer_claim_ref"))),
        segment("REF", "EA", c("patient_id")),
        segment("HI", health_codes),
        pl.when(c("provider_id").is_not_null()).then(
            blocks(
                segment(
                    "NM1",
                    "82",
                    "1",
                    c("prov_last_name"),
                    c("prov_first_name"),
                    None,
                    None,
                    None,
                    "XX",
                    c("prov_npi"),
                ),
                segment("PRV", "PE", "PXC", c("prov_taxonomy")),
            )
        ),
        pl.when(c("location_id").is_not_null()).then(
            blocks(
                segment(
                    "NM1", "77", "2", c("loc_name"), None, None, None, None, "XX", c("loc_npi")
                ),
                segment("N3", c("loc_address1")),
                segment("N4", c("loc_city"), c("loc_state"), c("loc_zip")),
            )
        ),
    ]
    other_payer = pl.when(secondary).then(
        blocks(
            segment(
                "SBR",
                "P",
                c("prior_relationship"),
                c("prior_group_number"),
                None,
                None,
                None,
                None,
                None,
                c("prior_filing_indicator"),
            ),
            pl.when(c("prior_paid_cents").is_not_null()).then(
                segment("AMT", "D", money(c("prior_paid_cents")))
            ),
            segment("OI", None, None, "Y", None, None, "Y"),
            segment(
                "NM1",
                "IL",
                "1",
                c("prior_subscriber_last"),
                c("prior_subscriber_first"),
                None,
                None,
                None,
                "MI",
                c("prior_member_id"),
            ),
            segment(
                "NM1", "PR", "2", c("prior_name"), None, None, None, None, "PI", c("prior_payer_id")
            ),
            pl.when(~c("any_2430") & c("prior_adjudication_date").is_not_null()).then(
                segment("DTP", "573", "D8", d8_expr(c("prior_adjudication_date")))
            ),
        )
    )
    return blocks(*subscriber, patient, *claim, other_payer, c("lines_block"))


# ---------------------------------------------------------------------------------------
# Input checks (all before writing)
# ---------------------------------------------------------------------------------------


def _check_inputs(frames: dict[str, pl.DataFrame]) -> None:
    for name, df in frames.items():
        check_text(df, name)
    subs = frames["claim_submissions"]
    lines = frames["submission_lines"]
    prior_adj = frames["submission_line_prior_adjustments"]

    fail_rows(
        subs.group_by("submission_id").len().filter(pl.col("len") > 1),
        "claim_submissions",
        "submission_id must be unique",
    )
    refs = [
        ("coverage_id", "coverages", "coverage_id"),
        ("patient_id", "patients", "patient_id"),
        ("payer_id", "payers", "payer_id"),
        ("provider_id", "providers", "provider_id"),
        ("location_id", "locations", "location_id"),
        ("prior_payer_id", "payers", "payer_id"),
        ("prior_coverage_id", "coverages", "coverage_id"),
    ]
    for col, parent, parent_col in refs:
        require_keys(
            subs,
            frames[parent],
            col,
            child_table=f"claim_submissions.{col}",
            parent_table=parent,
            parent_on=parent_col,
        )
    require_keys(
        lines,
        subs,
        "submission_id",
        child_table="submission_lines",
        parent_table="claim_submissions",
    )
    require_keys(
        prior_adj,
        lines,
        ["submission_id", "line_no"],
        child_table="submission_line_prior_adjustments",
        parent_table="submission_lines",
    )

    required = {
        "claim_submissions": (
            subs,
            [
                "submission_id",
                "claim_id",
                "patient_id",
                "coverage_id",
                "payer_id",
                "payer_responsibility",
                "frequency",
                "submit_date",
                "place_of_service",
                "total_charge_cents",
                "diagnoses",
            ],
        ),
        "submission_lines": (
            lines,
            [
                "submission_id",
                "line_no",
                "procedure",
                "charge_cents",
                "units",
                "service_date",
                "dx_pointers",
            ],
        ),
        "submission_line_prior_adjustments": (prior_adj, ["group", "reason", "amount_cents"]),
        "patients": (
            frames["patients"],
            ["last_name", "first_name", "dob", "sex", "address1", "city", "state", "zip"],
        ),
        "coverages": (frames["coverages"], ["member_id", "relationship", "subscriber_last"]),
        "payers": (frames["payers"], ["name", "filing_indicator"]),
        "providers": (frames["providers"], ["npi", "last_name", "taxonomy"]),
        "locations": (frames["locations"], ["name", "npi", "address1", "city", "state", "zip"]),
    }
    for table, (df, cols) in required.items():
        for col in cols:
            fail_rows(df.filter(pl.col(col).is_null()), table, f"{col} is required (not null)")

    c = pl.col
    fail_rows(
        subs.filter(c("frequency").is_in(["7", "8"]) & c("payer_claim_ref").is_null()),
        "claim_submissions",
        "frequency 7/8 needs payer_claim_ref (REF*F8)",
    )
    fail_rows(
        subs.filter(
            (c("payer_responsibility") != "P")
            & (c("prior_payer_id").is_null() | c("prior_coverage_id").is_null())
        ),
        "claim_submissions",
        "a non-primary claim needs prior_payer_id and prior_coverage_id (loops 2320/2330)",
    )
    fail_rows(
        subs.filter(c("prior_payer_id").is_not_null() & c("prior_coverage_id").is_null()),
        "claim_submissions",
        "prior_payer_id needs prior_coverage_id (loop 2330A)",
    )
    fail_rows(
        subs.filter(~c("diagnoses").list.len().is_between(1, MAX_DIAGNOSES)),
        "claim_submissions",
        f"diagnoses must hold 1..{MAX_DIAGNOSES} codes (HI)",
    )

    n_dx = subs.select("submission_id", n_dx=c("diagnoses").list.len())
    checked = lines.join(n_dx, on="submission_id", how="left")
    fail_rows(
        checked.filter(
            ~c("dx_pointers").list.len().is_between(1, MAX_POINTERS)
            | (c("dx_pointers").list.min() < 1)
            | (c("dx_pointers").list.max() > c("n_dx"))
        ).select("submission_id", "line_no", "dx_pointers", "n_dx"),
        "submission_lines",
        f"dx_pointers must hold 1..{MAX_POINTERS} pointers into the claim's diagnoses",
    )
    fail_rows(
        lines.filter(c("modifiers").list.len() > MAX_MODIFIERS).select("submission_id", "line_no"),
        "submission_lines",
        f"at most {MAX_MODIFIERS} modifiers",
    )
    fail_rows(
        lines.filter(c("units") <= 0).select("submission_id", "line_no", "units"),
        "submission_lines",
        "units must be positive",
    )

    per_claim = lines.group_by("submission_id").agg(
        n=pl.len(),
        lo=c("line_no").min(),
        hi=c("line_no").max(),
        distinct=c("line_no").n_unique(),
        charge=c("charge_cents").sum(),
        prior_lines=c("prior_paid_cents").is_not_null().sum(),
        prior_paid=c("prior_paid_cents").sum(),
    )
    claims = subs.join(per_claim, on="submission_id", how="left")
    fail_rows(
        claims.filter(c("n").is_null()).select("submission_id", "claim_id"),
        "claim_submissions",
        "a claim needs at least one line (loop 2400)",
    )
    fail_rows(
        claims.filter(
            (c("n") > MAX_LINES) | (c("lo") != 1) | (c("hi") != c("n")) | (c("distinct") != c("n"))
        ).select("submission_id", "n", "lo", "hi"),
        "submission_lines",
        f"line_no must run 1..n (n <= {MAX_LINES}) within a claim (LX01)",
    )
    fail_rows(
        claims.filter(c("charge") != c("total_charge_cents")).select(
            "submission_id", "claim_id", "total_charge_cents", "charge"
        ),
        "claim_submissions",
        "CLM02 total_charge_cents = sum of SV102 line charges",
    )

    # Coordination of benefits (TR3 2320/2430 balancing).
    fail_rows(
        claims.filter((c("prior_lines") > 0) & c("prior_payer_id").is_null()).select(
            "submission_id", "claim_id"
        ),
        "submission_lines",
        "prior_paid_cents (SVD) needs the claim's prior_payer_id",
    )
    fail_rows(
        claims.filter((c("prior_lines") > 0) & c("prior_adjudication_date").is_null()).select(
            "submission_id", "claim_id"
        ),
        "claim_submissions",
        "line adjudication (2430) needs prior_adjudication_date (DTP*573)",
    )
    fail_rows(
        claims.filter(
            (c("prior_lines") > 0)
            & (c("prior_paid_cents").is_null() | (c("prior_paid_cents") != c("prior_paid")))
        ).select("submission_id", "claim_id", "prior_paid_cents", "prior_paid"),
        "claim_submissions",
        "AMT*D prior_paid_cents = sum of the lines' SVD02 prior_paid_cents",
    )
    adj_sum = prior_adj.group_by(["submission_id", "line_no"]).agg(adjusted=c("amount_cents").sum())
    cob = lines.join(adj_sum, on=["submission_id", "line_no"], how="left")
    fail_rows(
        cob.filter(c("adjusted").is_not_null() & c("prior_paid_cents").is_null()).select(
            "submission_id", "line_no"
        ),
        "submission_line_prior_adjustments",
        "prior adjustments (2430 CAS) need the line's prior_paid_cents (SVD02)",
    )
    fail_rows(
        cob.filter(
            c("prior_paid_cents").is_not_null()
            & (c("charge_cents") - c("adjusted").fill_null(0) != c("prior_paid_cents"))
        ).select("submission_id", "line_no", "charge_cents", "adjusted", "prior_paid_cents"),
        "submission_lines",
        "SV102 charge - sum of 2430 CAS = SVD02 prior_paid_cents",
    )
    n_cas = cas_segments(prior_adj, ["submission_id", "line_no"])
    fail_rows(
        n_cas.filter(c("n_cas") > MAX_CAS_2430).select("submission_id", "line_no", "n_cas"),
        "submission_line_prior_adjustments",
        f"at most {MAX_CAS_2430} CAS segments per line (group codes x 6 reasons)",
    )
