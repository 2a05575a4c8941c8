"""Tests of convkit.grading.architecture: a deep, plain, batch-normalised chain is recognised
from what its forward pass runs, whatever the module structure, and every way of missing
it (a shortcut, a concatenation, a gate, a missing batch norm, too few layers, a dense
stack, a layer applied many times, a shortcut in training mode only) fails with a message
that names the problem.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import convkit.lessons.degradation
from convkit.grading import GradingFailure, ShortcutError
from convkit.grading.architecture import (
    PlainNetwork,
    check_plain_network,
    plain_network_summary,
)

SHAPE = (4, 1, 8, 8)  # small images: every network here is cheap


def conv_unit(c_in: int, c_out: int, bn: bool = True, relu_first: bool = False) -> list:
    layers = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=not bn)]
    norm = [nn.BatchNorm2d(c_out)] if bn else []
    return layers + ([nn.ReLU(), *norm] if relu_first else [*norm, nn.ReLU()])


def plain(convs: int = 19, bn: bool = True, relu_first: bool = False, width: int = 4) -> nn.Module:
    layers = conv_unit(1, width, bn, relu_first)
    for _ in range(convs - 1):
        layers += conv_unit(width, width, bn, relu_first)
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(width * 8 * 8, 10))


class Residual(nn.Module):
    """The same layers with an identity shortcut around each pair; ``train_only``: the
    shortcuts are taken in training mode only."""

    def __init__(self, train_only: bool = False) -> None:
        super().__init__()
        self.stem = nn.Sequential(*conv_unit(1, 4))
        self.body = nn.ModuleList(nn.Sequential(*conv_unit(4, 4)) for _ in range(18))
        self.head = nn.Linear(4 * 8 * 8, 10)
        self.train_only = train_only

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        for layer in self.body:
            shortcut = self.training or not self.train_only
            h = layer(h) + h if shortcut else layer(h)
        return self.head(h.flatten(1))


class Concatenating(nn.Module):
    """A plain chain whose last stage concatenates two branches."""

    def __init__(self) -> None:
        super().__init__()
        self.body = plain(19)[:-2]
        self.side = nn.Sequential(*conv_unit(4, 4))
        self.head = nn.Linear(8 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        return self.head(torch.cat([h, self.side(h)], dim=1).flatten(1))


class Gated(nn.Module):
    """A plain chain with its last maps multiplied by a gate computed from them."""

    def __init__(self) -> None:
        super().__init__()
        self.body = plain(19)[:-2]
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Sigmoid())
        self.head = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        return self.head((h * self.gate(h)).flatten(1))


class Reused(nn.Module):
    """One convolution applied 19 times: 19 convolutions run, but only two weights."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(*conv_unit(1, 4))
        self.unit = nn.Sequential(*conv_unit(4, 4))
        self.head = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        for _ in range(18):
            h = self.unit(h)
        return self.head(h.flatten(1))


class Functional(nn.Module):
    """The plain chain written with a ParameterList and functional calls."""

    def __init__(self) -> None:
        super().__init__()
        self.weights = nn.ParameterList(
            nn.Parameter(torch.randn(4, 1 if i == 0 else 4, 3, 3) * 0.3) for i in range(19)
        )
        self.norms = nn.ModuleList(nn.BatchNorm2d(4) for _ in range(19))
        self.head = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for weight, norm in zip(self.weights, self.norms, strict=True):
            x = torch.relu(norm(torch.nn.functional.conv2d(x, weight, padding=1)))
        return self.head(x.flatten(1))


class Constant(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = plain(19)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(torch.zeros_like(x))


class NotATensor(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = plain(19)

    def forward(self, x: torch.Tensor) -> list:
        return [self.body(x)]


def test_a_plain_batch_normalised_chain_passes() -> None:
    summary = check_plain_network(plain(19), input_shape=SHAPE)
    assert summary == PlainNetwork(20, 19, 19, (), ())


@pytest.mark.parametrize(
    "model",
    [plain(19, relu_first=True), Functional()],
    ids=["batch norm after the ReLU", "functional calls"],
)
def test_the_structure_is_read_from_the_computation(model: nn.Module) -> None:
    summary = check_plain_network(model, input_shape=SHAPE)
    assert (summary.weight_layers, summary.convolutions, summary.batch_norms) == (20, 19, 19)


@pytest.mark.parametrize(
    ("model", "words"),
    [
        (Residual(), "combines two tensors computed from the image (aten::add"),
        (Residual(train_only=True), "in training mode): a shortcut"),
        (Concatenating(), "combines two tensors computed from the image (aten::cat"),
        (Gated(), "combines two tensors computed from the image (aten::mul"),
        (
            plain(19, bn=False),
            "convolution 1 (counting from the image) reaches the next weight "
            "layer without a batch norm",
        ),
        (plain(6), "has 7 weight layers (convolutions and dense layers, each weight counted once)"),
        (Reused(), "has 3 weight layers"),
        (
            nn.Sequential(
                *conv_unit(1, 4),
                nn.Flatten(),
                *[m for _ in range(19) for m in (nn.Linear(256, 256), nn.ReLU())],
                nn.Linear(256, 10),
            ),
            "has 1 convolutions",
        ),
        (Constant(), "scores do not depend on the image"),
        (NotATensor(), "returned a list, not a tensor of scores"),
    ],
)
def test_every_way_of_missing_the_brief_is_named(model: nn.Module, words: str) -> None:
    with pytest.raises(GradingFailure) as info:
        check_plain_network(model, input_shape=SHAPE, name="plain_net()")
    assert words in str(info.value), str(info.value)


def test_the_network_itself_is_left_as_it_was() -> None:
    model = plain(19)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.eval()
    check_plain_network(model, input_shape=SHAPE)
    assert not model.training
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key  # running statistics included


def test_convkit_networks_are_refused_and_stay_shortcut_errors() -> None:
    stack = convkit.lessons.degradation.conv_stack(9, 4, residual=False)
    with pytest.raises(ShortcutError, match="convkit's reference code"):
        check_plain_network(stack, input_shape=SHAPE)


def test_the_summary_reports_without_judging() -> None:
    summary = plain_network_summary(Residual(), SHAPE)
    assert summary.weight_layers == 20 and len(summary.shortcuts) == 18
    assert plain_network_summary(plain(3, bn=False), SHAPE).unnormalised == (1, 2, 3)
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        plain_network_summary("not a network")
    with pytest.raises(GradingFailure, match=r"not a torch\.nn\.Module"):
        check_plain_network(42)
