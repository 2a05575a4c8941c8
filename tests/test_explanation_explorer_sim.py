"""ExplanationExplorerSim's Python side (ch13): each map is normalised on its own and
quantised to the documented codes, signed methods get the diverging palette, NaN stays NaN,
the state stays small, bad arguments are refused with the argument named; and the page's
functions (explanation_explorer.js, run in Node) decode the same codes, images and colours."""

from __future__ import annotations

import base64
import json
import re
import shutil
import time

import numpy as np
import pytest
import torch
from sim_node import run_sim_module

from convkit.sims import ExplanationExplorerSim
from convkit.sims._base import esm_source
from convkit.sims.explanation_explorer import (
    ALPHABET,
    DIVERGING_STOPS,
    LEVELS,
    NAN_CODE,
    SEQUENTIAL_STOPS,
    blend,
    code_values,
    decode_codes,
    encode_codes,
    normalise,
    palette,
    quantise,
)

pytestmark = pytest.mark.usefixtures("one_thread")

K, N, H, W = 4, 3, 8, 9
CLASSES = ["cat", "dog", "ship"]


def synthetic_maps(k: int = K, n: int = N, h: int = H, w: int = W) -> dict[str, np.ndarray]:
    """Maps that are known functions of (image, class): a bump at row k + 1, column 2c + 1 of
    height k + 1 (non-negative); a ramp r + q + k + c (non-negative, zero nowhere but the
    corner of pair (0, 0)); a signed tilt (r - 3.5)(c + 1) - k with the last column NaN for
    odd images (as occlusion leaves pixels no window covered)."""
    kk, cc, rr, qq = np.meshgrid(np.arange(k), np.arange(n), np.arange(h), np.arange(w),
                                 indexing="ij")  # fmt: skip
    bump = (kk + 1) * np.exp(-((rr - kk - 1) ** 2 + (qq - 2 * cc - 1) ** 2) / 4.0)
    ramp = (rr + qq + kk + cc).astype(np.float64)
    tilt = (rr - 3.5) * (cc + 1) - kk
    tilt[1::2, :, :, -1] = np.nan
    return {"saliency": bump, "Grad-CAM": ramp, "occlusion": tilt}


def synthetic_images(k: int = K, h: int = H, w: int = W, rgb: bool = False) -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.random((k, h, w, 3) if rgb else (k, h, w))


@pytest.fixture(scope="module")
def sim() -> ExplanationExplorerSim:
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3], [0.0, 0.01, 0.99]])
    return ExplanationExplorerSim(
        synthetic_images(),
        CLASSES,
        synthetic_maps(),
        labels=[0, 1, 1, 2],
        probabilities=probabilities,
        image=1,
    )


def test_state_and_defaults(sim: ExplanationExplorerSim) -> None:
    state = sim.get_state()
    assert state["_anywidget_id"] == "convkit.sims.explanation_explorer.ExplanationExplorerSim"
    assert (sim.height, sim.width, sim.channels) == (H, W, 1)
    assert sim.class_names == CLASSES and sim.methods == ["saliency", "Grad-CAM", "occlusion"]
    assert sim.signed == [False, False, True]
    assert sim.predicted == [0, 2, 1, 2]  # the most probable class of each image
    assert sim.labels == [0, 1, 1, 2]
    assert (sim.image, sim.target, sim.opacity) == (1, 2, 1.0)  # target: image 1's answer
    assert all(len(codes) == K * N * H * W for codes in sim.codes)
    assert np.shape(sim.scales) == (3, K, N)
    assert ExplanationExplorerSim(synthetic_images(), CLASSES, synthetic_maps()).target == 0
    assert ExplanationExplorerSim(synthetic_images(), CLASSES, synthetic_maps(),
                                  predicted=[2, 1, 0, 1], image=3).target == 1  # fmt: skip


