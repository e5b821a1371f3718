"""Sessions in the ``login_sessions`` table: the default, on SQLite or PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy import delete, select

from idp.sessions.store import SessionRecord
from idp.store.db import db
from idp.store.models import SessionRow

_FIELDS = (
    "sid",
    "created_at",
    "last_seen",
    "expires_at",
    "device",
    "address",
    "person_id",
    "auth_time",
    "sealed",
)


def _record(row: SessionRow) -> SessionRecord:
    return SessionRecord(**{name: getattr(row, name) for name in _FIELDS})


class TableStore:
    def load(self, digest: str, now: int) -> SessionRecord | None:
        row = db.session.get(SessionRow, digest)
        return _record(row) if row is not None and row.expires_at > now else None

    def save(self, digest: str, record: SessionRecord) -> None:
        row = db.session.get(SessionRow, digest) or SessionRow(digest=digest)
        for name in _FIELDS:
            setattr(row, name, getattr(record, name))
        db.session.add(row)
        db.session.commit()

    def delete(self, digest: str) -> None:
        db.session.execute(delete(SessionRow).where(SessionRow.digest == digest))
        db.session.commit()

    def of_person(self, person_id: int, now: int) -> list[SessionRecord]:
        rows = db.session.scalars(
            select(SessionRow)
            .where(SessionRow.person_id == person_id, SessionRow.expires_at > now)
            .order_by(SessionRow.auth_time.desc())
        )
        return [_record(row) for row in rows]

    def end(self, person_id: int, sid: str | None, now: int) -> list[SessionRecord]:
        condition = [SessionRow.person_id == person_id]
        if sid is not None:
            condition.append(SessionRow.sid == sid)
        # DELETE ... RETURNING: of two requests ending one session, one gets it (SQLite 3.35+).
        columns = [getattr(SessionRow, name) for name in _FIELDS]
        rows = db.session.execute(delete(SessionRow).where(*condition).returning(*columns)).all()
        db.session.commit()
        return [r for r in (SessionRecord(*row) for row in rows) if r.expires_at > now]
