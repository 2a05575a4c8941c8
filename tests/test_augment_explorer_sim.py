"""AugmentExplorerSim's Python side: its pipeline is convkit's crop, flip, colour jitter and
cutout, the tiles are load_colour_patches()'s, the state stays small and the constructor
fast, bad arguments are refused; and the page's functions (augment_explorer.js, run in
Node) give augment_tile's pixels and draw their parameters from the documented ranges."""

from __future__ import annotations

import json
import re
import shutil
import time

import numpy as np
import pytest
from sim_node import run_sim_module

from convkit.data import load_colour_patches
from convkit.sims import AugmentExplorerSim
from convkit.sims._base import esm_source
from convkit.sims.augment_explorer import DEFAULT_TILES, MAX_TILES, augment_tile
from convkit.training.augment import (
    apply_colour_jitter,
    colour_jitter,
    cutout,
    horizontal_flip,
    random_crop,
)

pytestmark = pytest.mark.usefixtures("one_thread")

# Parameter sets the page and Python must agree on: shifts both ways, flips, factors at the
# ends of their sliders (0 and 2, so the clipping of every step shows), cutouts of odd and
# even sizes at the centre and over the borders.
PARAMS = [
    {},
    {"padding": 4, "crop_top": 0, "crop_left": 8, "flip": True},
    {"padding": 8, "crop_top": 13, "crop_left": 2, "brightness": 1.37, "contrast": 0.42},
    {"padding": 1, "crop_top": 2, "crop_left": 1, "saturation": 0.0, "cutout_size": 5,
     "cutout_row": 0, "cutout_col": 31},
    {"padding": 0, "flip": True, "brightness": 2.0, "contrast": 2.0, "saturation": 2.0,
     "cutout_size": 16, "cutout_row": 20, "cutout_col": 3},
    {"padding": 3, "crop_top": 6, "crop_left": 0, "brightness": 0.0, "contrast": 0.0},
    {"padding": 5, "crop_top": 7, "crop_left": 9, "flip": True, "brightness": 0.61,
     "contrast": 1.4, "saturation": 1.83, "cutout_size": 8, "cutout_row": 31, "cutout_col": 16},
]  # fmt: skip


@pytest.fixture(scope="module")
def sim() -> AugmentExplorerSim:
    return AugmentExplorerSim()


def test_default_tiles_are_five_classes_of_the_training_tiles(sim: AugmentExplorerSim) -> None:
    data = load_colour_patches()
    assert sim.indices == list(DEFAULT_TILES)
    assert sim.labels == [data.classes[data.y_train[i]] for i in DEFAULT_TILES]
    assert len(set(sim.labels)) == len(DEFAULT_TILES) == 5
    assert sim.side == 32 and len(sim.images) == 5
    for index, flat in zip(DEFAULT_TILES, sim.images, strict=True):
        assert len(flat) == 3 * 32 * 32 and min(flat) >= 0 and max(flat) <= 255
        # the tiles are 8-bit photographs: k / 255 exactly, up to float32 rounding
        shown = np.reshape(flat, (3, 32, 32)) / 255
        np.testing.assert_allclose(shown, data.x_train[index], atol=1e-7)
    for tile in range(5):
        sim.tile = tile
        np.testing.assert_allclose(sim.original(), data.x_train[DEFAULT_TILES[tile]], atol=1e-7)
    sim.tile = 0


def test_defaults_change_nothing(sim: AugmentExplorerSim) -> None:
    state = sim.get_state()
    crop = (state["padding"], state["crop_top"], state["crop_left"], state["flip"])
    assert crop == (4, 4, 4, False)
    assert (state["brightness"], state["contrast"], state["saturation"]) == (1.0, 1.0, 1.0)
    assert (state["cutout_size"], state["cutout_row"], state["cutout_col"]) == (0, 16, 16)
    assert state["jitter"] == [0.4, 0.4, 0.4] and state["seed"] == 0
    np.testing.assert_array_equal(sim.augmented(), sim.original())
    assert state["_anywidget_id"] == "convkit.sims.augment_explorer.AugmentExplorerSim"


