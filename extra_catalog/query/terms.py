"""Query terms: what a cross-run query asks, as plain data (no SQL here).

:class:`RunQuery` holds every filter of :meth:`Catalog.runs
<extra_catalog.query.Catalog.runs>`; :mod:`.translate` turns it into SQL.
Filters combine with AND; ``None`` means "no condition".

Source and key patterns are shell globs matched exactly like
``DataCollection.select`` (:func:`fnmatch.fnmatchcase`): case-sensitive,
``*`` also matches ``/``, ``:`` and ``.``; for CONTROL sources a key pattern
not ending in ``.value`` or ``*`` gets ``.value`` appended.
"""

from __future__ import annotations

import fnmatch
import math
import operator
import re
import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Union

from .errors import QueryError

__all__ = [
    "OPERATORS",
    "RunValueCondition",
    "RunQuery",
    "parse_run_value",
    "is_glob",
    "match_names",
    "control_key_pattern",
    "as_tuple",
    "date_text",
]

#: Comparison operators of run-value conditions and their Python meaning.
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "=": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}

_WILDCARD = re.compile(r"[*?\[]")
_CONDITION = re.compile(r"^\s*(?P<head>.*?)\s*(?P<op>==|!=|<=|>=|=|<|>)\s*(?P<value>.*?)\s*$",
                        re.DOTALL)

Number = Union[int, float]


@dataclass(frozen=True)
class RunValueCondition:
    """A condition on a RUN value (the value of a CONTROL key at the start of the run).

    Attributes
    ----------
    source, key : str
        Globs; the key may omit ``.value`` (``'actualPosition'``).
    op : str
        One of ``== = != < <= > >=``.
    value : int, float or str
        Numbers compare with numeric RUN values as numbers; strings compare
        with string values as strings. A number never matches a string
        value and vice versa; NaN, infinite and array values never match.
    """

    source: str
    key: str
    op: str
    value: Number | str

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise QueryError(f"run-value condition {self}: unknown operator {self.op!r} "
                             f"(use one of {' '.join(OPERATORS)})")
        if isinstance(self.value, bool):
            object.__setattr__(self, "value", int(self.value))
        if not isinstance(self.value, (int, float, str)):
            raise QueryError(f"run-value condition on {self.source} {self.key}: compare with "
                             f"a number or a string, not {type(self.value).__name__}")

    def __str__(self) -> str:
        return f"{self.source} {self.key} {self.op} {self.value!r}"

    def matches(self, value: Any) -> bool:
        """Whether a RUN value satisfies the condition (the rule SQL follows too)."""
        compare = OPERATORS[self.op]
        if not isinstance(value, str) and callable(getattr(value, "item", None)):
            value = value.item()  # a numpy scalar, as FileAccess gives RUN values
        if isinstance(self.value, str):
            return isinstance(value, str) and compare(value, self.value)
        if isinstance(value, float) and not math.isfinite(value):
            return False  # stored without a comparable number (value_float NULL)
        return isinstance(value, (bool, int, float)) and bool(compare(value, self.value))


def parse_run_value(text: str) -> RunValueCondition:
    """Parse ``'SOURCE KEY OP VALUE'``, e.g. ``'SPB_IRU_MOTORS/MOTOR/X actualPosition >= 3.5'``.

    The value is a number if it reads as one, else a string; quote it
    (``'state == "ON"'``, ``"... == '12'"``) to force a string.

    Raises
    ------
    QueryError
        The text does not have the four parts; the message shows the form.
    """
    form = "give 'SOURCE KEY OP VALUE', e.g. 'SPB_IRU_MOTORS/MOTOR/X actualPosition >= 3.5'"
    found = _CONDITION.match(text)
    if found is None:
        raise QueryError(f"run-value condition {text!r} has no comparison (== != < <= > >=): "
                         f"{form}")
    head = found["head"].split()
    if len(head) != 2:
        raise QueryError(f"run-value condition {text!r}: expected a source and a key before "
                         f"{found['op']!r}, found {len(head)} word(s); {form}")
    raw = found["value"]
    if not raw:
        raise QueryError(f"run-value condition {text!r} has no value after {found['op']!r}; "
                         f"{form}")
    return RunValueCondition(head[0], head[1], found["op"], _parse_value(raw))


def _parse_value(raw: str) -> Number | str:
    if raw[:1] in "'\"":
        try:
            words = shlex.split(raw)
        except ValueError as exc:
            raise QueryError(f"run-value {raw!r}: {exc}") from exc
        return " ".join(words)
    for convert in (int, float):
        try:
            return convert(raw)  # type: ignore[no-any-return]
        except ValueError:
            pass
    return raw


def is_glob(pattern: str) -> bool:
    """Whether *pattern* has a wildcard (``*``, ``?`` or ``[``) or is a plain name."""
    return _WILDCARD.search(pattern) is not None


def match_names(pattern: str, names: Iterable[str]) -> list[str]:
    """Names matching a glob, as ``DataCollection.select`` matches them."""
    if not is_glob(pattern):
        return [pattern] if pattern in set(names) else []
    regex = re.compile(fnmatch.translate(pattern))
    return [name for name in names if regex.match(name)]


def control_key_pattern(pattern: str) -> str:
    """The pattern applied to CONTROL keys: ``.value`` appended unless it ends in it or ``*``."""
    return pattern if pattern.endswith((".value", "*")) else pattern + ".value"


