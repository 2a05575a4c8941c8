"""Dense prediction on real images, offline (chapter 12): find the digit in a photograph.

- :func:`digits_on_photos`: MNIST digits painted in a random colour onto 32 x 32 tiles of
  the colour photographs of :func:`convkit.data.load_colour_patches`; the mask of each
  image is its digit's strokes (the digit's own pixels above one half).  A threshold on
  brightness cannot find them (the photographs have bright and dark parts of every
  colour); a network has to use shape and context.
- :func:`small_unet`: an encoder-decoder with skip connections in the manner of U-Net
  (Ronneberger et al. 2015), two stride-2 convolutions down and two transposed
  convolutions up, every upsampled map concatenated with the encoder map of its size.
- :func:`train_segmenter`: per-pixel binary cross-entropy with Adam, seeded, on one
  thread; :func:`predict_masks` thresholds the network's logits at 0 (probability 1/2).
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from convkit._checks import as_bool, int_at_least, positive_float
from convkit.data import load_colour_patches, load_mnist
from convkit.nn.torch_state import torch_threads
from convkit.ops.masks import mask_iou
from convkit.training import seed_everything
from convkit.training.schedules import cosine_lr

__all__ = [
    "DigitMasks",
    "SegmentationRun",
    "digits_on_photos",
    "predict_masks",
    "small_unet",
    "threshold_iou",
    "train_segmenter",
]

#: The side of the images of :func:`digits_on_photos`.
SIDE = 32


class DigitMasks(NamedTuple):
    """Images with their masks: x (N, 3, 32, 32) float32 in [0, 1], masks (N, 32, 32) bool."""

    x_train: np.ndarray
    masks_train: np.ndarray
    x_val: np.ndarray
    masks_val: np.ndarray


def _paint(digits: np.ndarray, tiles: np.ndarray, rng: np.random.Generator) -> tuple[
        np.ndarray, np.ndarray]:  # fmt: skip
    """Each digit (28 x 28, in [0, 1]) at a random place on its tile, in a random colour."""
    n = len(digits)
    alpha = np.zeros((n, 1, SIDE, SIDE), dtype=np.float32)
    tops, lefts = rng.integers(0, SIDE - 28 + 1, size=(2, n))
    for k in range(n):
        alpha[k, 0, tops[k] : tops[k] + 28, lefts[k] : lefts[k] + 28] = digits[k, 0]
    colours = rng.uniform(0.0, 1.0, size=(n, 3, 1, 1)).astype(np.float32)
    images = tiles * (1 - alpha) + colours * alpha
    return images.astype(np.float32), alpha[:, 0] > 0.5


def digits_on_photos(n_train: int = 1000, n_val: int = 300, seed: int = 0) -> DigitMasks:
    """MNIST digits painted onto tiles of real photographs, with their masks.

    -> :class:`DigitMasks`: x_train (n_train, 3, 32, 32), masks_train (n_train, 32, 32),
    x_val (n_val, 3, 32, 32), masks_val (n_val, 32, 32).

    The training images use training digits on training tiles, the validation images
    the test digits on validation tiles (no digit and no tile in both).  Each digit
    (28 x 28) goes to a random position of its tile and is painted in a random colour
    with its pixel values as opacity; its mask is where that opacity is above 1/2.
    """
    func = "digits_on_photos"
    n_train = int_at_least(func, "n_train", n_train, 1)
    n_val = int_at_least(func, "n_val", n_val, 1)
    seed = int_at_least(func, "seed", seed, 0)
    digits = load_mnist()
    tiles = load_colour_patches(seed=seed)
    if n_train > len(digits.x_train) or n_val > len(digits.x_test):
        raise ValueError(f"{func}: at most {len(digits.x_train)} training and "
                         f"{len(digits.x_test)} validation images")  # fmt: skip
    rng = np.random.default_rng(seed)

    def part(x_digits: np.ndarray, x_tiles: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
        chosen = rng.choice(len(x_digits), n, replace=False)
        backgrounds = x_tiles[rng.integers(0, len(x_tiles), n)]
        return _paint(x_digits[chosen], backgrounds, rng)

    return DigitMasks(*part(digits.x_train, tiles.x_train, n_train),
                      *part(digits.x_test, tiles.x_val, n_val))  # fmt: skip


class _SmallUNet(nn.Module):
    """See :func:`small_unet`."""

    def __init__(self, width: int, in_channels: int, skips: bool) -> None:
        super().__init__()
        self.skips = skips

        def unit(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
                                 nn.BatchNorm2d(c_out), nn.ReLU())  # fmt: skip

        w = width
        joined = 2 if skips else 1  # the decoder's inputs are twice as wide with skips
        self.enc1 = unit(in_channels, w)  # full size
        self.enc2 = unit(w, 2 * w, stride=2)  # 1/2
        self.bottom = unit(2 * w, 4 * w, stride=2)  # 1/4
        self.up2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)  # back to 1/2
        self.dec2 = unit(joined * 2 * w, 2 * w)  # after concatenating enc2's maps
        self.up1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2)  # back to full size
        self.dec1 = unit(joined * w, w)  # after concatenating enc1's maps
        self.head = nn.Conv2d(w, 1, 1)  # one logit per pixel

    def _join(self, upsampled: torch.Tensor, skipped: torch.Tensor) -> torch.Tensor:
        return torch.cat([upsampled, skipped], dim=1) if self.skips else upsampled

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        d2 = self.dec2(self._join(self.up2(self.bottom(e2)), e2))
        d1 = self.dec1(self._join(self.up1(d2), e1))
        return self.head(d1)[:, 0]


def small_unet(width: int = 8, in_channels: int = 3, skips: bool = True) -> nn.Module:
    """A small U-Net: x (N, in_channels, H, W) -> (N, H, W) logits (H, W multiples of 4).

    Encoder: a 3 x 3 convolution of ``width`` channels at full size, then two of stride 2
    (2 and 4 times ``width``), each with batch norm and a ReLU.  Decoder: a 2 x 2
    transposed convolution of stride 2 doubles the size, its maps are concatenated with
    the encoder's maps of that size (the skip connection) and a 3 x 3 convolution mixes
    them; twice; a 1 x 1 convolution gives one logit per pixel.  With ``skips=False`` the
    decoder sees only the upsampled maps (an encoder-decoder without skip connections,
    its decoder convolutions narrower by the maps they no longer receive).
    """
    func = "small_unet"
    return _SmallUNet(int_at_least(func, "width", width, 1),
                      int_at_least(func, "in_channels", in_channels, 1),
                      as_bool(func, "skips", skips))  # fmt: skip


class SegmentationRun(NamedTuple):
    """Per epoch: mean training loss, validation IoU (pooled), cumulative training seconds."""

    train_loss: list[float]
    val_iou: list[float]
    seconds: list[float]


def predict_masks(model: nn.Module, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """x (N, C, H, W) -> masks (N, H, W) bool: where ``model``'s logit is above 0 (eval mode)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            parts = [model(torch.as_tensor(x[i : i + batch_size])) > 0
                     for i in range(0, len(x), batch_size)]  # fmt: skip
    finally:
        model.train(was_training)
    return torch.cat(parts).numpy()


