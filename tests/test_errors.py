"""Bad inputs raise the promised ValueError / TypeError with a helpful message of our own.

Each message must name the problem (a key word, matched loosely) and the values or
shapes involved; numpy's own errors (broadcasting, reshape, IndexError...) must not leak.
"""

import re

import numpy as np
import pytest

from convkit import (
    avg_pool2d,
    conv1d,
    conv2d,
    conv2d_backward,
    conv2d_naive,
    conv2d_params,
    convolve2d,
    correlate2d,
    global_avg_pool2d,
    im2col,
    linear_params,
    max_pool2d,
    max_pool2d_backward,
    output_size,
    pad2d,
    receptive_field,
)

pytestmark = pytest.mark.usefixtures("one_thread")

# Words of numpy/Python internals that must never be the whole story.
FOREIGN = (
    "could not be broadcast",
    "not aligned",
    "subscripts",
    "out of bounds",
    "index out of range",
    "cannot reshape",
    "negative dimensions",
    "core dimension",
    "object of type",
    "not subscriptable",
    "unsupported operand",
)
FIT = r"fit|too (large|big|small)|larger|bigger|exceed|smaller|at least|at most|must be <="
DIM = r"dim|ndim|\d-?d\b|axes|axis|shape"


def shape_re(shape) -> str:
    """Regex for a shape written as a tuple '(2, 3, 8, 8)' or as '2x3x8x8'."""
    tup = r"\(" + r",\s*".join(map(str, shape)) + (r",?" if len(shape) == 1 else "") + r"\)"
    return tup + "|" + r"\s*[x×]\s*".join(map(str, shape))


def num(v) -> str:
    """Regex for the number v standing on its own (not as part of a longer number)."""
    return rf"(?<![\d.]){re.escape(str(v))}(?![\d])"


def raises(exc_type, fn, *args, needs=(), **kwargs):
    """Call fn, require exc_type with every regex of `needs` (case-insensitive) in the message."""
    pattern = "(?is)" + "".join(f"(?=.*(?:{n}))" for n in needs)
    with pytest.raises(exc_type, match=pattern) as info:
        fn(*args, **kwargs)
    exc = info.value
    assert not isinstance(exc, IndexError | np.exceptions.AxisError), repr(exc)
    msg = str(exc).lower()
    leaked = [f for f in FOREIGN if f in msg]
    assert not leaked, f"numpy/python internals leaked into the message: {exc!r}"
    return exc


def ident(value) -> str:
    """Readable, deterministic test ids (names for functions and exception classes)."""
    if isinstance(value, tuple) and all(isinstance(v, type) for v in value):
        return "|".join(v.__name__ for v in value)
    return getattr(value, "__name__", None) or str(value)


def a(*shape):
    return np.ones(shape)


CONV2D = [conv2d, conv2d_naive]
CONV_IDS = ["conv2d", "conv2d_naive"]


# --------------------------------------------------------------------------- conv2d family
@pytest.mark.parametrize("fn", CONV2D, ids=CONV_IDS)
def test_conv2d_channel_mismatch(fn):
    """Channel mismatch names 'channel' and both shapes."""
    raises(ValueError, fn, a(2, 3, 8, 8), a(5, 4, 3, 3),
           needs=["channel", shape_re((2, 3, 8, 8)), shape_re((5, 4, 3, 3))])


@pytest.mark.parametrize("fn", CONV2D, ids=CONV_IDS)
def test_conv2d_channel_mismatch_unbatched(fn):
    """Channel mismatch on unbatched input names the shapes too."""
    raises(ValueError, fn, a(3, 8, 8), a(5, 4, 3, 3),
           needs=["channel", shape_re((3, 8, 8)), shape_re((5, 4, 3, 3))])


@pytest.mark.parametrize("fn", CONV2D, ids=CONV_IDS)
@pytest.mark.parametrize("bshape", [(4,), (5, 1), (1, 5), ()], ids=ident)
def test_conv2d_bias_wrong_shape(fn, bshape):
    """A bias that is not (C_out,) is rejected, naming 'bias', its shape and C_out."""
    raises(ValueError, fn, a(2, 3, 8, 8), a(5, 3, 3, 3), np.ones(bshape),
           needs=["bias", shape_re(bshape) if bshape else r"\(\)|scalar|0-?d", num(5)])