def as_tuple(value: Any, what: str, kind: type | tuple[type, ...]) -> tuple[Any, ...] | None:
    """``None`` -> None; one value -> a 1-tuple; an iterable -> a tuple; types checked."""
    if value is None:
        return None
    items = (value,) if isinstance(value, (str, int)) else tuple(value)
    for item in items:
        if not isinstance(item, kind) or isinstance(item, bool):
            raise QueryError(f"{what}={value!r}: expected {_kind_name(kind)} or a list of them")
    return items


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def date_text(value: str | date | datetime, what: str) -> str:
    """A date in the form of the runs' ``creationDate`` (``20260101T001640Z``).

    Strings are ISO dates or datetimes (``'2026-01-01'``, ``'2026-01-01T10:00'``);
    naive datetimes are taken as UTC.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise QueryError(f"{what}={value!r} is not an ISO date like 2026-01-31 "
                             "or 2026-01-31T12:00") from exc
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class RunQuery:
    """Every filter of a runs query (see :meth:`Catalog.runs` for their meaning)."""

    proposal: tuple[int, ...] | None = None
    instrument: tuple[str, ...] | None = None
    cycle: tuple[str, ...] | None = None
    run: tuple[int, ...] | None = None
    run_range: tuple[int | None, int | None] | None = None
    data_category: tuple[str, ...] | None = None
    date_from: str | None = None
    date_to: str | None = None
    sample: str | None = None
    run_type: str | None = None
    source: str | None = None
    key: str | None = None
    run_values: tuple[RunValueCondition, ...] = field(default_factory=tuple)
    min_trains: int | None = None
    max_trains: int | None = None
    train: int | None = None
    has_problems: bool | None = None
    has_suspect_trains: bool | None = None
    min_suspect_trains: int | None = None
    max_suspect_trains: int | None = None
    on_disk: bool | None = None

    @classmethod
    def build(cls, *, proposal: Any = None, instrument: Any = None, cycle: Any = None,
              run: Any = None, run_range: tuple[int | None, int | None] | None = None,
              data_category: Any = None,
              date_from: str | date | datetime | None = None,
              date_to: str | date | datetime | None = None, sample: str | None = None,
              run_type: str | None = None, source: str | None = None, key: str | None = None,
              run_values: Sequence[RunValueCondition | str] | RunValueCondition | str = (),
              min_trains: int | None = None, max_trains: int | None = None,
              train: int | None = None, has_problems: bool | None = None,
              has_suspect_trains: bool | None = None, min_suspect_trains: int | None = None,
              max_suspect_trains: int | None = None, on_disk: bool | None = None) -> RunQuery:
        """Check and normalise user arguments (see :meth:`Catalog.runs`)."""
        runs, bounds = _runs_argument(run)
        if run_range is not None:
            if bounds is not None:
                raise QueryError("give run=range(...) or run_range=(first, last), not both")
            bounds = _run_range(run_range)
        if isinstance(run_values, (str, RunValueCondition)):
            run_values = [run_values]
        conditions = tuple(c if isinstance(c, RunValueCondition) else parse_run_value(c)
                           for c in run_values)
        for name, number in (("min_trains", min_trains), ("max_trains", max_trains),
                             ("train", train), ("min_suspect_trains", min_suspect_trains),
                             ("max_suspect_trains", max_suspect_trains)):
            if number is not None and (not isinstance(number, int) or isinstance(number, bool)
                                       or number < 0):
                raise QueryError(f"{name}={number!r}: expected a non-negative integer")
        if train is not None and train >= 2**64:
            raise QueryError(f"train={train}: train IDs are unsigned 64-bit integers")
        return cls(
            proposal=as_tuple(proposal, "proposal", int),
            instrument=as_tuple(instrument, "instrument", str),
            cycle=as_tuple(cycle, "cycle", str), run=runs, run_range=bounds,
            data_category=as_tuple(data_category, "data_category", str),
            date_from=None if date_from is None else date_text(date_from, "date_from"),
            date_to=None if date_to is None else date_text(date_to, "date_to"),
            sample=sample, run_type=run_type, source=source, key=key, run_values=conditions,
            min_trains=min_trains, max_trains=max_trains, train=train,
            has_problems=_flag(has_problems, "has_problems"),
            has_suspect_trains=_flag(has_suspect_trains, "has_suspect_trains"),
            min_suspect_trains=min_suspect_trains, max_suspect_trains=max_suspect_trains,
            on_disk=_flag(on_disk, "on_disk"))


def _flag(value: Any, what: str) -> bool | None:
    """A yes/no filter: True, False or None (no condition)."""
    if value is not None and not isinstance(value, bool):
        raise QueryError(f"{what}={value!r}: expected True, False or None")
    return value


def _runs_argument(run: Any) -> tuple[tuple[int, ...] | None,
                                      tuple[int | None, int | None] | None]:
    """``run=``: a number, a list of numbers or a ``range`` (as bounds when its step is 1)."""
    if isinstance(run, range):
        if run.step != 1:
            return tuple(run), None
        return None, (run.start, run.stop - 1)
    return as_tuple(run, "run", int), None


def _run_range(bounds: Any) -> tuple[int | None, int | None]:
    """``run_range=(first, last)``, inclusive; either end may be None."""
    try:
        first, last = bounds
    except (TypeError, ValueError):
        raise QueryError(f"run_range={bounds!r}: give (first, last), e.g. (10, 20) "
                         "or (10, None)") from None
    for end in (first, last):
        if end is not None and (not isinstance(end, int) or isinstance(end, bool)):
            raise QueryError(f"run_range={bounds!r}: the ends are run numbers or None")
    return first, last
