"""convkit.lessons.gradcheck (numerical gradients, relative errors, the gradient check of a
conv2d backward pass) and the hidden tests' helpers that grade a student's versions
(convkit.grading.cases: check_gradient_checker, the gradient_errors cases)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convkit import conv2d, conv2d_backward
from convkit.grading import GradingFailure, ShortcutError, check_function, random_cases
from convkit.grading.cases import GRADIENT_BUGS, autograd_entry_points, check_gradient_checker
from convkit.lessons.gradcheck import gradient_errors, numerical_gradient, relative_error


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


# -- the one-sided scheme, relative errors, the gradient check of a backward pass -------
def _sin_loss(a: np.ndarray):
    return lambda: float(np.sum(np.sin(a)))


def test_forward_scheme_is_the_one_sided_difference() -> None:
    a = np.linspace(-1.0, 1.0, 5)
    kept = a.copy()
    eps = 1e-3
    got = numerical_gradient(_sin_loss(a), a, eps, scheme="forward")
    np.testing.assert_array_equal(a, kept)
    want = (np.sin(kept + eps) - np.sin(kept)) / eps
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("eps", [1e-2, 1e-3, 1e-4])
def test_centred_error_shrinks_like_eps_squared_forward_like_eps(eps: float) -> None:
    """Taylor: centred error ~ eps**2 |f'''| / 6, forward error ~ eps |f''| / 2."""
    a = np.linspace(-1.0, 1.0, 4)  # not 0, where the forward error's eps term vanishes
    exact = np.cos(a)
    centred = np.abs(numerical_gradient(_sin_loss(a), a, eps) - exact)
    forward = np.abs(numerical_gradient(_sin_loss(a), a, eps, scheme="forward") - exact)
    np.testing.assert_allclose(centred, eps**2 * np.abs(np.cos(a)) / 6, rtol=0.05, atol=1e-11)
    np.testing.assert_allclose(forward, eps * np.abs(np.sin(a)) / 2, rtol=0.05, atol=1e-10)


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="scheme"):
        numerical_gradient(lambda: 0.0, np.zeros(2), scheme="backward")


def test_relative_error() -> None:
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0, 3.0], [1.0, 2.0]) == pytest.approx(0.5)
    assert relative_error(np.zeros(3), [0.0, -4.0, 2.0]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shapes differ"):
        relative_error(np.zeros(2), np.ones(3))
    with pytest.raises(ValueError, match="all zeros"):
        relative_error(np.ones(2), np.zeros(2))


def _small_conv_case(seed: int = 3):
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=(2, 2, 5, 4)), rng.normal(size=(3, 2, 2, 3)), rng.normal(size=3)
    setting = {"stride": 2, "padding": 1}
    g = rng.normal(size=conv2d(x, w, b, **setting).shape)
    return (x, w, b, g), setting


def test_gradient_errors_of_a_correct_backward_are_rounding_noise() -> None:
    (x, w, b, g), setting = _small_conv_case()
    kept = [v.copy() for v in (x, w, b, g)]
    errors = gradient_errors(conv2d_backward, x, w, b, g, **setting)
    assert len(errors) == 3 and all(0 <= e < 1e-8 for e in errors), errors
    for before, after in zip(kept, (x, w, b, g), strict=True):
        np.testing.assert_array_equal(before, after)


def test_gradient_errors_find_the_buggy_gradient() -> None:
    (x, w, b, g), setting = _small_conv_case()

    def bias_of_first_sample(grad_out, x, weight, **kwargs):
        gx, gw, _ = conv2d_backward(grad_out, x, weight, **kwargs)
        return gx, gw, grad_out[0].sum(axis=(1, 2))

    err_x, err_w, err_b = gradient_errors(bias_of_first_sample, x, w, b, g, **setting)
    assert err_x < 1e-8 and err_w < 1e-8
    true_b = g.sum(axis=(0, 2, 3))
    assert err_b == pytest.approx(np.abs(g[1].sum(axis=(1, 2))).max() / np.abs(true_b).max(),
                                  rel=1e-6)  # fmt: skip
    with pytest.raises(ValueError, match="grad_x, grad_weight, grad_bias"):
        gradient_errors(lambda *a, **k: None, x, w, b, g, **setting)


# -- the hidden tests' helpers: a student's gradient checker and gradient check -------------
def _centred(f, a, eps=1e-6):
    grad = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        keep = a[idx]
        a[idx] = keep + eps
        up = f()
        a[idx] = keep - eps
        down = f()
        a[idx] = keep
        grad[idx] = (up - down) / (2 * eps)
    return grad


def _forward(f, a, eps=1e-6):
    grad, f0 = np.zeros_like(a), f()
    for idx in np.ndindex(a.shape):
        keep = a[idx]
        a[idx] = keep + eps
        grad[idx] = (f() - f0) / eps
        a[idx] = keep
    return grad


def _backward(f, a, eps=1e-6):
    return _forward(f, a, -eps)  # (f(a) - f(a - eps)) / eps


def _drifts(f, a, eps=1e-6):  # nudges by +eps, -2 eps, +eps: a drifts by rounding
    grad = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        a[idx] += eps
        up = f()
        a[idx] -= 2 * eps
        down = f()
        a[idx] += eps
        grad[idx] = (up - down) / (2 * eps)
    return grad


def test_scalar_loss_has_its_exact_gradient_and_takes_no_arguments() -> None:
    (f, a), _ = random_cases("numerical_gradient", n=1, seed=4)[0]
    np.testing.assert_allclose(numerical_gradient(f, a), f.gradient(), atol=1e-7)
    with pytest.raises(GradingFailure, match="f takes no arguments"):
        f(a)


def test_gradient_checker_cases_keep_f_reading_its_own_array() -> None:
    case = random_cases("numerical_gradient", n=1, seed=5)[0]
    (f, a), _ = copy.deepcopy(case)
    assert f.array is a and f.array is not case[0][1]


def test_a_correct_checker_passes() -> None:
    check_gradient_checker(_centred, numerical_gradient, n=20, seed=7107)


@pytest.mark.parametrize(
    ("student", "named"),
    [
        (_forward, r"one-sided \(forward\) difference"),
        (_backward, r"one-sided \(backward\) difference"),
        (lambda f, a, eps=1e-6: 2 * _centred(f, a, eps), "twice the centred difference"),
        (lambda f, a, eps=1e-6: -_centred(f, a, eps), "wrong sign"),
        (lambda f, a, eps=1e-6: _centred(f, a.copy(), eps), "all zeros: f never saw"),
        (lambda f, a, eps=1e-6: _centred(f, a), "not for the eps=.* it was given"),
        (_drifts, "a was not exactly as before"),
        (lambda f, a, eps=1e-6: _centred(f, a, eps) + 1, r"values differ"),
    ],
    ids=["forward", "backward", "twice", "negated", "nudges-a-copy", "ignores-eps",
         "does-not-restore", "unknown"],
)
def test_a_wrong_checker_fails_with_its_mistake_named(student, named: str) -> None:
    with pytest.raises(GradingFailure, match=named):
        check_gradient_checker(student, numerical_gradient, n=20, seed=7107)


def test_calling_the_reference_checker_is_refused() -> None:
    def cheat(f, a, eps=1e-6):
        return numerical_gradient(f, a, eps)

    with pytest.raises(ShortcutError, match=r"convkit\.lessons\.gradcheck"):
        check_gradient_checker(cheat, numerical_gradient, n=2, seed=1)


def _student_conv2d(x, weight, bias, stride=1, padding=0):
    """A student's conv2d (test code, so the guard lets it run): one einsum per offset."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    (_, _, h, w), (_, _, kh, kw) = x.shape, weight.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = bias[None, :, None, None] + np.zeros((x.shape[0], weight.shape[0], oh, ow))
    for m in range(kh):
        for q in range(kw):
            window = x[:, :, m:m + stride * (oh - 1) + 1:stride, q:q + stride * (ow - 1) + 1:stride]
            out += np.einsum("nchw,oc->nohw", window, weight[:, :, m, q])
    return out


def _student_gradient_errors(backward, x, weight, bias, grad_out, stride=1, padding=0):
    x, weight, bias = (np.array(v, dtype=float) for v in (x, weight, bias))

    def loss():
        out = _student_conv2d(x, weight, bias, stride=stride, padding=padding)
        return float(np.sum(grad_out * out))

    analytic = backward(grad_out, x, weight, stride=stride, padding=padding)
    errors = []
    for grad, a in zip(analytic, (x, weight, bias), strict=True):
        numerical = _centred(loss, a)
        errors.append(float(np.abs(grad - numerical).max() / np.abs(numerical).max()))
    return tuple(errors)


def _cases_with_every_bug() -> list:
    return [case for i, bug in enumerate(GRADIENT_BUGS)
            for case in random_cases("gradient_errors", n=1, seed=7108 + i, bug=bug)]


def test_gradient_error_cases_hold_the_bug_they_name() -> None:
    errors = {case[0][0].__name__: gradient_errors(*case[0], **case[1])
              for case in _cases_with_every_bug()}
    assert set(errors) == {"conv2d_backward"} | {f"backward_with_{b}" for b in GRADIENT_BUGS[1:]}
    large = {name: [i for i, e in enumerate(errs) if e > 0.1] for name, errs in errors.items()}
    assert large == {"conv2d_backward": [], "backward_with_bias_of_first_sample": [2],
                     "backward_with_weight_kernel_flipped": [1],
                     "backward_with_input_shifted": [0], "backward_with_weight_halved": [1]}
    assert all(e < 1e-8 for errs in errors.values() for e in errs if e <= 0.1)
    with pytest.raises(ValueError, match="unknown bug"):
        random_cases("gradient_errors", n=1, bug="typo")


def test_a_student_gradient_check_passes_and_shortcuts_fail() -> None:
    cases = _cases_with_every_bug()
    deny = autograd_entry_points()
    check_function(_student_gradient_errors, gradient_errors, cases, deny=deny, rtol=1e-4)
    with pytest.raises(GradingFailure, match=r"in result\[2\].*got 0\.0"):
        check_function(lambda *a, **k: (0.0, 0.0, 0.0), gradient_errors, cases, rtol=1e-4)

    def via_reference(*args, **kwargs):
        return gradient_errors(*args, **kwargs)

    with pytest.raises(ShortcutError, match="convkit"):
        check_function(via_reference, gradient_errors, cases[:1], deny=deny)

    def via_autograd(backward, x, weight, bias, grad_out, stride=1, padding=0):
        xt = torch.tensor(x, requires_grad=True)
        (xt * 2).sum().backward()
        return _student_gradient_errors(backward, x, weight, bias, grad_out, stride, padding)

    with pytest.raises(ShortcutError, match="backward"):
        check_function(via_autograd, gradient_errors, cases[:1], deny=deny)