@pytest.mark.parametrize(("k", "c"), [(0, 0), (1, 2), (2, 1), (3, 0), (3, 2)])
def test_each_map_is_the_pairs_own_normalised_and_quantised(
    sim: ExplanationExplorerSim, k: int, c: int
) -> None:
    maps = synthetic_maps()
    for method, values in maps.items():
        raw = values[k, c]
        largest = np.nanmax(np.abs(raw))
        shown = sim.shown_map(method, k, c)
        signed = method == "occlusion"
        step = 1 / 31 if signed else 1 / 62
        finite = ~np.isnan(raw)
        np.testing.assert_array_equal(np.isnan(shown), ~finite)
        np.testing.assert_allclose(shown[finite], raw[finite] / largest, rtol=0, atol=step / 2)
        # the largest |value| is drawn at the end of the ramp, exactly
        peak = np.unravel_index(np.nanargmax(np.abs(raw)), raw.shape)
        assert abs(shown[peak]) == 1.0
        assert sim.scales[sim.methods.index(method)][k][c] == float(f"{largest:.2e}")
    bump = sim.shown_map("saliency", k, c)
    assert np.unravel_index(np.argmax(bump), bump.shape) == (k + 1, 2 * c + 1)
    assert np.isnan(sim.shown_map("occlusion", k, c)[:, -1]).all() == (k % 2 == 1)


def test_shown_map_follows_the_traits(sim: ExplanationExplorerSim) -> None:
    before = (sim.image, sim.target)
    try:
        sim.image, sim.target = 2, 0
        np.testing.assert_array_equal(sim.shown_map("saliency"), sim.shown_map("saliency", 2, 0))
        np.testing.assert_array_equal(sim.image_bytes(), sim.image_bytes(2))
    finally:
        sim.image, sim.target = before


def test_quantise_normalise_and_codes_by_hand() -> None:
    values, scales = normalise(np.array([[[0.0, 2.0], [-4.0, np.nan]], [[0, 0], [0, np.nan]]]))
    np.testing.assert_array_equal(scales, [4.0, 0.0])
    np.testing.assert_array_equal(values[0], [[0.0, 0.5], [-1.0, np.nan]])
    np.testing.assert_array_equal(values[1], [[0, 0], [0, np.nan]])  # zeros stay zeros
    np.testing.assert_array_equal(quantise(values[0], signed=True), [[31, 47], [0, NAN_CODE]])
    np.testing.assert_array_equal(quantise([0.0, 0.5, 1.0, np.nan], False), [0, 31, 62, 63])
    codes = np.arange(LEVELS)
    np.testing.assert_allclose(code_values(codes, False), codes / 62)
    np.testing.assert_allclose(code_values(codes, True), (codes - 31) / 31)
    assert np.isnan(code_values(NAN_CODE, True))
    for signed in (False, True):  # the codes' values quantise back to the codes
        np.testing.assert_array_equal(quantise(code_values(codes, signed), signed), codes)
    every = np.arange(64)
    assert encode_codes(every) == ALPHABET and len(set(ALPHABET)) == 64
    np.testing.assert_array_equal(decode_codes(encode_codes(every)), every)
    assert encode_codes(np.array([[0, 25], [26, 63]])) == "AZa/"


def test_palettes_run_between_their_stops() -> None:
    seq, div = palette(False), palette(True)
    assert seq.shape == div.shape == (LEVELS, 3) and seq.dtype == np.uint8
    assert tuple(seq[0]) == SEQUENTIAL_STOPS[0] == (255, 255, 255)
    assert tuple(seq[-1]) == SEQUENTIAL_STOPS[-1]
    assert tuple(div[0]) == DIVERGING_STOPS[0] and tuple(div[-1]) == DIVERGING_STOPS[-1]
    assert tuple(div[31]) == (255, 255, 255)  # zero is white
    assert np.all(np.diff(seq.astype(int).sum(axis=1)) <= 0)  # darker and darker
    brightness = div.astype(int).sum(axis=1)
    assert np.all(np.diff(brightness[:32]) >= 0) and np.all(np.diff(brightness[31:]) <= 0)
    assert np.all(div[:31, 2] > div[:31, 0]) and np.all(div[32:, 0] > div[32:, 2])  # blue, red


