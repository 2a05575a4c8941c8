"""Mistakes of ch10's graded operations: batch_norm (its output, and the running statistics
it updates in place), batch_norm_backward, group_norm and kaiming_std.

Each wrong version is written out with numpy (or convkit's own operation called with a
changed argument) on a copy of the case's arguments; see :mod:`convkit.grading.mistakes`
for how a result is matched. :func:`running_statistics_mistake` names what went wrong
with the running statistics, which batch_norm changes in place rather than returns.
"""

from __future__ import annotations

import math

# Bound at import (before any student code runs), so a notebook that rebinds
# builtins.type / isinstance / ... cannot change what the grader sees.
from builtins import (  # noqa: UP029
    Exception,
    bool,
    float,
    int,
    isinstance,
    len,
    range,
    tuple,
    type,
    zip,
)
from collections.abc import Callable
from typing import Any

import numpy as np

from convkit.grading import _trusted as T
from convkit.grading.mistakes._common import Args, Mistake, _array, _same, _Skip

# numpy functions bound now: a notebook that rebinds np.sqrt cannot change a result here.
_sqrt, _ones, _prod = np.sqrt, np.ones, np.prod
_GIVEN = object()  # "the case's own weight / bias", as opposed to None or another array


# -- shared by batch norm's output and its gradient ------------------------------------
def _axes(x: np.ndarray) -> tuple[int, ...]:
    """Batch norm's reduction axes: every axis but the channels (axis 1)."""
    return (0, *range(2, x.ndim))


def _per_channel(values: np.ndarray, ndim: int) -> np.ndarray:
    """A (C,) array shaped to broadcast against an (N, C, ...) array."""
    return values.reshape((1, -1) + (1,) * (ndim - 2))


def _channel_array(value: Any, channels: int) -> np.ndarray | None:
    """weight / bias / a running statistic as a float (C,) array, or None when absent."""
    if value is None:
        return None
    arr = _array(value)
    if arr.shape != (channels,):
        raise _Skip
    return T.NDARRAY.astype(arr, T.FLOAT64)


