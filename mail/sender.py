"""E-mail's sender for core's outbox dispatcher (`core.outbox.dispatch`), through the
office's SMTP server (SMTP_HOST, SMTP_PORT, SMTP_SECURITY, SMTP_USERNAME, SMTP_PASSWORD,
SMTP_FROM).

Each message is rendered in its recipient's language (`mail.render`) and sent over its own
SMTP session, run in a thread (smtplib), so a slow server never blocks the event loop. How
the server's answers are taken:

- a temporary refusal (4xx: greylisting, a full mailbox, 421 "too busy"), a dropped or
  refused connection, a timeout, a TLS failure: the message is retried later with the
  dispatcher's backoff (421 pauses all e-mail for a minute);
- the server refusing our sender or our login (a configuration fault, 5xx included): the
  message is retried too, nothing is lost while the operator corrects .env (the log says what);
- a permanent refusal of the recipient or of the message (5xx on RCPT or DATA: unknown
  mailbox, rejected content): the message fails for good with the server's reason, which the
  case's timeline shows to staff as not delivered.

No error text names the recipient: the server's reply often quotes the address, and staff
who may not see an anonim reporter see the delivery's reason; the address is replaced by
"<penerima>" in every text the dispatcher keeps.

The Message-ID (email.utils.make_msgid) is the message's external id in the outbox.
"""

from __future__ import annotations

import asyncio
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address as MailAddress
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from core.outbox.dispatch import ChannelLimits, NotSentYet, SlowDown, Undeliverable
from core.outbox.models import OutboundMessage
from core.people.models import Channel
from core.shared.config import Settings
from mail.render import attachment_name, render_mail

log = logging.getLogger(__name__)

Security = Literal["starttls", "tls", "none"]
# An office's server accepts a few messages a second; a citizen gets a few mails a case.
EMAIL_LIMITS = ChannelLimits(per_second=5.0, per_address_per_minute=20)
EXTERNAL_ID_MAX = 100  # OutboundMessage.external_id
BUSY_PAUSE_S = 60.0


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: Security = "starttls"
    username: str = ""
    password: str = ""
    sender: str = ""  # the From address
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
            sender=settings.smtp_from,
        )


def _message_id(sender: str) -> str:
    domain = sender.rpartition("@")[2] or "localhost"
    msgid = make_msgid(domain=domain)
    if len(msgid) > EXTERNAL_ID_MAX:
        msgid = make_msgid(domain="localhost")
    return msgid


def build_email(message: OutboundMessage, config: SmtpConfig, *, base_url: str) -> EmailMessage:
    """The e-mail of an outbox message; Undeliverable when its address is not one."""
    content = render_mail(message, base_url=base_url)
    mail = EmailMessage()
    try:
        mail["To"] = _recipient(message.address)
        mail["From"] = config.sender
    except (ValueError, IndexError):
        raise Undeliverable("not an e-mail address") from None  # naming no address
    mail["Subject"] = content.subject
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = _message_id(config.sender)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    mail.set_content(content.body)
    if message.photo:
        mail.add_attachment(
            message.photo,
            maintype="image",
            subtype="png",
            filename=attachment_name(message.language),
        )
    mail["Content-Language"] = content.language  # after the content: set_content clears it
    return mail


def _recipient(address: str) -> MailAddress:
    if any(ch in address for ch in '\r\n<>,"') or address.count("@") != 1:
        raise ValueError(address[:100])
    username, domain = address.rsplit("@", 1)
    return MailAddress(username=username, domain=domain)


class EmailSender:
    """The outbox's sender for `Channel.email`."""

    channel = Channel.email

    def __init__(
        self, config: SmtpConfig, *, base_url: str = "", limits: ChannelLimits | None = None
    ) -> None:
        self.config = config
        self.base_url = base_url
        self._limits = limits or EMAIL_LIMITS

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailSender:
        return cls(SmtpConfig.from_settings(settings), base_url=settings.public_base_url)

    @property
    def limits(self) -> ChannelLimits:
        return self._limits

    async def send(self, message: OutboundMessage) -> str | None:
        mail = build_email(message, self.config, base_url=self.base_url)
        try:
            await asyncio.to_thread(self._deliver, mail)
        except (Undeliverable, NotSentYet) as exc:
            redacted = redact_recipient(str(exc), message.address, str(mail["To"]))
            raise type(exc)(redacted) from None
        return str(mail["Message-ID"])

    # -- SMTP, in a worker thread ----------------------------------------------------------
    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        if cfg.security == "tls":
            return smtplib.SMTP_SSL(
                cfg.host, cfg.port, timeout=cfg.timeout, context=ssl.create_default_context()
            )
        smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        try:
            if cfg.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _deliver(self, mail: EmailMessage) -> None:
        cfg = self.config
        try:
            with self._connect() as smtp:
                if cfg.username:
                    smtp.login(cfg.username, cfg.password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()), (0, b""))
            raise _refusal(code, reason) from None
        except smtplib.SMTPAuthenticationError as exc:
            log.error("the SMTP server refused our login: check SMTP_USERNAME and SMTP_PASSWORD")
            reply = _reply(exc.smtp_code, exc.smtp_error)
            raise NotSentYet(f"SMTP login refused: {reply}") from None
        except smtplib.SMTPSenderRefused as exc:
            log.error("the SMTP server refuses SMTP_FROM (%s) as the sender", cfg.sender)
            raise NotSentYet(f"sender refused: {_reply(exc.smtp_code, exc.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError as exc:
            if not str(mail["To"]).isascii():  # it will not learn SMTPUTF8 by retrying
                raise Undeliverable(
                    "the mail server does not accept addresses with non-ASCII letters"
                    f" (no SMTPUTF8): {exc}"
                ) from None
            log.error("the SMTP server lacks what SMTP_SECURITY or a login needs: %s", exc)
            raise NotSentYet(f"SMTP server: {exc}") from None
        except smtplib.SMTPResponseException as exc:  # DATA refused, 421 on connect, ...
            raise _refusal(exc.smtp_code, exc.smtp_error) from None
        except (smtplib.SMTPException, OSError) as exc:  # disconnects, timeouts, TLS
            raise NotSentYet(f"SMTP server {cfg.host}:{cfg.port} not reached: {exc}") from None


RECIPIENT_SHOWN = "<penerima>"


def redact_recipient(text: str, *addresses: str) -> str:
    """`text` with each address (any case) replaced by "<penerima>"."""
    for address in sorted({a for a in addresses if a}, key=len, reverse=True):
        text = re.sub(re.escape(address), RECIPIENT_SHOWN, text, flags=re.IGNORECASE)
    return text


def _reply(code: int, text: bytes | str) -> str:
    reason = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(reason.split())}".strip()


def _refusal(code: int, text: bytes | str) -> Exception:
    """The exception the dispatcher acts on for an SMTP reply code."""
    reply = _reply(code, text)
    if code == 421:
        return SlowDown(BUSY_PAUSE_S)
    if 500 <= code < 600:
        return Undeliverable(f"refused by the mail server: {reply}")
    return NotSentYet(f"mail server asks to retry later: {reply}")
