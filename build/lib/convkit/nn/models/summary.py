"""Parameter counts and a layer-by-layer shape trace of any torch model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from convkit.nn.torch_state import eval_mode

__all__ = ["LayerRow", "count_params", "format_summary", "layer_summary", "weight_depth"]


class LayerRow(NamedTuple):
    """One leaf layer of a model in a :func:`layer_summary`.

    Attributes:
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
    """The number of scalar parameters of ``model``.

    Args:
        model: any ``torch.nn.Module``.
        trainable_only: count only parameters with ``requires_grad=True``.

    Returns:
        The sum of ``p.numel()`` over the (trainable) parameters; shared
        parameters are counted once.
    """
    _check_module("count_params", model)
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def layer_summary(model: nn.Module, input_shape: Sequence[int]) -> list[LayerRow]:
    """Run one zero input through ``model`` and record every leaf layer's output shape.

    Args:
        model: a ``torch.nn.Module``; its leaf modules (those without children)
            are traced in the order they run.
        input_shape: the shape of ONE input without the batch axis, e.g. ``(1, 28, 28)``.

    Returns:
        One :class:`LayerRow` per leaf-module call, output shapes with a batch
        axis of 1. The model's train/eval mode is restored afterwards.

    Raises:
        TypeError: ``model`` is not a Module, or ``input_shape`` is not a sequence of ints.
        ValueError: a non-positive size, or the model rejects an input of that shape.
    """
    _check_module("layer_summary", model)
    if isinstance(input_shape, int | str) or not all(
        isinstance(s, int) and not isinstance(s, bool) for s in input_shape
    ):
        raise TypeError(
            f"layer_summary: input_shape must be a sequence of ints like (1, 28, 28), "
            f"got {input_shape!r}"
        )
    shape = tuple(input_shape)
    if not shape or any(s < 1 for s in shape):
        raise ValueError(f"layer_summary: input_shape sizes must be positive, got {shape}")

    rows: list[LayerRow] = []

    def record(name: str):
        def hook(module: nn.Module, _inputs: object, output: object) -> None:
            out = output[0] if isinstance(output, tuple | list) else output
            out_shape = tuple(out.shape) if isinstance(out, torch.Tensor) else ()
            params = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append(LayerRow(name, type(module).__name__, out_shape, params))

        return hook

    handles = [
        module.register_forward_hook(record(name))
        for name, module in model.named_modules()
        if name and not any(True for _ in module.children())
    ]
    try:
        param = next(model.parameters(), None)
        dtype = param.dtype if param is not None else torch.float32
        with eval_mode(model), torch.no_grad():
            model(torch.zeros((1, *shape), dtype=dtype))
    except RuntimeError as exc:
        raise ValueError(
            f"layer_summary: the model does not accept an input of shape {(1, *shape)}: {exc}"
        ) from exc
    finally:
        for handle in handles:
            handle.remove()
    return rows


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
    """Depth as papers count it: the layers with weights (Conv2d, Linear) on the longest
    path from input to output of ``model``'s traced graph (branches side by side count
    once). Works on the meta device. Example: LeNet-5 5, VGG-16 16, ResNet-50 50.
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
