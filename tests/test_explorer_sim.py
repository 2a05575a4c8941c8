"""Unit tests of the ConvExplorerSim widget (ch07): state, the numbers it stands for,
and its input checks."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convkit import conv2d, output_size, pad2d
from convkit.lessons.filters import named_kernel
from convkit.sims import ConvExplorerSim
from convkit.sims._base import esm_source
from convkit.sims.explorer import DEFAULT_IMAGE, MAX_STRIDE, default_kernels


def test_defaults_are_the_showcase_setting() -> None:
    sim = ConvExplorerSim()
    assert np.array(sim.image).shape == (8, 8)
    assert sim.selected == "edge" and sim.kernel == named_kernel("vertical_edge").tolist()
    assert sim.names == ["identity", "edge", "sharpen", "blur", "sobel_x", "sobel_y"]
    assert (sim.stride, sim.padding, sim.position) == (1, 0, 0)
    assert sim.output_shape() == (6, 6)  # 8x8 input, 3x3 kernel -> 6x6
    expected = F.conv2d(torch.tensor(DEFAULT_IMAGE)[None, None],
                        torch.tensor(named_kernel("vertical_edge"))[None, None])[0, 0].numpy()
    np.testing.assert_allclose(sim.output(), expected, rtol=1e-12)


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (1, 1), (2, 0), (2, 2), (3, 1)])
@pytest.mark.parametrize("label", ["identity", "blur", "sobel_y"])
def test_output_and_windows_follow_stride_and_padding(
    label: str, stride: int, padding: int
) -> None:
    sim = ConvExplorerSim(selected=label, stride=stride, padding=padding)
    kernel = default_kernels()[label]
    oh, ow = sim.output_shape()
    assert (oh, ow) == (output_size(8, 3, stride, padding),) * 2
    out = sim.output()
    np.testing.assert_allclose(
        out, conv2d(DEFAULT_IMAGE[None, None], kernel[None, None], stride=stride,
                    padding=padding)[0, 0], rtol=1e-12)
    xpad = pad2d(DEFAULT_IMAGE, padding)
    for pos in (0, oh * ow // 2, oh * ow - 1):
        i, j = divmod(pos, ow)
        window = sim.window(pos)
        np.testing.assert_array_equal(
            window, xpad[i * stride : i * stride + 3, j * stride : j * stride + 3])
        assert np.isclose((window * kernel).sum(), out[i, j])
    if label == "identity" and stride == 1 and padding == 1:
        np.testing.assert_array_equal(out, DEFAULT_IMAGE)  # "same" padding keeps the image


def test_custom_image_and_kernels() -> None:
    image = np.arange(20.0).reshape(4, 5)
    sim = ConvExplorerSim(image, {"tall": np.ones((3, 1)), "wide": [[1.0, -1.0]]},
                          selected="wide", padding=1)
    assert sim.names == ["tall", "wide"] and sim.kernel == [[1, -1]]
    assert sim.output_shape() == (6, 6)
    np.testing.assert_allclose(sim.output(), np.pad(image, 1)[:, :-1] - np.pad(image, 1)[:, 1:])
    assert ConvExplorerSim(image, {"tall": np.ones((3, 1))}).selected == "tall"


def test_module_is_a_self_contained_es_module() -> None:
    source = esm_source("explorer")
    assert re.search(r"^export default \{ render \};$", source, re.M)
    assert "import " not in source and '"data-sim": "explorer"' in source
    assert f"const MAX_STRIDE = {MAX_STRIDE};" in source  # the slider range matches Python's
    for helper in ("rangeSlider(", "paddedCorrelation(", "stepper("):
        assert helper in source.split("// ConvExplorerSim")[1], helper  # uses the shared helpers


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"image": np.zeros((11, 11))}, ValueError),  # too big to read
        ({"image": np.zeros(8)}, ValueError),  # 1-D
        ({"image": [[1.0, np.inf]] * 2}, ValueError),
        ({"image": "pixels"}, TypeError),
        ({"kernels": {}}, TypeError),
        ({"kernels": [[1.0]]}, TypeError),  # not a mapping
        ({"kernels": {3: [[1.0]]}}, TypeError),
        ({"kernels": {"big": np.ones((6, 6))}}, ValueError),
        ({"image": np.zeros((2, 8)), "kernels": {"k": np.ones((3, 3))}}, ValueError),  # no fit
        ({"selected": "emboss"}, ValueError),
        ({"stride": 0}, ValueError),
        ({"stride": 4}, ValueError),
        ({"stride": 1.5}, TypeError),
        ({"padding": -1}, ValueError),
        ({"padding": 3}, ValueError),  # at most kernel size - 1 = 2
        ({"padding": True}, TypeError),
    ],
)
def test_rejects_bad_input(kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"^ConvExplorerSim: "):
        ConvExplorerSim(**kwargs)


def test_window_rejects_positions_outside_the_output() -> None:
    sim = ConvExplorerSim(stride=3)  # (8 - 3) // 3 + 1 = 2: a 2x2 output
    assert sim.output_shape() == (2, 2)
    with pytest.raises(ValueError, match=r"^ConvExplorerSim\.window: position must be below 4"):
        sim.window(4)
    with pytest.raises(ValueError):
        sim.window(-1)
