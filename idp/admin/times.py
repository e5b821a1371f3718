"""Moments as the admin API shows and takes them: ISO 8601 in UTC (the database keeps naive UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

from idp.admin.errors import Invalid


def iso(moment: datetime | None) -> str | None:
    """A stored moment as the admin API shows it (``schemas.TIME``: without an offset), or None."""
    return None if moment is None else moment.isoformat()


def instant(value: str | None, name: str) -> datetime | None:
    """A query's moment (ISO 8601, or a date; UTC when without an offset) as stored, naive UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    except (ValueError, OverflowError):  # OverflowError: year 1 at +14:00
        raise Invalid(
            f"{name} is not an ISO 8601 date and time",
            errors=[{"pointer": "?" + name, "detail": "not an ISO 8601 date and time"}],
        ) from None
