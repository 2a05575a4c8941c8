"""Grading of ch11's augmentation, dropout and decoupled weight decay.

Random functions cannot be compared with a reference value by value: a student may draw
from the generator in another order than convkit does and still be right.  So the
checks here grade properties, each on fixed seeds (a submission passes or fails the
same way on every run):

- :func:`check_random_crop`: every output image is exactly one ``size`` window of its
  own zero-padded input; the positions are drawn per image (not one for the batch);
  over many draws every position occurs about equally often.
- :func:`check_horizontal_flip`: every output image is its input or its mirror image
  (left-right); decisions per image; flipped with probability about ``p``.
- :func:`check_dropout`: the identity in eval mode and with ``p = 0``, zeros with
  ``p = 1``; otherwise every element is 0 or ``x / (1 - p)``, a fraction of about ``p``
  of them dropped, independently between elements and images.
- :func:`check_dropout_backward`: the gradient routed through the given mask, scaled
  by ``1 / (1 - p)``.
- :func:`check_adamw_step`: several in-place steps against ``torch.optim.AdamW``.

Every "about" is a two-sided Chernoff bound on a binomial count
(:func:`binomial_bounds`): a correct function fails one check with probability below
:data:`FALSE_FAILURE` over the draw of its random numbers, whatever order it draws them
in.  A wrong result is compared with the known mistakes, and the message names the one
made (a crop position shared by the whole batch, dropout without its ``1 / (1 - p)``,
weight decay added to the gradient, ...).

The student's code runs under :func:`convkit.grading.no_shortcuts`, whose standing rules
refuse torch's dropout, torch.optim, torchvision's transforms and convkit's references.
This module imports only numpy, torch and the grading package.
"""

from __future__ import annotations

import math

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import (  # noqa: UP029
    Exception,
    float,
    int,
    isinstance,
    len,
    max,
    range,
    round,
    sum,
    tuple,
    zip,
)
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

from convkit.grading import _trusted as T
from convkit.grading.compare import compare_arrays, require_callable, student_call
from convkit.grading.errors import GradingFailure
from convkit.grading.guard import no_shortcuts

__all__ = [
    "FALSE_FAILURE",
    "binomial_bounds",
    "check_adamw_step",
    "check_dropout",
    "check_dropout_backward",
    "check_horizontal_flip",
    "check_random_crop",
    "crop_padding_fraction",
    "dropout_backward_cases",
]

#: The largest probability that a correct function fails one statistical check (each
#: check splits it between the counts it bounds). Every check runs on fixed seeds.
FALSE_FAILURE = 1e-7


# --------------------------------------------------------------------------- statistics


def _kl(q: float, p: float) -> float:
    """Kullback-Leibler divergence between Bernoulli(q) and Bernoulli(p), 0 < p < 1."""
    out = 0.0
    if q > 0:
        out += q * math.log(q / p)
    if q < 1:
        out += (1 - q) * math.log((1 - q) / (1 - p))
    return out


def binomial_bounds(n: int, p: float, risk: float = FALSE_FAILURE) -> tuple[int, int]:
    """The counts ``(low, high)`` a Binomial(n, p) count falls outside of with probability
    at most ``risk``: by the Chernoff bound ``P(X <= a) <= exp(-n KL(a/n || p))`` below the
    mean (and its mirror above), ``risk / 2`` on each side. ``p`` 0 or 1: exact."""
    if p <= 0:
        return 0, 0
    if p >= 1:
        return n, n
    limit = math.log(2 / risk)
    mean = n * p

    def beyond(a: int) -> bool:  # the tail at and beyond a is at most risk / 2
        return n * _kl(a / n, p) >= limit

    low = 0  # the smallest count whose lower tail is not yet small enough is low
    lo, hi = 0, math.floor(mean)
    if beyond(hi):
        low = hi + 1
    else:
        while lo < hi:  # beyond() holds on [0, x) and fails on [x, floor(mean)]
            mid = (lo + hi) // 2
            if beyond(mid):
                lo = mid + 1
            else:
                hi = mid
        low = lo
    lo, hi = math.ceil(mean), n
    if beyond(lo):
        return low, lo - 1
    while lo < hi:  # beyond() fails on [ceil(mean), x] and holds on (x, n]
        mid = (lo + hi + 1) // 2
        if beyond(mid):
            hi = mid - 1
        else:
            lo = mid
    return low, lo


