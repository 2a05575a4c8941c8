"""Tests of convkit.grading: messages, trusted comparisons and the anti-shortcut guard.

The "student" functions below are what a student might write: honest ones must
pass, and every way of getting the answer from a library instead of computing it
must fail with a ShortcutError that says what was refused.
"""

from __future__ import annotations

import copy
import gc
import importlib
import inspect
import re
import sys
import threading
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view

import convkit
import convkit.lessons.equivariance
from convkit import conv2d as aliased_reference_conv2d  # an alias made before grading
from convkit.grading import (
    GradingFailure,
    ShortcutError,
    check_function,
    no_shortcuts,
    random_cases,
)

torch_conv2d_alias = F.conv2d  # an alias made before grading
ROOT = Path(__file__).resolve().parents[1]
CONV_CASES = random_cases("conv2d", n=6, seed=7)
SINGLE_CASES = random_cases("correlate2d", n=6, seed=8)


# -- honest student solutions ------------------------------------------------------
def loops_conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """The formula as loops."""
    n, _, h, w = x.shape
    o, _, kh, kw = weight.shape
    out = np.zeros((n, o, h - kh + 1, w - kw + 1))
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            out[:, :, i, j] = np.einsum("nchw,ochw->no", x[:, :, i:i + kh, j:j + kw], weight)
    return out if bias is None else out + bias[None, :, None, None]


def windows_conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """Vectorised with a strided window view (allowed: it is numpy, not a convolution)."""
    windows = sliding_window_view(x, weight.shape[-2:], axis=(-2, -1))
    out = np.einsum("nchwij,ocij->nohw", windows, weight)
    print("computed", out.shape)  # printing inside a graded function is fine
    return out if bias is None else out + bias[None, :, None, None]


def torch_arithmetic_conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """Loops on torch tensors using only elementwise ops and sums (allowed)."""
    xt, wt = torch.from_numpy(x), torch.from_numpy(weight)
    n, _, h, w = xt.shape
    o, _, kh, kw = wt.shape
    out = torch.zeros((n, o, h - kh + 1, w - kw + 1), dtype=torch.float64)
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            patch = xt[:, None, :, i:i + kh, j:j + kw]
            out[:, :, i, j] = (patch * wt[None]).sum(dim=(2, 3, 4))
    if bias is not None:
        out += torch.from_numpy(bias)[None, :, None, None]
    return out.numpy()


def loops_correlate2d(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out


@pytest.mark.parametrize("student", [loops_conv2d, windows_conv2d, torch_arithmetic_conv2d])
def test_honest_solutions_pass(student):
    check_function(student, convkit.conv2d, CONV_CASES)


def test_check_function_returns_none_so_nbgrader_sees_no_partial_credit():
    assert check_function(loops_correlate2d, convkit.correlate2d, SINGLE_CASES) is None


def test_guard_leaves_nothing_behind():
    before = sys.getprofile()
    check_function(loops_conv2d, convkit.conv2d, CONV_CASES[:2])
    assert sys.getprofile() is before
    from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

    assert _get_current_dispatch_mode_stack() == []
    assert torch.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 2, 2)).shape == (1, 1, 2, 2)


# -- messages --------------------------------------------------------------------
def test_shape_message_names_inputs_arguments_and_shapes():
    case = ((np.ones((2, 3, 5, 5)), np.ones((4, 3, 3, 3))), {"stride": 2, "padding": 1})

    def wrong_shape(x, weight, bias=None, stride=1, padding=0, dilation=1):
        return np.zeros((2, 4, 2, 2))

    with pytest.raises(GradingFailure) as info:
        check_function(wrong_shape, convkit.conv2d, [case])
    assert str(info.value) == (
        "conv2d(x of shape (2, 3, 5, 5), weight of shape (4, 3, 3, 3), stride=2, padding=1): "
        "expected shape (2, 4, 3, 3), got (2, 4, 2, 2)"
    )


def test_value_message_gives_first_index_values_and_extent():
    x = np.random.default_rng(0).normal(size=(2, 1, 4, 4))
    w = np.random.default_rng(1).normal(size=(2, 1, 1, 1))
    expected = convkit.conv2d(x, w)  # (2, 2, 4, 4): 64 entries

    def off_by_a_bit(x, weight, bias=None, stride=1, padding=0, dilation=1):
        out = expected.copy()
        out[0, 1, 2, 0] -= 0.25
        out[1, 0, 3, 3] += 0.125
        return out

    with pytest.raises(GradingFailure) as info:
        check_function(off_by_a_bit, convkit.conv2d, [((x, w), {})])
    message = str(info.value)
    assert message.startswith("conv2d(x of shape (2, 1, 4, 4), weight of shape (2, 1, 1, 1)): ")
    want = (
        f"values differ at index (0, 1, 2, 0): expected {expected[0, 1, 2, 0]:.6g}, "
        f"got {expected[0, 1, 2, 0] - 0.25:.6g} (max abs difference 0.25 over 2 of 64 entries)"
    )
    assert message.endswith(want), message


