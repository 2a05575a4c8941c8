"""The epoch loop both trainers run: batches, shifts, loss sums, history, progress, time budget.

A trainer supplies what differs - one gradient step on a batch and the test
accuracy - and :func:`run_epochs` does the rest, so :func:`convkit.training.fit`
(torch) and :func:`convkit.training.fit_numpy` (numpy) draw the same batches and
the same shifts from the same seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from convkit.training.arguments import FitArguments
from convkit.training.augment import shift_images
from convkit.training.history import History
from convkit.training.progress import progress_bar

__all__ = ["BatchStep", "run_epochs"]

#: One training step: x_batch (B, C, H, W), y_batch (B,) int64 -> (summed loss, correct).
BatchStep = Callable[[np.ndarray, np.ndarray], tuple[float, int]]


def run_epochs(
    args: FitArguments,
    x_train: np.ndarray,
    step: BatchStep,
    evaluate: Callable[[], float],
    *,
    desc: str = "training",
    progress: bool = True,
) -> History:
    """Run ``args.epochs`` passes over ``x_train``; return the per-epoch history.

    x_train: (N, C, H, W), already in the dtype ``step`` wants; the labels (N,)
    are ``args.data.y_train``. Each epoch:

    - with ``args.augment_shift > 0``, a newly shifted copy of the images
      (:func:`convkit.training.augment.shift_images`, numpy generator seeded with
      ``args.seed``); then, with ``args.augment``, ``args.augment(images, rng)`` with the
      same generator (it must return N float images; their height and width may differ
      from the originals, as with a random crop);
    - a fresh random order, ``torch.randperm`` from a torch generator seeded with
      ``args.seed``, cut into batches of ``args.batch_size`` (the last may be smaller);
    - ``step(x_batch, y_batch)`` per batch: it trains and returns the batch's summed
      loss and its number of correct predictions;
    - ``evaluate()``: the test accuracy (0..1), outside the timed training.

    The history records the mean loss, the training accuracy (of the changing
    model, on the batches as trained), the test accuracy and the cumulative
    training seconds. FloatingPointError when an epoch's loss is not finite. With
    ``args.time_budget``, the epoch that crosses it is the last. ``desc`` labels the
    progress bar (shown when ``progress``; one step per epoch).
    """
    y_train = args.data.y_train
    n = len(x_train)
    history = History()
    rng = np.random.default_rng(args.seed)
    order_gen = torch.Generator().manual_seed(args.seed)
    bar = progress_bar(args.epochs, desc, "epoch", enabled=progress)
    elapsed = 0.0
    try:
        for _ in range(args.epochs):
            start = time.perf_counter()
            shift = args.augment_shift
            images = shift_images(x_train, shift, rng) if shift else x_train
            if args.augment is not None:
                images = _augmented(args, images, rng)
            order = torch.randperm(n, generator=order_gen).numpy()
            total_loss, correct = 0.0, 0
            for first in range(0, n, args.batch_size):
                idx = order[first : first + args.batch_size]
                loss, right = step(images[idx], y_train[idx])
                total_loss += loss
                correct += right
            elapsed += time.perf_counter() - start
            if not np.isfinite(total_loss):
                raise FloatingPointError(
                    f"{args.func}: the training loss became {total_loss} in epoch "
                    f"{history.epochs + 1}; try a smaller lr (now {args.lr})"
                )
            test_acc = evaluate()
            history.record(total_loss / n, correct / n, test_acc, elapsed)
            bar.set_postfix(
                {"loss": f"{total_loss / n:.3f}", "test_acc": f"{test_acc:.3f}",
                 "train_s": f"{elapsed:.1f}"}
            )  # fmt: skip
            bar.update(1)
            if args.time_budget is not None and elapsed >= args.time_budget:
                break
    finally:
        bar.close()
    return history


def _augmented(args: FitArguments, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``args.augment(images, rng)``, checked: (N, C, H, W) -> (N, C, H', W') in images' dtype."""
    out = args.augment(images, rng)  # type: ignore[misc]
    arr = np.asarray(out)
    if arr.ndim != 4 or len(arr) != len(images) or arr.shape[1] != images.shape[1]:
        raise ValueError(
            f"{args.func}: augment must return (N, C, H, W) images with N={len(images)} and "
            f"C={images.shape[1]}, got shape {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"{args.func}: augment must return floats, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=images.dtype)
