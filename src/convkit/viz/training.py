"""Figures for training chapters: learning curves, confusion matrix, mistakes, filters, features.

Every function returns the :class:`matplotlib.figure.Figure` it drew (with a
title) and closes it in pyplot, like :mod:`convkit.viz.plots`, so a notebook cell
shows it exactly once (as the cell's value or through ``myst_nb.glue``). The figures
are made in the course style by :func:`convkit.viz.style.course_subplots`.

- :func:`plot_history` — loss and accuracy per epoch of a
  :class:`~convkit.training.history.History`.
- :func:`plot_confusion` — the confusion matrix with a count in every cell.
- :func:`show_misclassified` — a grid of wrongly classified images, "true → predicted".
- :func:`show_filters` — first-layer kernels ``(C_out, 1, k, k)`` on a diverging colour map.
- :func:`show_feature_maps` — one image's activations after each conv / ReLU / pool layer.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from torch import nn

from convkit.nn.torch_state import eval_mode
from convkit.training.history import History
from convkit.viz.style import PALETTE, course_subplots, finish

__all__ = [
    "confusion_matrix",
    "plot_confusion",
    "plot_history",
    "show_feature_maps",
    "show_filters",
    "show_misclassified",
]

_MAPPED_LAYERS = (nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.AvgPool2d)


def _blank(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _labels(name: str, y: ArrayLike) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"{name} must be a 1-D array of integer labels, got {arr.dtype} {arr.shape}"
        )
    return arr.astype(np.int64)


def _images(func: str, x: ArrayLike) -> np.ndarray:
    """Images as ``(N, H, W)``: accepts ``(N, 1, H, W)`` or ``(N, H, W)``."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 3:
        raise ValueError(f"{func}: x must be (N, 1, H, W) or (N, H, W), got shape {np.shape(x)}")
    return arr


# --------------------------------------------------------------------------- curves


def plot_history(history: History, title: str = "Training progress") -> Figure:
    """Loss (left) and train/test accuracy (right) against the epoch number.

    history: a :class:`convkit.training.history.History` with at least one epoch.
    title: the figure title.
    """
    if not isinstance(history, History):
        raise TypeError(f"plot_history: expected a History, got {type(history).__name__}")
    if history.epochs == 0:
        raise ValueError("plot_history: the history has no epochs")
    epochs = np.arange(1, history.epochs + 1)
    fig, axes = course_subplots(1, 2, figsize=(9.0, 3.4), squeeze=False)
    loss_ax, acc_ax = axes[0]
    loss_ax.plot(epochs, history.train_loss, "o-", color=PALETTE["input"], label="training loss")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("mean cross-entropy")
    loss_ax.set_title("Loss")
    acc_ax.plot(
        epochs, np.array(history.train_acc) * 100, "o-", color=PALETTE["input"], label="train"
    )
    acc_ax.plot(
        epochs, np.array(history.test_acc) * 100, "s-", color=PALETTE["output"], label="test"
    )
    best = int(np.argmax(history.test_acc))
    acc_ax.annotate(
        f"best test {history.test_acc[best]:.1%}",
        (epochs[best], history.test_acc[best] * 100),
        textcoords="offset points",
        xytext=(0, -18),
        ha="center",
        fontsize=9,
        color=PALETTE["output"],
    )
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("accuracy (%)")
    acc_ax.set_title("Accuracy")
    acc_ax.legend(loc="lower right", frameon=False)
    for ax in (loss_ax, acc_ax):
        ax.set_xticks(epochs if len(epochs) <= 20 else np.linspace(1, len(epochs), 10, dtype=int))
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return finish(fig)


# --------------------------------------------------------------------------- confusion


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, n_classes: int = 10) -> np.ndarray:
    """The confusion counts: row = true class, column = predicted class.

    y_true: (N,), y_pred: (N,) int labels in 0..n_classes - 1 -> (n_classes, n_classes) int64.
    """
    t = _labels("confusion_matrix: y_true", y_true)
    p = _labels("confusion_matrix: y_pred", y_pred)
    if len(t) != len(p):
        raise ValueError(f"confusion_matrix: {len(t)} true labels but {len(p)} predictions")
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
        raise ValueError(f"confusion_matrix: n_classes must be a positive int, got {n_classes!r}")
    both = np.concatenate([t, p])
    if both.size and (both.min() < 0 or both.max() >= n_classes):
        raise ValueError(
            f"confusion_matrix: labels must lie in 0..{n_classes - 1}, "
            f"got {both.min()}..{both.max()}"
        )
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (t, p), 1)
    return counts


