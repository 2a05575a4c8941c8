"""convkit.lessons.segmentation (chapter 12): digits painted on photographs, their masks,
a small U-Net and its training."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from convkit.lessons.segmentation import (
    DigitMasks,
    digits_on_photos,
    predict_masks,
    small_unet,
    threshold_iou,
    train_segmenter,
)


@pytest.fixture(scope="module")
def small() -> DigitMasks:
    return digits_on_photos(n_train=96, n_val=32, seed=1)


def test_images_and_masks(small: DigitMasks) -> None:
    assert small.x_train.shape == (96, 3, 32, 32) and small.x_train.dtype == np.float32
    assert small.masks_train.shape == (96, 32, 32) and small.masks_train.dtype == bool
    assert small.x_val.shape == (32, 3, 32, 32) and small.masks_val.shape == (32, 32, 32)
    assert 0.0 <= small.x_train.min() and small.x_train.max() <= 1.0
    # every image has a digit: a few percent to a quarter of its pixels
    share = small.masks_train.mean(axis=(1, 2))
    assert share.min() > 0.02 and share.max() < 0.35
    # the mask sits inside the 28 x 28 square the digit was placed in
    rows = np.flatnonzero(small.masks_train[0].any(axis=1))
    assert rows[-1] - rows[0] < 28
    again = digits_on_photos(n_train=96, n_val=32, seed=1)
    assert np.array_equal(again.x_train, small.x_train)  # seeded


def test_unet_shapes() -> None:
    torch.manual_seed(0)
    net = small_unet(4)
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 32, 32)
    assert small_unet(2, in_channels=1)(torch.zeros(1, 1, 16, 8)).shape == (1, 16, 8)
    with pytest.raises(ValueError, match="width"):
        small_unet(0)


def test_unet_without_skips_sees_only_the_upsampled_maps() -> None:
    torch.manual_seed(0)
    plain = small_unet(4, skips=False)
    assert plain(torch.zeros(2, 3, 32, 32)).shape == (2, 32, 32)
    # the decoder's 3 x 3 convolutions lose the inputs the skips brought (no bias)
    w = 4
    lost = 9 * (2 * w) * (2 * w) + 9 * w * w  # dec2: 2w inputs x 2w outputs; dec1: w x w
    assert (
        sum(p.numel() for p in small_unet(4).parameters())
        - sum(p.numel() for p in plain.parameters())
    ) == lost
    with pytest.raises(TypeError, match="skips"):
        small_unet(4, skips="no")


def test_training_decays_the_learning_rate_to_zero(small: DigitMasks) -> None:
    torch.manual_seed(0)
    net = small_unet(4)
    seen = []
    original = torch.optim.Adam.step

    def record(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    torch.optim.Adam.step = record
    try:
        train_segmenter(net, small, epochs=2, batch_size=32, lr=0.01, seed=0)
    finally:
        torch.optim.Adam.step = original
    assert len(seen) == 2 * 3  # 96 images in batches of 32, two epochs
    assert seen[0] == pytest.approx(0.01)
    assert all(a > b for a, b in itertools.pairwise(seen))  # cosine: decreasing
    assert seen[-1] == pytest.approx(0.01 * (1 + np.cos(np.pi * 5 / 6)) / 2)


def test_training_lowers_the_loss_and_records_iou(small: DigitMasks) -> None:
    torch.manual_seed(0)
    net = small_unet(4)
    run = train_segmenter(net, small, epochs=3, batch_size=16, seed=0)
    assert len(run.val_iou) == 3 and len(run.seconds) == 3
    assert run.train_loss[-1] < run.train_loss[0]
    assert all(0.0 <= v <= 1.0 for v in run.val_iou)
    masks = predict_masks(net, small.x_val)
    assert masks.shape == (32, 32, 32) and masks.dtype == bool and net.training


def test_threshold_baseline(small: DigitMasks) -> None:
    level, iou, side = threshold_iou(small)
    assert 0.0 <= level <= 1.0 and side in ("above", "below")
    assert 0.0 <= iou < 0.5  # colour and brightness alone do not find the digits
