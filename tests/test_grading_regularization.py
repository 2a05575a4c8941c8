"""Tests of ch11's grading: the guard's rules for torch's dropout, torch.optim and
torchvision's transforms, and the property checks of random_crop, horizontal_flip,
dropout, dropout_backward and the AdamW step.

The "students" are what a student might write: honest numpy passes (drawing their random
numbers in another order than convkit does), every route to torch's dropout or
optimizers, to torchvision or to convkit's references is refused with a message that
says what was refused, and each known mistake is named.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import convkit
import convkit.grading._rules as _rules  # white-box: the rules' own patterns
import convkit.training.augment as augment
import convkit.training.optim_steps as optim_steps
from convkit.grading import TORCH_LAYERS, GradingFailure, ShortcutError, no_shortcuts
from convkit.grading.regularization import (
    FALSE_FAILURE,
    binomial_bounds,
    check_adamw_step,
    check_dropout,
    check_dropout_backward,
    check_horizontal_flip,
    check_random_crop,
    crop_padding_fraction,
    dropout_backward_cases,
)

dropout_alias = F.dropout  # aliases made before grading

# -- honest students --------------------------------------------------------------------


def crop_by_loop(x, size, padding, rng):
    """One image at a time, column before row: another draw order than convkit's."""
    sh, sw = (size, size) if isinstance(size, int) else size
    n, c, h, w = x.shape
    padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=x.dtype)
    padded[:, :, padding : padding + h, padding : padding + w] = x
    out = np.empty((n, c, sh, sw), dtype=x.dtype)
    for i in range(n):
        left = rng.integers(0, w + 2 * padding - sw + 1)
        top = rng.integers(0, h + 2 * padding - sh + 1)
        out[i] = padded[i, :, top : top + sh, left : left + sw]
    return out


def flip_by_mask(x, rng, p=0.5):
    flip = rng.uniform(size=len(x)) < p
    return np.where(flip[:, None, None, None], x[..., ::-1], x)


def dropout_by_hand(x, p=0.5, training=True, rng=None):
    x = np.asarray(x)
    if not training or p == 0:
        return x.copy()
    if p == 1:
        return np.zeros_like(x)
    keep = rng.random(x.shape) >= p
    return (x * keep / (1 - p)).astype(x.dtype)


def dropout_backward_by_hand(grad_out, mask, p=0.5):
    if p == 1:
        return np.zeros_like(grad_out)
    return grad_out * mask / (1 - p)


def adamw_by_hand(
    param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
    weight_decay=1e-2,
):  # fmt: skip
    beta1, beta2 = betas
    param *= 1 - lr * weight_decay
    exp_avg[...] = beta1 * exp_avg + (1 - beta1) * grad
    exp_avg_sq[...] = beta2 * exp_avg_sq + (1 - beta2) * grad**2
    m_hat = exp_avg / (1 - beta1**step)
    v_hat = exp_avg_sq / (1 - beta2**step)
    param -= lr * m_hat / (np.sqrt(v_hat) + eps)


ADAMW_CASES = [
    {"shape": (3, 4), "steps": 4, "seed": 1, "lr": 1e-2, "betas": (0.9, 0.999), "eps": 1e-8,
     "weight_decay": 0.1},
    {"shape": (5,), "steps": 3, "seed": 2, "lr": 0.3, "betas": (0.8, 0.99), "eps": 1e-6,
     "weight_decay": 0.5},
]  # fmt: skip


def test_honest_students_pass_every_check() -> None:
    check_random_crop(crop_by_loop)
    check_horizontal_flip(flip_by_mask)
    check_dropout(dropout_by_hand)
    check_dropout_backward(
        dropout_backward_by_hand, convkit.dropout_backward, dropout_backward_cases()
    )
    check_adamw_step(adamw_by_hand, ADAMW_CASES)


def test_the_references_pass_the_checks_outside_the_guard(monkeypatch) -> None:
    """convkit's own functions satisfy the properties (run unguarded: inside the guard
    they are refused as references)."""
    import convkit.grading.regularization as reg

    class _Open:
        def __init__(self, **kwargs) -> None:
            pass

        def __enter__(self) -> None:
            return None

        def __exit__(self, *exc) -> bool:
            return False

    monkeypatch.setattr(reg, "no_shortcuts", _Open)
    check_random_crop(augment.random_crop)
    check_horizontal_flip(augment.horizontal_flip)
    check_dropout(convkit.dropout)

    def reference_step(param, grad, exp_avg, exp_avg_sq, step, **options):
        optim_steps.adam_step(param, grad, exp_avg, exp_avg_sq, step, decoupled=True, **options)

    check_adamw_step(reference_step, ADAMW_CASES)


# -- statistics ---------------------------------------------------------------------------


def test_binomial_bounds_hold_their_risk_and_are_tight() -> None:
    """The exact binomial tails outside the bounds are below the risk, and one count
    further in on either side they would not be (for these sizes)."""
    from math import comb

    for n, p in ((400, 0.3), (1000, 0.04), (200, 0.5)):
        low, high = binomial_bounds(n, p, 1e-4)
        pmf = [comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
        outside = sum(pmf[:low]) + sum(pmf[high + 1 :])
        assert outside <= 1e-4
        assert low < n * p < high
        assert sum(pmf[: low + 5]) + sum(pmf[high - 4 :]) > 1e-6  # not absurdly wide
    assert binomial_bounds(10, 0.0) == (0, 0)
    assert binomial_bounds(10, 1.0) == (10, 10)
    assert FALSE_FAILURE <= 1e-6


def test_the_crop_padding_fraction_is_the_average_over_positions() -> None:
    exact = 1 - (1 - (20 / 9) / 32) ** 2  # padding 4: |top - 4| rows outside, 20/9 on average
    assert crop_padding_fraction(32, 32, 32, 4) == pytest.approx(exact, rel=1e-12)
    ones = np.ones((4000, 1, 32, 32), dtype=np.float32)
    measured = (augment.random_crop(ones, 32, 4, np.random.default_rng(0)) == 0).mean()
    assert measured == pytest.approx(exact, abs=0.01)
    assert crop_padding_fraction(8, 8, 8, 0) == 0.0


# -- mistakes named -----------------------------------------------------------------------


def _crop_one_offset(x, size, padding, rng):
    """One position for the whole batch."""
    sh, sw = (size, size) if isinstance(size, int) else size
    h, w = x.shape[2:]
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    top = rng.integers(0, h + 2 * padding - sh + 1)
    left = rng.integers(0, w + 2 * padding - sw + 1)
    return padded[:, :, top : top + sh, left : left + sw]


def _crop_exclusive(x, size, padding, rng):
    """The last position never drawn (an off-by-one in the upper bound)."""
    sh, sw = (size, size) if isinstance(size, int) else size
    n, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.empty((n, c, sh, sw), dtype=x.dtype)
    for i in range(n):
        top = rng.integers(0, max(1, h + 2 * padding - sh))
        left = rng.integers(0, max(1, w + 2 * padding - sw))
        out[i] = padded[i, :, top : top + sh, left : left + sw]
    return out


def _crop_edge_padding(x, size, padding, rng):
    sh, sw = (size, size) if isinstance(size, int) else size
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), mode="edge")
    out = np.empty((*x.shape[:2], sh, sw), dtype=x.dtype)
    for i in range(len(x)):
        top = rng.integers(0, padded.shape[2] - sh + 1)
        left = rng.integers(0, padded.shape[3] - sw + 1)
        out[i] = padded[i, :, top : top + sh, left : left + sw]
    return out


@pytest.mark.parametrize(
    ("student", "words"),
    [
        (_crop_one_offset, "one window position for the whole batch"),
        (_crop_exclusive, "never starts at the last row or column"),
        (_crop_edge_padding, "padded in numpy's 'edge' mode"),
    ],
)
def test_crop_mistakes_are_named(student, words) -> None:
    with pytest.raises(GradingFailure, match=words):
        check_random_crop(student)


def _flip_batch(x, rng, p=0.5):
    return x[..., ::-1].copy() if rng.random() < p else x.copy()


def _flip_vertical(x, rng, p=0.5):
    flip = rng.random(len(x)) < p
    out = x.copy()
    out[flip] = x[flip, :, ::-1, :]
    return out


def _flip_reversed_p(x, rng, p=0.5):
    flip = rng.random(len(x)) >= p
    out = x.copy()
    out[flip] = x[flip, ..., ::-1]
    return out


@pytest.mark.parametrize(
    ("student", "words"),
    [
        (_flip_batch, "one decision for the whole batch"),
        (_flip_vertical, "mirrored top to bottom"),
        (_flip_reversed_p, "with p=0 no image may be flipped"),
    ],
)
def test_flip_mistakes_are_named(student, words) -> None:
    with pytest.raises(GradingFailure, match=words):
        check_horizontal_flip(student)


def _dropout_unscaled(x, p=0.5, training=True, rng=None):
    if not training or p == 0:
        return x.copy()
    return x * (rng.random(x.shape) >= p)


def _dropout_keep_p(x, p=0.5, training=True, rng=None):
    if not training or p == 0:
        return x.copy()
    if p == 1:
        return np.zeros_like(x)
    return x * (rng.random(x.shape) < p) / (1 - p)


def _dropout_one_mask(x, p=0.5, training=True, rng=None):
    if not training or p == 0:
        return x.copy()
    if p == 1:
        return np.zeros_like(x)
    return x * (rng.random(x.shape[1:]) >= p) / (1 - p)


def _dropout_per_map(x, p=0.5, training=True, rng=None):
    if not training or p == 0:
        return x.copy()
    if p == 1:
        return np.zeros_like(x)
    return x * (rng.random((*x.shape[:2], 1, 1)) >= p) / (1 - p)


@pytest.mark.parametrize(
    ("student", "words"),
    [
        (_dropout_unscaled, "the kept values are not scaled"),
        (_dropout_keep_p, "p is the probability of dropping"),
        (_dropout_one_mask, "one mask for the whole batch"),
        (_dropout_per_map, "Dropout2d"),
    ],
)
def test_dropout_mistakes_are_named(student, words) -> None:
    with pytest.raises(GradingFailure, match=words):
        check_dropout(student)


def test_dropout_backward_mistakes_are_named() -> None:
    cases = dropout_backward_cases()
    with pytest.raises(GradingFailure, match="grad_out \\* mask: the forward pass"):
        check_dropout_backward(lambda g, m, p: g * m, convkit.dropout_backward, cases[2:])
    with pytest.raises(GradingFailure, match="the mask is ignored"):
        check_dropout_backward(lambda g, m, p: g / (1 - p), convkit.dropout_backward, cases[2:])


def _adam_l2(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay):
    # the same arithmetic, with the decay through the gradient
    adamw_by_hand(
        param, grad + weight_decay * param, exp_avg, exp_avg_sq, step, lr, betas, eps, 0.0
    )


def _adamw_no_correction(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay):
    param *= 1 - lr * weight_decay
    exp_avg[...] = betas[0] * exp_avg + (1 - betas[0]) * grad
    exp_avg_sq[...] = betas[1] * exp_avg_sq + (1 - betas[1]) * grad**2
    param -= lr * exp_avg / (np.sqrt(exp_avg_sq) + eps)


def _adamw_decay_after(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay):
    adamw_by_hand(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, 0.0)
    param *= 1 - lr * weight_decay


def _adamw_not_in_place(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay):
    param = param * (1 - lr * weight_decay)  # a new array: the caller's is untouched
    return param


