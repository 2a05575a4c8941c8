"""Tests of ch10's grading: the guard's rules for torch's normalisation and torch.nn.init,
the batch-norm checker (output and running statistics graded apart), the gradient check
against centred differences, and the case generators (checked against torch).

The "students" are what a student might write: honest numpy passes, every route to
torch's or convkit's normalisation or initialisation is refused with a message that
says what was refused, and each known mistake of the running statistics is named.
"""

from __future__ import annotations

import importlib
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import convkit
import convkit.nn.models
from convkit.grading import (
    TORCH_LAYERS,
    TORCH_UNFOLD,
    GradingFailure,
    ShortcutError,
    check_function,
    no_shortcuts,
    random_cases,
)
from convkit.grading import normalization as norm_grading
from convkit.grading.cases import conv_module_forward
from convkit.grading.modules import check_module, module_cases
from convkit.grading.normalization import check_batch_norm, check_batch_norm_gradients
from convkit.grading.training_checks import check_budget

batch_norm_alias = F.batch_norm  # aliases made before grading
kaiming_alias = nn.init.kaiming_normal_
X = torch.randn(4, 3, 2, 2, generator=torch.Generator().manual_seed(0))


def _group_norm_of(t: torch.Tensor) -> torch.Tensor:
    return torch.group_norm(t, 1)


with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.script is deprecated
    SCRIPTED_GROUP_NORM = torch.jit.script(_group_norm_of)  # compiled before grading


# -- honest students ---------------------------------------------------------------------
def np_batch_norm(
    x,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training=False,
    momentum=0.1,
    eps=1e-5,
    *,
    running_ddof=1,
    update="in place",
):
    """torch's batch norm in numpy; ``running_ddof`` and ``update`` make the running
    statistics' known mistakes ("in place", "rebind", "swapped", "replace", "none")."""
    axes = (0, *range(2, x.ndim))
    line = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        new_var = x.var(axis=axes, ddof=running_ddof)
        for running, batch in ((running_mean, mean), (running_var, new_var)):
            if running is None or update == "none":
                continue
            if update == "rebind":
                running = (
                    1 - momentum
                ) * running + momentum * batch  # a new array: the caller's is left as it was
            elif update == "swapped":
                running *= momentum
                running += (1 - momentum) * batch
            elif update == "replace":
                running[:] = batch
            else:
                running *= 1 - momentum
                running += momentum * batch
    else:
        mean, var = running_mean, running_var
    out = (x - mean.reshape(line)) / np.sqrt(var.reshape(line) + eps)
    if weight is not None:
        out = out * weight.reshape(line)
    return out if bias is None else out + bias.reshape(line)


def np_batch_norm_backward(
    grad_out, x, running_mean, running_var, weight=None, training=False, eps=1e-5
):
    axes = (0, *range(2, x.ndim))
    line = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = (x.mean(axis=axes), x.var(axis=axes)) if training else (running_mean, running_var)
    inv = (1.0 / np.sqrt(var + eps)).reshape(line)
    xhat = (x - mean.reshape(line)) * inv
    grad_bias, grad_weight = grad_out.sum(axis=axes), (grad_out * xhat).sum(axis=axes)
    scale = inv * (1.0 if weight is None else weight.reshape(line))
    if not training:
        return scale * grad_out, grad_weight, grad_bias
    m = x.size // x.shape[1]
    centred = grad_out - (grad_bias / m).reshape(line) - xhat * (grad_weight / m).reshape(line)
    return scale * centred, grad_weight, grad_bias


def torch_arithmetic_batch_norm(
    x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
):
    """Honest: batch norm from torch's elementwise arithmetic and reductions."""
    t = torch.from_numpy(np.asarray(x, dtype=float))
    axes = (0, *range(2, t.dim()))
    line = (1, -1) + (1,) * (t.dim() - 2)
    if training:
        var, mean = torch.var_mean(t, dim=axes, unbiased=False)
        out = (t - mean.reshape(line)) / torch.sqrt(var.reshape(line) + eps)
        np_batch_norm(x, running_mean, running_var, None, None, True, momentum, eps)
    else:
        out = (t - torch.from_numpy(running_mean).reshape(line)) / torch.sqrt(
            torch.from_numpy(running_var).reshape(line) + eps
        )
    out = out.numpy()
    if weight is not None:
        out = out * weight.reshape(line)
    return out if bias is None else out + bias.reshape(line)


