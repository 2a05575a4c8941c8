"""Chapter 10's DepthSpreadSim live in JupyterLab: its depth, preset, slider and batch-norm
controls reach the kernel (``sim.depth``, ``sim.init_gain``, ``sim.batch_norm``), and the
readout the page shows is the kernel's own ``spread_through_depth`` for that setting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyterlab_session import LabNotebook, running_lab

pytestmark = pytest.mark.slow

CELLS = [
    "from convkit.sims import DepthSpreadSim\nsim = DepthSpreadSim(depth=10)\nsim",
    "from convkit.lessons.depth_spread import spread_through_depth\n"
    "from convkit.sims.depth_spread import SIM_SHAPE, SEED\n"
    "s = spread_through_depth(sim.depth, sim.init_gain, sim.batch_norm, **SIM_SHAPE, seed=SEED)\n"
    "print('state', sim.depth, round(sim.init_gain, 4), sim.batch_norm,"
    " f'{s.activation_std[-1]:.3g}')",
]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab serving a notebook with the simulation."""
    with running_lab(tmp_path, "depth_spread.ipynb", CELLS) as url:
        yield url


def _shown_last(sim) -> str:
    """The readout's last-block activation std, as the kernel's print formats it."""
    value = float(sim.locator('[data-role="act-last"]').get_attribute("data-value"))
    return f"{value:.3g}"


def test_depth_spread_syncs_in_jupyterlab(browser, lab: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        notebook = LabNotebook(page, lab)
        sim = page.locator('[data-sim="depth_spread"]')
        notebook.run_until_visible(0, sim)
        sim.locator('[data-control="depth"][data-depth="20"]').click()
        sim.locator('[data-control="preset"][data-preset="Xavier/Glorot"]').click()
        assert notebook.output_text(1) == f"state 20 0.7071 False {_shown_last(sim)}"
        sim.locator('[data-control="batch-norm"][data-batch-norm="on"]').click()
        sim.locator('input[data-control="gain"]').evaluate(
            "el => { el.value = String(Number(el.max)); "
            "el.dispatchEvent(new Event('input', {bubbles: true})); }"
        )  # the slider's last setting: gain 1.5
        assert notebook.output_text(1) == f"state 20 1.5 True {_shown_last(sim)}"
        assert notebook.errors == []
    finally:
        page.close()