def plot_confusion(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int = 10, title: str | None = None
) -> Figure:
    """The confusion matrix as a heat map with the count in every cell.

    y_true: (N,) true labels, y_pred: (N,) predicted labels -> Figure.

    n_classes: the number of classes (labels ``0 .. n_classes - 1``).
    title: figure title (default: states the accuracy).
    """
    counts = confusion_matrix(y_true, y_pred, n_classes)
    total = counts.sum()
    accuracy = np.trace(counts) / total if total else 0.0
    size = max(3.5, 0.45 * n_classes + 1.5)
    fig, axes = course_subplots(1, 1, figsize=(size, size), squeeze=False)
    ax = axes[0, 0]
    # Colour the off-diagonal mistakes on their own scale so rare errors stay visible.
    shown = np.log1p(counts)
    ax.imshow(shown, cmap="Blues", vmin=0, vmax=max(shown.max(), 1e-9) * 1.15)
    for i in range(n_classes):
        for j in range(n_classes):
            if counts[i, j]:
                dark = shown[i, j] > 0.6 * shown.max()
                ax.text(
                    j,
                    i,
                    str(counts[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8 if n_classes > 10 else 9,
                    color="white" if dark else ("black" if i == j else PALETTE["accent"]),
                    fontweight="normal" if i == j else "bold",
                )
    ax.set_xticks(range(n_classes))
    ax.set_yticks(range(n_classes))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title or f"Confusion matrix (accuracy {accuracy:.1%}, {total} images)")
    fig.tight_layout()
    return finish(fig)


# --------------------------------------------------------------------------- images


def show_misclassified(
    x: ArrayLike,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    max_images: int = 16,
    title: str = "Misclassified digits",
) -> Figure:
    """A grid of the first ``max_images`` wrongly classified images, titled "true → predicted".

    x: (N, 1, H, W) or (N, H, W), y_true: (N,), y_pred: (N,) predicted labels -> Figure.

    max_images: the most images to show.
    title: the figure title (the number of mistakes is appended).

    With no mistakes the figure says so instead of showing an empty grid.
    """
    images = _images("show_misclassified", x)
    t = _labels("show_misclassified: y_true", y_true)
    p = _labels("show_misclassified: y_pred", y_pred)
    if not len(images) == len(t) == len(p):
        raise ValueError(
            f"show_misclassified: {len(images)} images, {len(t)} labels, {len(p)} predictions"
        )
    if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 1:
        raise ValueError(
            f"show_misclassified: max_images must be a positive int, got {max_images!r}"
        )
    wrong = np.flatnonzero(t != p)
    heading = f"{title}: {len(wrong)} of {len(t)}"
    if len(wrong) == 0:
        fig, axes = course_subplots(1, 1, figsize=(4.0, 1.4), squeeze=False)
        ax = axes[0, 0]
        _blank(ax)
        ax.text(0.5, 0.5, "no mistakes: every image was classified correctly",
                ha="center", va="center", transform=ax.transAxes)  # fmt: skip
        fig.suptitle(heading, fontweight="bold")
        return finish(fig)
    shown = wrong[:max_images]
    cols = min(8, len(shown))
    rows = math.ceil(len(shown) / cols)
    fig, axes = course_subplots(rows, cols, figsize=(1.25 * cols, 1.45 * rows + 0.5), squeeze=False)
    for ax in axes.ravel():
        _blank(ax)
    for ax, i in zip(axes.ravel(), shown, strict=False):
        ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=max(1.0, images[i].max()))
        ax.set_title(f"{t[i]} → {p[i]}", fontsize=10, color=PALETTE["accent"])
    fig.suptitle(heading + "  (true → predicted)", fontweight="bold")
    fig.tight_layout()
    return finish(fig)


