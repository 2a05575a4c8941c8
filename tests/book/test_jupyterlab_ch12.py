"""Chapter 12's TransposeStepperSim live in JupyterLab: its step buttons, input values and
sliders reach the kernel (``sim.step``, ``sim.stride``, ``sim.padding``,
``sim.output_padding``), the kernel's ``sim.partial_output()`` is the grid the page draws,
and a setting made in the kernel redraws the page (which settles it the way its controls do
and writes the result back)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from book_site import SCREENSHOT_DIR, set_slider
from jupyterlab_session import LabNotebook, running_lab

pytestmark = pytest.mark.slow

CELLS = [
    "from convkit.sims import TransposeStepperSim\nsim = TransposeStepperSim()\nsim",
    "print('state', sim.stride, sim.padding, sim.output_padding, sim.step, "
    "sim.full_shape(), sim.partial_output().ravel().tolist())",
    # stride 1 leaves no room for output padding 2 or padding 2: the page brings them down
    "sim.stride = 1\nsim.step = 3\nprint('set')",
]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab serving a notebook with the simulation."""
    with running_lab(tmp_path, "transpose_stepper.ipynb", CELLS) as url:
        yield url


def _shown(sim) -> tuple[int, int, int, int]:
    """(stride, padding, output_padding, step) as the page shows them."""
    sliders = [int(sim.locator(f'[data-role="{name}-value"]').inner_text())
               for name in ("stride", "padding", "output_padding")]  # fmt: skip
    return (*sliders, int(sim.locator('[data-role="step"]').get_attribute("data-value")))


def _expected_print(sim) -> str:
    """What the kernel's print should say if it has the page's setting and full grid."""
    grid = sim.locator('[data-role="full"]')
    rows, cols = int(grid.get_attribute("data-rows")), int(grid.get_attribute("data-cols"))
    values = [float(v) for v in grid.locator(".ck-cell").evaluate_all(
        "els => els.map(e => e.dataset.value)")]  # fmt: skip
    stride, padding, output_padding, step = _shown(sim)
    return f"state {stride} {padding} {output_padding} {step} {(rows, cols)} {values}"


def test_transpose_stepper_syncs_in_jupyterlab(browser, lab: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    try:
        notebook = LabNotebook(page, lab)
        sim = page.locator('[data-sim="transpose_stepper"]')
        notebook.run_until_visible(0, sim)
        assert _shown(sim) == (2, 0, 0, 0)
        assert notebook.output_text(1) == _expected_print(sim)  # as constructed: empty
        sim.locator('[data-action="next"]').click()
        sim.locator('[data-action="next"]').click()
        assert notebook.output_text(1) == _expected_print(sim)
        assert _shown(sim) == (2, 0, 0, 2)
        set_slider(sim, "stride", 3)
        set_slider(sim, "output_padding", 2)
        set_slider(sim, "padding", 2)
        sim.locator('[data-role="input"] [data-index="2"]').click()  # the third value
        expected = _expected_print(sim)
        assert expected.startswith("state 3 2 2 3 (8, 8) ")
        assert notebook.output_text(1) == expected
        sim.locator('[data-action="all"]').click()
        sim.locator('[data-action="back"]').click()
        assert _shown(sim) == (3, 2, 2, 3)
        sim.locator('[data-action="all"]').click()
        expected = _expected_print(sim)
        assert expected.startswith("state 3 2 2 4 (8, 8) ")
        assert notebook.output_text(1) == expected
        assert notebook.output_text(2) == "set"  # the kernel's change reaches the page
        sim.locator('[data-role="step"][data-value="3"]').wait_for(timeout=10_000)
        assert _shown(sim) == (1, 1, 0, 3)  # settled: output padding < 1, a 2x2 output left
        assert sim.locator('[data-role="output"]').get_attribute("data-rows") == "2"
        expected = _expected_print(sim)
        assert expected.startswith("state 1 1 0 3 (4, 4) ")
        assert notebook.output_text(1) == expected  # the settled values reached the kernel
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        sim.screenshot(path=str(SCREENSHOT_DIR / "transpose_stepper_jupyterlab.png"))
        assert notebook.errors == []
    finally:
        page.close()