def _batch_stats(x: np.ndarray, ddof: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each channel's mean and variance over the batch and every position."""
    axes = _axes(x)
    return x.mean(axis=axes), x.var(axis=axes, ddof=ddof)


def _values_per_channel(x: np.ndarray) -> int:
    """m: how many values batch norm averages per channel (N times the positions)."""
    return int(_prod([x.shape[a] for a in _axes(x)]))


# -- batch_norm's output ---------------------------------------------------------------
def _batch_norm_mistakes() -> tuple[Mistake, ...]:
    def inputs(a: Args) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, float]:
        x = T.NDARRAY.astype(_array(a["x"]), T.FLOAT64)
        if x.ndim < 2:
            raise _Skip
        c = x.shape[1]
        return x, _channel_array(a["weight"], c), _channel_array(a["bias"], c), float(a["eps"])

    def affine(out: np.ndarray, weight: Any, bias: Any) -> np.ndarray:
        if weight is not None:
            out = out * _per_channel(weight, out.ndim)
        if bias is not None:
            out = out + _per_channel(bias, out.ndim)
        return out

    def normalised(
        a: Args,
        mean: np.ndarray,
        var: np.ndarray,
        *,
        std_eps: bool = False,
        weight: Any = _GIVEN,
        bias: Any = _GIVEN,
    ) -> np.ndarray:
        """x normalised per channel with (C,) statistics, or with statistics of x's shape."""
        x, w, b, eps = inputs(a)
        if mean.ndim == 1:
            mean, var = _per_channel(mean, x.ndim), _per_channel(var, x.ndim)
        scale = (_sqrt(var) + eps) if std_eps else _sqrt(var + eps)
        return affine(
            (x - mean) / scale, w if weight is _GIVEN else weight, b if bias is _GIVEN else bias
        )

    def training(a: Args) -> np.ndarray:
        if not a["training"]:
            raise _Skip
        return inputs(a)[0]

    def running(a: Args) -> tuple[np.ndarray, np.ndarray]:
        x = inputs(a)[0]
        mean = _channel_array(a["running_mean"], x.shape[1])
        var = _channel_array(a["running_var"], x.shape[1])
        if mean is None or var is None:
            raise _Skip
        return mean, var

    def stats(a: Args) -> tuple[np.ndarray, np.ndarray]:
        """The statistics the right answer uses in this mode."""
        return _batch_stats(inputs(a)[0]) if a["training"] else running(a)

    def unbiased(a: Args, e: Any) -> np.ndarray:
        x = training(a)
        if _values_per_channel(x) < 2:
            raise _Skip
        return normalised(a, *_batch_stats(x, ddof=1))

    def per_sample(a: Args, e: Any) -> np.ndarray:
        x = training(a)
        axes = tuple(range(1, x.ndim))
        return normalised(a, x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True))

    def over_batch_only(a: Args, e: Any) -> np.ndarray:
        x = training(a)
        if x.ndim < 3:
            raise _Skip
        return normalised(a, x.mean(axis=0, keepdims=True), x.var(axis=0, keepdims=True))

    def running_in_training(a: Args, e: Any) -> np.ndarray:
        training(a)
        return normalised(a, *running(a))

    def batch_in_eval(a: Args, e: Any) -> np.ndarray:
        if a["training"]:
            raise _Skip
        return normalised(a, *_batch_stats(inputs(a)[0]))

    def std_eps(a: Args, e: Any) -> np.ndarray:
        return normalised(a, *stats(a), std_eps=True)

    def without(weight: bool, bias: bool) -> Callable[[Args, Any], np.ndarray | None]:
        def result(a: Args, e: Any) -> np.ndarray | None:
            if (weight and a["weight"] is None) or (bias and a["bias"] is None):
                return None
            return normalised(
                a, *stats(a), weight=None if weight else _GIVEN, bias=None if bias else _GIVEN
            )

        return result

    def swapped(a: Args, e: Any) -> np.ndarray | None:
        _, w, b, _ = inputs(a)
        if w is None or b is None:
            return None
        return normalised(a, *stats(a), weight=b, bias=w)

    statistics_hint = (
        "batch norm takes one mean and one variance per channel, over the "
        "batch and every position: the axes (0, 2, 3) of an (N, C, H, W) x, "
        "(0,) of an (N, C) x"
    )
    return (
        Mistake(
            "batch norm with the unbiased variance (divided by m - 1)",
            "normalise with the biased variance, the mean of the squared deviations "
            "(divide by m, the N*H*W values of a channel); only the running variance "
            "is updated with the unbiased one",
            unbiased,
        ),
        Mistake(
            "statistics taken per sample (over C and the positions)", statistics_hint, per_sample
        ),
        Mistake(
            "statistics taken over the batch axis only (one per channel and position)",
            statistics_hint,
            over_batch_only,
        ),
        Mistake(
            "batch norm with the running statistics in training mode",
            "with training=True normalise with the batch's own mean and variance; the "
            "running statistics are what eval mode uses",
            running_in_training,
        ),
        Mistake(
            "batch norm with the batch's statistics in eval mode",
            "with training=False normalise with running_mean and running_var, whatever the batch",
            batch_in_eval,
        ),
        Mistake(
            "batch norm with eps added to the standard deviation",
            "eps goes inside the square root: divide by sqrt(var + eps)",
            std_eps,
        ),
        *_affine_mistakes("batch norm", without),
        Mistake(
            "batch norm with weight and bias exchanged",
            "weight (gamma) scales the normalised values, bias (beta) is added",
            swapped,
        ),
    )


# -- batch_norm's running statistics ------------------------------------------------------
def running_statistics_mistake(
    args: Args,
    before: tuple[np.ndarray | None, np.ndarray | None],
    got: tuple[np.ndarray | None, np.ndarray | None],
    rtol: float,
    atol: float,
) -> str | None:
    """What the student's batch_norm did to the running statistics, in words, or None.

    x: (N, C, ...); before, got: (running_mean, running_var), each (C,) or None: their
    values before the call and after the student's call.

    ``args``: the case by name (``x``, ``training``, ``momentum`` filled in). The
    candidate updates are recomputed from ``before`` and compared with ``got``: left
    unchanged in training mode, changed in eval mode, the biased batch variance, the
    momentum's two weights exchanged, the batch's statistics copied in without the
    running average. Never raises: a mistake that cannot be computed is not named.
    """
    try:
        return _running_words(args, before, got, rtol, atol)
    except Exception:
        return None