def test_small_inputs_are_written_out():
    def wrong(image, kernel):
        return np.zeros((2, 2))

    image = np.arange(9.0).reshape(3, 3)
    kernel = np.array([[0.0, 1.0], [2.0, 3.0]])
    with pytest.raises(GradingFailure) as info:
        check_function(wrong, convkit.correlate2d, [((image, kernel), {})])
    assert str(info.value) == (
        "correlate2d(image=[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]], "
        "kernel=[[0.0, 1.0], [2.0, 3.0]]): values differ at index (0, 0): expected 19.0, "
        "got 0.0 (max abs difference 43.0 over 4 of 4 entries)"
    )


def test_nan_is_reported_as_such():
    def with_nan(image, kernel):
        out = loops_correlate2d(image, kernel)
        out[0, 0] = np.nan
        return out

    with pytest.raises(GradingFailure, match=r"got nan at index \(0, 0\)"):
        check_function(with_nan, convkit.correlate2d, SINGLE_CASES)


def test_stub_says_not_written_yet():
    def stub(image, kernel):
        raise NotImplementedError()

    with pytest.raises(GradingFailure, match="correlate2d is not written yet"):
        check_function(stub, convkit.correlate2d, SINGLE_CASES)


def test_student_exception_is_reported_with_the_call():
    def broken(image, kernel):
        return image[100]

    with pytest.raises(GradingFailure, match=r"correlate2d\(image of shape .* raised IndexError"):
        check_function(broken, convkit.correlate2d, SINGLE_CASES)


def test_not_a_function():
    with pytest.raises(GradingFailure, match="not a function"):
        check_function(None, convkit.correlate2d, SINGLE_CASES)


def test_counts_must_be_ints():
    cases = random_cases("linear_params", n=3, seed=0)
    with pytest.raises(GradingFailure, match="a count should be an int"):
        check_function(lambda i, o, bias=True: float(i * o + o * bias), convkit.linear_params,
                       cases)
    with pytest.raises(GradingFailure, match=r"expected True or False|expected an int"):
        check_function(lambda i, o, bias=True: True, convkit.linear_params, cases)
    check_function(lambda i, o, bias=True: np.int64(i * o + o * bias), convkit.linear_params,
                   cases)


def test_wrong_count_message_uses_thousands_separators():
    with pytest.raises(GradingFailure, match=r"expected 1,572,864, got 1,573,376"):
        check_function(lambda i, o, bias=True: i * o + o, convkit.linear_params,
                       [((3072, 512), {"bias": False})])


def test_tuple_results_name_the_wrong_item():
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(1, 2, 5, 5)), rng.normal(size=(3, 2, 3, 3))
    g = rng.normal(size=(1, 3, 3, 3))

    gx, gw, gb = convkit.conv2d_backward(g, x, w)  # computed before grading starts

    def half_right(grad_out, x, weight, stride=1, padding=0, dilation=1):
        return gx.copy(), gw * 2, list(gb)
    with pytest.raises(GradingFailure) as info:
        check_function(half_right, convkit.conv2d_backward, [((g, x, w), {})])
    assert "in result[1] (item 2 of 3): values differ" in str(info.value)


def test_input_modified_in_place_fails():
    def destructive(image, kernel):
        out = loops_correlate2d(image, kernel)
        image *= 0
        return out

    with pytest.raises(GradingFailure, match="changed its input image in place"):
        check_function(destructive, convkit.correlate2d, SINGLE_CASES)


# -- what students return ----------------------------------------------------------
def test_list_result_is_accepted_and_checked():
    check_function(lambda image, kernel: loops_correlate2d(image, kernel).tolist(),
                   convkit.correlate2d, SINGLE_CASES)
    with pytest.raises(GradingFailure, match="values differ"):
        check_function(lambda image, kernel: (loops_correlate2d(image, kernel) + 1).tolist(),
                       convkit.correlate2d, SINGLE_CASES)


def test_ragged_or_non_numeric_lists_fail_clearly():
    with pytest.raises(GradingFailure, match=r"cannot be read as an array|dtype"):
        check_function(lambda image, kernel: [[1.0], [1.0, 2.0]], convkit.correlate2d,
                       SINGLE_CASES)
    with pytest.raises(GradingFailure, match="dtype"):
        check_function(lambda image, kernel: [["a"]], convkit.correlate2d, SINGLE_CASES)