def train_segmenter(
    model: nn.Module,
    data: DigitMasks,
    *,
    epochs: int = 6,
    batch_size: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
    pos_weight: float = 1.0,
) -> SegmentationRun:
    """Train ``model`` in place on ``data`` with per-pixel binary cross-entropy and Adam,
    its learning rate ``lr`` decaying to 0 along a cosine over the run's steps.

    model: x (B, 3, H, W) -> (B, H, W) logits.  Every epoch visits the training images
    in a fresh seeded order; after each, the pooled IoU of the validation masks
    (:func:`convkit.ops.masks.mask_iou`) is recorded.  ``pos_weight`` weighs the mask's
    pixels in the loss (they are the fewer).  One torch thread.
    """
    func = "train_segmenter"
    epochs = int_at_least(func, "epochs", epochs, 1)
    batch_size = int_at_least(func, "batch_size", batch_size, 1)
    lr = positive_float(func, "lr", lr)
    seed_everything(seed)
    order_gen = torch.Generator().manual_seed(seed)
    x = torch.as_tensor(data.x_train)
    y = torch.as_tensor(data.masks_train, dtype=torch.float32)
    weight = torch.tensor(float(pos_weight))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    total_steps = epochs * -(-len(x) // batch_size)
    step = 0
    run = SegmentationRun([], [], [])
    elapsed = 0.0
    with torch_threads(1):
        for _ in range(epochs):
            start = time.perf_counter()
            model.train()
            total = 0.0
            for idx in torch.randperm(len(x), generator=order_gen).split(batch_size):
                logits = model(x[idx])
                loss = F.binary_cross_entropy_with_logits(logits, y[idx], pos_weight=weight)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                for group in opt.param_groups:
                    group["lr"] = cosine_lr(step, total_steps, lr)
                opt.step()
                step += 1
                total += float(loss.detach()) * len(idx)
            elapsed += time.perf_counter() - start
            run.train_loss.append(total / len(x))
            run.val_iou.append(float(mask_iou(predict_masks(model, data.x_val), data.masks_val)))
            run.seconds.append(elapsed)
    return run


def threshold_iou(data: DigitMasks) -> tuple[float, float, str]:
    """The best a brightness threshold does: (threshold, validation IoU, "above"/"below").

    Every pixel's grey level (the mean of its channels) is compared with a threshold;
    the threshold and the side (mask = brighter, or darker, than it) with the best IoU on
    the training images are chosen among 101 levels from 0 to 1, then measured on the
    validation images.  The baseline a segmentation network has to beat.
    """
    grey_train = data.x_train.mean(axis=1)
    best = (-1.0, 0.0, "above")
    for level in np.linspace(0.0, 1.0, 101):
        for side in ("above", "below"):
            guess = grey_train > level if side == "above" else grey_train < level
            score = float(mask_iou(guess, data.masks_train))
            if score > best[0]:
                best = (score, float(level), side)
    _, level, side = best
    grey_val = data.x_val.mean(axis=1)
    guess = grey_val > level if side == "above" else grey_val < level
    return level, float(mask_iou(guess, data.masks_val)), side
