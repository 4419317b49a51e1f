"""A deliberately naive 835 reader for tests, independent of the generator's writer and of
the production parser: split on the separators ISA declares and total what the file says."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path


@dataclass
class Remit:
    path: Path
    bpr02: Decimal = Decimal(0)
    claims: list[dict] = field(default_factory=list)  # CLP with its CAS and SVC
    plb: list[tuple[str, Decimal]] = field(default_factory=list)


def segments(text: str) -> list[list[str]]:
    element, terminator = text[3], text[105]
    return [s.strip().split(element) for s in text.split(terminator) if s.strip()]


def read_835(path: Path) -> Remit:
    text = path.read_text()
    component = text[104]
    remit = Remit(path)
    claim: dict | None = None
    line: dict | None = None
    for seg in segments(text):
        tag = seg[0]
        if tag == "BPR":
            remit.bpr02 = Decimal(seg[2])
        elif tag == "CLP":
            claim = {
                "id": seg[1],
                "status": seg[2],
                "charge": Decimal(seg[3]),
                "paid": Decimal(seg[4]),
                "cas": [],
                "lines": [],
            }
            remit.claims.append(claim)
            line = None
        elif tag == "SVC":
            assert claim is not None
            line = {
                "code": seg[1].split(component)[1],
                "charge": Decimal(seg[2]),
                "paid": Decimal(seg[3]),
                "cas": [],
                "ref": None,
            }
            claim["lines"].append(line)
        elif tag == "CAS":
            target = line if line is not None else claim
            assert target is not None
            for i in range(2, len(seg), 3):
                if seg[i]:
                    target["cas"].append((seg[1], seg[i], Decimal(seg[i + 1])))
        elif tag == "REF" and seg[1] == "6R" and line is not None:
            line["ref"] = seg[2]
        elif tag == "PLB":
            for i in range(3, len(seg), 2):
                if seg[i]:
                    remit.plb.append((seg[i].split(component)[0], Decimal(seg[i + 1])))
    return remit


def totals_by_claim(remits: list[Remit]) -> dict[str, dict[str, Decimal]]:
    """Per CLP01: paid, and every CAS group-reason amount, summed over all remittances."""
    out: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in remits:
        for c in r.claims:
            t = out[c["id"]]
            t["paid"] += c["paid"]
            for g, reason, amt in c["cas"] + [x for ln in c["lines"] for x in ln["cas"]]:
                t[f"{g}-{reason}"] += amt
    return out