def test_blend_and_the_colours_of_a_panel(sim: ExplanationExplorerSim) -> None:
    image = sim.image_bytes(1)
    assert (image == image[..., :1]).all()  # grey: three equal channels
    np.testing.assert_array_equal(
        image[..., 0], np.rint(synthetic_images()[1] * 255).astype(np.uint8)
    )
    colours = palette(True)[np.minimum(sim.shown_codes("occlusion", 1, 2), 62)]
    np.testing.assert_array_equal(blend(image, colours, 0.0), image)
    np.testing.assert_array_equal(blend(image, colours, 1.0), colours)
    half = sim.shown_colours("occlusion", 1, 2, opacity=0.5)
    expected = np.floor((image.astype(float) + colours) / 2 + 0.5)
    finite = ~np.isnan(sim.shown_map("occlusion", 1, 2))
    np.testing.assert_array_equal(half[finite], expected[finite])
    assert (half[~finite] == (226, 232, 240)).all() and (~finite).sum() == H


def test_rgb_images_and_torch_tensors() -> None:
    images = synthetic_images(rgb=True)
    tensors = {m: torch.tensor(v) for m, v in synthetic_maps().items()}
    sim = ExplanationExplorerSim(torch.tensor(images), CLASSES, tensors)
    assert sim.channels == 3
    np.testing.assert_array_equal(sim.image_bytes(2), np.rint(images[2] * 255).astype(np.uint8))
    same = ExplanationExplorerSim(images, CLASSES, synthetic_maps())
    assert same.codes == sim.codes and same.pixels == sim.pixels


def test_state_is_small_and_the_constructor_fast() -> None:
    """The issue's budget: 10 grey 28x28 images, 10 classes, 3 methods under 300 kB."""
    rng = np.random.default_rng(0)
    k, n, side = 10, 10, 28
    maps = {"saliency": rng.random((k, n, side, side)), "Grad-CAM": rng.random((k, n, side, side)),
            "occlusion": rng.normal(size=(k, n, side, side))}  # fmt: skip
    maps["occlusion"][..., -3:] = np.nan
    args = (rng.random((k, side, side)), [f"digit {i}" for i in range(n)], maps)
    kwargs = {"labels": np.arange(k), "probabilities": rng.dirichlet(np.ones(n), k)}
    times = []
    for _ in range(3):
        start = time.perf_counter()
        made = ExplanationExplorerSim(*args, **kwargs)
        times.append(time.perf_counter() - start)
    assert min(times) < 0.5, times
    size = len(json.dumps(made.get_state()))
    assert size < 300_000, size
    assert sum(len(c) for c in made.codes) == 3 * k * n * side * side  # one byte a pixel


def _kwargs(**changes: object) -> dict:
    base = {"images": synthetic_images(), "class_names": CLASSES, "maps": synthetic_maps()}
    return {**base, **changes}


