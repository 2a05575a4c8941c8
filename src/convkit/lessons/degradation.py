"""The degradation problem in miniature (chapter 8): a deep plain stack vs the same stack
with skips, and (chapter 6) how the activation function decides which layers get a gradient.

He et al. (2015) observed that adding layers to a plain network can make it
fit its TRAINING data worse, which more capacity alone cannot explain; the
fix was to let every pair of layers learn a residual on top of an identity
shortcut. This module rebuilds the effect on a toy problem that runs on a CPU in
a few seconds:

- :func:`spirals`: three interleaved 2-D spirals (a small, non-linear task).
- :func:`plain_stack` / :func:`residual_stack`: the SAME layers (a stem, ``depth``
  dense layers of ``width`` units grouped in pairs, a head), with or without a
  shortcut around each pair. With the same seed both get identical weights, so
  the shortcut is the only difference.
- :func:`weight_gradient_norms`: the norm of the gradient each layer's WEIGHTS
  receive for one batch, at initialisation. In the plain stack the signal has to
  pass through every layer's Jacobian on its way back and shrinks at each one;
  the shortcut gives it a path that skips them.
- :func:`train_briefly`: full-batch SGD; the deep plain stack stays at chance
  while the residual stack (and a shallow plain one) learn.
- :func:`run_degradation_experiment`: everything above in one call; its figures
  are drawn by :mod:`convkit.viz.degradation`.
- :func:`activation_gradient_norms` (chapter 6): the norm of the gradient of each
  layer's OUTPUT (its activations) in a bias-free dense stack, for a chosen
  activation function and initialisation: sigmoid lets it vanish, ReLU with He
  initialisation keeps it.

The stacks use PyTorch's default initialisation (what ``nn.Linear`` gives you).
Not to be confused with :func:`convkit.sims.skip.idealised_gradient_scale`, which
measures no network: it is the factor by which an idealised block scales a gradient.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from convkit._checks import int_at_least
from convkit.nn.torch_state import torch_threads

__all__ = [
    "DeepStack",
    "DegradationResult",
    "activation_gradient_norms",
    "plain_stack",
    "residual_stack",
    "run_degradation_experiment",
    "spirals",
    "train_briefly",
    "training_accuracy",
    "weight_gradient_norms",
]


def spirals(
    n_per_class: int = 100, classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Points on ``classes`` interleaved spiral arms in the plane, one arm per class.

    -> (x: (n_per_class * classes, 2) float32, y: (n_per_class * classes,) int64 labels).

    Arm ``c`` has radius r from 0.05 to 1 and angle ``4 r + 2 pi c / classes``
    plus Gaussian noise of std ``noise`` (radians). The arms come in order in ``x``
    and ``y``. Deterministic for a given ``seed``.
    """
    n = int_at_least("spirals", "n_per_class", n_per_class, 2)
    k = int_at_least("spirals", "classes", classes, 2)
    if not noise >= 0:
        raise ValueError(f"spirals: noise must be >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    radius = np.linspace(0.05, 1.0, n)
    points, labels = [], []
    for c in range(k):
        angle = 4.0 * radius + 2.0 * math.pi * c / k + rng.normal(0.0, noise, n)
        points.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        labels.append(np.full(n, c))
    x = torch.from_numpy(np.concatenate(points).astype(np.float32))
    y = torch.from_numpy(np.concatenate(labels).astype(np.int64))
    return x, y


class DeepStack(nn.Module):
    """``stem`` -> ``depth`` dense layers in pairs -> ``head``, with or without shortcuts.

    x: (N, in_features) -> (N, num_classes) logits.

    Each pair of layers ``(a, b)`` computes ``f(h) = b(relu(a(h)))``. Plain:
    ``h <- relu(f(h))``. Residual: ``h <- relu(h + f(h))`` (ResNet's basic block,
    with dense layers instead of convolutions and no batch norm). The stem is
    ``relu(Linear(in_features, width))``, the head ``Linear(width, num_classes)``.
    """

    def __init__(
        self, depth: int, width: int, residual: bool, in_features: int = 2, num_classes: int = 3
    ) -> None:
        super().__init__()
        self.depth = int_at_least("DeepStack", "depth", depth, 2)
        if self.depth % 2:
            raise ValueError(f"DeepStack: depth (layers, in pairs) must be even, got {depth}")
        self.width = int_at_least("DeepStack", "width", width, 1)
        self.residual = bool(residual)
        self.stem = nn.Linear(int_at_least("DeepStack", "in_features", in_features, 1), width)
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(self.depth))
        self.head = nn.Linear(width, int_at_least("DeepStack", "num_classes", num_classes, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits: stem, the pairs (with or without shortcuts), head.

        x: (N, in_features) -> (N, num_classes).
        """
        h = torch.relu(self.stem(x))
        for first, second in zip(self.layers[0::2], self.layers[1::2], strict=True):
            f = second(torch.relu(first(h)))
            h = torch.relu(h + f) if self.residual else torch.relu(f)
        return self.head(h)

    def extra_repr(self) -> str:
        """The settings shown in ``repr(model)``: depth, width and residual."""
        return f"depth={self.depth}, width={self.width}, residual={self.residual}"


def _seeded_stack(
    depth: int, width: int, residual: bool, in_features: int, num_classes: int, seed: int
) -> DeepStack:
    """Build a DeepStack from its own seed, leaving torch's global random state untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return DeepStack(depth, width, residual, in_features, num_classes)


def plain_stack(
    depth: int, width: int, *, in_features: int = 2, num_classes: int = 3, seed: int = 0
) -> DeepStack:
    """A :class:`DeepStack` WITHOUT shortcuts: ``depth`` (even) dense+ReLU layers of ``width``.

    The model: (N, in_features) -> (N, num_classes).

    ``seed`` fixes the initial weights; the same seed gives :func:`residual_stack`
    identical weights.
    """
    return _seeded_stack(depth, width, False, in_features, num_classes, seed)


def residual_stack(
    depth: int, width: int, *, in_features: int = 2, num_classes: int = 3, seed: int = 0
) -> DeepStack:
    """The same layers as :func:`plain_stack`, with an identity shortcut around each pair.

    The model: (N, in_features) -> (N, num_classes).
    """
    return _seeded_stack(depth, width, True, in_features, num_classes, seed)


def weight_gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """The norm of the gradient each layer's weight receives for one batch.

    x: (N, ...) inputs, y: (N,) int64 labels -> (L,) float64.

    Entry l is ``‖dLoss/dW‖`` (Frobenius norm) of the weight of the l-th of the
    model's L ``Linear`` / ``Conv2d`` layers, in the order they are registered (for
    :class:`DeepStack`: stem, layers 1..depth, head). Biases are not measured. The
    loss is the mean cross-entropy of ``model(x)`` against ``y``; the gradients come
    from ``torch.autograd.grad``, so the model's weights and ``.grad`` fields are
    left untouched. Raises ValueError when the model has no such layer or ``y`` is
    not (N,).
    """
    func = "weight_gradient_norms"
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear | nn.Conv2d)]
    if not weights:
        raise ValueError(f"{func}: the model has no Linear or Conv2d layer")
    if y.dim() != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"{func}: y must be (N,) labels for x of shape {tuple(x.shape)}, "
            f"got {tuple(y.shape)}"
        )
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, weights)
    return np.array([g.norm().item() for g in grads], dtype=np.float64)


