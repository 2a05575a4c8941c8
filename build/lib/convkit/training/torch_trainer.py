"""Training a torch classifier on :class:`convkit.data.Digits`, reproducibly, on the CPU.

- :func:`seed_everything` seeds Python, numpy and torch.
- :func:`fit` trains with Adam and cross-entropy, records a
  :class:`convkit.training.history.History` (loss, train/test accuracy, cumulative
  training seconds per epoch) and shows a progress bar.
- :func:`evaluate` (accuracy) and :func:`predict` (labels) run a model in eval
  mode without gradients.
- :func:`shift_images` is the data augmentation: random whole-pixel shifts.

:data:`RECIPES` holds the ``fit`` arguments the chapters and benchmarks use for
:func:`convkit.nn.models.digit_cnn` on the default 4,000 / 1,000 split.

The progress bar comes from :func:`convkit.training.progress.progress_bar`: a widget in
Jupyter (the built book shows its final state), a text bar in a terminal.
"""

from __future__ import annotations

import numbers
import random
import time

import numpy as np
import torch
from torch import nn

from convkit._env import default_threads
from convkit.data import Digits
from convkit.nn.torch_state import eval_mode, torch_threads
from convkit.training.history import History
from convkit.training.progress import progress_bar

__all__ = ["RECIPES", "evaluate", "fit", "predict", "seed_everything", "shift_images"]

#: ``fit`` keyword arguments for ``digit_cnn()`` (built right after ``seed_everything(0)``)
#: on ``load_mnist()`` with 2 torch threads. Measured test accuracy per epoch (deterministic):
#: ``"plain"`` 90.0, 94.0, 95.5, 97.1 (epoch 4, about 3.5 s of training on a quiet
#: machine), ... 97.7 % (epoch 8); ``"shift"`` (±2-pixel shifts) first reaches 98.0 % at
#: epoch 14 and 98.4 % at epoch 15 (about 12-13 s).
RECIPES: dict[str, dict[str, object]] = {
    "plain": {"epochs": 8, "batch_size": 64, "lr": 2e-3, "augment_shift": 0, "seed": 0},
    "shift": {"epochs": 16, "batch_size": 64, "lr": 2e-3, "augment_shift": 2, "seed": 0},
}


# --------------------------------------------------------------------------- checks


