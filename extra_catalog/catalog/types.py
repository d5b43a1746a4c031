"""Column types the databases lack natively.

Train IDs (and inode numbers) are unsigned 64-bit integers, while SQLite and
PostgreSQL integers are *signed* 64-bit. :class:`UInt64` stores ``value - 2**63``
in a BIGINT column: the mapping is a bijection from ``[0, 2**64)`` onto
``[-2**63, 2**63)`` and it preserves order, so ``<``, ``>``, ``BETWEEN``,
``MIN``/``MAX`` and ``ORDER BY`` computed by the database give the same answer
as on the unsigned values. Sums and differences computed in SQL do *not*
(they are offset); compute those in Python after loading.

Raw SQL reading such a column sees the shifted value: add ``2**63`` to it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from .sourcerows import UINT64_OFFSET as _STORED_OFFSET

__all__ = ["UInt64", "UTCDateTime", "UINT64_OFFSET", "UINT64_MAX"]

UINT64_OFFSET = _STORED_OFFSET  # (defined with the plain SQL that also reads it)
UINT64_MAX = 2**64 - 1


class UInt64(TypeDecorator[int]):
    """An unsigned 64-bit integer stored order-preserving in a signed BIGINT.

    Binding a value outside ``[0, 2**64 - 1]`` raises ``ValueError`` rather
    than letting the database wrap or truncate it.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        ivalue = int(value)
        if ivalue != value or not 0 <= ivalue <= UINT64_MAX:
            raise ValueError(f"{value!r} is not an unsigned 64-bit integer")
        return ivalue - UINT64_OFFSET

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int(value) + UINT64_OFFSET

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        bound = self.process_bind_param(value, dialect)
        return "NULL" if bound is None else str(bound)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no timezone-aware type and would hand back naive datetimes;
    values are converted to UTC before storing and come back tagged as UTC.
    Naive datetimes are rejected, since their meaning would depend on the
    machine that wrote them.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone-aware one")
        utc = value.astimezone(timezone.utc)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
