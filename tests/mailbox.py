"""A real SMTP server for tests (aiosmtpd in a thread) that keeps what it receives.

Use the `smtp_server` fixture (tests/conftest.py), or `running_smtp_server()` for a longer-lived
one (the e2e suite starts one per session and points the app at it).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set to an SMTP reply (e.g. "451 try later") to refuse every message.
    refuse_with: str | None = None

    async def handle_DATA(self, _server, _session, envelope) -> str:
        if self.refuse_with:
            return self.refuse_with
        message = message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def wait_for(self, address: str, subject_contains: str = "", *, count: int = 1,
                 timeout: float = 20.0) -> EmailMessage:
        """The `count`-th message to `address` whose subject contains the text (polls until a
        deadline)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.to(address) if subject_contains in str(m["Subject"])]
            if len(found) >= count:
                return found[count - 1]
            if time.monotonic() > deadline:
                subjects = [str(m["Subject"]) for m in self.to(address)]
                raise AssertionError(
                    f"No message #{count} to {address} with {subject_contains!r} in "
                    f"{timeout}s; got {subjects}")
            time.sleep(0.05)  # polling the inbox against a deadline


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the message has no text/plain part"
    return part.get_content()


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "the message has no text/html part"
    return part.get_content()


def links_in(message: EmailMessage) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text_of(message))


def link_to(message: EmailMessage, path: str) -> str:
    """The first link in the message whose URL contains `path`."""
    for link in links_in(message):
        if path in link:
            return link
    raise AssertionError(f"No link to {path} in:\n{text_of(message)}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer("127.0.0.1", _free_port())
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


