"""Grading of training code (ch06): a student's training step, and a network within a budget.

- :func:`check_train_step` overfits a tiny batch with the student's ``train_step`` on
  the student's network. A correct step drives the loss to nearly zero in a few dozen
  steps; before that run, two probe steps with plain SGD (whose update is exactly
  ``-lr * gradient``) compare what the step did with the gradient of the mean
  cross-entropy, so a broken step fails with its likely cause named: no
  ``optimizer.step()``, gradients never cleared (``zero_grad``), softmax applied
  before the loss, ``nll_loss`` on raw scores, a summed instead of a mean loss, a step
  uphill.
- :func:`forward_cost` measures what one forward pass of a network costs: its
  trainable parameters, every stored number it reads (parameters, buffers, any other
  tensor it did not compute from its input) and its multiply-adds;
  :func:`check_budget` fails a network that exceeds a budget on them, or whose
  output does not depend on its input through torch.

The student's code runs under :func:`convkit.grading.no_shortcuts` with torch's
layers allowed. This module imports only torch, numpy and the grading package.
"""

from __future__ import annotations

import copy
import math

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import any, float, int, isinstance, len, max, min, sum, type, zip  # noqa: UP029
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from convkit.grading import _trusted as T
from convkit.grading._rules import TORCH_LAYERS
from convkit.grading.compare import require_callable, student_call
from convkit.grading.errors import GradingFailure
from convkit.grading.guard import no_shortcuts
from convkit.grading.modules import param_count

__all__ = ["ForwardCost", "check_budget", "check_train_step", "forward_cost"]

_PROBE_LR = 0.5  # large, so that float32 weights resolve the update precisely
_MATCH = 2e-3  # relative distance under which two update directions count as equal


# --------------------------------------------------------------------------- training step


def _student_model(build: Callable[[], nn.Module], name: str) -> nn.Module:
    with student_call(name, f"{name}()"), no_shortcuts(allow=(TORCH_LAYERS,)):
        model = build()
    if not isinstance(model, nn.Module):
        raise GradingFailure(f"{name}() returned {T._short_type(model)}, not a torch.nn.Module")
    if not any(p.requires_grad for p in model.parameters()):
        raise GradingFailure(f"{name}() returned a network without trainable parameters")
    return model


def _flat(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.detach().reshape(-1).double() for t in tensors])


def _gradient(model: nn.Module, loss_of: Callable[[torch.Tensor], torch.Tensor],
              images: torch.Tensor) -> torch.Tensor:
    """The gradient of ``loss_of(model(images))`` over all parameters, flattened."""
    params = [p for p in model.parameters() if p.requires_grad]
    with torch.enable_grad(), no_shortcuts(allow=(TORCH_LAYERS,)):
        loss = loss_of(model(images))
        grads = torch.autograd.grad(loss, params, allow_unused=True)
    pairs = zip(params, grads, strict=True)
    return _flat([torch.zeros_like(p) if g is None else g for p, g in pairs])


def _distance(a: torch.Tensor, b: torch.Tensor) -> float:
    scale = float(b.norm())
    return float((a - b).norm()) / scale if scale > 0 else float(a.norm())


def _call_step(step: Callable, model: nn.Module, optimizer: torch.optim.Optimizer,
               images: torch.Tensor, labels: torch.Tensor, call: str) -> float:
    """One call of the student's step under the guard; its loss as a float."""
    with student_call("train_step", call), no_shortcuts(allow=(TORCH_LAYERS,)):
        loss = step(model, optimizer, images.clone(), labels.clone())
    if isinstance(loss, torch.Tensor) and loss.numel() == 1:
        loss = loss.item()
    if isinstance(loss, bool) or not isinstance(loss, (int, float)):
        raise GradingFailure(
            f"{call} returned {T._short_type(loss)}; return the batch's loss as a float "
            "(loss.item())"
        )
    return float(loss)


