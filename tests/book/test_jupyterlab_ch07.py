"""Chapter 7's ConvExplorerSim live in JupyterLab: its kernel buttons, typed weights,
sliders and Step button sync kernel, stride, padding and position back to the kernel,
and ``sim.output()`` then agrees with what the page shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyterlab_session import LabNotebook, running_lab

pytestmark = pytest.mark.slow

CELLS = [
    "from convkit.sims import ConvExplorerSim\nsim = ConvExplorerSim()\nsim",
    "print('state', sim.selected or '-', sim.stride, sim.padding, sim.position, "
    "sim.kernel[0][0], sim.output_shape(), round(float(sim.output().ravel()[sim.position]), 6))",
]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab serving a notebook with the simulation."""
    with running_lab(tmp_path, "explorer.ipynb", CELLS) as url:
        yield url


def test_explorer_syncs_in_jupyterlab(browser, lab: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        notebook = LabNotebook(page, lab)
        sim = page.locator('[data-sim="explorer"]')
        notebook.run_until_visible(0, sim)
        size = sim.locator('[data-role="out-size"]')
        assert (size.get_attribute("data-rows"), size.get_attribute("data-cols")) == ("6", "6")
        sim.locator('[data-action="preset"][data-name="sobel_y"]').click()
        sim.locator('input[data-control="stride"]').fill("2")
        sim.locator('input[data-control="padding"]').fill("1")
        assert (size.get_attribute("data-rows"), size.get_attribute("data-cols")) == ("4", "4")
        for _ in range(6):  # to output (1, 2): the window spans the block's top edge
            sim.locator('[data-action="step"]').click()
        shown = float(sim.locator('[data-role="sum"]').get_attribute("data-value"))
        assert notebook.output_text(1) == f"state sobel_y 2 1 6 -1.0 (4, 4) {round(shown, 6)}"
        # a typed weight: the selection is cleared and the kernel reaches Python
        sim.locator('[data-role="kernel"] input[data-row="0"][data-col="0"]').fill("3")
        shown = float(sim.locator('[data-role="sum"]').get_attribute("data-value"))
        assert notebook.output_text(1) == f"state - 2 1 6 3.0 (4, 4) {round(shown, 6)}"
        assert notebook.errors == []
    finally:
        page.close()
