"""Grading a network's architecture from what its forward pass runs (ch10): is it a deep,
plain (shortcut-free), batch-normalised chain?

:func:`check_plain_network` runs the student's network on a small batch, in eval mode
without gradients and in training mode with them (on a copy, so no statistic of the
network itself moves), under a torch dispatch mode that follows every tensor computed
from the image through every operator torch executes. Nothing is read from the
network's modules or names, so a layer kept in a list, a functional call, a reused
layer or a custom ``forward`` are judged by what they compute:

- a **weight layer** is a convolution or a matrix product with one of the network's
  parameters of two or more axes; the layers on the way from the image to the scores
  are counted, each weight once (a layer applied twice counts once);
- a **batch norm** is torch's batch-normalisation operator; every convolution's output
  must pass one before it reaches the next weight layer;
- **plain** means that no operator combines two different tensors computed from the
  image: a residual addition, a concatenation of branches or a gate multiplying two
  of them is a shortcut.

:func:`plain_network_summary` reports the same counts without judging them. The forward
passes run under :func:`convkit.grading.no_shortcuts` with torch's layers allowed.
"""

from __future__ import annotations

import copy
import re

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import (  # noqa: UP029
    Exception,
    bool,
    frozenset,
    hasattr,
    int,
    isinstance,
    len,
    max,
    str,
    tuple,
    type,
)
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from convkit.grading import _trusted as T
from convkit.grading._rules import TORCH_LAYERS
from convkit.grading.errors import GradingFailure
from convkit.grading.guard import no_shortcuts

__all__ = ["PlainNetwork", "check_plain_network", "plain_network_summary"]

_CONVOLUTION = re.compile(r"conv(?!ert)")
_MATRIX_PRODUCT = re.compile(r"^(addmm|mm|bmm|baddbmm|matmul|linear|addmv|mv|dot|einsum)$")
_BATCH_NORM = re.compile(r"batch_norm")
# operators that read only the shape of their input (torch.zeros_like(x), x.new_ones(...)):
# what they make is not computed from the image
_SHAPE_ONLY = re.compile(r"(_like$|^new_|^(empty|zeros|ones|full|rand|randn|randint)$)")


class PlainNetwork(NamedTuple):
    """What one forward pass of a network showed (see :func:`plain_network_summary`).

    weight_layers: distinct weights of convolutions and matrix products on the way from
    the image to the scores; convolutions: how many of them are convolutions;
    batch_norms: batch-norm operations on that way; shortcuts: the operators that
    combined two tensors computed from the image (empty for a plain network);
    unnormalised: the convolutions (numbered from the image, 1 first) whose output
    reached the next weight layer without a batch norm.
    """

    weight_layers: int
    convolutions: int
    batch_norms: int
    shortcuts: tuple[str, ...]
    unnormalised: tuple[int, ...]


class _Path(NamedTuple):
    """What lies between the image and one tensor computed from it."""

    weights: frozenset[int]  # storages of the weights applied on the way
    convolutions: frozenset[int]
    batch_norms: int
    pending: int  # the number of the last convolution not yet batch-normalised, or 0


def _ptr(tensor: torch.Tensor) -> int:
    return tensor.untyped_storage().data_ptr()


