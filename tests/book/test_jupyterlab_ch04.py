"""Chapter 4's PoolingSim live in JupyterLab: its max / average toggle and its Step
button sync mode and position back to the kernel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyterlab_session import LabNotebook, running_lab

pytestmark = pytest.mark.slow

CELLS = [
    "import numpy as np\nfrom convkit.sims import PoolingSim\n"
    "sim = PoolingSim(np.arange(16.0).reshape(4, 4), kernel_size=2, stride=2, mode='max')\nsim",
    "print('state', sim.mode, sim.position)",
]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab serving a notebook with the simulation."""
    with running_lab(tmp_path, "pooling.ipynb", CELLS) as url:
        yield url


def test_pooling_sim_syncs_in_jupyterlab(browser, lab: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        notebook = LabNotebook(page, lab)
        sim = page.locator('[data-sim="pooling"]')
        notebook.run_until_visible(0, sim)
        result = sim.locator('[data-role="result"]')
        assert result.get_attribute("data-value") == "5"  # max of 0, 1, 4, 5
        sim.locator('[data-control="mode"][data-mode="avg"]').click()
        assert result.get_attribute("data-value") == "2.5"  # (0 + 1 + 4 + 5) / 4
        sim.locator('[data-action="step"]').click()
        assert sim.locator('[data-role="output"] [data-value]').count() == 2
        assert result.get_attribute("data-value") == "4.5"  # (2 + 3 + 6 + 7) / 4
        assert notebook.output_text(1) == "state avg 1"  # the kernel saw the page's changes
        assert notebook.errors == []
    finally:
        page.close()
