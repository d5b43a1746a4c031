"""Problems as the validation API reports them, and the text report.

EXtra-data's validator reports each problem as a dict with ``msg``, ``file``
and, where it applies, ``dataset`` plus extra facts (``index_shape``,
``error``...). Ours are the same dicts with ``source``, ``train_id`` and
``check`` (the name to give ``--skip``) added where known.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..exceptions import ExtraCatalogError
from ..records import ProblemRecord

__all__ = ["Problem", "ValidationError", "problem_dict", "format_problem", "format_problems",
           "format_report"]

#: One problem: ``{'msg': ..., 'file': ..., 'dataset': ..., ...}``.
Problem = dict[str, Any]

# Fields printed right under the message, in this order; the rest follow.
_FIRST_FIELDS = ("dataset", "source", "train_id", "file")


def problem_dict(file: str | None, problem: ProblemRecord) -> Problem:
    """The API's dict for *problem* found in *file* (None for the run)."""
    out: Problem = {"msg": problem.message}
    if problem.dataset is not None:
        out["dataset"] = problem.dataset
    if problem.source is not None:
        out["source"] = problem.source
    if problem.train_id is not None:
        out["train_id"] = problem.train_id
    if file is not None:
        out["file"] = file
    out.update(problem.details)
    out["check"] = problem.check
    return out


def format_problem(problem: Problem) -> str:
    """One problem as an indented block: the message, then ``  field: value`` lines."""
    keys = [k for k in _FIRST_FIELDS if k in problem]
    keys += [k for k in problem if k not in keys and k != "msg"]
    return "\n".join([str(problem.get("msg", ""))] + [f"  {k}: {problem[k]}" for k in keys])


def format_problems(problems: Sequence[Problem]) -> str:
    """Each problem's block after a blank line, as ``str(ValidationError)`` in EXtra-data."""
    return "\n" + "\n\n".join(format_problem(p) for p in problems)


def format_report(problems: Sequence[Problem]) -> str:
    """The report printed by ``extra-data-validate``."""
    if not problems:
        return "No problems found"
    return f"Validation failed! {len(problems)} problems:\n{format_problems(problems)}"


class ValidationError(ExtraCatalogError):
    """Validation found problems.

    Parameters
    ----------
    problems : list of dict
        Each with ``msg``, ``file`` and, where they apply, ``dataset``,
        ``source``, ``train_id``, ``check`` and extra facts.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return format_problems(self.problems)
