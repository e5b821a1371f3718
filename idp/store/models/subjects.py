"""Persons and enterprises: the two kinds of subject a token can name.

Numbers live only as ciphertext plus a keyed index (see ``idp.store.crypto``); ``public_id`` is a
random internal handle from which pairwise subject identifiers are derived, so no ``sub`` ever
depends on an identity number.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.store.db import db, utcnow


def new_public_id() -> str:
    return secrets.token_hex(16)


class Person(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    document_type: Mapped[str] = mapped_column(String(24))
    number_index: Mapped[str] = mapped_column(String(64), unique=True)
    number_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    number_masked: Mapped[str] = mapped_column(String(24))
    name_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    contact_cipher: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: Set by an operator (``idp person disable``): no sign-in, every session ended.
    disabled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    enterprises: Mapped[list[Enterprise]] = relationship(back_populates="legal_representative")


class Enterprise(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    uscc_index: Mapped[str] = mapped_column(String(64), unique=True)
    uscc_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    name: Mapped[str] = mapped_column(String(200))
    legal_representative_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    legal_representative: Mapped[Person] = relationship(back_populates="enterprises")