def test_torch_tensor_result_is_refused_with_a_hint():
    def returns_tensor(image, kernel):
        return torch.from_numpy(loops_correlate2d(image, kernel))

    with pytest.raises(GradingFailure, match=r"torch tensor.*expected a numpy array"):
        check_function(returns_tensor, convkit.correlate2d, SINGLE_CASES)


class LyingArray(np.ndarray):
    """A numpy subclass that claims to equal anything and hides its numbers."""

    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

    __ne__ = __eq__

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._pretend)

    def __sub__(self, other):
        return np.zeros(np.shape(other))

    __rsub__ = __sub__

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(np.shape(inputs[0]))

    @property
    def shape(self):
        return self._pretend.shape


def test_numpy_subclass_tricks_are_ignored():
    def liar(image, kernel):
        wrong = np.zeros(np.subtract(image.shape, kernel.shape) + 1)
        fake = wrong.view(LyingArray)
        fake._pretend = loops_correlate2d(image, kernel)  # what __array__ would claim
        return fake

    with pytest.raises(GradingFailure, match="values differ"):
        check_function(liar, convkit.correlate2d, SINGLE_CASES)


def test_object_whose_array_hook_calls_torch_is_refused():
    class Sneaky:
        def __init__(self, image, kernel):
            self.args = (image, kernel)

        def __array__(self, dtype=None, copy=None):
            image, kernel = self.args
            t = torch_conv2d_alias(torch.from_numpy(image)[None, None],
                                   torch.from_numpy(kernel)[None, None])
            return t[0, 0].numpy()

    with pytest.raises(GradingFailure, match="expected a numpy array"):
        check_function(lambda image, kernel: Sneaky(image, kernel), convkit.correlate2d,
                       SINGLE_CASES)
    # inside a list, the hook runs while the guard is still watching
    with pytest.raises(ShortcutError, match=r"torch\.conv2d"):
        check_function(lambda image, kernel: [Sneaky(image, kernel)], convkit.correlate2d,
                       SINGLE_CASES)


# -- numpy and the reference cannot be replaced -------------------------------------
def test_replaced_np_allclose_is_detected(monkeypatch):
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    with pytest.raises(GradingFailure, match=r"numpy.allclose is no longer numpy's own"):
        check_function(loops_correlate2d, convkit.correlate2d, SINGLE_CASES)


def test_replaced_testing_helper_is_detected(monkeypatch):
    monkeypatch.setattr(np.testing, "assert_allclose", lambda *args, **kwargs: None)
    with pytest.raises(GradingFailure, match="assert_allclose is no longer numpy's own"):
        check_function(loops_correlate2d, convkit.correlate2d, SINGLE_CASES)


def test_comparison_does_not_use_replaceable_numpy_names(monkeypatch):
    # Even with np.abs / np.isfinite / np.asarray swapped for liars after import,
    # a wrong answer still fails (the grader holds its own references).
    import convkit.grading._trusted as trusted

    monkeypatch.setattr(trusted, "_WATCHED", ())  # switch off the loud check ...
    monkeypatch.setattr(np, "abs", lambda a: np.zeros(np.shape(a)))
    monkeypatch.setattr(np, "isfinite", lambda a: np.ones(np.shape(a), dtype=bool))
    monkeypatch.setattr(np, "max", lambda *a, **k: 0.0)
    with pytest.raises(GradingFailure, match="values differ"):  # ... and still catch it
        check_function(lambda image, kernel: loops_correlate2d(image, kernel) + 1,
                       convkit.correlate2d, SINGLE_CASES)


def test_replaced_reference_is_detected(monkeypatch):
    def wrong(image, kernel):
        return np.zeros(np.subtract(image.shape, kernel.shape) + 1)

    monkeypatch.setattr(convkit, "correlate2d", wrong)  # student "fixes" the reference
    with pytest.raises(GradingFailure, match="not convkit's own function"):
        check_function(wrong, convkit.correlate2d, SINGLE_CASES)


# -- the guard: every route to a library convolution is refused ---------------------
def _torch_pair(image, kernel):
    return torch.from_numpy(image)[None, None], torch.from_numpy(kernel)[None, None]


def via_convkit(image, kernel):
    return convkit.correlate2d(image, kernel)


def via_alias(image, kernel):
    x = image[None, None]
    return aliased_reference_conv2d(x, kernel[None, None])[0, 0]


def via_importlib(image, kernel):
    return importlib.import_module("convkit").correlate2d(image, kernel)


def via_getattr(image, kernel):
    return getattr(convkit, "correlate" + "2d")(image, kernel)


def via_other_reference(image, kernel):
    return convkit.conv2d_naive(image[None, None], kernel[None, None])[0, 0]


def via_im2col_reference(image, kernel):
    cols = convkit.im2col(image[None], kernel.shape)
    return (kernel.reshape(-1) @ cols).reshape(image.shape[0] - kernel.shape[0] + 1, -1)


