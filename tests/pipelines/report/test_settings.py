"""Report settings from the environment: defaults that need nothing set, and errors that
name the variable to fix."""

from datetime import date

import pytest

from pipelines.lib.report.settings import (
    ReportSettings,
    ReportSettingsError,
    SmtpSettings,
    parse_month,
)

SMTP = {
    "RCM_SMTP_HOST": "smtp.example.org",
    "RCM_REPORT_SENDER": "reports@example.org",
    "RCM_REPORT_RECIPIENTS": "owner@example.org, manager@example.org",
}


def test_defaults_need_nothing_set():
    settings = ReportSettings.from_env({})
    assert settings == ReportSettings()
    assert settings.timezone == "America/Chicago"
    assert settings.locations == () and not settings.all_locations
    assert settings.reports_start == date(2024, 1, 1)
    assert settings.email is False and settings.practice_name is None


def test_locations_are_a_list_or_all():
    listed = ReportSettings.from_env({"RCM_REPORT_LOCATIONS": " L01, L02,,L01 "})
    assert listed.locations == ("L01", "L02") and not listed.all_locations
    every = ReportSettings.from_env({"RCM_REPORT_LOCATIONS": "ALL"})
    assert every.all_locations and every.locations == ()


def test_bad_values_name_the_variable():
    with pytest.raises(ReportSettingsError, match="RCM_PRACTICE_TZ='Mars/Olympus'"):
        ReportSettings.from_env({"RCM_PRACTICE_TZ": "Mars/Olympus"})
    with pytest.raises(ReportSettingsError, match="RCM_REPORT_EMAIL='perhaps'"):
        ReportSettings.from_env({"RCM_REPORT_EMAIL": "perhaps"})
    with pytest.raises(ReportSettingsError, match="RCM_REPORTS_START '2024-1'"):
        ReportSettings.from_env({"RCM_REPORTS_START": "2024-1"})
    assert parse_month("2026-03") == date(2026, 3, 1)


def test_smtp_settings_from_the_environment():
    smtp = SmtpSettings.from_env({**SMTP, "RCM_SMTP_PASSWORD": "s3cret", "RCM_SMTP_USERNAME": "u"})
    assert smtp.port == 587 and smtp.starttls
    assert smtp.recipients == ("owner@example.org", "manager@example.org")
    assert "s3cret" not in repr(smtp)


def test_smtp_settings_refuse_what_cannot_work():
    with pytest.raises(ReportSettingsError, match="RCM_SMTP_HOST, RCM_REPORT_RECIPIENTS"):
        SmtpSettings.from_env({"RCM_REPORT_SENDER": "a@b.c"})
    with pytest.raises(ReportSettingsError, match="RCM_SMTP_PORT='smtp'"):
        SmtpSettings.from_env({**SMTP, "RCM_SMTP_PORT": "smtp"})
    with pytest.raises(ReportSettingsError, match="only sent over an encrypted connection"):
        SmtpSettings.from_env({**SMTP, "RCM_SMTP_STARTTLS": "false", "RCM_SMTP_PASSWORD": "x"})
    with pytest.raises(ReportSettingsError, match="RCM_SMTP_CA_FILE"):
        SmtpSettings.from_env({**SMTP, "RCM_SMTP_CA_FILE": "/no/such/ca.pem"})
