"""ExplanationExplorerSim (ch13): pick an image and a class, see every attribution map of
that pair side by side (saliency, Grad-CAM, occlusion, ...).

The maps are computed by the book (:mod:`convkit.explain`) and passed in; the page only
picks and draws them, so it works in the static book with no kernel.  What the page shows:

- **Thumbnails** of the images, numbered from 0 like ``sim.image`` (buttons: click, or
  Tab to the row and press Enter / Space; the arrow keys, Home and End move along it), a
  **class** button per class name (the same keys; the model's answer starred when known,
  *Predicted class* jumps to it), the chosen image, and one panel per method with that
  method's map for (image, class), under it a colour bar and the scale it was divided
  by.  Pointing at a pixel reads every map's normalised value there.  Every canvas has an
  ``aria-label`` saying what it shows (method, image, class, scale, pixels without value).
- **Normalisation.**  Each map is divided by its own largest absolute value over its
  finite pixels (that scale is printed under it), so every map spans the whole colour
  ramp; a map of zeros stays zeros.  A method is **signed** when any of its values (over
  every image and class) is negative: its maps are drawn on a diverging ramp (blue -1,
  white 0, red +1); otherwise on a sequential one (white 0 to dark red 1).
- **NaN** pixels (occlusion leaves the pixels no window covered NaN) are drawn hatched
  in neutral greys, whatever the opacity.
- **Opacity**: each map is blended over the image, ``(1 - opacity) * image + opacity *
  colour`` per RGB byte (grey images as three equal channels); 1 (the default) shows the
  map's colours alone, 0 the image alone.
- Every control writes its trait (``image``, ``target``, ``opacity``), so in JupyterLab
  ``sim.image``, ``sim.target`` and ``sim.opacity`` are what the page shows and
  :meth:`ExplanationExplorerSim.shown_map` / :meth:`~ExplanationExplorerSim.shown_colours`
  are what it draws; a value set in the kernel redraws the page.

**Compact state.**  Pixel colours only need a few dozen levels, and the maps are most of
the state, so each normalised map is quantised to :data:`LEVELS` (63) levels -- ``q =
round(62 v)`` for v in [0, 1], ``q = 31 + round(31 v)`` for v in [-1, 1] -- plus the code
:data:`NAN_CODE` (63) for NaN, and each code is sent as one base-64 character (``A-Z a-z
0-9 + /``): one byte per pixel.  Measured for 10 grey 28 x 28 images, 10 classes and 3
methods: 291 KB of state (235 KB of maps, 31 KB of ES module, 11 KB of style sheet, 10 KB
of images); RGB images add 21 KB.  8-bit codes in base 64 would need 4/3 bytes a pixel
(314 KB for the maps alone), JSON numbers 4 to 7 (3 significant digits: about 1.6 MB).
The images travel as 8-bit bytes (``round(255 x)``), base-64 encoded; the scales and
probabilities as numbers to 3 significant digits.  :data:`MAX_VALUES` caps the maps.
"""

from __future__ import annotations

import base64
import string
from collections.abc import Mapping, Sequence

import numpy as np
import traitlets

from convkit._checks import fraction, int_in_range
from convkit.sims._base import SimWidget

#: The most images, classes and methods one simulation shows.
MAX_IMAGES = 12
MAX_CLASSES = 20
MAX_METHODS = 4
#: The largest image side (the page draws every pixel as a block of a few screen pixels).
MAX_SIDE = 32
#: The most map values one simulation embeds (about that many bytes of state).
MAX_VALUES = 400_000
#: The quantisation: codes 0 .. LEVELS - 1 are values, NAN_CODE is NaN (see the docstring).
LEVELS = 63
NAN_CODE = 63
#: The base-64 alphabet the codes are written in (code q is ALPHABET[q]).
ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
#: Colour stops, equally spaced: sequential over [0, 1], diverging over [-1, 1].
SEQUENTIAL_STOPS = ((255, 255, 255), (254, 196, 79), (236, 112, 20), (153, 52, 4), (102, 0, 13))
DIVERGING_STOPS = ((5, 48, 97), (67, 147, 195), (255, 255, 255), (214, 96, 77), (103, 0, 31))
#: The two greys of a NaN pixel's hatching: canvas pixel (x, y) is dark where (x + y) % 6 < 2.
HATCH_LIGHT = (226, 232, 240)
HATCH_DARK = (160, 174, 192)