def via_function_copy(image, kernel):
    ref = convkit.correlate2d
    clone = types.FunctionType(ref.__code__, ref.__globals__, "mine")
    return clone(image, kernel)


def via_renamed_code(image, kernel):
    import convkit.ops.correlation as module

    helper = module._correlate  # the reference's worker, disguised as the student's own
    code = helper.__code__.replace(co_filename="my_notebook.py", co_name="mine")
    mine = types.FunctionType(code, dict(vars(module)))
    return mine("correlate2d", image, kernel, flip=False)


def via_exec_of_source(image, kernel):
    import convkit.ops.correlation as module

    namespace = {"__name__": "my_copy", "__package__": "convkit"}
    exec(compile(inspect.getsource(module), "my_copy.py", "exec"), namespace)
    return namespace["correlate2d"](image, kernel)


def via_torch_conv2d(image, kernel):
    return torch.conv2d(*_torch_pair(image, kernel))[0, 0].numpy()


def via_torch_alias(image, kernel):
    return torch_conv2d_alias(*_torch_pair(image, kernel))[0, 0].numpy()


def via_torch_getattr(image, kernel):
    return torch.nn.functional.conv2d(*_torch_pair(image, kernel))[0, 0].numpy()


def via_torch_importlib(image, kernel):
    fn = importlib.import_module("torch.nn.functional").conv2d
    return fn(*_torch_pair(image, kernel))[0, 0].numpy()


def via_tensor_unfold_method(image, kernel):
    kh, kw = kernel.shape
    windows = torch.from_numpy(image).unfold(0, kh, 1).unfold(1, kw, 1)
    return (windows * torch.from_numpy(kernel)).sum(dim=(-2, -1)).numpy()


def via_tensor_unfold_unbound(image, kernel):
    kh, kw = kernel.shape
    t = torch.Tensor.unfold(torch.from_numpy(image), 0, kh, 1)
    windows = torch.Tensor.unfold(t, 1, kw, 1)
    return (windows * torch.from_numpy(kernel)).sum(dim=(-2, -1)).numpy()


def via_F_unfold(image, kernel):
    x, w = _torch_pair(image, kernel)
    cols = F.unfold(x, kernel.shape)
    return (w.reshape(1, -1) @ cols).reshape(image.shape[0] - kernel.shape[0] + 1, -1).numpy()


def via_im2col_builtin(image, kernel):
    x, w = _torch_pair(image, kernel)
    cols = torch._C._nn.im2col(x, list(kernel.shape), [1, 1], [0, 0], [1, 1])
    return (w.reshape(1, -1) @ cols).reshape(image.shape[0] - kernel.shape[0] + 1, -1).numpy()


def via_aten_overload(image, kernel):
    x, w = _torch_pair(image, kernel)
    out = torch.ops.aten.convolution.default(x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)
    return out[0, 0].numpy()


def via_aten_packet(image, kernel):
    return torch.ops.aten.conv2d(*_torch_pair(image, kernel))[0, 0].numpy()


ATEN_HANDLE = torch.ops.aten.convolution.default._op


def via_aten_handle(image, kernel):
    x, w = _torch_pair(image, kernel)
    return ATEN_HANDLE(x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)[0, 0].numpy()


def via_nn_module(image, kernel):
    layer = torch.nn.Conv2d(1, 1, kernel.shape, bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(kernel)[None, None])
        return layer(torch.from_numpy(image)[None, None])[0, 0].numpy()


