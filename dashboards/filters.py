"""The global filters and the URL that carries them. Pure: a view is a query string, so a
bookmark or a shared link reopens it exactly."""

import re
from dataclasses import dataclass, fields, replace
from datetime import date
from urllib.parse import parse_qsl, urlencode

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

# query-string key -> Filters field; the order is the order in the URL
GLOBAL_KEYS = {
    "from": "month_from",
    "to": "month_to",
    "location": "location_id",
    "provider": "provider_npi",
    "payer_class": "payer_class",
    "payer": "payer_id",
}


def parse_month(text: str | None) -> date | None:
    """'2026-03' -> date(2026, 3, 1); anything else -> None (a bad link shows the default)."""
    if not text:
        return None
    match = MONTH.match(text.strip())
    return date(int(match.group(1)), int(match.group(2)), 1) if match else None


def month_text(value: date | None) -> str | None:
    return None if value is None else f"{value.year:04d}-{value.month:02d}"


@dataclass(frozen=True)
class Filters:
    """What every page filters on. None means all."""

    month_from: date | None = None
    month_to: date | None = None
    location_id: str | None = None
    provider_npi: str | None = None
    payer_class: str | None = None
    payer_id: str | None = None

    @classmethod
    def from_query(cls, query: dict[str, str | None]) -> "Filters":
        values: dict[str, object] = {}
        for key, name in GLOBAL_KEYS.items():
            raw = query.get(key)
            raw = raw.strip() if isinstance(raw, str) else None
            if name.startswith("month_"):
                values[name] = parse_month(raw)
            else:
                values[name] = raw or None
        filters = cls(**values)  # type: ignore[arg-type]
        if filters.month_from and filters.month_to and filters.month_from > filters.month_to:
            filters = replace(filters, month_from=filters.month_to, month_to=filters.month_from)
        return filters

    def to_query(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, name in GLOBAL_KEYS.items():
            value = getattr(self, name)
            text = month_text(value) if name.startswith("month_") else value
            if text:
                out[key] = text
        return out

    def with_range(self, first: date, last: date) -> "Filters":
        """Fill an open range with the given default months."""
        return replace(self, month_from=self.month_from or first, month_to=self.month_to or last)

    def dimension_filters(self) -> dict[str, str]:
        """Column -> value for the filters that are set (months excluded)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if not f.name.startswith("month_") and getattr(self, f.name)
        }


def parse_search(search: str | None) -> dict[str, str]:
    """'?from=2026-01&payer=AETNA' -> {'from': '2026-01', 'payer': 'AETNA'} (last value wins)."""
    return dict(parse_qsl((search or "").lstrip("?"), keep_blank_values=False))


def build_search(params: dict[str, str | None]) -> str:
    """The inverse of parse_search, dropping empty values; '' when nothing is set."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"?{urlencode(kept)}" if kept else ""


def global_search(search: str | None) -> str:
    """Only the global filters of a query string: what page links carry to another page."""
    params = parse_search(search)
    return build_search({k: params.get(k) for k in GLOBAL_KEYS})


# KPIs are published per practice and per one segment (fct_kpis_monthly.segment_type); the
# most specific filter picks the segment, and the others cannot apply to KPI figures.
SEGMENT_PRIORITY = [
    ("payer_id", "payer"),
    ("payer_class", "payer_class"),
    ("provider_npi", "provider"),
    ("location_id", "location"),
]


@dataclass(frozen=True)
class KpiSegment:
    segment_type: str
    segment_id: str
    ignored: tuple[str, ...] = ()  # filter fields set but not applied to KPIs


def kpi_segment(filters: Filters) -> KpiSegment:
    chosen: tuple[str, str] | None = None
    ignored: list[str] = []
    for field_name, segment_type in SEGMENT_PRIORITY:
        value = getattr(filters, field_name)
        if not value:
            continue
        if chosen is None:
            chosen = (segment_type, value)
        else:
            ignored.append(field_name)
    if chosen is None:
        return KpiSegment("practice", "all")
    return KpiSegment(chosen[0], chosen[1], tuple(ignored))
