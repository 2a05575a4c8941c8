"""Grading of exercises that build a network (ch08): the student's ``nn.Module`` against
convkit's, on parameter counts, output shapes and outputs with shared weights.

``check_module(student_build, reference_build, cases, what=...)`` builds both modules
for each case (constructor arguments plus an input shape) and checks one aspect:

- ``"params"``: the same number of trainable parameters;
- ``"shapes"``: the same output shape for a random input;
- ``"outputs"``: the same ``state_dict`` names and shapes, and -- after convkit's
  randomised weights (batch-norm statistics included) are loaded into the student's
  module -- the same outputs, in eval mode and, with ``train=True``, in train mode.

The student's constructor and forward pass run under
:func:`convkit.grading.no_shortcuts` with ``allow=(TORCH_LAYERS,)``: torch's layers
are allowed, convkit's code is refused, so a module that is, wraps or subclasses
convkit's gets no credit.  Modules built before the call (a global reused) are
refused too.  Import this module before student code runs (the notebook's first
cell): it records torch's layer functions then, and a notebook that replaces one of
them (so that both networks would agree on anything) fails every check.
"""

from __future__ import annotations

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import getattr, isinstance, len, str, type  # noqa: UP029
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from convkit.grading import _trusted as T
from convkit.grading._rules import TORCH_LAYERS
from convkit.grading.cases import _int
from convkit.grading.compare import (
    check_reference,
    compare_arrays,
    describe_call,
    require_callable,
    require_cases,
    student_call,
)
from convkit.grading.errors import GradingFailure, ShortcutError
from convkit.grading.guard import no_shortcuts

# (ctor args, ctor kwargs, input shape): one module to build and one input to feed it.
ModuleCase = tuple[tuple[Any, ...], dict[str, Any], tuple[int, ...]]
WHAT = ("params", "shapes", "outputs")

# torch functions both networks rely on, as they were when grading was imported.
_WATCHED_TORCH = (
    (nn.Module, "__call__"), (nn.Module, "_call_impl"), (nn.Module, "load_state_dict"),
    (nn.Module, "state_dict"), (nn.Module, "parameters"), (nn.Module, "modules"),
    (nn.Module, "eval"), (nn.Module, "train"), (nn.Module, "double"),
    (nn.Conv2d, "forward"), (nn.Conv2d, "_conv_forward"), (nn.Linear, "forward"),
    (nn.BatchNorm2d, "forward"), (nn.ReLU, "forward"), (nn.MaxPool2d, "forward"),
    (nn.Sequential, "forward"), (nn.Identity, "forward"), (nn.Flatten, "forward"),
    (F, "conv2d"), (F, "linear"), (F, "batch_norm"), (F, "relu"), (F, "max_pool2d"),
    (torch, "conv2d"), (torch, "batch_norm"), (torch, "relu"), (torch.Tensor, "__add__"),
    (torch.Tensor, "numpy"), (torch.Tensor, "detach"), (torch, "randn"),
)
_TORCH_CAPTURED = T.capture_attributes(_WATCHED_TORCH)


def _assert_torch_intact() -> None:
    """Fail if a notebook replaced one of torch's layer functions after grading loaded."""
    replaced = T.replaced_attribute(_WATCHED_TORCH, _TORCH_CAPTURED)
    if replaced is not None:
        raise GradingFailure(
            f"{replaced} was replaced in this notebook, so no network can be graded. "
            "Remove the code that changes torch, restart the kernel and run all cells."
        )


def _convkit_classes(module: nn.Module) -> list[str]:
    """Names of classes from convkit among the layers of ``module`` (and their bases)."""
    found = []
    for sub in module.modules():
        for cls in type(sub).__mro__:
            if str(getattr(cls, "__module__", "")).startswith("convkit"):
                found.append(f"{cls.__module__}.{cls.__qualname__}")
    return found


def _build_student(build: Any, args: tuple, kwargs: dict, call: str, name: str) -> nn.Module:
    """Call the student's constructor under the guard; a clear failure for each problem."""
    with student_call(name, call), no_shortcuts(allow=(TORCH_LAYERS,)):
        module = build(*args, **kwargs)
    if not isinstance(module, nn.Module):
        raise GradingFailure(f"{call} returned {T._short_type(module)}, not a torch.nn.Module")
    borrowed = _convkit_classes(module)
    if borrowed:
        raise ShortcutError(
            f"{call}: not accepted: your network uses convkit's {borrowed[0]}; build it from "
            "torch.nn layers yourself (the tests compare it with that very class)."
        )
    return module