def _conv_to_script(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return F.conv2d(x, w)


with warnings.catch_warnings():  # torch.jit.script is deprecated, not gone
    warnings.simplefilter("ignore", DeprecationWarning)
    SCRIPTED = torch.jit.script(_conv_to_script)


def via_torchscript_made_earlier(image, kernel):
    return SCRIPTED(*_torch_pair(image, kernel))[0, 0].numpy()


def via_torchscript_made_inside(image, kernel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        fn = torch.jit.script(_conv_to_script)
    return fn(*_torch_pair(image, kernel))[0, 0].numpy()


def via_max_pool_trick(image, kernel):
    F.max_pool2d(torch.from_numpy(image)[None, None], 1)
    return loops_correlate2d(image, kernel)


def via_avg_pool(image, kernel):
    F.avg_pool2d(torch.from_numpy(image)[None, None], 1)
    return loops_correlate2d(image, kernel)


def via_scipy_signal(image, kernel):
    import scipy.signal

    return scipy.signal.correlate2d(image, kernel, mode="valid")


def via_scipy_ndimage(image, kernel):
    import scipy.ndimage

    full = scipy.ndimage.correlate(image, kernel, mode="constant")  # centred on the kernel
    (kh, kw), (h, w) = kernel.shape, image.shape
    return full[kh // 2: kh // 2 + h - kh + 1, kw // 2: kw // 2 + w - kw + 1]


def via_np_correlate_rows(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for m in range(kh):
            out[i] += np.correlate(image[i + m], kernel[m], mode="valid")
    return out


def via_np_convolve_rows(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for m in range(kh):
            out[i] += np.convolve(image[i + m], kernel[m, ::-1], mode="valid")
    return out


def via_numpy_c_function(image, kernel):
    correlate = np._core.multiarray.correlate2
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for m in range(kh):
            out[i] += correlate(image[i + m], kernel[m], 0)
    return out


def via_swallowed_refusal(image, kernel):
    try:
        return convkit.correlate2d(image, kernel)
    except Exception:
        return loops_correlate2d(image, kernel)


def via_switching_profile_off(image, kernel):
    try:
        sys.setprofile(None)
    except Exception:
        pass
    return via_torch_conv2d(image, kernel)


def via_threading_setprofile(image, kernel):
    threading.setprofile(None)
    return via_torch_conv2d(image, kernel)


def via_thread(image, kernel):
    box = []
    worker = threading.Thread(target=lambda: box.append(via_torch_conv2d(image, kernel)))
    worker.start()
    worker.join()
    return box[0]


def via_gc_inspection(image, kernel):
    gc.get_referrers(sys.getprofile)
    return via_torch_conv2d(image, kernel)


def via_popping_dispatch_mode(image, kernel):
    from torch.utils._python_dispatch import _pop_mode

    _pop_mode()
    return via_aten_handle(image, kernel)


def via_disabled_dispatch(image, kernel):
    with torch._C._DisableTorchDispatch():
        return via_aten_handle(image, kernel)


def via_ctypes(image, kernel):
    import ctypes

    ctypes.CDLL(None)
    return loops_correlate2d(image, kernel)


def via_grader_internals(image, kernel):
    from convkit.grading import cases

    matrix = cases._correlation_matrix(kernel, *image.shape)
    return (matrix @ image.reshape(-1)).reshape(image.shape[0] - kernel.shape[0] + 1, -1)


BYPASSES = {
    via_convkit: "convkit's reference code",
    via_alias: "convkit's reference code",
    via_importlib: "convkit's reference code",
    via_getattr: "convkit's reference code",
    via_other_reference: "convkit's reference code",
    via_im2col_reference: "convkit's reference code",
    via_function_copy: "convkit's reference code",
    via_renamed_code: "a copy of convkit's",
    via_exec_of_source: "a copy of convkit's",
    via_torch_conv2d: "torch.conv2d",
    via_torch_alias: "torch.conv2d",
    via_torch_getattr: "torch.conv2d",
    via_torch_importlib: "torch.conv2d",
    via_tensor_unfold_method: "Tensor.unfold",
    via_tensor_unfold_unbound: "Tensor.unfold",
    via_F_unfold: "torch.nn.functional.unfold",
    via_im2col_builtin: "torch._C._nn.im2col",
    via_aten_overload: "aten::convolution",
    via_aten_packet: "aten::conv2d",
    via_aten_handle: "torch operator handle",
    via_nn_module: "torch/nn/modules/conv.py",
    via_torchscript_made_earlier: "makes torch run aten::",
    via_torchscript_made_inside: "torch",
    via_max_pool_trick: "max_pool2d",
    via_avg_pool: "avg_pool2d",
    via_scipy_signal: "scipy.signal",
    via_scipy_ndimage: "scipy.ndimage",
    via_np_correlate_rows: "np.correlate",
    via_np_convolve_rows: "np.convolve",
    via_numpy_c_function: "numpy's correlate2",
    via_swallowed_refusal: "convkit's reference code",
    via_switching_profile_off: "sys.setprofile",
    via_threading_setprofile: "profiling hooks",
    via_thread: "_thread.start",
    via_gc_inspection: "gc.get_referrers",
    via_popping_dispatch_mode: "torch",
    via_disabled_dispatch: "torch operator handle",
    via_ctypes: "ctypes",
    via_grader_internals: "grader's own case generator",
}


@pytest.mark.parametrize("student", list(BYPASSES), ids=lambda f: f.__name__)
def test_every_shortcut_is_refused(student):
    # sanity: each shortcut really computes the right answer when nobody is watching
    # (except the ones whose whole point is to switch the watcher off first)
    if student not in (via_switching_profile_off, via_threading_setprofile,
                       via_gc_inspection, via_popping_dispatch_mode):
        image, kernel = SINGLE_CASES[0][0]
        if min(image.shape) >= max(kernel.shape):
            got = np.asarray(student(image, kernel))
            assert np.allclose(got, convkit.correlate2d(image, kernel))
    with pytest.raises(ShortcutError) as info:
        check_function(student, convkit.correlate2d, SINGLE_CASES)
    message = str(info.value)
    assert message.startswith("correlate2d(image of shape") or message.startswith("correlate2d(")
    assert "not accepted" in message
    assert BYPASSES[student] in message, message
    # the guard is gone afterwards and torch works normally again
    assert sys.getprofile() is None
    assert torch.conv2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2)).item() == 4.0


def test_allow_lets_an_exercise_use_a_named_reference():
    rng = np.random.default_rng(5)
    image, kernel = rng.normal(size=(7, 7)), rng.normal(size=(3, 3))

    def blur(a):
        return convkit.correlate2d(a, kernel)

    def student_error(op, x, dy, dx, margin):
        a = op(convkit.lessons.equivariance.shift2d(x, dy, dx))
        b = convkit.lessons.equivariance.shift2d(op(x), dy, dx)
        inner = (..., slice(margin, a.shape[-2] - margin), slice(margin, a.shape[-1] - margin))
        return float(np.max(np.abs(a[inner] - b[inner])))

    cases = [((blur, image, 1, 1, 1), {})]
    # shift2d is one of the references of this very assignment: refused ...
    with pytest.raises(ShortcutError, match="shift2d"):
        check_function(student_error, convkit.lessons.equivariance.equivariance_error, cases,
                       allow=(convkit.correlate2d,))
    # ... the operation under test, correlate2d, is allowed and runs with its internals
    check_function(student_error, convkit.lessons.equivariance.equivariance_error, cases,
                   allow=(convkit.correlate2d, convkit.lessons.equivariance.shift2d))


def test_no_shortcuts_context_manager_directly():
    with pytest.raises(ShortcutError, match=r"torch\.conv2d"):
        with no_shortcuts():
            torch.conv2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 1, 1))
    with no_shortcuts():
        total = float(np.sum(np.ones(3)) + torch.ones(2).sum().item())
    assert total == 5.0


# -- random cases -------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["linear_params", "conv2d_params", "conv1d_matrix", "shift2d",
                                  "equivariance_error", "correlate2d", "convolve2d", "conv1d",
                                  "conv2d"])
