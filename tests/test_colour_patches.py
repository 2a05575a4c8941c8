"""convkit.data's colour tiles: offline, seeded, stratified, no pixel in two parts."""

from __future__ import annotations

import numpy as np
import pytest

from convkit.data import CLASSES, ColourPatches, load_colour_patches
from convkit.data.colour_patches import MIN_TILE_STD, photographs


@pytest.fixture(scope="module")
def patches() -> ColourPatches:
    return load_colour_patches()


def test_shapes_types_and_range(patches):
    for x, y in ((patches.x_train, patches.y_train), (patches.x_val, patches.y_val),
                 (patches.x_test, patches.y_test)):
        assert x.dtype == np.float32 and y.dtype == np.int64
        assert x.shape[1:] == (3, 32, 32) and len(x) == len(y)
        assert 0.0 <= x.min() and x.max() <= 1.0
    assert patches.classes == CLASSES and len(CLASSES) == 10
    total = len(patches.y_train) + len(patches.y_val) + len(patches.y_test)
    assert 1200 < total < 1350  # the documented size with the defaults


def test_every_class_keeps_its_share_in_every_part(patches):
    train = np.bincount(patches.y_train, minlength=10)
    val = np.bincount(patches.y_val, minlength=10)
    test = np.bincount(patches.y_test, minlength=10)
    whole = train + val + test
    np.testing.assert_allclose(val / whole, 0.2, atol=0.02)
    np.testing.assert_allclose(test / whole, 0.2, atol=0.02)
    assert whole.min() >= 80


def test_no_tile_is_in_two_parts_and_uniform_tiles_are_gone(patches):
    def keys(x):
        return {tile.tobytes() for tile in x}

    train, val, test = keys(patches.x_train), keys(patches.x_val), keys(patches.x_test)
    assert not (train & val) and not (train & test) and not (val & test)
    every = np.concatenate([patches.x_train, patches.x_val, patches.x_test])
    assert every.std(axis=(1, 2, 3)).min() >= MIN_TILE_STD


def test_a_seed_fixes_the_split_and_calls_return_fresh_arrays():
    a, b = load_colour_patches(seed=1), load_colour_patches(seed=1)
    np.testing.assert_array_equal(a.x_val, b.x_val)
    a.x_train[:] = 0
    assert load_colour_patches(seed=1).x_train.any()
    c = load_colour_patches(seed=2)
    assert not np.array_equal(a.y_val, c.y_val) or not np.array_equal(b.x_val, c.x_val)


def test_tiles_are_the_photographs_own_pixels():
    # Scaled to a short side of 64 (a box filter) and cut in 32-pixel tiles: every tile
    # of the cat is a block of the scaled cat.
    from PIL import Image

    cat = photographs()["cat"]
    h, w = cat.shape[:2]
    size = (round(w * 64 / h), 64)
    scaled = np.asarray(Image.fromarray(cat).resize(size, Image.Resampling.BOX)) / 255.0
    small = load_colour_patches(short_side=64, val_fraction=0.25, test_fraction=0.25)
    tiles = np.concatenate([small.x_train[small.y_train == 1], small.x_val[small.y_val == 1],
                            small.x_test[small.y_test == 1]])
    blocks = {
        np.round(scaled[r:r + 32, c:c + 32].transpose(2, 0, 1), 5).tobytes()
        for r in range(0, 33, 32) for c in range(0, size[0] - 31, 32)
    }
    assert {np.round(t.astype(np.float64), 5).tobytes() for t in tiles} <= blocks


@pytest.mark.parametrize(
    "kwargs",
    [{"tile": 4}, {"short_side": 16}, {"val_fraction": 0.0}, {"val_fraction": 0.6,
     "test_fraction": 0.5}, {"seed": -1}, {"short_side": 40, "tile": 32}],
)
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        load_colour_patches(**kwargs)
