"""SMTP sending against real aiosmtpd servers: reuse, reconnect, TLS with verified certificates, login, answers."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from newsroom.mail.mailer import Mailer, MailerConfigError, SmtpConfig
from newsroom.mail.outbox import ChannelDown, PermanentFailure, TemporaryFailure
from smtpsink import RecordingHandler, free_port, start_server

MESSAGE = b"From: a@testila.example\r\nTo: b@mailer.example\r\nSubject: Hei\r\n\r\nTeksti.\r\n"


class CountingHandler(RecordingHandler):
    """Also counts sessions (EHLO) and notes whether each message came over TLS."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions = 0
        self.tls: list[bool] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope) -> str:
        self.tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize(
    "url, implicit, starttls, host, port, user, password",
    [
        (
            "smtp://mailer%40testila.example:p%40ss%3Aword@mail.example.org:587",
            False,
            True,
            "mail.example.org",
            587,
            "mailer@testila.example",
            "p@ss:word",
        ),
        ("smtp://mail.example.org", False, True, "mail.example.org", 587, "", ""),
        ("smtps://mail.example.org", True, False, "mail.example.org", 465, "", ""),
        ("smtp://127.0.0.1:1025", False, False, "127.0.0.1", 1025, "", ""),
        ("smtp://relay.lan:25?tls=none", False, False, "relay.lan", 25, "", ""),
        ("smtp://localhost:2525?tls=starttls", False, True, "localhost", 2525, "", ""),
    ],
)
def test_smtp_addresses_are_read_with_tls_required_off_this_machine(
    url, implicit, starttls, host, port, user, password
):
    assert SmtpConfig.parse(url) == SmtpConfig(implicit, host, port, user, password, starttls)


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://mail.example.org", "must start with smtp:// or smtps://"),
        ("smtp://", "must start with smtp:// or smtps:// and name a host"),
        ("smtp://mail.example.org:notaport", "is not an address"),
        ("smtps://mail.example.org?tls=none", "tls= may be 'starttls' or 'none', and only with smtp://"),
    ],
)
def test_unusable_smtp_addresses_are_refused_with_what_to_write(url, message):
    with pytest.raises(MailerConfigError, match=message):
        SmtpConfig.parse(url)


def test_a_password_in_a_bad_address_is_not_repeated_in_the_message():
    with pytest.raises(MailerConfigError) as error:
        SmtpConfig.parse("smtp://user:hunter2@mail.example.org:bad")
    assert "hunter2" not in str(error.value) and "user:***@" in str(error.value)


def _server(**options) -> tuple[Controller, CountingHandler, int]:
    handler = CountingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller, handler, port


def test_one_connection_carries_many_messages():
    controller, handler, port = _server()
    try:
        with Mailer(SmtpConfig.parse(f"smtp://127.0.0.1:{port}")) as mailer:
            for n in range(5):
                mailer.send(MESSAGE, "a@testila.example", f"reader{n}@mailer.example")
    finally:
        controller.stop()
    assert handler.sessions == 1 and len(handler.to("mailer.example")) == 5


def test_a_dropped_connection_is_opened_again_and_the_message_sent():
    port = free_port()
    first, handler = start_server(port)
    mailer = Mailer(SmtpConfig.parse(f"smtp://127.0.0.1:{port}"))
    try:
        mailer.send(MESSAGE, "a@testila.example", "before@mailer.example")
        first.stop()
        second, again = start_server(port)
        try:
            mailer.send(MESSAGE, "a@testila.example", "after@mailer.example")
        finally:
            mailer.close()
            second.stop()
    finally:
        handler.release()
    assert [r.recipient for r in handler.received] == ["before@mailer.example"]
    assert [r.recipient for r in again.received] == ["after@mailer.example"]


def test_answers_are_sorted_into_temporary_permanent_and_down(smtp_server):
    config = SmtpConfig.parse(smtp_server.url)
    with Mailer(config) as mailer:
        with pytest.raises(TemporaryFailure, match="451 4.3.0 Try again later"):
            mailer.send(MESSAGE, "a@testila.example", "tempfail-sorting@mailer.example")
        with pytest.raises(PermanentFailure, match="550 5.1.1 No such mailbox here"):
            mailer.send(MESSAGE, "a@testila.example", "reject-sorting@mailer.example")
        mailer.send(MESSAGE, "a@testila.example", "tempfail-sorting@mailer.example")
    with pytest.raises(ChannelDown, match=r"cannot reach the mail server smtp://127\.0\.0\.1:\d+"):
        Mailer(SmtpConfig.parse(f"smtp://127.0.0.1:{free_port()}")).send(
            MESSAGE, "a@testila.example", "x@mailer.example"
        )


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _server_context(certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def test_starttls_verifies_the_certificate_and_refuses_one_it_cannot_trust(certificate, monkeypatch):
    controller, handler, port = _server(tls_context=_server_context(certificate), require_starttls=True)
    config = SmtpConfig.parse(f"smtp://127.0.0.1:{port}?tls=starttls")
    try:
        with pytest.raises(ChannelDown, match="showed a certificate that cannot be trusted"):
            Mailer(config).send(MESSAGE, "a@testila.example", "untrusted@mailer.example")
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
        with Mailer(config) as mailer:
            mailer.send(MESSAGE, "a@testila.example", "trusted@mailer.example")
    finally:
        controller.stop()
    assert [r.recipient for r in handler.to("mailer.example")] == ["trusted@mailer.example"] and handler.tls == [True]


def test_a_server_without_starttls_is_not_used_in_plain_text_when_tls_is_wanted():
    controller, handler, port = _server()
    try:
        with pytest.raises(ChannelDown, match="does not offer STARTTLS"):
            Mailer(SmtpConfig.parse(f"smtp://127.0.0.1:{port}?tls=starttls")).send(
                MESSAGE, "a@testila.example", "plain@mailer.example"
            )
    finally:
        controller.stop()
    assert handler.received == []


def test_smtps_speaks_tls_from_the_first_byte(certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    controller, handler, port = _server(ssl_context=_server_context(certificate))
    try:
        with Mailer(SmtpConfig.parse(f"smtps://127.0.0.1:{port}")) as mailer:
            mailer.send(MESSAGE, "a@testila.example", "implicit@mailer.example")
    finally:
        controller.stop()
    assert handler.tls == [True] and len(handler.to("mailer.example")) == 1


def _authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    good = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"mailer@testila.example"
        and auth_data.password == b"p@ss:word"
    )
    return AuthResult(success=good, handled=False)  # not handled: the server answers 535 itself


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_user_name_and_password_in_the_address_log_in_and_a_wrong_one_stops_sending():
    controller, handler, port = _server(authenticator=_authenticator, auth_required=True, auth_require_tls=False)
    try:
        with Mailer(SmtpConfig.parse(f"smtp://mailer%40testila.example:p%40ss%3Aword@127.0.0.1:{port}")) as mailer:
            mailer.send(MESSAGE, "a@testila.example", "authenticated@mailer.example")
        with pytest.raises(ChannelDown, match="refused the user name or password"):
            Mailer(SmtpConfig.parse(f"smtp://mailer%40testila.example:wrong@127.0.0.1:{port}")).send(
                MESSAGE, "a@testila.example", "nope@mailer.example"
            )
    finally:
        controller.stop()
    assert [r.recipient for r in handler.received] == ["authenticated@mailer.example"]
