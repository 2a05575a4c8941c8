"""How signals spread through a deep stack (chapter 10): activations forward, gradients back.

A plain stack of ``depth`` blocks, each a 3x3 convolution (no bias) of ``width``
channels followed by a ReLU (and, with ``batch_norm``, a batch normalisation
between the two), is fed a batch of unit-variance noise.  The forward pass
records every block's output; a backward pass from a random unit-variance
gradient at the top records the gradient that reaches every block's output.
Their standard deviations per block show what the chapter derives:

- weights of std ``gain * sqrt(2 / fan_in)`` (``init_gain`` times Kaiming's
  std) multiply the second moment by about ``init_gain**2`` per block, so with
  ReLU only ``init_gain = 1`` keeps it level through 30 blocks; Xavier's std is
  Kaiming's divided by sqrt(2) (equal fans), so its signal halves in power per block;
- batch norm rescales every block's pre-activations to unit variance, so the
  spread no longer depends on the weights' scale.

:func:`layer_histograms` keeps, per block, a histogram of the activations;
:func:`log_magnitude_histograms` one of their powers of ten (for the simulation,
whose activations range over many of them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from convkit._checks import as_bool, int_at_least, positive_float
from convkit.nn.torch_state import torch_threads
from convkit.shapes.init_scale import kaiming_std

__all__ = [
    "INIT_GAINS",
    "Spread",
    "deep_stack",
    "layer_histograms",
    "log_magnitude_histograms",
    "spread_through_depth",
]

#: Named initialisations as multiples of Kaiming's std (for equal fan-in and fan-out,
#: Xavier's std is Kaiming's divided by sqrt(2)).
INIT_GAINS: dict[str, float] = {
    "too small": 0.5,
    "Xavier/Glorot": 1 / math.sqrt(2),
    "Kaiming/He": 1.0,
    "too large": 1.5,
}


@dataclass(frozen=True)
class Spread:
    """Per block (input side first): the std of its output and of the gradient reaching it.

    activation_std: (depth,); gradient_std: (depth,); activations: the outputs
    themselves, (depth, values) float32, when they were kept.
    """

    activation_std: np.ndarray
    gradient_std: np.ndarray
    activations: np.ndarray | None = None


def deep_stack(depth: int, width: int, init_gain: float, batch_norm: bool) -> nn.Sequential:
    """``depth`` blocks of conv 3x3 (``width`` -> ``width`` channels, no bias) [+ BatchNorm2d]
    + ReLU, the convolutions' weights drawn with std ``init_gain`` times Kaiming's.

    Uses torch's global generator (seed it first).
    """
    func = "deep_stack"
    depth = int_at_least(func, "depth", depth, 1)
    width = int_at_least(func, "width", width, 1)
    gain = positive_float(func, "init_gain", init_gain)
    batch_norm = as_bool(func, "batch_norm", batch_norm)
    layers: list[nn.Module] = []
    for _ in range(depth):
        conv = nn.Conv2d(width, width, 3, padding=1, bias=False)
        with torch.no_grad():
            conv.weight.normal_(0.0, gain * kaiming_std(conv.weight.shape, nonlinearity="relu"))
        layers.append(conv)
        if batch_norm:
            layers.append(nn.BatchNorm2d(width))
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def spread_through_depth(
    depth: int = 30,
    init_gain: float = 1.0,
    batch_norm: bool = False,
    *,
    width: int = 16,
    batch: int = 16,
    size: int = 16,
    seed: int = 0,
    keep: int = 0,
) -> Spread:
    """Activation and gradient std after every block of :func:`deep_stack`.

    The input is (batch, width, size, size) standard normal noise; the stack runs in
    training mode (batch norm uses the batch's statistics).  ``keep``: also return up
    to that many output values of every block (for histograms).  Deterministic for
    a given ``seed``; one torch thread.
    """
    keep = int_at_least("spread_through_depth", "keep", keep, 0)
    with torch_threads(1):
        generator_state = torch.random.get_rng_state()
        try:
            torch.manual_seed(seed)
            model = deep_stack(depth, width, init_gain, batch_norm)
            x = torch.randn(batch, width, size, size)
            outputs: list[torch.Tensor] = []
            h = x
            for layer in model:
                h = layer(h)
                if isinstance(layer, nn.ReLU):
                    h.retain_grad()
                    outputs.append(h)
            h.backward(torch.randn_like(h))
        finally:
            torch.random.set_rng_state(generator_state)
    activation_std = np.array([float(o.detach().double().std()) for o in outputs])
    gradient_std = np.array(
        [float(o.grad.double().std()) if o.grad is not None else 0.0 for o in outputs]
    )
    kept = None
    if keep:
        kept = np.stack([o.detach().flatten()[:keep].numpy() for o in outputs])
    return Spread(activation_std, gradient_std, kept)


def layer_histograms(spread: Spread, bins: np.ndarray) -> np.ndarray:
    """Per block, the fraction of its kept activations in each bin of ``bins`` (edges).

    spread.activations: (depth, values) -> (depth, len(bins) - 1); values outside the
    edges count in the first or last bin.
    """
    if spread.activations is None:
        raise ValueError("layer_histograms: the spread kept no activations (use keep > 0)")
    edges = np.asarray(bins, dtype=np.float64)
    clipped = np.clip(spread.activations, edges[0], edges[-1])
    counts = np.stack([np.histogram(row, edges)[0] for row in clipped])
    return counts / spread.activations.shape[1]


def log_magnitude_histograms(spread: Spread, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per block, the fraction of its kept activations that are exactly 0, and the fraction
    whose log10 magnitude falls in each bin of ``edges``.

    spread.activations: (depth, values); edges: (bins + 1,) increasing, in log10 units
    (``[-2, -1, 0]``: the bins 0.01..0.1 and 0.1..1) -> (zeros (depth,), fractions
    (depth, bins)), both fractions of all the block's values, so ``zeros +
    fractions.sum(axis=1) == 1``.  Non-zero values outside the edges count in the first
    or last bin.  Fixed log bins serve activations that shrink or grow by orders of
    magnitude through a stack; exact zeros (half of a ReLU's outputs) have no logarithm.
    """
    func = "log_magnitude_histograms"
    if spread.activations is None:
        raise ValueError(f"{func}: the spread kept no activations (use keep > 0)")
    bins = np.asarray(edges, dtype=np.float64)
    if bins.ndim != 1 or bins.size < 2 or not np.all(np.isfinite(bins)):
        raise ValueError(f"{func}: edges must be at least 2 finite numbers, got {edges!r}")
    if np.any(np.diff(bins) <= 0):
        raise ValueError(f"{func}: edges must increase, got {edges!r}")
    # each block's magnitudes in ascending order: a bin's count is then the difference of
    # two positions, found by bisection (faster than placing every value in its bin)
    magnitude = np.sort(np.abs(spread.activations), axis=1).astype(np.float64)
    total = magnitude.shape[1]
    powers = 10.0**bins
    zeros = np.array([np.searchsorted(row, 0.0, side="right") for row in magnitude])
    below = np.stack([np.searchsorted(row, powers, side="left") for row in magnitude])
    counts = np.diff(below, axis=1)  # bin k: 10**edges[k] <= |value| < 10**edges[k + 1]
    counts[:, 0] += below[:, 0] - zeros  # non-zero values below the first edge
    counts[:, -1] += total - below[:, -1]  # the last edge itself and values above it
    return zeros / total, counts / total
