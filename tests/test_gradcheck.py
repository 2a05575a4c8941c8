"""convkit.lessons.gradcheck.numerical_gradient: centred differences, entry by entry."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convkit.lessons.gradcheck import numerical_gradient


def test_quadratic_has_its_known_gradient() -> None:
    """f(a) = sum(c * a**2) + sum(d * a): df/da = 2 c a + d, exact up to rounding
    (a centred difference is exact for a quadratic)."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 4))
    c, d = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    grad = numerical_gradient(lambda: float(np.sum(c * a**2) + np.sum(d * a)), a)
    assert grad.shape == a.shape and grad.dtype == np.float64
    np.testing.assert_allclose(grad, 2 * c * a + d, atol=1e-8)


@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 4)], ids=["0-d", "1-d", "3-d"])
def test_any_shape_and_the_array_is_restored(shape: tuple[int, ...]) -> None:
    a = np.random.default_rng(1).normal(size=shape)
    kept = a.copy()
    seen = []

    def f() -> float:
        seen.append(a.copy())
        return float(np.sum(np.sin(a)))

    grad = numerical_gradient(f, a, eps=1e-5)
    np.testing.assert_array_equal(a, kept)  # bit for bit
    np.testing.assert_allclose(grad, np.cos(kept), atol=1e-8)
    assert len(seen) == 2 * max(a.size, 1)
    # each call sees exactly one entry moved by +-eps
    for call in seen:
        assert np.count_nonzero(call != kept) == 1


def test_the_array_is_restored_when_the_loss_fails() -> None:
    a = np.arange(4.0)

    def fails() -> float:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(fails, a)
    np.testing.assert_array_equal(a, np.arange(4.0))


def test_matches_torch_autograd_on_a_small_conv() -> None:
    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(2, 2, 5, 4)), rng.normal(size=(3, 2, 3, 2)), rng.normal(size=3)
    setting = {"stride": 2, "padding": 1}
    with torch.no_grad():
        out_shape = F.conv2d(*map(torch.from_numpy, (x, w, b)), **setting).shape
    g = torch.from_numpy(rng.normal(size=tuple(out_shape)))

    def loss() -> float:
        out = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), **setting)
        return float((out * g).sum())

    xt, wt, bt = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    (F.conv2d(xt, wt, bt, **setting) * g).sum().backward()
    for array, tensor in ((x, xt), (w, wt), (b, bt)):
        np.testing.assert_allclose(numerical_gradient(loss, array), tensor.grad.numpy(),
                                   atol=1e-7)  # fmt: skip


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, [1.0, 2.0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(lambda: 0.0, np.zeros(3), eps=0.0)
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        numerical_gradient(lambda: 0.0, frozen)