def _running_words(args: Args, before: tuple, got: tuple, rtol: float, atol: float) -> str | None:
    x = T.NDARRAY.astype(_array(args["x"]), T.FLOAT64)
    names = ("running_mean", "running_var")
    if not args["training"]:
        changed = [
            n
            for n, b, g in zip(names, before, got, strict=True)
            if b is not None and not _same(b, g, 0.0, 0.0)
        ]
        if changed:
            return (
                f"in eval mode your batch_norm changed {' and '.join(changed)}: with "
                "training=False the running statistics are only read, never updated"
            )
        return None
    m = _values_per_channel(x)
    momentum = float(args["momentum"])
    mean, biased = _batch_stats(x)
    unbiased = biased * m / (m - 1)
    for i, (name, old, new) in enumerate(zip(names, before, got, strict=True)):
        if old is None or new is None:
            continue
        right = (1 - momentum) * old + momentum * (mean if i == 0 else unbiased)
        if _same(right, new, rtol, atol):
            continue
        batch = mean if i == 0 else unbiased
        candidates = [
            (
                old,
                f"{name} was not updated: in training mode change the array you were "
                f"given in place (e.g. {name} *= 1 - momentum, then {name} += momentum * "
                f"the batch's value); assigning a new array to the name {name} changes "
                "nothing outside your function",
            ),
            (
                momentum * old + (1 - momentum) * batch,
                f"{name} gives the old value the weight momentum: momentum is the weight of "
                f"the batch, new = (1 - momentum) * {name} + momentum * batch value",
            ),
            (
                batch,
                f"{name} was replaced by the batch's value: keep a running average, "
                f"new = (1 - momentum) * {name} + momentum * batch value",
            ),
        ]
        if i == 1:
            candidates.insert(
                0,
                (
                    (1 - momentum) * old + momentum * biased,
                    "running_var looks like the biased variance: torch updates it with the "
                    f"unbiased one (divide by m - 1 = {m - 1} here, the number of values per "
                    "channel, N*H*W, minus one), while the biased one normalises",
                ),
            )
        for value, words in candidates:
            if not _same(right, value, rtol, atol) and _same(value, new, rtol, atol):
                return words
    return None


