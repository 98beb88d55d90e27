"""Timestamps as the credentials write them: UTC `YYYY-MM-DDTHH:MM:SSZ` (interop note 9)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_UTC_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def format_datetime(moment: datetime | None = None) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ` in UTC (now if no moment); naive datetimes are taken as UTC."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_utc_timestamp(value: object) -> bool:
    """True for a string of the form `YYYY-MM-DDTHH:MM:SSZ` that is a real date and time."""
    if not isinstance(value, str) or not _UTC_SECONDS.match(value):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True


def as_timestamp(value: datetime | str) -> str:
    """A datetime formatted by `format_datetime`, or a string already in that form (checked)."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if is_utc_timestamp(value):
        return value
    raise ValueError(f"expected a datetime or 'YYYY-MM-DDTHH:MM:SSZ', not {value!r}")
