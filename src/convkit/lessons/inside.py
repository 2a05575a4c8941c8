"""Looking inside a trained ConvNet (chapter 13): the measurements around the attribution
maps of :mod:`convkit.explain`.

- :func:`gap_digit_net`: the chapter's digit network, three convolutions and a global
  average pooling head, so its class activation map exists (Zhou et al. 2016).
- :func:`rank_correlation`: Spearman's rank correlation of two maps, per image, the
  similarity Adebayo et al. (2018) use to ask whether a map changes with the model.
- :func:`randomised_from_top`: copies of a model with its weighted layers re-initialised
  from the output towards the input, one more layer each time (their cascading
  randomisation).
- :func:`deletion_drop`: how much the target class's probability falls when the pixels a
  map ranks highest are set to zero, a check of whether a map points at what the model
  uses.
- :func:`maximise_activation`: an input that drives one channel's centre unit as high as
  it can go (activation maximisation), with the penalty, jitter and blur that are meant
  to keep it image-like (how smooth it came out: ``lessons.learned.neighbour_correlation``).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from convkit._checks import fraction, int_at_least, non_negative_float, positive_float
from convkit.nn.torch_state import eval_mode

__all__ = [
    "deletion_drop",
    "gap_digit_net",
    "maximise_activation",
    "randomised_from_top",
    "rank_correlation",
]


def gap_digit_net(width: int = 16, in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """x (N, in_channels, H, W) -> (N, num_classes) logits, H and W multiples of 4.

    ``features``: three 3 x 3 convolutions (``width``, 2 and 4 times ``width`` channels,
    no bias), each with batch norm and a ReLU, the first two followed by 2 x 2 max
    pooling; then ``pool`` (global average pooling), ``flatten`` and ``classifier`` (one
    dense layer). The last feature maps are a quarter of the input's side (7 x 7 for
    digits), and each class score is a weighted sum of their spatial means, which is what
    a class activation map needs.
    """
    func = "gap_digit_net"
    w = int_at_least(func, "width", width, 1)
    c = int_at_least(func, "in_channels", in_channels, 1)
    k = int_at_least(func, "num_classes", num_classes, 1)

    def unit(c_in: int, c_out: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                nn.ReLU()]  # fmt: skip

    features = nn.Sequential(*unit(c, w), nn.MaxPool2d(2), *unit(w, 2 * w), nn.MaxPool2d(2),
                             *unit(2 * w, 4 * w))  # fmt: skip
    return nn.Sequential(OrderedDict(features=features, pool=nn.AdaptiveAvgPool2d(1),
                                     flatten=nn.Flatten(),
                                     classifier=nn.Linear(4 * w, k)))  # fmt: skip


def _ranks(maps: np.ndarray) -> np.ndarray:
    """Per row, the rank of every value (ties get their mean rank)."""
    n, m = maps.shape
    order = np.argsort(maps, axis=1, kind="stable")
    ranks = np.empty((n, m))
    for i in range(n):
        values = maps[i, order[i]]
        # positions where a run of equal values starts and ends
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
        ends = np.r_[starts[1:], m]
        mean_rank = np.repeat((starts + ends - 1) / 2, ends - starts)
        ranks[i, order[i]] = mean_rank
    return ranks


def rank_correlation(a: object, b: object) -> np.ndarray:
    """Spearman's rank correlation of two maps per image.

    a, b: (N, H, W) (or any (N, ...)) -> (N,) floats in [-1, 1]: the Pearson correlation
    of the two maps' pixel ranks, ties ranked by their mean rank. NaN pixels (an
    occlusion map's uncovered border) are left out of both. An image whose ranks are all
    equal in either map (a constant map) gets 0: it orders nothing.
    """
    func = "rank_correlation"
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim < 2:
        raise ValueError(f"{func}: a and b must be maps of one shape (N, ...), got "
                         f"{x.shape} and {y.shape}")  # fmt: skip
    x = x.reshape(len(x), -1)
    y = y.reshape(len(y), -1)
    out = np.zeros(len(x))
    for i in range(len(x)):
        keep = ~(np.isnan(x[i]) | np.isnan(y[i]))
        rx = _ranks(x[i, keep][None])[0]
        ry = _ranks(y[i, keep][None])[0]
        rx -= rx.mean()
        ry -= ry.mean()
        norm = np.sqrt((rx**2).sum() * (ry**2).sum())
        out[i] = (rx * ry).sum() / norm if norm > 0 else 0.0
    return out


def _weighted_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of every convolution and dense layer, input first."""
    return [(name, m) for name, m in model.named_modules()
            if isinstance(m, nn.Conv2d | nn.Linear)]  # fmt: skip


def randomised_from_top(model: nn.Module, seed: int = 0) -> Iterator[tuple[str, nn.Module]]:
    """Cascading randomisation (Adebayo et al. 2018): (layer name, model) pairs.

    The first copy of ``model`` has its last weighted layer (convolution or dense)
    re-initialised as a new layer would be (its ``reset_parameters``, torch seeded with
    ``seed``); each next copy also re-initialises the layer below, until every weighted
    layer is random. Batch-norm layers keep their trained values. ``model`` is not
    changed.
    """
    seed = int_at_least("randomised_from_top", "seed", seed, 0)
    layers = _weighted_layers(model)
    if not layers:
        raise ValueError("randomised_from_top: the model has no convolution or dense layer")
    current = copy.deepcopy(model)
    modules = dict(current.named_modules())
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        for name, _ in reversed(layers):
            modules[name].reset_parameters()
            yield name, copy.deepcopy(current)
    finally:
        torch.random.set_rng_state(generator_state)