BN_CASES = random_cases("batch_norm", n=30, seed=1)
RUNNING_CASES = random_cases("batch_norm", n=30, seed=2, running=True)
GRADIENT_CASES = random_cases("batch_norm_backward", n=10, seed=3, small=True)


# -- the guard: torch's normalisation ----------------------------------------------------
NORMALISATION_ROUTES = {
    "F.batch_norm": (
        lambda: F.batch_norm(X, None, None, training=True),
        "torch.nn.functional.batch_norm (torch's own normalisation)",
    ),
    "an alias made earlier": (
        lambda: batch_norm_alias(X, None, None, training=True),
        "torch.nn.functional.batch_norm",
    ),
    "torch.batch_norm": (
        lambda: torch.batch_norm(X, None, None, None, None, True, 0.1, 1e-5, False),
        "torch.batch_norm",
    ),
    "torch.native_batch_norm": (
        lambda: torch.native_batch_norm(X, None, None, None, None, True, 0.1, 1e-5),
        "torch.native_batch_norm",
    ),
    "torch.ops.aten.native_batch_norm": (
        lambda: torch.ops.aten.native_batch_norm(X, None, None, None, None, True, 0.1, 1e-5),
        "aten::native_batch_norm",
    ),
    "torch.ops.aten._native_batch_norm_legit": (
        lambda: torch.ops.aten._native_batch_norm_legit(
            X, None, None, torch.zeros(3), torch.ones(3), True, 0.1, 1e-5
        ),
        "aten::_native_batch_norm_legit",
    ),
    "getattr on torch": (
        lambda: getattr(torch, "batch" + "_norm")(
            X, None, None, None, None, True, 0.1, 1e-5, False
        ),
        "torch.batch_norm",
    ),
    "importlib": (
        lambda: importlib.import_module("torch.nn.functional").batch_norm(
            X, None, None, training=True
        ),
        "batch_norm",
    ),
    "nn.BatchNorm2d": (lambda: nn.BatchNorm2d(3)(X), "torch/nn/modules/batchnorm.py"),
    "F.group_norm": (lambda: F.group_norm(X, 1), "torch.nn.functional.group_norm"),
    "torch.group_norm": (lambda: torch.group_norm(X, 3), "torch.group_norm"),
    "nn.GroupNorm": (lambda: nn.GroupNorm(1, 3)(X), "torch/nn/modules/normalization.py"),
    "F.layer_norm": (lambda: F.layer_norm(X, (3, 2, 2)), "torch.nn.functional.layer_norm"),
    "torch.native_layer_norm": (
        lambda: torch.native_layer_norm(X, [3, 2, 2], None, None, 1e-5),
        "torch.native_layer_norm",
    ),
    "F.instance_norm": (lambda: F.instance_norm(X), "torch.nn.functional.instance_norm"),
    "F.rms_norm": (lambda: F.rms_norm(X, (3, 2, 2)), "rms_norm"),
    "a TorchScript function made earlier": (
        lambda: SCRIPTED_GROUP_NORM(X),
        "makes torch run aten::native_group_norm",
    ),
}


@pytest.mark.parametrize("route", list(NORMALISATION_ROUTES))
def test_torch_normalisation_is_refused_while_a_numpy_exercise_is_graded(route: str) -> None:
    call, named = NORMALISATION_ROUTES[route]
    call()  # each route works when nobody is watching
    with pytest.raises(ShortcutError) as info, no_shortcuts():
        call()
    assert named in str(info.value), str(info.value)


