"""Overfitting, augmentation, regularisation and transfer on the colour tiles (chapter 11).

- :func:`colour_tiles` and :func:`fewer_tiles`: the chapter's data, the training and
  validation tiles of :func:`convkit.data.load_colour_patches` (the test tiles are left
  out, to be touched once), and a smaller training set with every class's share kept.
- :func:`colour_net`: the small network of the chapter's experiments: a 5 x 5 first layer
  (large enough to see what it learns), a 3 x 3 one, and a dense layer that can learn a
  small training set by heart.
- :data:`AUGMENTATIONS`: the chapter's augmentations as ``(images, rng) -> images``.
- :class:`Recipe` and :func:`compare_recipes`: one change at a time to the training of
  :func:`colour_net` (an augmentation, dropout, a kind of weight decay), each trained
  with the same seeds, so a difference is the change's and its spread is the seeds'.
- :func:`colour_weight_share`: how much of each RGB filter is colour (the channels'
  differences) rather than brightness (their common part), and which channels it sets
  against each other.
- :func:`split_classes`, :func:`pretrain`, :func:`linear_probe`, :func:`fine_tune`,
  :func:`from_scratch` and :func:`refresh_batch_norm`: transfer from one group of classes
  to another, with three ways of using what was learned.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from convkit._checks import fraction, int_at_least
from convkit.data import TrainVal, load_colour_patches, stratified_split
from convkit.lessons.normalisers import Trained
from convkit.training import fit, seed_everything
from convkit.training.augment import colour_jitter, cutout, horizontal_flip, random_crop
from convkit.training.schedules import cosine_lr

__all__ = [
    "AUGMENTATIONS",
    "CHANNEL_NAMES",
    "MIN_EPOCH_TILES",
    "Recipe",
    "colour_net",
    "colour_tiles",
    "colour_weight_share",
    "compare_recipes",
    "features",
    "fewer_tiles",
    "fine_tune",
    "from_scratch",
    "linear_probe",
    "pretrain",
    "refresh_batch_norm",
    "split_classes",
]

#: The input channels of an RGB filter, in order.
CHANNEL_NAMES = ("red", "green", "blue")


def colour_tiles(tile: int = 16, seed: int = 0) -> TrainVal:
    """The training and validation tiles of :func:`convkit.data.load_colour_patches` at
    ``tile`` x ``tile`` pixels (the photographs scaled to a shorter side of ``10 * tile``).

    -> :class:`convkit.data.TrainVal`: x_train (N, 3, tile, tile) float32 in [0, 1], y_train
    (N,), x_val (M, 3, tile, tile), y_val (M,); N = 753 and M = 251 at 16 x 16.  The test
    tiles are not returned: nothing chosen on this data can have looked at them.
    """
    tiles = load_colour_patches(tile=tile, short_side=10 * tile, seed=seed)
    return TrainVal(tiles.x_train, tiles.y_train, tiles.x_val, tiles.y_val)


def fewer_tiles(data: TrainVal, n_train: int, seed: int = 0) -> TrainVal:
    """``data`` with only ``n_train`` of its training tiles, every class keeping its share.

    data: x_train (N, C, H, W), y_train (N,), x_val, y_val -> the same with x_train
    (n_train, C, H, W), y_train (n_train,) (:func:`convkit.data.stratified_split`, seeded;
    the validation part unchanged).
    """
    func = "fewer_tiles"
    n_train = int_at_least(func, "n_train", n_train, 1)
    if n_train > len(data.y_train):
        raise ValueError(f"{func}: n_train must be at most {len(data.y_train)}, got {n_train}")
    if n_train == len(data.y_train):
        return data
    _, keep = stratified_split(data.y_train, n_train, np.random.default_rng(seed))
    keep = np.sort(keep)
    return data._replace(x_train=data.x_train[keep], y_train=data.y_train[keep])


def colour_net(
    widths: tuple[int, int] = (8, 16),
    hidden: int = 64,
    dropout: float = 0.0,
    num_classes: int = 10,
    side: int = 16,
) -> nn.Sequential:
    """The chapter's network: x (N, 3, side, side) -> (N, num_classes) logits.

    A 5 x 5 convolution (``widths[0]`` filters, large enough to see what they learn) and a
    3 x 3 one (``widths[1]``), each followed by batch norm, a ReLU and a 2 x 2 max pool;
    then the maps flattened into a dense layer of ``hidden`` units with a ReLU, dropout
    with probability ``dropout`` (0: none) and the output layer.  The dense layer, which
    sees every position separately, holds most of the weights (16,448 of the 18,898
    with the defaults at 16 x 16), enough to learn a small training set by heart.
    ``side`` is a multiple of 4.
    """
    func = "colour_net"
    a, b = (int_at_least(func, "widths", w, 1) for w in widths)
    hidden = int_at_least(func, "hidden", hidden, 1)
    dropout = fraction(func, "dropout", dropout)
    num_classes = int_at_least(func, "num_classes", num_classes, 1)
    side = int_at_least(func, "side", side, 4)
    if side % 4:
        raise ValueError(f"{func}: side must be a multiple of 4, got {side}")

    def unit(c_in: int, c_out: int, k: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False), nn.BatchNorm2d(c_out),
                nn.ReLU(), nn.MaxPool2d(2)]  # fmt: skip

    return nn.Sequential(
        *unit(3, a, 5), *unit(a, b, 3), nn.Flatten(),
        nn.Linear(b * (side // 4) ** 2, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, num_classes),
    )  # fmt: skip


def _crop(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return random_crop(images, images.shape[-2:], max(1, images.shape[-1] // 8), rng)


def _flip(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return horizontal_flip(images, rng)


def _crop_and_flip(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _flip(_crop(images, rng), rng)


def _jitter(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return colour_jitter(images, rng, brightness=0.4, contrast=0.4, saturation=0.4)


def _cutout(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return cutout(images, max(1, images.shape[-1] // 2), rng)


#: name -> ``(images (N, C, H, W), rng) -> images``: "crop", a random crop of the image
#: padded by an eighth of its width in zeros (4 pixels at 32 x 32, 2 at 16 x 16); "flip",
#: a horizontal flip with probability 1/2; "crop + flip", both; colour jitter
#: (brightness, contrast and saturation factors each from [0.6, 1.4]); cutout of a square
#: half the image's width (DeVries & Taylor's 16 x 16 on 32 x 32 CIFAR-10 images).
AUGMENTATIONS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "crop": _crop,
    "flip": _flip,
    "crop + flip": _crop_and_flip,
    "colour jitter": _jitter,
    "cutout": _cutout,
}


class Recipe(NamedTuple):
    """One way of training :func:`colour_net`: its dropout, an augmentation (a name of
    :data:`AUGMENTATIONS` or None) and the optimizer with its weight decay (``"adam"``:
    decay added to the gradient, an L2 penalty; ``"adamw"``: decoupled)."""

    dropout: float = 0.0
    augment: str | None = None
    optimizer: str = "adam"
    weight_decay: float = 0.0


def compare_recipes(
    data: TrainVal,
    recipes: Mapping[str, Recipe],
    seeds: Iterable[int] = (0, 1, 2),
    *,
    epochs: int = 20,
    batch_size: int = 32,
    lr: float = 3e-3,
) -> dict[str, list[Trained]]:
    """name -> one trained :func:`colour_net` per seed, with its history.

    data: x_train (N, 3, H, W), y_train (N,), x_val, y_val.  For every seed, every recipe's
    network is built right after ``seed_everything(seed)`` and trained by
    :func:`convkit.training.fit` with ``seed`` (the same initial weights and batches for
    every recipe), ``lr`` under a cosine schedule, on one thread; the histories'
    ``test_acc`` is the validation accuracy.
    """
    seeds = tuple(int_at_least("compare_recipes", "seed", s, 0) for s in seeds)
    runs: dict[str, list[Trained]] = {name: [] for name in recipes}
    for name, recipe in recipes.items():
        if recipe.augment is not None and recipe.augment not in AUGMENTATIONS:
            raise ValueError(f"compare_recipes: {name}: unknown augmentation {recipe.augment!r}")
        for seed in seeds:
            seed_everything(seed)
            model = colour_net(dropout=recipe.dropout, side=data.x_train.shape[-1])
            history = fit(
                model, data, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                threads=1, progress=False, optimizer=recipe.optimizer,
                weight_decay=recipe.weight_decay, schedule=cosine_lr,
                augment=AUGMENTATIONS[recipe.augment] if recipe.augment else None,
            )  # fmt: skip
            runs[name].append(Trained(model, history))
    return runs


def colour_weight_share(weight: object) -> tuple[np.ndarray, np.ndarray]:
    """How much of each RGB filter is colour, and its channels' overall signs.

    weight: (K, 3, kh, kw) -> (share (K,) in [0, 1], channel_sums (K, 3)).

    A filter splits into its brightness part, the mean of its three channels (the same
    in each), and its colour part, what is left (the channels' differences, summing to
    zero at every position).  ``share`` is the colour part's fraction of the filter's
    squared weights: 0 for a filter that treats the channels alike, up to 1 for one
    that only compares them.  ``channel_sums`` are each channel's summed weights: a
    filter with a large positive and a large negative entry sets those channels against
    each other (colour-opponent).
    """
    w = weight.detach().cpu().numpy() if isinstance(weight, torch.Tensor) else np.asarray(weight)
    if w.ndim != 4 or w.shape[1] != 3:
        raise ValueError(f"colour_weight_share: weight must be (K, 3, kh, kw), got {w.shape}")
    w = w.astype(np.float64)
    colour = w - w.mean(axis=1, keepdims=True)
    total = (w**2).sum(axis=(1, 2, 3))
    share = np.divide((colour**2).sum(axis=(1, 2, 3)), total, out=np.zeros(len(w)),
                      where=total > 0)  # fmt: skip
    return share, w.sum(axis=(2, 3))


def split_classes(data: TrainVal, classes: Iterable[int]) -> TrainVal:
    """The tiles of ``classes`` only, relabelled 0, 1, ... in the order given.

    data: x_train (N, C, H, W), y_train (N,), x_val, y_val -> the same, fewer tiles.
    """
    classes = [int(c) for c in classes]
    if not classes or len(set(classes)) != len(classes):
        raise ValueError(f"split_classes: classes must be distinct labels, got {classes}")
    lookup = {c: i for i, c in enumerate(classes)}

    def part(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keep = np.isin(y, classes)
        return x[keep], np.array([lookup[int(c)] for c in y[keep]], dtype=np.int64)

    return TrainVal(*part(data.x_train, data.y_train), *part(data.x_val, data.y_val))


def pretrain(data: TrainVal, *, epochs: int = 15, seed: int = 0) -> Trained:
    """A :func:`colour_net` for ``data``'s classes, trained with crops and flips.

    data: x_train (N, 3, H, W), y_train (N,) in 0..K-1, x_val, y_val -> :class:`Trained`.
    """
    return _train_new(data, epochs, seed)


def _train_new(data: TrainVal, epochs: int, seed: int) -> Trained:
    """A new :func:`colour_net` for ``data``'s classes (built after ``seed_everything``),
    trained ``epochs`` epochs with crops and flips, Adam 3e-3 under a cosine schedule."""
    classes = int(data.y_train.max()) + 1
    seed_everything(seed)
    model = colour_net(num_classes=classes, side=data.x_train.shape[-1])
    history = fit(model, data, epochs=epochs, batch_size=32, lr=3e-3, seed=seed, threads=1,
                  progress=False, schedule=cosine_lr, augment=_crop_and_flip)  # fmt: skip
    return Trained(model, history)


def features(model: nn.Sequential, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """What ``model`` hands its last (linear) layer, in evaluation mode.

    x: (N, C, H, W) -> (N, F): the output of every layer but the last.
    """
    body = copy.deepcopy(model[:-1]).eval()
    with torch.no_grad():
        parts = [body(torch.as_tensor(x[i : i + batch_size], dtype=torch.float32))
                 for i in range(0, len(x), batch_size)]  # fmt: skip
    return torch.cat(parts).numpy()


def _steps_to_epochs(n: int, steps: int, batch_size: int) -> int:
    """Epochs over n examples that make about ``steps`` optimizer steps (at least one)."""
    return max(1, round(steps * batch_size / n))


#: A labelled set smaller than this is repeated (whole copies) before training, so that
#: an epoch, after which the validation accuracy is measured, is at least this many
#: tiles: the same number of steps with far fewer measurements.
MIN_EPOCH_TILES = 256


def _repeated(data: TrainVal) -> TrainVal:
    """``data`` with its training part repeated to at least :data:`MIN_EPOCH_TILES` tiles."""
    copies = -(-MIN_EPOCH_TILES // len(data.y_train))  # ceiling division
    if copies <= 1:
        return data
    return data._replace(x_train=np.concatenate([data.x_train] * copies),
                         y_train=np.concatenate([data.y_train] * copies))  # fmt: skip


def linear_probe(
    pretrained: nn.Sequential, data: TrainVal, *, steps: int = 150, seed: int = 0
) -> Trained:
    """A new linear layer trained on the frozen features of ``pretrained``.

    data: x_train (N, 3, H, W), y_train (N,) in 0..K-1, x_val, y_val -> :class:`Trained`
    whose model is the whole network, ``pretrained``'s layers (copied, unchanged, batch
    norm on its running statistics) and the new layer.  The features are computed once
    (:func:`features`) and the layer is trained on them for about ``steps`` steps.
    """
    classes = int(data.y_train.max()) + 1
    f_train = features(pretrained, data.x_train)[:, :, None, None]
    f_val = features(pretrained, data.x_val)[:, :, None, None]
    seed_everything(seed)
    head = nn.Sequential(nn.Flatten(), nn.Linear(f_train.shape[1], classes))
    epochs = _steps_to_epochs(len(f_train), steps, 32)
    history = fit(head, (f_train, data.y_train, f_val, data.y_val), epochs=epochs,
                  batch_size=32, lr=1e-2, seed=seed, threads=1, progress=False,
                  schedule=cosine_lr)  # fmt: skip
    model = copy.deepcopy(pretrained)
    model[-1] = head[1]
    return Trained(model, history)


def fine_tune(
    pretrained: nn.Sequential, data: TrainVal, *, steps: int = 150, lr: float = 1e-3,
    seed: int = 0,
) -> Trained:
    """A copy of ``pretrained`` with a new last layer, every weight trained on ``data``.

    data as in :func:`linear_probe` -> :class:`Trained`.  About ``steps`` steps of Adam
    (``lr``, a third of :func:`pretrain`'s, under a cosine schedule) with crops and flips;
    batch norm runs in training mode, so its running statistics move to the new tiles.
    A set of fewer than :data:`MIN_EPOCH_TILES` tiles is repeated to make epochs of at
    least that many (the validation accuracy is measured after each epoch).
    """
    classes = int(data.y_train.max()) + 1
    seed_everything(seed)
    model = copy.deepcopy(pretrained)
    model[-1] = nn.Linear(model[-1].in_features, classes)
    data = _repeated(data)
    epochs = _steps_to_epochs(len(data.y_train), steps, 32)
    history = fit(model, data, epochs=epochs, batch_size=32, lr=lr, seed=seed, threads=1,
                  progress=False, schedule=cosine_lr, augment=_crop_and_flip)  # fmt: skip
    return Trained(model, history)


def from_scratch(data: TrainVal, *, steps: int = 150, seed: int = 0) -> Trained:
    """A new :func:`colour_net` trained on ``data`` alone for about ``steps`` steps.

    data as in :func:`linear_probe` -> :class:`Trained` (as :func:`pretrain`'s training;
    small sets repeated as in :func:`fine_tune`).
    """
    data = _repeated(data)
    return _train_new(data, _steps_to_epochs(len(data.y_train), steps, 32), seed)


def refresh_batch_norm(model: nn.Module, x: np.ndarray, batch_size: int = 64) -> nn.Module:
    """A copy of ``model`` whose batch norms' running statistics are those of ``x``.

    x: (N, C, H, W) -> the copy.  Every batch norm's running mean and variance are reset
    and re-estimated as the plain average over ``x``'s batches (``momentum=None``); no
    weight changes.  The copy is returned in evaluation mode.
    """
    net = copy.deepcopy(model)
    kinds = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
    norms = [m for m in net.modules() if isinstance(m, kinds)]
    if not norms:
        raise ValueError("refresh_batch_norm: the model has no batch norm layer")
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
    net.train()
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            net(torch.as_tensor(x[i : i + batch_size], dtype=torch.float32))
    return net.eval()
