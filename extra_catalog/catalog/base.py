"""The declarative base of the catalogue models.

Constraint and index names follow one naming convention, so that Alembic
migrations can refer to them by name on every backend (SQLite's batch mode
needs named constraints to drop or alter them).
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

__all__ = ["Base", "NAMING_CONVENTION"]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every catalogue table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
