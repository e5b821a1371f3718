"""Token-exchange policies (RFC 8693 5: the authorization server decides who may exchange what).

One row lets one client exchange a person's or enterprise's access token for a token for one
audience, with at most these scopes. Without a row a client exchanges nothing: an operator opens
each path on purpose (``idp exchange-policy add``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.store.db import db, utcnow


class ExchangePolicy(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "exchange_policies"
    __table_args__ = (UniqueConstraint("client_id", "audience"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the requesting client, which must authenticate as a confidential client
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    #: the target service (RFC 8693 2.1 ``audience`` or ``resource``), exactly as requested
    audience: Mapped[str] = mapped_column(String(255))
    #: the most an exchanged token may carry, space-separated
    scopes: Mapped[str] = mapped_column(String(500))
    #: who added it, as an admin action names its actor ("cli", a client id, a masked number)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())