def test_random_cases_are_reproducible_and_valid(kind):
    first = random_cases(kind, n=8, seed=3)
    again = random_cases(kind, n=8, seed=3)
    other = random_cases(kind, n=8, seed=4)

    def summary(cases):
        return [repr([a if not callable(a) else a.__name__ for a in args]) + repr(kw)
                for args, kw in cases]

    assert summary(first) == summary(again)
    assert summary(first) != summary(other)
    reference = {"linear_params": convkit.linear_params,
                 "conv2d_params": convkit.conv2d_params,
                 "conv1d_matrix": convkit.lessons.equivariance.conv1d_matrix,
                 "shift2d": convkit.shift2d,
                 "equivariance_error": convkit.lessons.equivariance.equivariance_error,
                 "correlate2d": convkit.correlate2d, "convolve2d": convkit.convolve2d,
                 "conv1d": convkit.conv1d, "conv2d": convkit.conv2d}[kind]
    for args, kwargs in first:  # every case is valid input for the reference
        reference(*args, **kwargs)


def test_random_cases_rejects_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind"):
        random_cases("conv3d")


def test_equivariance_cases_tell_right_from_wrong():
    cases = random_cases("equivariance_error", n=25, seed=1006)
    values = [convkit.lessons.equivariance.equivariance_error(*args, **kw) for args, kw in cases]
    assert any(v > 1e-3 for v in values) and any(v < 1e-12 for v in values)

    def always_zero(op, x, dy, dx, margin):
        return 0.0

    with pytest.raises(GradingFailure, match="expected"):
        check_function(always_zero, convkit.lessons.equivariance.equivariance_error, cases)


# -- the assignments ------------------------------------------------------------------
ASSIGNMENTS = ["ch00", "ch01"]


def _cells(path):
    import nbformat

    return nbformat.read(path, as_version=4).cells


