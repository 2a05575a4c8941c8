"""Unit tests of the KernelPlayground widget (ch02): its state and its input checks."""

from __future__ import annotations

import re

import numpy as np
import pytest

from convkit import correlate2d
from convkit.lessons.filters import named_kernel
from convkit.sims import KernelPlayground
from convkit.sims._base import esm_source


def test_state_and_feature_map() -> None:
    image = np.arange(30.0).reshape(5, 6) / 30
    kernels = {"blur": named_kernel("box_blur"), "edge": [[-1.0, 1.0]]}
    sim = KernelPlayground(image, kernels=kernels)
    assert sim.selected == "blur" and sim.names == ["blur", "edge"]
    np.testing.assert_allclose(sim.feature_map(), correlate2d(image, kernels["blur"]))
    sim = KernelPlayground(image, kernels=kernels, selected="edge")
    assert sim.kernel == [[-1, 1]]
    assert sim.feature_map().shape == (5, 5)
    source = esm_source("kernel_playground")
    assert re.search(r"^export default \{ render \};$", source, re.M)
    assert "import " not in source and 'data-sim": "kernel_playground"' in source


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((np.zeros((4, 4)), {}), {}, TypeError),  # no kernels
        ((np.zeros((4, 4)), [[1.0]]), {}, TypeError),  # not a mapping
        ((np.zeros((4, 4)), {"k": np.ones((5, 1))}), {}, ValueError),  # does not fit
        ((np.zeros((20, 20)), {"k": np.ones((8, 8))}), {}, ValueError),  # too big
        ((np.zeros((200, 10)), {"k": np.ones((3, 3))}), {}, ValueError),  # image too big
        ((np.zeros((4, 4)), {"k": [[np.nan]]}), {}, ValueError),
        ((np.zeros(4), {"k": [[1.0]]}), {}, ValueError),  # 1-D image
        ((np.zeros((4, 4)), {"k": [[1.0]]}), {"selected": "other"}, ValueError),
        ((np.zeros((4, 4)), {3: [[1.0]]}), {}, TypeError),
    ],
)
def test_rejects_bad_input(args: tuple, kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"^KernelPlayground: "):
        KernelPlayground(*args, **kwargs)