def _int_at_least(func: str, name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{func}: {name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{func}: {name} must be >= {minimum}, got {value}")
    return int(value)


def _positive_float(func: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}: {name} must be a number, got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{func}: {name} must be a positive number, got {value}")
    return float(value)


def _check_images(func: str, name: str, x: object) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 4:
        raise ValueError(f"{func}: {name} must be 4-D (N, C, H, W), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"{func}: {name} must hold floats, got dtype {arr.dtype}")
    return arr


def _check_labels(func: str, name: str, y: object, n: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{func}: {name} must be 1-D (N,), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{func}: {name} must hold integer labels, got dtype {arr.dtype}")
    if len(arr) != n:
        raise ValueError(f"{func}: {n} images but {len(arr)} labels")
    if len(arr) and arr.min() < 0:
        raise ValueError(f"{func}: {name} has a negative label {int(arr.min())}")
    return arr.astype(np.int64)


def _check_model(func: str, model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{func}: model must be a torch.nn.Module, got {type(model).__name__}")
    return model


# --------------------------------------------------------------------------- helpers


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, numpy's global generator and torch (all devices)."""
    seed = _int_at_least("seed_everything", "seed", seed, 0)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - the legacy global generator, for old code
    torch.manual_seed(seed)


def shift_images(x: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Shift every image by its own random whole-pixel offset, filling with zeros.

    Each image gets a vertical and a horizontal shift drawn uniformly from
    ``-max_shift .. max_shift``; pixels pushed past the border are lost and the
    uncovered strip is 0. Vectorised: one padded copy and one gather.

    Args:
        x: images ``(N, C, H, W)``.
        max_shift: the largest shift in pixels, ``0 <= max_shift < min(H, W)``.
        rng: the numpy random generator drawing the shifts.

    Returns:
        A new array, same shape and dtype as ``x``.
    """
    x = _check_images("shift_images", "x", x)
    max_shift = _int_at_least("shift_images", "max_shift", max_shift, 0)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"shift_images: rng must be a numpy Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    n, _, h, w = x.shape
    if max_shift >= min(h, w):
        raise ValueError(
            f"shift_images: max_shift must be smaller than the image size {h}x{w}, got {max_shift}"
        )
    if max_shift == 0 or n == 0:
        return x.copy()
    s = max_shift
    dy = rng.integers(-s, s + 1, size=n)
    dx = rng.integers(-s, s + 1, size=n)
    padded = np.pad(x, ((0, 0), (0, 0), (s, s), (s, s)))
    # out[i, :, r, c] = x[i, :, r - dy, c - dx] = padded[i, :, r - dy + s, c - dx + s]
    rows = (np.arange(h)[None, :] - dy[:, None] + s)[:, None, :, None]
    cols = (np.arange(w)[None, :] - dx[:, None] + s)[:, None, None, :]
    batch = np.arange(n)[:, None, None, None]
    chans = np.arange(x.shape[1])[None, :, None, None]
    return padded[batch, chans, rows, cols]


def _as_tensor(x: np.ndarray) -> torch.Tensor:
    """float32 tensor sharing memory with ``x`` when possible (read-only arrays are copied)."""
    arr = np.ascontiguousarray(x, dtype=np.float32)
    return torch.from_numpy(arr if arr.flags.writeable else arr.copy())


def predict(model: nn.Module, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Predicted class labels: the argmax of the model's outputs.

    Args:
        model: a classifier mapping ``(B, C, H, W)`` to logits ``(B, K)``.
        x: images ``(N, C, H, W)``.
        batch_size: images per forward pass.

    Returns:
        int64 labels ``(N,)``. The model's train/eval mode is restored afterwards.
    """
    _check_model("predict", model)
    x = _check_images("predict", "x", x)
    batch_size = _int_at_least("predict", "batch_size", batch_size, 1)
    out = []
    with eval_mode(model), torch.no_grad():
        for start in range(0, len(x), batch_size):
            logits = model(_as_tensor(x[start : start + batch_size]))
            out.append(logits.argmax(dim=1).numpy())
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, dtype=np.int64)


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> float:
    """Accuracy (0..1) of ``model`` on images ``x`` ``(N, C, H, W)`` with labels ``y`` ``(N,)``."""
    x = _check_images("evaluate", "x", x)
    y = _check_labels("evaluate", "y", y, len(x))
    if len(x) == 0:
        raise ValueError("evaluate: no images to evaluate")
    return float(np.mean(predict(model, x, batch_size) == y))


# --------------------------------------------------------------------------- fit


def _check_data(data: object) -> Digits:
    if not isinstance(data, tuple) or len(data) != 4:
        raise TypeError(
            "fit: data must be a convkit.data.Digits (x_train, y_train, x_test, y_test), "
            f"got {type(data).__name__}"
        )
    x_train = _check_images("fit", "x_train", data[0])
    y_train = _check_labels("fit", "y_train", data[1], len(x_train))
    x_test = _check_images("fit", "x_test", data[2])
    y_test = _check_labels("fit", "y_test", data[3], len(x_test))
    if len(x_train) == 0 or len(x_test) == 0:
        raise ValueError("fit: the training and the test set must not be empty")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ValueError(
            f"fit: train images {x_train.shape[1:]} and test images {x_test.shape[1:]} differ"
        )
    return Digits(x_train, y_train, x_test, y_test)


def fit(
    model: nn.Module,
    data: Digits,
    *,
    epochs: int = 8,
    batch_size: int = 64,
    lr: float = 2e-3,
    augment_shift: int = 0,
    seed: int = 0,
    threads: int | None = None,
    progress: bool = True,
    time_budget: float | None = None,
) -> History:
    """Train ``model`` in place with Adam and cross-entropy; return its per-epoch history.

    Every epoch visits the training images once in a fresh random order, in
    mini-batches of ``batch_size`` (the last one may be smaller); with
    ``augment_shift > 0`` each epoch uses a new randomly shifted copy of the
    training images (:func:`shift_images`). After each epoch the test accuracy
    is measured (not counted in the training time).

    The run is deterministic for a given ``seed`` and starting model: the
    shuffling, the shifts and torch's global generator are all seeded from it
    (so build the model after :func:`seed_everything` to fix its initial weights).

    Args:
        model: a classifier ``(B, C, H, W) -> (B, K)`` logits; trained in place.
        data: :class:`convkit.data.Digits`, e.g. ``load_mnist()``.
        epochs: the number of passes over the training set (>= 1).
        batch_size: images per gradient step (>= 1).
        lr: Adam's learning rate (> 0).
        augment_shift: largest random shift in pixels (0: no augmentation).
        seed: the random seed of this run.
        threads: torch intra-op threads while training (default:
            :func:`default_threads`; the previous setting is restored afterwards).
        progress: show a tqdm bar (one step per epoch) on stderr.
        time_budget: training seconds after which to stop; checked at the end of
            each epoch, so the epoch that crosses the budget is completed and
            recorded (None: run all ``epochs``).

    Returns:
        :class:`convkit.training.history.History`: per epoch the mean training loss, the
        training accuracy (on the batches as they were trained, i.e. of the
        changing model, augmented images included), the test accuracy and the
        cumulative training seconds.
    """
    _check_model("fit", model)
    data = _check_data(data)
    epochs = _int_at_least("fit", "epochs", epochs, 1)
    batch_size = _int_at_least("fit", "batch_size", batch_size, 1)
    lr = _positive_float("fit", "lr", lr)
    augment_shift = _int_at_least("fit", "augment_shift", augment_shift, 0)
    seed = _int_at_least("fit", "seed", seed, 0)
    threads = _int_at_least("fit", "threads", default_threads() if threads is None else threads, 1)
    if time_budget is not None:
        time_budget = _positive_float("fit", "time_budget", time_budget)
    side = min(data.x_train.shape[2:])
    if augment_shift >= side:
        raise ValueError(
            f"fit: augment_shift must be smaller than the image size, got {augment_shift}"
        )
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("fit: the model has no trainable parameters")

    x_train = np.ascontiguousarray(data.x_train, dtype=np.float32)
    y_train = torch.from_numpy(np.array(data.y_train, dtype=np.int64))
    n = len(x_train)
    history = History()
    rng = np.random.default_rng(seed)
    order_gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    bar = progress_bar(epochs, "training", "epoch", enabled=progress)
    was_training = model.training
    elapsed = 0.0
    try:
        with torch_threads(threads):
            for _ in range(epochs):
                start = time.perf_counter()
                model.train()
                images = shift_images(x_train, augment_shift, rng) if augment_shift else x_train
                x_epoch = _as_tensor(images)
                order = torch.randperm(n, generator=order_gen)
                total_loss, correct = 0.0, 0
                for first in range(0, n, batch_size):
                    idx = order[first : first + batch_size]
                    xb, yb = x_epoch[idx], y_train[idx]
                    logits = model(xb)
                    loss = loss_fn(logits, yb)
                    optimizer.zero_grad(set_to_none=True)
                    (loss / len(idx)).backward()
                    optimizer.step()
                    total_loss += float(loss.detach())
                    correct += int((logits.detach().argmax(dim=1) == yb).sum())
                elapsed += time.perf_counter() - start
                if not np.isfinite(total_loss):
                    raise FloatingPointError(
                        f"fit: the training loss became {total_loss} in epoch "
                        f"{history.epochs + 1}; try a smaller lr (now {lr})"
                    )
                test_acc = evaluate(model, data.x_test, data.y_test)
                history.record(total_loss / n, correct / n, test_acc, elapsed)
                bar.set_postfix(
                    {"loss": f"{total_loss / n:.3f}", "test_acc": f"{test_acc:.3f}",
                     "train_s": f"{elapsed:.1f}"}
                )  # fmt: skip
                bar.update(1)
                if time_budget is not None and elapsed >= time_budget:
                    break
    finally:
        bar.close()
        model.train(was_training)
    return history