def _diagnose(moved: torch.Tensor, grad: torch.Tensor, variants: dict[str, torch.Tensor],
              call: str) -> str | None:
    """What the probe step did wrong (None: it followed ``-lr * grad``)."""
    direction = moved / -_PROBE_LR
    if float(moved.abs().max()) == 0.0:
        return (f"{call} did not change any weight: call optimizer.step() after "
                "loss.backward(), and do not clear the gradients between the two")
    if _distance(direction, grad) < _MATCH:
        return None
    if _distance(direction, -grad) < _MATCH:
        return (f"{call} moved the weights up the gradient, making the loss larger: the "
                "optimizer must minimise the loss (no minus sign on it)")
    for cause, other in variants.items():
        if _distance(direction, other) < _MATCH:
            return f"{call} {cause}"
    return (f"{call} did not move the weights along the gradient of the mean cross-entropy "
            "between the network's scores and `labels` (a different loss, other labels, a "
            "changed batch, or an optimizer of its own instead of the one passed in?)")


def check_train_step(
    train_step: Any,
    build_model: Any,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    steps: int = 100,
    target: float = 0.01,
    lr: float = 1e-3,
    seed: int = 0,
) -> list[float]:
    """Overfit one tiny batch with the student's step; fail with the likely cause if it cannot.

    images: (B, C, H, W) float32, labels: (B,) int64 -> the losses the step returned, one
    per step, ending with the first below ``target``.

    ``train_step(model, optimizer, images, labels)`` must make one update of ``model``
    with ``optimizer`` on the mean cross-entropy of ``model(images)`` against ``labels``
    and return that loss (before the update) as a float. ``build_model()`` builds the
    student's network (seeded with ``seed`` first).

    Two probe steps run on a copy of the network with ``torch.optim.SGD(lr=0.5)``: each
    update must equal ``-0.5`` times the gradient of the mean cross-entropy, computed
    here at the weights before the step; the first returned loss must be the loss at
    the starting weights. Then the real run: ``torch.optim.Adam(lr=lr)`` and up to
    ``steps`` calls, which must bring the returned loss below ``target``, and the
    trained network must then classify every image of the batch correctly.

    Raises GradingFailure naming the likely mistake (see the module docstring).
    """
    __tracebackhide__ = True
    T.assert_numpy_intact()
    require_callable(train_step, "train_step")
    require_callable(build_model, "digit_cnn")
    images = images.detach().clone()
    labels = labels.detach().clone()
    torch.manual_seed(seed)
    model = _student_model(build_model, "digit_cnn")
    model.train()

    # Probe: two SGD steps on a copy, compared with the gradients computed here.
    probe = copy.deepcopy(model)
    optimizer = torch.optim.SGD(probe.parameters(), lr=_PROBE_LR)
    n = len(labels)

    def mean_ce(z: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(z, labels)

    variants = {
        "applies softmax to the scores before the loss: cross_entropy / CrossEntropyLoss "
        "apply it themselves, so give them the raw scores":
            lambda z: F.cross_entropy(torch.softmax(z, 1), labels),
        "uses nll_loss on the raw scores: nll_loss expects log-probabilities; use "
        "cross_entropy (or CrossEntropyLoss) on the scores":
            lambda z: F.nll_loss(z, labels),
        "sums the loss over the batch instead of averaging it: use the mean (the default "
        "reduction of cross_entropy / CrossEntropyLoss)":
            lambda z: F.cross_entropy(z, labels, reduction="sum"),
    }
    history = []
    for k in range(2):
        call = f"train_step (probe step {k + 1} of 2, SGD with lr={_PROBE_LR})"
        before = _flat(list(probe.parameters()))
        grad = _gradient(probe, mean_ce, images)
        others = {cause: _gradient(probe, fn, images) for cause, fn in variants.items()}
        with torch.no_grad():
            expected_loss = float(mean_ce(probe(images)))
        got_loss = _call_step(train_step, probe, optimizer, images, labels, call)
        moved = _flat(list(probe.parameters())) - before
        if k == 1 and _distance(moved / -_PROBE_LR, grad + history[0]) < _MATCH:
            raise GradingFailure(
                f"{call}: the update used this batch's gradient plus the previous step's: "
                "the gradients are never cleared, so they add up from step to step; call "
                "optimizer.zero_grad() before loss.backward()"
            )
        problem = _diagnose(moved, grad, others, call)
        if problem:
            raise GradingFailure(problem)
        if not math.isclose(got_loss, expected_loss, rel_tol=1e-3, abs_tol=1e-5):
            hint = (" (the summed loss: return the mean)"
                    if math.isclose(got_loss, n * expected_loss, rel_tol=1e-3) else "")
            raise GradingFailure(
                f"{call} returned the loss {got_loss:.5g}, but the mean cross-entropy of the "
                f"batch before the update is {expected_loss:.5g}{hint}"
            )
        history.append(grad)

    # The real run: Adam, up to `steps` steps, on the untouched network.
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses: list[float] = []
    for k in range(steps):
        call = f"train_step (step {k + 1} of at most {steps}, Adam with lr={lr:g})"
        losses.append(_call_step(train_step, model, optimizer, images, labels, call))
        if not math.isfinite(losses[-1]):
            raise GradingFailure(f"{call}: the loss became {losses[-1]}")
        if losses[-1] < target:
            break
    else:
        raise GradingFailure(
            f"after {steps} steps on the same {n} images the loss is still "
            f"{losses[-1]:.4f} (it started at {losses[0]:.4f}; a working network and step "
            f"get below {target} in well under {steps}): check the network and the step"
        )
    model.eval()
    with torch.no_grad(), no_shortcuts(allow=(TORCH_LAYERS,)):
        right = int((model(images).argmax(1) == labels).sum())
    if right != n:
        raise GradingFailure(
            f"the loss fell below {target}, yet the network classifies only {right} of the "
            f"{n} images it trained on: the loss is not computed against these labels"
        )
    return losses


# --------------------------------------------------------------------------- budget


class ForwardCost(NamedTuple):
    """What one forward pass of a network costs (see :func:`forward_cost`)."""

    parameters: int  # trainable parameters
    stored: int  # numbers the forward pass reads that it did not compute from its input
    multiply_adds: int  # per image, in convolutions and matrix products


class _CostMode(TorchDispatchMode):
    """Counts, for the operations run under it, the elements of every tensor storage read
    that no earlier operation produced (and that is not the input: parameters, buffers,
    constants), and the FLOPs of the operations torch's FLOP counter knows (convolutions,
    matrix products)."""

    def __init__(self, inputs: torch.Tensor) -> None:
        super().__init__()
        self.made = {inputs.untyped_storage().data_ptr()}
        self.read: dict[int, int] = {}
        self.flops = 0

    def __torch_dispatch__(self, func, types_, args=(), kwargs=None):
        kwargs = kwargs or {}
        for arg in torch.utils._pytree.tree_leaves((args, kwargs)):
            if isinstance(arg, torch.Tensor):
                storage = arg.untyped_storage()
                ptr = storage.data_ptr()
                if ptr not in self.made and ptr not in self.read:
                    self.read[ptr] = max(storage.nbytes() // arg.element_size(), arg.numel())
        out = func(*args, **kwargs)
        count = flop_registry.get(func.overloadpacket)
        if count is not None:
            self.flops += int(count(*args, **kwargs, out_val=out))
        for res in torch.utils._pytree.tree_leaves(out):
            if isinstance(res, torch.Tensor):
                ptr = res.untyped_storage().data_ptr()
                if ptr not in self.read:
                    self.made.add(ptr)
        return out


def forward_cost(
    model: nn.Module, input_shape: Sequence[int] = (1, 1, 28, 28), *, guarded: bool = False
) -> ForwardCost:
    """Parameters, stored numbers read and multiply-adds per image of one forward pass.

    model: (N, C, H, W) -> anything; input_shape: the (N, C, H, W) of a zero input.

    Runs the network once in eval mode without gradients (its mode restored). A stored
    number is an element of any tensor the pass reads but did not compute from its input:
    weights, biases, buffers such as batch-norm statistics, and any tensor kept elsewhere;
    a slice of a larger tensor counts the whole tensor. Multiply-adds are half the FLOPs
    torch's FLOP counter formulas give (convolutions and matrix products), divided by N.
    ``guarded``: run the forward pass (only it) under :func:`convkit.grading.no_shortcuts`
    with torch's layers allowed, as for a student's network. TypeError when ``model`` is
    not a torch module, ValueError for an ``input_shape`` that is not (N, C, H, W).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"forward_cost: model must be a torch.nn.Module, got {type(model).__name__}"
        )
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 4 or min(shape) < 1:
        raise ValueError(f"forward_cost: input_shape must be (N, C, H, W), got {input_shape!r}")
    first = next(iter(model.parameters()), None)
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    x = torch.zeros(shape, dtype=dtype)
    was_training = model.training
    model.eval()
    try:
        # The counting mode goes on torch's mode stack first: inside the guard, pushing
        # a mode counts as switching its checks off. The counting mode's own dispatch runs
        # torch's FLOP formulas, which the guard refuses to graded code: it is exempt (the
        # guard's mode, on top, still sees every operator); the forward pass is not.
        with torch.no_grad(), _CostMode(x) as seen:
            if guarded:
                with no_shortcuts(allow=(TORCH_LAYERS, _CostMode.__torch_dispatch__)):
                    model(x)
            else:
                model(x)
    finally:
        model.train(was_training)
    return ForwardCost(param_count(model), sum(seen.read.values()), seen.flops // 2 // shape[0])


def check_budget(
    model: nn.Module,
    *,
    max_numbers: int,
    max_multiply_adds: int,
    input_shape: Sequence[int] = (1, 1, 28, 28),
    name: str = "the network",
) -> ForwardCost:
    """Fail unless ``model`` keeps within the budget; its :func:`forward_cost` otherwise.

    model: (N, C, H, W) -> (N, K) scores; input_shape: the (N, C, H, W) checked.

    Both the trainable parameters and the stored numbers the forward pass reads must be
    at most ``max_numbers``, the multiply-adds per image at most ``max_multiply_adds``,
    and the output must depend on the input through torch operations (a gradient
    reaches the input). The forward passes run under the guard.
    """
    __tracebackhide__ = True
    cost = forward_cost(model, input_shape, guarded=True)
    if cost.parameters > max_numbers:
        raise GradingFailure(
            f"{name} has {cost.parameters:,} trainable parameters, more than the budget of "
            f"{max_numbers:,}: shrink the layer that holds most of them (often the first "
            "dense layer, whose size is the flattened maps times its units)"
        )
    if cost.stored > max_numbers:
        raise GradingFailure(
            f"{name} reads {cost.stored:,} stored numbers in one forward pass (parameters, "
            f"buffers and any other tensor it keeps), more than the budget of {max_numbers:,}"
        )
    if cost.multiply_adds > max_multiply_adds:
        raise GradingFailure(
            f"{name} needs {cost.multiply_adds:,} multiply-adds per image, more than the "
            f"budget of {max_multiply_adds:,}: use fewer channels before the first pooling, "
            "or pool earlier"
        )
    x = torch.rand(tuple(input_shape), generator=torch.Generator().manual_seed(0))
    x.requires_grad_(True)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad(), no_shortcuts(allow=(TORCH_LAYERS,)):
            out = model(x)
            reach = (torch.autograd.grad(out.sum(), x, allow_unused=True)[0]
                     if isinstance(out, torch.Tensor) and out.requires_grad else None)
    finally:
        model.train(was_training)
    if reach is None or float(reach.abs().sum()) == 0.0:
        raise GradingFailure(
            f"{name}'s output does not depend on its input through torch operations: "
            "compute the scores from the image with torch layers"
        )
    return cost
