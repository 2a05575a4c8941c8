"""convkit.lessons.generalisation (chapter 11) and History.early_stop: the chapter's network,
data helpers, augmentations, recipe comparison, colour share of RGB filters and transfer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from convkit.data import TrainVal
from convkit.lessons.generalisation import (
    AUGMENTATIONS,
    Recipe,
    colour_net,
    colour_tiles,
    colour_weight_share,
    compare_recipes,
    features,
    fewer_tiles,
    fine_tune,
    linear_probe,
    refresh_batch_norm,
    split_classes,
)
from convkit.training.history import History


def _toy(n_train: int = 40, n_val: int = 20, side: int = 16, classes: int = 4) -> TrainVal:
    rng = np.random.default_rng(0)
    y_train = np.arange(n_train) % classes
    y_val = np.arange(n_val) % classes
    # each class a different mean colour, so a little training separates them
    means = rng.uniform(0.2, 0.8, size=(classes, 3, 1, 1)).astype(np.float32)

    def images(y: np.ndarray) -> np.ndarray:
        noise = rng.normal(0, 0.05, size=(len(y), 3, side, side)).astype(np.float32)
        return means[y] + noise

    return TrainVal(images(y_train), y_train, images(y_val), y_val)


def test_colour_net_shapes_and_size() -> None:
    net = colour_net()
    assert net(torch.zeros(2, 3, 16, 16)).shape == (2, 10)
    assert sum(p.numel() for p in net.parameters()) == 18_898
    assert colour_net(num_classes=5, side=32)(torch.zeros(1, 3, 32, 32)).shape == (1, 5)
    assert [m.p for m in colour_net(dropout=0.3).modules() if isinstance(m, nn.Dropout)] == [0.3]
    with pytest.raises(ValueError, match="multiple of 4"):
        colour_net(side=18)
    with pytest.raises(ValueError, match="dropout"):
        colour_net(dropout=1.5)


def test_colour_tiles_leave_the_test_tiles_out() -> None:
    data = colour_tiles()
    assert isinstance(data, TrainVal) and data.x_train.shape == (753, 3, 16, 16)
    assert data.x_val.shape == (251, 3, 16, 16) and len(data) == 4


def test_fewer_tiles_keeps_each_class_share() -> None:
    data = _toy(n_train=40)
    small = fewer_tiles(data, 20, seed=3)
    assert np.bincount(small.y_train).tolist() == [5, 5, 5, 5]
    # every kept tile is one of the originals, with its own label
    for x, y in zip(small.x_train, small.y_train, strict=True):
        match = np.flatnonzero((data.x_train == x).all(axis=(1, 2, 3)))
        assert len(match) == 1 and data.y_train[match[0]] == y
    assert small.x_val is data.x_val
    assert fewer_tiles(data, 40) is data
    with pytest.raises(ValueError, match="at most 40"):
        fewer_tiles(data, 41)


def test_augmentations_keep_the_shape_and_scale_with_the_image() -> None:
    x = np.random.default_rng(1).uniform(0.1, 1, size=(6, 3, 16, 16)).astype(np.float32)
    for name, augment in AUGMENTATIONS.items():
        out = augment(x, np.random.default_rng(0))
        assert out.shape == x.shape and out.dtype == x.dtype, name
        assert not np.array_equal(out, x), name
    crops = AUGMENTATIONS["crop + flip"](np.ones((500, 1, 16, 16), np.float32),
                                        np.random.default_rng(0))
    # padding 16 // 8 = 2: no crop has more than two zero rows
    assert ((crops == 0).all(axis=3).sum(axis=2) <= 2).all() and (crops == 0).any()
    cut = AUGMENTATIONS["cutout"](np.ones((200, 1, 16, 16), np.float32), np.random.default_rng(0))
    assert (cut == 0).sum(axis=(1, 2, 3)).max() == 64  # an 8 x 8 square when it fits


def test_compare_recipes_same_seed_same_start() -> None:
    data = _toy()
    runs = compare_recipes(data, {"a": Recipe(), "b": Recipe(), "c": Recipe(dropout=0.5)},
                           seeds=(0, 1), epochs=2)
    assert list(runs) == ["a", "b", "c"] and all(len(r) == 2 for r in runs.values())
    assert runs["a"][0].history.test_acc == runs["b"][0].history.test_acc
    assert runs["a"][0].history.train_loss != runs["a"][1].history.train_loss
    assert runs["a"][0].history.train_loss != runs["c"][0].history.train_loss
    with pytest.raises(ValueError, match="unknown augmentation"):
        compare_recipes(data, {"x": Recipe(augment="mixup")}, epochs=1)


def test_colour_weight_share() -> None:
    grey = np.ones((1, 3, 3, 3))
    opponent = np.zeros((1, 3, 3, 3))
    opponent[0, 0], opponent[0, 1] = 1.0, -1.0  # red against green
    share, sums = colour_weight_share(np.concatenate([grey, opponent, np.zeros((1, 3, 3, 3))]))
    assert np.allclose(share, [0.0, 1.0, 0.0])
    assert np.allclose(sums[1], [9.0, -9.0, 0.0])
    half = grey.copy()
    half[0, 0] += 1.0  # brightness 4/3 everywhere, colour (2/3, -1/3, -1/3)
    assert np.isclose(colour_weight_share(half)[0][0], (6 / 9) / (4 + 1 + 1))
    with pytest.raises(ValueError, match=r"\(K, 3, kh, kw\)"):
        colour_weight_share(np.zeros((2, 1, 3, 3)))


def test_split_classes_relabels() -> None:
    data = _toy(classes=4)
    part = split_classes(data, [3, 1])
    assert set(part.y_train.tolist()) == {0, 1}
    assert np.array_equal(part.x_train[part.y_train == 0], data.x_train[data.y_train == 3])
    with pytest.raises(ValueError, match="distinct"):
        split_classes(data, [1, 1])


def test_probe_and_fine_tune_leave_the_pretrained_network_alone() -> None:
    data = _toy(classes=4)
    torch.manual_seed(0)
    pretrained = colour_net(num_classes=4)
    before = {k: v.clone() for k, v in pretrained.state_dict().items()}
    probe = linear_probe(pretrained, data, steps=20)
    tuned = fine_tune(pretrained, data, steps=20)
    # 40 tiles are repeated 7 times (MIN_EPOCH_TILES = 256): 20 steps of 32 are 2 epochs
    assert tuned.history.epochs == 2
    for key, value in pretrained.state_dict().items():
        assert torch.equal(value, before[key]), key
    # the probe changed only the last layer; fine-tuning changed the body as well
    probe_state, tuned_state = probe.model.state_dict(), tuned.model.state_dict()
    assert torch.equal(probe_state["0.weight"], before["0.weight"])
    assert not torch.equal(probe_state["12.weight"], before["12.weight"])
    assert not torch.equal(tuned_state["0.weight"], before["0.weight"])
    assert features(pretrained, data.x_val).shape == (20, 64)
    # an untrained body's batch norms hold their initial statistics (mean 0, variance 1);
    # with the toy images' own, the colours separate the classes through random filters
    refreshed = linear_probe(refresh_batch_norm(pretrained, data.x_train), data, steps=60)
    assert refreshed.history.test_acc[-1] > 0.5


def test_refresh_batch_norm_uses_the_new_images_statistics() -> None:
    model = nn.Sequential(nn.BatchNorm2d(3), nn.Flatten())
    x = np.random.default_rng(2).normal(3.0, 2.0, size=(64, 3, 4, 4)).astype(np.float32)
    fresh = refresh_batch_norm(model, x, batch_size=16)
    assert not fresh.training and model[0].running_mean.abs().max() == 0  # model untouched
    assert np.allclose(fresh[0].running_mean.numpy(), x.mean(axis=(0, 2, 3)), atol=1e-5)
    with pytest.raises(ValueError, match="no batch norm"):
        refresh_batch_norm(nn.Flatten(), x)


@pytest.mark.parametrize(
    ("accs", "patience", "expected"),
    [
        ([0.5, 0.6, 0.7], 2, (3, 3)),  # still improving: run to the end
        ([0.5, 0.7, 0.6, 0.65, 0.7, 0.8], 3, (5, 2)),  # three epochs without a new best
        ([0.5, 0.7, 0.6, 0.8, 0.6, 0.6], 2, (6, 4)),
        ([0.9, 0.1], 1, (2, 1)),
    ],
)
def test_early_stop(accs: list[float], patience: int, expected: tuple[int, int]) -> None:
    history = History()
    for acc in accs:
        history.record(1.0, 0.5, acc, 1.0)
    assert history.early_stop(patience) == expected


def test_early_stop_errors() -> None:
    with pytest.raises(ValueError, match="empty"):
        History().early_stop(2)
    with pytest.raises(ValueError, match="patience"):
        History().early_stop(0)