def show_filters(weight: ArrayLike | torch.Tensor, title: str = "First-layer filters") -> Figure:
    """First-layer kernels as a grid: grey filters red positive / blue negative, colour
    filters as RGB images.

    weight: (C_out, 1, k, k), (C_out, k, k) or (C_out, 3, k, k), an array or a tensor ->
    Figure.

    Grey filters share one symmetric colour scale (centred at 0), so they can be
    compared.  Colour filters are drawn as images, each scaled on its own so that 0 is
    mid-grey and its largest weight reaches full intensity: a pixel is red where the
    red weights are positive and the others negative, dark where all are negative.
    """
    w = weight.detach().cpu().numpy() if isinstance(weight, torch.Tensor) else np.asarray(weight)
    if w.ndim == 4 and w.shape[1] == 1:
        w = w[:, 0]
    colour = w.ndim == 4 and w.shape[1] == 3
    if not colour and (w.ndim != 3 or w.shape[0] == 0):
        raise ValueError(
            "show_filters: weight must be (C_out, 1, k, k), (C_out, k, k) or "
            f"(C_out, 3, k, k), got {np.shape(w)}"
        )
    w = w.astype(np.float64)
    limit = float(np.abs(w).max()) or 1.0
    n = w.shape[0]
    cols = min(8, n)
    rows = math.ceil(n / cols)
    figsize = (1.1 * cols + (0.3 if colour else 0.8), 1.15 * rows + 0.5)
    fig, axes = course_subplots(rows, cols, figsize=figsize, squeeze=False)
    image = None
    for ax in axes.ravel():
        _blank(ax)
    for k, ax in enumerate(axes.ravel()[:n]):
        if colour:
            scale = float(np.abs(w[k]).max()) or 1.0
            ax.imshow(0.5 + 0.5 * w[k].transpose(1, 2, 0) / scale)
        else:
            image = ax.imshow(w[k], cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -limit, limit))
        ax.set_title(f"#{k}", fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="weight")
    size = f"{w.shape[-2]}×{w.shape[-1]}"
    fig.suptitle(f"{title} ({n} of size {size}{', RGB' if colour else ''})", fontweight="bold")
    return finish(fig)


def show_feature_maps(
    model: nn.Module,
    image: ArrayLike | torch.Tensor,
    channels: int = 6,
    title: str = "Feature maps of one digit",
) -> Figure:
    """One image's activations after every conv / ReLU / pool layer: a row per layer.

    image: (1, H, W) or (H, W) (or (1, 1, H, W)) -> Figure.

    Runs the image through the layers of an ``nn.Sequential`` one at a time (in
    eval mode, no gradients) and shows the first ``channels`` channels of every
    output that is a conv, ReLU or pooling layer, left of them the input.

    model: an ``nn.Sequential`` (e.g. :func:`convkit.nn.models.digit_cnn`).
    channels: how many channels to show per layer.
    title: the figure title.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(
            f"show_feature_maps: model must be an nn.Sequential, got {type(model).__name__}"
        )
    img = torch.as_tensor(np.asarray(image, dtype=np.float32))
    while img.ndim < 4:
        img = img.unsqueeze(0)
    if img.ndim != 4 or img.shape[0] != 1:
        raise ValueError(
            f"show_feature_maps: expected one image (1, H, W), got {tuple(np.shape(image))}"
        )
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise ValueError(f"show_feature_maps: channels must be a positive int, got {channels!r}")
    maps: list[tuple[str, np.ndarray]] = []
    try:
        with eval_mode(model), torch.no_grad():
            out = img
            for name, layer in model.named_children():
                out = layer(out)
                if isinstance(layer, _MAPPED_LAYERS) and out.ndim == 4:
                    maps.append((f"{name}\n{type(layer).__name__}", out[0].numpy()))
    except RuntimeError as exc:
        raise ValueError(f"show_feature_maps: the model rejects this image: {exc}") from exc
    if not maps:
        raise ValueError("show_feature_maps: the model has no conv, ReLU or pooling layer")
    cols = min(channels, max(m.shape[0] for _, m in maps)) + 1
    rows = len(maps)
    fig, axes = course_subplots(rows, cols, figsize=(1.3 * cols, 1.3 * rows + 0.4), squeeze=False)
    for ax in axes.ravel():
        _blank(ax)
    for r, (label, fmap) in enumerate(maps):
        first = axes[r, 0]
        if r == 0:
            first.imshow(img[0, 0].numpy(), cmap="gray_r")
            first.set_title("input", fontsize=9)
        first.text(-0.15, 0.5, label, transform=first.transAxes, ha="right", va="center",
                   fontsize=9)  # fmt: skip
        for c in range(min(channels, fmap.shape[0])):
            ax = axes[r, c + 1]
            channel = fmap[c]
            low, high = float(channel.min()), float(channel.max())
            if low < 0 < high:
                ax.imshow(channel, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, low, high))
            else:
                ax.imshow(channel, cmap="viridis", vmin=low, vmax=high if high > low else low + 1)
            if r == 0:
                ax.set_title(f"ch {c}", fontsize=9)
            ax.set_xlabel(f"{channel.shape[0]}×{channel.shape[1]}", fontsize=7, labelpad=1)
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout(rect=(0.06, 0, 1, 1))
    return finish(fig)
