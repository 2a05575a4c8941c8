"""The course's worked examples, with their exact numbers."""

import numpy as np
import pytest
import torch

from convkit import (
    conv1d,
    conv2d_params,
    convolve2d,
    correlate2d,
    linear_params,
    output_size,
    receptive_field,
)

pytestmark = pytest.mark.usefixtures("one_thread")

IMAGE = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
KERNEL = [[0, 1], [2, 3]]


def test_correlate2d_worked_example():
    """correlate2d([[0,1,2],[3,4,5],[6,7,8]], [[0,1],[2,3]]) == [[19,25],[37,43]]."""
    out = correlate2d(IMAGE, KERNEL)
    assert out.shape == (2, 2)
    np.testing.assert_array_equal(out, [[19, 25], [37, 43]])


def test_convolve2d_worked_example_is_correlation_with_flipped_kernel():
    """convolve2d(I, K) == correlate2d(I, K[::-1, ::-1]) == [[5, 11], [23, 29]]."""
    out = convolve2d(IMAGE, KERNEL)
    np.testing.assert_array_equal(out, correlate2d(IMAGE, np.array(KERNEL)[::-1, ::-1]))
    np.testing.assert_array_equal(out, [[5, 11], [23, 29]])


def test_conv1d_worked_example_is_cross_correlation():
    """Signal [1..5] with kernel [1, 0, -1]: conv1d gives [-2, -2, -2] (length L - K + 1)."""
    x = np.array([1.0, 2, 3, 4, 5]).reshape(1, 1, 5)
    out = conv1d(x, np.array([1.0, 0, -1]).reshape(1, 1, 3))
    assert out.shape == (1, 1, 3)
    np.testing.assert_array_equal(out[0, 0], [-2, -2, -2])


def test_conv1d_worked_example_true_convolution():
    """True convolution (flipped kernel [-1, 0, 1]) of [1..5] gives [2, 2, 2]."""
    x = np.array([1.0, 2, 3, 4, 5]).reshape(1, 1, 5)
    flipped = np.array([1.0, 0, -1])[::-1].reshape(1, 1, 3)
    np.testing.assert_array_equal(conv1d(x, flipped)[0, 0], [2, 2, 2])


def test_conv1d_worked_example_unbatched():
    """The same example on unbatched (C, L) input returns (C_out, L_out)."""
    out = conv1d(np.array([[1.0, 2, 3, 4, 5]]), np.array([[[1.0, 0, -1]]]))
    assert out.shape == (1, 3)
    np.testing.assert_array_equal(out[0], [-2, -2, -2])


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [((7, 3), {"stride": 2}, 3), ((32, 5), {"padding": 2}, 32), ((28, 5), {}, 24),
     ((5, 3), {"dilation": 2}, 1)],
)
def test_output_size_worked_examples(args, kwargs, expected):
    """output_size(7,3,stride=2)=3; output_size(32,5,padding=2)=32; and two more."""
    assert output_size(*args, **kwargs) == expected


@pytest.mark.parametrize(
    ("cin", "cout", "k", "expected"),
    [(3, 64, 3, 1_792), (64, 64, 3, 36_928), (64, 128, 3, 73_856), (3, 64, (3, 3), 1_792)],
)
def test_conv2d_params_worked_examples(cin, cout, k, expected):
    """VGG-style 3x3 conv layers: 1,792 / 36,928 / 73,856 parameters."""
    assert conv2d_params(cin, cout, k) == expected


def test_conv2d_params_without_bias():
    """bias=False drops the C_out bias terms."""
    assert conv2d_params(3, 64, 3, bias=False) == 1_728


def test_conv1d_layer_parameter_count():
    """Conv1d(17, 64, 3) has 17*64*3 + 64 = 3,328 parameters (a 1x3 conv2d; torch agrees)."""
    torch_count = sum(p.numel() for p in torch.nn.Conv1d(17, 64, 3).parameters())
    assert torch_count == 17 * 64 * 3 + 64 == 3_328
    assert conv2d_params(17, 64, (1, 3)) == torch_count


@pytest.mark.parametrize(
    ("fin", "fout", "bias", "expected"),
    [(32 * 32 * 3, 512, False, 1_572_864), (224 * 224 * 3, 1000, False, 150_528_000),
     (32 * 32 * 3, 512, True, 1_573_376)],
)
def test_linear_params_worked_examples(fin, fout, bias, expected):
    """Dense layers on images: 1,572,864 and 150,528,000 weights."""
    assert linear_params(fin, fout, bias=bias) == expected


@pytest.mark.parametrize(
    ("layers", "expected"),
    [([], 1), ([(3, 1), (3, 1)], 5), ([(3, 1)] * 3, 7), ([(3, 2), (3, 2)], 7),
     ([(2, 2), (2, 2), (2, 2)], 8), ([(3, 1, 1), (3, 1, 2), (3, 1, 4)], 15)],
    ids=["empty", "two-3x3", "three-3x3", "stride-2", "2x2-stride-2-stack", "dilated"],
)
def test_receptive_field_worked_examples(layers, expected):
    """Empty -> 1; two 3x3 -> 5; stride-2 and dilated stacks (checked by brute force too)."""
    assert receptive_field(layers) == expected