def _run(module: nn.Module, x: torch.Tensor, call: str, student: bool) -> np.ndarray:
    """``module(x)`` as a float64 ndarray; the student's under the guard."""
    if not student:
        with torch.no_grad():
            return module(x).detach().numpy()
    try:
        with no_shortcuts(allow=(TORCH_LAYERS,)), torch.no_grad():
            out = module(x)
            if not isinstance(out, torch.Tensor):
                raise GradingFailure(
                    f"the forward pass returned {T._short_type(out)}, not a tensor"
                )
            return T.plain_array(out.detach().numpy(), "the output")
    except (ShortcutError, GradingFailure) as exc:
        raise type(exc)(f"{call}: {exc}") from None
    except Exception as exc:
        raise GradingFailure(
            f"{call}: the forward pass raised {type(exc).__name__}: {exc}"
        ) from exc


def _randomise(module: nn.Module, gen: torch.Generator) -> None:
    """New random weights everywhere, and batch-norm statistics away from 0 / 1."""
    with torch.no_grad():
        for key, tensor in module.state_dict().items():
            if not tensor.is_floating_point():
                continue
            if key.endswith("running_var"):
                tensor.copy_(0.5 + torch.rand(tensor.shape, generator=gen, dtype=tensor.dtype))
            else:
                scale = 0.5 if key.endswith(("running_mean", "bias")) else 1.0
                fan_in = tensor[0].numel() if tensor.dim() > 1 else 1
                tensor.copy_(scale * torch.randn(tensor.shape, generator=gen, dtype=tensor.dtype)
                             / fan_in**0.5)


def _same_layout(reference: nn.Module, student: nn.Module, call: str) -> str | None:
    """None if both state_dicts have the same names and shapes, else what differs."""
    ref = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in student.state_dict().items()}
    missing = [k for k in ref if k not in got]
    extra = [k for k in got if k not in ref]
    if missing or extra:
        return (
            f"{call}: the layers are not named as the instructions ask: missing "
            f"{missing[:4] or 'nothing'}, unexpected {extra[:4] or 'nothing'} "
            f"(expected the names {list(ref)[:8]}{' ...' if len(ref) > 8 else ''})"
        )
    for key, shape in ref.items():
        if got[key] != shape:
            return f"{call}: {key} has shape {got[key]}, expected {shape}"
    return None


def _same_weights(first: nn.Module, second: nn.Module) -> bool:
    """Whether two freshly built networks start from identical parameter values (a
    genuine builder draws new random weights on every call)."""
    a, b = list(first.parameters()), list(second.parameters())
    if not a or len(a) != len(b):
        return False
    return all(
        x.shape == y.shape and torch.equal(x.detach(), y.detach())
        for x, y in zip(a, b, strict=True)
    )