INIT_ROUTES = {
    "kaiming_normal_": lambda: nn.init.kaiming_normal_(torch.empty(4, 3)),
    "an alias made earlier": lambda: kaiming_alias(torch.empty(4, 3)),
    "calculate_gain": lambda: nn.init.calculate_gain("leaky_relu", 0.2),
    "_calculate_fan_in_and_fan_out": lambda: nn.init._calculate_fan_in_and_fan_out(
        torch.empty(4, 3, 3, 3)
    ),
    "_calculate_correct_fan": lambda: nn.init._calculate_correct_fan(torch.empty(4, 3), "fan_in"),
    "importlib": lambda: importlib.import_module("torch.nn.init").xavier_normal_(torch.empty(4, 3)),
}


@pytest.mark.parametrize("route", list(INIT_ROUTES))
def test_torch_init_is_refused_while_a_numpy_exercise_is_graded(route: str) -> None:
    INIT_ROUTES[route]()
    with pytest.raises(ShortcutError, match=r"torch\.nn\.init \(") as info, no_shortcuts():
        INIT_ROUTES[route]()
    assert "fans, gains and initialisation scales" in str(info.value)


def test_a_caught_refusal_still_fails() -> None:
    def sneaky(x, num_groups, weight=None, bias=None, eps=1e-5):
        try:
            return F.group_norm(torch.from_numpy(x), num_groups).numpy()
        except ShortcutError:  # then by hand, as if nothing had happened
            rows = x.reshape(x.shape[0], num_groups, -1)
            out = (rows - rows.mean(axis=2, keepdims=True)) / np.sqrt(
                rows.var(axis=2, keepdims=True) + eps
            )
            return out.reshape(x.shape)

    with pytest.raises(ShortcutError, match="group_norm"):
        check_function(sneaky, convkit.group_norm, random_cases("group_norm", n=3, seed=4))


def test_convkit_references_of_the_chapter_are_refused() -> None:
    for student, reference, cases in (
        (
            lambda *a, **k: convkit.group_norm(*a, **k),
            convkit.group_norm,
            random_cases("group_norm", n=2, seed=5),
        ),
        (
            lambda *a, **k: convkit.kaiming_std(*a, **k),
            convkit.kaiming_std,
            random_cases("kaiming_std", n=2, seed=6),
        ),
        (
            lambda *a, **k: convkit.batch_norm_backward(*a, **k),
            convkit.batch_norm_backward,
            random_cases("batch_norm_backward", n=2, seed=7),
        ),
    ):
        with pytest.raises(ShortcutError, match="convkit's reference code"):
            check_function(student, reference, cases)
    with pytest.raises(ShortcutError, match="convkit's reference code"):
        check_batch_norm(
            lambda *a, **k: convkit.batch_norm(*a, **k), convkit.batch_norm, BN_CASES[:2]
        )


def test_torch_layers_allow_normalisation_and_init() -> None:
    """ch06, ch08 and ch10 build torch networks with batch norm: allowed there."""
    with no_shortcuts(allow=(TORCH_LAYERS,)):
        net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.GroupNorm(2, 4))
        nn.init.kaiming_normal_(net[0].weight, nonlinearity="relu")
        net.train()(X)
        F.batch_norm(X, None, None, training=True)
        F.layer_norm(X, (3, 2, 2))
        nn.init.calculate_gain("tanh")


def test_torch_unfold_allows_init_but_not_normalisation() -> None:
    """ch07's UnfoldConv2d may initialise like nn.Conv2d; its forward pass is a convolution."""
    with no_shortcuts(allow=(TORCH_UNFOLD,)):
        nn.init.kaiming_uniform_(torch.empty(4, 3, 3, 3), a=5**0.5)
        F.unfold(X, 2)
    with pytest.raises(ShortcutError, match="batch_norm"), no_shortcuts(allow=(TORCH_UNFOLD,)):
        F.batch_norm(X, None, None, training=True)


def test_lp_norms_and_torch_arithmetic_stay_allowed() -> None:
    with no_shortcuts():
        torch.norm(X)
        torch.linalg.vector_norm(X)
        torch.var_mean(X, dim=(0, 2, 3))
        F.normalize(X, dim=1)
    check_batch_norm(torch_arithmetic_batch_norm, convkit.batch_norm, BN_CASES)
    check_batch_norm(torch_arithmetic_batch_norm, convkit.batch_norm, RUNNING_CASES, part="running")