_FUNC = "ExplanationExplorerSim"


# ----------------------------------------------------------------- the page's arithmetic


def normalise(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each map divided by its own largest absolute value over its finite pixels.

    maps: (..., H, W), NaN allowed -> (normalised (..., H, W) in [-1, 1] with NaN kept,
    scales (...,): the largest absolute values; 0 for a map of zeros or of NaN only,
    which then stays as it is).
    """
    values = np.asarray(maps, dtype=np.float64)
    magnitude = np.where(np.isnan(values), 0.0, np.abs(values))
    scales = magnitude.max(axis=(-2, -1)) if values.size else np.zeros(values.shape[:-2])
    divisor = np.where(scales > 0, scales, 1.0)[..., None, None]
    return values / divisor, scales


def quantise(normalised: np.ndarray, signed: bool) -> np.ndarray:
    """Normalised map values as codes 0 .. LEVELS - 1, NaN as :data:`NAN_CODE`.

    normalised: (...) in [0, 1] (``signed`` False) or [-1, 1] -> (...) uint8:
    ``round(62 v)``, or ``31 + round(31 v)`` when signed.
    """
    v = np.asarray(normalised, dtype=np.float64)
    top = LEVELS - 1
    half = top // 2
    q = half + np.rint(np.nan_to_num(v) * half) if signed else np.rint(np.nan_to_num(v) * top)
    q = np.clip(q, 0, top)
    return np.where(np.isnan(v), NAN_CODE, q).astype(np.uint8)


def code_values(codes: np.ndarray, signed: bool) -> np.ndarray:
    """The values codes stand for: (...) ints -> (...) float64, ``q / 62`` or ``(q - 31) /
    31`` when signed; NaN for :data:`NAN_CODE`."""
    q = np.asarray(codes, dtype=np.float64)
    top = LEVELS - 1
    half = top // 2
    values = (q - half) / half if signed else q / top
    return np.where(q == NAN_CODE, np.nan, values)


def _round_half_up(x: np.ndarray) -> np.ndarray:
    """JavaScript's Math.round for the non-negative numbers of a colour: floor(x + 0.5)."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5)


def palette(signed: bool) -> np.ndarray:
    """The colour of every code 0 .. LEVELS - 1: (LEVELS, 3) uint8.

    The code's value (:func:`code_values`), mapped to t in [0, 1] (``(v + 1) / 2`` when
    signed), is interpolated linearly between the equally spaced stops of
    :data:`DIVERGING_STOPS` or :data:`SEQUENTIAL_STOPS`, each channel rounded half up
    (as the page's ``codeColour`` does).
    """
    stops = np.array(DIVERGING_STOPS if signed else SEQUENTIAL_STOPS, dtype=np.float64)
    v = code_values(np.arange(LEVELS), signed)
    t = (v + 1) / 2 if signed else v
    segments = len(stops) - 1
    seg = np.minimum(np.floor(t * segments), segments - 1).astype(int)
    f = t * segments - seg
    a, b = stops[seg], stops[seg + 1]
    return _round_half_up(a + (b - a) * f[:, None]).astype(np.uint8)


def blend(image: np.ndarray, colours: np.ndarray, opacity: float) -> np.ndarray:
    """A map's colours over the image: ``round((1 - opacity) * image + opacity * colour)``.

    image: (H, W, 3) bytes, colours: (H, W, 3) bytes -> (H, W, 3) uint8 (half up, as the
    page rounds).
    """
    a = float(opacity)
    img = np.asarray(image, dtype=np.float64)
    col = np.asarray(colours, dtype=np.float64)
    return _round_half_up((1 - a) * img + a * col).astype(np.uint8)


def encode_codes(codes: np.ndarray) -> str:
    """Codes 0..63 as one base-64 character each (``ALPHABET[q]``), in C order."""
    table = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
    return table[np.asarray(codes, dtype=np.intp).ravel()].tobytes().decode("ascii")


def decode_codes(text: str) -> np.ndarray:
    """The inverse of :func:`encode_codes`: a string -> (len,) uint8 codes."""
    lookup = {ch: i for i, ch in enumerate(ALPHABET)}
    return np.array([lookup[ch] for ch in text], dtype=np.uint8)


def _significant(values: np.ndarray) -> list:
    """(...) numbers -> nested lists of floats rounded to 3 significant digits."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        return float(f"{array:.2e}")
    return [_significant(row) for row in array]


# ------------------------------------------------------------------------ the checks


def _as_numpy(name: str, value: object) -> np.ndarray:
    """An array (numpy, a CPU torch tensor, nested lists) as a numpy array; TypeError for a
    string, a mapping or anything that is not rectangular numbers."""
    if isinstance(value, str | bytes | Mapping) or value is None:
        raise TypeError(f"{_FUNC}: {name} must be an array, got {type(value).__name__}")
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{_FUNC}: {name} is not a rectangular array of numbers ({err})") from None
    if array.dtype.kind not in "biuf" or array.dtype.kind == "b":
        raise TypeError(f"{_FUNC}: {name} must hold real numbers, got dtype {array.dtype}")
    return array


def _check_images(images: object) -> np.ndarray:
    """(K, H, W) or (K, H, W, 3) numbers in [0, 1] -> (K, H, W, C) float64, C = 1 or 3."""
    x = _as_numpy("images", images).astype(np.float64)
    if x.ndim == 3:
        x = x[..., None]
    elif x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(
            f"{_FUNC}: images must be (K, H, W) grey or (K, H, W, 3) RGB, got shape "
            f"{x.shape} (torch's (K, C, H, W): pass x[:, 0] or x.permute(0, 2, 3, 1))"
        )
    k, h, w = x.shape[:3]
    if not 1 <= k <= MAX_IMAGES:
        raise ValueError(f"{_FUNC}: images must hold 1 to {MAX_IMAGES} images, got {k}")
    if not (1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE):
        raise ValueError(
            f"{_FUNC}: images must be at most {MAX_SIDE}x{MAX_SIDE} to stay readable, got {h}x{w}"
        )
    if not np.isfinite(x).all():
        raise ValueError(f"{_FUNC}: images must hold finite numbers only (no NaN or inf)")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(
            f"{_FUNC}: images must lie in [0, 1], got values from {x.min():g} to {x.max():g}"
        )
    return x


def _check_class_names(class_names: object) -> list[str]:
    if isinstance(class_names, str) or not isinstance(class_names, Sequence | np.ndarray):
        raise TypeError(f"{_FUNC}: class_names must be a sequence of strings, got {class_names!r}")
    names = list(class_names)
    if not 1 <= len(names) <= MAX_CLASSES:
        raise ValueError(
            f"{_FUNC}: class_names must hold 1 to {MAX_CLASSES} names, got {len(names)}"
        )
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"{_FUNC}: class_names must be non-empty strings, got {name!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"{_FUNC}: class_names must be distinct, got {names!r}")
    return names


def _check_maps(maps: object, shape: tuple[int, int, int, int]) -> dict[str, np.ndarray]:
    """method -> (K, n, H, W) float64, finite or NaN."""
    if not isinstance(maps, Mapping) or not maps:
        raise TypeError(f"{_FUNC}: maps must be a non-empty mapping method name -> (K, n, H, W)")
    if len(maps) > MAX_METHODS:
        raise ValueError(f"{_FUNC}: maps must hold at most {MAX_METHODS} methods, got {len(maps)}")
    checked = {}
    for method, values in maps.items():
        if not isinstance(method, str) or not method.strip():
            raise TypeError(f"{_FUNC}: method names must be non-empty strings, got {method!r}")
        name = f"maps[{method!r}]"
        array = _as_numpy(name, values).astype(np.float64)
        if array.shape != shape:
            k, n, h, w = shape
            raise ValueError(
                f"{_FUNC}: {name} must be (K, n, H, W) = {shape} ({k} images, {n} classes, "
                f"{h}x{w} like the images), got shape {array.shape}"
            )
        if np.isinf(array).any():
            raise ValueError(f"{_FUNC}: {name} must hold finite numbers or NaN, not inf")
        checked[method] = array
    total = len(checked) * int(np.prod(shape))
    if total > MAX_VALUES:
        raise ValueError(
            f"{_FUNC}: maps hold {total:,} values, at most {MAX_VALUES:,} keep the page small: "
            "fewer images, classes or methods"
        )
    return checked


def _check_classes(name: str, values: object, k: int, n: int) -> list[int]:
    """(K,) class indices in 0 .. n - 1."""
    array = _as_numpy(name, values)
    if array.shape != (k,):
        raise ValueError(f"{_FUNC}: {name} must be ({k},): one class per image, got {array.shape}")
    if array.dtype.kind not in "iu":
        raise TypeError(f"{_FUNC}: {name} must hold class indices (ints), got dtype {array.dtype}")
    return [int_in_range(_FUNC, name, int(v), 0, n - 1) for v in array]


def _check_probabilities(probabilities: object, k: int, n: int) -> np.ndarray:
    """(K, n) numbers in [0, 1]."""
    p = _as_numpy("probabilities", probabilities).astype(np.float64)
    if p.shape != (k, n):
        raise ValueError(
            f"{_FUNC}: probabilities must be (K, n) = {(k, n)}, one row per image, got {p.shape}"
        )
    if not np.isfinite(p).all() or p.min() < 0 or p.max() > 1:
        raise ValueError(f"{_FUNC}: probabilities must lie in [0, 1]")
    return p


# ------------------------------------------------------------------------ the widget


class ExplanationExplorerSim(SimWidget):
    """Attribution maps of a few images for every class, one panel per method.

    images: (K, H, W) grey or (K, H, W, 3) RGB, numbers in [0, 1], 1 to 12 images of at
    most 32 x 32; class_names: the n class labels (1 to 20, distinct); maps: method name
    -> (K, n, H, W), ``maps[m][k, c]`` the map of image k for class c (1 to 4 methods,
    finite numbers or NaN; at most :data:`MAX_VALUES` values in all), shown in the order
    given (no method is "chosen": every one is drawn).  The rest are keyword-only.
    labels: (K,) the true classes (optional); predicted: (K,) the model's answers
    (optional; default: the most probable class when ``probabilities`` are given);
    probabilities: (K, n) in [0, 1] (optional).  image: the image shown first; target:
    the class shown first (default: the model's answer for that image if known, else 0);
    opacity in [0, 1]: how much of each map's colour covers the image (1: the map alone).
    Errors (TypeError / ValueError) name the argument.  See the module's docstring for how
    the maps are normalised, coloured and stored.
    """

    _sim_name = "explanation_explorer"
    height = traitlets.Int(1).tag(sync=True)
    width = traitlets.Int(1).tag(sync=True)
    channels = traitlets.Int(1).tag(sync=True)
    pixels = traitlets.Unicode("").tag(sync=True)
    class_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    labels = traitlets.List(traitlets.Int()).tag(sync=True)
    predicted = traitlets.List(traitlets.Int()).tag(sync=True)
    probabilities = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    methods = traitlets.List(traitlets.Unicode()).tag(sync=True)
    signed = traitlets.List(traitlets.Bool()).tag(sync=True)
    codes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    scales = traitlets.List(traitlets.List(traitlets.List(traitlets.Float()))).tag(sync=True)
    image = traitlets.Int(0).tag(sync=True)
    target = traitlets.Int(0).tag(sync=True)
    opacity = traitlets.Float(1.0).tag(sync=True)

    def __init__(
        self,
        images: object,
        class_names: Sequence[str],
        maps: Mapping[str, object],
        *,
        labels: object = None,
        predicted: object = None,
        probabilities: object = None,
        image: int = 0,
        target: int | None = None,
        opacity: float = 1.0,
    ) -> None:
        x = _check_images(images)
        k, h, w, c = x.shape
        names = _check_class_names(class_names)
        n = len(names)
        checked = _check_maps(maps, (k, n, h, w))
        truth = [] if labels is None else _check_classes("labels", labels, k, n)
        probs = None if probabilities is None else _check_probabilities(probabilities, k, n)
        if predicted is not None:
            answers = _check_classes("predicted", predicted, k, n)
        elif probs is not None:
            answers = [int(i) for i in probs.argmax(axis=1)]
        else:
            answers = []
        shown = int_in_range(_FUNC, "image", image, 0, k - 1)
        if target is None:
            chosen = answers[shown] if answers else 0
        else:
            chosen = int_in_range(_FUNC, "target", target, 0, n - 1)
        signed, codes, scales = [], [], []
        for values in checked.values():
            is_signed = bool((values < 0).any())  # NaN compares False
            normalised, scale = normalise(values)
            signed.append(is_signed)
            codes.append(encode_codes(quantise(normalised, is_signed)))
            scales.append(_significant(scale))
        pixels = np.rint(x * 255).astype(np.uint8)
        super().__init__(
            height=h, width=w, channels=c,
            pixels=base64.b64encode(pixels.tobytes()).decode("ascii"),
            class_names=names, labels=truth, predicted=answers,
            probabilities=[] if probs is None else _significant(probs),
            methods=list(checked), signed=signed, codes=codes, scales=scales,
            image=shown, target=chosen,
            opacity=fraction(_FUNC, "opacity", opacity),
        )  # fmt: skip

    # ------------------------------------------------------------- what the page draws

    def _pair(self, func: str, image: int | None, target: int | None) -> tuple[int, int]:
        """(image, target): the given ones or the current ones, checked."""
        k = len(base64.b64decode(self.pixels)) // (self.height * self.width * self.channels)
        n = len(self.class_names)
        i = int_in_range(func, "image", self.image if image is None else image, 0, k - 1)
        t = int_in_range(func, "target", self.target if target is None else target, 0, n - 1)
        return i, t

    def _method(self, func: str, method: str) -> int:
        if method not in self.methods:
            raise ValueError(f"{func}: method must be one of {self.methods}, got {method!r}")
        return self.methods.index(method)

    def shown_codes(
        self, method: str, image: int | None = None, target: int | None = None
    ) -> np.ndarray:
        """The codes of ``method``'s map for (image, target) (default: the ones shown):
        (H, W) uint8, 0 .. 62 for values and 63 for NaN (see :func:`quantise`)."""
        func = "ExplanationExplorerSim.shown_codes"
        m = self._method(func, method)
        i, t = self._pair(func, image, target)
        size = self.height * self.width
        start = (i * len(self.class_names) + t) * size
        flat = decode_codes(self.codes[m][start : start + size])
        return flat.reshape(self.height, self.width)

    def shown_map(
        self, method: str, image: int | None = None, target: int | None = None
    ) -> np.ndarray:
        """``method``'s map for (image, target) as the page has it: normalised by its
        largest absolute value and quantised (:func:`code_values`) -> (H, W) float64 in
        [0, 1], or [-1, 1] for a signed method; NaN kept."""
        m = self._method("ExplanationExplorerSim.shown_map", method)
        return code_values(self.shown_codes(method, image, target), self.signed[m])

    def image_bytes(self, image: int | None = None) -> np.ndarray:
        """Image ``image`` (default: the one shown) as the page draws it: (H, W, 3) uint8
        (grey images as three equal channels)."""
        i, _ = self._pair("ExplanationExplorerSim.image_bytes", image, None)
        h, w, c = self.height, self.width, self.channels
        raw = np.frombuffer(base64.b64decode(self.pixels), dtype=np.uint8)
        picture = raw.reshape(-1, h, w, c)[i]
        return np.repeat(picture, 3, axis=2) if c == 1 else picture.copy()

    def shown_colours(
        self, method: str, image: int | None = None, target: int | None = None,
        opacity: float | None = None,
    ) -> np.ndarray:  # fmt: skip
        """The colour of every pixel of ``method``'s panel (default: the image, class and
        opacity shown): the code's :func:`palette` colour :func:`blend`-ed over the image
        -> (H, W, 3) uint8.  NaN pixels get :data:`HATCH_LIGHT` (the page draws the
        hatching's dark stripes over it)."""
        func = "ExplanationExplorerSim.shown_colours"
        m = self._method(func, method)
        i, t = self._pair(func, image, target)
        a = fraction(func, "opacity", self.opacity if opacity is None else opacity)
        codes = self.shown_codes(method, i, t)
        colours = palette(self.signed[m])[np.minimum(codes, LEVELS - 1)]
        out = blend(self.image_bytes(i), colours, a)
        out[codes == NAN_CODE] = HATCH_LIGHT
        return out
