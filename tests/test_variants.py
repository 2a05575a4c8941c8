"""convkit.lessons.variants (chapter 12): the variants' costs, the timing rows, and the
checkerboard of a strided transposed convolution."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convkit.lessons.variants import (
    compare_variants,
    resize_counts,
    scatter_counts,
    variant_layers,
)


def test_variants_keep_the_shape_and_cost_what_the_formulas_say():
    layers = variant_layers(16, 3, groups=(2, 4))
    assert list(layers) == ["standard", "groups=2", "groups=4", "depthwise-separable"]
    x = torch.zeros(1, 16, 8, 8)
    for layer in layers.values():
        assert layer(x).shape == (1, 16, 8, 8)
    rows = {r.name: r for r in compare_variants(16, 8, 3, groups=(2, 4), batch=2, repeats=2)}
    assert rows["standard"].params == 16 * 16 * 9
    assert rows["groups=4"].params == 16 * 4 * 9
    assert rows["depthwise-separable"].params == 16 * 9 + 16 * 16
    assert rows["standard"].multiply_adds == 64 * 16 * 16 * 9
    assert rows["groups=2"].multiply_adds * 2 == rows["standard"].multiply_adds
    assert all(r.seconds > 0 for r in rows.values())
    with pytest.raises(ValueError, match="do not split into 3 groups"):
        variant_layers(16, 3, groups=(3,))


def test_checkerboard_counts():
    counts = scatter_counts(3, 2, size=6)
    inner = counts[2:-2, 2:-2]
    # kernel 3, stride 2: pixels alternate between 1, 2 and 4 taps
    assert set(np.unique(inner)) == {1.0, 2.0, 4.0}
    assert counts[3, 3] != counts[3, 4]
    # a kernel size that the stride divides is even away from the border
    even = scatter_counts(4, 2, size=6)[3:-3, 3:-3]
    assert np.unique(even).tolist() == [4.0]
    resized = resize_counts(3, 2, size=6)[1:-1, 1:-1]
    assert np.unique(resized).tolist() == [9.0]
