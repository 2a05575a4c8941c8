"""Normalisation layers and learning-rate schedules compared on one small task (chapter 10).

- :func:`half_size_digits`: the chapter's task, MNIST digits average-pooled to 14 x 14
  with a seeded validation split (the test digits are not touched).
- :func:`norm_layer` and :func:`norm_convnet`: a plain ConvNet whose every convolution
  is followed by the same kind of normalisation (none, batch, group or layer norm,
  the last as group norm with one group, as Wu & He 2018 define it).
- :func:`compare_normalisations` and :func:`compare_schedules`: the same network
  trained by :func:`convkit.training.fit` with one thing changed, same seed, same batches.
- :func:`batch_noise`: how much one image's batch-normalised values move when only
  the other images of its batch change, by batch size (group norm: not at all);
  :func:`accuracy_in_batches`: a trained network's accuracy when its batch norms use
  the statistics of small batches instead of the running averages.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from convkit._checks import int_at_least
from convkit.data import TrainVal, load_mnist, train_val_split
from convkit.ops.normalization import batch_norm, group_norm
from convkit.training import fit, seed_everything
from convkit.training.history import History

__all__ = [
    "NORMS",
    "Trained",
    "accuracy_in_batches",
    "batch_noise",
    "compare_normalisations",
    "compare_schedules",
    "half_size_digits",
    "norm_convnet",
    "norm_layer",
]

#: The normalisations :func:`norm_layer` builds.
NORMS = ("none", "batch", "group", "layer")


def half_size_digits(n_train: int = 2000, n_val: int = 1000, seed: int = 0) -> TrainVal:
    """MNIST training digits at 14 x 14: ``n_train`` to train on and ``n_val`` to validate.

    -> :class:`convkit.data.TrainVal`: x_train (n_train, 1, 14, 14) float32, y_train
    (n_train,), x_val (n_val, 1, 14, 14), y_val (n_val,).

    The validation digits are :func:`convkit.data.train_val_split`'s (``n_val``,
    ``seed``); the training digits are the first ``n_train`` of the rest.  Each digit is
    average-pooled over 2 x 2 blocks (a quarter of the pixels, a quarter of the work).
    """
    func = "half_size_digits"
    n_train = int_at_least(func, "n_train", n_train, 1)
    split = train_val_split(load_mnist(), n_val=n_val, seed=seed)
    if n_train > len(split.x_train):
        raise ValueError(f"{func}: n_train must be at most {len(split.x_train)}, got {n_train}")

    def halve(x: np.ndarray) -> np.ndarray:
        n, c, h, w = x.shape
        return x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5), dtype=np.float32)

    return TrainVal(
        halve(split.x_train[:n_train]), split.y_train[:n_train].copy(),
        halve(split.x_val), split.y_val.copy(),
    )  # fmt: skip


def norm_layer(kind: str, channels: int, groups: int = 4) -> nn.Module:
    """The normalisation ``kind`` for ``channels`` channels: (N, C, H, W) -> (N, C, H, W).

    "none": ``nn.Identity``; "batch": ``nn.BatchNorm2d``; "group": ``nn.GroupNorm``
    with ``groups`` groups; "layer": ``nn.GroupNorm`` with one group (statistics over
    C, H and W of each image).
    """
    func = "norm_layer"
    channels = int_at_least(func, "channels", channels, 1)
    groups = int_at_least(func, "groups", groups, 1)
    if kind not in NORMS:
        raise ValueError(f"{func}: kind must be one of {NORMS}, got {kind!r}")
    if kind == "group" and channels % groups:
        raise ValueError(f"{func}: {channels} channels do not split into {groups} groups")
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(groups, channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    return nn.Identity()


def norm_convnet(
    kind: str, depth: int = 6, width: int = 16, groups: int = 4, num_classes: int = 10
) -> nn.Sequential:
    """A plain ConvNet with the normalisation ``kind`` after every convolution.

    x: (N, 1, H, W) -> (N, num_classes) logits.

    ``depth`` 3 x 3 convolutions of ``width`` channels (padding 1; the second and the
    fourth with stride 2), each followed by :func:`norm_layer` and a ReLU, then global
    average pooling and a linear layer.  The convolutions have a bias only without
    normalisation (a normalisation's shift would cancel it).
    """
    func = "norm_convnet"
    depth = int_at_least(func, "depth", depth, 1)
    width = int_at_least(func, "width", width, 1)
    layers: list[nn.Module] = []
    channels = 1
    for i in range(depth):
        stride = 2 if i in (1, 3) else 1
        layers += [
            nn.Conv2d(channels, width, 3, stride=stride, padding=1, bias=kind == "none"),
            norm_layer(kind, width, groups),
            nn.ReLU(),
        ]
        channels = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes)]
    return nn.Sequential(*layers)


class Trained(NamedTuple):
    """A network after :func:`convkit.training.fit`, and the history of its training."""

    model: nn.Module
    history: History


def _train_each(
    builds: Mapping[str, Callable[[], nn.Module]],
    fits: Mapping[str, dict[str, object]],
    data: TrainVal,
    seed: int,
) -> dict[str, Trained]:
    """name -> the model ``builds[name]()`` trained by ``fit(model, data, **fits[name])``
    and its history; every model is built right after ``seed_everything(seed)``."""
    trained = {}
    for name, build in builds.items():
        seed_everything(seed)
        model = build()
        history = fit(model, data, seed=seed, threads=1, progress=False, **fits[name])
        trained[name] = Trained(model, history)
    return trained


def compare_normalisations(
    data: TrainVal,
    kinds: Iterable[str] = NORMS,
    *,
    depth: int = 6,
    width: int = 16,
    epochs: int = 3,
    batch_size: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
) -> dict[str, Trained]:
    """kind -> :func:`norm_convnet` with that normalisation, trained, and its history.

    data: x_train (N, 1, H, W), y_train (N,), x_val (M, 1, H, W), y_val (M,).
    Every network starts from ``seed`` and is trained by :func:`convkit.training.fit`
    with Adam (``lr``), the same batches in the same order, on one thread; the
    histories' ``test_acc`` is the validation accuracy.
    """
    kinds = tuple(kinds)
    builds = {k: (lambda k=k: norm_convnet(k, depth, width)) for k in kinds}
    setting = {"epochs": epochs, "batch_size": batch_size, "lr": lr}
    return _train_each(builds, dict.fromkeys(kinds, setting), data, seed)


def compare_schedules(
    data: TrainVal,
    schedules: Mapping[str, Callable[[int, int, float], float]],
    *,
    kind: str = "batch",
    epochs: int = 8,
    batch_size: int = 64,
    lr: float = 0.1,
    momentum: float = 0.9,
    seed: int = 0,
) -> dict[str, Trained]:
    """name -> one :func:`norm_convnet` trained under that schedule, and its history.

    data as in :func:`compare_normalisations`.  SGD with ``momentum``; each schedule
    (``(step, total_steps, lr) -> learning rate``, e.g. from
    :mod:`convkit.training.schedules`) sets the rate at every step from the peak ``lr``.
    """
    builds = {name: (lambda: norm_convnet(kind)) for name in schedules}
    fits = {
        name: {"epochs": epochs, "batch_size": batch_size, "lr": lr, "optimizer": "sgd",
               "momentum": momentum, "schedule": schedule}
        for name, schedule in schedules.items()
    }  # fmt: skip
    return _train_each(builds, fits, data, seed)


def batch_noise(
    x: np.ndarray, batch_sizes: Iterable[int], trials: int = 50, seed: int = 0, groups: int = 0
) -> dict[int, float]:
    """batch size -> how far image 0's normalised values move with its batch companions.

    x: (N, C, H, W) float images -> {B: mean over image 0's values of their standard
    deviation across ``trials`` batches}.  Each batch is image 0 with ``B - 1`` others
    drawn at random from x (without replacement); it is normalised by
    :func:`convkit.ops.normalization.batch_norm` in training mode (``groups > 0``:
    by :func:`~convkit.ops.normalization.group_norm` with that many groups instead,
    which sees one image at a time, so every entry is 0).
    """
    func = "batch_noise"
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"{func}: x must be (N, C, H, W), got shape {x.shape}")
    trials = int_at_least(func, "trials", trials, 2)
    rng = np.random.default_rng(seed)
    noise = {}
    for size in batch_sizes:
        size = int_at_least(func, "batch size", size, 1)
        if size > len(x):
            raise ValueError(f"{func}: batch size {size} is larger than the {len(x)} images")
        outs = []
        for _ in range(trials):
            others = 1 + rng.choice(len(x) - 1, size - 1, replace=False)
            batch = x[np.concatenate([[0], others])]
            if groups:
                out = group_norm(batch, groups)
            else:
                out = batch_norm(batch, None, None, training=True)
            outs.append(out[0])
        noise[size] = float(np.std(np.stack(outs), axis=0).mean())
    return noise


def accuracy_in_batches(
    model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int | None
) -> float:
    """Accuracy (0..1) of ``model`` on x (N, C, H, W), y (N,), batch by batch.

    ``batch_size=None``: in evaluation mode (batch norm uses its running averages, so
    each image's prediction is its own).  An integer: in training mode on batches of
    that size in order, so every batch norm normalises with that batch's statistics
    (a copy of the model runs, so the running averages are not changed).  No gradients.
    """
    func = "accuracy_in_batches"
    net = copy.deepcopy(model)
    net.train(batch_size is not None)
    step = len(x) if batch_size is None else int_at_least(func, "batch_size", batch_size, 1)
    right = 0
    with torch.no_grad():
        for start in range(0, len(x), step):
            logits = net(torch.as_tensor(x[start : start + step], dtype=torch.float32))
            right += int((logits.argmax(dim=1).numpy() == y[start : start + step]).sum())
    return right / len(x)
