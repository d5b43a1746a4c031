"""What a crawl did, for people (a short text) and machines (a dict / JSON)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from ..catalog import UnreadableFile
from ..records import FileRecord
from .locality import LEFT_UNREAD_CHECKS
from .scan import RunDiff

__all__ = ["CrawlSummary"]


@dataclass
class CrawlSummary:
    """Counts of what a crawl found and did, and the problems it recorded.

    ``files_not_on_disk`` counts files left unread because dCache holds them
    only on tape, reports them unavailable or gives an unknown locality:
    not problems of the data, so they do not make the exit status 1; every
    crawl checks them again. ``localities_checked`` counts unchanged files
    whose locality was asked again (``check_locality``).
    """

    runs_new: int = 0
    runs_changed: int = 0
    runs_removed: int = 0
    runs_unchanged: int = 0
    runs_deferred: int = 0
    runs_failed: int = 0
    files_new: int = 0
    files_changed: int = 0
    files_removed: int = 0
    files_unchanged: int = 0
    files_failed: int = 0
    files_not_on_disk: int = 0
    localities_checked: int = 0
    problems: list[str] = field(default_factory=list)
    skipped_links: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add_run(self, is_new: bool, diff: RunDiff,
                written: Sequence[FileRecord | UnreadableFile]) -> None:
        """Count one run written to the catalogue."""
        if is_new:
            self.runs_new += 1
        else:
            self.runs_changed += 1
        self.files_new += len(diff.new)
        self.files_changed += len(diff.changed)
        self.files_removed += len(diff.removed)
        for record in written:
            if isinstance(record, UnreadableFile) and record.problem.check in LEFT_UNREAD_CHECKS:
                self.files_not_on_disk += 1
            elif isinstance(record, UnreadableFile):
                self.files_failed += 1
                self.problems.append(record.problem.message)
            else:
                self.problems += [f"{record.path}: {p.message}" for p in record.problems]

    @property
    def exit_status(self) -> int:
        """0 when the crawl was clean, 1 when problems were recorded."""
        return 1 if self.problems else 0

    def to_dict(self) -> dict:
        """All counts and lists, JSON-ready."""
        out = asdict(self)
        out["seconds"] = round(self.seconds, 3)
        out["exit_status"] = self.exit_status
        return out

    def text(self) -> str:
        """A few lines for a person (or a cron mail)."""
        lines = [
            f"runs:  {self.runs_new} new, {self.runs_changed} changed, {self.runs_removed} removed, "
            f"{self.runs_unchanged} unchanged, {self.runs_deferred} left for later (still written)"
            + (f", {self.runs_failed} failed" if self.runs_failed else ""),
            f"files: {self.files_new} new, {self.files_changed} changed, {self.files_removed} "
            f"removed, {self.files_unchanged} unchanged, {self.files_failed} failed"
            + (f", {self.files_not_on_disk} not on disk (only on tape or unavailable; not "
               "read, checked again next crawl)" if self.files_not_on_disk else ""),
            f"time:  {self.seconds:.1f} s",
        ]
        if self.localities_checked:
            lines.insert(2, f"locality checked again: {self.localities_checked} unchanged files")
        if self.skipped_links:
            lines.append(f"not followed (links leaving the crawled root): {len(self.skipped_links)}")
        if self.problems:
            lines.append(f"problems ({len(self.problems)}):")
            lines += [f"  {p}" for p in self.problems[:20]]
            if len(self.problems) > 20:
                lines.append(f"  ... and {len(self.problems) - 20} more (see --json)")
        return "\n".join(lines)