def test_state_is_small_and_the_constructor_fast() -> None:
    load_colour_patches()  # the data, loaded once per process, are not the constructor's cost
    times = []
    for _ in range(3):
        start = time.perf_counter()
        made = AugmentExplorerSim(tiles=[*range(0, 700, 100), 757])
        times.append(time.perf_counter() - start)
    assert min(times) < 1.0, times
    size = len(json.dumps(made.get_state()))
    assert size <= 300_000, f"state of {MAX_TILES} tiles is {size} bytes"
    assert len(json.dumps(AugmentExplorerSim().get_state())) <= 150_000


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_pipeline_is_convkits_random_augmentations_with_their_draws(seed: int) -> None:
    """random_crop, horizontal_flip, colour_jitter and cutout, chained on tiles with one
    generator, give augment_tile of the parameters that generator drew for each tile."""
    x = load_colour_patches().x_train[list(DEFAULT_TILES)]
    n, padding, jitter, size = len(x), 3, (0.4, 0.3, 0.5), 7
    rng = np.random.default_rng(seed)
    out = random_crop(x, 32, padding, rng)
    out = horizontal_flip(out, rng)
    out = colour_jitter(out, rng, *jitter)
    out = cutout(out, size, rng)
    again = np.random.default_rng(seed)  # the same draws, in each function's documented order
    tops, lefts = again.integers(0, 2 * padding + 1, n), again.integers(0, 2 * padding + 1, n)
    flips = again.random(n) < 0.5
    factors = [again.uniform(1 - j, 1 + j, n) for j in jitter]
    cut = again.random(n) < 1.0
    rows, cols = again.integers(0, 32, n), again.integers(0, 32, n)
    assert cut.all()
    for i in range(n):
        expected = augment_tile(
            x[i], padding=padding, crop_top=int(tops[i]), crop_left=int(lefts[i]),
            flip=bool(flips[i]), brightness=factors[0][i], contrast=factors[1][i],
            saturation=factors[2][i], cutout_size=size, cutout_row=int(rows[i]),
            cutout_col=int(cols[i]),
        )  # fmt: skip
        np.testing.assert_allclose(out[i], expected, rtol=0, atol=1e-6)


def test_augment_tile_steps_one_at_a_time() -> None:
    image = np.random.default_rng(4).random((3, 6, 6))
    padded = np.pad(image, ((0, 0), (2, 2), (2, 2)))
    np.testing.assert_array_equal(
        augment_tile(image, padding=2, crop_top=0, crop_left=3), padded[:, 0:6, 3:9]
    )
    np.testing.assert_array_equal(augment_tile(image, flip=True), image[..., ::-1])
    np.testing.assert_array_equal(
        augment_tile(image, brightness=0.5, contrast=1.5, saturation=0.2),
        apply_colour_jitter(image, 0.5, 1.5, 0.2),
    )
    cut = augment_tile(image, cutout_size=2, cutout_row=5, cutout_col=0)
    assert np.count_nonzero(cut == 0) == 3 * 2 and np.all(cut[:, 4:6, 0] == 0)


_NODE_SCRIPT = """
const state = JSON.parse(readFileSync(STATE_FILE, "utf8"));
const images = state.images.map((flat) => tileImage(flat, state.side));
const cases = CASES.map(([tile, p]) => augment(images[tile], p).flat(2));
const padded = padImage(images[1], 3).flat(2);
const next = seededRandom(SEED);
const setting = { padding: 4, side: state.side, jitter: [0.4, 1.0, 0.25], cutoutSize: 6 };
const draws = Array.from({ length: 4000 }, () => drawParams(next, setting));
const repeat = drawParams(seededRandom(SEED), setting);
const other = drawParams(seededRandom(SEED + 1), setting);
console.log(JSON.stringify({ cases, padded, draws, repeat, other }));
"""

_KEYS = {
    "padding": "padding", "crop_top": "cropTop", "crop_left": "cropLeft", "flip": "flip",
    "brightness": "brightness", "contrast": "contrast", "saturation": "saturation",
    "cutout_size": "cutoutSize", "cutout_row": "cutoutRow", "cutout_col": "cutoutCol",
}  # fmt: skip