# -- batch_norm_backward -------------------------------------------------------------------
def _batch_norm_backward_mistakes() -> tuple[Mistake, ...]:
    def parts(a: Args) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """grad_out, x, the gamma used (ones when weight is None), and the mean and
        inverse standard deviation of this mode (all broadcast against x)."""
        g = T.NDARRAY.astype(_array(a["grad_out"]), T.FLOAT64)
        x = T.NDARRAY.astype(_array(a["x"]), T.FLOAT64)
        if x.ndim < 2 or g.shape != x.shape:
            raise _Skip
        c, eps = x.shape[1], float(a["eps"])
        weight = _channel_array(a["weight"], c)
        gamma = _ones(c) if weight is None else weight
        if a["training"]:
            mean, var = _batch_stats(x)
        else:
            mean = _channel_array(a["running_mean"], c)
            var = _channel_array(a["running_var"], c)
            if mean is None or var is None:
                raise _Skip
        inv = 1.0 / _sqrt(var + eps)
        return (
            g,
            x,
            _per_channel(gamma, x.ndim),
            _per_channel(mean, x.ndim),
            _per_channel(inv, x.ndim),
        )

    def xhat_of(a: Args) -> tuple[np.ndarray, np.ndarray]:
        g, x, _, mean, inv = parts(a)
        return g, (x - mean) * inv

    def grad_x(kind: str) -> Callable[[Args, Any], tuple]:
        """grad_x of one wrong derivation; the other two items left alone."""

        def result(a: Args, e: Any) -> tuple:
            g, x, gamma, mean, inv = parts(a)
            if kind == "training_in_eval":  # the batch's statistics, although eval mode
                if a["training"]:
                    raise _Skip
                batch_mean, batch_var = _batch_stats(x)
                mean = _per_channel(batch_mean, x.ndim)
                inv = 1.0 / _sqrt(_per_channel(batch_var, x.ndim) + float(a["eps"]))
            elif not a["training"]:
                raise _Skip
            axes = _axes(x)
            xhat = (x - mean) * inv
            g_mean = g.mean(axis=axes, keepdims=True)
            gx_mean = (g * xhat).mean(axis=axes, keepdims=True)
            if kind == "constant_stats":
                return (gamma * inv * g, None, None)
            if kind == "no_variance_term":
                return (gamma * inv * (g - g_mean), None, None)
            if kind == "no_mean_term":
                return (gamma * inv * (g - xhat * gx_mean), None, None)
            return (gamma * inv * (g - g_mean - xhat * gx_mean), None, None)

        return result

    def without_gamma(a: Args, e: Any) -> tuple | None:
        if a["weight"] is None:
            return None
        gamma = parts(a)[2]
        return (_array(e[0]) / gamma, None, None)

    def weight_from_x(a: Args, e: Any) -> tuple:
        g, x, _, _, _ = parts(a)
        return (None, (g * x).sum(axis=_axes(x)), None)

    def first_sample(a: Args, e: Any) -> tuple:
        g, xhat = xhat_of(a)
        if g.shape[0] < 2:
            raise _Skip
        inner = tuple(range(1, g.ndim - 1))
        return (None, (g[0] * xhat[0]).sum(axis=inner), g[0].sum(axis=inner))

    def averaged(a: Args, e: Any) -> tuple:
        g, _ = xhat_of(a)
        m = _values_per_channel(g)
        return (None, _array(e[1]) / m, _array(e[2]) / m)

    def bias_over_batch_only(a: Args, e: Any) -> tuple:
        g, _ = xhat_of(a)
        if g.ndim < 3:
            raise _Skip
        return (None, None, g.sum(axis=0))

    def with_gamma(a: Args, e: Any) -> tuple | None:
        if a["weight"] is None:
            return None
        _, _, gamma, _, _ = parts(a)
        return (None, _array(e[1]) * gamma.reshape(-1), _array(e[2]) * gamma.reshape(-1))

    chain_hint = (
        "in training mode the mean and the variance are computed from x, so x "
        "reaches the output through them too: per channel, grad_x = weight / "
        "sqrt(var + eps) * (grad_out - mean(grad_out) - xhat * mean(grad_out * "
        "xhat)), the means over the batch and every position"
    )
    sum_hint = (
        "grad_weight[c] and grad_bias[c] add up the contributions of every sample "
        "and every position of channel c"
    )
    return (
        Mistake(
            "the eval-mode gradient (the batch's mean and variance held constant)",
            chain_hint,
            grad_x("constant_stats"),
        ),
        Mistake(
            "the gradient without the path through the variance",
            chain_hint,
            grad_x("no_variance_term"),
        ),
        Mistake(
            "the gradient without the path through the mean", chain_hint, grad_x("no_mean_term")
        ),
        Mistake(
            "the training-mode gradient in eval mode",
            "with training=False the running statistics are constants: grad_x = weight "
            "* grad_out / sqrt(running_var + eps)",
            grad_x("training_in_eval"),
        ),
        Mistake(
            "the right gradient without the factor weight",
            "the output is weight * xhat + bias, so every path to x is scaled by weight[c]",
            without_gamma,
        ),
        Mistake(
            "the sum of grad_out * x, not grad_out * xhat",
            "the weight multiplies the normalised input xhat = (x - mean) / sqrt(var + "
            "eps), so grad_weight[c] sums grad_out * xhat",
            weight_from_x,
        ),
        Mistake("the gradients of the first sample of the batch only", sum_hint, first_sample),
        Mistake(
            "the gradients averaged instead of summed",
            "grad_weight and grad_bias are sums over the batch and the positions, not means",
            averaged,
        ),
        Mistake(
            "grad_out summed over the batch only (not over the positions)",
            sum_hint,
            bias_over_batch_only,
        ),
        Mistake(
            "the right gradients times weight",
            "grad_weight and grad_bias do not depend on the weight itself: sum "
            "grad_out * xhat and grad_out",
            with_gamma,
        ),
    )


