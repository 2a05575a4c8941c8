"""shape_trace: per-layer (C, H, W) of a conv/pool stack, checked against torch modules."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convkit.shapes.trace import shape_trace

pytestmark = pytest.mark.usefixtures("one_thread")


def _torch_module(in_channels: int, spec: tuple) -> torch.nn.Module:
    """The torch layer a spec tuple describes."""
    if spec[0] == "conv":
        defaults = {3: 1, 4: 0, 5: 1}  # stride, padding, dilation by spec position
        out_channels, kernel, stride, padding, dilation = (
            spec[i] if i < len(spec) else defaults[i] for i in range(1, 6)
        )
        return torch.nn.Conv2d(in_channels, out_channels, kernel, stride, padding, dilation)
    kernel = spec[1]
    stride = spec[2] if len(spec) > 2 else kernel
    padding = spec[3] if len(spec) > 3 else 0
    return torch.nn.AvgPool2d(kernel, stride, padding)


def _torch_trace(input_shape: tuple, layers: list) -> list:
    """Run a zero batch of one through the torch stack, recording each output shape."""
    x = torch.zeros(1, *input_shape)
    shapes = []
    with torch.no_grad():
        for spec in layers:
            x = _torch_module(x.shape[1], spec)(x)
            shapes.append(tuple(x.shape[1:]))
    return shapes


def test_small_network_example():
    """The docstring's example and a LeNet-like stack, by hand and by torch."""
    layers = [("conv", 16, 5, 1, 2), ("pool", 2)]
    assert shape_trace((3, 32, 32), layers) == [(16, 32, 32), (16, 16, 16)]
    lenet = [("conv", 6, 5, 1, 2), ("pool", 2), ("conv", 16, 5), ("pool", 2)]
    expected = [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5)]
    assert shape_trace((1, 28, 28), lenet) == expected == _torch_trace((1, 28, 28), lenet)


@st.composite
def _stack(draw):
    """A random stack whose windows all fit (checked by building it in torch)."""
    layers = []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            spec = ("conv", draw(st.integers(1, 6)), draw(st.integers(1, 5)))
            spec += tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
            if len(spec) > 4:  # padding may be 0
                spec = (*spec[:4], spec[4] - 1, *spec[5:])
        else:
            kernel = draw(st.integers(1, 3))
            spec = ("pool", kernel)
            if draw(st.booleans()):
                spec += (draw(st.integers(1, 3)),)
                if draw(st.booleans()):
                    spec += (draw(st.integers(0, kernel // 2)),)
        layers.append(spec)
    shape = (draw(st.integers(1, 3)), draw(st.integers(8, 40)), draw(st.integers(8, 40)))
    return shape, layers


@settings(max_examples=150, deadline=None)
@given(_stack())
def test_matches_torch_or_both_reject(case):
    """Same shapes as torch; when a window does not fit, ValueError (torch errors too)."""
    shape, layers = case
    try:
        expected = _torch_trace(shape, layers)
    except RuntimeError:
        with pytest.raises(ValueError, match="does not fit"):
            shape_trace(shape, layers)
        return
    assert shape_trace(shape, layers) == expected


def test_length_and_no_input_repeat():
    """One entry per layer; the empty stack gives an empty trace."""
    assert shape_trace((3, 8, 8), []) == []
    assert len(shape_trace((3, 8, 8), [("conv", 4, 3)] * 3)) == 3


@pytest.mark.parametrize(
    ("input_shape", "layers", "error"),
    [
        ((3, 4, 4), [("conv", 8, 5)], ValueError),
        ((3, 8, 8), [("conv", 8, 3), ("pool", 2), ("conv", 4, 3), ("conv", 4, 3)], ValueError),
        ((3, 8, 8), [("dense", 10)], ValueError),
        ((3, 8, 8), [("conv", 8)], ValueError),
        ((3, 8, 8), "conv", TypeError),
        ((3, 8), [("conv", 8, 3)], ValueError),
        ((3, 8, 8), [("conv", 8, 3.5)], TypeError),
    ],
)
def test_bad_input_is_reported(input_shape, layers, error):
    """Windows that do not fit, unknown kinds and malformed specs raise clearly."""
    with pytest.raises(error):
        shape_trace(input_shape, layers)
