"""Chapter 6's ArchitectureSim live in JupyterLab: adding a block on the page redraws the
diagram with convkit's shapes, and the new blocks and the clicked layer reach the kernel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyterlab_session import LabNotebook, running_lab

from convkit.sims.architecture import architecture_layers

pytestmark = pytest.mark.slow

CELLS = [
    "from convkit.sims import ArchitectureSim\n"
    "sim = ArchitectureSim(image_size=32, in_channels=3, blocks=[32, 64], kernel_size=3)\nsim",
    "print('state', sim.blocks, sim.selected)",
]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab serving a notebook with the diagram."""
    with running_lab(tmp_path, "architecture.ipynb", CELLS) as url:
        yield url


def test_architecture_sim_syncs_in_jupyterlab(browser, lab: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        notebook = LabNotebook(page, lab)
        sim = page.locator('[data-sim="architecture"]')
        notebook.run_until_visible(0, sim)
        sim.locator('[data-action="add-block"]').click()
        expected = architecture_layers(32, 3, [32, 64, 128], 3)
        flat = next(r for r in expected if r.kind == "flatten")
        page.wait_for_function(
            "v => document.querySelector('[data-sim=\"architecture\"] [data-role=\"features\"]')"
            "?.getAttribute('data-value') === v",
            arg=str(flat.shape[0]),
            timeout=10_000,
        )
        pool3 = next(i for i, r in enumerate(expected) if r.name == "pool3")
        sim.locator('[data-role="layer"]').nth(pool3).click()
        assert sim.locator('[data-role="detail-name"]').inner_text() == "pool3"
        # the kernel saw both changes
        assert notebook.output_text(1) == f"state [32, 64, 128] {pool3}"
        assert notebook.errors == []
    finally:
        page.close()
