"""Email the reports over SMTP (off unless asked for; settings in :class:`SmtpSettings`).

One message per run: the PDFs attached, the summary sentences in the body. Both carry
aggregates only (no patient or claim identifiers: minimum necessary). STARTTLS is on by
default and a password is never sent without it.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from pipelines.lib.report.settings import SmtpSettings


class DeliveryError(RuntimeError):
    """The report could not be sent: the message names the server and what failed."""


def build_message(
    subject: str,
    body: str,
    attachments: Sequence[Path],
    settings: SmtpSettings,
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(body)
    for path in attachments:
        message.add_attachment(
            path.read_bytes(), maintype="application", subtype="pdf", filename=path.name
        )
    return message


def send(message: EmailMessage, settings: SmtpSettings, timeout: float = 30) -> None:
    """Send over SMTP: STARTTLS (verified against the system's or ``ca_file``'s
    certificates) when set, then login when a username is set."""
    where = f"{settings.host}:{settings.port}"
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if settings.starttls:
                context = ssl.create_default_context(cafile=settings.ca_file)
                smtp.starttls(context=context)
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            refused = smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"sending the report through {where} failed: {error}") from error
    if refused:
        raise DeliveryError(f"{where} refused recipients: {', '.join(sorted(refused))}")
