"""Chapter 3's StridePaddingSim live in JupyterLab: its sliders and Step button sync
stride, padding and position back to the kernel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyterlab_session import LabNotebook, running_lab

pytestmark = pytest.mark.slow

CELLS = [
    "import numpy as np\nfrom convkit.sims import StridePaddingSim\n"
    "sim = StridePaddingSim(np.arange(25.0).reshape(5, 5), np.ones((3, 3)))\nsim",
    "print('state', sim.stride, sim.padding, sim.position)",
]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab serving a notebook with the simulation."""
    with running_lab(tmp_path, "stride_padding.ipynb", CELLS) as url:
        yield url


def test_stride_padding_sim_syncs_in_jupyterlab(browser, lab: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        notebook = LabNotebook(page, lab)
        sim = page.locator('[data-sim="stride_padding"]')
        notebook.run_until_visible(0, sim)
        sim.locator('input[data-control="stride"]').fill("2")
        sim.locator('input[data-control="padding"]').fill("1")
        size = sim.locator('[data-role="out-size"]')
        assert (size.get_attribute("data-rows"), size.get_attribute("data-cols")) == ("3", "3")
        sim.locator('[data-action="step"]').click()
        assert sim.locator('[data-role="output"] [data-value]').count() == 2
        assert notebook.output_text(1) == "state 2 1 1"  # the kernel saw the page's changes
        assert notebook.errors == []
    finally:
        page.close()
