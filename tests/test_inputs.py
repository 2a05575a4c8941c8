"""Input handling shared by all ops: dtype rules, no in-place changes, odd memory layouts,
and pure numpy (no torch import)."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch.nn.functional as F
from ops_helpers import to_torch

from convkit import (
    avg_pool2d,
    conv1d,
    conv2d,
    conv2d_backward,
    conv2d_naive,
    convolve2d,
    correlate2d,
    global_avg_pool2d,
    im2col,
    max_pool2d,
    max_pool2d_backward,
    pad2d,
)

pytestmark = pytest.mark.usefixtures("one_thread")

RNG = np.random.default_rng(0)
X4 = RNG.standard_normal((2, 3, 7, 6))
W4 = RNG.standard_normal((4, 3, 3, 2))
B4 = RNG.standard_normal(4)
X3 = RNG.standard_normal((2, 3, 9))
W3 = RNG.standard_normal((4, 3, 3))
G_CONV = RNG.standard_normal((2, 4, 4, 7))  # conv2d(X4, W4, stride=(2, 1), padding=1)
G_POOL = RNG.standard_normal((2, 3, 3, 3))  # max_pool2d(X4, 2)

# name -> (function, positional array arguments, keyword arguments)
OPS = {
    "conv2d": (conv2d, (X4, W4, B4), {"stride": (2, 1), "padding": 1}),
    "conv2d_naive": (conv2d_naive, (X4, W4, B4), {"stride": (2, 1), "padding": 1}),
    "conv1d": (conv1d, (X3, W3, B4), {"padding": "same"}),
    "im2col": (im2col, (X4,), {"kernel_size": 3, "padding": 1}),
    "pad2d": (pad2d, (X4,), {"padding": (1, 2)}),
    "correlate2d": (correlate2d, (X4[0, 0], W4[0, 0]), {}),
    "convolve2d": (convolve2d, (X4[0, 0], W4[0, 0]), {}),
    "max_pool2d": (max_pool2d, (X4,), {"kernel_size": 3, "stride": 1, "padding": 1}),
    "avg_pool2d": (avg_pool2d, (X4,), {"kernel_size": 3, "stride": 2, "padding": 1}),
    "global_avg_pool2d": (global_avg_pool2d, (X4,), {}),
    "conv2d_backward": (conv2d_backward, (G_CONV, X4, W4), {"stride": (2, 1), "padding": 1}),
    "max_pool2d_backward": (max_pool2d_backward, (G_POOL, X4), {"kernel_size": 2}),
}


def _outputs(result):
    return result if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(OPS))
def test_dtype_is_preserved(name, dtype):
    """float32 in -> float32 out, float64 in -> float64 out, for every op and every output."""
    fn, args, kwargs = OPS[name]
    outs = _outputs(fn(*[x.astype(dtype) for x in args], **kwargs))
    assert all(isinstance(o, np.ndarray) and o.dtype == dtype for o in outs), \
        [getattr(o, "dtype", type(o)) for o in outs]


@pytest.mark.parametrize("name", [n for n in OPS if len(OPS[n][1]) > 1])
def test_mixed_float32_float64_gives_float64(name):
    """If any array argument is float64 and another float32, the result is float64."""
    fn, args, kwargs = OPS[name]
    mixed = [args[0].astype(np.float32), *[x.astype(np.float64) for x in args[1:]]]
    outs = _outputs(fn(*mixed, **kwargs))
    assert all(o.dtype == np.float64 for o in outs)
    mixed = [*[x.astype(np.float32) for x in args[:-1]], args[-1].astype(np.float64)]
    assert all(o.dtype == np.float64 for o in _outputs(fn(*mixed, **kwargs)))


@pytest.mark.parametrize("name", [n for n in OPS if n != "pad2d"])
def test_integer_arrays_and_nested_lists_give_float64(name):
    """Integer arrays and nested lists are computed (correctly) in float64."""
    fn, args, kwargs = OPS[name]
    ints = [np.round(x * 3).astype(np.int64) for x in args]
    expected = _outputs(fn(*[x.astype(np.float64) for x in ints], **kwargs))
    for variant in (ints, [x.tolist() for x in ints]):
        outs = _outputs(fn(*variant, **kwargs))
        for out, exp in zip(outs, expected, strict=True):
            assert out.dtype == np.float64
            np.testing.assert_allclose(out, exp, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(OPS))
def test_inputs_are_not_modified(name):
    """No op writes into its arguments (values compared with copies after the call)."""
    fn, args, kwargs = OPS[name]
    for dtype in (np.float32, np.float64):
        inputs = [x.astype(dtype) for x in args]
        copies = [x.copy() for x in inputs]
        fn(*inputs, **kwargs)
        for x, c in zip(inputs, copies, strict=True):
            np.testing.assert_array_equal(x, c)


@pytest.mark.parametrize("name", list(OPS))
def test_read_only_inputs_are_accepted(name):
    """Read-only arrays work (nothing is written into them) and give the same result."""
    fn, args, kwargs = OPS[name]
    frozen = [x.copy() for x in args]
    for x in frozen:
        x.flags.writeable = False
    for out, ref in zip(_outputs(fn(*frozen, **kwargs)), _outputs(fn(*args, **kwargs)),
                        strict=True):
        np.testing.assert_array_equal(out, ref)


def _odd_layouts(a):
    """The same values as a Fortran-ordered copy, a negative-stride view and a strided view."""
    yield np.asfortranarray(a)
    flipped = np.ascontiguousarray(a[..., ::-1])[..., ::-1]
    yield flipped
    big = np.zeros((*a.shape[:-1], 2 * a.shape[-1]), a.dtype)
    big[..., ::2] = a
    yield big[..., ::2]


@pytest.mark.parametrize("name", list(OPS))
def test_non_contiguous_inputs_give_the_same_result(name):
    """Fortran order, negative strides and step-2 views give the same result as C order."""
    fn, args, kwargs = OPS[name]
    ref = _outputs(fn(*args, **kwargs))
    for i in range(len(args)):
        for odd in _odd_layouts(args[i]):
            np.testing.assert_array_equal(odd, args[i])
            call = [*args[:i], odd, *args[i + 1:]]
            for out, r in zip(_outputs(fn(*call, **kwargs)), ref, strict=True):
                np.testing.assert_allclose(out, r, rtol=1e-12, atol=1e-12)


def test_conv2d_transposed_view_input_matches_torch():
    """An (N, C, H, W) view made by transposing an NHWC array is read correctly."""
    nhwc = np.random.default_rng(7).standard_normal((2, 7, 6, 3))
    x = nhwc.transpose(0, 3, 1, 2)
    ref = F.conv2d(to_torch(x), to_torch(W4), to_torch(B4), padding=1).numpy()
    np.testing.assert_allclose(conv2d(x, W4, B4, padding=1), ref, rtol=1e-12, atol=1e-12)


def test_ops_work_without_torch():
    """The ops import and run with torch unavailable (convkit's ops are pure numpy)."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["torch"] = None  # any `import torch` now raises ImportError
        import numpy as np
        import convkit
        x = np.ones((1, 1, 4, 4))
        convkit.conv2d(x, np.ones((1, 1, 3, 3)))
        convkit.max_pool2d(x, 2)
        convkit.conv2d_backward(np.ones((1, 1, 2, 2)), x, np.ones((1, 1, 3, 3)))
        print("ok")
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr
