"""Chapter 4 case kinds of convkit.grading.random_cases: valid for torch, varied, reproducible."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import convkit
from convkit.grading import random_cases


@pytest.mark.parametrize("options", [{}, {"overlap": True, "ties": True}, {"padding": False}])
@pytest.mark.parametrize("kind", ["max_pool2d", "avg_pool2d"])
def test_pool_cases_agree_with_torch(kind, options):
    cases = random_cases(kind, n=60, seed=4, **options)
    torch_op = getattr(F, kind)
    for (x, kernel), kwargs in cases:
        ours = getattr(convkit, kind)(x, kernel, **kwargs)
        np.testing.assert_allclose(ours, torch_op(torch.tensor(x), kernel, **kwargs).numpy())
    # the default stride (= kernel) is used unless overlapping windows are asked for
    assert any("stride" not in kwargs for _, kwargs in cases) != options.get("overlap", False)
    assert any(isinstance(args[1], tuple) for args, _ in cases)  # (kh, kw) pairs
    has_padding = any(kwargs.get("padding", 0) not in (0, (0, 0)) for _, kwargs in cases)
    assert has_padding == options.get("padding", True)


def test_overlap_and_ties_options():
    overlap = random_cases("max_pool2d", n=40, seed=5, overlap=True)
    for (_, kernel), kwargs in overlap:
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        sh, sw = (kwargs["stride"],) * 2 if isinstance(kwargs["stride"], int) else kwargs["stride"]
        assert sh <= max(1, kh - 1) and sw <= max(1, kw - 1)
    ties = random_cases("max_pool2d", n=10, seed=5, ties=True)
    assert all(np.array_equal(x, np.round(x)) for (x, _), _ in ties)


@pytest.mark.parametrize("options", [{}, {"overlap": True, "ties": True, "padding": True}])
def test_backward_cases_match_torch_autograd(options):
    cases = random_cases("max_pool2d_backward", n=60, seed=6, **options)
    for (grad_out, x, kernel), kwargs in cases:
        xt = torch.tensor(x, requires_grad=True)
        F.max_pool2d(xt, kernel, **kwargs).backward(torch.tensor(grad_out))
        ours = convkit.max_pool2d_backward(grad_out, x, kernel, **kwargs)
        np.testing.assert_allclose(ours, xt.grad.numpy())


def test_global_avg_cases_and_reproducibility():
    cases = random_cases("global_avg_pool2d", n=20, seed=7)
    for (x,), kwargs in cases:
        assert x.ndim == 4 and kwargs == {}
        np.testing.assert_allclose(convkit.global_avg_pool2d(x), x.mean(axis=(2, 3)))
    again = random_cases("global_avg_pool2d", n=20, seed=7)
    assert all(np.array_equal(a[0][0], b[0][0]) for a, b in zip(cases, again, strict=True))