def activation_gradient_norms(
    activation: Callable[[torch.Tensor], torch.Tensor],
    init: Callable[..., object],
    depth: int = 20,
    width: int = 64,
    seed: int = 0,
) -> np.ndarray:
    """The norm of the gradient of each layer's output (activations) in a dense stack.

    -> (depth,) float64: ``‖dL/dh_l‖`` (Frobenius norm over the batch), layer 1 first.

    Entry l says how much gradient reaches layer l's output; layer 1 is the closest
    to the input. The stack is bias-free, ``h_l = activation(h_{l-1} W_l^T)`` for
    l = 1..depth, on 256 seeded Gaussian inputs h_0: (256, width) float64, with the
    loss ``L = mean(h_depth ** 2)``. ``init(weight, generator=...)`` fills each
    (width, width) weight in place (e.g. ``nn.init.xavier_normal_``).
    """
    func = "activation_gradient_norms"
    depth = int_at_least(func, "depth", depth, 1)
    width = int_at_least(func, "width", width, 1)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(256, width, generator=gen, dtype=torch.float64)
    outputs, h = [], x
    for _ in range(depth):
        weight = torch.empty(width, width, dtype=torch.float64)
        init(weight, generator=gen)
        weight.requires_grad_()
        h = activation(h @ weight.T)
        h.retain_grad()
        outputs.append(h)
    (h**2).mean().backward()
    return np.array([out.grad.norm().item() for out in outputs])


