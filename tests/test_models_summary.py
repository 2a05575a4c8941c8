"""convkit.nn.models: digit_cnn's layers and shapes, count_params, layer_summary, format_summary."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from convkit.nn.models import (
    LayerRow,
    count_params,
    digit_cnn,
    format_summary,
    layer_summary,
    weight_depth,
)

ALLOWED = (nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Flatten, nn.Linear)


def test_digit_cnn_maps_digits_to_ten_logits() -> None:
    model = digit_cnn()
    assert isinstance(model, nn.Sequential)
    out = model(torch.zeros(3, 1, 28, 28))
    assert out.shape == (3, 10)


def test_digit_cnn_uses_only_layers_the_numpy_trainer_mirrors() -> None:
    model = digit_cnn()
    names = [name for name, _ in model.named_children()]
    assert names[:3] == ["conv1", "relu1", "pool1"]
    assert names[-1] == "fc2"
    assert all(isinstance(layer, ALLOWED) for layer in model)
    assert sum(isinstance(layer, nn.Conv2d) for layer in model) == 2


def test_digit_cnn_is_small_and_fresh_each_call() -> None:
    a, b = digit_cnn(), digit_cnn()
    assert a is not b and a.conv1.weight is not b.conv1.weight
    assert 20_000 < count_params(a) < 200_000  # small enough for the numpy trainer


def test_count_params_equals_sum_of_numel() -> None:
    model = digit_cnn()
    expected = sum(p.numel() for p in model.parameters())
    assert count_params(model) == expected
    # by hand: conv1 16*25+16, conv2 32*16*25+32, fc1 1568*64+64, fc2 64*10+10
    assert expected == 416 + 12_832 + 100_416 + 650


def test_count_params_trainable_only() -> None:
    model = digit_cnn()
    for p in model.conv1.parameters():
        p.requires_grad_(False)
    total = count_params(model, trainable_only=False)
    assert count_params(model) == total - 416
    assert count_params(nn.ReLU()) == 0


def test_count_params_counts_shared_parameters_once() -> None:
    layer = nn.Linear(3, 3)
    assert count_params(nn.Sequential(layer, layer)) == 12


def test_layer_summary_of_digit_cnn() -> None:
    rows = layer_summary(digit_cnn(), (1, 28, 28))
    assert all(isinstance(r, LayerRow) for r in rows)
    trace = [(r.name, r.kind, r.output_shape, r.params) for r in rows]
    assert trace == [
        ("conv1", "Conv2d", (1, 16, 28, 28), 416),
        ("relu1", "ReLU", (1, 16, 28, 28), 0),
        ("pool1", "MaxPool2d", (1, 16, 14, 14), 0),
        ("conv2", "Conv2d", (1, 32, 14, 14), 12_832),
        ("relu2", "ReLU", (1, 32, 14, 14), 0),
        ("pool2", "MaxPool2d", (1, 32, 7, 7), 0),
        ("flatten", "Flatten", (1, 1568), 0),
        ("fc1", "Linear", (1, 64), 100_416),
        ("relu3", "ReLU", (1, 64), 0),
        ("fc2", "Linear", (1, 10), 650),
    ]


def test_layer_summary_nested_model_restores_mode_and_removes_hooks() -> None:
    model = nn.Sequential(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()), nn.AdaptiveAvgPool2d(1))
    model.train()
    rows = layer_summary(model, [3, 8, 8])
    assert [r.name for r in rows] == ["0.0", "0.1", "1"]
    assert rows[-1].output_shape == (1, 4, 1, 1)
    assert model.training
    assert not model[0][0]._forward_hooks
    assert not any(p.grad is not None for p in model.parameters())


def test_layer_summary_bad_input() -> None:
    with pytest.raises(TypeError, match=r"nn\.Module"):
        layer_summary("not a model", (1, 28, 28))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="input_shape"):
        layer_summary(digit_cnn(), 28)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        layer_summary(digit_cnn(), (1, 0, 28))
    model = digit_cnn()
    with pytest.raises(ValueError, match=r"\(1, 3, 28, 28\)"):
        layer_summary(model, (3, 28, 28))
    assert not model.conv1._forward_hooks  # hooks removed even after a failure


def test_format_summary_table() -> None:
    text = format_summary(layer_summary(digit_cnn(), (1, 28, 28)))
    lines = text.splitlines()
    assert lines[0].split() == ["layer", "type", "output", "shape", "params"]
    assert any(line.split()[:2] == ["conv2", "Conv2d"] and "32 x 14 x 14" in line for line in lines)
    assert "1568" in text and "100,416" in text
    assert lines[-1].split() == ["total", "114,314"]
    assert format_summary([]).splitlines()[-1].split() == ["total", "0"]


def test_weight_depth_counts_weighted_layers_on_the_longest_path() -> None:
    from convkit.nn.models import (
        BasicBlock,
        alexnet,
        googlenet,
        lenet5,
        resnet18,
        resnet50,
        vgg16,
    )

    builders = (lenet5, alexnet, vgg16, googlenet, resnet18, resnet50)
    with torch.device("meta"):
        depths = [weight_depth(build()) for build in builders]
    assert depths == [5, 8, 16, 22, 18, 50]  # the depths the papers report
    assert weight_depth(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))) == 2
    # Side by side counts once: a block with a 1x1 projection shortcut is two convs deep.
    assert weight_depth(BasicBlock(8, 16, stride=2)) == 2
    with pytest.raises(TypeError):
        weight_depth("resnet")