# -- the chapters before ch10 are unaffected ------------------------------------------------
class StudentBlock(nn.Module):
    """ch08's basic block as a student writes it (batch norm inside)."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.residual = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.shortcut = (
            nn.Identity()
            if stride == 1 and in_channels == out_channels
            else nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        )
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.residual(x) + self.shortcut(x))


class StudentUnfoldConv2d(nn.Module):
    """ch07's layer as its solution writes it: nn.init in the constructor, unfold in forward."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        self.k, self.stride, self.padding = k, stride, padding
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *k))
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, x):
        n, _, h, w = x.shape
        sh, sw = (self.stride,) * 2 if isinstance(self.stride, int) else self.stride
        ph, pw = (self.padding,) * 2 if isinstance(self.padding, int) else self.padding
        out = self.weight.flatten(1) @ F.unfold(x, self.k, padding=(ph, pw), stride=(sh, sw))
        if self.bias is not None:
            out = out + self.bias[:, None]
        return out.reshape(
            n, -1, (h + 2 * ph - self.k[0]) // sh + 1, (w + 2 * pw - self.k[1]) // sw + 1
        )


def test_earlier_chapters_with_batch_norm_or_init_still_pass() -> None:
    check_module(
        StudentBlock,
        convkit.nn.models.BasicBlock,
        module_cases("basic_block", 3, seed=8),
        train=True,
        seed=8,
    )  # ch08
    bn_net = nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 13 * 13, 10),
    )
    check_budget(bn_net, max_numbers=20_000, max_multiply_adds=1_000_000)  # ch06
    check_function(
        conv_module_forward(StudentUnfoldConv2d),
        convkit.conv2d,
        random_cases("conv2d_strided", n=4, seed=9),
        allow=(TORCH_UNFOLD,),
        name="UnfoldConv2d",
    )  # ch07


# -- check_batch_norm ------------------------------------------------------------------
def with_running(**options):
    def student(
        x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
    ):
        return np_batch_norm(
            x, running_mean, running_var, weight, bias, training, momentum, eps, **options
        )

    return student


def test_an_honest_batch_norm_passes_both_parts() -> None:
    check_batch_norm(np_batch_norm, convkit.batch_norm, BN_CASES)
    check_batch_norm(np_batch_norm, convkit.batch_norm, RUNNING_CASES, part="running")
    assert check_batch_norm(np_batch_norm, convkit.batch_norm, BN_CASES[:1]) is None


def test_the_output_and_the_running_statistics_are_graded_apart() -> None:
    biased = with_running(running_ddof=0)
    check_batch_norm(biased, convkit.batch_norm, BN_CASES)  # the output is right
    with pytest.raises(GradingFailure) as info:
        check_batch_norm(biased, convkit.batch_norm, RUNNING_CASES, part="running")
    message = str(info.value)
    assert "running_var after the call: values differ" in message
    assert (
        "running_var looks like the biased variance: torch updates it with the unbiased "
        "one (divide by m - 1" in message
    )

    def wrong_output(*args, **kwargs):
        return np_batch_norm(*args, **kwargs) + 1.0

    check_batch_norm(wrong_output, convkit.batch_norm, RUNNING_CASES, part="running")
    with pytest.raises(GradingFailure, match="values differ"):
        check_batch_norm(wrong_output, convkit.batch_norm, BN_CASES)


@pytest.mark.parametrize(
    ("update", "words"),
    [
        (
            "rebind",
            "running_mean was not updated: in training mode change the array you were "
            "given in place",
        ),
        ("none", "running_mean was not updated"),
        ("swapped", "running_mean gives the old value the weight momentum"),
        ("replace", "running_mean was replaced by the batch's value"),
    ],
)
def test_each_mistake_of_the_running_update_is_named(update: str, words: str) -> None:
    with pytest.raises(GradingFailure) as info:
        check_batch_norm(
            with_running(update=update), convkit.batch_norm, RUNNING_CASES, part="running"
        )
    assert words in str(info.value), str(info.value)


