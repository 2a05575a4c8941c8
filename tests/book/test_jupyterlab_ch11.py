"""Chapter 11's AugmentExplorerSim live in JupyterLab: its tile buttons, sliders, flip and
Random button reach the kernel (``sim.tile``, ``sim.padding``, ``sim.flip``, ...), the
kernel's ``sim.augmented()`` is the tile the page draws, and a parameter set in the kernel
redraws the page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from book_site import SCREENSHOT_DIR, set_slider
from jupyterlab_session import LabNotebook, running_lab

pytestmark = pytest.mark.slow

NAMES = (
    "tile padding crop_top crop_left flip brightness contrast saturation "
    "cutout_size cutout_row cutout_col"
).split()
CELLS = [
    "from convkit.sims import AugmentExplorerSim\nsim = AugmentExplorerSim()\nsim",
    "print('state', " + ", ".join(f"sim.{name}" for name in NAMES) + ", "
    "f'{sim.augmented().sum():.6f}')",
    "sim.tile = 4\nsim.cutout_size = 3\nprint('set')",
]
# data-role of the number each slider shows, by trait
SHOWN = {
    "padding": "padding-value",
    "crop_top": "cropTop-value",
    "crop_left": "cropLeft-value",
    "brightness": "brightness-value",
    "contrast": "contrast-value",
    "saturation": "saturation-value",
    "cutout_size": "cutoutSize-value",
    "cutout_row": "cutoutRow-value",
    "cutout_col": "cutoutCol-value",
}
FACTORS = ("brightness", "contrast", "saturation")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab serving a notebook with the simulation."""
    with running_lab(tmp_path, "augment_explorer.ipynb", CELLS) as url:
        yield url


def _expected_print(sim) -> str:
    """What the kernel's print should say if it has the page's parameters and pixels."""
    value = {
        name: sim.locator(f'[data-role="{role}"]').get_attribute("data-value")
        for name, role in SHOWN.items()
    }
    shown = {name: float(v) if name in FACTORS else int(v) for name, v in value.items()}
    tile = int(sim.locator('[data-control="tile"][aria-pressed="true"]').get_attribute("data-tile"))
    flip = sim.locator('[data-control="flip"]').get_attribute("aria-pressed") == "true"
    pixels = json.loads(sim.locator('canvas[data-role="augmented"]').get_attribute("data-values"))
    parts = [tile, *(shown[n] for n in NAMES[1:4]), flip, *(shown[n] for n in NAMES[5:])]
    return "state " + " ".join(map(str, parts)) + f" {np.sum(pixels):.6f}"


def test_augment_explorer_syncs_in_jupyterlab(browser, lab: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    try:
        notebook = LabNotebook(page, lab)
        sim = page.locator('[data-sim="augment_explorer"]')
        notebook.run_until_visible(0, sim)
        assert notebook.output_text(1) == _expected_print(sim)  # as constructed
        sim.locator('[data-control="tile"][data-tile="2"]').click()
        set_slider(sim, "padding", 7)
        set_slider(sim, "cropTop", 2)
        set_slider(sim, "cropLeft", 13)
        sim.locator('[data-control="flip"]').click()
        for control, value in (("brightness", "1.35"), ("saturation", "0.2")):
            sim.locator(f'input[data-control="{control}"]').fill(value)
        set_slider(sim, "cutoutSize", 11)
        set_slider(sim, "cutoutRow", 30)
        set_slider(sim, "cutoutCol", 4)
        expected = _expected_print(sim)
        assert expected.startswith("state 2 7 2 13 True 1.35 1.0 0.2 11 30 4 ")
        assert notebook.output_text(1) == expected
        sim.locator('[data-action="random"]').click()
        sim.locator('[data-action="random"]').click()
        expected = _expected_print(sim)
        assert notebook.output_text(1) == expected
        assert notebook.output_text(2) == "set"  # the kernel's change reaches the page
        chosen = sim.locator('[data-control="tile"][data-tile="4"][aria-pressed="true"]')
        chosen.wait_for(timeout=10_000)
        assert sim.locator('[data-role="cutoutSize-value"]').inner_text() == "3"
        assert notebook.output_text(1) == _expected_print(sim)
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        sim.screenshot(path=str(SCREENSHOT_DIR / "augment_explorer_jupyterlab.png"))
        assert notebook.errors == []
    finally:
        page.close()
