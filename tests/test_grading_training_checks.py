"""convkit.grading.training_checks (ch06): a student's training step overfits a tiny batch
or fails with its likely cause named; a network's cost against a budget."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import convkit.nn.models as ck
from convkit.grading import GradingFailure, ShortcutError
from convkit.grading.training_checks import (
    ForwardCost,
    check_budget,
    check_train_step,
    forward_cost,
)


def small_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 5))


def tiny_batch() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(3)
    return torch.rand(10, 1, 8, 8, generator=gen), torch.arange(10) % 5


def check(step, build=small_net) -> list[float]:
    x, y = tiny_batch()
    return check_train_step(step, build, x, y, steps=300, target=0.02, lr=1e-2)


def good_step(model, optimizer, images, labels):
    loss = F.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def zero_grad_last(model, optimizer, images, labels):
    loss = nn.CrossEntropyLoss()(model(images), labels)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss  # a one-element tensor is accepted too


def test_a_correct_step_overfits_the_batch() -> None:
    for step in (good_step, zero_grad_last):
        losses = check(step)
        assert losses[-1] < 0.02 < losses[0]
        assert all(isinstance(v, float) for v in losses)


def _broken(kind: str):
    def step(model, optimizer, images, labels):
        scores = model(images)
        if kind == "softmax":
            loss = F.cross_entropy(torch.softmax(scores, 1), labels)
        elif kind == "nll":
            loss = F.nll_loss(scores, labels)
        elif kind == "sum":
            loss = F.cross_entropy(scores, labels, reduction="sum")
        elif kind == "labels":
            loss = F.cross_entropy(scores, (labels + 1) % 5)
        elif kind == "ascent":
            loss = -F.cross_entropy(scores, labels)
        else:
            loss = F.cross_entropy(scores, labels)
        if kind != "no zero_grad":
            optimizer.zero_grad()
        loss.backward()
        if kind == "zero between":
            optimizer.zero_grad()
        if kind != "no step":
            optimizer.step()
        if kind == "after":
            return F.cross_entropy(model(images), labels).item()
        if kind == "not a number":
            return "done"
        return abs(loss.item())
    return step


@pytest.mark.parametrize(("kind", "message"), [
    ("no zero_grad", "never cleared"),
    ("no step", "did not change any weight"),
    ("zero between", "did not change any weight"),
    ("softmax", "applies softmax"),
    ("nll", "nll_loss"),
    ("sum", "sums the loss"),
    ("labels", "other labels"),
    ("ascent", "up the gradient"),
    ("after", "before the update"),
    ("not a number", "as a float"),
])
def test_a_broken_step_fails_with_its_likely_cause(kind: str, message: str) -> None:
    with pytest.raises(GradingFailure, match=message):
        check(_broken(kind))


def test_a_step_that_cannot_reach_the_target_in_the_budget_fails() -> None:
    x, y = tiny_batch()
    with pytest.raises(GradingFailure, match="still"):
        check_train_step(good_step, small_net, x, y, steps=3, target=1e-6, lr=1e-3)


def test_a_network_that_is_convkits_is_refused() -> None:
    x = torch.rand(4, 1, 28, 28)
    with pytest.raises(ShortcutError):
        check_train_step(good_step, ck.digit_cnn, x, torch.arange(4), steps=2)


def test_not_callables_and_bad_networks_fail_clearly() -> None:
    x, y = tiny_batch()
    with pytest.raises(GradingFailure, match="train_step is"):
        check_train_step(None, small_net, x, y)
    with pytest.raises(GradingFailure, match=r"not a torch\.nn\.Module"):
        check_train_step(good_step, lambda: "net", x, y)
    with pytest.raises(GradingFailure, match="without trainable parameters"):
        check_train_step(good_step, lambda: nn.Flatten(), x, y)


# --------------------------------------------------------------------------- budget


class Bank(nn.Module):
    """A nearest-neighbour 'network': a bank of stored images in a buffer (no parameters)."""

    def __init__(self, kept_elsewhere: bool = False) -> None:
        super().__init__()
        bank = torch.rand(500, 64)
        if kept_elsewhere:
            self.__dict__["bank"] = bank  # not registered: invisible to state_dict
        else:
            self.register_buffer("bank", bank)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        near = -torch.cdist(x.flatten(1), self.bank[:, : x[0].numel()])
        return self.scale * near[:, :5]


class NumpyDetour(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = np.zeros((len(x), 5), dtype=np.float32)  # computed outside torch
        return torch.from_numpy(scores) + 0 * self.fc.bias


def test_forward_cost_counts_parameters_stored_numbers_and_multiply_adds() -> None:
    cost = forward_cost(small_net(), (2, 1, 8, 8))
    assert isinstance(cost, ForwardCost)
    assert cost.parameters == cost.stored == 4 * 9 + 4 + 64 * 5 + 5
    assert cost.multiply_adds == 4 * 64 * 9 + 64 * 5  # per image, not per batch of 2
    digit = forward_cost(ck.digit_cnn())
    assert digit.parameters == 114_314 and digit.stored == 114_314
    bn = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.Flatten(),
                       nn.Linear(3 * 36, 2))
    assert forward_cost(bn, (1, 1, 8, 8)).stored > forward_cost(bn, (1, 1, 8, 8)).parameters


def test_forward_cost_restores_the_mode_and_rejects_bad_input() -> None:
    net = small_net().train()
    forward_cost(net, (1, 1, 8, 8))
    assert net.training
    with pytest.raises(TypeError):
        forward_cost("net")
    with pytest.raises(ValueError):
        forward_cost(net, (8, 8))


@pytest.mark.parametrize("kept_elsewhere", [False, True])
def test_stored_images_count_against_the_budget(kept_elsewhere: bool) -> None:
    net = Bank(kept_elsewhere)
    assert forward_cost(net, (1, 1, 8, 8)).parameters == 1
    with pytest.raises(GradingFailure, match="stored numbers"):
        check_budget(net, max_numbers=20_000, max_multiply_adds=10**6, input_shape=(1, 1, 8, 8))


def test_check_budget_passes_a_small_network_and_names_each_excess() -> None:
    cost = check_budget(small_net(), max_numbers=400, max_multiply_adds=10_000,
                        input_shape=(1, 1, 8, 8))
    assert cost.parameters == 365
    with pytest.raises(GradingFailure, match="trainable parameters"):
        check_budget(ck.digit_cnn(), max_numbers=20_000, max_multiply_adds=10**9)
    with pytest.raises(GradingFailure, match="multiply-adds"):
        check_budget(small_net(), max_numbers=400, max_multiply_adds=100,
                     input_shape=(1, 1, 8, 8))
    with pytest.raises(GradingFailure, match="does not depend on its input"):
        check_budget(NumpyDetour(), max_numbers=400, max_multiply_adds=100,
                     input_shape=(1, 1, 8, 8))