def train_briefly(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int = 200,
    lr: float = 0.03,
    momentum: float = 0.9,
) -> np.ndarray:
    """Full-batch SGD with momentum on ``(x, y)`` for ``steps`` steps; trains ``model`` in place.

    x: (N, ...), y: (N,) int64 labels -> (steps,) float64.

    The result is the training loss (mean cross-entropy) before each step.
    ``x, y`` is the whole training set; ``model`` maps ``(N, ...)`` inputs to
    ``(N, classes)`` logits.
    """
    n_steps = int_at_least("train_briefly", "steps", steps, 1)
    if not lr > 0:
        raise ValueError(f"train_briefly: lr must be positive, got {lr!r}")
    optimiser = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    losses = np.empty(n_steps)
    model.train()
    for step in range(n_steps):
        optimiser.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimiser.step()
        losses[step] = loss.item()
    return losses


def training_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """The fraction (0..1) of ``x`` whose largest logit is ``y``.

    x: (N, ...), y: (N,) labels -> float.
    """
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean())


class DegradationResult(NamedTuple):
    """What :func:`run_degradation_experiment` measured.

    weight_gradient_norms: label -> ``(depth + 2,)`` from :func:`weight_gradient_norms`
    at initialisation (stem, the stacked layers, head).
    losses: label -> ``(steps,)`` training loss per step.
    train_accuracy: label -> training accuracy (0..1) after training.
    labels: the three labels, in order: shallow plain, deep plain, deep residual.
    seconds: wall-clock seconds the whole experiment took.
    """

    weight_gradient_norms: dict[str, np.ndarray]
    losses: dict[str, np.ndarray]
    train_accuracy: dict[str, float]
    labels: tuple[str, str, str]
    seconds: float


def run_degradation_experiment(
    depth: int = 30,
    width: int = 32,
    shallow_depth: int = 4,
    *,
    steps: int = 200,
    lr: float = 0.03,
    seed: int = 0,
    threads: int | None = 1,
) -> DegradationResult:
    """Weight-gradient norms at initialisation and a short training run for three stacks.

    -> :class:`DegradationResult`.

    The stacks: plain with ``shallow_depth`` layers, plain with ``depth`` layers,
    residual with ``depth`` layers; all ``width`` units wide, seeded with ``seed``,
    on :func:`spirals` (300 points). With the defaults it takes a few seconds.
    ``threads``: torch threads to use while it runs (restored afterwards); None
    leaves the setting alone. One thread is fastest for layers this small.
    """
    start = time.perf_counter()
    if threads is not None:
        threads = int_at_least("run_degradation_experiment", "threads", threads, 1)
    with torch_threads(threads):
        x, y = spirals(seed=seed)
        labels = (
            f"plain, {shallow_depth} layers",
            f"plain, {depth} layers",
            f"residual, {depth} layers",
        )
        builders = (
            lambda: plain_stack(shallow_depth, width, seed=seed),
            lambda: plain_stack(depth, width, seed=seed),
            lambda: residual_stack(depth, width, seed=seed),
        )
        norms, losses, accuracy = {}, {}, {}
        for label, build in zip(labels, builders, strict=True):
            model = build()
            norms[label] = weight_gradient_norms(model, x, y)
            losses[label] = train_briefly(model, x, y, steps=steps, lr=lr)
            accuracy[label] = training_accuracy(model, x, y)
    return DegradationResult(norms, losses, accuracy, labels, time.perf_counter() - start)