def _nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_notebook_metadata(name):
    cells = _cells(ROOT / "solutions" / name / f"{name}.ipynb")
    graded = [c for c in cells if _nbgrader(c).get("grade")]
    ids = [_nbgrader(c)["grade_id"] for c in cells if _nbgrader(c)]
    assert len(ids) == len(set(ids)), "grade ids must be unique"
    assert all(_nbgrader(c)["schema_version"] == 3 for c in cells if _nbgrader(c))
    assert sum(_nbgrader(c)["points"] for c in graded) == 10
    manual = [c for c in graded if c.cell_type == "markdown"]
    assert len(manual) <= 1 and all(_nbgrader(c)["solution"] for c in manual)
    tests = [c for c in graded if c.cell_type == "code"]
    assert all(_nbgrader(c)["locked"] and not _nbgrader(c)["solution"] for c in tests)
    hidden = [c for c in tests if "### BEGIN HIDDEN TESTS" in c.source]
    visible = [c for c in tests if "BEGIN HIDDEN TESTS" not in c.source]
    assert hidden and visible
    hidden_points = sum(_nbgrader(c)["points"] for c in hidden)
    visible_points = sum(_nbgrader(c)["points"] for c in visible)
    assert hidden_points > visible_points
    for cell in hidden:  # checked against convkit on seeded random cases
        # (a predict-then-measure item checks the student's functions on its own case)
        if "predict" not in _nbgrader(cell)["grade_id"]:
            assert re.search(r"random_cases\(.*seed=\d+", cell.source, re.S)
        assert "from convkit.grading import check_function" in cell.source
    for cell in cells:  # instructions and tests are locked
        if not _nbgrader(cell).get("solution"):
            assert _nbgrader(cell).get("locked"), cell.source[:60]
        assert not cell.get("outputs"), "notebooks are committed without outputs"


def _run_cells(cells, namespace, *, skip_solutions=False):
    """Execute the notebook's code cells in order; return {grade_id: exception or None}."""
    results = {}
    for cell in cells:
        if cell.cell_type != "code":
            continue
        meta = _nbgrader(cell)
        try:
            exec(compile(cell.source, f"<{meta.get('grade_id')}>", "exec"), namespace)
        except Exception as exc:
            results[meta.get("grade_id")] = exc
        else:
            results[meta.get("grade_id")] = None
    return results


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_notebook_passes_every_test(name, capsys):
    cells = _cells(ROOT / "solutions" / name / f"{name}.ipynb")
    results = _run_cells(cells, {"__name__": "__main__"})
    assert {k: v for k, v in results.items() if v is not None} == {}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_released_notebook_fails_every_graded_test(name, capsys):
    released = _cells(ROOT / "exercises" / name / f"{name}.ipynb")
    for cell in released:
        assert "BEGIN SOLUTION" not in cell.source and "HIDDEN TESTS" not in cell.source
    # the graded cells of the release, run with the source's hidden tests restored
    source = _cells(ROOT / "solutions" / name / f"{name}.ipynb")
    source_tests = {_nbgrader(c)["grade_id"]: c for c in source if _nbgrader(c).get("grade")}
    cells = [source_tests.get(_nbgrader(c).get("grade_id"), c) for c in released]
    results = _run_cells(cells, {"__name__": "__main__"})
    for grade_id, cell in source_tests.items():
        if cell.cell_type == "code":
            assert isinstance(results[grade_id], GradingFailure), grade_id
            assert "not written yet" in str(results[grade_id])


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_hidden_tests_survive_shadowed_names_and_catch_wrong_answers(name, capsys):
    cells = _cells(ROOT / "solutions" / name / f"{name}.ipynb")
    namespace = {"__name__": "__main__"}
    _run_cells([c for c in cells if not _nbgrader(c).get("grade")], namespace)
    hidden = [c for c in cells if "BEGIN HIDDEN TESTS" in c.source]
    # the student shadows the grader's names: the hidden cells import their own
    saboteur = dict(namespace, check_function=lambda *a, **k: None, convkit=None,
                    random_cases=None, np=None)
    assert all(v is None for v in _run_cells(hidden, saboteur).values())
    # every function answered wrongly (scaled result) fails its hidden tests
    for fn_name in ("linear_params", "conv2d_params", "conv1d_matrix", "shift2d",
                    "equivariance_error", "conv1d", "correlate2d", "convolve2d", "conv2d"):
        if fn_name not in namespace:
            continue
        right = namespace[fn_name]

        def wrong(*args, _right=right, **kwargs):
            out = _right(*args, **kwargs)
            return out * 2 + 1

        broken = dict(namespace, **{fn_name: wrong})
        results = _run_cells(hidden, broken)
        failing = [gid for gid, exc in results.items() if isinstance(exc, GradingFailure)]
        fragment = {"equivariance_error": "equivariance"}.get(fn_name, fn_name.replace("_", "-"))
        assert any(fragment in gid for gid in failing), (fn_name, results)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_hidden_tests_refuse_the_reference(name, capsys):
    cells = _cells(ROOT / "solutions" / name / f"{name}.ipynb")
    namespace = {"__name__": "__main__"}
    _run_cells([c for c in cells if not _nbgrader(c).get("grade")], namespace)
    hidden = [c for c in cells if "BEGIN HIDDEN TESTS" in c.source]
    cheats = {
        "linear_params": convkit.linear_params,
        "conv2d_params": convkit.conv2d_params,
        "conv1d_matrix": convkit.lessons.equivariance.conv1d_matrix,
        "shift2d": convkit.lessons.equivariance.shift2d,
        "equivariance_error": convkit.lessons.equivariance.equivariance_error,
        "conv1d": convkit.conv1d,
        "correlate2d": convkit.correlate2d,
        "convolve2d": convkit.convolve2d,
        "conv2d": convkit.conv2d,
    }
    cheating = dict(namespace, **{k: v for k, v in cheats.items() if k in namespace})
    results = _run_cells(hidden, cheating)
    assert all(isinstance(exc, ShortcutError) for exc in results.values()), results


