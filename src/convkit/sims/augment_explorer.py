"""AugmentExplorerSim (ch11): one colour tile through the augmentations of the chapter --
a random crop of the zero-padded tile, a horizontal flip, colour jitter and cutout -- with
the original and the augmented tile side by side.

The tiles are :func:`convkit.data.load_colour_patches`'s training tiles (32 x 32 RGB),
chosen by index.  The page computes the augmented tile in JavaScript
(``augment_explorer.js``) from the parameters on its controls, with the formulas of
:mod:`convkit.training.augment`; :func:`augment_tile` is the same pipeline in Python, made
of :func:`~convkit.training.augment.apply_colour_jitter` and
:func:`~convkit.training.augment.apply_cutout`, so the tests can compare the page's pixels
with convkit's.  The pipeline, in this order:

1. **crop**: pad the tile with ``padding`` rings of zeros and cut the 32 x 32 window whose
   top-left corner is at (``crop_top``, ``crop_left``) of the padded tile
   (``0 .. 2 * padding`` each; ``padding, padding`` gives the tile back), as
   :func:`~convkit.training.augment.random_crop` does with the corner it draws;
2. **flip** left-right when ``flip`` is on (:func:`~convkit.training.augment.horizontal_flip`);
3. **colour jitter** by the factors ``brightness``, ``contrast``, ``saturation`` (1 changes
   nothing), each step clipped to [0, 1];
4. **cutout**: a ``cutout_size`` x ``cutout_size`` square of zeros centred at
   (``cutout_row``, ``cutout_col``), clipped at the borders (size 0: no cutout).

The page's *Random* button draws a new set of parameters the way the random functions of
:mod:`convkit.training.augment` do for one image -- the crop's corner uniformly over
``0 .. 2 * padding`` each way, a flip with probability 1/2, each factor uniformly from
``[max(0, 1 - j), 1 + j]`` for that factor's spread ``j`` of ``jitter`` (rounded to two
decimals, as the sliders show them), and the cutout's centre uniformly over the tile --
from a seeded JavaScript generator (mulberry32 with ``seed``), so a page always draws the
same sequence.  Every control writes its value back to the widget's traits, so in
JupyterLab ``sim.padding``, ``sim.flip``, ... are what the page shows and
:meth:`AugmentExplorerSim.augmented` is the tile the page draws.

Pixels travel as integers 0..255 (the tiles are 8-bit photographs scaled to [0, 1]:
exactly ``k / 255``), which keeps the state small: about 12 KB per tile.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import traitlets

from convkit._checks import as_bool, int_at_least, int_in_range, non_negative_float
from convkit.data import load_colour_patches
from convkit.sims._base import SimWidget
from convkit.training.augment import apply_colour_jitter, apply_cutout

#: The default tiles, indices into ``load_colour_patches().x_train``: a cat's eye, a
#: temple roof against the sky, a motorcycle, galaxies and a flower (five classes).
DEFAULT_TILES: tuple[int, ...] = (126, 606, 546, 477, 699)
#: The most tiles one simulation shows (the state grows by about 12 KB a tile).
MAX_TILES = 8
#: The padding slider's largest value (rings of zeros around the tile).
MAX_PADDING = 8
#: The cutout size slider's largest value.
MAX_CUTOUT = 16
#: The factor sliders' largest value (they start at 0; 1 changes nothing).
MAX_FACTOR = 2.0
#: The spreads of the random button's brightness, contrast and saturation factors.
DEFAULT_JITTER: tuple[float, float, float] = (0.4, 0.4, 0.4)


def _factor(func: str, name: str, value: object) -> float:
    """A jitter factor: a finite number in ``0 .. MAX_FACTOR`` (TypeError / ValueError)."""
    factor = non_negative_float(func, name, value)
    if factor > MAX_FACTOR:
        raise ValueError(f"{func}: {name} must be at most {MAX_FACTOR}, got {value!r}")
    return factor


def augment_tile(
    image: np.ndarray,
    *,
    padding: int = 0,
    crop_top: int | None = None,
    crop_left: int | None = None,
    flip: bool = False,
    brightness: float = 1.0,
    contrast: float = 1.0,
    saturation: float = 1.0,
    cutout_size: int = 0,
    cutout_row: int = 0,
    cutout_col: int = 0,
) -> np.ndarray:
    """One RGB image through the simulation's pipeline (see the module's docstring).

    image: (3, H, W) floats in [0, 1] -> (3, H, W) float64: cropped from the image padded
    by ``padding`` zeros at corner (``crop_top``, ``crop_left``) (each in ``0 .. 2 *
    padding``; None: ``padding``, no shift), flipped left-right if ``flip``, jittered by
    :func:`~convkit.training.augment.apply_colour_jitter` with the three factors, and cut
    by :func:`~convkit.training.augment.apply_cutout` (``cutout_size`` 0: not cut).
    """
    func = "augment_tile"
    tile = np.asarray(image, dtype=np.float64)
    if tile.ndim != 3 or tile.shape[0] != 3:
        raise ValueError(f"{func}: image must be (3, H, W), got shape {tile.shape}")
    _, h, w = tile.shape
    pad = int_at_least(func, "padding", padding, 0)
    top = int_in_range(func, "crop_top", pad if crop_top is None else crop_top, 0, 2 * pad)
    left = int_in_range(func, "crop_left", pad if crop_left is None else crop_left, 0, 2 * pad)
    padded = np.pad(tile, ((0, 0), (pad, pad), (pad, pad)))
    out = padded[:, top : top + h, left : left + w]
    if as_bool(func, "flip", flip):
        out = out[..., ::-1]
    out = apply_colour_jitter(out, brightness, contrast, saturation)
    return apply_cutout(out, cutout_row, cutout_col, cutout_size)


class AugmentExplorerSim(SimWidget):
    """A colour tile, the four augmentations' controls, and the tile before and after.

    tiles: indices into ``load_colour_patches().x_train`` (1 to 8 of them; default
    :data:`DEFAULT_TILES`, one tile of each of five classes), one button each; tile: which
    of them is shown first.  The parameters (see the module's docstring): padding 0..8
    with the crop's corner ``crop_top``, ``crop_left`` in 0..2 * padding (None: centred,
    no shift); flip; brightness, contrast and saturation factors in 0..2; cutout_size
    0..16 with its centre ``cutout_row``, ``cutout_col`` on the tile.  The defaults change
    nothing.  jitter: the spreads of the factors the Random button draws (each 0..1);
    seed: its generator's seed (0 .. 2**32 - 1).
    """

    _sim_name = "augment_explorer"
    images = traitlets.List(traitlets.List(traitlets.Int())).tag(sync=True)
    side = traitlets.Int(32).tag(sync=True)
    labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    indices = traitlets.List(traitlets.Int()).tag(sync=True)
    tile = traitlets.Int(0).tag(sync=True)
    padding = traitlets.Int(4).tag(sync=True)
    crop_top = traitlets.Int(4).tag(sync=True)
    crop_left = traitlets.Int(4).tag(sync=True)
    flip = traitlets.Bool(False).tag(sync=True)
    brightness = traitlets.Float(1.0).tag(sync=True)
    contrast = traitlets.Float(1.0).tag(sync=True)
    saturation = traitlets.Float(1.0).tag(sync=True)
    cutout_size = traitlets.Int(0).tag(sync=True)
    cutout_row = traitlets.Int(16).tag(sync=True)
    cutout_col = traitlets.Int(16).tag(sync=True)
    jitter = traitlets.List(traitlets.Float()).tag(sync=True)
    seed = traitlets.Int(0).tag(sync=True)
    limits = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        tiles: Sequence[int] | None = None,
        tile: int = 0,
        *,
        padding: int = 4,
        crop_top: int | None = None,
        crop_left: int | None = None,
        flip: bool = False,
        brightness: float = 1.0,
        contrast: float = 1.0,
        saturation: float = 1.0,
        cutout_size: int = 0,
        cutout_row: int | None = None,
        cutout_col: int | None = None,
        jitter: Sequence[float] = DEFAULT_JITTER,
        seed: int = 0,
    ) -> None:
        func = "AugmentExplorerSim"
        data = load_colour_patches()
        chosen = DEFAULT_TILES if tiles is None else tiles
        if isinstance(chosen, str) or not isinstance(chosen, Sequence | np.ndarray):
            raise TypeError(f"{func}: tiles must be a sequence of tile indices, got {tiles!r}")
        if not 1 <= len(chosen) <= MAX_TILES:
            raise ValueError(f"{func}: tiles must hold 1 to {MAX_TILES} indices, got {len(chosen)}")
        last = len(data.x_train) - 1
        indices = [int_in_range(func, "tiles", i, 0, last) for i in chosen]
        x = data.x_train[indices]  # (T, 3, 32, 32), exactly k / 255
        side = x.shape[-1]
        pad = int_in_range(func, "padding", padding, 0, MAX_PADDING)
        top = pad if crop_top is None else crop_top
        left = pad if crop_left is None else crop_left
        centre = side // 2
        row = centre if cutout_row is None else cutout_row
        col = centre if cutout_col is None else cutout_col
        is_sequence = isinstance(jitter, Sequence | np.ndarray) and not isinstance(jitter, str)
        if not is_sequence or len(jitter) != 3:
            raise ValueError(
                f"{func}: jitter must be three spreads (brightness, contrast, saturation), "
                f"got {jitter!r}"
            )
        spreads = [non_negative_float(func, "jitter", j) for j in jitter]
        if max(spreads) > MAX_FACTOR - 1:
            raise ValueError(f"{func}: jitter must be at most {MAX_FACTOR - 1:g}, got {jitter!r}")
        super().__init__(
            images=[np.rint(t * 255).astype(np.int64).ravel().tolist() for t in x],
            side=side,
            labels=[data.classes[data.y_train[i]] for i in indices],
            indices=indices,
            tile=int_in_range(func, "tile", tile, 0, len(indices) - 1),
            padding=pad,
            crop_top=int_in_range(func, "crop_top", top, 0, 2 * pad),
            crop_left=int_in_range(func, "crop_left", left, 0, 2 * pad),
            flip=as_bool(func, "flip", flip),
            brightness=_factor(func, "brightness", brightness),
            contrast=_factor(func, "contrast", contrast),
            saturation=_factor(func, "saturation", saturation),
            cutout_size=int_in_range(func, "cutout_size", cutout_size, 0, MAX_CUTOUT),
            cutout_row=int_in_range(func, "cutout_row", row, 0, side - 1),
            cutout_col=int_in_range(func, "cutout_col", col, 0, side - 1),
            jitter=spreads,
            seed=int_in_range(func, "seed", seed, 0, 2**32 - 1),
            limits={"padding": MAX_PADDING, "cutout": MAX_CUTOUT, "factor": MAX_FACTOR},
        )

    def original(self) -> np.ndarray:
        """The tile shown now, as the page has it: (3, side, side) float64 in [0, 1]."""
        flat = np.array(self.images[self.tile], dtype=np.float64) / 255.0
        return flat.reshape(3, self.side, self.side)

    def augmented(self) -> np.ndarray:
        """The augmented tile the page shows now: :func:`augment_tile` of :meth:`original`
        with the current parameters, (3, side, side) float64 in [0, 1]."""
        return augment_tile(
            self.original(),
            padding=self.padding,
            crop_top=self.crop_top,
            crop_left=self.crop_left,
            flip=self.flip,
            brightness=self.brightness,
            contrast=self.contrast,
            saturation=self.saturation,
            cutout_size=self.cutout_size,
            cutout_row=self.cutout_row,
            cutout_col=self.cutout_col,
        )
