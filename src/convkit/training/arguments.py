"""Argument checks shared by the trainers: images, labels, a data split, the fit settings.

Every message starts with the name of the public function that was called
(``fit``, ``fit_numpy``, ``predict``, ...), as in :mod:`convkit._checks`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from convkit._checks import int_at_least, positive_float
from convkit._env import default_threads
from convkit.data import Digits

__all__ = [
    "Augment",
    "FitArguments",
    "check_digits",
    "check_fit_arguments",
    "check_images",
    "check_labels",
]


def check_images(func: str, name: str, x: object) -> np.ndarray:
    """A float image batch, unchanged: x (N, C, H, W) -> (N, C, H, W).

    ValueError when ``x`` is not 4-D, TypeError when it does not hold floats.
    """
    arr = np.asarray(x)
    if arr.ndim != 4:
        raise ValueError(f"{func}: {name} must be 4-D (N, C, H, W), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"{func}: {name} must hold floats, got dtype {arr.dtype}")
    return arr


def check_labels(func: str, name: str, y: object, n: int) -> np.ndarray:
    """Class labels for ``n`` images: y (n,) integers >= 0 -> (n,) int64.

    ValueError for a wrong shape, a wrong count or a negative label; TypeError for
    labels that are not integers.
    """
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


def check_digits(func: str, data: object) -> Digits:
    """A checked train/test split with int64 labels.

    data: :class:`convkit.data.Digits` (or any 4-tuple) of x_train (N, C, H, W),
    y_train (N,), x_test (M, C, H, W), y_test (M,), with N, M >= 1.
    """
    if not isinstance(data, tuple) or len(data) != 4:
        raise TypeError(
            f"{func}: data must be a convkit.data.Digits (x_train, y_train, x_test, y_test), "
            f"got {type(data).__name__}"
        )
    x_train = check_images(func, "x_train", data[0])
    y_train = check_labels(func, "y_train", data[1], len(x_train))
    x_test = check_images(func, "x_test", data[2])
    y_test = check_labels(func, "y_test", data[3], len(x_test))
    if len(x_train) == 0 or len(x_test) == 0:
        raise ValueError(f"{func}: the training and the test set must not be empty")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ValueError(
            f"{func}: train images {x_train.shape[1:]} and test images {x_test.shape[1:]} differ"
        )
    return Digits(x_train, y_train, x_test, y_test)


#: A per-epoch augmentation: (x (N, C, H, W), numpy generator) -> a new (N, C, H', W') array.
Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]


class FitArguments(NamedTuple):
    """The checked arguments of one training run (see :func:`check_fit_arguments`)."""

    func: str  # the public trainer, for messages
    data: Digits
    epochs: int
    batch_size: int
    lr: float
    augment_shift: int
    seed: int
    threads: int
    time_budget: float | None
    augment: Augment | None = None


def check_fit_arguments(
    func: str,
    data: object,
    *,
    epochs: object,
    batch_size: object,
    lr: object,
    augment_shift: object,
    seed: object,
    threads: object,
    time_budget: object,
    augment: object = None,
) -> FitArguments:
    """Check the arguments every trainer shares; ``threads=None`` becomes :func:`default_threads`.

    data: x_train (N, C, H, W), y_train (N,), x_test (M, C, H, W), y_test (M,).
    ``epochs``, ``batch_size``, ``threads`` >= 1; ``lr`` > 0; ``seed`` >= 0;
    ``0 <= augment_shift < min(H, W)``; ``time_budget`` None or > 0; ``augment`` None
    or a callable (an :data:`Augment`).
    TypeError / ValueError, each naming ``func``.
    """
    digits = check_digits(func, data)
    epochs = int_at_least(func, "epochs", epochs, 1)
    batch_size = int_at_least(func, "batch_size", batch_size, 1)
    lr = positive_float(func, "lr", lr)
    augment_shift = int_at_least(func, "augment_shift", augment_shift, 0)
    seed = int_at_least(func, "seed", seed, 0)
    threads = int_at_least(func, "threads", default_threads() if threads is None else threads, 1)
    if time_budget is not None:
        time_budget = positive_float(func, "time_budget", time_budget)
    if augment_shift >= min(digits.x_train.shape[2:]):
        raise ValueError(
            f"{func}: augment_shift must be smaller than the image size, got {augment_shift}"
        )
    if augment is not None and not callable(augment):
        raise TypeError(
            f"{func}: augment must be a function (images, rng) -> images, "
            f"got {type(augment).__name__}"
        )
    return FitArguments(
        func, digits, epochs, batch_size, lr, augment_shift, seed, threads, time_budget,
        augment,  # type: ignore[arg-type]
    )  # fmt: skip
