"""Report settings from the environment (``RCM_*``, listed in ``.env.example``).

Every setting has a default that makes the demo run with nothing set: reports for the
whole practice only, in America/Chicago, no email. SMTP secrets come from the
environment only and are never printed (``repr`` leaves the password out).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "America/Chicago"
DEFAULT_REPORTS_START = "2024-01"
DEFAULT_SMTP_PORT = 587  # message submission with STARTTLS (RFC 6409)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class ReportSettingsError(ValueError):
    """A report setting that cannot be used: the message names the variable and the fix."""


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ReportSettingsError(f"{name}={raw!r}: use true or false")


def parse_month(text: str, what: str = "month") -> date:
    """'2026-03' -> date(2026, 3, 1); anything else is an error naming ``what``."""
    match = _MONTH.match(text.strip())
    if not match:
        raise ReportSettingsError(f"{what} {text!r}: expected YYYY-MM, e.g. 2026-03")
    return date(int(match.group(1)), int(match.group(2)), 1)


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send reports by email. The password is never shown in ``repr``."""

    host: str
    sender: str
    recipients: tuple[str, ...]
    port: int = DEFAULT_SMTP_PORT
    starttls: bool = True
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None  # certificates to trust for STARTTLS (else the system's)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        """``RCM_SMTP_HOST``, ``RCM_SMTP_PORT`` (587), ``RCM_SMTP_STARTTLS`` (true),
        ``RCM_SMTP_USERNAME``, ``RCM_SMTP_PASSWORD``, ``RCM_SMTP_CA_FILE`` (a private
        CA's certificates), ``RCM_REPORT_SENDER`` and ``RCM_REPORT_RECIPIENTS`` (comma
        separated)."""
        env = os.environ if environ is None else environ
        host = env.get("RCM_SMTP_HOST", "").strip()
        sender = env.get("RCM_REPORT_SENDER", "").strip()
        recipients = tuple(
            r.strip() for r in env.get("RCM_REPORT_RECIPIENTS", "").split(",") if r.strip()
        )
        missing = [
            name
            for name, value in (
                ("RCM_SMTP_HOST", host),
                ("RCM_REPORT_SENDER", sender),
                ("RCM_REPORT_RECIPIENTS", recipients),
            )
            if not value
        ]
        if missing:
            raise ReportSettingsError(
                f"emailing reports needs {', '.join(missing)} (see .env.example)"
            )
        port_text = env.get("RCM_SMTP_PORT", str(DEFAULT_SMTP_PORT)).strip()
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ReportSettingsError(f"RCM_SMTP_PORT={port_text!r}: expected a port number")
        username = env.get("RCM_SMTP_USERNAME", "").strip() or None
        password = env.get("RCM_SMTP_PASSWORD") or None
        starttls = _flag(env, "RCM_SMTP_STARTTLS", True)
        if password and not starttls:
            raise ReportSettingsError(
                "RCM_SMTP_PASSWORD is set but RCM_SMTP_STARTTLS is false: a password is "
                "only sent over an encrypted connection"
            )
        ca_file = env.get("RCM_SMTP_CA_FILE", "").strip() or None
        if ca_file and not os.path.isfile(ca_file):
            raise ReportSettingsError(f"RCM_SMTP_CA_FILE={ca_file!r}: no such file")
        return cls(host, sender, recipients, int(port_text), starttls, username, password, ca_file)


@dataclass(frozen=True)
class ReportSettings:
    """What the scheduled reports do.

    practice_name: shown in the title block (``RCM_PRACTICE_NAME``; by default the
        locations' names, which the marts carry).
    locations: location ids that also get a report of their own (``RCM_REPORT_LOCATIONS``:
        a comma list, or ``all``; none by default); ``all_locations`` for ``all``.
    timezone: the practice's time zone, in which the schedules fire (``RCM_PRACTICE_TZ``).
    reports_start: the first month (and week) the Dagster partitions offer
        (``RCM_REPORTS_START``, YYYY-MM).
    email: send each report by email after writing it (``RCM_REPORT_EMAIL``, off).
    """

    practice_name: str | None = None
    locations: tuple[str, ...] = ()
    all_locations: bool = False
    timezone: str = DEFAULT_TIMEZONE
    reports_start: date = date(2024, 1, 1)
    email: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ReportSettings:
        env = os.environ if environ is None else environ
        timezone = env.get("RCM_PRACTICE_TZ", "").strip() or DEFAULT_TIMEZONE
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ReportSettingsError(
                f"RCM_PRACTICE_TZ={timezone!r} is not a time zone name (e.g. America/Chicago)"
            ) from None
        raw_locations = env.get("RCM_REPORT_LOCATIONS", "").strip()
        all_locations = raw_locations.lower() == "all"
        locations = (
            ()
            if all_locations
            else tuple(dict.fromkeys(x.strip() for x in raw_locations.split(",") if x.strip()))
        )
        start = parse_month(
            env.get("RCM_REPORTS_START", "").strip() or DEFAULT_REPORTS_START, "RCM_REPORTS_START"
        )
        return cls(
            practice_name=env.get("RCM_PRACTICE_NAME", "").strip() or None,
            locations=locations,
            all_locations=all_locations,
            timezone=timezone,
            reports_start=start,
            email=_flag(env, "RCM_REPORT_EMAIL", False),
        )