@pytest.mark.parametrize("fn", CONV2D, ids=CONV_IDS)
def test_conv2d_dilated_window_does_not_fit(fn):
    """A dilated window larger than the padded input names both sizes (8 padded, 9 kernel)."""
    raises(ValueError, fn, a(1, 2, 6, 9), a(1, 2, 3, 3), padding=1, dilation=4,
           needs=[FIT, num(8), num(9)])


@pytest.mark.parametrize("fn", CONV2D, ids=CONV_IDS)
def test_conv2d_kernel_larger_than_input(fn):
    """A 5x7 kernel on a 4x9 input (no padding) is rejected, naming 4 and 5."""
    raises(ValueError, fn, a(1, 1, 4, 9), a(1, 1, 5, 7), needs=[FIT, num(4), num(5)])


@pytest.mark.parametrize("fn", CONV2D, ids=CONV_IDS)
@pytest.mark.parametrize(("name", "value", "shown"), [
    ("stride", 0, num(0)), ("stride", (1, 0), num(0)), ("stride", -2, num(-2)),
    ("dilation", 0, num(0)), ("dilation", (0, 1), num(0)),
    ("padding", -1, num(-1)), ("padding", (0, -2), num(-2)),
])
def test_conv2d_bad_size_values(fn, name, value, shown):
    """stride/dilation < 1 and negative padding are ValueErrors naming the argument and value."""
    raises(ValueError, fn, a(1, 2, 8, 8), a(3, 2, 3, 3), **{name: value}, needs=[name, shown])


@pytest.mark.parametrize("fn", CONV2D, ids=CONV_IDS)
@pytest.mark.parametrize(("name", "value", "shown"), [
    ("stride", 3.5, r"3\.5|float"), ("stride", "3", r"'3'|str"), ("stride", True, r"true|bool"),
    ("padding", 1.5, r"1\.5|float"), ("dilation", True, r"true|bool"),
    ("stride", (1, 2.0), r"2\.0|float"),
])
def test_conv2d_non_integer_sizes_are_type_errors(fn, name, value, shown):
    """Non-integer sizes (floats, numeric strings, bools) raise TypeError naming the argument."""
    raises(TypeError, fn, a(1, 2, 8, 8), a(3, 2, 3, 3), **{name: value}, needs=[name, shown])


@pytest.mark.parametrize("fn", CONV2D, ids=CONV_IDS)
def test_conv2d_size_tuple_of_wrong_length(fn):
    """A 3-element stride is rejected (ValueError or TypeError) naming 'stride'."""
    raises((ValueError, TypeError), fn, a(1, 2, 8, 8), a(3, 2, 3, 3), stride=(1, 2, 3),
           needs=["stride"])


@pytest.mark.parametrize("fn", CONV2D, ids=CONV_IDS)
def test_conv2d_unknown_padding_string(fn):
    """padding='full' is a ValueError naming the string and the allowed ones."""
    raises(ValueError, fn, a(1, 2, 8, 8), a(3, 2, 3, 3), padding="full",
           needs=["full", "same|valid"])


@pytest.mark.parametrize("fn", CONV2D, ids=CONV_IDS)
def test_conv2d_same_padding_with_stride(fn):
    """padding='same' with stride 2 is a ValueError (torch refuses it too)."""
    raises(ValueError, fn, a(1, 2, 8, 8), a(3, 2, 3, 3), stride=2, padding="same",
           needs=["same", "stride"])


@pytest.mark.parametrize("fn", CONV2D, ids=CONV_IDS)
@pytest.mark.parametrize("xshape", [(1, 2, 3, 4, 5), (8,), (8, 8)], ids=ident)
def test_conv2d_wrong_input_ndim(fn, xshape):
    """5-D, 1-D or 2-D inputs are ValueErrors naming the dimensions and the shape."""
    raises(ValueError, fn, a(*xshape), a(3, 2, 3, 3), needs=[DIM, shape_re(xshape)])


@pytest.mark.parametrize("fn", CONV2D, ids=CONV_IDS)
def test_conv2d_wrong_weight_ndim(fn):
    """A 3-D weight for conv2d is a ValueError naming 'weight' and its shape."""
    raises(ValueError, fn, a(1, 2, 8, 8), a(3, 2, 3), needs=["weight", shape_re((3, 2, 3))])


# --------------------------------------------------------------------------- conv1d
def test_conv1d_channel_mismatch():
    """conv1d channel mismatch names 'channel' and both shapes."""
    raises(ValueError, conv1d, a(2, 3, 10), a(4, 5, 3),
           needs=["channel", shape_re((2, 3, 10)), shape_re((4, 5, 3))])