def _page_params(params: dict) -> dict:
    """augment_tile's keyword arguments (defaults filled in) in augment_explorer.js's names."""
    full = {"padding": 0, "flip": False, "brightness": 1.0, "contrast": 1.0, "saturation": 1.0,
            "cutout_size": 0, "cutout_row": 0, "cutout_col": 0, **params}  # fmt: skip
    full.setdefault("crop_top", full["padding"])
    full.setdefault("crop_left", full["padding"])
    return {_KEYS[k]: v for k, v in full.items()}


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_page_pixels_and_draws_match_python(sim: AugmentExplorerSim, tmp_path) -> None:
    """augment, padImage and drawParams of augment_explorer.js (run in Node on the widget's
    state) give augment_tile's pixels and draw from the ranges of convkit's augmentations."""
    cases = [(k % len(DEFAULT_TILES), params) for k, params in enumerate(PARAMS)]
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps({"images": sim.images, "side": sim.side}))
    page = run_sim_module(
        "augment_explorer",
        f"const CASES = {json.dumps([[t, _page_params(p)] for t, p in cases])};\n"
        + f"const STATE_FILE = {json.dumps(str(state_file))};\nconst SEED = 5;\n"
        + _NODE_SCRIPT,
    )
    for (tile, params), shown in zip(cases, page["cases"], strict=True):
        sim.tile = tile
        expected = augment_tile(sim.original(), **params)
        np.testing.assert_allclose(np.reshape(shown, (3, 32, 32)), expected, rtol=0, atol=1e-12)
    sim.tile = 0
    padded = np.pad(AugmentExplorerSim(tile=1).original(), ((0, 0), (3, 3), (3, 3)))
    np.testing.assert_array_equal(np.reshape(page["padded"], (3, 38, 38)), padded)

    draws = page["draws"]
    column = {key: np.array([d[key] for d in draws]) for key in draws[0]}
    assert set(column["padding"]) == {4} and set(column["cutoutSize"]) == {6}
    for key in ("cropTop", "cropLeft"):  # uniform over 0..8
        assert np.array_equal(np.bincount(column[key], minlength=9) > 360, np.ones(9, bool))
        assert column[key].max() == 8
    for key in ("cutoutRow", "cutoutCol"):  # uniform over the tile
        counts = np.bincount(column[key], minlength=32)
        assert len(counts) == 32 and counts.min() > 70 and counts.max() < 190
    assert abs(column["flip"].mean() - 0.5) < 0.03
    for key, (low, high) in {
        "brightness": (0.6, 1.4),
        "contrast": (0.0, 2.0),
        "saturation": (0.75, 1.25),
    }.items():
        values = column[key]
        assert low <= values.min() < low + 0.02 and high - 0.02 < values.max() <= high
        np.testing.assert_allclose(values, np.round(values, 2), rtol=0, atol=1e-12)
        assert abs(values.mean() - 1.0) < 0.03 * (high - low)
    assert page["repeat"] == draws[0] and page["other"] != draws[0]  # seeded


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"tiles": []}, ValueError, "tiles must hold 1 to 8 indices, got 0"),
        ({"tiles": list(range(9))}, ValueError, "tiles must hold 1 to 8 indices, got 9"),
        ({"tiles": [0, 758]}, ValueError, "tiles must be at most 757, got 758"),
        ({"tiles": [1.0]}, TypeError, "tiles must be an int"),
        ({"tiles": 3}, TypeError, "tiles must be a sequence of tile indices"),
        ({"tile": 5}, ValueError, "tile must be at most 4, got 5"),
        ({"padding": 9}, ValueError, "padding must be at most 8"),
        ({"padding": -1}, ValueError, "padding must be non-negative"),
        ({"padding": 2, "crop_top": 5}, ValueError, "crop_top must be at most 4, got 5"),
        ({"crop_left": -1}, ValueError, "crop_left must be non-negative"),
        ({"flip": 1}, TypeError, "flip must be True or False"),
        ({"brightness": 2.5}, ValueError, "brightness must be at most 2.0"),
        ({"contrast": -0.5}, ValueError, "contrast must be a finite number >= 0"),
        ({"saturation": "1"}, TypeError, "saturation must be a number"),
        ({"cutout_size": 17}, ValueError, "cutout_size must be at most 16"),
        ({"cutout_row": 32}, ValueError, "cutout_row must be at most 31"),
        ({"cutout_col": 2.0}, TypeError, "cutout_col must be an int"),
        ({"jitter": (0.4, 0.4)}, ValueError, r"jitter must be three spreads"),
        ({"jitter": (0.4, 1.5, 0.4)}, ValueError, "jitter must be at most 1"),
        ({"jitter": "abc"}, ValueError, r"jitter must be three spreads"),
        ({"seed": -1}, ValueError, "seed must be non-negative"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=rf"^AugmentExplorerSim: {message}"):
        AugmentExplorerSim(**kwargs)


def test_augment_tile_refuses_bad_input() -> None:
    image = np.zeros((3, 8, 8))
    with pytest.raises(ValueError, match=r"^augment_tile: image must be \(3, H, W\)"):
        augment_tile(np.zeros((1, 8, 8)))
    with pytest.raises(ValueError, match=r"^augment_tile: crop_top must be at most 4"):
        augment_tile(image, padding=2, crop_top=5)
    with pytest.raises(ValueError, match=r"^apply_cutout: centre_row must be between 0 and 7"):
        augment_tile(image, cutout_size=2, cutout_row=8)


def test_module_is_self_contained_and_uses_the_shared_helpers() -> None:
    source = esm_source("augment_explorer")
    assert re.search(r"^export default \{ render \};$", source, re.M)
    assert "import " not in source and '"data-sim": "augment_explorer"' in source
    own = source.split("// AugmentExplorerSim")[1]
    for helper in ("h(", "fmt(", "setTrait(", "button("):
        assert helper in own and f"function {helper}" not in own, helper
    for trait in _KEYS:  # every parameter is written back to its trait
        assert f"{trait}: " in own, trait
