"""UnfoldConv2d (unfold + matmul) against torch.nn.Conv2d: outputs, gradients, init, errors."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from convkit.nn.unfold_conv import UnfoldConv2d

pytestmark = pytest.mark.usefixtures("one_thread")


@st.composite
def layer_cases(draw):
    """(in, out, kernel, stride, padding, bias, input shape) whose kernel fits the input."""
    c_in, c_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    pair = st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4)))
    kernel, stride = draw(pair), draw(pair)
    padding = draw(st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2))))
    kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    ph, pw = padding if isinstance(padding, tuple) else (padding, padding)
    h = draw(st.integers(max(1, kh - 2 * ph), 9))
    w = draw(st.integers(max(1, kw - 2 * pw), 9))
    n = draw(st.integers(1, 3))
    return c_in, c_out, kernel, stride, padding, draw(st.booleans()), (n, c_in, h, w)


def _pair(conv_args, dtype=torch.float64):
    c_in, c_out, kernel, stride, padding, bias = conv_args
    ref = nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=bias, dtype=dtype)
    ours = UnfoldConv2d.from_conv(ref)
    return ref, ours


@settings(max_examples=60)
@given(layer_cases(), st.integers(0, 2**31 - 1))
def test_outputs_and_gradients_match_nn_conv2d(case, seed):
    """Same output and same grads for input, weight and bias as nn.Conv2d (float64)."""
    *conv_args, shape = case
    torch.manual_seed(seed)
    ref, ours = _pair(conv_args)
    x = torch.randn(shape, dtype=torch.float64)
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ref, out_ours = ref(x_ref), ours(x_ours)
    assert out_ours.shape == out_ref.shape
    torch.testing.assert_close(out_ours, out_ref, rtol=1e-12, atol=1e-12)

    grad_out = torch.randn(out_ref.shape, dtype=torch.float64)
    out_ref.backward(grad_out)
    out_ours.backward(grad_out)
    torch.testing.assert_close(x_ours.grad, x_ref.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad, rtol=1e-12, atol=1e-12)
    if ref.bias is not None:
        torch.testing.assert_close(ours.bias.grad, ref.bias.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("c_in", "c_out", "kernel", "stride", "padding", "shape"),
    [(2, 3, (3, 2), (2, 1), (1, 0), (2, 2, 5, 4)), (1, 2, 2, 1, 1, (1, 1, 3, 3))],
)
def test_gradcheck_against_finite_differences(c_in, c_out, kernel, stride, padding, shape):
    """torch.autograd.gradcheck: analytic grads of x, weight and bias == central differences
    (the parameters are passed in through torch.func.functional_call)."""
    torch.manual_seed(0)
    layer = UnfoldConv2d(c_in, c_out, kernel, stride, padding, dtype=torch.float64)
    weight = layer.weight.detach().clone().requires_grad_()
    bias = layer.bias.detach().clone().requires_grad_()
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)

    def f(inp, w, b):
        return torch.func.functional_call(layer, {"weight": w, "bias": b}, (inp,))

    assert torch.autograd.gradcheck(f, (x, weight, bias))


def test_same_initialisation_as_nn_conv2d_for_the_same_seed():
    """Parameter names, shapes, dtypes and random values equal nn.Conv2d's under one seed."""
    torch.manual_seed(123)
    ref = nn.Conv2d(3, 5, (3, 2))
    torch.manual_seed(123)
    ours = UnfoldConv2d(3, 5, (3, 2))
    assert [n for n, _ in ours.named_parameters()] == ["weight", "bias"]
    assert ours.weight.shape == (5, 3, 3, 2) and ours.bias.shape == (5,)
    torch.testing.assert_close(ours.weight, ref.weight, rtol=0, atol=0)
    torch.testing.assert_close(ours.bias, ref.bias, rtol=0, atol=0)
    assert ours.weight.dtype == torch.float32


def test_no_bias_and_unbatched_input():
    torch.manual_seed(2)
    ref = nn.Conv2d(2, 3, 3, padding=1, bias=False)
    ours = UnfoldConv2d.from_conv(ref)
    assert ours.bias is None and [n for n, _ in ours.named_parameters()] == ["weight"]
    x = torch.randn(2, 6, 7)
    torch.testing.assert_close(ours(x), ref(x))
    assert ours(x).shape == (3, 6, 7)
    assert "bias=False" in repr(ours)


def test_float32_matches_within_single_precision():
    torch.manual_seed(3)
    ref, ours = _pair((4, 8, 5, 1, 2, True), dtype=torch.float32)
    x = torch.randn(8, 4, 28, 28)
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"in_channels": 0}, ValueError, "in_channels must be positive"),
        ({"out_channels": 2.0}, TypeError, "out_channels must be an int"),
        ({"kernel_size": (3, 3, 3)}, ValueError, "kernel_size must be an int or a pair"),
        ({"kernel_size": 0}, ValueError, "kernel_size must be positive"),
        ({"stride": 0}, ValueError, "stride must be positive"),
        ({"padding": -1}, ValueError, "padding must be non-negative"),
        ({"padding": "same"}, TypeError, "padding must be an int"),
        ({"bias": 1}, TypeError, "bias must be True or False"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, match):
    args = {"in_channels": 1, "out_channels": 1, "kernel_size": 3} | kwargs
    with pytest.raises(error, match=match):
        UnfoldConv2d(**args)


def test_bad_inputs_give_clear_errors():
    layer = UnfoldConv2d(3, 2, 5)
    with pytest.raises(ValueError, match="expected 3 input channels, got 1"):
        layer(torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match=r"shape \(N, C_in, H, W\)"):
        layer(torch.zeros(8, 8))
    with pytest.raises(ValueError, match=r"does not fit the padded input height: padded size 4"):
        layer(torch.zeros(1, 3, 4, 8))
    with pytest.raises(TypeError, match=r"must be a torch\.Tensor"):
        layer([[1.0]])
    with pytest.raises(TypeError, match="dtype"):
        layer(torch.zeros(1, 3, 8, 8, dtype=torch.float64))
    with pytest.raises(ValueError, match="dilation 1"):
        UnfoldConv2d.from_conv(nn.Conv2d(1, 1, 3, dilation=2))
