"""Unit tests of the TransposeStepperSim widget (ch12): its state, the numbers it stands for
(every step's full grid, the cropped output = convkit's and torch's conv_transpose2d), its
input checks, and the page's arithmetic (transpose_stepper.js, run in Node) step by step."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sim_node import run_sim_module

from convkit import conv_transpose2d
from convkit.ops.conv_transpose import conv_transpose_output_size
from convkit.sims import TransposeStepperSim
from convkit.sims._base import esm_source
from convkit.sims.transpose_stepper import (
    DEFAULT_IMAGE,
    DEFAULT_KERNEL,
    MAX_STRIDE,
    full_size,
    max_padding,
)

pytestmark = pytest.mark.usefixtures("one_thread")

RNG = np.random.default_rng(12)
# (image, kernel) pairs: the defaults, non-square ones, a kernel larger than the input,
# a 1x1 input and kernel, fractional and negative values.
ARRAYS = [
    (DEFAULT_IMAGE, DEFAULT_KERNEL),
    (np.arange(1.0, 7.0).reshape(2, 3), np.array([[1.0, -1.0], [2.0, 0.5]])),
    (np.array([[2.0], [-1.0], [3.0]]), np.arange(1.0, 13.0).reshape(3, 4)),
    (np.array([[5.0]]), np.array([[-2.0]])),
    (np.array([[1.0, 2.0], [3.0, 4.0]]), np.ones((5, 5))),
    (RNG.normal(size=(4, 4)).round(3), RNG.normal(size=(3, 3)).round(3)),
]


def _settings(image: np.ndarray, kernel: np.ndarray) -> list[tuple[int, int, int]]:
    """Every (stride, padding, output_padding) the page allows for this image and kernel."""
    return [
        (s, p, op)
        for s in range(1, MAX_STRIDE + 1)
        for op in range(s)
        for p in range(max_padding(image.shape, kernel.shape, s, op) + 1)
    ]


def _reference(image, kernel, stride, padding, output_padding) -> np.ndarray:
    return conv_transpose2d(image[None, None], kernel[None, None], stride=stride,
                            padding=padding, output_padding=output_padding)[0, 0]  # fmt: skip


def test_defaults() -> None:
    sim = TransposeStepperSim()
    assert sim.image == [[1, 2], [3, 4]] and sim.kernel == DEFAULT_KERNEL.tolist()
    assert (sim.stride, sim.padding, sim.output_padding, sim.step) == (2, 0, 0, 0)
    assert sim.step_count() == 4
    assert sim.full_shape() == sim.output_shape() == (5, 5)  # (2 - 1) * 2 + 3
    np.testing.assert_array_equal(sim.partial_output(), np.zeros((5, 5)))  # step 0: empty
    expected = F.conv_transpose2d(torch.tensor(DEFAULT_IMAGE)[None, None],
                                  torch.tensor(DEFAULT_KERNEL)[None, None], stride=2)
    np.testing.assert_allclose(sim.output(), expected[0, 0].numpy(), rtol=0, atol=1e-12)
    state = sim.get_state()
    assert state["_anywidget_id"] == "convkit.sims.transpose_stepper.TransposeStepperSim"
    for name in ("image", "kernel", "stride", "padding", "output_padding", "step"):
        assert name in state, name


def test_the_first_steps_by_hand() -> None:
    """Stride 2: the copies of 1 and 2 share column 2, where their values add (0 + 2, 1 + 0,
    2 + 2)."""
    sim = TransposeStepperSim(image=[[1, 2], [3, 4]], kernel=[[1, 2, 0], [0, 1, 1], [1, 0, 2]])
    np.testing.assert_array_equal(sim.partial_output(1), [
        [1, 2, 0, 0, 0], [0, 1, 1, 0, 0], [1, 0, 2, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0],
    ])  # fmt: skip
    np.testing.assert_array_equal(sim.partial_output(2), [
        [1, 2, 2, 4, 0], [0, 1, 1, 2, 2], [1, 0, 4, 0, 4], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0],
    ])  # fmt: skip
    assert sim.source(1) == (0, 0) and sim.source(2) == (0, 1) and sim.source(3) == (1, 0)


@pytest.mark.parametrize("case", range(len(ARRAYS)))
def test_output_is_conv_transpose2d_for_every_setting(case: int) -> None:
    image, kernel = ARRAYS[case]
    for stride, padding, output_padding in _settings(image, kernel):
        sim = TransposeStepperSim(image, kernel, stride, padding, output_padding)
        out = sim.output()
        expected = _reference(image, kernel, stride, padding, output_padding)
        assert out.shape == expected.shape == sim.output_shape()
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
        torch_out = F.conv_transpose2d(
            torch.tensor(image)[None, None], torch.tensor(kernel)[None, None], stride=stride,
            padding=padding, output_padding=output_padding,
        )[0, 0].numpy()  # fmt: skip
        np.testing.assert_allclose(out, torch_out, rtol=1e-12, atol=1e-12)
        assert sim.output_shape() == tuple(
            conv_transpose_output_size(n, k, stride, padding, output_padding)
            for n, k in zip(image.shape, kernel.shape, strict=True)
        )


@pytest.mark.parametrize("case", range(len(ARRAYS)))
def test_every_step_is_the_scatter_of_the_values_so_far(case: int) -> None:
    """partial_output(t) is conv_transpose2d (no padding) of the input with the values after
    the t-th (row-major) set to 0, and grows by one scaled copy of the kernel per step."""
    image, kernel = ARRAYS[case]
    (h, w), (kh, kw) = image.shape, kernel.shape
    for stride, padding, output_padding in [(1, 0, 0), (2, 0, 1), (3, 0, 2), (2, 0, 0)]:
        sim = TransposeStepperSim(image, kernel, stride, padding, output_padding)
        fh, fw = full_size(h, kh, stride, output_padding), full_size(w, kw, stride, output_padding)
        assert sim.full_shape() == (fh, fw)
        previous = sim.partial_output(0)
        np.testing.assert_array_equal(previous, np.zeros((fh, fw)))
        for t in range(1, h * w + 1):
            masked = np.where(np.arange(h * w).reshape(h, w) < t, image, 0.0)
            now = sim.partial_output(t)
            np.testing.assert_allclose(now, _reference(masked, kernel, stride, 0, output_padding),
                                       rtol=1e-12, atol=1e-12)  # fmt: skip
            i, j = sim.source(t)
            added = np.zeros((fh, fw))
            added[i * stride : i * stride + kh, j * stride : j * stride + kw] = image[i, j] * kernel
            np.testing.assert_allclose(now - previous, added, rtol=0, atol=1e-12)
            previous = now
        if output_padding:  # the rows and columns output_padding adds: no copy reaches them
            assert not previous[fh - output_padding :].any()
            assert not previous[:, fw - output_padding :].any()


def test_output_crops_padding_from_each_side_of_the_last_step() -> None:
    image, kernel = ARRAYS[5]
    sim = TransposeStepperSim(image, kernel, stride=2, padding=2, output_padding=1, step=3)
    full = sim.partial_output(16)
    np.testing.assert_array_equal(sim.output(), full[2:-2, 2:-2])
    assert sim.full_shape() == (10, 10) and sim.output_shape() == (6, 6)
    np.testing.assert_array_equal(sim.partial_output(), sim.partial_output(3))  # current step


def test_max_padding_keeps_an_output_and_stays_below_the_kernel() -> None:
    for image, kernel in ARRAYS:
        for stride in range(1, MAX_STRIDE + 1):
            for op in range(stride):
                limit = max_padding(image.shape, kernel.shape, stride, op)
                assert 0 <= limit <= min(kernel.shape) - 1
                sizes = [conv_transpose_output_size(n, k, stride, limit, op)
                         for n, k in zip(image.shape, kernel.shape, strict=True)]  # fmt: skip
                assert min(sizes) >= 1
                more = [conv_transpose_output_size(n, k, stride, limit + 1, op)
                        for n, k in zip(image.shape, kernel.shape, strict=True)]  # fmt: skip
                assert min(more) < 1 or limit + 1 > min(kernel.shape) - 1
    assert max_padding((1, 1), (3, 3), 1) == 1  # the full grid is 3x3: one ring can go
    assert max_padding((1, 1), (3, 3), 2, 1) == 1  # 4x4 full grid: 2 would leave nothing
    assert max_padding((4, 4), (5, 5), 3) == 4


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"image": np.zeros((5, 2))}, ValueError, r"image must be at most 4x4 to stay readable"),
        ({"image": np.zeros(3)}, ValueError, r"image must be 2-D, got shape \(3,\)"),
        ({"image": [[1.0, np.nan]]}, ValueError, r"image must hold finite numbers only"),
        ({"image": "pixels"}, TypeError, r"image must be a 2-D sequence of numbers"),
        ({"image": [[1.0, 2.0], [3.0]]}, TypeError, r"image must hold numbers only"),
        ({"kernel": np.ones((6, 2))}, ValueError, r"kernel must be at most 5x5 to stay readable"),
        ({"kernel": np.zeros((0, 3))}, ValueError, r"kernel must not be empty"),
        ({"kernel": [["a"]]}, TypeError, r"kernel must hold numbers only"),
        ({"stride": 0}, ValueError, r"stride must be positive \(>= 1\), got 0"),
        ({"stride": 4}, ValueError, r"stride must be at most 3, got 4"),
        ({"stride": 1.0}, TypeError, r"stride must be an int"),
        ({"padding": -1}, ValueError, r"padding must be non-negative"),
        ({"padding": 3}, ValueError, r"padding must be at most 2 for a 2x2 input, a 3x3 kernel"),
        ({"padding": True}, TypeError, r"padding must be an int"),
        ({"image": [[1.0]], "stride": 1, "padding": 2}, ValueError, r"padding must be at most 1"),
        ({"output_padding": 2}, ValueError,
         r"output_padding must be smaller than the stride \(2\), got 2"),
        ({"stride": 1, "output_padding": 1}, ValueError, r"output_padding must be smaller than"),
        ({"output_padding": -1}, ValueError, r"output_padding must be non-negative"),
        ({"step": 5}, ValueError, r"step must be at most 4, got 5"),
        ({"step": -1}, ValueError, r"step must be non-negative"),
        ({"step": "1"}, TypeError, r"step must be an int"),
    ],
)
def test_rejects_bad_input(kwargs: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=rf"^TransposeStepperSim: {message}"):
        TransposeStepperSim(**kwargs)


def test_methods_check_steps_and_traits_set_later() -> None:
    sim = TransposeStepperSim()
    with pytest.raises(ValueError, match=r"^TransposeStepperSim\.partial_output: step must be "
                                         r"at most 4, got 5"):  # fmt: skip
        sim.partial_output(5)
    with pytest.raises(ValueError, match=r"^TransposeStepperSim\.source: step must be positive"):
        sim.source(0)  # step 0 scatters nothing
    with pytest.raises(ValueError, match=r"^TransposeStepperSim\.source: step must be positive"):
        sim.source()  # the current step is 0
    sim.output_padding = 2  # set in the kernel past the stride (a page would clamp it)
    with pytest.raises(ValueError, match=r"^TransposeStepperSim\.output: output_padding must "
                                         r"be smaller than the stride \(2\), got 2"):  # fmt: skip
        sim.output()
    sim.output_padding, sim.stride, sim.padding = 0, 1, 3
    with pytest.raises(ValueError, match=r"^TransposeStepperSim\.partial_output: padding must "
                                         r"be at most 1 for a 2x2 input"):  # fmt: skip
        sim.partial_output()


def test_module_is_a_self_contained_es_module() -> None:
    source = esm_source("transpose_stepper")
    assert re.search(r"^export default \{ render \};$", source, re.M)
    assert "import " not in source and '"data-sim": "transpose_stepper"' in source
    own = source.split("// TransposeStepperSim")[1]
    assert f"const MAX_STRIDE = {MAX_STRIDE};" in own  # the slider range matches Python's
    helpers = ("h(", "fmt(", "setTrait(", "button(", "rangeSlider(", "cellGrid(", "fillKernel(")
    for helper in helpers:
        assert helper in own and f"function {helper}" not in own, helper
    for trait in ("stride", "padding", "output_padding", "step"):  # written back and listened to
        assert f"{trait}: " in own and f'"{trait}"' in own, trait
    for action in ("back", "next", "all", "reset"):
        assert f'"data-action": "{action}"' in own, action


_NODE_SCRIPT = """
const out = CASES.map(({ image, kernel, settings }) => {
  const [H, W, kh, kw] = [image.length, image[0].length, kernel.length, kernel[0].length];
  return settings.map(([S, P, OP]) => ({
    steps: Array.from({ length: H * W + 1 }, (_, t) => scatter(image, kernel, S, OP, t)),
    reached: reachedCells(H, W, kh, kw, S, OP, H * W),
    limit: paddingLimit(H, W, kh, kw, S, OP),
  }));
});
const settled = PROPOSALS.map(([H, W, kh, kw, p]) => settle(H, W, kh, kw, p));
console.log(JSON.stringify({ out, settled }));
"""

# (H, W, kh, kw, proposed setting): out-of-range values the page must bring back in range.
PROPOSALS = [
    (2, 2, 3, 3, {"stride": 1, "padding": 2, "outputPadding": 2, "step": 9}),
    (2, 2, 3, 3, {"stride": 7, "padding": -1, "outputPadding": 2, "step": -3}),
    (1, 1, 3, 3, {"stride": 2, "padding": 2, "outputPadding": 0, "step": 1}),
    (1, 1, 3, 3, {"stride": 2, "padding": 2, "outputPadding": 1, "step": 1}),
    (3, 1, 3, 4, {"stride": 3, "padding": 5, "outputPadding": 2, "step": 2.6}),
    (1, 1, 1, 1, {"stride": 0, "padding": 1, "outputPadding": 1, "step": 0}),
]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_page_arithmetic_matches_python_at_every_step() -> None:
    """scatter, reachedCells, paddingLimit and settle of transpose_stepper.js (run in Node)
    give partial_output at every step of every allowed setting, max_padding, and settings
    the constructor accepts."""
    cases = [
        {"image": image.tolist(), "kernel": kernel.tolist(), "settings": _settings(image, kernel)}
        for image, kernel in ARRAYS
    ]
    page = run_sim_module(
        "transpose_stepper",
        f"const CASES = {json.dumps(cases)};\n"
        f"const PROPOSALS = {json.dumps([list(p) for p in PROPOSALS])};\n" + _NODE_SCRIPT,
    )
    checked = 0
    for (image, kernel), case, results in zip(ARRAYS, cases, page["out"], strict=True):
        for (stride, padding, op), result in zip(case["settings"], results, strict=True):
            sim = TransposeStepperSim(image, kernel, stride, padding, op)
            assert result["limit"] == max_padding(image.shape, kernel.shape, stride, op)
            for t, shown in enumerate(result["steps"]):
                # the same products added in the same order: equal to the last bit
                np.testing.assert_array_equal(np.array(shown), sim.partial_output(t))
                checked += 1
            (h, w), (kh, kw) = image.shape, kernel.shape
            fh, fw = sim.full_shape()
            mask = np.zeros((fh, fw), dtype=bool)  # the cells some copy lands on
            for i in range(h):
                for j in range(w):
                    mask[i * stride : i * stride + kh, j * stride : j * stride + kw] = True
            np.testing.assert_array_equal(np.array(result["reached"]), mask)
            final = np.array(result["steps"][-1])
            assert not final[~mask].any()
            np.testing.assert_allclose(final[padding : fh - padding, padding : fw - padding],
                                       _reference(image, kernel, stride, padding, op),
                                       rtol=1e-12, atol=1e-12)  # fmt: skip
    assert checked > 500
    expected_settled = [
        {"stride": 1, "padding": 1, "outputPadding": 0, "step": 4},
        {"stride": 3, "padding": 0, "outputPadding": 2, "step": 0},
        {"stride": 2, "padding": 1, "outputPadding": 0, "step": 1},
        {"stride": 2, "padding": 1, "outputPadding": 1, "step": 1},
        {"stride": 3, "padding": 2, "outputPadding": 2, "step": 3},
        {"stride": 1, "padding": 0, "outputPadding": 0, "step": 0},
    ]
    assert page["settled"] == expected_settled
    for (h, w, kh, kw, _), got in zip(PROPOSALS, page["settled"], strict=True):
        TransposeStepperSim(np.ones((h, w)), np.ones((kh, kw)), got["stride"], got["padding"],
                            got["outputPadding"], got["step"])  # fmt: skip