@pytest.mark.parametrize(
    ("student", "words"),
    [
        (_adam_l2, "Adam with an L2 penalty"),
        (_adamw_no_correction, "without the bias correction"),
        (_adamw_decay_after, "the decay applied after the Adam update"),
        (_adamw_not_in_place, "param did not change: update it in place"),
    ],
)
def test_adamw_mistakes_are_named(student, words) -> None:
    with pytest.raises(GradingFailure, match=words):
        check_adamw_step(student, ADAMW_CASES)


# -- the guard's new rules ----------------------------------------------------------------


def _dropout_via_functional(x, p=0.5, training=True, rng=None):
    return F.dropout(torch.from_numpy(np.asarray(x)), p, training).numpy()


def _dropout_via_alias(x, p=0.5, training=True, rng=None):
    return dropout_alias(torch.from_numpy(np.asarray(x)), p, training).numpy()


def _dropout_via_builtin(x, p=0.5, training=True, rng=None):
    return torch.dropout(torch.from_numpy(np.asarray(x)), p, training).numpy()


def _dropout_via_ops(x, p=0.5, training=True, rng=None):
    return torch.ops.aten.dropout(torch.from_numpy(np.asarray(x)), p, training).numpy()


def _dropout_via_module(x, p=0.5, training=True, rng=None):
    layer = nn.Dropout(p).train(training)
    return layer(torch.from_numpy(np.asarray(x))).detach().numpy()


def _dropout_via_native(x, p=0.5, training=True, rng=None):
    return torch.native_dropout(torch.from_numpy(np.asarray(x)), p, training)[0].numpy()


def _dropout_via_convkit(x, p=0.5, training=True, rng=None):
    return convkit.dropout(x, p, training, rng)


@pytest.mark.parametrize(
    ("student", "words"),
    [
        (_dropout_via_functional, "torch.nn.functional.dropout (torch's own dropout)"),
        (_dropout_via_alias, "torch.nn.functional.dropout (torch's own dropout)"),
        (_dropout_via_builtin, "dropout"),
        (_dropout_via_ops, "aten::dropout"),
        (_dropout_via_module, "nn/modules/dropout.py"),
        (_dropout_via_native, "native_dropout"),
        (_dropout_via_convkit, "convkit's reference code"),
    ],
)
def test_every_route_to_a_library_dropout_is_refused(student, words) -> None:
    with pytest.raises(ShortcutError) as caught:
        check_dropout(student)
    assert words in str(caught.value), caught.value


def _crop_via_convkit(x, size, padding, rng):
    return augment.random_crop(x, size, padding, rng)


def _flip_via_convkit(x, rng, p=0.5):
    from convkit.training import augment as again  # a re-import changes nothing

    return again.horizontal_flip(x, rng, p)


