"""convkit.lessons.normalisers: chapter 10's task, networks and comparisons (tiny runs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from convkit.data import TrainVal, load_mnist, train_val_split
from convkit.lessons.normalisers import (
    NORMS,
    accuracy_in_batches,
    batch_noise,
    compare_normalisations,
    compare_schedules,
    half_size_digits,
    norm_convnet,
    norm_layer,
)
from convkit.training import seed_everything
from convkit.training.schedules import cosine_lr


@pytest.fixture(scope="module")
def tiny() -> TrainVal:
    data = half_size_digits(n_train=256, n_val=1000)
    return data._replace(x_val=data.x_val[:128], y_val=data.y_val[:128])


def test_half_size_digits_are_the_validation_split_pooled() -> None:
    data = half_size_digits(n_train=300, n_val=500, seed=1)
    split = train_val_split(load_mnist(), n_val=500, seed=1)
    assert data.x_train.shape == (300, 1, 14, 14) and data.x_val.shape == (500, 1, 14, 14)
    assert data.x_train.dtype == np.float32
    want = split.x_val[:, :, ::2, ::2] + split.x_val[:, :, 1::2, ::2]
    want = (want + split.x_val[:, :, ::2, 1::2] + split.x_val[:, :, 1::2, 1::2]) / 4
    np.testing.assert_allclose(data.x_val, want, atol=1e-6)
    np.testing.assert_array_equal(data.y_train, split.y_train[:300])
    with pytest.raises(ValueError, match="n_train must be at most"):
        half_size_digits(n_train=10**6)


def test_norm_layer_builds_each_kind() -> None:
    x = torch.randn(3, 8, 5, 5)
    assert isinstance(norm_layer("none", 8), nn.Identity)
    assert isinstance(norm_layer("batch", 8), nn.BatchNorm2d)
    group, layer = norm_layer("group", 8, groups=4), norm_layer("layer", 8)
    assert (group.num_groups, layer.num_groups) == (4, 1)
    # layer norm: every image has mean 0 and variance 1 over all its values
    out = layer(x)
    torch.testing.assert_close(out.mean(dim=(1, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="kind must be one of"):
        norm_layer("instance", 8)
    with pytest.raises(ValueError, match="do not split into 3 groups"):
        norm_layer("group", 8, groups=3)


@pytest.mark.parametrize("kind", NORMS)
def test_norm_convnet_shapes_and_biases(kind: str) -> None:
    net = norm_convnet(kind, depth=5, width=8)
    assert net(torch.zeros(2, 1, 14, 14)).shape == (2, 10)
    convs = [m for m in net if isinstance(m, nn.Conv2d)]
    assert len(convs) == 5 and [c.stride[0] for c in convs] == [1, 2, 1, 2, 1]
    assert all((c.bias is None) == (kind != "none") for c in convs)


def test_compare_normalisations_trains_each_kind_the_same_way(tiny: TrainVal) -> None:
    runs = compare_normalisations(tiny, ("batch", "group"), depth=3, width=8, epochs=2)
    again = compare_normalisations(tiny, ("batch",), depth=3, width=8, epochs=2)
    assert set(runs) == {"batch", "group"}
    assert runs["batch"].history.test_acc == again["batch"].history.test_acc
    assert runs["batch"].history.train_loss != runs["group"].history.train_loss
    assert all(run.history.epochs == 2 for run in runs.values())
    assert isinstance(runs["group"].model[1], nn.GroupNorm)


def test_compare_schedules_uses_each_schedule(tiny: TrainVal) -> None:

    def zero(step: int, total: int, lr: float) -> float:
        return 0.0

    runs = compare_schedules(tiny, {"zero": zero, "cosine": cosine_lr}, epochs=1, lr=0.05)
    seed_everything(0)
    start = norm_convnet("batch")
    for before, after in zip(start.parameters(), runs["zero"].model.parameters(), strict=True):
        assert torch.equal(before, after)
    moved = [not torch.equal(a, b) for a, b in
             zip(start.parameters(), runs["cosine"].model.parameters(), strict=True)]  # fmt: skip
    assert all(moved)


def test_batch_noise_shrinks_with_the_batch_and_is_zero_for_group_norm() -> None:
    x = np.random.default_rng(0).normal(size=(100, 2, 3, 3))
    noise = batch_noise(x, [1, 2, 8, 64], trials=30)
    assert noise[1] < 1e-12  # alone in its batch: the same statistics every time
    assert noise[2] > noise[8] > noise[64] > 0
    assert max(batch_noise(x, [2, 64], groups=1).values()) < 1e-12
    with pytest.raises(ValueError, match="larger than the 100 images"):
        batch_noise(x, [101])
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        batch_noise(x[0], [2])


def test_accuracy_in_batches_uses_batch_statistics_without_touching_the_model(
    tiny: TrainVal,
) -> None:
    run = compare_normalisations(tiny, ("batch",), depth=3, width=8, epochs=2)["batch"]
    model = run.model.eval()
    bn = model[1]
    mean_before = bn.running_mean.clone()
    in_eval = accuracy_in_batches(model, tiny.x_val, tiny.y_val, None)
    with torch.no_grad():
        want = float((model(torch.from_numpy(tiny.x_val)).argmax(1).numpy() == tiny.y_val).mean())
    assert in_eval == pytest.approx(want)
    alone = accuracy_in_batches(model, tiny.x_val, tiny.y_val, 1)
    whole = accuracy_in_batches(model, tiny.x_val, tiny.y_val, len(tiny.x_val))
    assert alone != whole
    assert torch.equal(bn.running_mean, mean_before) and not model.training