def test_conv1d_window_does_not_fit():
    """A dilated kernel (effective 7) on a length-5 input names 5 and 7."""
    raises(ValueError, conv1d, a(1, 1, 5), a(1, 1, 4), dilation=2, needs=[FIT, num(5), num(7)])


def test_conv1d_bias_wrong_shape():
    """conv1d bias of the wrong shape names 'bias' and its shape."""
    raises(ValueError, conv1d, a(1, 2, 9), a(4, 2, 3), np.ones(3), needs=["bias", shape_re((3,))])


@pytest.mark.parametrize("xshape", [(1, 2, 3, 9), (9,)], ids=ident)
def test_conv1d_wrong_ndim(xshape):
    """conv1d on 4-D or 1-D input is a ValueError naming the shape."""
    raises(ValueError, conv1d, a(*xshape), a(1, 2, 3), needs=[DIM, shape_re(xshape)])


@pytest.mark.parametrize(("kwargs", "exc", "needs"), [
    ({"stride": 0}, ValueError, ["stride", num(0)]),
    ({"dilation": 0}, ValueError, ["dilation", num(0)]),
    ({"padding": -1}, ValueError, ["padding", num(-1)]),
    ({"stride": 2, "padding": "same"}, ValueError, ["same", "stride"]),
    ({"stride": 2.5}, TypeError, ["stride", r"2\.5|float"]),
    ({"padding": True}, TypeError, ["padding", r"true|bool"]),
], ids=ident)
def test_conv1d_bad_sizes(kwargs, exc, needs):
    """conv1d validates stride, dilation and padding like conv2d."""
    raises(exc, conv1d, a(1, 2, 9), a(4, 2, 3), **kwargs, needs=needs)


# --------------------------------------------------------------------------- im2col
def test_im2col_window_does_not_fit():
    """A 5x3 window on a 4x6 input is rejected naming 4 and 5."""
    raises(ValueError, im2col, a(1, 2, 4, 6), (5, 3), needs=[FIT, num(4), num(5)])


@pytest.mark.parametrize(("args", "kwargs", "exc", "needs"), [
    ((0,), {}, ValueError, ["kernel", num(0)]),
    ((2.5,), {}, TypeError, ["kernel", r"2\.5|float"]),
    (("3",), {}, TypeError, ["kernel", r"'3'|str"]),
    ((3,), {"stride": 0}, ValueError, ["stride", num(0)]),
    ((3,), {"dilation": 0}, ValueError, ["dilation", num(0)]),
    ((3,), {"padding": -1}, ValueError, ["padding", num(-1)]),
], ids=ident)
def test_im2col_bad_sizes(args, kwargs, exc, needs):
    """im2col validates kernel_size, stride, dilation and padding."""
    raises(exc, im2col, a(1, 2, 6, 6), *args, **kwargs, needs=needs)


@pytest.mark.parametrize("xshape", [(6, 6), (1, 1, 1, 6, 6)], ids=ident)
def test_im2col_wrong_ndim(xshape):
    """im2col needs (N, C, H, W) or (C, H, W)."""
    raises(ValueError, im2col, a(*xshape), 3, needs=[DIM, shape_re(xshape)])


# --------------------------------------------------------------------------- pooling
POOLS = [
    ("max_pool2d", max_pool2d),
    ("avg_pool2d", avg_pool2d),
    ("avg_pool2d_excl", lambda x, *a, **k: avg_pool2d(x, *a, count_include_pad=False, **k)),
]
POOL_FNS = [p[1] for p in POOLS]
POOL_IDS = [p[0] for p in POOLS]


@pytest.mark.parametrize("fn", POOL_FNS, ids=POOL_IDS)
@pytest.mark.parametrize(("k", "p", "shown"), [
    (5, 3, [num(3), num(5)]), ((4, 2), (2, 2), [num(2)]), (1, 1, [num(1)]),
], ids=ident)
def test_pool_padding_more_than_half_the_kernel(fn, k, p, shown):
    """Pool padding above kernel // 2 is a ValueError naming padding and the values."""
    raises(ValueError, fn, a(1, 1, 9, 9), k, 1, p, needs=["pad", *shown])


@pytest.mark.parametrize("fn", POOL_FNS, ids=POOL_IDS)
def test_pool_window_does_not_fit(fn):
    """A 5x5 window on a 3x7 input is rejected naming 3 and 5."""
    raises(ValueError, fn, a(1, 1, 3, 7), 5, needs=[FIT, num(3), num(5)])