def test_cases_are_deep_copied_for_the_student():
    cases = random_cases("correlate2d", n=2, seed=0)
    kept = copy.deepcopy(cases)

    def scribbles(image, kernel):
        image[...] = 0
        return loops_correlate2d(image, kernel)

    with pytest.raises(GradingFailure):
        check_function(scribbles, convkit.correlate2d, cases)
    for (a, _), (b, _) in zip(cases, kept, strict=True):
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


# -- static scan for attacks on the grader itself -------------------------------------
def test_scan_flags_attacks_on_the_grader():
    from convkit.grading import suspicious_lines

    source = "\n".join([
        "import convkit.grading",
        "convkit.grading.check_function = lambda *a, **k: None",
        "np.allclose = lambda *a, **k: True",
        "sys.setprofile(None)",
        "worker = threading.Thread(target=run)",
        "code = conv2d.__code__",
        "sys.modules['convkit.grading'] = fake",
        "# a comment mentioning sys.modules is fine",
        "out[..., i, j] = np.sum(window * kernel)",
        "if np.all(a == b):",
    ])
    flagged = [f.line for f in suspicious_lines(source)]
    assert flagged == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_scan_finds_nothing_in_honest_notebooks(folder, name):
    import nbformat

    from convkit.grading import scan_notebook

    nb = nbformat.read(ROOT / folder / name / f"{name}.ipynb", as_version=4)
    assert scan_notebook(nb) == []


def test_replaced_random_generator_is_detected(monkeypatch):
    import convkit.grading.cases as cases

    monkeypatch.setattr(cases, "default_rng", lambda seed: types.SimpleNamespace())
    with pytest.raises(GradingFailure, match="random generator has been replaced"):
        random_cases("conv2d", n=2, seed=0)


# -- conv1d: numpy's and torch's 1-D convolutions are shortcuts too ---------------------
CONV1D_CASES = random_cases("conv1d", n=4, seed=11)
torch_conv1d_alias = F.conv1d


def conv1d_via_np_correlate(x, weight, bias=None, stride=1, padding=0, dilation=1):
    n, c, length = x.shape
    o, _, k = weight.shape
    out = np.zeros((n, o, length - k + 1))
    for i in range(n):
        for j in range(o):
            for ch in range(c):
                out[i, j] += np.correlate(x[i, ch], weight[j, ch], mode="valid")
    return out if bias is None else out + bias[None, :, None]


def conv1d_via_torch_alias(x, weight, bias=None, stride=1, padding=0, dilation=1):
    b = None if bias is None else torch.from_numpy(bias)
    return torch_conv1d_alias(torch.from_numpy(x), torch.from_numpy(weight), b).numpy()


def conv1d_via_tensor_method(x, weight, bias=None, stride=1, padding=0, dilation=1):
    windows = torch.from_numpy(x).unfold(2, weight.shape[-1], 1)  # (N, C, L_out, k)
    out = torch.einsum("nclk,ock->nol", windows, torch.from_numpy(weight)).numpy()
    return out if bias is None else out + bias[None, :, None]


def conv1d_honest(x, weight, bias=None, stride=1, padding=0, dilation=1):
    windows = sliding_window_view(x, weight.shape[-1], axis=-1)  # (N, C, L_out, k)
    out = np.einsum("nclk,ock->nol", windows, weight)
    return out if bias is None else out + bias[None, :, None]


@pytest.mark.parametrize(("student", "reason"), [
    (conv1d_via_np_correlate, "np.correlate"),
    (conv1d_via_torch_alias, "torch.conv1d"),
    (conv1d_via_tensor_method, "Tensor.unfold"),
])
def test_conv1d_shortcuts_are_refused(student, reason):
    args, kwargs = CONV1D_CASES[0]
    assert np.allclose(student(*args, **kwargs), convkit.conv1d(*args, **kwargs))
    with pytest.raises(ShortcutError, match=re.escape(reason)):
        check_function(student, convkit.conv1d, CONV1D_CASES)


def test_conv1d_honest_vectorised_solution_passes():
    check_function(conv1d_honest, convkit.conv1d, CONV1D_CASES)
