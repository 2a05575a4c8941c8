"""The public API: every operation is exported from convkit with __all__, and documented."""

import inspect

import pytest

import convkit

PUBLIC = [
    "pad2d", "correlate2d", "convolve2d", "conv1d", "conv2d", "conv2d_naive", "im2col",
    "conv2d_backward", "max_pool2d", "avg_pool2d", "global_avg_pool2d", "max_pool2d_backward",
    "output_size", "conv2d_params", "linear_params", "receptive_field",
    "batch_norm", "batch_norm_naive", "batch_norm_backward", "group_norm", "layer_norm",
    "kaiming_std", "xavier_std", "dropout", "dropout_backward", "conv_transpose2d",
    "conv_transpose2d_naive", "mask_iou",
]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_function_is_exported_and_documented(name):
    """convkit.<name> exists, is listed in __all__ and has a docstring."""
    fn = getattr(convkit, name)
    assert name in convkit.__all__
    assert callable(fn)
    assert inspect.getdoc(fn), f"{name} has no docstring"


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("conv2d", ["x", "weight", "bias", "stride", "padding", "dilation", "groups"]),
        ("conv2d_naive", ["x", "weight", "bias", "stride", "padding", "dilation", "groups"]),
        ("conv_transpose2d", ["x", "weight", "bias", "stride", "padding", "output_padding",
                              "groups", "dilation"]),
        ("conv_transpose2d_naive", ["x", "weight", "bias", "stride", "padding",
                                    "output_padding", "groups", "dilation"]),
        ("conv1d", ["x", "weight", "bias", "stride", "padding", "dilation"]),
        ("im2col", ["x", "kernel_size", "stride", "padding", "dilation"]),
        ("conv2d_backward", ["grad_out", "x", "weight", "stride", "padding", "dilation"]),
        ("max_pool2d", ["x", "kernel_size", "stride", "padding"]),
        ("avg_pool2d", ["x", "kernel_size", "stride", "padding", "count_include_pad"]),
        ("max_pool2d_backward", ["grad_out", "x", "kernel_size", "stride", "padding"]),
        ("output_size", ["size", "kernel_size", "stride", "padding", "dilation"]),
        ("pad2d", ["x", "padding", "value"]),
        ("batch_norm", ["x", "running_mean", "running_var", "weight", "bias", "training",
                        "momentum", "eps"]),
        ("batch_norm_backward", ["grad_out", "x", "running_mean", "running_var", "weight",
                                 "training", "eps"]),
        ("group_norm", ["x", "num_groups", "weight", "bias", "eps"]),
        ("layer_norm", ["x", "normalized_shape", "weight", "bias", "eps"]),
        ("kaiming_std", ["shape", "a", "mode", "nonlinearity"]),
        ("dropout", ["x", "p", "training", "rng"]),
    ],
)
def test_signatures_follow_the_spec(name, params):
    """Argument names and order are those of the spec (torch.nn.functional's)."""
    assert list(inspect.signature(getattr(convkit, name)).parameters) == params
