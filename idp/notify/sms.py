"""Sending an SMS: through the province's HTTP gateway in production, into the outbox table in
development and testing (shown on ``/dev/sms-outbox`` and read by tests).

The gateway contract is one JSON POST of ``{"mobile": "13800138000", "text": "..."}`` answered
by any 2xx status, within ``IDP_SMS_GATEWAY_TIMEOUT`` seconds. Nothing here logs a message text or
a number: the text holds a live code.
"""

from __future__ import annotations

from typing import Protocol

import requests
from sqlalchemy import select

from idp.config import Settings
from idp.identifiers import mask_mobile
from idp.store.crypto import FieldCipher
from idp.store.db import db
from idp.store.models import SmsOutboxMessage

#: The outbox page shows this many of the newest messages.
OUTBOX_PAGE = 50


class SmsError(RuntimeError):
    """The message was not accepted for delivery; the message names neither number nor text."""


class SmsSender(Protocol):
    def send(self, mobile: str, text: str) -> None: ...


class GatewaySender:
    def __init__(self, url: str, timeout: int) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, mobile: str, text: str) -> None:
        try:
            response = requests.post(
                self.url, json={"mobile": mobile, "text": text}, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise SmsError(f"SMS gateway unreachable ({type(exc).__name__})") from None
        if not 200 <= response.status_code < 300:
            raise SmsError(f"SMS gateway answered {response.status_code}")


class OutboxSender:
    def __init__(self, cipher: FieldCipher) -> None:
        self.cipher = cipher

    def send(self, mobile: str, text: str) -> None:
        db.session.add(
            SmsOutboxMessage(
                mobile_index=_mobile_index(self.cipher, mobile),
                mobile_masked=mask_mobile(mobile),
                text=text,
            )
        )
        db.session.commit()


def sender_for(settings: Settings, cipher: FieldCipher) -> SmsSender:
    if settings.sms_gateway_url:
        return GatewaySender(settings.sms_gateway_url, settings.sms_gateway_timeout)
    return OutboxSender(cipher)


def outbox(cipher: FieldCipher, mobile: str | None = None) -> list[SmsOutboxMessage]:
    """The newest outbox messages first, all or those to ``mobile``."""
    query = select(SmsOutboxMessage).order_by(SmsOutboxMessage.id.desc()).limit(OUTBOX_PAGE)
    if mobile is not None:
        query = query.where(SmsOutboxMessage.mobile_index == _mobile_index(cipher, mobile))
    return list(db.session.scalars(query))


def _mobile_index(cipher: FieldCipher, mobile: str) -> str:
    return cipher.index(mobile, "sms_outbox.mobile")
