"""layer_costs (chapter 12): per-layer multiply-adds and activations by formula, checked
against torch's FLOP counter (through the grader's forward_cost) and by hand."""

from __future__ import annotations

import pytest
from torch import nn

from convkit.grading.training_checks import forward_cost
from convkit.nn.models import layer_costs, layer_summary, resnet18


def _nets() -> dict[str, tuple[nn.Module, tuple[int, ...]]]:
    return {
        "plain": (nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                nn.MaxPool2d(2), nn.Conv2d(8, 16, 5, stride=2), nn.Flatten(),
                                nn.Linear(16 * 6 * 6, 10)), (3, 32, 32)),
        "grouped and depthwise": (nn.Sequential(
            nn.Conv2d(4, 8, 3, groups=2, bias=False), nn.Conv2d(8, 8, 3, groups=8, dilation=2),
            nn.Conv2d(8, 6, 1)), (4, 17, 15)),
        "transposed": (nn.Sequential(
            nn.Conv2d(3, 6, 3, stride=2, padding=1),
            nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1),
            nn.ConvTranspose2d(4, 2, 2, groups=2, dilation=2)), (3, 16, 16)),
        "resnet18 at 64": (resnet18(num_classes=10), (3, 64, 64)),
    }


@pytest.mark.parametrize("name", list(_nets()))
def test_total_multiply_adds_match_torchs_flop_counter(name):
    model, shape = _nets()[name]
    rows = layer_costs(model, shape)
    assert sum(r.multiply_adds for r in rows) == forward_cost(model, (1, *shape)).multiply_adds


def test_costs_by_hand_and_shapes_match_the_summary():
    model, shape = _nets()["plain"]
    rows = layer_costs(model, shape)
    assert [r.output_shape for r in rows] == [r.output_shape[1:] for r in
                                             layer_summary(model, shape)]
    conv1, bn, _, pool, conv2, flat, fc = rows
    assert conv1.multiply_adds == 8 * 32 * 32 * (3 * 3 * 3) and conv1.activations == 8 * 32 * 32
    assert bn.multiply_adds == 0 and bn.params == 16 and pool.output_shape == (8, 16, 16)
    assert conv2.output_shape == (16, 6, 6) and conv2.multiply_adds == 16 * 36 * 8 * 25
    assert flat.activations == 576 and fc.multiply_adds == 5760 and fc.params == 5770


def test_grouped_and_transposed_by_hand():
    rows = layer_costs(*_nets()["grouped and depthwise"])
    assert rows[0].multiply_adds == 8 * 15 * 13 * (2 * 9)  # 2 input channels per group
    assert rows[1].multiply_adds == 8 * 11 * 9 * 9  # depthwise: one channel per kernel
    rows = layer_costs(*_nets()["transposed"])
    assert rows[1].output_shape == (4, 16, 16)
    assert rows[1].multiply_adds == 6 * 8 * 8 * (4 * 9)  # every input scatters a kernel


def test_layer_costs_errors():
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        layer_costs("net", (1, 4, 4))
    with pytest.raises(ValueError, match="does not accept"):
        layer_costs(nn.Conv2d(3, 2, 3), (1, 8, 8))


def test_a_model_without_children_is_its_own_layer():
    (row,) = layer_costs(nn.Conv2d(3, 2, 3), (3, 8, 8))
    assert row.name == "Conv2d" and row.output_shape == (2, 6, 6)
    assert row.multiply_adds == 2 * 36 * 27 and row.params == 2 * 27 + 2