def test_eval_mode_must_leave_the_running_statistics_alone() -> None:
    def meddles(
        x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
    ):
        out = np_batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)
        if not training:
            running_var *= 0.5
        return out

    eval_cases = random_cases("batch_norm", n=5, seed=10, training=False)
    check_batch_norm(meddles, convkit.batch_norm, eval_cases)
    with pytest.raises(GradingFailure, match="in eval mode your batch_norm changed running_var"):
        check_batch_norm(meddles, convkit.batch_norm, eval_cases, part="running")


def test_changing_x_in_place_fails_the_output() -> None:
    def overwrites(x, *args, **kwargs):
        out = np_batch_norm(x, *args, **kwargs)
        x *= 2
        return out

    with pytest.raises(GradingFailure, match="changed its input x in place"):
        check_batch_norm(overwrites, convkit.batch_norm, BN_CASES)


def test_the_checker_refuses_bad_setups() -> None:
    with pytest.raises(ValueError, match="part must be one of"):
        check_batch_norm(np_batch_norm, convkit.batch_norm, BN_CASES, part="both")
    with pytest.raises(GradingFailure, match="not convkit's own function"):
        check_batch_norm(np_batch_norm, np_batch_norm, BN_CASES)
    with pytest.raises(GradingFailure, match="no test cases"):
        check_batch_norm(np_batch_norm, convkit.batch_norm, [])

    def unwritten(*args, **kwargs):
        raise NotImplementedError()

    for part in ("outputs", "running"):
        with pytest.raises(GradingFailure, match="not written yet"):
            check_batch_norm(unwritten, convkit.batch_norm, BN_CASES, part=part)


# -- check_batch_norm_gradients ----------------------------------------------------------
def test_an_honest_backward_passes_the_gradient_check() -> None:
    assert {bool(kw.get("training")) for _, kw in GRADIENT_CASES} == {True, False}
    check_batch_norm_gradients(np_batch_norm_backward, convkit.batch_norm, GRADIENT_CASES)
    check_function(
        np_batch_norm_backward,
        convkit.batch_norm_backward,
        random_cases("batch_norm_backward", n=20, seed=11),
    )


def test_the_gradient_check_trusts_no_backward_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """The numbers come from the forward pass alone: a broken reference backward changes
    nothing for an honest student."""
    monkeypatch.setattr(norm_grading, "_BACKWARD", lambda *a, **k: (0.0, 0.0, 0.0))
    check_batch_norm_gradients(np_batch_norm_backward, convkit.batch_norm, GRADIENT_CASES)


def test_a_wrong_backward_fails_the_gradient_check_and_is_named() -> None:
    def constant_statistics(
        grad_out, x, running_mean, running_var, weight=None, training=False, eps=1e-5
    ):
        axes = (0, *range(2, x.ndim))
        stats = (x.mean(axis=axes), x.var(axis=axes)) if training else (running_mean, running_var)
        return np_batch_norm_backward(grad_out, x, *stats, weight, False, eps)

    with pytest.raises(GradingFailure) as info:
        check_batch_norm_gradients(constant_statistics, convkit.batch_norm, GRADIENT_CASES)
    message = str(info.value)
    assert "grad_x fails the gradient check against centred differences" in message
    assert "your grad_x equals the eval-mode gradient" in message


def test_the_gradient_check_refuses_autograd_through_torch_normalisation() -> None:
    def autograd(grad_out, x, running_mean, running_var, weight=None, training=False, eps=1e-5):
        xt = torch.tensor(x, requires_grad=True)
        w = torch.tensor(np.ones(x.shape[1]) if weight is None else weight, requires_grad=True)
        b = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
        stats = (
            (None, None) if training else (torch.tensor(running_mean), torch.tensor(running_var))
        )
        F.batch_norm(xt, *stats, w, b, training, 0.1, eps).backward(torch.tensor(grad_out))
        return xt.grad.numpy(), w.grad.numpy(), b.grad.numpy()

    autograd(*GRADIENT_CASES[0][0], **GRADIENT_CASES[0][1])
    with pytest.raises(ShortcutError, match="batch_norm"):
        check_batch_norm_gradients(autograd, convkit.batch_norm, GRADIENT_CASES)


