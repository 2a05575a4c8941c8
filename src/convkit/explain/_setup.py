"""What every attribution method of ``convkit.explain`` does first: check the model, the
images and the targets, and lend the model out in eval mode with frozen parameters.

Private to ``convkit.explain``; every message starts with the public function's name.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

__all__ = [
    "Target",
    "as_images",
    "as_targets",
    "check_submodule",
    "class_scores",
    "frozen_eval",
    "model_dtype_and_device",
    "recorded_input",
    "recorded_output",
    "single_recording",
    "target_scores",
]

# One class index for every image, or one per image.
Target = int | Sequence[int] | np.ndarray | torch.Tensor


@contextmanager
def frozen_eval(func: str, model: object) -> Iterator[None]:
    """Run the block with ``model`` in eval mode, its parameters frozen and autograd on.

    Eval mode makes dropout and batch norm deterministic (batch norm uses its running
    statistics and does not update them). Freezing the parameters (``requires_grad``
    False) means no gradient ever reaches them. Afterwards every submodule gets back its
    own train/eval flag and every parameter its own ``requires_grad`` flag, even when the
    block raises. TypeError unless ``model`` is a ``torch.nn.Module``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"{func}: model must be a torch.nn.Module, got {type(model).__name__}")
    modes = [(module, module.training) for module in model.modules()]
    flags = [(parameter, parameter.requires_grad) for parameter in model.parameters()]
    model.eval()
    for parameter, _ in flags:
        parameter.requires_grad_(False)
    try:
        with torch.enable_grad():  # works inside the caller's torch.no_grad() too
            yield
    finally:
        for parameter, flag in flags:
            parameter.requires_grad_(flag)
        for module, mode in modes:
            module.training = mode


def model_dtype_and_device(model: nn.Module) -> tuple[torch.dtype, torch.device]:
    """The dtype and device of the model's first floating parameter or buffer
    (float32 on the CPU for a model without any)."""
    for tensor in [*model.parameters(), *model.buffers()]:
        if tensor.is_floating_point():
            return tensor.dtype, tensor.device
    return torch.float32, torch.device("cpu")


def as_images(func: str, x: object, model: nn.Module) -> torch.Tensor:
    """``x`` as a new tensor (N, C, H, W) of the model's dtype, on its device, no grad.

    x: (N, C, H, W) float tensor or numpy array -> a copy (the caller's ``x`` is never
    changed). TypeError for anything but floats; ValueError for another number of axes
    or an empty batch.
    """
    if isinstance(x, torch.Tensor):
        images = x.detach().clone()
    elif isinstance(x, np.ndarray):
        if x.dtype.kind != "f":
            raise TypeError(f"{func}: x must hold floats, got dtype {x.dtype}")
        images = torch.tensor(x)
    else:
        raise TypeError(f"{func}: x must be a torch tensor or a numpy array, "
                        f"got {type(x).__name__}")
    if not images.is_floating_point():
        raise TypeError(f"{func}: x must hold floats, got dtype {images.dtype}")
    if images.ndim != 4:
        raise ValueError(f"{func}: x must be 4-D (N, C, H, W), got shape {tuple(images.shape)}")
    if images.shape[0] == 0:
        raise ValueError(f"{func}: x must hold at least one image, got shape "
                         f"{tuple(images.shape)}")
    dtype, device = model_dtype_and_device(model)
    return images.to(dtype=dtype, device=device)


