"""Depth and trainability (chapter 8, and chapter 6's activation gradients): the
degradation problem in batch-normalised convolutional stacks, and the older
vanishing-gradient problem in unnormalised dense stacks.

Two different failures of deep plain networks, measured separately:

**Degradation** (He et al. 2016, §1 Fig. 1, §4.1, §4.2): a deeper plain network,
batch-normalised and with healthy gradients, reaches a HIGHER TRAINING error than
a shallower one; the same layers with identity shortcuts do not.

- :func:`small_digits`: a subset of the course's MNIST digits, average-pooled to a
  small side and standardised (cheap enough for a CPU).
- :class:`ConvStack` / :func:`conv_stack`: a stem, ``blocks`` ResNet basic blocks
  (:class:`convkit.nn.models.BasicBlock`, batch norm included) with or without
  their identity shortcut, global average pooling and a dense head. With the same
  seed both forms get identical weights, so the shortcut is the only difference.
- :func:`train_recorded`: mini-batch SGD that records, at every step, the batch's
  loss and error and the gradient norm of every weight layer.
- :func:`run_degradation_experiment`: shallow and deep, plain and residual, same
  data, optimiser, steps and seed; its figures are drawn by
  :mod:`convkit.viz.degradation`.

**Vanishing gradients** (no normalisation, PyTorch's default initialisation): the
gradient reaching the first layers of a deep plain dense stack shrinks by many
powers of ten, and the stack does not train at all.

- :func:`spirals`: three interleaved 2-D spirals (a small, non-linear task).
- :func:`plain_stack` / :func:`residual_stack`: ``depth`` dense layers in pairs,
  with or without a shortcut around each pair, with PyTorch's default or He
  initialisation.
- :func:`weight_gradient_norms`: the gradient norm of every layer's weights for one
  batch.
- :func:`train_briefly`, :func:`training_accuracy`: full-batch SGD and its result.
- :func:`run_vanishing_gradient_experiment`: everything above in one call.
- :func:`activation_gradient_norms` (chapter 6): the gradient norm of each layer's
  OUTPUT in a bias-free dense stack, for a chosen activation and initialisation:
  sigmoid lets it vanish, ReLU with He initialisation keeps it.

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
from convkit.data import load_mnist
from convkit.nn.models.resnet import BasicBlock
from convkit.nn.torch_state import torch_threads

__all__ = [
    "ConvStack",
    "DeepStack",
    "DegradationResult",
    "TrainingRecord",
    "VanishingGradientResult",
    "activation_gradient_norms",
    "conv_stack",
    "plain_stack",
    "residual_stack",
    "run_degradation_experiment",
    "run_vanishing_gradient_experiment",
    "small_digits",
    "spirals",
    "train_briefly",
    "train_recorded",
    "training_accuracy",
    "weight_gradient_norms",
]

DENSE_INITS = ("default", "he")


def _weight_layers(model: nn.Module) -> list[nn.Module]:
    """The model's ``Linear`` and ``Conv2d`` layers, in the order they are registered."""
    return [m for m in model.modules() if isinstance(m, nn.Linear | nn.Conv2d)]


def _positive(func: str, name: str, value: float) -> float:
    if not value > 0:
        raise ValueError(f"{func}: {name} must be positive, got {value!r}")
    return float(value)


# ------------------------------------------------------------------ degradation (conv + BN)


