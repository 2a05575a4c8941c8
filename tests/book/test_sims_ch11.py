"""Chapter 11's augmentation explorer in the browser, with no kernel: for every tile and for
settings reached through every control (sliders, flip, Random, back to no augmentation),
the augmented tile the page draws -- the numbers on its canvas and the canvas's pixels --
is convkit's augment_tile of the parameters the page shows, and the readout names them.
Checked on the built chapter once it exists, and now on a standalone page that embeds the
widget's state the way the book does (the book's vendored widget manager, no kernel)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from book_site import (
    SCREENSHOT_DIR,
    check_built_sims,
    open_page,
    set_slider,
    sources_using,
    standalone_page,
    toc_docnames,
    widget_vendor,
)

from convkit.sims import AugmentExplorerSim
from convkit.sims.augment_explorer import augment_tile

pytestmark = pytest.mark.slow

SIM_ID = "convkit.sims.augment_explorer.AugmentExplorerSim"
SIM_KIND = "augment_explorer"
CHAPTER = "book/ch11_data_augmentation"

# The page's sliders (data-control) for augment_tile's keyword arguments.
SLIDERS = {
    "padding": "padding",
    "crop_top": "cropTop",
    "crop_left": "cropLeft",
    "brightness": "brightness",
    "contrast": "contrast",
    "saturation": "saturation",
    "cutout_size": "cutoutSize",
    "cutout_row": "cutoutRow",
    "cutout_col": "cutoutCol",
}


def _value(root, role: str) -> str:
    return root.locator(f'[data-role="{role}"]').get_attribute("data-value")


def _params(root) -> dict:
    """augment_tile's keyword arguments as the page's controls show them."""
    factors = ("brightness", "contrast", "saturation")
    params = {
        name: (float if name in factors else int)(float(_value(root, f"{control}-value")))
        for name, control in SLIDERS.items()
    }
    pressed = root.locator('[data-control="flip"]').get_attribute("aria-pressed")
    return {**params, "flip": pressed == "true"}


def _tile(root) -> int:
    pressed = root.locator('[data-control="tile"][aria-pressed="true"]')
    assert pressed.count() == 1
    return int(pressed.get_attribute("data-tile"))


def _canvas_bytes(root, role: str) -> np.ndarray:
    """The RGB bytes of canvas data-role=role: (3, H, W) uint8."""
    flat = root.locator(f'canvas[data-role="{role}"]').evaluate(
        "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
    )
    size = root.locator(f'canvas[data-role="{role}"]').evaluate("c => [c.height, c.width]")
    return np.array(flat, dtype=np.uint8).reshape(*size, 4)[..., :3].transpose(2, 0, 1)


def _set_factor(root, control: str, value: float) -> None:
    """Move a factor slider to ``value`` as a drag does (the input fires "input")."""
    root.locator(f'input[data-control="{control}"]').fill(str(value))
    assert float(_value(root, f"{control}-value")) == value


def _check(root, state: dict) -> dict:
    """The page shows augment_tile of its own parameters; returns them."""
    side, tile, params = state["side"], _tile(root), _params(root)
    original = np.array(state["images"][tile], dtype=np.float64).reshape(3, side, side) / 255
    expected = augment_tile(original, **params)
    augmented = root.locator('canvas[data-role="augmented"]')
    shown = np.array(json.loads(augmented.get_attribute("data-values"))).reshape(3, side, side)
    np.testing.assert_allclose(shown, expected, rtol=0, atol=1e-12)
    pixels = _canvas_bytes(root, "augmented").astype(int)
    assert np.abs(pixels - np.rint(expected * 255)).max() <= 1  # a rounding step at most
    assert np.mean(pixels == np.rint(expected * 255)) > 0.99
    np.testing.assert_array_equal(
        _canvas_bytes(root, "original"), np.reshape(state["images"][tile], (3, side, side))
    )
    padded = _canvas_bytes(root, "padded")
    assert padded.shape == (3, side + 2 * params["padding"], side + 2 * params["padding"])
    readout = root.locator('[data-role="readout"]')
    named = ["padding", "crop_top", "crop_left", "brightness", "contrast", "saturation"]
    if params["cutout_size"]:
        named += ["cutout_size", "cutout_row", "cutout_col"]
    for key in named:
        assert float(_value(readout, key.replace("_", "-"))) == params[key], key
    assert _value(readout, "flip") == str(params["flip"]).lower()
    title = root.locator('[data-role="title"]').inner_text()
    assert f'"{state["labels"][tile]}"' in title
    return params


def test_chapter_uses_the_simulation() -> None:
    if CHAPTER not in toc_docnames():
        pytest.skip(f"{CHAPTER} is not in the toc yet")
    assert CHAPTER in sources_using("AugmentExplorerSim")


def check_sim(root, state: dict) -> None:
    """Drive one rendered AugmentExplorerSim through its controls (used per embedded sim)."""
    _check(root, state)  # as embedded
    for tile in range(len(state["images"])):
        root.locator(f'[data-control="tile"][data-tile="{tile}"]').click()
        _check(root, state)
    set_slider(root, "padding", 6)  # a new padding starts centred
    assert _check(root, state)["crop_top"] == 6
    set_slider(root, "cropTop", 0)
    set_slider(root, "cropLeft", 12)
    _check(root, state)
    root.locator('[data-control="flip"]').click()
    assert _check(root, state)["flip"]
    _set_factor(root, "brightness", 1.5)
    _set_factor(root, "contrast", 0.3)
    _check(root, state)
    _set_factor(root, "saturation", 0)
    grey = json.loads(root.locator('canvas[data-role="augmented"]').get_attribute("data-values"))
    red, green, blue = np.reshape(grey, (3, -1))
    np.testing.assert_allclose(red, green, atol=1e-12)  # saturation 0: grey
    np.testing.assert_allclose(red, blue, atol=1e-12)
    _check(root, state)
    set_slider(root, "cutoutSize", 9)
    set_slider(root, "cutoutRow", 0)
    set_slider(root, "cutoutCol", state["side"] - 1)
    _check(root, state)
    spreads = state["jitter"]
    for draw in range(1, 6):
        root.locator('[data-action="random"]').click()
        params = _check(root, state)
        assert params["padding"] == 6 and params["cutout_size"] == 9
        assert 0 <= params["crop_top"] <= 12 and 0 <= params["crop_left"] <= 12
        for key, spread in zip(("brightness", "contrast", "saturation"), spreads, strict=True):
            assert max(0, 1 - spread) <= params[key] <= 1 + spread
        status = root.locator('[data-role="draw-status"]').inner_text()
        assert status == f"draw {draw} (seed {state['seed']})"
    root.locator('[data-action="reset"]').click()
    params = _check(root, state)
    assert (params["crop_top"], params["crop_left"], params["flip"]) == (6, 6, False)
    shown = json.loads(root.locator('canvas[data-role="augmented"]').get_attribute("data-values"))
    side = state["side"]
    original = np.reshape(state["images"][_tile(root)], (3, side, side)) / 255
    np.testing.assert_allclose(np.reshape(shown, (3, side, side)), original, rtol=0, atol=1e-15)


DOCNAMES = sources_using("AugmentExplorerSim")
if DOCNAMES:  # defined only then: an empty parametrisation would still collect a skipped case

    @pytest.mark.parametrize("docname", DOCNAMES)
    def test_augment_explorer_matches_convkit(visit, docname: str) -> None:
        check_built_sims(visit, docname, SIM_ID, SIM_KIND, check_sim)


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book's vendored widget code, as the built site has it."""
    return widget_vendor(tmp_path_factory)


def test_standalone_page_matches_convkit(browser, vendor: Path, tmp_path: Path) -> None:
    sim = AugmentExplorerSim(tile=2, padding=3, crop_top=1, crop_left=5, brightness=1.2,
                             cutout_size=6, cutout_row=10, cutout_col=25, seed=11)  # fmt: skip
    page_file = standalone_page(tmp_path, vendor, sim)
    result = open_page(browser, page_file.as_uri(), allowed_prefix=tmp_path.as_uri())
    try:
        root = result.page.locator(f'[data-sim="{SIM_KIND}"]')
        assert root.count() == 1, "AugmentExplorerSim did not render"
        state = sim.get_state()
        assert _params(root) == {
            "padding": 3, "crop_top": 1, "crop_left": 5, "brightness": 1.2, "contrast": 1.0,
            "saturation": 1.0, "cutout_size": 6, "cutout_row": 10, "cutout_col": 25, "flip": False,
        }  # fmt: skip
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        root.screenshot(path=str(SCREENSHOT_DIR / "augment_explorer_standalone.png"))
        check_sim(root, state)
        assert result.problems() == [], "\n".join(result.problems())
    finally:
        result.page.close()