def as_targets(func: str, target: object, n: int) -> torch.Tensor:
    """``target`` as an int64 tensor (n,): one int for every image, or one int per image.

    target: an int, or a sequence / numpy array / tensor of ``n`` ints -> (n,). TypeError
    for floats, bools and strings; ValueError for another length. The range is checked
    by :func:`target_scores` once the number of classes is known.
    """
    if isinstance(target, numbers.Integral) and not isinstance(target, bool | np.bool_):
        return torch.full((n,), int(target), dtype=torch.int64)
    if isinstance(target, str | bytes):
        raise TypeError(f"{func}: target must be an int or a sequence of {n} ints, "
                        f"got {target!r}")
    if isinstance(target, torch.Tensor):
        values = target.detach().cpu()
    else:
        try:
            values = torch.as_tensor(np.asarray(target))
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"{func}: target must be an int or a sequence of {n} ints, "
                            f"got {target!r}") from err
    if values.is_floating_point() or values.is_complex() or values.dtype == torch.bool:
        raise TypeError(f"{func}: target must hold ints, got dtype {values.dtype}")
    if values.ndim == 0:
        return torch.full((n,), int(values), dtype=torch.int64)
    if tuple(values.shape) != (n,):
        raise ValueError(f"{func}: target must be one int or {n} ints (one per image), "
                         f"got shape {tuple(values.shape)}")
    return values.to(torch.int64)


def class_scores(func: str, model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The model's output for ``images``, checked to be class scores.

    images: (N, C, H, W) -> (N, classes). ValueError for any other output shape.
    """
    scores = model(images)
    if not isinstance(scores, torch.Tensor) or scores.ndim != 2 \
            or scores.shape[0] != images.shape[0]:
        shape = tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__
        raise ValueError(f"{func}: model must return class scores of shape (N, classes) "
                         f"= ({images.shape[0]}, classes), got {shape}")
    return scores


def target_scores(func: str, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Each image's score for its target class: scores (N, classes), targets (N,) -> (N,).

    ValueError when a target is not a class index (0 <= target < classes).
    """
    classes = scores.shape[1]
    if targets.min() < 0 or targets.max() >= classes:
        raise ValueError(f"{func}: target must be a class index from 0 to {classes - 1} "
                         f"(the model has {classes} classes), got {targets.tolist()}")
    return scores.gather(1, targets.to(scores.device)[:, None])[:, 0]


def check_submodule(func: str, name: str, model: nn.Module, module: object) -> None:
    """TypeError unless ``module`` is a torch module, ValueError unless it is inside ``model``."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"{func}: {name} must be a torch.nn.Module (a layer of model), "
                        f"got {type(module).__name__}")
    if not any(candidate is module for candidate in model.modules()):
        raise ValueError(f"{func}: {name} ({type(module).__name__}) is not a module inside "
                         f"model; pass one of model.modules(), e.g. model[3] or model.features")


@contextmanager
def recorded_output(module: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Record every output of ``module`` during the block (a forward hook), in a list.

    The rest of the network receives a copy of each output, so that an in-place operation
    that follows (``ReLU(inplace=True)``) changes that copy and not the recorded tensor;
    gradients still flow back through the copy into the recorded tensor.
    """
    outputs: list[torch.Tensor] = []

    def hook(_module: nn.Module, _inputs: tuple, output: object) -> object:
        outputs.append(output)
        return output.clone() if isinstance(output, torch.Tensor) else None

    handle = module.register_forward_hook(hook)
    try:
        yield outputs
    finally:
        handle.remove()


@contextmanager
def recorded_input(module: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Record the first input of every call of ``module`` during the block, in a list."""
    inputs: list[torch.Tensor] = []

    def hook(_module: nn.Module, args: tuple) -> None:
        inputs.append(args[0] if args else None)

    handle = module.register_forward_pre_hook(hook)
    try:
        yield inputs
    finally:
        handle.remove()


def single_recording(func: str, name: str, recorded: list, what: str) -> torch.Tensor:
    """The one tensor a hook recorded in one forward pass (``what``: "output", "input").

    ValueError when the module did not run, ran more than once (a shared module) or gave
    something that is not a tensor.
    """
    if len(recorded) != 1:
        ran = "did not run" if not recorded else f"ran {len(recorded)} times"
        raise ValueError(f"{func}: {name} {ran} in model's forward pass; it must run "
                         f"exactly once")
    value = recorded[0]
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{func}: the {what} of {name} must be a tensor, "
                         f"got {type(value).__name__}")
    return value