def deletion_drop(
    model: nn.Module,
    x: np.ndarray,
    target: Sequence[int] | np.ndarray,
    maps: np.ndarray,
    share: float,
) -> float:
    """Mean fall of the target class's probability when the top ``share`` of each image's
    pixels by ``maps`` are set to 0.

    x: (N, C, H, W) images; target: (N,) classes; maps: (N, H, W), higher = more important
    (NaN counts as least important) -> a float: the mean over the images of p(target |
    image) - p(target | image with those pixels zeroed in every channel). ``share`` in
    (0, 1]: the fraction of the H * W pixels removed (rounded down, at least one). The
    model runs in eval mode, without gradients; its mode is restored.
    """
    func = "deletion_drop"
    share = fraction(func, "share", share)
    images = np.asarray(x, dtype=np.float32)
    scores = np.asarray(maps, dtype=np.float64)
    n, _, h, w = images.shape
    if scores.shape != (n, h, w):
        raise ValueError(f"{func}: maps must be (N, H, W) = {(n, h, w)}, got {scores.shape}")
    labels = torch.as_tensor(np.asarray(target), dtype=torch.int64)
    count = max(1, int(share * h * w))
    ranked = np.argsort(-np.nan_to_num(scores, nan=-np.inf).reshape(n, -1), axis=1)
    keep = np.ones((n, h * w), dtype=np.float32)
    np.put_along_axis(keep, ranked[:, :count], 0.0, axis=1)
    deleted = images * keep.reshape(n, 1, h, w)
    rows = torch.arange(n)
    with eval_mode(model), torch.no_grad():
        before = F.softmax(model(torch.from_numpy(images)), dim=1)[rows, labels]
        after = F.softmax(model(torch.from_numpy(deleted)), dim=1)[rows, labels]
    return float((before - after).mean())


def maximise_activation(
    module: nn.Module,
    channel: int,
    shape: Sequence[int],
    *,
    steps: int = 200,
    lr: float = 0.05,
    l2: float = 0.0,
    jitter: int = 0,
    blur: bool = False,
    seed: int = 0,
) -> np.ndarray:
    """An input that makes one channel's centre unit large: gradient ascent on the input.

    module: maps (1, C, H, W) -> (1, K, h, w); shape: the input's (C, H, W) -> (C, H, W)
    float32. Starting from small seeded noise, Adam with rate ``lr`` takes ``steps``
    steps on ``-a + l2 * ||x||^2``, a being the module's output at channel ``channel``,
    position (h // 2, w // 2) (Simonyan et al. 2014, §2, with the unit in place of a
    class score). ``jitter`` > 0 shifts the image by a random offset of up to ``jitter``
    pixels (circularly) before every step, so no single pixel pattern can be relied on.
    ``blur`` smooths the image after every step with the 3 x 3 kernel
    ``[1, 2, 1]^T [1, 2, 1] / 16`` (each channel alone, edges replicated), which removes
    the highest spatial frequencies as fast as the ascent adds them. The module runs in
    eval mode with its parameters frozen; both are restored.
    """
    func = "maximise_activation"
    channel = int_at_least(func, "channel", channel, 0)
    steps = int_at_least(func, "steps", steps, 1)
    lr = positive_float(func, "lr", lr)
    l2 = non_negative_float(func, "l2", l2)
    jitter = int_at_least(func, "jitter", jitter, 0)
    seed = int_at_least(func, "seed", seed, 0)
    size = tuple(int_at_least(func, "shape", s, 1) for s in shape)
    generator = torch.Generator().manual_seed(seed)
    x = (0.01 * torch.randn((1, *size), generator=generator)).requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)
    flags = [p.requires_grad for p in module.parameters()]
    try:
        for p in module.parameters():
            p.requires_grad_(False)
        with eval_mode(module):
            for _ in range(steps):
                dy, dx = (torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist()
                          if jitter else (0, 0))  # fmt: skip
                out = module(torch.roll(x, shifts=(dy, dx), dims=(2, 3)))
                if out.ndim != 4 or channel >= out.shape[1]:
                    raise ValueError(f"{func}: module must output maps (1, K, h, w) with "
                                     f"K > {channel}, got {tuple(out.shape)}")  # fmt: skip
                unit = out[0, channel, out.shape[2] // 2, out.shape[3] // 2]
                loss = -unit + l2 * (x**2).sum()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if blur:
                    with torch.no_grad():
                        x.copy_(_smooth(x))
    finally:
        for p, flag in zip(module.parameters(), flags, strict=True):
            p.requires_grad_(flag)
    return x.detach()[0].numpy()


def _smooth(x: torch.Tensor) -> torch.Tensor:
    """x (1, C, H, W) smoothed by the 3 x 3 binomial kernel, channel by channel."""
    row = torch.tensor([1.0, 2.0, 1.0], dtype=x.dtype) / 4
    kernel = (row[:, None] * row[None, :]).expand(x.shape[1], 1, 3, 3)
    padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
    return F.conv2d(padded, kernel, groups=x.shape[1])