def check_module(
    student_build: Any,
    reference_build: Callable[..., nn.Module],
    cases: Iterable[ModuleCase],
    *,
    what: str = "outputs",
    train: bool = False,
    seed: int = 0,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    name: str | None = None,
) -> None:
    """Check the student's network builder against convkit's, case by case.

    Silent when all pass; returns None so an nbgrader test cell shows no number.

    student_build: the student's function or class (anything; non-callables fail).
    reference_build: convkit's function or class with the same signature.
    cases: ``(args, kwargs, input_shape)``: constructor arguments and the shape of a
    random input ``(N, C, H, W)`` (see :func:`module_cases`).
    what: ``"params"``, ``"shapes"`` or ``"outputs"`` (see the module docstring;
    ValueError for anything else).
    train: with ``what="outputs"``, also compare in train mode (batch statistics).
    seed: seeds the random weights and inputs.
    rtol, atol: tolerance of the output comparison (float64 everywhere).
    name: the name used in messages (default: the reference's ``__name__``).

    Raises GradingFailure for the first case that differs, with what differs, and
    ShortcutError when the student's network is, runs or subclasses convkit's.
    """
    __tracebackhide__ = True
    if what not in WHAT:
        raise ValueError(f"what must be one of {WHAT}, got {what!r}")
    T.assert_numpy_intact()
    _assert_torch_intact()
    name = name or getattr(reference_build, "__name__", "network")
    require_callable(student_build, name, "a function or class")
    check_reference(reference_build, name)
    gen = torch.Generator().manual_seed(seed)
    checked = 0
    for args, kwargs, shape in cases:
        checked += 1
        call = describe_call(name, [], args, kwargs)
        reference = reference_build(*args, **kwargs)
        student = _build_student(student_build, args, kwargs, call, name)
        if what == "params":
            again = _build_student(student_build, args, kwargs, call, name)
            if {id(p) for p in student.parameters()} & {id(p) for p in again.parameters()}:
                raise GradingFailure(
                    f"{call}: two calls returned the same layers; build a new network on every call"
                )
            if _same_weights(student, again):
                raise GradingFailure(
                    f"{call}: two calls returned networks with the same starting weights, as "
                    "copies of one network built in advance would; build and initialise a new "
                    "network on every call (and do not reseed torch inside it)"
                )
            expected, got = param_count(reference), param_count(student)
            if got != expected:
                raise GradingFailure(f"{call}: expected {expected:,} parameters, got {got:,}")
            continue
        x = torch.randn(shape, generator=gen, dtype=torch.float64)
        reference.double().eval()
        if what == "shapes":
            expected_out = _run(reference, x, call, student=False)
            with no_shortcuts(allow=(TORCH_LAYERS,)):
                student.double().eval()
            got_out = _run(student, x.clone(), f"{call} on an input of shape {shape}", student=True)
            if got_out.shape != expected_out.shape:
                raise GradingFailure(
                    f"{call} on an input of shape {shape}: expected an output of shape "
                    f"{expected_out.shape}, got {got_out.shape}"
                )
            continue
        layout = _same_layout(reference, student, call)
        if layout:
            raise GradingFailure(layout)
        _randomise(reference, gen)
        try:
            with no_shortcuts(allow=(TORCH_LAYERS,)):
                student.double()
                student.load_state_dict(reference.state_dict())
        except ShortcutError as exc:
            raise ShortcutError(f"{call}: not accepted: {exc}") from None
        except Exception as exc:
            raise GradingFailure(
                f"{call}: loading convkit's weights into your network raised "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        modes = (("eval", False), ("train", True)) if train else (("eval", False),)
        for mode, flag in modes:
            reference.train(flag)
            with no_shortcuts(allow=(TORCH_LAYERS,)):
                student.train(flag)
            label = f"{call} in {mode} mode on an input of shape {shape}"
            expected_out = _run(reference, x, label, student=False)
            got_out = _run(student, x.clone(), label, student=True)
            problem = compare_arrays(expected_out, got_out, rtol, atol)
            if problem:
                raise GradingFailure(f"{label}, with convkit's weights loaded: {problem}")
    require_cases(checked, name)


def module_cases(kind: str, n: int, seed: int) -> list[ModuleCase]:
    """``n`` reproducible cases ``(args, kwargs, input_shape)`` for :func:`check_module`.

    kind: ``"lenet5"`` (10 classes or a random count; inputs (N, 1, 28, 28)),
    ``"vgg_block"`` (1-3 convs, 1-8 channels in and out, sides 2-9),
    ``"basic_block"`` / ``"basic_block_identity"`` / ``"basic_block_projection"``
    (1-8 channels, stride 1 or 2, sides 3-9; identity: stride 1 and equal channels;
    projection: the channels or the stride change).
    """
    rng = np.random.default_rng(seed)
    cases: list[ModuleCase] = []
    for _ in range(n):
        batch = _int(rng, 1, 3)
        if kind == "lenet5":
            kwargs = {} if rng.random() < 0.5 else {"num_classes": _int(rng, 2, 20)}
            cases.append(((), kwargs, (batch, 1, 28, 28)))
        elif kind == "vgg_block":
            c_in, c_out = _int(rng, 1, 8), _int(rng, 1, 8)
            cases.append(((_int(rng, 1, 3), c_in, c_out), {},
                          (batch, c_in, _int(rng, 2, 9), _int(rng, 2, 9))))
        elif kind.startswith("basic_block"):
            c_in = _int(rng, 1, 8)
            if kind == "basic_block_identity":
                c_out, stride = c_in, 1
            else:
                c_out, stride = _int(rng, 1, 8), _int(rng, 1, 2)
                if kind == "basic_block_projection" and stride == 1 and c_out == c_in:
                    c_out = c_in + 1
            kwargs = {"stride": stride} if stride != 1 or rng.random() < 0.5 else {}
            cases.append(((c_in, c_out), kwargs,
                          (batch, c_in, _int(rng, 3, 9), _int(rng, 3, 9))))
        else:
            raise ValueError(f"unknown kind of module case {kind!r}")
    return cases


def param_count(module: nn.Module) -> int:
    """Trainable parameters of ``module`` (what the ``"params"`` check compares)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


__all__: Sequence[str] = ["ModuleCase", "check_module", "module_cases", "param_count"]
