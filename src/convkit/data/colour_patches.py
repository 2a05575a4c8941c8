"""A colour image task that works offline: tiles of ten real photographs, labelled by subject.

Chapter 11 needs colour images and a task small enough to train on a CPU in
seconds.  No download is allowed, so the photographs come from packages the
course installs: eight that scikit-image ships inside its wheel (an astronaut,
a cat, a cup of coffee, a rocket launch, a retina, stained tissue, the Hubble
deep field, a motorcycle) and two that scikit-learn ships (a temple in China,
a flower).  Each photograph is scaled (box filter) so that its shorter side is
``short_side`` pixels, then cut into non-overlapping ``tile`` x ``tile`` tiles;
near-uniform tiles (standard deviation below :data:`MIN_TILE_STD`: black
borders, empty sky) are dropped, because nothing in them says which photograph
they come from.  The label of a tile is the subject of its photograph.

Every photograph's tiles are split at random (seeded) into training,
validation and test tiles in the given fractions: each class keeps its share in
every part, and no pixel is in two parts.  It is a hard task for its size
(about 1,260 tiles with the defaults, 89 to 150 per class): a tile shows a
fragment, so colour and texture have to carry the decision.

Images come back as float32 ``(N, 3, tile, tile)`` in ``[0, 1]`` and labels as
int64 ``(N,)``; every call returns fresh arrays.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from convkit._checks import fraction, int_at_least

__all__ = ["CLASSES", "MIN_TILE_STD", "ColourPatches", "load_colour_patches", "photographs"]

#: The subjects, in label order.
CLASSES = (
    "astronaut",
    "cat",
    "coffee",
    "rocket",
    "retina",
    "tissue",
    "galaxies",
    "motorcycle",
    "temple",
    "flower",
)
#: Tiles whose pixel values vary less than this (on a 0-1 scale) are dropped.
MIN_TILE_STD = 0.03


class ColourPatches(NamedTuple):
    """Training, validation and test tiles: x (N, 3, tile, tile) float32, y (N,) int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]


def photographs() -> dict[str, np.ndarray]:
    """The ten photographs, subject -> (H, W, 3) uint8, read from the installed packages."""
    import skimage.data as skimage_data
    from sklearn.datasets import load_sample_image

    loaded = {
        "astronaut": skimage_data.astronaut(),
        "cat": skimage_data.chelsea(),
        "coffee": skimage_data.coffee(),
        "rocket": skimage_data.rocket(),
        "retina": skimage_data.retina(),
        "tissue": skimage_data.immunohistochemistry(),
        "galaxies": skimage_data.hubble_deep_field(),
        "motorcycle": skimage_data.stereo_motorcycle()[0],
        "temple": load_sample_image("china.jpg"),
        "flower": load_sample_image("flower.jpg"),
    }
    return {name: np.ascontiguousarray(loaded[name][..., :3]) for name in CLASSES}


def load_colour_patches(
    *,
    tile: int = 32,
    short_side: int = 320,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> ColourPatches:
    """The tiles of :func:`photographs`, split into training, validation and test parts.

    -> :class:`ColourPatches`.  ``tile``: the tiles' side in pixels (>= 8);
    ``short_side``: every photograph's shorter side after scaling (>= tile);
    ``val_fraction``, ``test_fraction``: each class's share of tiles in those parts
    (each part gets at least one tile of every class); ``seed``: the split's seed.
    """
    func = "load_colour_patches"
    tile = int_at_least(func, "tile", tile, 8)
    short_side = int_at_least(func, "short_side", short_side, tile)
    seed = int_at_least(func, "seed", seed, 0)
    val_fraction = fraction(func, "val_fraction", val_fraction, ends=False)
    test_fraction = fraction(func, "test_fraction", test_fraction, ends=False)
    if val_fraction + test_fraction >= 1:
        raise ValueError(f"{func}: val_fraction + test_fraction must be below 1")
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    labels: list[list[np.ndarray]] = [[], [], []]
    for label, tiles in enumerate(_tiles(tile, short_side)):
        n = len(tiles)
        n_val = max(1, round(val_fraction * n))
        n_test = max(1, round(test_fraction * n))
        if n_val + n_test >= n:
            raise ValueError(f"{func}: {CLASSES[label]} has too few tiles ({n}) to split")
        order = rng.permutation(n)
        chosen = (order[n_val + n_test :], order[:n_val], order[n_val : n_val + n_test])
        for part, index in enumerate(chosen):
            parts[part].append(tiles[np.sort(index)])
            labels[part].append(np.full(len(index), label, dtype=np.int64))
    arrays = []
    for part in range(3):
        arrays += [np.concatenate(parts[part]).copy(), np.concatenate(labels[part])]
    return ColourPatches(*arrays, classes=CLASSES)


@lru_cache(maxsize=4)
def _tiles(tile: int, short_side: int) -> tuple[np.ndarray, ...]:
    """Per class, its kept tiles (n, 3, tile, tile) float32 (cached; callers copy)."""
    from PIL import Image  # the data extra's, as the photographs' packages are

    out = []
    for image in photographs().values():
        h, w = image.shape[:2]
        scale = short_side / min(h, w)
        size = (max(tile, round(w * scale)), max(tile, round(h * scale)))
        scaled = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BOX))
        rows, cols = scaled.shape[0] // tile, scaled.shape[1] // tile
        grid = scaled[: rows * tile, : cols * tile].astype(np.float32) / 255.0
        tiles = grid.reshape(rows, tile, cols, tile, 3).transpose(0, 2, 4, 1, 3)
        tiles = tiles.reshape(rows * cols, 3, tile, tile)
        keep = tiles.std(axis=(1, 2, 3)) >= MIN_TILE_STD
        tiles = np.ascontiguousarray(tiles[keep])
        tiles.setflags(write=False)
        out.append(tiles)
    return tuple(out)
