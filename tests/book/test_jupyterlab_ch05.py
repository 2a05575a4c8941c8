"""Chapter 5's OutputSizeCalculator live in JupyterLab: a value typed in the page
changes the size shown and reaches the kernel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyterlab_session import LabNotebook, running_lab

from convkit import output_size

pytestmark = pytest.mark.slow

CELLS = [
    "from convkit.sims import OutputSizeCalculator\n"
    "sim = OutputSizeCalculator(size=32, kernel_size=5, stride=1, padding=2, dilation=1)\nsim",
    "print('state', sim.size, sim.kernel_size, sim.stride, sim.padding, sim.dilation)",
]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab serving a notebook with the calculator."""
    with running_lab(tmp_path, "output_size.ipynb", CELLS) as url:
        yield url


def test_output_size_calculator_syncs_in_jupyterlab(browser, lab: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        notebook = LabNotebook(page, lab)
        sim = page.locator('[data-sim="output_size"]')
        notebook.run_until_visible(0, sim)
        shown = sim.locator('[data-role="out-size"]')
        assert shown.get_attribute("data-value") == str(output_size(32, 5, 1, 2))
        sim.locator('input[data-control="stride"]').fill("2")
        page.wait_for_function(
            "v => document.querySelector('[data-sim=\"output_size\"] [data-role=\"out-size\"]')"
            "?.getAttribute('data-value') === v",
            arg=str(output_size(32, 5, 2, 2)),
            timeout=10_000,
        )
        assert notebook.output_text(1) == "state 32 5 2 2 1"  # the kernel saw the change
        assert notebook.errors == []
    finally:
        page.close()
