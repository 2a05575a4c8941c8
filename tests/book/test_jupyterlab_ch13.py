"""Chapter 13's ExplanationExplorerSim live in JupyterLab: its thumbnails, class buttons,
arrow keys, Predicted class button and opacity slider reach the kernel (``sim.image``,
``sim.target``, ``sim.opacity``), the kernel's ``sim.shown_codes`` / ``sim.shown_colours``
are what the page draws, and a choice made in the kernel redraws the page (brought into
range the way the controls would, and written back)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from book_site import SCREENSHOT_DIR, set_slider
from jupyterlab_session import LabNotebook, running_lab

from convkit.sims.explanation_explorer import NAN_CODE, decode_codes

pytestmark = pytest.mark.slow

SETUP = """import numpy as np
from convkit.sims import ExplanationExplorerSim
from convkit.sims.explanation_explorer import NAN_CODE, encode_codes
k, n, side = 5, 4, 10
kk, cc, rr, qq = np.meshgrid(*(np.arange(m) for m in (k, n, side, side)), indexing="ij")
tilt = (rr - 4.5) * (cc + 1) - kk
tilt[1::2, :, :, -2:] = np.nan
maps = {"saliency": (kk + 1) * np.exp(-((rr - kk - 1) ** 2 + (qq - 2 * cc - 1) ** 2) / 3.0),
        "Grad-CAM": (rr + qq + 3 * kk + cc) * 1.0, "occlusion": tilt}
images = np.random.default_rng(7).random((k, side, side))
sim = ExplanationExplorerSim(images, ["zero", "one", "two", "three"], maps,
                             predicted=[0, 1, 3, 3, 2], opacity=0.5)
sim"""
PRINT = """def shown(m):
    valued = sim.shown_codes(m) != NAN_CODE
    return f"{encode_codes(sim.shown_codes(m))}:{int(sim.shown_colours(m)[valued].sum())}"
print('state', sim.image, sim.target, sim.opacity, ' '.join(shown(m) for m in sim.methods))"""
CELLS = [SETUP, PRINT, "sim.image = 3\nsim.target = 9\nsim.opacity = 0.25\nprint('set')"]

# The page's choice, its codes and the sum of its valued pixels' colours, in one string.
SHOWN_JS = """root => JSON.stringify({
  image: Number(root.querySelector('[data-control="image"][aria-pressed="true"]').dataset.image),
  target: Number(root.querySelector('[data-control="target"][aria-pressed="true"]').dataset.target),
  opacity: Number(root.querySelector('[data-role="opacity-value"]').dataset.value),
  maps: [...root.querySelectorAll('canvas[data-role="map"]')].map((c) => ({ codes: c.dataset.codes,
    width: c.width, height: c.height,
    bytes: Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data) })),
})"""


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab serving a notebook with the simulation."""
    with running_lab(tmp_path, "explanation_explorer.ipynb", CELLS) as url:
        yield url


def _shown(sim) -> dict:
    return json.loads(sim.evaluate(SHOWN_JS))


def _expected_print(sim) -> str:
    """What the kernel's print should say if it has the page's image, class, opacity and
    maps: each map's codes and the sum of the colours of its pixels that have a value (the
    top-left screen pixel of each block)."""
    shown = _shown(sim)
    parts = []
    for canvas in shown["maps"]:
        codes = decode_codes(canvas["codes"]).reshape(10, 10)
        s = canvas["height"] // 10
        rgb = np.array(canvas["bytes"]).reshape(canvas["height"], canvas["width"], 4)[::s, ::s, :3]
        parts.append(f"{canvas['codes']}:{int(rgb[codes != NAN_CODE].sum())}")
    opacity = float(shown["opacity"])
    return f"state {shown['image']} {shown['target']} {opacity} " + " ".join(parts)


def test_explanation_explorer_syncs_in_jupyterlab(browser, lab: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    try:
        notebook = LabNotebook(page, lab)
        sim = page.locator('[data-sim="explanation_explorer"]')
        notebook.run_until_visible(0, sim)
        shown = _shown(sim)
        assert (shown["image"], shown["target"], shown["opacity"]) == (0, 0, 0.5)
        assert notebook.output_text(1) == _expected_print(sim)  # as constructed
        sim.locator('[data-control="image"][data-image="2"]').click()
        sim.locator('[data-control="target"][data-target="1"]').click()
        expected = _expected_print(sim)
        assert expected.startswith("state 2 1 0.5 ")
        assert notebook.output_text(1) == expected
        sim.locator('[data-control="image"][data-image="2"]').focus()
        page.keyboard.press("ArrowRight")  # image 3: an odd one, its occlusion map has NaN
        sim.locator('[data-action="predicted"]').click()
        set_slider(sim, "opacity", 0.8)
        expected = _expected_print(sim)
        assert expected.startswith("state 3 3 0.8 ")
        assert notebook.output_text(1) == expected
        assert notebook.output_text(2) == "set"  # the kernel's choice reaches the page
        sim.locator('[data-control="target"][data-target="3"][aria-pressed="true"]').wait_for(
            timeout=10_000
        )
        sim.locator('[data-role="opacity-value"][data-value="0.25"]').wait_for(timeout=10_000)
        expected = _expected_print(sim)
        assert expected.startswith("state 3 3 0.25 ")  # class 9 brought down to the last, 3
        assert notebook.output_text(1) == expected  # and written back to the kernel
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        sim.screenshot(path=str(SCREENSHOT_DIR / "explanation_explorer_jupyterlab.png"))
        assert notebook.errors == []
    finally:
        page.close()
