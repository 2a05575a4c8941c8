"""convkit.grading.modules: a student's network against convkit's (ch08), and the guard's
TORCH_LAYERS mode (torch's layers allowed, convkit's code refused)."""

from __future__ import annotations

import copy
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import convkit.nn.models as ck
from convkit.grading import TORCH_LAYERS, GradingFailure, ShortcutError, no_shortcuts
from convkit.grading.modules import check_module, module_cases, param_count


def lenet5(form: str = "modern", num_classes: int = 10) -> nn.Module:
    if form != "modern":
        raise ValueError(form)
    names = ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1", "relu3",
             "fc2", "relu4", "fc3"]
    layers = [nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
              nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
              nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes)]
    return nn.Sequential(OrderedDict(zip(names, layers, strict=True)))


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Module:
    layers: list[nn.Module] = []
    for i in range(num_convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1),
                   nn.ReLU()]
    return nn.Sequential(*layers, nn.MaxPool2d(2))


class BasicBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.residual = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_channels))
        if stride == 1 and in_channels == out_channels:
            self.shortcut: nn.Module = nn.Identity()
        else:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels))
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.residual(x) + self.shortcut(x))


class NoProjection(BasicBlock):
    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__(in_channels, out_channels, stride)
        self.shortcut = nn.Identity()


class NoShortcut(BasicBlock):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.residual(x))


@pytest.mark.parametrize("what", ["params", "shapes", "outputs"])
def test_correct_networks_pass(what: str) -> None:
    check_module(lenet5, ck.lenet5, module_cases("lenet5", 2, seed=1), what=what)
    check_module(vgg_block, ck.vgg_block, module_cases("vgg_block", 4, seed=2), what=what)
    check_module(BasicBlock, ck.BasicBlock, module_cases("basic_block", 4, seed=3), what=what,
                 train=True)


def test_module_cases_cover_both_shortcuts() -> None:
    identity = module_cases("basic_block_identity", 5, seed=0)
    projection = module_cases("basic_block_projection", 5, seed=0)
    assert all(a[0] == a[1] and kw.get("stride", 1) == 1 for a, kw, _ in identity)
    assert all(a[0] != a[1] or kw.get("stride", 1) == 2 for a, kw, _ in projection)
    assert module_cases("vgg_block", 3, seed=5) == module_cases("vgg_block", 3, seed=5)
    with pytest.raises(ValueError):
        module_cases("alexnet", 1, seed=0)


def test_wrong_networks_fail_with_what_differs() -> None:
    with pytest.raises(GradingFailure, match="parameters"):
        check_module(NoProjection, ck.BasicBlock, module_cases("basic_block_projection", 3, 4),
                     what="params")
    with pytest.raises(GradingFailure, match="values differ"):
        check_module(NoShortcut, ck.BasicBlock, module_cases("basic_block_identity", 3, 4))

    def unnamed(form: str = "modern", num_classes: int = 10) -> nn.Module:
        return nn.Sequential(*lenet5(form, num_classes))

    check_module(unnamed, ck.lenet5, module_cases("lenet5", 2, 5), what="params")
    with pytest.raises(GradingFailure, match="not named as the instructions ask"):
        check_module(unnamed, ck.lenet5, module_cases("lenet5", 2, 5))
    with pytest.raises(GradingFailure, match="not written yet"):
        check_module(lambda *a, **k: (_ for _ in ()).throw(NotImplementedError()), ck.lenet5,
                     [((), {}, (1, 1, 28, 28))], name="lenet5")
    with pytest.raises(GradingFailure, match=r"not a torch\.nn\.Module"):
        check_module(lambda *a, **k: 3, ck.lenet5, [((), {}, (1, 1, 28, 28))], name="lenet5")


def test_convkit_networks_are_refused() -> None:
    def calls(form: str = "modern", num_classes: int = 10) -> nn.Module:
        return ck.lenet5(form, num_classes)

    class Sub(ck.BasicBlock):
        pass

    for student, ref, kind in ((calls, ck.lenet5, "lenet5"), (Sub, ck.BasicBlock, "basic_block")):
        for what in ("params", "outputs"):
            with pytest.raises(ShortcutError, match="convkit"):
                check_module(student, ref, module_cases(kind, 1, seed=0), what=what)
    shared = ck.lenet5()
    with pytest.raises(GradingFailure, match="same layers"):
        check_module(lambda form="modern", num_classes=10: shared, ck.lenet5,
                     [((), {}, (1, 1, 28, 28))], what="params", name="lenet5")

    with pytest.raises(GradingFailure, match="same starting weights"):  # copies of one built early
        check_module(lambda form="modern", num_classes=10: copy.deepcopy(shared), ck.lenet5,
                     [((), {}, (1, 1, 28, 28))], what="params", name="lenet5")

    class Wraps(nn.Module):  # a module whose layer is convkit's own class
        def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
            super().__init__()
            self.inner = copy.deepcopy(prebuilt)

    prebuilt = ck.BasicBlock(2, 2)
    with pytest.raises(ShortcutError, match=r"convkit's convkit\.nn\.models\.resnet\.BasicBlock"):
        check_module(Wraps, ck.BasicBlock, [((2, 2), {}, (1, 2, 4, 4))], what="params")


def test_replaced_torch_function_fails_every_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nn.Conv2d, "forward", lambda self, x: x)
    with pytest.raises(GradingFailure, match="was replaced"):
        check_module(lenet5, ck.lenet5, module_cases("lenet5", 1, seed=0))


def test_torch_layers_mode_allows_torch_refuses_convkit() -> None:
    x = torch.randn(1, 1, 6, 6)
    with pytest.raises(ShortcutError):  # the standing rules: torch's convolution is refused
        with no_shortcuts():
            F.conv2d(x, torch.ones(1, 1, 3, 3))
    with no_shortcuts(allow=(TORCH_LAYERS,)):
        F.max_pool2d(F.conv2d(x, torch.ones(1, 1, 3, 3)), 2)
        nn.Conv2d(1, 2, 3)(x)
    with pytest.raises(ShortcutError, match="convkit"):
        with no_shortcuts(allow=(TORCH_LAYERS,)):
            ck.vgg_block(1, 1, 2)
    assert param_count(vgg_block(2, 3, 8)) == 808