def small_digits(n: int = 1000, side: int = 7) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` training digits of :func:`convkit.data.load_mnist`, shrunk and standardised.

    -> (x: (n, 1, side, side) float32, y: (n,) int64 labels 0..9).

    Each 28 x 28 digit is average-pooled to ``side`` x ``side`` (adaptive average
    pooling: 4 x 4 blocks for side 7), then the whole subset is shifted and scaled
    to mean 0 and standard deviation 1. The default split's training digits come
    in a fixed shuffled order, so the result is the same on every call.
    """
    func = "small_digits"
    digits = load_mnist()
    n = int_at_least(func, "n", n, 1)
    if n > len(digits.y_train):
        raise ValueError(f"{func}: n must be at most {len(digits.y_train)}, got {n}")
    side = int_at_least(func, "side", side, 1)
    if side > 28:
        raise ValueError(f"{func}: side must be at most 28, got {side}")
    x = F.adaptive_avg_pool2d(torch.from_numpy(digits.x_train[:n]), side)
    x = (x - x.mean()) / x.std()
    return x.contiguous(), torch.from_numpy(digits.y_train[:n])


class ConvStack(nn.Module):
    """A stem, ``blocks`` ResNet basic blocks with or without shortcuts, pooling, a head.

    x: (N, in_channels, H, W) -> (N, num_classes) logits.

    stem: 3 x 3 conv (``in_channels`` -> ``width``, padding 1, no bias) -> batch norm
    -> ReLU. Then ``blocks`` :class:`convkit.nn.models.BasicBlock` (``width`` ->
    ``width``, stride 1, so every shortcut is the identity). Residual:
    ``h <- block(h) = relu(F(h) + h)``. Plain: ``h <- relu(F(h))``, the same layers
    without the shortcut. Then global average pooling and ``Linear(width,
    num_classes)``. Weight layers: ``2 * blocks + 2``, every convolution followed by
    batch norm.
    """

    def __init__(
        self, blocks: int, width: int, residual: bool, in_channels: int = 1, num_classes: int = 10
    ) -> None:
        super().__init__()
        func = "ConvStack"
        self.n_blocks = int_at_least(func, "blocks", blocks, 1)
        self.width = int_at_least(func, "width", width, 1)
        self.residual = bool(residual)
        in_channels = int_at_least(func, "in_channels", in_channels, 1)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
        )
        self.blocks = nn.ModuleList(BasicBlock(width, width) for _ in range(self.n_blocks))
        self.head = nn.Linear(width, int_at_least(func, "num_classes", num_classes, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits: stem, the blocks (with or without shortcuts), average pool, head.

        x: (N, in_channels, H, W) -> (N, num_classes).
        """
        h = self.stem(x)
        for block in self.blocks:
            h = block(h) if self.residual else block.relu(block.residual(h))
        return self.head(h.mean(dim=(2, 3)))

    def extra_repr(self) -> str:
        """The settings shown in ``repr(model)``: blocks, width and residual."""
        return f"blocks={self.n_blocks}, width={self.width}, residual={self.residual}"


def conv_stack(
    blocks: int,
    width: int,
    *,
    residual: bool,
    in_channels: int = 1,
    num_classes: int = 10,
    seed: int = 0,
) -> ConvStack:
    """A seeded :class:`ConvStack`; torch's global random state is left untouched.

    The model: (N, in_channels, H, W) -> (N, num_classes).

    The same ``blocks, width, seed`` give the plain and the residual form identical
    weights (an identity shortcut has no parameters).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ConvStack(blocks, width, residual, in_channels, num_classes)


class TrainingRecord(NamedTuple):
    """What :func:`train_recorded` measured at every step, before the update.

    losses: (steps,) the batch's mean cross-entropy.
    errors: (steps,) the fraction of the batch misclassified (0..1).
    gradient_norms: (steps, L) ``‖dLoss/dW‖`` of each of the L weight layers
    (``Conv2d`` / ``Linear``, in registration order: layer 0 is next to the input).
    """

    losses: np.ndarray
    errors: np.ndarray
    gradient_norms: np.ndarray


def train_recorded(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int = 200,
    batch_size: int = 64,
    lr: float = 0.05,
    momentum: float = 0.9,
    seed: int = 0,
) -> TrainingRecord:
    """Mini-batch SGD with momentum on ``(x, y)``, recording every step; trains in place.

    x: (N, ...), y: (N,) int64 labels -> :class:`TrainingRecord` of ``steps`` rows.

    The batches walk through a seeded random permutation of the N examples (a new
    one when fewer than ``batch_size`` are left), so the same ``seed`` gives the same
    batches to every model. The model is in training mode throughout (batch norm
    uses each batch's statistics). Raises ValueError for a bad count, rate or shape.
    """
    func = "train_recorded"
    n_steps = int_at_least(func, "steps", steps, 1)
    n = x.shape[0]
    if y.dim() != 1 or y.shape[0] != n:
        raise ValueError(f"{func}: y must be ({n},) labels, got {tuple(y.shape)}")
    batch = int_at_least(func, "batch_size", batch_size, 1)
    if batch > n:
        raise ValueError(f"{func}: batch_size {batch} is larger than the {n} examples")
    weights = [layer.weight for layer in _weight_layers(model)]
    if not weights:
        raise ValueError(f"{func}: the model has no Linear or Conv2d layer")
    optimiser = torch.optim.SGD(model.parameters(), lr=_positive(func, "lr", lr), momentum=momentum)
    gen = torch.Generator().manual_seed(seed)
    losses, errors = np.empty(n_steps), np.empty(n_steps)
    norms = np.empty((n_steps, len(weights)))
    order, start = torch.randperm(n, generator=gen), 0
    model.train()
    for step in range(n_steps):
        if start + batch > n:
            order, start = torch.randperm(n, generator=gen), 0
        idx = order[start : start + batch]
        start += batch
        logits = model(x[idx])
        loss = F.cross_entropy(logits, y[idx])
        optimiser.zero_grad()
        loss.backward()
        norms[step] = [w.grad.norm().item() for w in weights]
        optimiser.step()
        losses[step] = loss.item()
        errors[step] = (logits.argmax(dim=1) != y[idx]).float().mean().item()
    return TrainingRecord(losses, errors, norms)


class DegradationResult(NamedTuple):
    """What :func:`run_degradation_experiment` measured.

    labels: the four stacks, in order: shallow plain, deep plain, shallow residual,
    deep residual.
    records: label -> :class:`TrainingRecord` (per-step loss, error, gradient norms).
    weight_layers: label -> number of weight layers (``2 * blocks + 2``).
    final_error: label -> the mean training-batch error over the last ``tail`` steps.
    gradient_ratio: label -> the median over all steps of ``‖dLoss/dW‖`` of the
    first convolution divided by that of the last convolution (1 = the same size;
    a vanishing gradient gives a ratio far below 1).
    seconds: wall-clock seconds the whole experiment took.
    """

    labels: tuple[str, str, str, str]
    records: dict[str, TrainingRecord]
    weight_layers: dict[str, int]
    final_error: dict[str, float]
    gradient_ratio: dict[str, float]
    seconds: float


def run_degradation_experiment(
    shallow_blocks: int = 2,
    deep_blocks: int = 15,
    width: int = 8,
    *,
    side: int = 7,
    n_train: int = 1000,
    steps: int = 200,
    batch_size: int = 64,
    lr: float = 0.05,
    tail: int = 40,
    seed: int = 0,
    threads: int | None = 1,
) -> DegradationResult:
    """Train plain and residual :class:`ConvStack` at two depths the same way; record all.

    -> :class:`DegradationResult`.

    Four stacks, each ``width`` channels wide and seeded with ``seed``: plain and
    residual with ``shallow_blocks`` blocks, plain and residual with ``deep_blocks``.
    Each is trained by :func:`train_recorded` (same batches, ``steps``, ``lr``) on
    :func:`small_digits` (``n_train`` digits at ``side`` x ``side``). With the
    defaults it takes about half a minute on one thread. ``threads``: torch threads
    to use while it runs (restored afterwards); None leaves the setting alone.
    """
    func = "run_degradation_experiment"
    start = time.perf_counter()
    shallow = int_at_least(func, "shallow_blocks", shallow_blocks, 1)
    deep = int_at_least(func, "deep_blocks", deep_blocks, 1)
    tail = int_at_least(func, "tail", tail, 1)
    if tail > steps:
        raise ValueError(f"{func}: tail ({tail}) must be at most steps ({steps})")
    if threads is not None:
        threads = int_at_least(func, "threads", threads, 1)
    with torch_threads(threads):
        x, y = small_digits(n_train, side)
        settings = [(False, shallow), (False, deep), (True, shallow), (True, deep)]
        labels = tuple(
            f"{'residual' if res else 'plain'}, {2 * b + 2} layers" for res, b in settings
        )
        records, layers, final, ratio = {}, {}, {}, {}
        for label, (res, b) in zip(labels, settings, strict=True):
            model = conv_stack(b, width, residual=res, seed=seed)
            record = train_recorded(
                model, x, y, steps=steps, batch_size=batch_size, lr=lr, seed=seed
            )
            records[label] = record
            layers[label] = len(_weight_layers(model))
            final[label] = float(record.errors[-tail:].mean())
            convs = record.gradient_norms[:, :-1]  # the head (last) is a Linear layer
            ratio[label] = float(np.median(convs[:, 0] / convs[:, -1]))
    return DegradationResult(labels, records, layers, final, ratio, time.perf_counter() - start)


# ------------------------------------------------------------ vanishing gradients (dense)


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
    depth: int,
    width: int,
    residual: bool,
    in_features: int,
    num_classes: int,
    seed: int,
    init: str,
) -> DeepStack:
    """Build a DeepStack from its own seed, leaving torch's global random state untouched."""
    if init not in DENSE_INITS:
        raise ValueError(f"DeepStack: init must be one of {DENSE_INITS}, got {init!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        stack = DeepStack(depth, width, residual, in_features, num_classes)
        if init == "he":
            for layer in _weight_layers(stack):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)
        return stack


def plain_stack(
    depth: int,
    width: int,
    *,
    in_features: int = 2,
    num_classes: int = 3,
    seed: int = 0,
    init: str = "default",
) -> DeepStack:
    """A :class:`DeepStack` WITHOUT shortcuts: ``depth`` (even) dense+ReLU layers of ``width``.

    The model: (N, in_features) -> (N, num_classes).

    ``seed`` fixes the initial weights; the same seed gives :func:`residual_stack`
    identical weights. ``init``: ``"default"`` keeps PyTorch's ``nn.Linear``
    initialisation (uniform, variance ``1 / (3 fan_in)``); ``"he"`` draws every
    weight from a normal of variance ``2 / fan_in`` (He initialisation for ReLU)
    and sets the biases to zero.
    """
    return _seeded_stack(depth, width, False, in_features, num_classes, seed, init)


def residual_stack(
    depth: int,
    width: int,
    *,
    in_features: int = 2,
    num_classes: int = 3,
    seed: int = 0,
    init: str = "default",
) -> DeepStack:
    """The same layers as :func:`plain_stack`, with an identity shortcut around each pair.

    The model: (N, in_features) -> (N, num_classes).
    """
    return _seeded_stack(depth, width, True, in_features, num_classes, seed, init)


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
    weights = [layer.weight for layer in _weight_layers(model)]
    if not weights:
        raise ValueError(f"{func}: the model has no Linear or Conv2d layer")
    if y.dim() != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"{func}: y must be (N,) labels for x of shape {tuple(x.shape)}, got {tuple(y.shape)}"
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
    optimiser = torch.optim.SGD(
        model.parameters(), lr=_positive("train_briefly", "lr", lr), momentum=momentum
    )
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


class VanishingGradientResult(NamedTuple):
    """What :func:`run_vanishing_gradient_experiment` measured.

    weight_gradient_norms: label -> ``(depth + 2,)`` from :func:`weight_gradient_norms`
    at initialisation (stem, the stacked layers, head).
    losses: label -> ``(steps,)`` training loss per step.
    train_accuracy: label -> training accuracy (0..1) after training.
    labels: the four labels, in order: shallow plain, deep plain, deep plain with He
    initialisation, deep residual (the last three with the same depth).
    seconds: wall-clock seconds the whole experiment took.
    """

    weight_gradient_norms: dict[str, np.ndarray]
    losses: dict[str, np.ndarray]
    train_accuracy: dict[str, float]
    labels: tuple[str, str, str, str]
    seconds: float


def run_vanishing_gradient_experiment(
    depth: int = 30,
    width: int = 32,
    shallow_depth: int = 4,
    *,
    steps: int = 200,
    lr: float = 0.03,
    seed: int = 0,
    threads: int | None = 1,
) -> VanishingGradientResult:
    """Weight-gradient norms at initialisation and a short training run for four dense stacks.

    -> :class:`VanishingGradientResult`.

    The stacks, all without normalisation: plain with ``shallow_depth`` layers,
    plain with ``depth`` layers (PyTorch's default initialisation), the same plain
    stack with He initialisation, and residual with ``depth`` layers (default
    initialisation); all ``width`` units wide, seeded with ``seed``, trained by
    :func:`train_briefly` on :func:`spirals` (300 points). With the defaults it
    takes a few seconds. ``threads``: torch threads to use while it runs (restored
    afterwards); None leaves the setting alone.
    """
    start = time.perf_counter()
    if threads is not None:
        threads = int_at_least("run_vanishing_gradient_experiment", "threads", threads, 1)
    with torch_threads(threads):
        x, y = spirals(seed=seed)
        labels = (
            f"plain, {shallow_depth} layers",
            f"plain, {depth} layers",
            f"plain, {depth} layers, He init",
            f"residual, {depth} layers",
        )
        builders = (
            lambda: plain_stack(shallow_depth, width, seed=seed),
            lambda: plain_stack(depth, width, seed=seed),
            lambda: plain_stack(depth, width, seed=seed, init="he"),
            lambda: residual_stack(depth, width, seed=seed),
        )
        norms, losses, accuracy = {}, {}, {}
        for label, build in zip(labels, builders, strict=True):
            model = build()
            norms[label] = weight_gradient_norms(model, x, y)
            losses[label] = train_briefly(model, x, y, steps=steps, lr=lr)
            accuracy[label] = training_accuracy(model, x, y)
    return VanishingGradientResult(norms, losses, accuracy, labels, time.perf_counter() - start)
