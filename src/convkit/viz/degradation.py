"""Figures of the depth experiments (chapter 8): gradients per layer, training curves.

Each draws one curve per stack of :mod:`convkit.lessons.degradation`'s experiments
over a 1-based x axis, in the course style:

- :func:`plot_weight_gradient_norms` — ``‖dLoss/dW‖`` of every weight layer, on a log
  scale (layer 1 next to the input);
- :func:`plot_training_losses` — the training loss per SGD step, with an optional
  dashed line at the loss of chance;
- :func:`plot_training_errors` — the training error per SGD step, as a trailing mean
  over a window of steps;
- :func:`plot_degradation` — the last two panels side by side for
  :func:`~convkit.lessons.degradation.run_degradation_experiment`.

Like every figure of :mod:`convkit.viz`, each returns its figure, closed in pyplot
when the function made it; pass ``ax=`` to draw into a panel of your own.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from convkit._checks import int_at_least
from convkit.viz.style import (
    PALETTE,
    TAP_COLORS,
    course_figure,
    course_subplots,
    finish,
    set_title,
)

__all__ = [
    "plot_degradation",
    "plot_training_errors",
    "plot_training_losses",
    "plot_weight_gradient_norms",
    "trailing_mean",
]


def _curves_by_label(
    func: str, series: dict[str, np.ndarray], ax: Axes | None, log: bool, title: str | None
) -> tuple[Figure, Axes, bool]:
    """One coloured curve per label over x = 1..L, a light grid and a legend.

    series: label -> (L,) values -> (figure, axes, owned) as :func:`course_figure` gives.
    """
    if not series:
        raise ValueError(f"{func}: no series given")
    fig, ax, owned = course_figure(ax, (6.4, 3.6))
    for k, (label, values) in enumerate(series.items()):
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(
                f"{func}: series {label!r} must be a non-empty 1-D array, got {arr.shape}"
            )
        ax.plot(
            np.arange(1, arr.size + 1),
            arr,
            label=label,
            color=TAP_COLORS[k % len(TAP_COLORS)],
            linewidth=2,
            marker="o" if arr.size <= 60 else None,
            markersize=3,
        )
    if log:
        ax.set_yscale("log")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, which="major", color=PALETTE["light"])
    ax.legend(frameon=False)
    set_title(ax, title)
    return fig, ax, owned


def plot_weight_gradient_norms(
    norms: dict[str, np.ndarray],
    ax: Axes | None = None,
    *,
    title: str | None = "Gradient reaching each layer at initialisation",
) -> Figure:
    """The gradient norm of every layer's weights, one curve per stack, on a log scale.

    norms: label -> (L,) from :func:`convkit.lessons.degradation.weight_gradient_norms`
    or a summary over training steps (layer 1 = next to the input; stacks may differ
    in L) -> the figure. ax: axes to draw into; a new figure (closed in pyplot) is
    made when None.
    """
    fig, ax, owned = _curves_by_label("plot_weight_gradient_norms", norms, ax, True, title)
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel("‖dLoss/dW‖ (log scale)")
    if owned:
        fig.tight_layout()
    return finish(fig, owned)


def plot_training_losses(
    losses: dict[str, np.ndarray],
    ax: Axes | None = None,
    *,
    title: str | None = "Training loss",
    chance: float | None = None,
) -> Figure:
    """Training loss per step, one curve per stack; optional dashed line at the chance loss.

    losses: label -> (steps,) from :func:`convkit.lessons.degradation.train_briefly` ->
    the figure. chance: draw a dashed horizontal line there (e.g. ``log(3)`` for 3
    classes). ax: axes to draw into; a new figure (closed in pyplot) is made when None.
    """
    fig, ax, owned = _curves_by_label("plot_training_losses", losses, ax, False, title)
    if chance is not None:
        ax.axhline(chance, color=PALETTE["muted"], linestyle="--", linewidth=1)
        ax.annotate(
            "chance",
            (1.0, chance),
            xycoords=ax.get_yaxis_transform(),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            color=PALETTE["muted"],
            fontsize=9,
        )
    ax.set_xlabel("SGD step")
    ax.set_ylabel("cross-entropy (training set)")
    if owned:
        fig.tight_layout()
    return finish(fig, owned)


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Entry t is the mean of ``values[max(0, t - window + 1) : t + 1]``.

    values: (T,) -> (T,) float64. The first ``window - 1`` entries average the
    fewer values there are so far.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"trailing_mean: values must be 1-D, got shape {arr.shape}")
    window = int_at_least("trailing_mean", "window", window, 1)
    sums = np.concatenate([[0.0], np.cumsum(arr)])
    ends = np.arange(1, arr.size + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def plot_training_errors(
    errors: dict[str, np.ndarray],
    ax: Axes | None = None,
    *,
    window: int = 20,
    title: str | None = "Training error",
) -> Figure:
    """Training error per step, smoothed by :func:`trailing_mean`, one curve per stack.

    errors: label -> (steps,) batch errors in 0..1 (e.g. ``TrainingRecord.errors``)
    -> the figure, with the y axis in percent. window: steps per trailing mean.
    ax: axes to draw into; a new figure (closed in pyplot) is made when None.
    """
    if not errors:
        raise ValueError("plot_training_errors: no series given")
    smoothed = {k: 100 * trailing_mean(v, window) for k, v in errors.items()}
    fig, ax, owned = _curves_by_label("plot_training_errors", smoothed, ax, False, title)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("SGD step")
    ax.set_ylabel(f"training error, % (mean of {window} batches)")
    if owned:
        fig.tight_layout()
    return finish(fig, owned)


def plot_degradation(
    errors: dict[str, np.ndarray],
    gradient_norms: dict[str, np.ndarray],
    *,
    window: int = 20,
) -> Figure:
    """Two panels: training error per step (left), gradient norm per layer (right).

    errors: label -> (steps,) batch errors; gradient_norms: label -> (L,) one norm per
    weight layer (e.g. the median over the steps) -> a new figure, closed in pyplot.
    """
    fig, axes = course_subplots(1, 2, figsize=(12, 3.9))
    plot_training_errors(errors, ax=axes[0], window=window)
    plot_weight_gradient_norms(
        gradient_norms, ax=axes[1], title="Gradient per layer (median over training)"
    )
    fig.tight_layout()
    return finish(fig)