class _Follow(TorchDispatchMode):
    """Follows every tensor computed from the image (by its storage) through the operators."""

    def __init__(self, image: torch.Tensor, model: nn.Module) -> None:
        super().__init__()
        self.paths = {_ptr(image): _Path(frozenset(), frozenset(), 0, 0)}
        self.weights = {_ptr(p) for p in model.parameters() if p.dim() >= 2}
        self.shortcuts: list[str] = []
        self.unnormalised: list[int] = []

    def __torch_dispatch__(self, func, types_, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = str(func.name()) if hasattr(func, "name") else str(func)
        base = name.split("::")[-1].split(".")[0]
        tensors = [t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
        inputs: dict[int, _Path] = {}
        for tensor in tensors:
            ptr = _ptr(tensor)
            if ptr in self.paths:
                inputs[ptr] = self.paths[ptr]
        out = func(*args, **kwargs)
        if not inputs or _SHAPE_ONLY.search(base):
            # not computed from the image, even where the allocator reuses the memory of a
            # tensor that was
            for result in tree_leaves(out):
                if isinstance(result, torch.Tensor):
                    self.paths.pop(_ptr(result), None)
            return out
        if len(inputs) > 1:
            self.shortcuts.append(name)
        paths = list(inputs.values())
        weights = frozenset().union(*(p.weights for p in paths))
        convolutions = frozenset().union(*(p.convolutions for p in paths))
        batch_norms = max(p.batch_norms for p in paths)
        pending = max(p.pending for p in paths)
        applied = {_ptr(t) for t in tensors} & self.weights
        convolution = bool(_CONVOLUTION.search(base))
        if applied and (convolution or _MATRIX_PRODUCT.match(base)):
            if pending:
                self.unnormalised.append(pending)
            weights = weights | applied
            if convolution:
                convolutions = convolutions | applied
            pending = len(convolutions) if convolution else 0
        elif _BATCH_NORM.search(base):
            batch_norms, pending = batch_norms + 1, 0
        path = _Path(weights, convolutions, batch_norms, pending)
        for result in tree_leaves(out):
            if isinstance(result, torch.Tensor):
                self.paths[_ptr(result)] = path
        return out


def _follow(model: nn.Module, image: torch.Tensor, train: bool, name: str) -> PlainNetwork:
    """One forward pass of ``model`` (train or eval mode) under the guard, followed."""
    model.train(train)
    with _Follow(image, model) as seen, torch.set_grad_enabled(train):
        with no_shortcuts(allow=(TORCH_LAYERS,)):
            out = model(image)
        if not isinstance(out, torch.Tensor):
            raise GradingFailure(
                f"{name}'s forward pass returned {T._short_type(out)}, not a tensor of scores"
            )
    path = seen.paths.get(_ptr(out))
    if path is None:
        raise GradingFailure(
            f"{name}'s scores do not depend on the image through torch operations: compute "
            "them from the input with torch layers"
        )
    return PlainNetwork(
        len(path.weights),
        len(path.convolutions),
        path.batch_norms,
        tuple(seen.shortcuts),
        tuple(seen.unnormalised),
    )


def plain_network_summary(
    model: nn.Module, input_shape: Sequence[int] = (4, 1, 28, 28), *, train: bool = False
) -> PlainNetwork:
    """The weight layers, convolutions, batch norms and shortcuts of one forward pass.

    model: (N, C, H, W) -> (N, K) scores; input_shape: the (N, C, H, W) of the random
    input it is run on (N >= 2 for training mode).

    Runs a deep copy of ``model`` (the network itself is left as it was) without
    gradients in eval mode, or with them in training mode (``train``), under the guard
    with torch's layers allowed. TypeError when ``model`` is not a torch module;
    GradingFailure when the forward pass fails or its output does not come from the
    input.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {T._short_type(model)}")
    shape = tuple(int(s) for s in input_shape)
    image = torch.rand(shape, generator=torch.Generator().manual_seed(0))
    try:
        clone = copy.deepcopy(model)
    except Exception as exc:
        raise GradingFailure(
            f"the network could not be copied ({type(exc).__name__}: {exc})"
        ) from exc
    return _follow(clone, image, train, "the network")


def check_plain_network(
    model: nn.Module,
    *,
    min_weight_layers: int = 20,
    min_convolutions: int = 18,
    input_shape: Sequence[int] = (4, 1, 28, 28),
    name: str = "the network",
) -> PlainNetwork:
    """Fail unless ``model`` is a deep, plain, batch-normalised chain; its summary otherwise.

    model: (N, C, H, W) -> (N, K) scores; input_shape: the (N, C, H, W) checked.

    In both eval mode (no gradients) and training mode (with them) the forward pass of
    a copy of ``model`` must: have at least ``min_weight_layers`` weight layers on the
    way from the image to the scores, ``min_convolutions`` of them convolutions; put a
    batch norm between every convolution and the next weight layer; combine no two
    tensors computed from the image (no shortcut). Returns the eval-mode summary.
    Raises GradingFailure naming the first problem (see the module docstring).
    """
    __tracebackhide__ = True
    if not isinstance(model, nn.Module):
        raise GradingFailure(f"{name} is {T._short_type(model)}, not a torch.nn.Module")
    summary = None
    for train in (False, True):
        mode = "training" if train else "eval"
        try:
            seen = plain_network_summary(model, input_shape, train=train)
        except GradingFailure as failure:  # a ShortcutError stays one
            raise type(failure)(f"{name} in {mode} mode: {failure}") from None
        except Exception as exc:
            raise GradingFailure(
                f"{name}'s forward pass in {mode} mode on an input of shape "
                f"{tuple(input_shape)} raised {type(exc).__name__}: {exc}"
            ) from exc
        if seen.shortcuts:
            raise GradingFailure(
                f"{name} combines two tensors computed from the image ({seen.shortcuts[0]}, in "
                f"{mode} mode): a shortcut, a residual addition or a merge of branches. The "
                "exercise asks for a plain chain, each layer feeding only the next."
            )
        if seen.unnormalised:
            k = seen.unnormalised[0]
            raise GradingFailure(
                f"in {name}, convolution {k} (counting from the image) reaches the next weight "
                f"layer without a batch norm in between ({mode} mode): put nn.BatchNorm2d "
                "after every convolution"
            )
        if seen.weight_layers < min_weight_layers:
            raise GradingFailure(
                f"{name} has {seen.weight_layers} weight layers (convolutions and dense "
                f"layers, each weight counted once) on the way from the image to the scores; "
                f"the exercise asks for at least {min_weight_layers}"
            )
        if seen.convolutions < min_convolutions:
            raise GradingFailure(
                f"{name} has {seen.convolutions} convolutions on the way from the image to the "
                f"scores; the exercise asks for at least {min_convolutions} (a ConvNet, not a "
                "deep stack of dense layers)"
            )
        summary = summary or seen
    return summary