# -- group_norm ------------------------------------------------------------------------------
def _group_norm_mistakes(op: Callable) -> tuple[Mistake, ...]:
    def inputs(a: Args) -> tuple[np.ndarray, int, int]:
        x = T.NDARRAY.astype(_array(a["x"]), T.FLOAT64)
        groups = a["num_groups"]
        if x.ndim < 2 or isinstance(groups, bool) or not isinstance(groups, int | np.integer):
            raise _Skip
        groups = int(groups)
        if groups < 1 or x.shape[1] % groups:
            raise _Skip
        return x, groups, x.shape[1] // groups

    def affine(a: Args, out: np.ndarray) -> np.ndarray:
        c = out.shape[1]
        weight, bias = _channel_array(a["weight"], c), _channel_array(a["bias"], c)
        if weight is not None:
            out = out * _per_channel(weight, out.ndim)
        if bias is not None:
            out = out + _per_channel(bias, out.ndim)
        return out

    def by_groups(
        a: Args, *, ddof: int = 0, std_eps: bool = False, across_batch: bool = False
    ) -> np.ndarray:
        x, groups, _ = inputs(a)
        n = x.shape[0]
        grouped = x.reshape(n, groups, -1)
        axes: tuple[int, ...] = (0, 2) if across_batch else (2,)
        if grouped[0, 0].size - ddof < 1:
            raise _Skip
        mean = grouped.mean(axis=axes, keepdims=True)
        var = grouped.var(axis=axes, keepdims=True, ddof=ddof)
        eps = float(a["eps"])
        scale = (_sqrt(var) + eps) if std_eps else _sqrt(var + eps)
        return affine(a, ((grouped - mean) / scale).reshape(x.shape))

    def interleaved(a: Args, e: Any) -> np.ndarray:
        x, groups, size = inputs(a)
        if groups == 1 or size == 1:
            raise _Skip
        # channels g, g + G, g + 2G, ... side by side, normalised as one group, put back
        order = np.arange(x.shape[1]).reshape(size, groups).T.reshape(-1)
        plain = op(x[:, order], groups, None, None, float(a["eps"]))
        out = np.empty_like(plain)
        out[:, order] = plain
        return affine(a, out)

    def other_groups(count: Callable[[int], int]) -> Callable[[Args, Any], np.ndarray]:
        def result(a: Args, e: Any) -> np.ndarray:
            x, groups, _ = inputs(a)
            other = count(x.shape[1])
            if other == groups:
                raise _Skip
            return op(x, other, a["weight"], a["bias"], float(a["eps"]))

        return result

    def without(weight: bool, bias: bool) -> Callable[[Args, Any], np.ndarray | None]:
        def result(a: Args, e: Any) -> np.ndarray | None:
            if (weight and a["weight"] is None) or (bias and a["bias"] is None):
                return None
            x, groups, _ = inputs(a)
            return op(
                x,
                groups,
                None if weight else a["weight"],
                None if bias else a["bias"],
                float(a["eps"]),
            )

        return result

    group_hint = (
        "group g is the consecutive channels g*C/G to (g+1)*C/G - 1: reshape x to "
        "(N, G, C/G * H * W) and take one mean and variance per sample and group"
    )
    return (
        Mistake("group norm with each group made of every G-th channel", group_hint, interleaved),
        Mistake(
            "instance norm (every channel a group of its own)",
            group_hint,
            other_groups(lambda c: c),
        ),
        Mistake("layer norm (all channels in one group)", group_hint, other_groups(lambda c: 1)),
        Mistake(
            "group norm with statistics shared by the whole batch",
            "each sample has its own statistics: group norm never averages over the batch",
            lambda a, e: by_groups(a, across_batch=True),
        ),
        Mistake(
            "group norm with the unbiased variance (divided by the count minus one)",
            "normalise with the biased variance, the mean of the squared deviations",
            lambda a, e: by_groups(a, ddof=1),
        ),
        Mistake(
            "group norm with eps added to the standard deviation",
            "eps goes inside the square root: divide by sqrt(var + eps)",
            lambda a, e: by_groups(a, std_eps=True),
        ),
        *_affine_mistakes("group norm", without),
    )