def _maps_with(method: str, values: object) -> dict:
    return {**synthetic_maps(), method: values}


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"images": np.zeros((K, H))}, ValueError, r"images must be \(K, H, W\) grey or"),
        ({"images": np.zeros((K, 3, H, W))}, ValueError, r"images must be .*x\[:, 0\]"),
        ({"images": np.zeros((13, H, W))}, ValueError, "images must hold 1 to 12 images, got 13"),
        ({"images": np.zeros((K, 33, W))}, ValueError, "images must be at most 32x32"),
        ({"images": np.full((K, H, W), 1.5)}, ValueError, r"images must lie in \[0, 1\]"),
        ({"images": np.full((K, H, W), np.nan)}, ValueError, "images must hold finite numbers"),
        ({"images": "pixels"}, TypeError, "images must be an array"),
        ({"images": np.zeros((K, H, W), dtype=bool)}, TypeError, "images must hold real numbers"),
        ({"class_names": "cat"}, TypeError, "class_names must be a sequence of strings"),
        (
            {"class_names": ["cat", "dog"]},
            ValueError,
            r"maps\['saliency'\] must be \(K, n, H, W\) = \(4, 2, 8, 9\)",
        ),
        ({"class_names": ["cat", "cat", "ship"]}, ValueError, "class_names must be distinct"),
        ({"class_names": ["cat", "", "ship"]}, TypeError, "class_names must be non-empty strings"),
        (
            {"class_names": [str(i) for i in range(21)]},
            ValueError,
            "class_names must hold 1 to 20 names, got 21",
        ),
        ({"maps": {}}, TypeError, "maps must be a non-empty mapping"),
        ({"maps": np.zeros((K, N, H, W))}, TypeError, "maps must be a non-empty mapping"),
        (
            {"maps": {f"m{i}": np.zeros((K, N, H, W)) for i in range(5)}},
            ValueError,
            "maps must hold at most 4 methods, got 5",
        ),
        ({"maps": {3: np.zeros((K, N, H, W))}}, TypeError, "method names must be non-empty"),
        (
            {"maps": _maps_with("Grad-CAM", np.zeros((K, N, H, W + 1)))},
            ValueError,
            r"maps\['Grad-CAM'\] must be \(K, n, H, W\) = \(4, 3, 8, 9\) .* \(4, 3, 8, 10\)",
        ),
        (
            {"maps": _maps_with("occlusion", np.full((K, N, H, W), np.inf))},
            ValueError,
            r"maps\['occlusion'\] must hold finite numbers or NaN, not inf",
        ),
        ({"maps": _maps_with("saliency", [["a"]])}, TypeError, r"maps\['saliency'\] must hold"),
        ({"labels": [0, 1, 2]}, ValueError, r"labels must be \(4,\): one class per image"),
        ({"labels": [0, 1, 2, 3]}, ValueError, "labels must be at most 2, got 3"),
        ({"labels": [0.0, 1.0, 2.0, 0.0]}, TypeError, r"labels must hold class indices \(ints\)"),
        ({"predicted": [0, -1, 2, 0]}, ValueError, "predicted must be non-negative"),
        (
            {"probabilities": np.ones((K, 2)) / 2},
            ValueError,
            r"probabilities must be \(K, n\) = \(4, 3\)",
        ),
        (
            {"probabilities": np.full((K, N), 1.2)},
            ValueError,
            r"probabilities must lie in \[0, 1\]",
        ),
        ({"image": 4}, ValueError, "image must be at most 3, got 4"),
        ({"image": 1.0}, TypeError, "image must be an int"),
        ({"target": 3}, ValueError, "target must be at most 2, got 3"),
        ({"opacity": 1.5}, ValueError, "opacity must be between 0 and 1"),
        ({"opacity": "1"}, TypeError, "opacity must be a number"),
    ],
)
def test_bad_arguments_are_refused(changes: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=rf"^ExplanationExplorerSim: {message}"):
        ExplanationExplorerSim(**_kwargs(**changes))


def test_too_many_values_are_refused() -> None:
    big = np.zeros((12, 20, 32, 32))
    with pytest.raises(ValueError, match=r"^ExplanationExplorerSim: maps hold 491,520 values"):
        ExplanationExplorerSim(np.zeros((12, 32, 32)), [str(i) for i in range(20)],
                               {"a": big, "b": big})  # fmt: skip


def test_methods_check_their_arguments(sim: ExplanationExplorerSim) -> None:
    methods = r"\['saliency', 'Grad-CAM', 'occlusion'\]"
    with pytest.raises(ValueError, match=rf"^ExplanationExplorerSim\.shown_map: method must be "
                                         rf"one of {methods}, got 'smoothgrad'"):  # fmt: skip
        sim.shown_map("smoothgrad")
    with pytest.raises(ValueError, match=r"^ExplanationExplorerSim\.shown_codes: image must be "
                                         r"at most 3, got 4"):  # fmt: skip
        sim.shown_codes("saliency", image=4)
    with pytest.raises(ValueError, match=r"^ExplanationExplorerSim\.shown_colours: opacity must"):
        sim.shown_colours("saliency", opacity=2.0)


def test_module_is_self_contained_and_uses_the_shared_helpers() -> None:
    source = esm_source("explanation_explorer")
    assert re.search(r"^export default \{ render \};$", source, re.M)
    assert "import " not in source and '"data-sim": "explanation_explorer"' in source
    own = source.split("// ExplanationExplorerSim")[1]
    for helper in ("h(", "fmt(", "fmtSize(", "setTrait(", "button("):
        assert helper in own and f"function {helper}" not in own, helper
    for trait in ("image", "target", "opacity"):  # written back and listened to
        assert f'"{trait}"' in own, trait
    assert f'const CODE_ALPHABET = "{ALPHABET}";' in own


