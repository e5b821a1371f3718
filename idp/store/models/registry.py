"""Source-registry records (population, real estate, market regulation) that certificates draw on.

A record's data is one encrypted JSON object of field name -> JSON value (the forms of
``yihao.wire.fields``); only keyed indexes are in the clear. Holders are matched by the same keyed
index the subjects use (``persons.number`` / ``enterprises.uscc``), so finding "my certificates"
never decrypts another person's record. ``group_index`` does the same for records that belong
together: the household register's entries that share one household number (户号), so the members
of a household are found without decrypting every household record.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.store.db import db, utcnow


class RegistryRecord(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "registry_records"
    __table_args__ = (UniqueConstraint("kind", "key_index", name="uq_registry_records_kind_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    key_index: Mapped[str] = mapped_column(String(64))
    key_masked: Mapped[str] = mapped_column(String(40))
    #: Keyed index of the household number for kind ``household``; NULL for every other kind.
    group_index: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    data_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    #: The population registry's mobile number on record (kind ``resident_id``), encrypted like
    #: ``data`` but apart from it: it proves possession at registration, and is on no certificate.
    mobile_cipher: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    holders: Mapped[list[RegistryHolder]] = relationship(
        back_populates="record", cascade="all, delete-orphan"
    )


class RegistryHolder(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "registry_holders"

    record_id: Mapped[int] = mapped_column(
        ForeignKey("registry_records.id", ondelete="CASCADE"), primary_key=True
    )
    holder_index: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)

    record: Mapped[RegistryRecord] = relationship(back_populates="holders")