@pytest.mark.parametrize("fn", POOL_FNS, ids=POOL_IDS)
@pytest.mark.parametrize(("args", "exc", "needs"), [
    ((2, 0), ValueError, ["stride", num(0)]),
    ((2, 1, -1), ValueError, ["padding", num(-1)]),
    ((0,), ValueError, ["kernel", num(0)]),
    ((2.5,), TypeError, ["kernel", r"2\.5|float"]),
    (("2",), TypeError, ["kernel", r"'2'|str"]),
    ((True,), TypeError, ["kernel", r"true|bool"]),
    ((2, 1.5), TypeError, ["stride", r"1\.5|float"]),
], ids=ident)
def test_pool_bad_sizes(fn, args, exc, needs):
    """Pools validate kernel_size, stride and padding (ValueError vs TypeError)."""
    raises(exc, fn, a(1, 1, 8, 8), *args, needs=needs)


@pytest.mark.parametrize("fn", [*POOL_FNS, global_avg_pool2d], ids=[*POOL_IDS, "global"])
@pytest.mark.parametrize("xshape", [(8, 8), (1, 1, 1, 8, 8)], ids=ident)
def test_pool_wrong_ndim(fn, xshape):
    """Pools need (N, C, H, W) or (C, H, W)."""
    args = () if fn is global_avg_pool2d else (2,)
    raises(ValueError, fn, a(*xshape), *args, needs=[DIM, shape_re(xshape)])


# --------------------------------------------------------------------------- backward functions
def test_conv2d_backward_grad_out_wrong_shape():
    """grad_out (2, 5, 6, 7) where (2, 5, 6, 6) is expected names both shapes."""
    raises(ValueError, conv2d_backward, a(2, 5, 6, 7), a(2, 3, 8, 8), a(5, 3, 3, 3),
           needs=["grad", shape_re((2, 5, 6, 7)), shape_re((2, 5, 6, 6))])


def test_conv2d_backward_grad_out_wrong_ndim():
    """An unbatched grad_out for a batched x is rejected naming both shapes."""
    raises(ValueError, conv2d_backward, a(5, 6, 6), a(2, 3, 8, 8), a(5, 3, 3, 3),
           needs=["grad", shape_re((5, 6, 6)), shape_re((2, 5, 6, 6))])


def test_conv2d_backward_channel_mismatch():
    """conv2d_backward checks the channels of x and weight too."""
    raises(ValueError, conv2d_backward, a(2, 5, 6, 6), a(2, 3, 8, 8), a(5, 4, 3, 3),
           needs=["channel", shape_re((2, 3, 8, 8)), shape_re((5, 4, 3, 3))])


@pytest.mark.parametrize(("kwargs", "exc", "needs"), [
    ({"stride": 0}, ValueError, ["stride", num(0)]),
    ({"padding": -1}, ValueError, ["padding", num(-1)]),
    ({"dilation": 0}, ValueError, ["dilation", num(0)]),
    ({"stride": 1.5}, TypeError, ["stride", r"1\.5|float"]),
], ids=ident)
def test_conv2d_backward_bad_sizes(kwargs, exc, needs):
    """conv2d_backward validates its sizes before using them."""
    raises(exc, conv2d_backward, a(2, 5, 6, 6), a(2, 3, 8, 8), a(5, 3, 3, 3), **kwargs,
           needs=needs)


def test_max_pool2d_backward_grad_out_wrong_shape():
    """grad_out (2, 3, 4, 5) where (2, 3, 4, 4) is expected names both shapes."""
    raises(ValueError, max_pool2d_backward, a(2, 3, 4, 5), a(2, 3, 8, 8), 2,
           needs=["grad", shape_re((2, 3, 4, 5)), shape_re((2, 3, 4, 4))])


@pytest.mark.parametrize(("args", "exc", "needs"), [
    ((5, 1, 3), ValueError, ["pad", num(3)]),
    ((2, 0), ValueError, ["stride", num(0)]),
    ((2.5,), TypeError, ["kernel", r"2\.5|float"]),
], ids=ident)
def test_max_pool2d_backward_bad_sizes(args, exc, needs):
    """max_pool2d_backward validates like max_pool2d."""
    raises(exc, max_pool2d_backward, a(1, 1, 4, 4), a(1, 1, 8, 8), *args, needs=needs)