_NODE_SCRIPT = """
const state = JSON.parse(readFileSync(STATE_FILE, "utf8"));
const codes = state.codes.map(decodeCodes);
const values = [false, true].map((s) => Array.from({ length: 64 }, (_, q) => codeValue(q, s)));
const colours = [false, true].map((s) => Array.from({ length: 63 }, (_, q) => codeColour(q, s)));
const blends = BLENDS.map(([image, colour, a]) => blendByte(image, colour, a));
const bytes = Array.from(decodeBytes(state.pixels));
const stops = { SEQUENTIAL, DIVERGING, HATCH, CODE_LEVELS, CODE_NAN };
console.log(JSON.stringify({ codes: codes.map((c) => Array.from(c)), values, colours, blends, bytes,
  stops, block: [blockSize(28, 28), blockSize(32, 20), blockSize(2, 3)],
  scales: [0, 0.00123456, 45.678, 1.234e-7, 123456].map(fmtScale) }));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_page_decodes_and_colours_as_python(sim: ExplanationExplorerSim, tmp_path) -> None:
    """decodeCodes, codeValue, codeColour, blendByte and decodeBytes of
    explanation_explorer.js (run in Node on the widget's state) agree with Python's codes,
    code_values, palette, blend and image bytes, exactly."""
    rgb = ExplanationExplorerSim(synthetic_images(rgb=True), CLASSES, synthetic_maps())
    rng = np.random.default_rng(1)
    blends = [[int(a), int(b), float(t)] for a, b, t in
              zip(rng.integers(0, 256, 300), rng.integers(0, 256, 300),
                  np.round(rng.random(300) * 20) / 20, strict=True)]  # fmt: skip
    blends += [[0, 255, 0.5], [255, 0, 0.5], [1, 2, 0.5], [10, 200, 0.35]]
    for widget, name in ((sim, "grey"), (rgb, "rgb")):
        state_file = tmp_path / f"{name}.json"
        state_file.write_text(json.dumps({"codes": widget.codes, "pixels": widget.pixels}))
        page = run_sim_module(
            "explanation_explorer",
            f"const STATE_FILE = {json.dumps(str(state_file))};\n"
            f"const BLENDS = {json.dumps(blends)};\n" + _NODE_SCRIPT,
        )
        for m, method in enumerate(widget.methods):
            expected = np.stack([widget.shown_codes(method, k, c)
                                 for k in range(K) for c in range(N)])  # fmt: skip
            np.testing.assert_array_equal(page["codes"][m], expected.ravel())
        raw = np.frombuffer(base64.b64decode(widget.pixels), dtype=np.uint8)
        np.testing.assert_array_equal(page["bytes"], raw)
    for s, signed in enumerate((False, True)):
        shown = np.array(page["values"][s], dtype=float)  # JSON null for NaN
        np.testing.assert_array_equal(shown[:LEVELS], code_values(np.arange(LEVELS), signed))
        assert page["values"][s][NAN_CODE] is None
        np.testing.assert_array_equal(page["colours"][s], palette(signed))
    images = np.array([b[0] for b in blends])[:, None, None]
    colours = np.array([b[1] for b in blends])[:, None, None]
    expected_blends = [blend(i, c, a)[0, 0] for i, c, (_, _, a) in zip(images, colours, blends,
                                                                       strict=True)]  # fmt: skip
    np.testing.assert_array_equal(page["blends"], expected_blends)
    stops = page["stops"]
    assert [tuple(s) for s in stops["SEQUENTIAL"]] == list(SEQUENTIAL_STOPS)
    assert [tuple(s) for s in stops["DIVERGING"]] == list(DIVERGING_STOPS)
    assert (stops["CODE_LEVELS"], stops["CODE_NAN"]) == (LEVELS, NAN_CODE)
    assert tuple(stops["HATCH"]["light"]) == (226, 232, 240)
    assert page["block"] == [5, 5, 53]
    # scales to 3 significant digits (a scale of 0.00123 must not read 0.001)
    small, large = "1.2\u00d710\u207b\u2077", "1.2\u00d710\u2075"
    assert page["scales"] == ["0", "0.00123", "45.7", small, large]
