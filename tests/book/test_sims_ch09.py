"""Chapter 9's patch-grid simulation in the built book: for every patch size the page
shows the grid, patch count, patch length and uncovered pixels that convkit's
output_size gives, and the selected patch's values equal convkit's patchify row."""

from __future__ import annotations

import json

import numpy as np
import pytest
from book_site import HTML_DIR, embedded_views, sources_using, toc_docnames

from convkit import output_size
from convkit.nn.models import patchify
from convkit.sims import PatchGridSim

pytestmark = pytest.mark.slow

SIM_ID = "convkit.sims.patches.PatchGridSim"
SIM_KIND = "patches"
CHAPTER = "book/ch09_beyond"


def _number(root, role: str) -> int:
    return int(root.locator(f'[data-role="{role}"]').get_attribute("data-value"))


def _expected_rows(image: np.ndarray, p: int) -> np.ndarray:
    """patchify of the part of the image a kernel = stride = p convolution covers."""
    gh, gw = output_size(image.shape[0], p, p), output_size(image.shape[1], p, p)
    return patchify(image[None, None, : gh * p, : gw * p], p)[0]


def _check(root, image: np.ndarray, p: int, selected: int) -> None:
    h, w = image.shape
    gh, gw = output_size(h, p, p), output_size(w, p, p)
    assert (_number(root, "grid-rows"), _number(root, "grid-cols")) == (gh, gw)
    assert _number(root, "num-patches") == gh * gw
    assert _number(root, "patch-length") == p * p
    assert _number(root, "dropped") == h * w - gh * gw * p * p
    vector = root.locator('[data-role="patch-vector"]')
    assert int(vector.get_attribute("data-index")) == selected
    values = json.loads(vector.get_attribute("data-values"))
    np.testing.assert_allclose(values, _expected_rows(image, p)[selected], rtol=0, atol=1e-12)
    title = root.locator('[data-role="title"]').inner_text()
    assert f"{gh * gw} patches of {p * p} values" in title


def _set_patch_size(root, p: int) -> None:
    root.locator('[data-control="patch"]').evaluate(
        "(el, v) => { el.value = String(v); "
        "el.dispatchEvent(new Event('input', {bubbles: true})); }",
        p,
    )


def test_chapter_uses_the_simulation() -> None:
    if CHAPTER not in toc_docnames():
        pytest.skip(f"{CHAPTER} is not in the toc yet")
    assert CHAPTER in sources_using("PatchGridSim")


def test_widget_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        PatchGridSim(np.full((8, 8), 2.0))
    with pytest.raises(ValueError, match="at most 4"):
        PatchGridSim(np.zeros((8, 8)), patch_size=5)
    with pytest.raises(TypeError):
        PatchGridSim(np.zeros((8, 8)), patch_size=2.0)
    assert PatchGridSim(np.zeros((8, 8)), patch_size=4).patch_size == 4


@pytest.mark.parametrize("docname", sources_using("PatchGridSim"))
def test_patch_grid_matches_convkit(visit, docname: str) -> None:
    result = visit(docname)
    states = [s for s in embedded_views(HTML_DIR / f"{docname}.html")
              if s.get("_anywidget_id") == SIM_ID]
    roots = result.page.locator(f'[data-sim="{SIM_KIND}"]')
    assert roots.count() == len(states) > 0, f"{docname}: PatchGridSim did not render"
    for index, state in enumerate(states):
        root = roots.nth(index)
        image = np.array(state["image"], dtype=float)
        p = state["patch_size"]
        _check(root, image, p, 0)
        # Next / Previous walk through the patches in row-major order
        root.locator('[data-action="next"]').click()
        root.locator('[data-action="next"]').click()
        _check(root, image, p, 2)
        root.locator('[data-action="prev"]').click()
        _check(root, image, p, 1)
        # a click on the image selects the patch under the pointer
        canvas = root.locator('[data-role="image"]')
        box = canvas.bounding_box()
        gh, gw = output_size(image.shape[0], p, p), output_size(image.shape[1], p, p)
        row, col = gh - 1, gw // 2
        canvas.click(position={"x": (col + 0.5) * p / image.shape[1] * box["width"],
                               "y": (row + 0.5) * p / image.shape[0] * box["height"]})
        _check(root, image, p, row * gw + col)
        # every patch size of the slider, divisible or not, recomputed by the page
        largest = min(image.shape) // 2
        for size in sorted({1, 3, 5, largest, p}):
            _set_patch_size(root, size)
            _check(root, image, size, 0)
            last = output_size(image.shape[0], size, size) * output_size(image.shape[1], size, size)
            for _ in range(min(3, last - 1)):
                root.locator('[data-action="next"]').click()
            _check(root, image, size, min(3, last - 1))
        assert root.locator('[data-action="prev"]').is_enabled()
    assert result.problems() == [], "\n".join(result.problems())