# -- the case generators -------------------------------------------------------------------
def _t(value):
    return None if value is None else torch.tensor(value)


@pytest.mark.parametrize("kind", ["batch_norm", "batch_norm_backward", "group_norm", "kaiming_std"])
def test_the_new_cases_are_reproducible(kind: str) -> None:
    def summary(cases):
        return repr(cases)

    assert summary(random_cases(kind, n=6, seed=3)) == summary(random_cases(kind, n=6, seed=3))
    assert summary(random_cases(kind, n=6, seed=3)) != summary(random_cases(kind, n=6, seed=4))


def test_batch_norm_cases_match_torch_in_both_modes() -> None:
    cases = random_cases("batch_norm", n=80, seed=12)
    assert {bool(kw.get("training")) for _, kw in cases} == {True, False}
    assert any(mean is None for (_, mean, _), _ in cases)
    for (x, mean, var), kwargs in cases:
        ours = (None if mean is None else mean.copy(), None if var is None else var.copy())
        theirs = (_t(mean), _t(var))
        got = convkit.batch_norm(x, *ours, **kwargs)
        want = F.batch_norm(
            _t(x),
            *theirs,
            _t(kwargs.get("weight")),
            _t(kwargs.get("bias")),
            kwargs.get("training", False),
            kwargs.get("momentum", 0.1),
            kwargs.get("eps", 1e-5),
        )
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-9, atol=1e-12)
        for mine, torch_one in zip(ours, theirs, strict=True):
            if mine is not None:
                np.testing.assert_allclose(mine, torch_one.numpy(), rtol=1e-9, atol=1e-12)
    running = random_cases("batch_norm", n=30, seed=13, running=True)
    assert all(mean is not None for (_, mean, _), _ in running)


def test_backward_cases_match_torch_autograd_and_small_ones_stay_small() -> None:
    for (g, x, mean, var), kwargs in random_cases("batch_norm_backward", n=40, seed=14):
        weight = kwargs.get("weight")
        xt = torch.tensor(x, requires_grad=True)
        w = torch.tensor(np.ones(x.shape[1]) if weight is None else weight, requires_grad=True)
        b = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
        training = kwargs.get("training", False)
        out = F.batch_norm(
            xt,
            None if training else _t(mean),
            None if training else _t(var),
            w,
            b,
            training,
            0.1,
            kwargs.get("eps", 1e-5),
        )
        out.backward(torch.tensor(g))
        got = convkit.batch_norm_backward(g, x, mean, var, **kwargs)
        for mine, grad in zip(got, (xt.grad, w.grad, b.grad), strict=True):
            np.testing.assert_allclose(mine, grad.numpy(), rtol=1e-7, atol=1e-9)
    small = random_cases("batch_norm_backward", n=50, seed=15, small=True)
    assert max(x.size for (_, x, _, _), _ in small) <= 48


def test_group_norm_and_kaiming_cases_match_torch() -> None:
    for (x, groups), kwargs in random_cases("group_norm", n=60, seed=16):
        assert x.shape[1] % groups == 0 and x[0].size // groups >= 2
        want = F.group_norm(
            _t(x), groups, _t(kwargs.get("weight")), _t(kwargs.get("bias")), kwargs.get("eps", 1e-5)
        )
        np.testing.assert_allclose(
            convkit.group_norm(x, groups, **kwargs), want.numpy(), rtol=1e-9, atol=1e-12
        )
    nonlinearities = set()
    for (shape,), kwargs in random_cases("kaiming_std", n=120, seed=17):
        nonlinearity = kwargs.get("nonlinearity", "leaky_relu")
        nonlinearities.add(nonlinearity)
        fan = nn.init._calculate_correct_fan(torch.empty(shape), kwargs.get("mode", "fan_in"))
        gain = nn.init.calculate_gain(nonlinearity, kwargs.get("a", 0))
        assert math.isclose(
            convkit.kaiming_std(shape, **kwargs), gain / math.sqrt(fan), rel_tol=1e-12
        )
    assert nonlinearities >= {"relu", "leaky_relu", "tanh", "selu", "sigmoid", "linear"}
