"""The e-mail client against a real SMTP server on loopback."""
import socket

import pytest
from aiosmtpd.controller import Controller

from integrations.notify.email import FolderSender, SmtpSender, build_message, sender_from_url


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_smtp_delivery_in_utf8(smtp_server):
    controller, inbox = smtp_server
    sender = sender_from_url(f"smtp://127.0.0.1:{controller.port}")
    assert isinstance(sender, SmtpSender)
    sender.send(build_message("GridCase <noreply@gridcase.example>", "ivanova@example.com",
                              "Подтвердите адрес", "Здравствуйте!\nСсылка: http://x/y\n"))
    assert len(inbox.envelopes) == 1
    envelope = inbox.envelopes[0]
    assert envelope.rcpt_tos == ["ivanova@example.com"]
    assert b"Subject: =?utf-8?" in envelope.content


def test_unreachable_server_raises_oserror_for_the_retry():
    with pytest.raises(OSError):
        SmtpSender("127.0.0.1", free_port(), timeout=2).send(build_message("a@b.example", "c@d.example", "s", "b"))


def test_folder_sender_and_bad_urls(tmp_path):
    sender = sender_from_url(f"file://{tmp_path}/mail")
    assert isinstance(sender, FolderSender)
    sender.send(build_message("a@b.example", "c@d.example", "s", "b"))
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    with pytest.raises(ValueError):
        sender_from_url("http://example.com")
