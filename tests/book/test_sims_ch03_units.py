"""StridePaddingSim (ch03) without a browser: its state, its module and its input checks."""

from __future__ import annotations

import re

import numpy as np
import pytest

from convkit.sims import StridePaddingSim
from convkit.sims._base import esm_source
from convkit.sims.stride_padding import MAX_STRIDE


def test_state_holds_image_kernel_stride_padding() -> None:
    sim = StridePaddingSim(np.arange(25).reshape(5, 5), np.ones((3, 3)), stride=2, padding=1)
    state = sim.get_state()
    assert state["image"][1] == [5, 6, 7, 8, 9] and state["kernel"] == [[1, 1, 1]] * 3
    assert (state["stride"], state["padding"], state["position"]) == (2, 1, 0)
    assert state["_anywidget_id"] == "convkit.sims.stride_padding.StridePaddingSim"


def test_module_is_self_contained_and_matches_the_python_limits() -> None:
    source = esm_source("stride_padding")
    assert re.search(r"^export default \{ render \};$", source, re.M)
    assert "import " not in source and "http" not in source.replace(
        "http://www.w3.org/2000/svg", "")
    assert f"const MAX_STRIDE = {MAX_STRIDE};" in source
    assert 'data-sim": "stride_padding"' in source


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((np.ones((3, 3)), np.ones((4, 2))), {}, ValueError),  # kernel taller than the image
        ((np.ones((8, 8)), np.ones((3, 3))), {}, ValueError),  # too big to read
        ((np.ones((5, 5)), np.ones((3, 3))), {"stride": 0}, ValueError),
        ((np.ones((5, 5)), np.ones((3, 3))), {"stride": MAX_STRIDE + 1}, ValueError),
        ((np.ones((5, 5)), np.ones((3, 3))), {"padding": 3}, ValueError),  # > kernel - 1
        ((np.ones((5, 5)), np.ones((3, 3))), {"padding": -1}, ValueError),
        ((np.ones((5, 5)), np.ones((3, 3))), {"stride": 1.5}, TypeError),
        ((np.ones(5), np.ones((3, 3))), {}, ValueError),  # 1-D image
        ((np.ones((5, 5)), [[1, float("nan")]]), {}, ValueError),
    ],
)
def test_bad_input_is_refused(args: tuple, kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"^StridePaddingSim: "):
        StridePaddingSim(*args, **kwargs)