# --------------------------------------------------------------------------- 2-D correlation
@pytest.mark.parametrize("fn", [correlate2d, convolve2d], ids=["correlate2d", "convolve2d"])
def test_correlation_kernel_larger_than_image(fn):
    """A 4x2 kernel on a 3x3 image (valid mode) is rejected naming 3 and 4."""
    raises(ValueError, fn, a(3, 3), a(4, 2), needs=[FIT, num(3), num(4)])


@pytest.mark.parametrize("fn", [correlate2d, convolve2d], ids=["correlate2d", "convolve2d"])
def test_correlation_needs_2d_arrays(fn):
    """correlate2d/convolve2d take plain 2-D arrays."""
    raises(ValueError, fn, a(1, 5, 5), a(2, 2), needs=[DIM, shape_re((1, 5, 5))])


# --------------------------------------------------------------------------- pad2d
@pytest.mark.parametrize(("x", "padding", "exc", "needs"), [
    (a(5), 1, ValueError, [DIM, shape_re((5,))]),
    (a(3, 3), -1, ValueError, ["padding", num(-1)]),
    (a(3, 3), (1, 2, 3), (ValueError, TypeError), ["padding"]),
    (a(3, 3), 1.5, TypeError, ["padding", r"1\.5|float"]),
], ids=["1-D input", "negative", "three numbers", "float"])
def test_pad2d_bad_arguments(x, padding, exc, needs):
    """pad2d rejects 1-D input, negative or malformed padding."""
    raises(exc, pad2d, x, padding, needs=needs)


# --------------------------------------------------------------------------- shapes.py
@pytest.mark.parametrize(("args", "kwargs", "needs"), [
    ((3, 5), {}, [FIT, num(3), num(5)]),
    ((5, 3), {"dilation": 3}, [FIT, num(5), num(7)]),
    ((4, 9), {"padding": 2}, [FIT, num(8), num(9)]),
    ((8, 3), {"stride": 0}, ["stride", num(0)]),
    ((8, 3), {"dilation": 0}, ["dilation", num(0)]),
    ((8, 0), {}, ["kernel", num(0)]),
    ((0, 3), {}, ["size", num(0)]),
    ((8, 3), {"padding": -1}, ["padding", num(-1)]),
], ids=ident)
def test_output_size_value_errors(args, kwargs, needs):
    """output_size: window too large (naming padded size and effective kernel), bad values."""
    raises(ValueError, output_size, *args, **kwargs, needs=needs)


@pytest.mark.parametrize("position", range(5))
@pytest.mark.parametrize(("bad", "shown"), [(3.5, r"3\.5|float"), ("3", r"'3'|str"),
                                            (True, r"true|bool"), (None, r"none")])
def test_output_size_type_errors(position, bad, shown):
    """output_size accepts only integers: 3.5, '3', True and None are TypeErrors."""
    args = [20, 3, 1, 1, 1]
    args[position] = bad
    name = ["size", "kernel", "stride", "padding", "dilation"][position]
    raises(TypeError, output_size, *args, needs=[name, shown])


@pytest.mark.parametrize(("fn", "args", "exc"), [
    (conv2d_params, (3, 64, 0), ValueError),
    (conv2d_params, (0, 64, 3), ValueError),
    (conv2d_params, (3.5, 64, 3), TypeError),
    (conv2d_params, (3, "64", 3), TypeError),
    (conv2d_params, (3, 64, (3, 2.0)), TypeError),
    (linear_params, (True, 4), TypeError),
    (linear_params, (10, 2.5), TypeError),
    (linear_params, (10, -1), ValueError),
], ids=ident)
def test_parameter_counts_validate(fn, args, exc):
    """conv2d_params / linear_params reject non-positive or non-integer sizes."""
    raises(exc, fn, *args)


@pytest.mark.parametrize(("layers", "exc"), [
    ([(0, 1)], ValueError),
    ([(3, 0)], ValueError),
    ([(3, 1, 0)], ValueError),
    ([(3, 1), (3.5, 1)], TypeError),
    ([(3, "1")], TypeError),
    ([(3,)], (ValueError, TypeError)),
    ([(3, 1, 1, 1)], (ValueError, TypeError)),
], ids=ident)
def test_receptive_field_validates_entries(layers, exc):
    """receptive_field rejects bad layers: zero kernel/stride/dilation, floats, wrong length."""
    raises(exc, receptive_field, layers)
