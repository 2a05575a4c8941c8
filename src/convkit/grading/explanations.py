"""Grading of ch13's attribution maps: saliency, Grad-CAM, occlusion and the effective
receptive field, each against its reference in :mod:`convkit.explain`.

- :func:`check_saliency`, :func:`check_grad_cam`, :func:`check_occlusion_map` and
  :func:`check_effective_receptive_field` run the student's function on small float64
  networks built here (:func:`classifier_nets`, :func:`feature_nets`: convolutions with
  ReLU, batch norm in eval mode with running statistics away from 0 and 1, max pooling,
  a global-average-pooling head), with images given as numpy arrays (float64 and
  float32) and as tensors, one target for the batch or one per image; occlusion mostly
  with windows that tile the image, once with pixels no window covers (NaN, compared
  position by position).
- Every case also checks what a function must leave alone, on its own copy of the model:
  each module's train/eval flag, each parameter's ``requires_grad`` and ``.grad`` (one
  case hands over a model in training mode with one module in eval mode, a frozen
  parameter and a gradient already stored in another), the weights and batch-norm
  running statistics, the modules' hooks (a forward hook left behind), and ``x``.
- A wrong map is compared with what the known mistakes compute (:data:`SALIENCY_MISTAKES`
  and its siblings: a signed gradient, the channels averaged, the loss's gradient, Grad-CAM
  weights summed, its ReLU forgotten or applied after upsampling, occlusion's sign flipped
  or overlapping windows added, the ERF of one output channel, ...), and the message
  names the one made.

The student's code runs under :func:`explain_guard`, that is
:func:`convkit.grading.no_shortcuts` with ``allow=(TORCH_LAYERS,)``: the networks' own
layers and autograd run, convkit's code (``convkit.explain`` included) is refused by file,
and so are this module's own maps (:data:`GRADER_MAPS`, the mistakes' computations, which
with their default options compute what the references compute). Import this module
before any student code runs (the notebook's first cell): it records the references, the
code they run and the torch functions both sides rely on, and a notebook that replaced
any of them fails every check instead of grading against a changed reference. This module
imports only numpy, torch, ``convkit.explain`` and the grading package.
"""

from __future__ import annotations

import copy
import sys
import types

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import (  # noqa: UP029
    Exception,
    dict,
    float,
    getattr,
    int,
    isinstance,
    len,
    list,
    range,
    set,
    str,
    sum,
    tuple,
    type,
    zip,
)
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import convkit.explain
from convkit.grading import _trusted as T
from convkit.grading._rules import TORCH_LAYERS
from convkit.grading.compare import check_reference, compare_arrays, require_callable, student_call
from convkit.grading.errors import GradingFailure
from convkit.grading.guard import no_shortcuts
from convkit.grading.mistakes import Mistake

__all__ = [
    "ERF_MISTAKES",
    "GRADER_MAPS",
    "GRAD_CAM_MISTAKES",
    "OCCLUSION_MISTAKES",
    "SALIENCY_MISTAKES",
    "Net",
    "all_ones_stack",
    "check_effective_receptive_field",
    "check_grad_cam",
    "check_occlusion_map",
    "check_saliency",
    "classifier_nets",
    "erf_variant",
    "explain_guard",
    "feature_nets",
    "grad_cam_variant",
    "occlusion_variant",
    "plain_map",
    "saliency_variant",
]

RTOL = 1e-6  # float64 everywhere: a right map differs from the reference by rounding only
ATOL_SHARE = 1e-8  # ... and by at most this share of the reference's largest magnitude

# The references, as imported (checked to be convkit's own before every use).
_REFERENCES = {
    "saliency": convkit.explain.saliency,
    "grad_cam": convkit.explain.grad_cam,
    "occlusion_map": convkit.explain.occlusion_map,
    "effective_receptive_field": convkit.explain.effective_receptive_field,
}
# What the references run: every name in the modules of convkit.explain and in those
# whose functions they call (convkit._checks), and the code of every function.
_OWNERS = ("convkit.explain", "convkit._checks")


def _reference_modules() -> list[types.ModuleType]:
    """convkit.explain's modules and the modules their functions come from, found by
    following what each module holds (no private module is imported by name)."""
    found = {convkit.explain.__name__: convkit.explain}
    todo = [convkit.explain]
    while todo:
        for value in list(vars(todo.pop()).values()):
            if isinstance(value, types.ModuleType):
                owner = value.__name__
            else:
                owner = getattr(value, "__module__", None)
            if isinstance(owner, str) and owner.startswith(_OWNERS) and owner not in found:
                module = sys.modules.get(owner)
                if module is not None:
                    found[owner] = module
                    todo.append(module)
    return list(found.values())


def _module_contents(module: types.ModuleType) -> dict[str, tuple[object, object]]:
    """name -> (object, its code object or None) for everything a module holds."""
    return {key: (value, getattr(value, "__code__", None)) for key, value in vars(module).items()}


_EXPLAIN_MODULES = tuple(_reference_modules())
_EXPLAIN_CAPTURED = {module.__name__: _module_contents(module) for module in _EXPLAIN_MODULES}
# torch functions both the references and the students' maps rely on.
_WATCHED_TORCH = (
    (torch.autograd, "grad"),
    (torch.Tensor, "backward"),
    (torch.Tensor, "abs"),
    (torch.Tensor, "amax"),
    (torch.Tensor, "sum"),
    (torch.Tensor, "mean"),
    (torch.Tensor, "gather"),
    (torch.Tensor, "numpy"),
    (torch.Tensor, "detach"),
    (torch.Tensor, "clone"),
    (torch.Tensor, "requires_grad_"),
    (torch, "where"),
    (torch, "tensor"),
    (torch, "as_tensor"),
    (torch, "relu"),
    (torch, "conv2d"),
    (F, "interpolate"),
    (F, "relu"),
    (F, "conv2d"),
    (F, "linear"),
    (F, "batch_norm"),
    (F, "max_pool2d"),
    (F, "adaptive_avg_pool2d"),
    (nn.Module, "__call__"),
    (nn.Module, "_call_impl"),
    (nn.Module, "eval"),
    (nn.Module, "train"),
    (nn.Module, "modules"),
    (nn.Module, "parameters"),
    (nn.Module, "register_forward_hook"),
    (nn.Module, "register_forward_pre_hook"),
    (nn.Conv2d, "forward"),
    (nn.Conv2d, "_conv_forward"),
    (nn.Linear, "forward"),
    (nn.BatchNorm2d, "forward"),
    (nn.ReLU, "forward"),
    (nn.MaxPool2d, "forward"),
    (nn.AdaptiveAvgPool2d, "forward"),
    (nn.Flatten, "forward"),
    (nn.Sequential, "forward"),
    (nn.Dropout, "forward"),
)
_TORCH_CAPTURED = T.capture_attributes(_WATCHED_TORCH)
_isnan = np.isnan  # a ufunc, bound before any student code runs
NAN = float("nan")