def _adamw_via_torch(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay):
    tensor = torch.from_numpy(param).requires_grad_()
    optimizer = torch.optim.AdamW([tensor], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    tensor.grad = torch.from_numpy(grad.copy())
    optimizer.step()


def _adamw_via_fused(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay):
    p, g = torch.from_numpy(param), torch.from_numpy(grad.copy())
    m, v = torch.from_numpy(exp_avg), torch.from_numpy(exp_avg_sq)
    torch._fused_adamw_(
        [p],
        [g],
        [m],
        [v],
        [],
        [torch.tensor(float(step))],
        lr=lr,
        beta1=betas[0],
        beta2=betas[1],
        weight_decay=weight_decay,
        eps=eps,
        amsgrad=False,
        maximize=False,
    )


def _adamw_via_convkit(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay):
    optim_steps.adam_step(
        param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay, decoupled=True
    )


def test_convkit_references_of_the_chapter_are_refused() -> None:
    for check, student in (
        (check_random_crop, _crop_via_convkit),
        (check_horizontal_flip, _flip_via_convkit),
    ):
        with pytest.raises(ShortcutError, match=r"convkit's reference code .*convkit\.training"):
            check(student)
    with pytest.raises(ShortcutError, match=r"convkit's reference code .*optim_steps"):
        check_adamw_step(_adamw_via_convkit, ADAMW_CASES)
    with pytest.raises(ShortcutError, match=r"convkit's reference code .*convkit\.ops\.dropout"):
        check_dropout_backward(
            convkit.dropout_backward, convkit.dropout_backward, dropout_backward_cases()
        )


@pytest.mark.parametrize(
    ("student", "words"), [(_adamw_via_torch, "torch/optim/"), (_adamw_via_fused, "fused_adamw")]
)
def test_torch_optimizers_are_refused_while_a_numpy_step_is_graded(student, words) -> None:
    with pytest.raises(ShortcutError) as caught:
        check_adamw_step(student, ADAMW_CASES)
    assert words in str(caught.value), caught.value


def test_torchvision_transforms_are_refused_by_file(tmp_path: Path, monkeypatch) -> None:
    """torchvision is not installed: a stand-in package of that name, with a transforms
    module, is refused like scipy.signal (by the file its code lives in)."""
    package = tmp_path / "torchvision"
    (package / "transforms").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "transforms" / "__init__.py").write_text("")
    (package / "transforms" / "functional.py").write_text(
        textwrap.dedent("""
        def hflip(img):
            return img[..., ::-1]
    """)
    )
    (package / "utils.py").write_text("def helper(a):\n    return a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("torchvision")]:
        monkeypatch.delitem(sys.modules, name)
    _rules._package_dir.cache_clear()
    try:
        functional = importlib.import_module("torchvision.transforms.functional")
        utils = importlib.import_module("torchvision.utils")

        def flips_with_torchvision(x, rng, p=0.5):
            flip = rng.random(len(x)) < p
            return np.where(flip[:, None, None, None], functional.hflip(x), x)

        with pytest.raises(ShortcutError, match="torchvision's transforms"):
            check_horizontal_flip(flips_with_torchvision)
        with no_shortcuts():  # the rest of torchvision is not a transform
            utils.helper(1)
        with no_shortcuts(allow=(TORCH_LAYERS,)):  # networks may use what they like
            functional.hflip(np.zeros((1, 1, 2, 2)))
    finally:
        for name in [m for m in sys.modules if m.startswith("torchvision")]:
            del sys.modules[name]
        _rules._package_dir.cache_clear()


def test_networks_keep_their_dropout_and_torch_arithmetic_stays_allowed() -> None:
    """ch06 / ch08 / ch10 / ch11 networks with nn.Dropout are built and run with torch's
    layers allowed; bernoulli and rand (drawing a mask) stay allowed in numpy exercises."""
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Flatten(),
        nn.Dropout1d(0.1),
        nn.Linear(4 * 6 * 6, 2),
    )
    with no_shortcuts(allow=(TORCH_LAYERS,)):
        net.train()(torch.ones(2, 3, 8, 8)).sum().backward()
        torch.optim.AdamW(net.parameters(), lr=1e-3).step()
    with no_shortcuts():
        mask = torch.bernoulli(torch.full((4, 4), 0.5)) * torch.rand(4, 4)
        drawn = np.random.default_rng(0).random((3, 3)) >= 0.5
    assert mask.shape == (4, 4) and drawn.shape == (3, 3)


def test_the_rule_names_only_dropout_and_fused_optimizers() -> None:
    for name in (
        "dropout",
        "native_dropout",
        "_fused_dropout",
        "feature_alpha_dropout",
        "native_dropout_backward",
        "_fused_adamw_",
        "_fused_adam_",
        "_fused_sgd_",
    ):
        assert _rules.FORBIDDEN_OP.search(name), name
        assert _rules.CONV_OR_POOL_OP.search(name), name
    for name in (
        "bernoulli_",
        "rand",
        "uniform_",
        "_foreach_mul_",
        "addcdiv_",
        "mul",
        "sqrt",
        "lerp_",
        "where",
    ):
        assert not _rules.FORBIDDEN_OP.search(name), name