def _count_check(count: int, n: int, p: float, risk: float) -> bool:
    low, high = binomial_bounds(n, p, risk)
    return low <= count <= high


# --------------------------------------------------------------------------- helpers


def _distinct_images(shape: tuple[int, ...], rng: np.random.Generator, dtype: Any) -> np.ndarray:
    """Images whose every value differs and is nonzero (a pixel can be traced back)."""
    size = int(np.prod(shape))
    values = (rng.permutation(size) + 1.0) / size  # 1/size .. 1, exact in float32 too
    return values.reshape(shape).astype(dtype)


def _call(
    fn: Any, name: str, call: str, args: tuple, kwargs: dict, like: np.ndarray | None
) -> np.ndarray:
    """The student's result as a plain array: ndarray, x's shape rules checked by caller."""
    with student_call(name, call), no_shortcuts():
        got = fn(*args, **kwargs)
    array = T.plain_array(got, f"the result of {call}")
    if like is not None and array.dtype != like.dtype:
        raise GradingFailure(
            f"{call}: the result has dtype {array.dtype}; it must keep x's dtype {like.dtype}"
        )
    return array


def _unchanged(call: str, pristine: np.ndarray, used: np.ndarray, what: str = "x") -> None:
    if used.shape != pristine.shape or compare_arrays(pristine, used, 0.0, 0.0) is not None:
        raise GradingFailure(
            f"{call}: your function changed its input {what} in place; build a new array."
        )


def _shape_call(name: str, x: np.ndarray, **options: Any) -> str:
    parts = [f"x of shape {tuple(x.shape)} ({x.dtype})"]
    parts += [f"{key}={value!r}" for key, value in options.items()]
    return f"{name}({', '.join(parts)}, rng=np.random.default_rng(...))"


# --------------------------------------------------------------------------- random crop


