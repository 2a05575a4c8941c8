"""Parameter counts, a layer-by-layer shape trace and the cost of every layer of a torch model.

- :func:`layer_summary`: every leaf layer's output shape and parameters;
- :func:`layer_costs`: the same with each layer's multiply-adds and the numbers it
  outputs (its activation memory, in values) for one input (chapter 12).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from convkit.nn.torch_state import eval_mode

__all__ = [
    "LayerCost",
    "LayerRow",
    "count_params",
    "format_summary",
    "layer_costs",
    "layer_summary",
    "weight_depth",
]


class LayerRow(NamedTuple):
    """One leaf layer of a model in a :func:`layer_summary`.

    name: the dotted module name, e.g. ``"conv1"`` or ``"features.0"``.
    kind: the class name, e.g. ``"Conv2d"``.
    output_shape: the layer's output shape for one input, batch axis included
    (``(1, C, H, W)``).
    params: the number of parameters the layer owns (trainable or not).
    """

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int


def _check_module(func: str, model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{func}: model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def count_params(model: nn.Module, trainable_only: bool = True) -> int:
    """The number of scalar parameters of ``model`` (any ``torch.nn.Module``).

    -> int: the sum of ``p.numel()`` over the (trainable) parameters; shared parameters
    are counted once.

    trainable_only: count only parameters with ``requires_grad=True``.
    Raises TypeError if ``model`` is not a Module.
    """
    _check_module("count_params", model)
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


class _Call(NamedTuple):
    name: str
    module: nn.Module
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]


def _trace(func: str, model: nn.Module, input_shape: Sequence[int]) -> list[_Call]:
    """Every leaf-module call of one zero input (batch 1) through ``model``, in order."""
    _check_module(func, model)
    if isinstance(input_shape, int | str) or not all(
        isinstance(s, int) and not isinstance(s, bool) for s in input_shape
    ):
        raise TypeError(
            f"{func}: input_shape must be a sequence of ints like (1, 28, 28), "
            f"got {input_shape!r}"
        )
    shape = tuple(input_shape)
    if not shape or any(s < 1 for s in shape):
        raise ValueError(f"{func}: input_shape sizes must be positive, got {shape}")

    calls: list[_Call] = []

    def record(name: str):
        def hook(module: nn.Module, inputs: object, output: object) -> None:
            first = inputs[0] if isinstance(inputs, tuple | list) and inputs else inputs
            in_shape = tuple(first.shape) if isinstance(first, torch.Tensor) else ()
            out = output[0] if isinstance(output, tuple | list) else output
            out_shape = tuple(out.shape) if isinstance(out, torch.Tensor) else ()
            calls.append(_Call(name, module, in_shape, out_shape))

        return hook

    # the leaf modules (a model without children is its own only leaf)
    handles = [
        module.register_forward_hook(record(name or type(module).__name__))
        for name, module in model.named_modules()
        if not any(True for _ in module.children())
    ]
    try:
        param = next(model.parameters(), None)
        dtype = param.dtype if param is not None else torch.float32
        with eval_mode(model), torch.no_grad():
            model(torch.zeros((1, *shape), dtype=dtype))
    except RuntimeError as exc:
        raise ValueError(
            f"{func}: the model does not accept an input of shape {(1, *shape)}: {exc}"
        ) from exc
    finally:
        for handle in handles:
            handle.remove()
    return calls


def layer_summary(model: nn.Module, input_shape: Sequence[int]) -> list[LayerRow]:
    """Run one zero input through ``model`` and record every leaf layer's output shape.

    model: a ``torch.nn.Module``; its leaf modules (those without children; a model
    without children is its own leaf, named by its class) are traced in the order they
    run.
    input_shape: the shape of ONE input without the batch axis, e.g. ``(1, 28, 28)``.

    Returns one :class:`LayerRow` per leaf-module call, output shapes with a batch axis
    of 1. The model's train/eval mode is restored afterwards. Raises TypeError if
    ``model`` is not a Module or ``input_shape`` is not a sequence of ints, and
    ValueError for a non-positive size or when the model rejects an input of that shape.
    """
    return [
        LayerRow(c.name, type(c.module).__name__, c.output_shape,
                 sum(p.numel() for p in c.module.parameters(recurse=False)))
        for c in _trace("layer_summary", model, input_shape)
    ]  # fmt: skip


class LayerCost(NamedTuple):
    """One leaf layer's cost for one input in :func:`layer_costs`.

    output_shape: without the batch axis, e.g. ``(16, 14, 14)``; params: the parameters
    the layer owns; multiply_adds: its multiply-adds; activations: the numbers it outputs.
    """

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    multiply_adds: int
    activations: int


def _numel(shape: Sequence[int]) -> int:
    total = 1
    for s in shape:
        total *= s
    return total


def _multiply_adds(call: _Call) -> int:
    """A weighted layer's multiply-adds for one input (batch 1); 0 for other layers."""
    m = call.module
    if isinstance(m, nn.Conv1d | nn.Conv2d | nn.Conv3d):
        # every output value: a window over the C_in / groups channels of its group
        per_output = (m.in_channels // m.groups) * _numel(m.kernel_size)
        return _numel(call.output_shape) * per_output
    if isinstance(m, nn.ConvTranspose1d | nn.ConvTranspose2d | nn.ConvTranspose3d):
        # every input value scatters a kernel into C_out / groups channels
        per_input = (m.out_channels // m.groups) * _numel(m.kernel_size)
        return _numel(call.input_shape) * per_input
    if isinstance(m, nn.Linear):
        return _numel(call.output_shape) * m.in_features
    return 0


def layer_costs(model: nn.Module, input_shape: Sequence[int]) -> list[LayerCost]:
    """Every leaf layer of ``model`` with its output shape, parameters, multiply-adds and
    activations, for ONE input of ``input_shape`` (no batch axis, e.g. ``(3, 32, 32)``).

    -> one :class:`LayerCost` per leaf-module call, in the order they run.  Multiply-adds
    are those of the weighted layers, as papers count them: a convolution's
    ``C_out * H_out * W_out * (C_in / groups) * kh * kw``, a transposed convolution's
    ``C_in * H_in * W_in * (C_out / groups) * kh * kw``, a linear layer's
    ``out_features * in_features``; normalisation, pooling and activations count 0 (their
    few operations per value are not multiply-adds of weights).  Biases are not counted.
    ``activations`` is the number of values the layer outputs, the memory it holds for
    the backward pass.  Errors as :func:`layer_summary`.
    """
    return [
        LayerCost(c.name, type(c.module).__name__, c.output_shape[1:],
                  sum(p.numel() for p in c.module.parameters(recurse=False)),
                  _multiply_adds(c), _numel(c.output_shape[1:]))
        for c in _trace("layer_costs", model, input_shape)
    ]  # fmt: skip


def format_summary(rows: Sequence[LayerRow]) -> str:
    """A text table of a :func:`layer_summary`: layer, type, output shape, parameters.

    The batch axis is dropped from the shapes; the last line is the total
    parameter count.
    """
    header = ("layer", "type", "output shape", "params")
    body = [
        (
            r.name,
            r.kind,
            " x ".join(str(s) for s in r.output_shape[1:]) or "-",
            f"{r.params:,}",
        )
        for r in rows
    ]
    total = ("total", "", "", f"{sum(r.params for r in rows):,}")
    widths = [max(len(line[i]) for line in [header, *body, total]) for i in range(4)]

    def fmt(line: tuple[str, ...]) -> str:
        left = [line[i].ljust(widths[i]) for i in range(3)]
        return "  ".join([*left, line[3].rjust(widths[3])]).rstrip()

    rule = "-" * (sum(widths) + 6)
    return "\n".join([fmt(header), rule, *(fmt(line) for line in body), rule, fmt(total)])


def weight_depth(model: nn.Module) -> int:
    """Depth as papers count it: the weighted layers on the longest input-to-output path.

    The layers with weights (Conv2d, Linear) are counted along the longest path from
    input to output of ``model``'s traced graph (branches side by side count once).
    Works on the meta device. Example: LeNet-5 5, VGG-16 16, ResNet-50 50.
    """
    import torch.fx

    model = _check_module("weight_depth", model)
    graph = torch.fx.symbolic_trace(model)
    modules = dict(graph.named_modules())
    depth: dict[torch.fx.Node, int] = {}
    for node in graph.graph.nodes:
        before = max((depth[arg] for arg in node.all_input_nodes), default=0)
        weighted = node.op == "call_module" and isinstance(
            modules[node.target], nn.Conv2d | nn.Linear
        )
        depth[node] = before + int(weighted)
    return max(depth.values())
