"""Outgoing mail: SMTP when ``AGORA_SMTP_URL`` is set, else files in ``instance/outbox``
(so that a newcomer running the demo can open the magic link without a mail server)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app

from agora.db import new_id


def send(to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = current_app.config["AGORA_MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    url = current_app.config.get("AGORA_SMTP_URL")
    if not url:
        outbox = Path(current_app.instance_path) / "outbox"
        outbox.mkdir(parents=True, exist_ok=True)
        path = outbox / f"{new_id()}.eml"
        path.write_bytes(bytes(message))
        current_app.logger.info("mail to %s written to %s", to, path)
        return
    parts = urlsplit(url)  # smtp://user:password@host:port or smtp+starttls://…
    with smtplib.SMTP(parts.hostname or "127.0.0.1", parts.port or 25, timeout=10) as smtp:
        if parts.scheme == "smtp+starttls":
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)