# -- kaiming_std -------------------------------------------------------------------------------
def _kaiming_mistakes(op: Callable) -> tuple[Mistake, ...]:
    def sizes(a: Args) -> tuple[int, int, int]:
        """(C_out, C_in, the kernel's size) of the weight shape."""
        shape = a["shape"]
        if type(shape) not in (tuple, list) or len(shape) < 2:
            raise _Skip
        dims = [int(d) for d in shape]
        return dims[0], dims[1], int(math.prod(dims[2:]))

    def call(args: Args, **change: Any) -> float:
        b = {**args, **change}  # (change may hold "a", the slope, hence "args")
        return float(op(b["shape"], b["a"], b["mode"], b["nonlinearity"]))

    def fan(a: Args) -> int:
        c_out, c_in, kernel = sizes(a)
        return (c_in if a["mode"] == "fan_in" else c_out) * kernel

    def other_mode(a: Args, e: Any) -> float:
        return call(a, mode="fan_out" if a["mode"] == "fan_in" else "fan_in")

    def no_kernel(a: Args, e: Any) -> float:
        c_out, c_in, kernel = sizes(a)
        if kernel == 1:
            raise _Skip
        return call(a, shape=(c_out, c_in))

    def relu_gain(a: Args, e: Any) -> float:
        if a["nonlinearity"] != "leaky_relu":
            raise _Skip
        return call(a, a=0)

    def default_slope(a: Args, e: Any) -> float:
        if a["nonlinearity"] != "leaky_relu" or a["a"] != 0:
            raise _Skip
        return call(a, a=0.01)

    def no_gain(a: Args, e: Any) -> float:
        return call(a, nonlinearity="linear")

    def times(factor: Callable[[Args, float], float]) -> Callable[[Args, Any], float]:
        def result(a: Args, e: Any) -> float:
            return float(e) * factor(a, float(e))

        return result

    def xavier(a: Args, e: Any) -> float:
        c_out, c_in, kernel = sizes(a)
        gain = float(e) * math.sqrt(fan(a))
        return gain * math.sqrt(2.0 / ((c_in + c_out) * kernel))

    fan_hint = (
        "a weight of shape (C_out, C_in, kh, kw) has fan_in = C_in * kh * kw (the "
        "inputs each output adds up) and fan_out = C_out * kh * kw"
    )
    return (
        Mistake(
            "the std for the other mode",
            "mode='fan_in' divides by the fan-in, mode='fan_out' by the fan-out; " + fan_hint,
            other_mode,
        ),
        Mistake("the std with a fan that leaves out the kernel's size", fan_hint, no_kernel),
        Mistake(
            "the std with plain ReLU's gain for a leaky ReLU",
            "a leaky ReLU with negative slope a keeps a**2 of the second moment on its "
            "negative side too: its gain is sqrt(2 / (1 + a**2))",
            relu_gain,
        ),
        Mistake(
            "the std for a leaky ReLU of slope 0.01",
            "kaiming_normal_ hands its a (0 by default) to the gain as the slope; 0.01 "
            "is only calculate_gain's default when no slope is given",
            default_slope,
        ),
        Mistake(
            "the std without the nonlinearity's gain (a gain of 1)",
            "multiply 1 / sqrt(fan) by the nonlinearity's gain: sqrt(2) for ReLU, "
            "sqrt(2 / (1 + a**2)) for leaky ReLU, 5/3 for tanh, 3/4 for SELU, 1 for "
            "linear layers, convolutions and sigmoid",
            no_gain,
        ),
        Mistake(
            "the variance, not the standard deviation",
            "return the standard deviation gain / sqrt(fan), not its square",
            times(lambda a, e: e),
        ),
        Mistake(
            "gain / fan, without the square root",
            "the variance is gain**2 / fan, so the standard deviation is gain / sqrt(fan)",
            times(lambda a, e: 1.0 / math.sqrt(fan(a))),
        ),
        Mistake(
            "the bound of kaiming_uniform_, not the std of kaiming_normal_",
            "a uniform distribution on [-b, b] has std b / sqrt(3); the normal one's "
            "std is gain / sqrt(fan) itself",
            times(lambda a, e: math.sqrt(3.0)),
        ),
        Mistake(
            "Xavier's std (both fans averaged)",
            "Kaiming divides by one fan, the one mode names: gain / sqrt(fan)",
            xavier,
        ),
    )


__all__ = ["running_statistics_mistake"]


def _affine_mistakes(
    op: str, without: Callable[[bool, bool], Callable[[Args, Any], np.ndarray | None]]
) -> tuple[Mistake, ...]:
    """The three ways of leaving out a normalisation's scale and shift, for ``op``
    ("batch norm", "group norm"); ``without(weight, bias)`` computes each."""
    return (
        Mistake(
            f"{op} without the weight and the bias",
            "after normalising, multiply channel c by weight[c] and add bias[c]",
            without(True, True),
        ),
        Mistake(
            f"{op} without the weight",
            "after normalising, multiply channel c by weight[c]",
            without(True, False),
        ),
        Mistake(
            f"{op} without the bias",
            "after scaling, add bias[c] to channel c",
            without(False, True),
        ),
    )
