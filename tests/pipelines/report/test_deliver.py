"""Email: `rcm report --email` sends the reports to a local SMTP server (aiosmtpd, started
here on 127.0.0.1) over STARTTLS with a login, and the message carries the PDFs and the
summary; a server that cannot be reached is an error that names it."""

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from pipelines.lib.report.deliver import DeliveryError, build_message, send
from pipelines.lib.report.settings import SmtpSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (openssl, valid one day)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@dataclass
class Inbox:
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's name for it
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            self.logins.append((auth_data.login, auth_data.password))
            ok = (auth_data.login, auth_data.password) == (b"reports", b"s3cret")
            return AuthResult(success=ok)
        return AuthResult(success=False)


@pytest.fixture
def smtp_server(tmp_path):
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=inbox.authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        yield inbox, port, cert
    finally:
        controller.stop()


def test_rcm_report_email_sends_the_pdfs_over_starttls(
    smtp_server, published_small, chart_browser, monkeypatch, tmp_path
):
    from click.testing import CliRunner

    from pipelines.cli import main

    inbox, port, cert = smtp_server
    root = tmp_path / "data"
    shutil.copytree(published_small / "warehouse", root / "warehouse")
    env = {
        "RCM_DATA_DIR": str(root),
        "RCM_REPORT_LOCATIONS": "all",
        "RCM_SMTP_HOST": "127.0.0.1",
        "RCM_SMTP_PORT": str(port),
        "RCM_SMTP_STARTTLS": "true",
        "RCM_SMTP_CA_FILE": str(cert),
        "RCM_SMTP_USERNAME": "reports",
        "RCM_SMTP_PASSWORD": "s3cret",
        "RCM_REPORT_SENDER": "reports@lakeview.example",
        "RCM_REPORT_RECIPIENTS": "owner@lakeview.example, manager@lakeview.example",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["report", "--month", "2024-03", "--email"])
    assert result.exit_code == 0, result.output
    assert "Emailed to owner@lakeview.example, manager@lakeview.example" in result.output

    assert inbox.logins == [(b"reports", b"s3cret")]
    ((sender, recipients, raw),) = inbox.messages
    assert sender == "reports@lakeview.example"
    assert recipients == ["owner@lakeview.example", "manager@lakeview.example"]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "Monthly owner report, March 2024"
    assert message["To"] == "owner@lakeview.example, manager@lakeview.example"
    body = message.get_body(("plain",)).get_content()
    assert "The monthly owner report for March 2024 is attached." in body
    assert "In March 2024 the practice billed $" in body
    attachments = {a.get_filename(): a.get_content() for a in message.iter_attachments()}
    assert set(attachments) == {"owner-report-2024-03.pdf", "owner-report-2024-03-L01.pdf"}
    for name, content in attachments.items():
        assert content == (root / "reports" / name).read_bytes()
        assert content.startswith(b"%PDF-")


def test_a_server_that_cannot_be_reached_is_named(tmp_path):
    (tmp_path / "r.pdf").write_bytes(b"%PDF-1.4\n")
    settings = SmtpSettings("127.0.0.1", "a@b.example", ("c@d.example",), port=free_port())
    message = build_message("s", "b", [tmp_path / "r.pdf"], settings)
    with pytest.raises(DeliveryError, match=r"127\.0\.0\.1:\d+ failed"):
        send(message, settings, timeout=5)
