"""E-mail delivery by SMTP, or into a folder of .eml files where no mail server is set up.

The transport is chosen by one URL: smtp://user:password@host:port (STARTTLS when the server offers
it), smtps://... (TLS from the start) or file:///path/to/folder.
"""
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit


def build_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="gridcase.example")
    msg.set_content(body)
    return msg


class SmtpSender:
    def __init__(self, host: str, port: int, username: str | None = None, password: str | None = None,
                 implicit_tls: bool = False, timeout: float = 10):
        self.host, self.port, self.username, self.password = host, port, username, password
        self.implicit_tls, self.timeout = implicit_tls, timeout

    def send(self, msg: EmailMessage) -> None:
        context = ssl.create_default_context()
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if not self.implicit_tls and client.has_extn("starttls"):
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(msg)


class FolderSender:
    """Writes each letter to a file: the demo and development 'mail server'."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def send(self, msg: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(bytes(msg))


def sender_from_url(url: str):
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FolderSender(unquote(parts.netloc + parts.path))
    if parts.scheme in {"smtp", "smtps"}:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
        return SmtpSender(parts.hostname or "localhost", port, unquote(parts.username or "") or None,
                          unquote(parts.password or "") or None, implicit_tls=parts.scheme == "smtps")
    raise ValueError(f"MAIL_URL must start with smtp://, smtps:// or file://, not {url!r}")
