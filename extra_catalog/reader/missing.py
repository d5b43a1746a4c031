"""``DataCollection.plot_missing_data()``: which sources lack data for some trains."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .collection import DataCollection

__all__ = ["missing_data", "plot_missing_data"]

PRESENT_COLOUR, MISSING_COLOUR = "deeppink", "k"


def _label(dc: DataCollection, source: str) -> str:
    """The source's first alias, else its name."""
    for alias, target in dc._aliases.items():
        if target == source:
            return alias
    return source


def missing_data(dc: DataCollection, min_saved_pct: float = 95,
                 expand_instrument: bool = False) -> dict[str, tuple[np.ndarray, float]]:
    """Sources saved for at most *min_saved_pct* % of the trains.

    Returns ``{label: (present, percent)}``, *present* a boolean array over
    ``dc.train_ids``, most complete first (as plotted from the bottom). Labels
    are aliases where defined; with *expand_instrument* each index group of
    an instrument source is its own ``'<source> <group>.*'`` entry. Sources
    with RUN values only are left out.
    """
    counts: dict[str, np.ndarray] = {}
    for source in dc.all_sources:
        sd = dc[source]
        if expand_instrument and sd.is_instrument:
            for group in sd.index_groups:
                counts[f"{_label(dc, source)} {group}.*"] = sd.data_counts(
                    labelled=False, index_group=group)
        elif not sd.is_run_only:
            counts[_label(dc, source)] = sd.data_counts(labelled=False)
    n_trains = len(dc.train_ids)
    flaky = {}
    for label, count in counts.items():
        present = np.asarray(count) > 0
        pct = 100 * present.sum() / n_trains if n_trains else 0.0
        if pct <= min_saved_pct:
            flaky[label] = (present, float(pct))
    order = sorted(flaky, key=lambda label: (int(flaky[label][0].sum()), label), reverse=True)
    return {label: flaky[label] for label in order}


def _blocks(present: np.ndarray) -> list[tuple[int, int, bool]]:
    """Runs of equal values: ``(start, length, present)``."""
    if not len(present):
        return []
    edges = np.flatnonzero(np.diff(present.astype(np.int8))) + 1
    starts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [len(present)]])
    return [(int(a), int(b - a), bool(present[a])) for a, b in zip(starts, stops)]


def plot_missing_data(dc: DataCollection, min_saved_pct: float = 95,
                      expand_instrument: bool = False) -> Any:
    """Plot the trains each incomplete source has (pink) and misses (black).

    Returns the matplotlib ``Axes``.

    Raises
    ------
    ImportError
        matplotlib is not installed (``pip install matplotlib``).
    """
    try:
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
    except ImportError as err:
        raise ImportError("plot_missing_data needs matplotlib: pip install matplotlib") from err
    flaky = missing_data(dc, min_saved_pct, expand_instrument)
    fig, ax = plt.subplots(figsize=(9, max(3, len(flaky) / 3.5)))
    height = 0.5
    for row, (present, _) in enumerate(flaky.values()):
        blocks = _blocks(present)
        ax.broken_barh([(a, n) for a, n, _ in blocks], (row, height),
                       color=[PRESENT_COLOUR if p else MISSING_COLOUR for _, _, p in blocks])
    ax.set_yticks(np.arange(len(flaky)) + height / 2,
                  labels=[f"{label} ({pct:.2f}%)" for label, (_, pct) in flaky.items()],
                  fontsize=8)
    ax.set_xlabel("Train ID index")
    title = f"Sources with less than {min_saved_pct}% of trains saved"
    runs = dc.run_identities
    if len(runs) == 1 and None not in runs[0][:2]:
        title += f" in p{runs[0].proposal}, run {runs[0].run}"
    ax.set_title(title, pad=25 + len(flaky) * 0.25)
    legend = [Line2D([0], [0], marker="o", color="w", label=label, markerfacecolor=colour,
                     markersize=6)
              for colour, label in [(MISSING_COLOUR, "Missing"), (PRESENT_COLOUR, "Present")]]
    shrink = 1 - len(flaky) / 7000  # keeps the legend close to tall plots
    ax.legend(handles=legend, bbox_to_anchor=(0, 1.02 * shrink, 1, 0.1 * shrink),
              loc="lower center", ncol=2, borderaxespad=0)
    fig.tight_layout()
    return ax
