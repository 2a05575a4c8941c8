"""PoolingSim (ch04) without a browser: its state, its module and its input checks."""

from __future__ import annotations

import re

import numpy as np
import pytest

from convkit.sims import PoolingSim
from convkit.sims._base import esm_source


def test_state_holds_grid_window_stride_and_mode() -> None:
    sim = PoolingSim(np.arange(16).reshape(4, 4), kernel_size=2, mode="avg")
    state = sim.get_state()
    assert state["grid"][1] == [4, 5, 6, 7]
    assert (state["kernel_size"], state["stride"], state["mode"], state["position"]) == (
        2, 2, "avg", 0)
    assert state["_anywidget_id"] == "convkit.sims.pooling.PoolingSim"
    assert PoolingSim(np.ones((5, 5)), kernel_size=3, stride=1).get_state()["stride"] == 1


def test_module_is_self_contained() -> None:
    source = esm_source("pooling")
    assert re.search(r"^export default \{ render \};$", source, re.M)
    assert "import " not in source and "http" not in source.replace(
        "http://www.w3.org/2000/svg", "")
    assert 'data-sim": "pooling"' in source
    assert '"data-mode": value' in source and '"data-role": "result"' in source


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((np.ones((9, 4)),), {}),  # too big to read
        ((np.ones((3, 3)),), {"kernel_size": 4}),  # window larger than the grid
        ((np.ones((4, 4)),), {"kernel_size": 0}),
        ((np.ones((4, 4)),), {"stride": 3}),  # would skip pixels
        ((np.ones((4, 4)),), {"mode": "min"}),
        ((np.array([[1.0, np.nan], [0.0, 1.0]]),), {}),
        ((np.ones(4),), {}),
    ],
)
def test_bad_arguments_raise(args, kwargs) -> None:
    with pytest.raises((ValueError, TypeError), match=r"^PoolingSim: "):
        PoolingSim(*args, **kwargs)
