"""The simulations and quick checks live in JupyterLab too (anywidget's lab extension),
and their state syncs back to the kernel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyterlab_session import LabNotebook, running_lab

pytestmark = pytest.mark.slow

CELLS = [
    "from convkit.sims import Slide1DSim\nsim = Slide1DSim([1, 2, 3, 4, 5], [1, 0, -1])\nsim",
    "from convkit.sims.quickcheck import quick_check\n"
    "quick_check('Pick $7$', right=('$7$', 'It is $7$.'), wrong=[('$6$', 'One short.')])",
    "print('position', sim.position)",
]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab serving a notebook with a ch01 simulation and a quick check."""
    with running_lab(tmp_path, "sims.ipynb", CELLS) as url:
        yield url


def test_sims_render_and_sync_in_jupyterlab(browser, lab: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        notebook = LabNotebook(page, lab)
        sim = page.locator('[data-sim="slide1d"]')
        notebook.run_until_visible(0, sim)
        notebook.run_cell(1)
        sim.locator('[data-action="step"]').click()
        assert sim.locator('[data-role="output"] [data-value]').count() == 2
        check = page.locator('[data-sim="quickcheck"]')
        check.wait_for(timeout=30_000)
        check.locator('.ck-option[data-index="1"]').click()  # option_order puts $6$ second
        assert check.locator('[data-role="explanation"]').inner_text().startswith("Not quite.")
        check.locator('.ck-option[data-index="0"]').click()
        assert check.locator('[data-role="explanation"]').inner_text().startswith("Correct.")
        assert notebook.output_text(2) == "position 1"  # the Step reached the kernel
        assert notebook.errors == []
    finally:
        page.close()