def _assert_untouched() -> None:
    """Fail if the notebook replaced what the references run, or torch functions they use."""
    for module in _EXPLAIN_MODULES:
        captured = _EXPLAIN_CAPTURED[module.__name__]
        for key, (value, code) in captured.items():
            now = vars(module).get(key)
            if now is not value or getattr(now, "__code__", None) is not code:
                raise GradingFailure(
                    f"{module.__name__}.{key} was replaced in this notebook, so the reference "
                    "maps cannot be trusted. Remove the code that changes convkit, restart the "
                    "kernel and run all cells."
                )
    replaced = T.replaced_attribute(_WATCHED_TORCH, _TORCH_CAPTURED)
    if replaced is not None:
        raise GradingFailure(
            f"{replaced} was replaced in this notebook, so no map can be graded. "
            "Remove the code that changes torch, restart the kernel and run all cells."
        )


# --------------------------------------------------------------------------- networks


class Net(NamedTuple):
    """A network the checks explain: ``model`` (float64, eval mode), the shape of one
    input image (C, H, W), what it is in words, and the modules Grad-CAM is asked about."""

    model: nn.Sequential
    shape: tuple[int, int, int]
    label: str
    layers: tuple[int, ...] = ()


def _randomise(model: nn.Module, seed: int) -> None:
    """New weights from a torch generator (the global one is left alone); batch-norm
    scales near 1, shifts and running means near 0, running variances in [0.5, 1.5]."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            for key, tensor in [
                *module.named_parameters(recurse=False),
                *module.named_buffers(recurse=False),
            ]:
                if not tensor.is_floating_point():
                    continue
                noise = torch.randn(tensor.shape, generator=gen, dtype=tensor.dtype)
                if isinstance(module, nn.BatchNorm2d):
                    if key == "running_var":
                        noise = 0.5 + torch.rand(tensor.shape, generator=gen, dtype=tensor.dtype)
                    elif key == "weight":
                        noise = 1.0 + 0.3 * noise
                    else:  # bias, running_mean
                        noise = 0.3 * noise
                elif key == "bias":
                    noise = 0.2 * noise
                else:
                    noise = noise / tensor[0].numel() ** 0.5
                tensor.copy_(noise)


def _build(layers: Callable[[], list[nn.Module]], seed: int) -> nn.Sequential:
    """A float64 Sequential of ``layers()`` in eval mode with seeded random weights."""
    with torch.random.fork_rng(devices=[]):  # the layers' own initialisation draws
        model = nn.Sequential(*layers()).double()
    _randomise(model, seed)
    return model.eval()


def classifier_nets(seed: int = 1300) -> list[Net]:
    """Three small classifiers (N, 3, H, W) -> (N, classes), float64, eval mode.

    A: conv-ReLU-conv-ReLU, global average pooling, linear (8 x 8 images, 4 classes);
    B: two conv-batch norm-ReLU units with a 2x2 max pool between them, global average
    pooling, linear (10 x 10, 5 classes); C: three conv-ReLU units, max pools after the
    first two, global average pooling, linear (12 x 16, 3 classes).
    ``layers``: the indices Grad-CAM is asked about (outputs of h x w = H x W, H/2 x W/2
    and H/4 x W/4).
    """
    a = _build(
        lambda: [
            nn.Conv2d(3, 6, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(6, 8, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(8, 4),
        ],
        seed,
    )
    b = _build(
        lambda: [
            nn.Conv2d(3, 6, 3, padding=1),
            nn.BatchNorm2d(6),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(8, 5),
        ],
        seed + 1,
    )
    c = _build(
        lambda: [
            nn.Conv2d(3, 4, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(8, 3),
        ],
        seed + 2,
    )
    return [
        Net(
            a, (3, 8, 8), "A (conv-ReLU-conv-ReLU, global average pool, linear: 4 classes)", (3, 2)
        ),
        Net(
            b,
            (3, 10, 10),
            "B (conv-batch norm-ReLU, 2x2 max pool, conv-batch norm-ReLU, "
            "global average pool, linear: 5 classes)",
            (6, 4, 2),
        ),
        Net(
            c,
            (3, 12, 16),
            "C (three conv-ReLU units with 2x2 max pools between them, global "
            "average pool, linear: 3 classes)",
            (7, 2),
        ),
    ]


def feature_nets(seed: int = 1330) -> list[Net]:
    """Three fully convolutional networks (N, C, H, W) -> (N, K, h, w) for the ERF,
    float64, eval mode: D (2 channels, 15 x 15 -> 2 x 4 x 4, a stride-2 convolution: an
    even output, whose centre is the lower-right of the middle four), E (batch norm and a
    max pool, 3 channels, 11 x 11 -> 4 x 5 x 5) and F (1 channel, 9 x 14 -> 2 x 5 x 8,
    a 3 x 5 kernel)."""
    d = _build(
        lambda: [
            nn.Conv2d(2, 4, 3),
            nn.ReLU(),
            nn.Conv2d(4, 4, 3, stride=2),
            nn.ReLU(),
            nn.Conv2d(4, 3, 3),
        ],
        seed,
    )
    e = _build(
        lambda: [
            nn.Conv2d(3, 5, 3, padding=1),
            nn.BatchNorm2d(5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(5, 4, 3, padding=1),
        ],
        seed + 1,
    )
    f = _build(lambda: [nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Conv2d(3, 2, (3, 5))], seed + 2)
    return [
        Net(d, (2, 15, 15), "D (conv-ReLU, stride-2 conv-ReLU, conv: 3 output channels of 4 x 4)"),
        Net(
            e,
            (3, 11, 11),
            "E (conv-batch norm-ReLU, 2x2 max pool, conv: 4 output channels of 5 x 5)",
        ),
        Net(f, (1, 9, 14), "F (conv-ReLU, 3 x 5 conv: 2 output channels of 5 x 8)"),
    ]


def _state_net(seed: int, head: bool) -> Net:
    """A network handed over as a training script leaves it: in training mode, except its
    dropout (eval), the first convolution's bias frozen, and a gradient already in the
    last layer's weight. ``head``: a classifier (linear head), else its convolutional
    part only (for the ERF)."""

    def layers() -> list[nn.Module]:
        body = [
            nn.Conv2d(3, 4, 3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.MaxPool2d(2),
            nn.Conv2d(4, 6, 3, padding=1),
        ]
        if head:
            body += [nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3)]
        return body

    model = _build(layers, seed)
    model.train()
    model[3].eval()
    model[0].bias.requires_grad_(False)
    last = model[-1].weight
    last.grad = torch.full_like(last, 0.5)
    label = (
        "G (conv-batch norm-ReLU-dropout, 2x2 max pool, conv"
        + ("-ReLU, global average pool, linear: 3 classes" if head else ": 6 channels")
        + "), handed over in training mode with its dropout in eval mode, the first "
        "convolution's bias frozen and a gradient already stored in the last layer's "
        "weight"
    )
    return Net(model, (3, 8, 8), label, (6,) if head else ())


def all_ones_stack(depth: int, channels: int = 1) -> nn.Sequential:
    """``depth`` 3x3 convolutions, stride 1, no padding, no bias, every weight 1 (a
    linear network: its ERF is the box [1, 1, 1] convolved ``depth`` times with itself,
    in each direction), float64, eval mode; ``channels`` in and out of every layer."""
    with torch.random.fork_rng(devices=[]):
        layers = [nn.Conv2d(channels, channels, 3, bias=False) for _ in range(depth)]
    model = nn.Sequential(*layers).double()
    with torch.no_grad():
        for layer in layers:
            layer.weight.fill_(1.0)
    return model.eval()


# --------------------------------------------------------------------------- cases


class Case(NamedTuple):
    """One call: the arguments, the keywords and the call in words (for the messages)."""

    args: tuple
    kwargs: dict[str, Any]
    call: str


def _images(rng: np.random.Generator, n: int, shape: tuple[int, int, int], kind: str) -> Any:
    """n images of shape (C, H, W), uniform in [-1, 1]: kind "numpy" (float64),
    "numpy32" (float32) or "tensor" (float64)."""
    x = rng.uniform(-1.0, 1.0, size=(n, *shape))
    if kind == "numpy32":
        return x.astype(np.float32)
    return torch.tensor(x) if kind == "tensor" else x


def _show_x(x: Any) -> str:
    if isinstance(x, torch.Tensor):
        return f"x=torch tensor of shape {tuple(x.shape)} ({str(x.dtype).removeprefix('torch.')})"
    return f"x=numpy array of shape {x.shape} ({x.dtype})"


def _show_target(target: Any) -> str:
    if isinstance(target, np.ndarray):
        return f"target=np.array({target.tolist()})"
    return f"target={target!r}"


def _call_text(name: str, net: Net, parts: Sequence[str]) -> str:
    return f"{name}(model=net {net.label}, {', '.join(parts)})"


def _saliency_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    a, b, c = classifier_nets(seed)
    g = _state_net(seed + 10, head=True)
    plan = [
        (a, 2, "numpy", 1),
        (a, 3, "tensor", [0, 3, 2]),
        (b, 2, "numpy32", np.array([4, 0])),
        (b, 1, "numpy", [3]),
        (c, 3, "numpy", 2),
        (c, 2, "tensor", [1, 0]),
        (g, 2, "numpy", [2, 0]),
        (g, 2, "tensor", 1),
    ]
    cases = []
    for net, n, kind, target in plan:
        x = _images(rng, n, net.shape, kind)
        cases.append(
            Case(
                (net.model, x, target),
                {},
                _call_text("saliency", net, [_show_x(x), _show_target(target)]),
            )
        )
    return cases


def _grad_cam_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    a, b, c = classifier_nets(seed)
    g = _state_net(seed + 10, head=True)
    plan = [
        (a, 3, 2, "numpy", [1, 2]),
        (a, 2, 2, "tensor", 0),
        (b, 6, 3, "numpy", [4, 1, 0]),
        (b, 4, 2, "numpy32", 2),
        (b, 2, 2, "tensor", np.array([3, 3])),
        (c, 7, 2, "numpy", [0, 2]),
        (c, 2, 1, "tensor", 1),
        (g, 6, 2, "numpy", [2, 1]),
        (g, 6, 2, "tensor", 0),
    ]
    cases = []
    for net, index, n, kind, target in plan:
        x = _images(rng, n, net.shape, kind)
        layer = net.model[index]
        text = _call_text(
            "grad_cam",
            net,
            [f"layer=model[{index}] ({type(layer).__name__})", _show_x(x), _show_target(target)],
        )
        cases.append(Case((net.model, layer, x, target), {}, text))
    return cases


def _occlusion_cases(seed: int) -> list[Case]:
    """Windows that tile the image (every pixel covered once or several times), and one
    case whose last row and column no window covers (8 x 8, window 3, stride 2)."""
    rng = np.random.default_rng(seed)
    a, b, c = classifier_nets(seed)
    g = _state_net(seed + 10, head=True)
    plan = [
        (a, 2, "numpy", [1, 3], 2, 2, None),
        (a, 1, "tensor", 0, 4, 2, 0.5),
        (b, 2, "numpy", np.array([4, 2]), (2, 5), (2, 5), None),
        (b, 1, "numpy32", 1, 3, 1, -1.0),
        (c, 2, "numpy", [2, 0], (3, 4), (3, 4), 0.25),
        (a, 2, "numpy", [0, 2], 3, 2, None),  # row 7 and column 7: no window covers them
        (g, 2, "numpy", [2, 1], 2, 2, 0.0),
        (g, 1, "tensor", 0, 4, 2, None),
    ]
    cases = []
    for net, n, kind, target, window, stride, fill in plan:
        x = _images(rng, n, net.shape, kind)
        kwargs = {} if fill is None else {"fill": fill}
        parts = [_show_x(x), _show_target(target), f"window={window!r}", f"stride={stride!r}"]
        parts += [f"fill={fill!r}"] if fill is not None else []
        cases.append(
            Case(
                (net.model, x, target, window, stride),
                kwargs,
                _call_text("occlusion_map", net, parts),
            )
        )
    return cases


def _erf_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    d, e, f = feature_nets(seed)
    g = _state_net(seed + 10, head=False)
    plan = [
        (d, 4, "tensor"),
        (d, 1, "numpy"),
        (e, 3, "numpy"),
        (f, 2, "numpy32"),
        (f, 3, "tensor"),
        (g, 3, "numpy"),
        (g, 2, "tensor"),
    ]
    cases = []
    for net, n, kind in plan:
        x = _images(rng, n, net.shape, kind)
        cases.append(
            Case((net.model, x), {}, _call_text("effective_receptive_field", net, [_show_x(x)]))
        )
    return cases


# --------------------------------------------------------------------------- the known mistakes
# Each computes what a mistaken version returns, on a deep copy of the case's model in eval
# mode (the case's own objects are never touched), in float64.


def _eval_copy(model: nn.Module, *others: nn.Module) -> tuple[nn.Module, ...]:
    """A deep copy of ``model`` in eval mode with frozen parameters, and the copies of
    ``others`` (modules inside it)."""
    clone, *inner = copy.deepcopy((model, *others))
    clone.eval()
    for parameter in clone.parameters():
        parameter.requires_grad_(False)
    return (clone, *inner)


def _as_input(x: Any) -> torch.Tensor:
    """x as a new float64 tensor that requires grad."""
    tensor = x.detach().clone() if isinstance(x, torch.Tensor) else torch.tensor(np.asarray(x))
    return tensor.to(torch.float64).requires_grad_(True)


def _as_targets(target: Any, n: int) -> torch.Tensor:
    values = torch.as_tensor(np.asarray(target), dtype=torch.int64)
    return values.expand(n).clone() if values.ndim == 0 else values


def _objective(scores: torch.Tensor, target: Any, score: str) -> torch.Tensor:
    """The number whose gradient a variant takes: each image's target logit summed
    ("logit"), its softmax probability ("softmax"), the cross-entropy loss ("loss": mean
    over the batch, "loss_sum"), or every listed target's logit for every image
    ("every_target": scores[:, target].sum(), which is right for one int target)."""
    if score == "every_target":
        return scores[:, torch.as_tensor(np.asarray(target), dtype=torch.int64)].sum()
    targets = _as_targets(target, len(scores))
    rows = torch.arange(len(targets))
    if score == "logit":
        return scores[rows, targets].sum()
    if score == "softmax":
        return scores.softmax(dim=1)[rows, targets].sum()
    if score == "loss":
        return F.cross_entropy(scores, targets)
    if score == "loss_sum":
        return F.cross_entropy(scores, targets, reduction="sum")
    raise ValueError(f"unknown score {score!r}")


def saliency_variant(
    model: nn.Module,
    x: Any,
    target: Any,
    *,
    score: str = "logit",
    channels: str = "max",
    signed: bool = False,
) -> np.ndarray:
    """The saliency map, or a mistaken version of it: x (N, C, H, W) -> (N, H, W).

    score: see :func:`_objective`; channels: "max", "mean" or "sum" of the channels;
    signed: the gradient itself instead of its magnitude (then "max" is the largest
    signed value). The defaults give :func:`convkit.explain.saliency`'s map.
    """
    (clone,) = _eval_copy(model)
    images = _as_input(x)
    with torch.enable_grad():
        objective = _objective(clone(images), target, score)
        (gradient,) = torch.autograd.grad(objective, images)
    values = gradient if signed else gradient.abs()
    if channels == "max":
        values = values.amax(dim=1)
    else:
        values = values.mean(dim=1) if channels == "mean" else values.sum(dim=1)
    return values.numpy()


def _resize(maps: torch.Tensor, size: tuple[int, int], mode: str) -> torch.Tensor:
    """(N, h, w) -> (N, H, W): "bilinear" (align_corners=False), "corners" (bilinear with
    align_corners=True), "nearest", or "none" (left at h x w)."""
    if mode == "none":
        return maps
    if mode == "nearest":
        return F.interpolate(maps[:, None], size=size, mode="nearest")[:, 0]
    return F.interpolate(
        maps[:, None], size=size, mode="bilinear", align_corners=mode == "corners"
    )[:, 0]


def grad_cam_variant(
    model: nn.Module,
    layer: nn.Module,
    x: Any,
    target: Any,
    *,
    score: str = "logit",
    weights: str = "mean",
    relu: str = "before",
    resize: str = "bilinear",
) -> np.ndarray:
    """Grad-CAM, or a mistaken version of it: x (N, C, H, W) -> (N, H, W) (or (N, h, w)).

    score: see :func:`_objective`; weights: "mean" (the gradient averaged over the
    positions), "sum" (summed), "pointwise" (no weights: the gradient times the
    activation at every position); relu: "before" upsampling, "after" it, or "none";
    resize: see :func:`_resize`. The defaults give :func:`convkit.explain.grad_cam`'s map.
    """
    clone, inner = _eval_copy(model, layer)
    images = _as_input(x)
    recorded: list[torch.Tensor] = []

    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        recorded.append(output)
        return output.clone()

    handle = inner.register_forward_hook(hook)
    try:
        with torch.enable_grad():
            scores = clone(images)
    finally:
        handle.remove()
    maps = recorded[0]
    with torch.enable_grad():
        objective = _objective(scores, target, score)
        (gradient,) = torch.autograd.grad(objective, maps)
    maps, gradient = maps.detach(), gradient.detach()
    if weights == "pointwise":
        cam = (gradient * maps).sum(dim=1)
    else:
        alpha = gradient.mean(dim=(2, 3)) if weights == "mean" else gradient.sum(dim=(2, 3))
        cam = (alpha[:, :, None, None] * maps).sum(dim=1)
    size = tuple(images.shape[2:])
    if relu == "before":
        cam = F.relu(cam)
    cam = _resize(cam, size, resize)
    if relu == "after":
        cam = F.relu(cam)
    return cam.numpy()


def occlusion_variant(
    model: nn.Module,
    x: Any,
    target: Any,
    window: Any,
    stride: Any,
    fill: float = 0.0,
    *,
    score: str = "logit",
    combine: str = "mean",
    sign: float = 1.0,
    edges: str = "inside",
    uncovered: float = NAN,
) -> np.ndarray:
    """The occlusion map, or a mistaken version of it: x (N, C, H, W) -> (N, H, W).

    score: "logit" or "softmax" (the target's probability); combine: "mean" of the drops
    of the windows covering a pixel, their "sum", or the "last" one (each window written
    over the pixels); sign: -1 for score(occluded) - score(original); edges: "inside"
    (windows lie wholly inside the image) or "over" (a window starts at every multiple of
    the stride, cut off at the edge); uncovered: the value of pixels no window covers.
    The defaults give :func:`convkit.explain.occlusion_map`'s map.
    """
    (clone,) = _eval_copy(model)
    images = _as_input(x).detach()
    n, _, height, width = images.shape
    kh, kw = (window, window) if isinstance(window, int) else window
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    last_top = height - kh if edges == "inside" else height - 1
    last_left = width - kw if edges == "inside" else width - 1
    corners = [
        (top, left) for top in range(0, last_top + 1, sh) for left in range(0, last_left + 1, sw)
    ]
    targets = _as_targets(target, n)

    def target_scores(batch: torch.Tensor, cls: int) -> torch.Tensor:
        out = clone(batch)
        return (out.softmax(dim=1) if score == "softmax" else out)[:, cls]

    total = torch.zeros((n, height, width), dtype=torch.float64)
    count = torch.zeros((height, width), dtype=torch.float64)
    for top, left in corners:
        count[top : top + kh, left : left + kw] += 1
    with torch.no_grad():
        for i in range(n):
            cls = int(targets[i])
            original = target_scores(images[i : i + 1], cls)[0]
            occluded = images[i].repeat(len(corners), 1, 1, 1)
            for copy_, (top, left) in zip(occluded, corners, strict=True):
                copy_[:, top : top + kh, left : left + kw] = fill
            drops = sign * (original - target_scores(occluded, cls))
            for drop, (top, left) in zip(drops, corners, strict=True):
                if combine == "last":
                    total[i, top : top + kh, left : left + kw] = drop
                else:
                    total[i, top : top + kh, left : left + kw] += drop
    if combine == "mean":
        total = total / count.clamp(min=1)
    return torch.where(count > 0, total, uncovered).numpy()


def erf_variant(
    model: nn.Module,
    x: Any,
    *,
    channel: int | None = None,
    centre: str = "floor",
    whole: bool = False,
    magnitude: str = "each",
    channels: str = "sum",
    batch: str = "mean",
) -> np.ndarray:
    """The effective receptive field, or a mistaken version of it: x (N, C, H, W) -> (H, W).

    channel: one output channel instead of all K summed; centre: "floor" (h // 2,
    w // 2) or "before" ((h - 1) // 2, (w - 1) // 2); whole: the whole output summed
    instead of its centre unit; magnitude: "each" (|gradient| of every input channel),
    "none" (signed), "channels" (|.| after summing the input channels) or "last" (|.| of
    the final map); channels: "sum" or "max" over the input channels; batch: "mean" or
    "sum" over the images. The defaults give the reference's map.
    """
    (clone,) = _eval_copy(model)
    images = _as_input(x)
    with torch.enable_grad():
        out = clone(images)
        h, w = out.shape[2:]
        if whole:
            unit = out
        else:
            row, col = (h // 2, w // 2) if centre == "floor" else ((h - 1) // 2, (w - 1) // 2)
            unit = out[:, :, row, col]
        if channel is not None:
            unit = unit[:, channel]
        (gradient,) = torch.autograd.grad(unit.sum(), images)
    if magnitude == "each":
        gradient = gradient.abs()
    per_image = gradient.amax(dim=1) if channels == "max" else gradient.sum(dim=1)
    if magnitude == "channels":
        per_image = per_image.abs()
    result = per_image.mean(dim=0) if batch == "mean" else per_image.sum(dim=0)
    return (result.abs() if magnitude == "last" else result).numpy()


# A mistake's result_fn takes the case's ``(args, kwargs)`` and the right map; it returns
# the mistaken map, or None where the mistake does not apply to the case.
def _saliency_mistake(label: str, hint: str, **options: Any) -> Mistake:
    return Mistake(
        label, hint, lambda call, _expected: saliency_variant(*call[0], **call[1], **options)
    )


def _grad_cam_mistake(label: str, hint: str, **options: Any) -> Mistake:
    return Mistake(
        label, hint, lambda call, _expected: grad_cam_variant(*call[0], **call[1], **options)
    )


def _occlusion_mistake(
    label: str, hint: str, *, zero_fill: bool = False, **options: Any
) -> Mistake:
    """``zero_fill``: the mistake of covering the windows with 0 whatever ``fill`` is (it
    applies only to a case with another fill)."""

    def result(call: tuple[tuple, dict], _expected: Any) -> np.ndarray | None:
        args, kwargs = call
        kwargs = dict(kwargs)
        if zero_fill:
            if float(kwargs.get("fill", 0.0)) == 0.0:
                return None
            kwargs["fill"] = 0.0
        return occlusion_variant(*args, **kwargs, **options)

    return Mistake(label, hint, result)


def _erf_mistake(label: str, hint: str, **options: Any) -> Mistake:
    return Mistake(label, hint, lambda call, _expected: erf_variant(*call[0], **call[1], **options))


_LOGIT = "the score is the model's output for the target class before any softmax (a logit)"
_PER_IMAGE = (
    "with one target per image, image n's score is scores[n, target[n]], e.g. "
    "scores[torch.arange(N), target]"
)

SALIENCY_MISTAKES = (
    _saliency_mistake(
        "the largest signed gradient over the channels",
        "take the magnitude |d score / d x| first, then the largest over the channels",
        signed=True,
    ),
    _saliency_mistake(
        "the mean of |gradient| over the channels",
        "take the largest magnitude over the channels (max, not mean)",
        channels="mean",
    ),
    _saliency_mistake(
        "the sum of |gradient| over the channels",
        "take the largest magnitude over the channels (max, not sum)",
        channels="sum",
    ),
    _saliency_mistake("the gradient of the cross-entropy loss", _LOGIT, score="loss"),
    _saliency_mistake(
        "the gradient of the cross-entropy loss (summed over the batch)", _LOGIT, score="loss_sum"
    ),
    _saliency_mistake("the gradient of the softmax probability", _LOGIT, score="softmax"),
    _saliency_mistake(
        "every image's map taken from the scores of all the listed targets",
        _PER_IMAGE,
        score="every_target",
    ),
)

GRAD_CAM_MISTAKES = (
    _grad_cam_mistake(
        "Grad-CAM with the gradient summed over the positions",
        "each weight w_k is the mean of d score / d A_k over the h x w "
        "positions (divide the sum by h * w)",
        weights="sum",
    ),
    _grad_cam_mistake(
        "Grad-CAM without its ReLU",
        "keep only the positive part of sum_k w_k A_k (the regions that raise the score)",
        relu="none",
    ),
    _grad_cam_mistake(
        "Grad-CAM with the ReLU applied after upsampling",
        "apply the ReLU to the h x w map, then upsample it",
        relu="after",
    ),
    _grad_cam_mistake("Grad-CAM of the softmax probability", _LOGIT, score="softmax"),
    _grad_cam_mistake(
        "the gradient times the activation at each position (no weights)",
        "Grad-CAM weighs each whole map A_k by one number, the mean of its "
        "gradient over the positions",
        weights="pointwise",
    ),
    _grad_cam_mistake(
        "Grad-CAM upsampled with align_corners=True",
        "use F.interpolate(..., mode='bilinear', align_corners=False)",
        resize="corners",
    ),
    _grad_cam_mistake(
        "Grad-CAM upsampled by nearest neighbours",
        "use F.interpolate(..., mode='bilinear', align_corners=False)",
        resize="nearest",
    ),
    _grad_cam_mistake(
        "Grad-CAM at the layer's own size, not upsampled",
        "upsample the h x w map to the images' H x W (bilinear, align_corners=False)",
        resize="none",
    ),
    _grad_cam_mistake(
        "every image's map taken from the scores of all the listed targets",
        _PER_IMAGE,
        score="every_target",
    ),
)

OCCLUSION_MISTAKES = (
    _occlusion_mistake(
        "score(occluded) - score(original)",
        "the drop is score(original) - score(occluded): positive where "
        "covering the window lowers the score",
        sign=-1.0,
    ),
    _occlusion_mistake(
        "the drops of the windows covering a pixel added up",
        "a pixel gets the mean drop of the windows that cover it (divide by how many cover it)",
        combine="sum",
    ),
    _occlusion_mistake(
        "each window's drop written over its pixels (the last window wins)",
        "a pixel gets the mean drop of all the windows that cover it",
        combine="last",
    ),
    _occlusion_mistake("the drop of the softmax probability", _LOGIT, score="softmax"),
    _occlusion_mistake(
        "windows that run over the image's edge",
        "every window lies wholly inside the image: its top-left corner runs "
        "from 0 to H - window height (and W - window width) in steps of the "
        "stride",
        edges="over",
    ),
    _occlusion_mistake(
        "a map with 0 where no window covers a pixel",
        "no window measured those pixels: leave them NaN (float('nan'))",
        uncovered=0.0,
    ),
    _occlusion_mistake(
        "a map of windows filled with 0 instead of fill",
        "set every channel of the window to the fill value you are given",
        zero_fill=True,
    ),
)

ERF_MISTAKES = (
    _erf_mistake(
        "the ERF of output channel 0 only",
        "sum the centre unit over all K output channels before taking the gradient",
        channel=0,
    ),
    _erf_mistake(
        "the signed gradient",
        "take |d centre / d x| of every image and channel before summing and averaging",
        magnitude="none",
    ),
    _erf_mistake(
        "|gradient| taken after summing the input channels",
        "take |.| of each channel's gradient first, then sum over the channels",
        magnitude="channels",
    ),
    _erf_mistake(
        "|gradient| taken of the final map",
        "take |.| of each image's gradient, before summing and averaging",
        magnitude="last",
    ),
    _erf_mistake(
        "the largest |gradient| over the input channels",
        "sum |gradient| over the input channels",
        channels="max",
    ),
    _erf_mistake("the sum over the images", "average over the images (divide by N)", batch="sum"),
    _erf_mistake(
        "the ERF of the unit at ((h - 1) // 2, (w - 1) // 2)",
        "the centre unit is at (h // 2, w // 2)",
        centre="before",
    ),
    _erf_mistake(
        "the gradient of the whole output map",
        "take the gradient of the centre unit only (summed over the K channels)",
        whole=True,
    ),
)


# The grader's own maps compute what the references compute: a graded function may not
# call them (refused by the guard, as convkit's references are).
GRADER_MAPS = (saliency_variant, grad_cam_variant, occlusion_variant, erf_variant)


def explain_guard() -> no_shortcuts:
    """The guard a graded map runs under: torch's layers and autograd allowed; convkit's
    code (``convkit.explain`` included) and the grader's own maps (:data:`GRADER_MAPS`)
    refused. ``with explain_guard(): ...`` in a visible test, as the checks do."""
    return no_shortcuts(allow=(TORCH_LAYERS,), deny=GRADER_MAPS)


# --------------------------------------------------------------------------- comparing


def _nan_positions(values: np.ndarray) -> np.ndarray:
    return _isnan(values)


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The index (i, j, ...) of entry ``flat`` of an array of ``shape`` (row-major)."""
    out = []
    for size in shape[::-1]:
        out.append(flat % size)
        flat //= size
    return tuple(out[::-1])


def _compare(expected: np.ndarray, got: np.ndarray) -> str | None:
    """None if ``got`` matches ``expected`` (NaN exactly where it is NaN, the rest within
    :data:`RTOL` and a share :data:`ATOL_SHARE` of the largest magnitude); else what differs."""
    if tuple(got.shape) != tuple(expected.shape):
        return f"expected shape {tuple(expected.shape)}, got {tuple(got.shape)}"
    if expected.size == 0:
        return None
    exp = T.NDARRAY.astype(expected, T.FLOAT64)
    val = T.NDARRAY.astype(got, T.FLOAT64)
    exp_nan, got_nan = _nan_positions(exp), _nan_positions(val)
    mismatch = T.logical_or(
        T.logical_and(exp_nan, T.logical_not(got_nan)),
        T.logical_and(got_nan, T.logical_not(exp_nan)),
    )
    flat = mismatch.reshape(-1)
    if T.logical_or.reduce(flat):
        index = _index(int(flat.nonzero()[0][0]), tuple(exp.shape))
        if exp_nan[index]:
            return (
                f"expected nan at index {index} (no window covers that pixel), got "
                f"{float(val[index]):.6g}"
            )
        return f"got nan at index {index}, expected {float(exp[index]):.6g}"
    exp[exp_nan] = 0.0
    val[got_nan] = 0.0
    largest = float(T.maximum.reduce(T.absolute(exp).reshape(-1)))
    return compare_arrays(exp, val, RTOL, ATOL_SHARE * largest + 1e-300)


def _mistake_note(
    mistakes: Sequence[Mistake], args: tuple, kwargs: dict, expected: np.ndarray, got: np.ndarray
) -> str:
    """`` — your result equals <mistake>: <hint>.`` for the first known mistake whose map
    ``got`` equals (and that differs from the right map here), else "". Never raises."""
    for mistake in mistakes:
        try:
            wrong = mistake.result_fn((args, kwargs), expected)
            if wrong is None:
                continue
            wrong = T.plain_array(wrong, "a mistake")
            if _compare(expected, wrong) is not None and _compare(wrong, got) is None:
                return f" — your result equals {mistake.label}: {mistake.hint}."
        except Exception:  # a mistake that cannot be computed here is not named
            continue
    return ""


# --------------------------------------------------------------------------- state


class _State(NamedTuple):
    modes: list[bool]
    flags: list[bool]
    grads: list[torch.Tensor | None]
    tensors: dict[str, torch.Tensor]
    hooks: list[int]


def _hook_count(module: nn.Module) -> int:
    """How many forward, forward-pre and backward hooks a module carries."""
    return sum(
        len(getattr(module, key, None) or ())
        for key in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks")
    )


def _snapshot(model: nn.Module) -> _State:
    return _State(
        [module.training for module in model.modules()],
        [parameter.requires_grad for parameter in model.parameters()],
        [None if p.grad is None else p.grad.detach().clone() for p in model.parameters()],
        {key: value.detach().clone() for key, value in model.state_dict().items()},
        [_hook_count(module) for module in model.modules()],
    )


def _same_tensor(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same shape, dtype and values (torch.equal alone compares values across dtypes)."""
    return a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)


def _state_problem(model: nn.Module, before: _State) -> str | None:
    """What the student's call changed in ``model`` (its copy), in words, or None."""
    after = _snapshot(model)
    modules = [name or "model" for name, _ in model.named_modules()]
    names = [name for name, _ in model.named_parameters()]
    if (
        len(after.modes) != len(before.modes)
        or len(after.grads) != len(before.grads)
        or set(after.tensors) != set(before.tensors)
    ):
        return "the model's modules or parameters changed: a map only reads the model"
    for key, value in before.tensors.items():
        now = after.tensors[key]
        if _same_tensor(now, value):
            continue
        if "running_" in key or "num_batches" in key:
            return (
                f"the model's batch-norm statistics changed ({key}): your function ran "
                "the model in training mode. Put it in eval mode for the map "
                "(model.eval()) and give every module its own mode back afterwards"
            )
        return f"the model's weights changed ({key}): a map only reads the model"
    for name, was, now in zip(names, before.grads, after.grads, strict=True):
        if was is None and now is not None:
            return (
                f"a gradient was left in the model's {name}.grad (it was None): "
                "take gradients with torch.autograd.grad(score, x), which stores none, "
                "instead of .backward()"
            )
        if was is not None and (now is None or not _same_tensor(now, was)):
            what = "erased" if now is None else "changed"
            return (
                f"the gradient that was stored in the model's {name}.grad was {what} "
                "(by .backward() or zero_grad()?): a map must leave it as it was; "
                "use torch.autograd.grad(score, x)"
            )
    for name, was, now in zip(names, before.flags, after.flags, strict=True):
        if was != now:
            return (
                f"{name}.requires_grad was {was} and is now {now}: give every "
                "parameter its own flag back"
            )
    for name, was, now in zip(modules, before.modes, after.modes, strict=True):
        if was != now:
            mode = {True: "training", False: "eval"}
            return (
                f"{name} was in {mode[was]} mode and is left in {mode[now]} mode: "
                "record every module's flag (m.training for m in model.modules()) and "
                "restore each one (the eval_mode helper of this notebook does)"
            )
    for name, was, now in zip(modules, before.hooks, after.hooks, strict=True):
        if now != was:
            return (
                f"a hook was left on the model's {name}: remove every hook you register "
                "when you are done (handle = layer.register_forward_hook(...); ...; "
                "handle.remove(), in a finally: block)"
            )
    return None


def _x_problem(pristine: Any, used: Any) -> str | None:
    """What the student's call changed in x (its copy), or None."""
    if isinstance(pristine, torch.Tensor):
        if used.requires_grad or used.grad is not None:
            return (
                "x now requires grad (or holds a gradient): work on a copy, "
                "x.detach().clone().requires_grad_(True)"
            )
        same = _same_tensor(used.detach(), pristine)
    else:
        same = (
            type(used) is T.NDARRAY
            and used.shape == pristine.shape
            and compare_arrays(pristine, used, 0.0, 0.0) is None
        )
    if not same:
        return (
            "your function changed its input x in place: work on a copy (e.g. "
            "torch.tensor(x) or x.clone()), above all when you cover a window"
        )
    return None


def plain_map(value: Any, what: str = "the map") -> np.ndarray:
    """A student's map as a fresh float64 ndarray, read through numpy's own C methods (a
    tensor, a non-numeric or tampered object raises GradingFailure naming its type)."""
    return T.NDARRAY.astype(T.plain_array(value, what), T.FLOAT64)


# --------------------------------------------------------------------------- the checks


def _copy_case(args: tuple) -> tuple:
    """A deep copy of a case's arguments (the model and the modules in it copied together),
    with every gradient stored in the model's parameters copied too."""
    copied = copy.deepcopy(args)
    for original, clone in zip(args[0].parameters(), copied[0].parameters(), strict=True):
        if original.grad is not None:
            clone.grad = original.grad.detach().clone()
    return copied


def _check(student_fn: Any, name: str, cases: Sequence[Case], mistakes: Sequence[Mistake]) -> None:
    """Run ``student_fn`` on every case under the guard; fail at the first case whose
    model or x it changed, or whose map differs from the reference's (naming the mistake)."""
    __tracebackhide__ = True
    T.assert_numpy_intact()
    _assert_untouched()
    require_callable(student_fn, name)
    reference = _REFERENCES[name]
    check_reference(reference, name)
    if not cases:
        raise GradingFailure(f"no test cases were given for {name} (a bug in the test)")
    for case in cases:
        expected = T.plain_array(reference(*case.args, **case.kwargs), "the reference")
        args = _copy_case(case.args)
        kwargs = copy.deepcopy(case.kwargs)
        model, x = args[0], args[2 if name == "grad_cam" else 1]
        pristine_x = copy.deepcopy(x)
        before = _snapshot(model)
        with student_call(name, case.call), explain_guard():
            got = student_fn(*args, **kwargs)
            got = T.plain_array(got, f"the result of {name}")
        try:
            problem = _state_problem(model, before) or _x_problem(pristine_x, x)
        except Exception:  # the student's call left something that cannot even be compared
            problem = "your function changed the model or x so that it cannot be compared"
        if problem:
            raise GradingFailure(f"{case.call}: {problem}.")
        problem = _compare(expected, got)
        if problem:
            note = _mistake_note(mistakes, case.args, case.kwargs, expected, got)
            raise GradingFailure(f"{case.call}: {problem}{note}")


def check_saliency(student_fn: Any, *, seed: int = 1300, name: str = "saliency") -> None:
    """Grade ``saliency(model, x, target)`` -> (N, H, W) against
    :func:`convkit.explain.saliency` on 8 cases: the three :func:`classifier_nets` and a
    network handed over in training mode (see the module docstring), x as numpy (float64,
    float32) and as a tensor, one target or one per image. Silent when all pass; raises
    GradingFailure (naming a known mistake, :data:`SALIENCY_MISTAKES`) or ShortcutError."""
    __tracebackhide__ = True
    _check(student_fn, name, _saliency_cases(seed), SALIENCY_MISTAKES)


def check_grad_cam(student_fn: Any, *, seed: int = 1310, name: str = "grad_cam") -> None:
    """Grade ``grad_cam(model, layer, x, target)`` -> (N, H, W) against
    :func:`convkit.explain.grad_cam` (upsampled, its default) on 9 cases: layers whose
    output is H x W, H/2 x W/2 and H/4 x W/4 (a convolution, a ReLU, a max pool), and the
    network handed over in training mode. Silent when all pass; raises GradingFailure
    (naming a known mistake, :data:`GRAD_CAM_MISTAKES`) or ShortcutError."""
    __tracebackhide__ = True
    _check(student_fn, name, _grad_cam_cases(seed), GRAD_CAM_MISTAKES)


def check_occlusion_map(student_fn: Any, *, seed: int = 1320, name: str = "occlusion_map") -> None:
    """Grade ``occlusion_map(model, x, target, window, stride, fill=0.0)`` -> (N, H, W)
    against :func:`convkit.explain.occlusion_map` on 8 cases: windows (square and not)
    that tile the image once or overlap, fills 0, 0.5, -1 and 0.25 (or left out), one case
    whose last row and column no window covers (NaN there, compared position by
    position), and the network handed over in training mode. Silent when all pass; raises
    GradingFailure (naming a known mistake, :data:`OCCLUSION_MISTAKES`) or ShortcutError."""
    __tracebackhide__ = True
    _check(student_fn, name, _occlusion_cases(seed), OCCLUSION_MISTAKES)


def check_effective_receptive_field(
    student_fn: Any, *, seed: int = 1330, name: str = "effective_receptive_field"
) -> None:
    """Grade ``effective_receptive_field(model, x)`` -> (H, W) against
    :func:`convkit.explain.effective_receptive_field` on 7 cases: the three
    :func:`feature_nets` (an even output size, batch norm and max pooling, a non-square
    kernel and image) and the convolutional part of the network handed over in training
    mode, 1 to 4 images. Silent when all pass; raises GradingFailure (naming a known
    mistake, :data:`ERF_MISTAKES`) or ShortcutError."""
    __tracebackhide__ = True
    _check(student_fn, name, _erf_cases(seed), ERF_MISTAKES)