def _pair(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def _crop_positions(
    x: np.ndarray, out: np.ndarray, size: tuple[int, int], padding: int
) -> np.ndarray:
    """Per image, the window position index (row * n_cols + col) its output is, or -1.

    x: (N, C, H, W) distinct nonzero values; out: (N, C, size_h, size_w) -> (N,) int.
    """
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(padded, size, axis=(2, 3))  # (N, C, nh, nw, sh, sw)
    same = (windows == out[:, :, None, None]).all(axis=(1, 4, 5))  # (N, nh, nw)
    flat = same.reshape(len(x), -1)
    return np.where(flat.any(axis=1), flat.argmax(axis=1), -1)


def _crop_mistake(
    x: np.ndarray, out: np.ndarray, n: int, size: tuple[int, int], padding: int
) -> str:
    """What output image ``n`` is instead of a window of its zero-padded input, or ""."""
    image = out[n : n + 1]
    for mode in ("edge", "reflect", "symmetric"):
        padded = np.pad(
            x[n : n + 1], ((0, 0), (0, 0), (padding, padding), (padding, padding)), mode=mode
        )
        windows = sliding_window_view(padded, size, axis=(2, 3))
        if padding and (windows == image[:, :, None, None]).all(axis=(1, 4, 5)).any():
            return (
                f" — it is a window of the image padded in numpy's '{mode}' mode: "
                "RandomCrop pads with zeros"
            )
    positions = _crop_positions(x, np.repeat(image, len(x), axis=0), size, padding)
    others = [int(m) for m in np.flatnonzero(positions >= 0) if m != n]
    if others:
        return (
            f" — it is a window of image {others[0]} instead: each output image is "
            "cut from its own input image"
        )
    return ""


def check_random_crop(student_fn: Any, *, seed: int = 1100, name: str = "random_crop") -> None:
    """Grade ``random_crop(x, size, padding, rng)`` by its properties.

    x: (N, C, H, W) -> (N, C, size_h, size_w), x's dtype, x unchanged; ``size`` an int
    or a pair (height, width); ``rng`` a numpy Generator.

    1. On several shapes, dtypes and paddings: every output image equals one window of
       its own input padded with ``padding`` zeros on every side.
    2. The windows are chosen per image: a batch of 64 images whose windows all sit at
       the same position fails (25 positions: a correct function does that with
       probability 25**-63).
    3. 20,000 draws of a 6 x 6 image padded by 2 (25 positions): every position's count
       must lie within :func:`binomial_bounds` of 800 (risk :data:`FALSE_FAILURE` / 25
       each); the message names a position never drawn (an exclusive upper bound) or a
       lopsided frequency.

    Silent when all pass; raises GradingFailure (naming the mistake) or ShortcutError.
    """
    __tracebackhide__ = True
    T.assert_numpy_intact()
    require_callable(student_fn, name)
    rng = np.random.default_rng(seed)
    cases = [
        ((5, 3, 8, 8), np.float32, 8, 2),
        ((4, 2, 7, 9), np.float64, (5, 6), 0),
        ((6, 1, 5, 5), np.float64, 3, 1),
        ((3, 3, 32, 32), np.float32, 32, 4),
        ((2, 3, 10, 12), np.float32, (10, 12), 0),
    ]
    for index, (shape, dtype, size, padding) in enumerate(cases):
        x = _distinct_images(shape, rng, dtype)
        pristine = x.copy()
        call = _shape_call(name, x, size=size, padding=padding)
        out = _call(
            student_fn, name, call, (x, size, padding, np.random.default_rng(seed + index)), {}, x
        )
        _unchanged(call, pristine, x)
        sh, sw = _pair(size)
        if out.shape != (shape[0], shape[1], sh, sw):
            raise GradingFailure(
                f"{call}: expected shape {(shape[0], shape[1], sh, sw)}, got {out.shape}"
            )
        positions = _crop_positions(pristine, out, (sh, sw), padding)
        if (positions < 0).any():
            n = int(np.flatnonzero(positions < 0)[0])
            raise GradingFailure(
                f"{call}: output image {n} is not a {sh} x {sw} window of input image {n} "
                f"padded with {padding} zeros on every side"
                + _crop_mistake(pristine, out, n, (sh, sw), padding)
            )
    # 2. per image
    x = _distinct_images((64, 1, 6, 6), rng, np.float64)
    call = _shape_call(name, x, size=6, padding=2)
    out = _call(student_fn, name, call, (x, 6, 2, np.random.default_rng(seed + 10)), {}, x)
    positions = _crop_positions(x, out, (6, 6), 2)
    if (positions < 0).any():
        raise GradingFailure(f"{call}: an output image is not a window of its padded input")
    if (positions == positions[0]).all():
        raise GradingFailure(
            f"{call}: all 64 images were cut at the same position — one window position for "
            "the whole batch; RandomCrop draws a new position for each image"
        )
    # 3. uniform over positions
    draws, batch, cells = 20_000, 1_000, 25
    counts = np.zeros(cells, dtype=np.int64)
    for k in range(draws // batch):
        x = _distinct_images((batch, 1, 6, 6), rng, np.float64)
        call = _shape_call(name, x, size=6, padding=2)
        out = _call(student_fn, name, call, (x, 6, 2, np.random.default_rng(seed + 100 + k)), {}, x)
        positions = _crop_positions(x, out, (6, 6), 2)
        if (positions < 0).any():
            raise GradingFailure(f"{call}: an output image is not a window of its padded input")
        counts += np.bincount(positions, minlength=cells)
    low, high = binomial_bounds(draws, 1 / cells, FALSE_FAILURE / cells)
    grid = counts.reshape(5, 5)
    if low <= counts.min() and counts.max() <= high:
        return
    table = "; ".join(" ".join(f"{c:4d}" for c in row) for row in grid)
    note = ""
    if (grid[-1] == 0).all() or (grid[:, -1] == 0).all():
        note = (
            " — the window never starts at the last row or column: the top-left corner "
            "runs from 0 to H + 2 * padding - size inclusive (rng.integers excludes its "
            "upper bound)"
        )
    elif (counts == 0).any():
        note = " — some window positions never occur"
    raise GradingFailure(
        f"{name}: over {draws:,} crops of 6 x 6 images padded by 2, the 25 window positions "
        f"(rows of the table: top-left row 0..4) occurred {table} times; each should occur "
        f"about {draws // cells} times (between {low} and {high}): the top-left corner must "
        f"be uniform over every position where the window fits{note}"
    )


def crop_padding_fraction(height: int, width: int, size: int, padding: int) -> float:
    """The expected fraction of a ``size`` x ``size`` random crop's pixels that are padding,
    for an (height, width) image padded by ``padding`` zeros (every position equally likely).
    """

    def mean_outside(length: int) -> float:  # expected rows (columns) outside the image
        starts = range(length + 2 * padding - size + 1)
        total = sum(max(0, padding - s) + max(0, s + size - padding - length) for s in starts)
        return total / len(starts)

    inside = (1 - mean_outside(height) / size) * (1 - mean_outside(width) / size)
    return 1 - inside


# --------------------------------------------------------------------------- horizontal flip


def _flip_decisions(call: str, x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Per image, True if flipped, False if kept; a failure for anything else."""
    if out.shape != x.shape:
        raise GradingFailure(f"{call}: expected shape {x.shape}, got {out.shape}")
    kept = (out == x).all(axis=(1, 2, 3))
    flipped = (out == x[..., ::-1]).all(axis=(1, 2, 3))
    bad = ~(kept | flipped)
    if bad.any():
        n = int(np.flatnonzero(bad)[0])
        note = ""
        if (out[n] == x[n, :, ::-1, :]).all():
            note = (
                " — it is mirrored top to bottom: a horizontal flip reverses the last "
                "axis (W), x[..., ::-1]"
            )
        elif (out[n] == x[n, ::-1]).all():
            note = " — its channels are reversed: a horizontal flip reverses the last axis (W)"
        raise GradingFailure(
            f"{call}: output image {n} is neither input image {n} nor its mirror image "
            f"(left-right){note}"
        )
    return flipped


def check_horizontal_flip(
    student_fn: Any, *, seed: int = 1110, name: str = "horizontal_flip"
) -> None:
    """Grade ``horizontal_flip(x, rng, p=0.5)`` by its properties.

    x: (N, C, H, W) -> (N, C, H, W), x's dtype, x unchanged.

    1. Several shapes and dtypes, ``p`` 0.5, 0 (nothing flipped), 1 (everything) and
       left out (0.5): every output image is its input or its mirror image.
    2. Decisions per image: 30 batches of 40 images in which every batch is all flipped
       or all kept fail (a correct function: probability 2**-1170).
    3. ``p`` 0.5 and 0.2, 20,000 images each: the count flipped must lie within
       :func:`binomial_bounds` (risk :data:`FALSE_FAILURE` / 2 each); a count near
       ``(1 - p) * 20,000`` is named (flipping when the number is above ``p``).

    Silent when all pass; raises GradingFailure (naming the mistake) or ShortcutError.
    """
    __tracebackhide__ = True
    T.assert_numpy_intact()
    require_callable(student_fn, name)
    rng = np.random.default_rng(seed)
    cases = [
        ((4, 3, 5, 6), np.float32, 0.5),
        ((3, 1, 4, 4), np.float64, 0.0),
        ((3, 2, 3, 5), np.float64, 1.0),
        ((5, 2, 3, 7), np.float64, None),
    ]
    for index, (shape, dtype, p) in enumerate(cases):
        x = _distinct_images(shape, rng, dtype)
        pristine = x.copy()
        options = {} if p is None else {"p": p}
        call = _shape_call(name, x, **options)
        out = _call(student_fn, name, call, (x, np.random.default_rng(seed + index)), options, x)
        _unchanged(call, pristine, x)
        flipped = _flip_decisions(call, pristine, out)
        if p == 0 and flipped.any():
            raise GradingFailure(f"{call}: with p=0 no image may be flipped")
        if p == 1 and not flipped.all():
            raise GradingFailure(f"{call}: with p=1 every image must be flipped")
    mixed = 0
    for k in range(30):
        x = _distinct_images((40, 1, 2, 3), rng, np.float64)
        call = _shape_call(name, x, p=0.5)
        flipped = _flip_decisions(
            call,
            x,
            _call(student_fn, name, call, (x, np.random.default_rng(seed + 20 + k)), {"p": 0.5}, x),
        )
        mixed += bool(flipped.any() and not flipped.all())
    if mixed == 0:
        raise GradingFailure(
            f"{name}: in each of 30 batches of 40 images either every image was flipped or "
            "none was — one decision for the whole batch; draw one for each image"
        )
    draws = 20_000
    for index, p in enumerate((0.5, 0.2)):
        x = np.tile(np.array([1.0, 2.0]), (draws, 1, 1, 1))
        call = _shape_call(name, x, p=p)
        out = _call(
            student_fn,
            name,
            call,
            (x.copy(), np.random.default_rng(seed + 60 + index)),
            {"p": p},
            x,
        )
        count = int(_flip_decisions(call, x, out).sum())
        low, high = binomial_bounds(draws, p, FALSE_FAILURE / 2)
        if low <= count <= high:
            continue
        note = ""
        if p != 0.5 and _count_check(count, draws, 1 - p, FALSE_FAILURE):
            note = (
                " — that is the probability 1 - p: an image is flipped when its random "
                "number is below p"
            )
        raise GradingFailure(
            f"{call}: {count:,} of {draws:,} images were flipped; with p={p} about "
            f"{round(p * draws):,} should be (between {low:,} and {high:,}){note}"
        )


# --------------------------------------------------------------------------- dropout


def _dropout_call(
    fn: Any, name: str, x: np.ndarray, p: float, training: bool, seed: int | None
) -> tuple[str, np.ndarray]:
    rng = None if seed is None else np.random.default_rng(seed)
    call = (
        f"{name}(x of shape {tuple(x.shape)} ({x.dtype}), p={p!r}, training={training!r}, "
        f"rng={'None' if rng is None else 'np.random.default_rng(...)'})"
    )
    pristine = x.copy()
    out = _call(fn, name, call, (x, p, training, rng), {}, x)
    _unchanged(call, pristine, x)
    if out.shape != x.shape:
        raise GradingFailure(f"{call}: expected x's shape {x.shape}, got {out.shape}")
    return call, out


def _kept_scale_mistake(x: np.ndarray, out: np.ndarray, kept: np.ndarray, p: float) -> str:
    for factor, words in (
        (
            1.0,
            "the kept values are not scaled: inverted dropout divides them by 1 - p, so "
            "that every output's expected value is its input",
        ),
        (
            1 - p,
            "the kept values are multiplied by 1 - p: inverted dropout divides by it "
            "(the original dropout scaled at test time instead)",
        ),
        (1 / p, "the kept values are divided by p: divide by 1 - p, the probability of keeping"),
    ):
        if np.allclose(out[kept], x[kept] * factor, rtol=1e-5, atol=0):
            return " — " + words
    return ""


def check_dropout(student_fn: Any, *, seed: int = 1120, name: str = "dropout") -> None:
    """Grade ``dropout(x, p, training, rng)`` (inverted dropout, as ``F.dropout``).

    x: any shape -> like x (x's dtype), x unchanged.

    1. ``training=False`` returns x's values, and so does ``p = 0``; ``p = 1`` returns
       zeros (with ``rng=None`` where no random number is needed).
    2. ``p`` 0.5, 0.2 and 0.75 on (8, 4, 6, 6) images: every element is 0 or
       ``x / (1 - p)`` (a kept value scaled otherwise is named).
    3. On (50, 4, 10, 10) ones (20,000 elements), ``p`` 0.3: the count dropped lies within
       :func:`binomial_bounds` (so the output's mean is about 1, x's); pairs of
       neighbouring elements, and of the same element in two images, are both dropped
       about ``p**2`` of the time (10,000 disjoint pairs each); one mask for the whole
       batch, or one decision per channel map, is named.

    Silent when all pass; raises GradingFailure (naming the mistake) or ShortcutError.
    """
    __tracebackhide__ = True
    T.assert_numpy_intact()
    require_callable(student_fn, name)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, size=(3, 2, 4, 4)).astype(np.float32)
    for p, training, draw in ((0.5, False, None), (0.0, True, None), (0.0, True, seed)):
        call, out = _dropout_call(student_fn, name, x, p, training, draw)
        if compare_arrays(x, out, 0.0, 0.0) is not None:
            why = "in eval mode" if not training else "with p=0"
            raise GradingFailure(f"{call}: {why} dropout must return x's values unchanged")
    call, out = _dropout_call(student_fn, name, x, 1.0, True, seed)
    if (out != 0).any():
        raise GradingFailure(f"{call}: with p=1 every element is dropped: the result is all 0")
    for index, p in enumerate((0.5, 0.2, 0.75)):
        x = rng.uniform(0.5, 2.0, size=(8, 4, 6, 6))
        call, out = _dropout_call(student_fn, name, x, p, True, seed + 1 + index)
        kept = out != 0
        if not kept.any() or kept.all():
            raise GradingFailure(
                f"{call}: {'every' if not kept.any() else 'no'} element was dropped; each "
                f"should be dropped with probability {p}, independently"
            )
        if not np.allclose(out[kept], x[kept] / (1 - p), rtol=1e-6, atol=0):
            raise GradingFailure(
                f"{call}: the elements that are not dropped must equal x / (1 - p)"
                + _kept_scale_mistake(x, out, kept, p)
            )
    p = 0.3
    x = np.ones((50, 4, 10, 10))
    call, out = _dropout_call(student_fn, name, x, p, True, seed + 10)
    dropped = out == 0
    per_batch = dropped.reshape(50, -1)
    if (per_batch == per_batch[0]).all():
        raise GradingFailure(
            f"{call}: all 50 images got the same mask — one mask for the whole batch; every "
            "element of every image is dropped on its own"
        )
    maps = dropped.reshape(200, -1)
    if (maps.all(axis=1) | ~maps.any(axis=1)).all():
        raise GradingFailure(
            f"{call}: each channel map is dropped or kept as a whole (that is Dropout2d); "
            "dropout decides for every element on its own"
        )
    count, total = int(dropped.sum()), dropped.size
    low, high = binomial_bounds(total, p, FALSE_FAILURE / 3)
    if not low <= count <= high:
        note = ""
        if _count_check(count, total, 1 - p, FALSE_FAILURE):
            note = " — that is 1 - p: p is the probability of dropping an element, not keeping it"
        raise GradingFailure(
            f"{call}: {count:,} of {total:,} elements were dropped (output mean "
            f"{float(out.mean()):.4f}, x's 1); with p={p} about {round(p * total):,} should "
            f"be (between {low:,} and {high:,}){note}"
        )
    for what, first, second in (
        ("neighbouring elements along W", dropped[..., 0::2], dropped[..., 1::2]),
        ("the same element of two images", dropped[0::2], dropped[1::2]),
    ):
        both = int((first & second).sum())
        pairs = first.size
        low, high = binomial_bounds(pairs, p * p, FALSE_FAILURE / 3)
        if not low <= both <= high:
            raise GradingFailure(
                f"{call}: of {pairs:,} disjoint pairs of {what}, {both:,} were both dropped; "
                f"independent decisions drop both about p**2 = {p * p:.2f} of the time "
                f"(between {low:,} and {high:,}): draw one random number per element"
            )


def dropout_backward_cases(n: int = 12, seed: int = 1130) -> list[tuple[tuple, dict]]:
    """Random ``(grad_out, mask, p)`` cases for :func:`check_dropout_backward`: shapes of
    1 to 4 axes, masks kept with probability ``1 - p``, ``p`` in [0, 0.9] plus 0 (all kept)
    and 1 (all dropped)."""
    rng = np.random.default_rng(seed)
    cases: list[tuple[tuple, dict]] = []
    for k in range(n):
        shape = tuple(int(s) for s in rng.integers(1, 6, size=int(rng.integers(1, 5))))
        p = float(np.round(rng.uniform(0.05, 0.9), 3))
        if k == 0:
            p = 0.0
        elif k == 1:
            p = 1.0
        mask = rng.random(shape) >= p
        grad = rng.normal(size=shape)
        cases.append(((grad, mask, p), {}))
    return cases


def check_dropout_backward(
    student_fn: Any,
    reference_fn: Callable,
    cases: Sequence[tuple[tuple, dict]],
    *,
    name: str = "dropout_backward",
) -> None:
    """Grade ``dropout_backward(grad_out, mask, p)`` against ``reference_fn``
    (``convkit.dropout_backward``): grad_out like the mask (bool, True where kept) ->
    like grad_out, ``grad_out * mask / (1 - p)`` (zeros when ``p = 1``). grad_out and mask
    must stay unchanged. A result equal to a known mistake (no scaling, the mask ignored,
    the mask inverted) is named. Raises GradingFailure or ShortcutError."""
    __tracebackhide__ = True
    T.assert_numpy_intact()
    require_callable(student_fn, name)
    checked = 0
    for args, kwargs in cases:
        checked += 1
        grad, mask, p = args
        call = (
            f"{name}(grad_out of shape {tuple(np.shape(grad))}, mask with "
            f"{int(np.sum(mask))} of {np.size(mask)} kept, p={p!r})"
        )
        expected = T.plain_array(reference_fn(grad.copy(), mask.copy(), p), "the reference")
        grad_copy, mask_copy = grad.copy(), mask.copy()
        got = _call(student_fn, name, call, (grad_copy, mask_copy, p), dict(kwargs), None)
        _unchanged(call, grad, grad_copy, "grad_out")
        if mask_copy.shape != mask.shape or (mask_copy != mask).any():
            raise GradingFailure(f"{call}: your function changed the mask in place")
        problem = compare_arrays(expected, got, 1e-6, 1e-9)
        if problem is None:
            continue
        note = ""
        scale = 1 / (1 - p) if p < 1 else 0.0
        for wrong, words in (
            (
                grad * mask,
                "grad_out * mask: the forward pass divided the kept values by "
                "1 - p, so their gradient is divided by it too",
            ),
            (
                grad * scale,
                "the mask is ignored: a dropped element did not reach the output, "
                "so its gradient is 0",
            ),
            (grad * ~mask * scale, "the mask is inverted: True marks the elements kept"),
            (grad, "grad_out unchanged: dropout's backward pass goes through the mask"),
        ):
            if wrong.shape == got.shape and np.allclose(got, wrong, rtol=1e-6, atol=1e-9):
                note = f" — your result equals {words}"
                break
        raise GradingFailure(f"{call}: {problem}{note}")
    if checked == 0:
        raise GradingFailure(f"no test cases were given for {name} (a bug in the test)")


# --------------------------------------------------------------------------- AdamW


def _adam_variant(
    param: np.ndarray,
    grads: Sequence[np.ndarray],
    lr: float,
    betas: tuple[float, float],
    eps: float,
    decay: float,
    kind: str,
) -> list[np.ndarray]:
    """param after each step of a known mistake of AdamW (numpy, float64)."""
    w = param.astype(np.float64)
    m, v = np.zeros_like(w), np.zeros_like(w)
    beta1, beta2 = betas
    out = []
    for t, g in enumerate(grads, start=1):
        g = g.astype(np.float64)
        if kind == "l2":
            g = g + decay * w
        if kind in ("right", "no_bias_correction", "eps_inside"):
            w = w * (1 - lr * decay)
        elif kind == "decay_without_lr":
            w = w * (1 - decay)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        if kind == "no_bias_correction":
            w = w - lr * m / (np.sqrt(v) + eps)
        elif kind == "eps_inside":
            w = w - lr / (1 - beta1**t) * m / np.sqrt(v / (1 - beta2**t) + eps)
        else:
            w = w - lr / (1 - beta1**t) * m / (np.sqrt(v / (1 - beta2**t)) + eps)
        if kind == "decay_after":
            w = w * (1 - lr * decay)
        out.append(w.copy())
    return out


_ADAM_MISTAKES = (
    (
        "l2",
        "Adam with an L2 penalty: the decay was added to the gradient "
        "(grad + weight_decay * param), so Adam rescales it; AdamW shrinks param "
        "directly, param *= 1 - lr * weight_decay, apart from the gradient",
    ),
    (
        "no_bias_correction",
        "AdamW without the bias correction: divide exp_avg by "
        "1 - beta1**step and exp_avg_sq by 1 - beta2**step",
    ),
    (
        "decay_after",
        "the decay applied after the Adam update: torch shrinks param first, "
        "then takes the Adam step",
    ),
    (
        "decay_without_lr",
        "a decay of param *= 1 - weight_decay: torch multiplies by 1 - lr * weight_decay",
    ),
    ("none", "Adam without any weight decay: shrink param by 1 - lr * weight_decay"),
    ("eps_inside", "eps inside the square root: torch adds it after, sqrt(v_hat) + eps"),
)


def check_adamw_step(
    student_fn: Any,
    cases: Sequence[dict[str, Any]],
    *,
    name: str = "adamw_step",
    rtol: float = 1e-7,
    atol: float = 1e-10,
) -> None:
    """Grade ``adamw_step(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps,
    weight_decay)`` against ``torch.optim.AdamW``, several steps in a row.

    param, grad, exp_avg, exp_avg_sq: float64 arrays of one shape (the last three
    updated in place with param; zeros before step 1); step: 1, 2, ...

    Each case is a dict: ``shape``, ``steps``, ``seed`` and the keywords ``lr``, ``betas``,
    ``eps``, ``weight_decay``. The same random gradients go to torch's AdamW (float64)
    and to the student's function; after every step param, exp_avg and exp_avg_sq must
    match torch's (``rtol``, ``atol``) and grad must be unchanged. A param that equals a
    known mistake's (:data:`_ADAM_MISTAKES`) is named. Raises GradingFailure or
    ShortcutError.
    """
    __tracebackhide__ = True
    T.assert_numpy_intact()
    require_callable(student_fn, name)
    for case in cases:
        rng = np.random.default_rng(case["seed"])
        options = {k: case[k] for k in ("lr", "betas", "eps", "weight_decay")}
        start = rng.normal(size=case["shape"])
        grads = [
            rng.normal(scale=float(rng.uniform(0.01, 3.0)), size=case["shape"])
            for _ in range(case["steps"])
        ]
        tensor = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.AdamW([tensor], foreach=False, **options)
        param, exp_avg, exp_avg_sq = start.copy(), np.zeros_like(start), np.zeros_like(start)
        shown = ", ".join(f"{k}={v!r}" for k, v in options.items())
        for t, g in enumerate(grads, start=1):
            tensor.grad = torch.tensor(g, dtype=torch.float64)
            optimizer.step()
            state = optimizer.state[tensor]
            wanted = (
                tensor.detach().numpy(),
                state["exp_avg"].numpy(),
                state["exp_avg_sq"].numpy(),
            )
            call = (
                f"{name}(param of shape {tuple(start.shape)}, grad, exp_avg, exp_avg_sq, "
                f"step={t}, {shown})"
            )
            grad = g.copy()
            before = param.copy()
            with student_call(name, call), no_shortcuts():
                student_fn(param, grad, exp_avg, exp_avg_sq, t, **options)
            _unchanged(call, g, grad, "grad")
            for label, want, have in zip(
                ("param", "exp_avg", "exp_avg_sq"),
                wanted,
                (param, exp_avg, exp_avg_sq),
                strict=True,
            ):
                problem = compare_arrays(want, T.plain_array(have, label), rtol, atol)
                if problem is None:
                    continue
                note = ""
                if label == "param" and compare_arrays(before, param, 0.0, 0.0) is None:
                    note = (
                        " — param did not change: update it in place (param -= ..., "
                        "param *= ..., or param[...] = ...), as torch's optimizers do"
                    )
                elif label == "param":
                    note = _adamw_note(start, grads[:t], options, param)
                elif compare_arrays(np.zeros_like(want), have, 0.0, 0.0) is None:
                    note = f" — {label} is still zero: update it in place, it carries over"
                raise GradingFailure(
                    f"{call} (step {t} of {case['steps']}): {label} after the step differs "
                    f"from torch.optim.AdamW's: {problem}{note}"
                )


def _adamw_note(
    start: np.ndarray, grads: Sequence[np.ndarray], options: dict[str, Any], param: np.ndarray
) -> str:
    """`` — your param equals <mistake>`` for the first known mistake that matches, or ""."""
    right = _adam_variant(
        start,
        grads,
        options["lr"],
        tuple(options["betas"]),
        options["eps"],
        options["weight_decay"],
        "right",
    )[-1]
    for kind, words in _ADAM_MISTAKES:
        try:
            wrong = _adam_variant(
                start,
                grads,
                options["lr"],
                tuple(options["betas"]),
                options["eps"],
                options["weight_decay"],
                kind,
            )[-1]
        except Exception:
            continue
        distinct = np.abs(wrong - right).max() > 1e-9 * max(1.0, float(np.abs(right).max()))
        if distinct and np.allclose(param, wrong, rtol=1e-7, atol=1e-10):
            return f" — your param equals {words}"
    return ""
