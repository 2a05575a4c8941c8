"""Tests of convkit.grading.mistakes: a failure message names a known mistake when, and
only when, the student's result equals it.

Every "student" below is graded by ``check_function`` under the guard, so it is plain
numpy (no convkit reference): a correct implementation for each graded operation, and
for every mistake in the registry a version of it that makes exactly that mistake.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import convkit
from convkit.grading import GradingFailure, check_function, random_cases
from convkit.grading import compare as compare_module
from convkit.grading.mistakes import Mistake, mistakes_of, named_mistake, route_max_gradient
from convkit.grading.mistakes import matching as mistakes
from convkit.grading.variants import conv_transpose2d_case, grouped_conv2d_case, mask_iou_case

NOTE = " — your "  # how a named mistake starts in a message


def pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


# -- correct numpy implementations (the students' starting point) --------------------
def np_conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    kh, kw = weight.shape[-2:]
    xp = np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)])
    windows = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(-2, -1))
    out = np.einsum("nchwij,ocij->nohw", windows[:, :, ::sh, ::sw, ::dh, ::dw], weight)
    return out if bias is None else out + bias[:, None, None]


def np_conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    out = np_conv2d(x[:, :, None, :], weight[:, :, None, :], bias, (1, pair(stride)[0]),
                    (0, pair(padding)[0]), (1, pair(dilation)[0]))
    return out[:, :, 0, :]


def np_correlate2d(image, kernel):
    return np.einsum("hwij,ij->hw", sliding_window_view(image, kernel.shape), kernel)


def np_convolve2d(image, kernel):
    return np_correlate2d(image, kernel[::-1, ::-1])


def np_pool(x, kernel_size, stride=None, padding=0, count_include_pad=True, *, mode="max",
            fill=None, extra=(0, 0)):
    """max / mean / sum pooling; ``fill`` replaces the padding value, ``extra`` adds zero
    rows and columns at the bottom and right (after the padding)."""
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(kernel_size if stride is None else stride)
    if fill is None:
        fill = -np.inf if mode == "max" else 0.0
    xp = np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)], constant_values=fill)
    xp = np.pad(xp, [(0, 0), (0, 0), (0, extra[0]), (0, extra[1])])
    windows = sliding_window_view(xp, (kh, kw), axis=(-2, -1))[:, :, ::sh, ::sw]
    if mode == "max":
        return windows.max(axis=(-2, -1))
    sums = windows.sum(axis=(-2, -1))
    if mode == "sum":
        return sums
    if count_include_pad:
        return sums / (kh * kw)
    ones = np.pad(np.ones(x.shape[2:]), [(ph, ph + extra[0]), (pw, pw + extra[1])])
    return sums / sliding_window_view(ones, (kh, kw))[::sh, ::sw].sum(axis=(-2, -1))


def np_max_pool2d(x, kernel_size, stride=None, padding=0):
    return np_pool(x, kernel_size, stride, padding)


def np_avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    return np_pool(x, kernel_size, stride, padding, count_include_pad, mode="mean")


def np_max_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, *, rule="first",
                           stride_one=False):
    """Loops over windows; ``rule`` says where each window's gradient goes."""
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = (1, 1) if stride_one else pair(kernel_size if stride is None else stride)
    n, c, h, w = x.shape
    xp = np.full((n, c, h + 2 * ph, w + 2 * pw), -np.inf)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    grad = np.zeros_like(xp)
    for b, ch, i, j in np.ndindex(*grad_out.shape):
        top, left, g = i * sh, j * sw, grad_out[b, ch, i, j]
        window = xp[b, ch, top:top + kh, left:left + kw]
        if rule == "spread":
            grad[b, ch, top:top + kh, left:left + kw] += g / (kh * kw)
            continue
        winners = np.argwhere(window == window.max())  # row-major order
        if rule == "split":
            for r, q in winners:
                grad[b, ch, top + r, left + q] += g / len(winners)
        elif rule == "all":
            for r, q in winners:
                grad[b, ch, top + r, left + q] += g
        else:
            r, q = winners[-1] if rule == "last" else winners[0]
            if rule == "overwrite":
                grad[b, ch, top + r, left + q] = g
            else:
                grad[b, ch, top + r, left + q] += g
    return grad[:, :, ph:ph + h, pw:pw + w]


def np_conv2d_backward(grad_out, x, weight, stride=1, padding=0, dilation=1, *, crop=True):
    """Loops over output positions: each one's gradient flows back through its window."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    kh, kw = weight.shape[-2:]
    xp = np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)])
    grad_xp, grad_w = np.zeros_like(xp), np.zeros_like(weight)
    for i in range(grad_out.shape[2]):
        for j in range(grad_out.shape[3]):
            rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)
            cols = slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)
            g = grad_out[:, :, i, j]
            grad_w += np.einsum("no,nckl->ockl", g, xp[:, :, rows, cols])
            grad_xp[:, :, rows, cols] += np.einsum("no,ockl->nckl", g, weight)
    grad_x = grad_xp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] if crop else grad_xp
    return grad_x, grad_w, grad_out.sum(axis=(0, 2, 3))


def lrtb(padding):
    if isinstance(padding, int):
        return (padding,) * 4
    if len(padding) == 2:
        return (padding[1], padding[1], padding[0], padding[0])
    return tuple(padding)


def np_pad2d(x, padding, value=0.0, *, sides=None):
    """``sides``: the (left, right, top, bottom) actually used (default: the right ones)."""
    left, right, top, bottom = sides or lrtb(padding)
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)],
                  constant_values=value)


def np_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def np_windows(x, kernel_size, stride=1, padding=0, dilation=1):
    """(N, C, H_out, W_out, kh, kw) windows of the padded input."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(pair, (kernel_size, stride, padding, dilation))
    xp = np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)])
    view = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(-2, -1))
    return view[:, :, ::sh, ::sw, ::dh, ::dw]


def np_im2col(x, kernel_size, stride=1, padding=0, dilation=1, *, order=(0, 1, 4, 5, 2, 3)):
    """``order``: how the window axes (N, C, H_out, W_out, kh, kw) are laid out."""
    windows = np_windows(x, kernel_size, stride, padding, dilation).transpose(order)
    n = x.shape[0]
    return windows.reshape(n, -1, windows.shape[-2] * windows.shape[-1])


def np_global_avg_pool2d(x):
    return x.mean(axis=(2, 3))


def np_conv2d_params(in_channels, out_channels, kernel_size, bias=True):
    kh, kw = pair(kernel_size)
    return out_channels * in_channels * kh * kw + (out_channels if bias else 0)


def np_linear_params(in_features, out_features, bias=True):
    return out_features * in_features + (out_features if bias else 0)


# -- ch10: normalisation and initialisation (numpy students, output only) -------------
def np_batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
                  momentum=0.1, eps=1e-5, *, mistake=None):
    """batch_norm's output (the running statistics are left alone); ``mistake`` makes one
    known mistake where it applies to the case."""
    axes = (0, *range(2, x.ndim))
    line = (1, -1) + (1,) * (x.ndim - 2)
    if mistake == "running" and running_mean is None:
        mistake = None
    if mistake in ("swap", "no_affine") and (weight is None or bias is None):
        mistake = None
    batch = not training if mistake == ("running" if training else "batch") else training
    if batch:
        over = {"per_sample": tuple(range(1, x.ndim)), "batch_only": (0,)}.get(mistake, axes)
        mean = x.mean(axis=over, keepdims=True)
        var = x.var(axis=over, keepdims=True, ddof=1 if mistake == "unbiased" else 0)
    else:
        mean, var = running_mean.reshape(line), running_var.reshape(line)
    std = np.sqrt(var) + eps if mistake == "std_eps" else np.sqrt(var + eps)
    out = (x - mean) / std
    if mistake == "swap":
        weight, bias = bias, weight
    if weight is not None and mistake not in ("no_affine", "no_weight"):
        out = out * weight.reshape(line)
    if bias is not None and mistake not in ("no_affine", "no_bias"):
        out = out + bias.reshape(line)
    return out


def batch_norm_with(mistake):
    def student(x, running_mean, running_var, weight=None, bias=None, training=False,
                momentum=0.1, eps=1e-5):
        return np_batch_norm(x, running_mean, running_var, weight, bias, training, momentum,
                             eps, mistake=mistake)

    return student


def np_batch_norm_backward(grad_out, x, running_mean, running_var, weight=None,
                           training=False, eps=1e-5, *, mistake=None):
    axes = (0, *range(2, x.ndim))
    line = (1, -1) + (1,) * (x.ndim - 2)
    batch = training or mistake == "training_in_eval"
    mean, var = (x.mean(axis=axes), x.var(axis=axes)) if batch else (running_mean, running_var)
    inv = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean.reshape(line)) * inv.reshape(line)
    gamma = np.ones(x.shape[1]) if weight is None else weight
    grad_bias, grad_weight = grad_out.sum(axis=axes), (grad_out * xhat).sum(axis=axes)
    scale = (inv if mistake == "no_gamma" else gamma * inv).reshape(line)
    m = x.size // x.shape[1]
    grad_x = scale * grad_out
    if batch and mistake != "constant_stats":
        if mistake != "no_mean_term":
            grad_x = grad_x - scale * (grad_bias / m).reshape(line)
        if mistake != "no_variance_term":
            grad_x = grad_x - scale * xhat * (grad_weight / m).reshape(line)
    if mistake == "weight_from_x":
        grad_weight = (grad_out * x).sum(axis=axes)
    elif mistake == "first_sample":
        inner = tuple(range(1, x.ndim - 1))
        grad_weight = (grad_out[0] * xhat[0]).sum(axis=inner)
        grad_bias = grad_out[0].sum(axis=inner)
    elif mistake == "averaged":
        grad_weight, grad_bias = grad_weight / m, grad_bias / m
    elif mistake == "bias_batch_only" and x.ndim > 2:
        grad_bias = grad_out.sum(axis=0)
    elif mistake == "with_gamma" and weight is not None:
        grad_weight, grad_bias = grad_weight * gamma, grad_bias * gamma
    return grad_x, grad_weight, grad_bias


def batch_norm_backward_with(mistake):
    def student(grad_out, x, running_mean, running_var, weight=None, training=False, eps=1e-5):
        return np_batch_norm_backward(grad_out, x, running_mean, running_var, weight, training,
                                      eps, mistake=mistake)

    return student


def np_group_norm(x, num_groups, weight=None, bias=None, eps=1e-5, *, mistake=None):
    n, c = x.shape[:2]
    if mistake == "no_affine" and (weight is None or bias is None):
        mistake = None
    groups = {"instance": c, "layer": 1}.get(mistake, num_groups)
    order = np.arange(c)
    if mistake == "interleaved":  # group g: channels g, g + G, g + 2G, ...
        order = order.reshape(c // groups, groups).T.reshape(-1)
    rows = x[:, order].reshape(n, groups, -1)
    over = (0, 2) if mistake == "across_batch" else (2,)
    mean = rows.mean(axis=over, keepdims=True)
    var = rows.var(axis=over, keepdims=True, ddof=1 if mistake == "unbiased" else 0)
    std = np.sqrt(var) + eps if mistake == "std_eps" else np.sqrt(var + eps)
    out = np.empty_like(x)
    out[:, order] = ((rows - mean) / std).reshape(x.shape)
    line = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None and mistake not in ("no_affine", "no_weight"):
        out = out * weight.reshape(line)
    if bias is not None and mistake not in ("no_affine", "no_bias"):
        out = out + bias.reshape(line)
    return out


def group_norm_with(mistake):
    def student(x, num_groups, weight=None, bias=None, eps=1e-5):
        return np_group_norm(x, num_groups, weight, bias, eps, mistake=mistake)

    return student


def np_kaiming_std(shape, a=0, mode="fan_in", nonlinearity="leaky_relu", *, mistake=None):
    kernel = 1 if mistake == "no_kernel" else int(np.prod(shape[2:]))
    if mistake == "other_mode":
        mode = "fan_out" if mode == "fan_in" else "fan_in"
    fan = (shape[1] if mode == "fan_in" else shape[0]) * kernel
    if nonlinearity == "leaky_relu" and mistake == "relu_gain":
        a = 0
    if nonlinearity == "leaky_relu" and mistake == "default_slope" and a == 0:
        a = 0.01
    gains = {"relu": np.sqrt(2.0), "leaky_relu": np.sqrt(2.0 / (1 + a**2)), "tanh": 5 / 3,
             "selu": 0.75}
    gain = 1.0 if mistake == "no_gain" else float(gains.get(nonlinearity, 1.0))
    std = gain / np.sqrt(fan)
    if mistake == "variance":
        return float(std**2)
    if mistake == "no_sqrt":
        return gain / fan
    if mistake == "uniform":
        return float(std * np.sqrt(3.0))
    if mistake == "xavier":
        size = int(np.prod(shape[2:]))
        return float(gain * np.sqrt(2.0 / ((shape[0] + shape[1]) * size)))
    return float(std)


def kaiming_with(mistake):
    def student(shape, a=0, mode="fan_in", nonlinearity="leaky_relu"):
        return np_kaiming_std(shape, a, mode, nonlinearity, mistake=mistake)

    return student


def small_fans(rng):
    """kaiming_std cases with small fans (a std near 1: small relative slips show)."""
    (shape,), kwargs = random_cases("kaiming_std", n=1, seed=int(rng.integers(2**31)))[0]
    return (tuple(int(rng.integers(1, 5)) for _ in shape),), kwargs


# -- ch12: grouped and transposed convolutions, masks (numpy students) ---------------
def np_conv2d_grouped(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
                      mistake=None):
    """One output channel at a time, from the input channels of its group; ``mistake``
    deals channels to the groups in turn or forgets a group's offset."""
    per_in, per_out = x.shape[1] // groups, weight.shape[0] // groups
    outs = []
    for o in range(weight.shape[0]):
        g = o % groups if mistake == "outputs_dealt" else o // per_out
        channels = np.arange(g * per_in, (g + 1) * per_in)
        if mistake == "inputs_dealt":
            channels = np.arange(g, x.shape[1], groups)
        elif mistake == "first_inputs":
            channels = np.arange(per_in)
        kernel = weight[o % per_out] if mistake == "first_kernels" else weight[o]
        outs.append(np_conv2d(x[:, channels], kernel[None], None, stride, padding, dilation))
    out = np.concatenate(outs, axis=1)
    return out if bias is None else out + bias[:, None, None]


def grouped_with(mistake):
    def student(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        return np_conv2d_grouped(x, weight, bias, stride, padding, dilation, groups,
                                 mistake=mistake)

    return student


def np_conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                        dilation=1, *, mistake=None):
    """Every input value scatters its kernel (one tap at a time); ``mistake`` makes one
    known mistake where it applies (elsewhere the result is right)."""
    (sh, sw), (ph, pw), (oh, ow), (dh, dw) = map(pair, (stride, padding, output_padding,
                                                      dilation))
    c_in, per_out, kh, kw = weight.shape
    per_in = c_in // groups
    if mistake in ("swapped", "flipped_swapped") and per_in == per_out:
        shaped = weight.reshape(groups, per_in, per_out, kh, kw)
        weight = shaped.swapaxes(1, 2).reshape(weight.shape)
    if mistake in ("flipped", "flipped_swapped"):
        weight = weight[..., ::-1, ::-1]
    if mistake == "no_groups":
        groups, per_in, bias = 1, c_in, None if bias is None else bias[:per_out]
    if mistake == "no_dilation" and oh < sh and ow < sw:
        dh = dw = 1
    zeros_after = zeros_around = (0, 0)
    if mistake in ("op_after", "op_around", "no_output_padding"):
        if mistake == "op_after":
            zeros_after = (oh, ow)
        elif mistake == "op_around":
            zeros_around = (oh, ow)
        oh = ow = 0
    added = (0, 0)
    if mistake in ("padding_added", "no_padding"):
        added = (ph, pw) if mistake == "padding_added" else (0, 0)
        ph = pw = 0
    n, _, h, w = x.shape
    full = np.zeros((n, per_out * groups, (h - 1) * sh + dh * (kh - 1) + 1 + oh,
                     (w - 1) * sw + dw * (kw - 1) + 1 + ow))
    for g in range(groups):
        xg, wg = x[:, g * per_in:(g + 1) * per_in], weight[g * per_in:(g + 1) * per_in]
        for m in range(kh):
            for k in range(kw):
                rows = slice(m * dh, m * dh + (h - 1) * sh + 1, sh)
                cols = slice(k * dw, k * dw + (w - 1) * sw + 1, sw)
                full[:, g * per_out:(g + 1) * per_out, rows, cols] += np.einsum(
                    "nchw,co->nohw", xg, wg[:, :, m, k])
    out = full[:, :, ph:full.shape[2] - ph, pw:full.shape[3] - pw]
    out = np.pad(out, [(0, 0), (0, 0), (zeros_around[0], zeros_after[0] + zeros_around[0]),
                       (zeros_around[1], zeros_after[1] + zeros_around[1])])
    out = np.pad(out, [(0, 0), (0, 0), (added[0], added[0]), (added[1], added[1])])
    if mistake == "extra_row":
        out = np.pad(out, [(0, 0), (0, 0), (0, 1), (0, 0)])
    elif mistake == "missing_column":
        out = out[..., :-1]
    if bias is not None and mistake != "no_bias":
        out = out + bias[:, None, None]
    return out


def transpose_with(mistake):
    def student(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                dilation=1):
        return np_conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups,
                                   dilation, mistake=mistake)

    return student


def np_mask_iou(pred, target, per_image=False, *, mistake=None):
    pred, target = np.asarray(pred) != 0, np.asarray(target) != 0
    each = per_image or (mistake == "mean_images" and pred.ndim >= 3)
    if mistake == "pooled":
        each = False
    axes = tuple(range(1, pred.ndim)) if each else None
    inter, union = (pred & target).sum(axis=axes), (pred | target).sum(axis=axes)
    bottom = {"recall": target.sum(axis=axes), "precision": pred.sum(axis=axes),
              "dice": (pred.sum(axis=axes) + target.sum(axis=axes)) / 2,
              "areas": pred.sum(axis=axes) + target.sum(axis=axes)}.get(mistake, union)
    empty = {"zero_empty": 0.0, "nan_empty": np.nan}.get(mistake, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(bottom == 0, empty, inter / bottom)
    if mistake == "mean_images" and not per_image:
        return float(iou.mean())
    if mistake == "pooled" and per_image:
        return np.asarray(float(iou))  # one number for the whole batch
    return iou if per_image else float(iou)


def iou_with(mistake):
    def student(pred, target, per_image=False):
        return np_mask_iou(pred, target, per_image, mistake=mistake)

    return student


# -- extra case kinds (settings random_cases's kinds do not vary) -----------------------
def conv2d_dilated(rng):
    n, c, o = (int(v) for v in rng.integers(1, 3, size=3))
    kh, kw = (int(v) for v in rng.integers(2, 4, size=2))
    dilation = 2 if rng.random() < 0.5 else (2, 3)
    dh, dw = pair(dilation)
    h = dh * (kh - 1) + 1 + int(rng.integers(0, 4))
    w = dw * (kw - 1) + 1 + int(rng.integers(0, 4))
    kwargs = {"dilation": dilation}
    if rng.random() < 0.5:
        kwargs["bias"] = rng.normal(size=o)
    return (rng.normal(size=(n, c, h, w)), rng.normal(size=(o, c, kh, kw))), kwargs


def conv1d_strided(rng):
    n, c, o = (int(v) for v in rng.integers(1, 3, size=3))
    k, stride, padding = int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
    length = int(rng.integers(max(1, k - 2 * padding), 13))
    kwargs = {"stride": stride, "padding": padding}
    if rng.random() < 0.3:
        kwargs["dilation"] = 2
        length = max(length, 2 * (k - 1) + 1)
    return (rng.normal(size=(n, c, length)), rng.normal(size=(o, c, k))), kwargs


def avg_pool_exclusive(rng):
    k = int(rng.integers(2, 4))
    x = rng.normal(size=(int(rng.integers(1, 3)), 2, int(rng.integers(k, 8)), 5))
    return (x, k), {"stride": int(rng.integers(1, 3)), "padding": 1, "count_include_pad": False}


CASES = {
    "conv2d": random_cases("conv2d", n=30, seed=21),
    "conv2d_strided": random_cases("conv2d_strided", n=30, seed=22),
    "conv2d_dilated": random_cases(conv2d_dilated, n=10, seed=23),
    "conv1d": random_cases("conv1d", n=30, seed=24),
    "conv1d_strided": random_cases(conv1d_strided, n=30, seed=25),
    "correlate2d": random_cases("correlate2d", n=30, seed=26),
    # kernels at least 2 x 2: flipping one axis of a 1-wide kernel is flipping both
    "correlate2d_2x2": [case for case in random_cases("correlate2d", n=60, seed=26)
                        if min(case[0][1].shape) >= 2],
    "max_pool2d": random_cases("max_pool2d", n=30, seed=27),
    "avg_pool2d": random_cases("avg_pool2d", n=30, seed=28),
    "avg_pool_exclusive": random_cases(avg_pool_exclusive, n=10, seed=29),
    "max_pool2d_backward": random_cases("max_pool2d_backward", n=30, seed=30),
    "max_pool2d_backward_ties": random_cases("max_pool2d_backward", n=30, seed=31,
                                             overlap=True, ties=True, padding=True),
    "conv2d_backward": random_cases("conv2d_backward", n=20, seed=32),
    "pad2d": random_cases("pad2d", n=30, seed=33),
    "output_size": random_cases("output_size", n=40, seed=34),
    "output_size_plain": [((10, 3), {"stride": 1, "padding": 0}),
                          ((9, 2), {"stride": 3, "padding": 1})],
    "im2col": random_cases("im2col", n=30, seed=35),
    "global_avg_pool2d": random_cases("global_avg_pool2d", n=20, seed=36),
    "conv2d_params": random_cases("conv2d_params", n=20, seed=37),
    "linear_params": random_cases("linear_params", n=20, seed=38),
    "conv2d_grouped": [c for c in random_cases(grouped_conv2d_case, n=60, seed=44)
                       if c[1]["groups"] > 1],
    "conv_transpose2d": random_cases(conv_transpose2d_case, n=40, seed=45),
    "conv_transpose2d_extras": random_cases(conv_transpose2d_case, n=40, seed=46, extras=True),
    "mask_iou": random_cases(mask_iou_case, n=60, seed=47),
    "batch_norm": random_cases("batch_norm", n=30, seed=40),
    "batch_norm_backward": random_cases("batch_norm_backward", n=20, seed=41),
    "group_norm": random_cases("group_norm", n=30, seed=42),
    "kaiming_std": random_cases(small_fans, n=40, seed=43),
}

CORRECT = [
    (np_conv2d, convkit.conv2d, "conv2d"),
    (np_conv2d, convkit.conv2d, "conv2d_strided"),
    (np_conv2d, convkit.conv2d, "conv2d_dilated"),
    (np_conv1d, convkit.conv1d, "conv1d"),
    (np_conv1d, convkit.conv1d, "conv1d_strided"),
    (np_correlate2d, convkit.correlate2d, "correlate2d"),
    (np_convolve2d, convkit.convolve2d, "correlate2d"),
    (np_max_pool2d, convkit.max_pool2d, "max_pool2d"),
    (np_avg_pool2d, convkit.avg_pool2d, "avg_pool2d"),
    (np_avg_pool2d, convkit.avg_pool2d, "avg_pool_exclusive"),
    (np_max_pool2d_backward, convkit.max_pool2d_backward, "max_pool2d_backward"),
    (np_max_pool2d_backward, convkit.max_pool2d_backward, "max_pool2d_backward_ties"),
    (np_conv2d_backward, convkit.conv2d_backward, "conv2d_backward"),
    (np_pad2d, convkit.pad2d, "pad2d"),
    (np_output_size, convkit.output_size, "output_size"),
    (np_im2col, convkit.im2col, "im2col"),
    (np_global_avg_pool2d, convkit.global_avg_pool2d, "global_avg_pool2d"),
    (np_conv2d_params, convkit.conv2d_params, "conv2d_params"),
    (np_linear_params, convkit.linear_params, "linear_params"),
    (np_batch_norm, convkit.batch_norm, "batch_norm"),
    (np_batch_norm_backward, convkit.batch_norm_backward, "batch_norm_backward"),
    (np_group_norm, convkit.group_norm, "group_norm"),
    (np_kaiming_std, convkit.kaiming_std, "kaiming_std"),
    (np_conv2d_grouped, convkit.conv2d, "conv2d_grouped"),
    (np_conv_transpose2d, convkit.conv_transpose2d, "conv_transpose2d"),
    (np_conv_transpose2d, convkit.conv_transpose2d, "conv_transpose2d_extras"),
    (np_mask_iou, convkit.mask_iou, "mask_iou"),
]


@pytest.mark.parametrize(("student", "reference", "kind"), CORRECT,
                         ids=[f"{r.__name__}-{k}" for _, r, k in CORRECT])
def test_correct_students_pass(student, reference, kind):
    check_function(student, reference, CASES[kind])


# -- the mistaken students -------------------------------------------------------------
def or_else(wrong, right):
    """``wrong`` where it can run, ``right`` where the mistake makes no sense."""

    def student(*args, **kwargs):
        try:
            return wrong(*args, **kwargs)
        except (ValueError, IndexError):
            return right(*args, **kwargs)

    return student


def conv(change=None, result=None, impl=np_conv2d):
    """A conv student: arguments changed by ``change(dict)``, result by ``result(out, args)``."""

    def student(x, weight, bias=None, stride=1, padding=0, dilation=1):
        a = {"x": x, "weight": weight, "bias": bias, "stride": stride, "padding": padding,
             "dilation": dilation}
        if change:
            a = {**a, **change(a)}
        out = impl(a.pop("x"), a.pop("weight"), **a)
        return result(out, (x, weight, bias, stride, padding, dilation)) if result else out

    return or_else(student, impl)


def one_side(before, after, impl=np_conv2d):
    """Conv with ``before`` x padding on the top/left and ``after`` x on the bottom/right."""

    def change(a):
        ph, pw = pair(a["padding"]) if impl is np_conv2d else (0, pair(a["padding"])[0])
        pads = [(0, 0), (0, 0), (before * ph, after * ph), (before * pw, after * pw)]
        x = np.pad(a["x"], pads[-a["x"].ndim:])
        return {"x": x, "padding": 0}

    return conv(change, impl=impl)


def first_stride1_windows(impl):
    def result(out, args):
        x, weight, _, stride, padding, dilation = args
        n = len(out.shape) - 2
        sizes = [np_output_size(x.shape[2 + i], weight.shape[2 + i], pair(stride)[i] if n == 2
                                else pair(stride)[0], pair(padding)[i] if n == 2
                                else pair(padding)[0], pair(dilation)[i] if n == 2
                                else pair(dilation)[0]) for i in range(n)]
        return out[(Ellipsis, *(slice(0, s) for s in sizes))]

    return conv(lambda a: {"stride": 1}, result, impl=impl)


def swapped(value):
    return tuple(pair(value)[::-1])


def conv_extra_windows(x, weight, bias=None, stride=1, padding=0, dilation=1):
    """Counts one window position more per axis (zeros past the end)."""
    sh, sw = pair(stride)
    x = np.pad(x, [(0, 0), (0, 0), (0, sh), (0, sw)])
    return np_conv2d(x, weight, bias, stride, padding, dilation)


def pool(mode="max", **options):
    def student(x, kernel_size, stride=None, padding=0, count_include_pad=True):
        a = {"kernel_size": kernel_size, "stride": stride, "padding": padding,
             "count_include_pad": count_include_pad}
        for key, fn in options.items():
            if key in a:
                a[key] = fn(a)
        extra = options.get("extra", lambda a: (0, 0))(a)
        fill = options.get("fill", lambda a: None)(a)
        out = np_pool(x, **a, mode=options.get("mode", lambda a: mode)(a), fill=fill,
                      extra=extra)
        return options.get("result", lambda out, a: out)(out, a)

    right = np_max_pool2d if mode == "max" else np_avg_pool2d
    return or_else(student, right)


def pool_stride1_windows(mode):
    def student(x, kernel_size, stride=None, padding=0, count_include_pad=True):
        (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
        sh, sw = pair(kernel_size if stride is None else stride)
        ho = (x.shape[2] + 2 * ph - kh) // sh + 1
        wo = (x.shape[3] + 2 * pw - kw) // sw + 1
        out = np_pool(x, kernel_size, 1, padding, count_include_pad, mode=mode)
        return out[:, :, :ho, :wo]

    return student


def pool_missing(mode):
    right = np_max_pool2d if mode == "max" else np_avg_pool2d

    def student(x, kernel_size, stride=None, padding=0, count_include_pad=True):
        return right(x, kernel_size, stride, padding)[:, :, :-1, :]

    return student


def max_backward(rule="first", stride_one=False):
    def student(grad_out, x, kernel_size, stride=None, padding=0):
        return np_max_pool2d_backward(grad_out, x, kernel_size, stride, padding, rule=rule,
                                      stride_one=stride_one)

    return student


def conv_backward(change):
    def student(grad_out, x, weight, stride=1, padding=0, dilation=1):
        gx, gw, gb = np_conv2d_backward(grad_out, x, weight, stride, padding, dilation)
        return change(gx, gw, gb, (grad_out, x, weight, stride, padding, dilation))

    return student


def sample_only(index):
    def change(gx, gw, gb, args):
        g, x, weight, *settings = args
        part = slice(0, 1) if index == 0 else slice(-1, None)
        _, gw1, gb1 = np_conv2d_backward(g[part], x[part], weight, *settings)
        return gx, gw1, gb1

    return conv_backward(change)


def unrotated_grad_x(gx, gw, gb, args):
    g, x, weight, *settings = args
    return np_conv2d_backward(g, x, weight[..., ::-1, ::-1], *settings)[0], gw, gb


def padded_grad_x(grad_out, x, weight, stride=1, padding=0, dilation=1):
    return np_conv2d_backward(grad_out, x, weight, stride, padding, dilation, crop=False)


def pad_sides(arrange, form=None):
    """pad2d with (left, right, top, bottom) rearranged, for paddings of ``form`` numbers."""

    def student(x, padding, value=0.0):
        count = 1 if isinstance(padding, int) else len(padding)
        sides = lrtb(padding)
        if form is None or count == form:
            sides = arrange(sides)
        return np_pad2d(x, padding, value, sides=sides)

    return student


def pad_pair_swapped(x, padding, value=0.0):
    if not isinstance(padding, int) and len(padding) == 2:
        padding = tuple(padding[::-1])
    return np_pad2d(x, padding, value)


def size_formula(formula):
    def student(size, kernel_size, stride=1, padding=0, dilation=1):
        return formula(size, kernel_size, stride, padding, dilation)

    return student


def im2col(order=(0, 1, 4, 5, 2, 3), change=None, result=None):
    def student(x, kernel_size, stride=1, padding=0, dilation=1):
        a = {"stride": stride, "padding": padding, "dilation": dilation}
        if change:
            a.update(change)
        out = np_im2col(x, kernel_size, **a, order=order)
        return result(out) if result else out

    return or_else(student, np_im2col)


def row_major_to_column_major(x, kernel_size, stride=1, padding=0, dilation=1):
    windows = np_windows(x, kernel_size, stride, padding, dilation)
    n, c, ho, wo, kh, kw = windows.shape
    return windows.transpose(0, 1, 4, 5, 3, 2).reshape(n, c * kh * kw, ho * wo)


def gap_sums(x):
    return x.sum(axis=(2, 3))


def gap_kept(x):
    return x.mean(axis=(2, 3), keepdims=True)


C2, C1, CORR, CONV = convkit.conv2d, convkit.conv1d, convkit.correlate2d, convkit.convolve2d
MAXP, AVGP, MAXB = convkit.max_pool2d, convkit.avg_pool2d, convkit.max_pool2d_backward
CB, PAD, OUT, I2C = convkit.conv2d_backward, convkit.pad2d, convkit.output_size, convkit.im2col
BN, BNB = convkit.batch_norm, convkit.batch_norm_backward
GN, KS = convkit.group_norm, convkit.kaiming_std
CT, IOU = convkit.conv_transpose2d, convkit.mask_iou


def flip2(a):
    return {"weight": a["weight"][..., ::-1, ::-1]}


# (reference, registry label, student, case kind, text the message must contain or None
# for "your result equals <label>")
MISTAKES = [
    # conv2d
    (C2, "conv2d without the bias", conv(lambda a: {"bias": None}), "conv2d", None),
    (C2, "a true convolution (conv2d with every kernel flipped)", conv(flip2), "conv2d", None),
    (C2, "conv2d with every kernel transposed (its rows and columns exchanged)",
     conv(lambda a: {"weight": a["weight"].swapaxes(-1, -2)}), "conv2d", None),
    (C2, "conv2d of the input with its height and width exchanged",
     conv(lambda a: {"x": a["x"].swapaxes(-1, -2)}), "conv2d", None),
    (C2, "the right output with its height and width axes exchanged",
     conv(result=lambda out, args: out.swapaxes(-1, -2)), "conv2d", None),
    (C2, "conv2d with stride 1 (the stride ignored)", conv(lambda a: {"stride": 1}),
     "conv2d_strided", None),
    (C2, "the first windows of the stride-1 conv2d (windows one pixel apart)",
     first_stride1_windows(np_conv2d), "conv2d_strided", None),
    (C2, "conv2d with the strides of height and width exchanged",
     conv(lambda a: {"stride": swapped(a["stride"])}), "conv2d_strided", None),
    (C2, "conv2d without the padding", conv(lambda a: {"padding": 0}), "conv2d_strided", None),
    (C2, "conv2d with all the padding on the bottom and right (x copied into the top and left "
     "corner of the padded array)", one_side(0, 2), "conv2d_strided", None),
    (C2, "conv2d with all the padding on the top and left", one_side(2, 0), "conv2d_strided",
     None),
    (C2, "conv2d with padding zeros on the top and left only", one_side(1, 0),
     "conv2d_strided", None),
    (C2, "conv2d with padding zeros on the bottom and right only", one_side(0, 1),
     "conv2d_strided", None),
    (C2, "conv2d with the paddings of height and width exchanged",
     conv(lambda a: {"padding": swapped(a["padding"])}), "conv2d_strided", None),
    (C2, "conv2d without the dilation", conv(lambda a: {"dilation": 1}), "conv2d_dilated",
     None),
    (C2, "the right output plus one extra row or column", or_else(conv_extra_windows, np_conv2d),
     "conv2d", "the right output plus one extra row and one extra column"),
    (C2, "the right output without its last row or column",
     conv(result=lambda out, args: out[..., :-1]), "conv2d",
     "the right output without its last column"),
    # conv1d
    (C1, "conv1d without the bias", conv(lambda a: {"bias": None}, impl=np_conv1d), "conv1d",
     None),
    (C1, "a true convolution (conv1d with every kernel flipped)",
     conv(lambda a: {"weight": a["weight"][..., ::-1]}, impl=np_conv1d), "conv1d", None),
    (C1, "conv1d with stride 1 (the stride ignored)",
     conv(lambda a: {"stride": 1}, impl=np_conv1d), "conv1d_strided", None),
    (C1, "the first windows of the stride-1 conv1d (windows one pixel apart)",
     first_stride1_windows(np_conv1d), "conv1d_strided", None),
    (C1, "conv1d without the padding", conv(lambda a: {"padding": 0}, impl=np_conv1d),
     "conv1d_strided", None),
    (C1, "conv1d with all the padding on the right (x copied into the left corner of the "
     "padded array)", one_side(0, 2, np_conv1d), "conv1d_strided", None),
    (C1, "conv1d with all the padding on the left", one_side(2, 0, np_conv1d),
     "conv1d_strided", None),
    (C1, "conv1d with padding zeros on the left only", one_side(1, 0, np_conv1d),
     "conv1d_strided", None),
    (C1, "conv1d with padding zeros on the right only", one_side(0, 1, np_conv1d),
     "conv1d_strided", None),
    (C1, "conv1d without the dilation", conv(lambda a: {"dilation": 1}, impl=np_conv1d),
     "conv1d_strided", None),
    (C1, "the right output plus one extra entry",
     conv(lambda a: {"x": np.pad(a["x"], [(0, 0), (0, 0), (0, 1)])}, impl=np_conv1d),
     "conv1d", None),
    (C1, "the right output without its last entry",
     conv(result=lambda out, args: out[..., :-1], impl=np_conv1d), "conv1d", None),
    # correlate2d
    (CORR, "convolve2d (the kernel flipped)", np_convolve2d, "correlate2d", None),
    (CORR, "a cross-correlation with the kernel flipped upside down only (its rows reversed)",
     lambda image, kernel: np_correlate2d(image, kernel[::-1]), "correlate2d_2x2", None),
    (CORR, "a cross-correlation with the kernel flipped left to right only (its columns "
     "reversed)", lambda image, kernel: np_correlate2d(image, kernel[:, ::-1]),
     "correlate2d_2x2", None),
    (CORR, "correlate2d with the kernel transposed",
     or_else(lambda image, kernel: np_correlate2d(image, kernel.T), np_correlate2d),
     "correlate2d", None),
    (CORR, "correlate2d of the image with its height and width exchanged",
     or_else(lambda image, kernel: np_correlate2d(image.T, kernel), np_correlate2d),
     "correlate2d", None),
    (CORR, "the right output transposed (its rows and columns exchanged)",
     lambda image, kernel: np_correlate2d(image, kernel).T, "correlate2d", None),
    (CORR, "the right output plus one extra row or column",
     lambda image, kernel: np_correlate2d(np.pad(image, [(0, 1), (0, 0)]), kernel),
     "correlate2d", "the right output plus one extra row"),
    (CORR, "the right output without its last row or column",
     lambda image, kernel: np_correlate2d(image, kernel)[:-1, :-1], "correlate2d",
     "the right output without its last row and its last column"),
    # convolve2d
    (CONV, "correlate2d (the kernel not flipped)", np_correlate2d, "correlate2d", None),
    (CONV, "a cross-correlation with the kernel flipped upside down only (its rows reversed)",
     lambda image, kernel: np_correlate2d(image, kernel[::-1]), "correlate2d_2x2", None),
    (CONV, "a cross-correlation with the kernel flipped left to right only (its columns "
     "reversed)", lambda image, kernel: np_correlate2d(image, kernel[:, ::-1]),
     "correlate2d_2x2", None),
    (CONV, "a cross-correlation with the kernel transposed (kernel.T mirrors along the "
     "diagonal, it is not a flip)",
     or_else(lambda image, kernel: np_correlate2d(image, kernel.T), np_convolve2d),
     "correlate2d", None),
    (CONV, "convolve2d of the image with its height and width exchanged",
     or_else(lambda image, kernel: np_convolve2d(image.T, kernel), np_convolve2d),
     "correlate2d", None),
    (CONV, "the right output transposed (its rows and columns exchanged)",
     lambda image, kernel: np_convolve2d(image, kernel).T, "correlate2d", None),
    (CONV, "the right output plus one extra row or column",
     lambda image, kernel: np_convolve2d(np.pad(image, [(0, 0), (0, 1)]), kernel),
     "correlate2d", "the right output plus one extra column"),
    (CONV, "the right output without its last row or column",
     lambda image, kernel: np_convolve2d(image, kernel)[:-1], "correlate2d",
     "the right output without its last row"),
    # max_pool2d
    (MAXP, "avg_pool2d with the same windows (the mean instead of the maximum)",
     pool(mode="mean"), "max_pool2d", None),
    (MAXP, "max_pool2d with stride 1 (windows one pixel apart)", pool(stride=lambda a: 1),
     "max_pool2d", None),
    (MAXP, "the first windows of the stride-1 max_pool2d (windows one pixel apart)",
     pool_stride1_windows("max"), "max_pool2d", None),
    (MAXP, "max_pool2d with the kernel's height and width exchanged",
     pool(kernel_size=lambda a: swapped(a["kernel_size"])), "max_pool2d", None),
    (MAXP, "max_pool2d with the strides of height and width exchanged",
     pool(stride=lambda a: swapped(a["kernel_size"] if a["stride"] is None else a["stride"])),
     "max_pool2d", None),
    (MAXP, "max_pool2d without the padding", pool(padding=lambda a: 0), "max_pool2d", None),
    (MAXP, "max_pool2d over zero padding (padding that counts as 0)", pool(fill=lambda a: 0.0),
     "max_pool2d", None),
    (MAXP, "max_pool2d with the paddings of height and width exchanged",
     pool(padding=lambda a: swapped(a["padding"])), "max_pool2d", None),
    (MAXP, "the right output plus one extra row or column",
     pool(extra=lambda a: pair(a["kernel_size"] if a["stride"] is None else a["stride"])),
     "max_pool2d", "the right output plus one extra row and one extra column"),
    (MAXP, "the right output without its last row or column", pool_missing("max"),
     "max_pool2d", "the right output without its last row"),
    # avg_pool2d
    (AVGP, "max_pool2d with the same windows (the maximum instead of the mean)",
     pool(mode="max"), "avg_pool2d", None),
    (AVGP, "the window sums (the sum instead of the mean)", pool(mode="sum"), "avg_pool2d",
     None),
    (AVGP, "avg_pool2d dividing by the number of real pixels (the padding left out of the "
     "divisor)", pool(mode="mean", count_include_pad=lambda a: False), "avg_pool2d", None),
    (AVGP, "avg_pool2d dividing by kh*kw (the padding counted in the divisor)",
     pool(mode="mean", count_include_pad=lambda a: True), "avg_pool_exclusive", None),
    (AVGP, "avg_pool2d with stride 1 (windows one pixel apart)",
     pool(mode="mean", stride=lambda a: 1), "avg_pool2d", None),
    (AVGP, "the first windows of the stride-1 avg_pool2d (windows one pixel apart)",
     pool_stride1_windows("mean"), "avg_pool2d", None),
    (AVGP, "avg_pool2d with the kernel's height and width exchanged",
     pool(mode="mean", kernel_size=lambda a: swapped(a["kernel_size"])), "avg_pool2d", None),
    (AVGP, "avg_pool2d with the strides of height and width exchanged",
     pool(mode="mean", stride=lambda a: swapped(a["kernel_size"] if a["stride"] is None
                                                else a["stride"])), "avg_pool2d", None),
    (AVGP, "avg_pool2d without the padding", pool(mode="mean", padding=lambda a: 0),
     "avg_pool2d", None),
    (AVGP, "avg_pool2d with the paddings of height and width exchanged",
     pool(mode="mean", padding=lambda a: swapped(a["padding"])), "avg_pool2d", None),
    (AVGP, "the right output plus one extra row or column",
     pool(mode="mean", extra=lambda a: (pair(a["kernel_size"] if a["stride"] is None
                                             else a["stride"])[0], 0)),
     "avg_pool2d", "the right output plus one extra row"),
    (AVGP, "the right output without its last row or column", pool_missing("mean"),
     "avg_pool2d", "the right output without its last row"),
    # max_pool2d_backward
    (MAXB, "the gradient sent to the last maximum of each window where values tie",
     max_backward("last"), "max_pool2d_backward_ties", None),
    (MAXB, "the gradient split evenly among tied maxima", max_backward("split"),
     "max_pool2d_backward_ties", None),
    (MAXB, "the whole gradient given to every tied maximum", max_backward("all"),
     "max_pool2d_backward_ties", None),
    (MAXB, "the gradient spread evenly over each window (average pooling's gradient)",
     max_backward("spread"), "max_pool2d_backward", None),
    (MAXB, "the gradient with overlapping windows overwriting each other (= instead of +=)",
     max_backward("overwrite"), "max_pool2d_backward_ties", None),
    (MAXB, "the gradient routed through windows one pixel apart (the stride ignored)",
     or_else(max_backward(stride_one=True), np_max_pool2d_backward), "max_pool2d_backward",
     None),
    # conv2d_backward (the message names the item: grad_x, grad_weight or grad_bias)
    (CB, "the gradient of the first sample of the batch only", sample_only(0),
     "conv2d_backward", "your grad_weight equals the gradient of the first sample"),
    (CB, "the gradient of the last sample of the batch only", sample_only(-1),
     "conv2d_backward", "your grad_weight equals the gradient of the last sample"),
    (CB, "the gradient averaged over the batch instead of summed",
     conv_backward(lambda gx, gw, gb, args: (gx, gw / len(gx), gb / len(gx))),
     "conv2d_backward", "your grad_weight equals the gradient averaged over the batch"),
    (CB, "grad_out summed over the batch only (not over the positions)",
     conv_backward(lambda gx, gw, gb, args: (gx, gw, args[0].sum(axis=0))), "conv2d_backward",
     "your grad_bias equals grad_out summed over the batch only"),
    (CB, "grad_out summed over the positions only (not over the batch)",
     conv_backward(lambda gx, gw, gb, args: (gx, gw, args[0].sum(axis=(2, 3)))),
     "conv2d_backward", "your grad_bias equals grad_out summed over the positions only"),
    (CB, "grad_out averaged over the positions instead of summed",
     conv_backward(lambda gx, gw, gb, args: (gx, gw, args[0].mean(axis=(2, 3)).sum(axis=0))),
     "conv2d_backward", "your grad_bias equals grad_out averaged over the positions"),
    (CB, "the right weight gradient flipped in both spatial axes",
     conv_backward(lambda gx, gw, gb, args: (gx, gw[..., ::-1, ::-1], gb)), "conv2d_backward",
     "your grad_weight equals the right weight gradient flipped"),
    (CB, "the input gradient of a full cross-correlation with each kernel as it is (not "
     "rotated by 180°)", conv_backward(unrotated_grad_x), "conv2d_backward",
     "your grad_x equals the input gradient of a full cross-correlation"),
    (CB, "the gradient of the padded input (its padding border not cut off)", padded_grad_x,
     "conv2d_backward", "your grad_x equals the gradient of the padded input"),
    # pad2d
    (PAD, "pad2d with the pair read as (pw, ph)", pad_pair_swapped, "pad2d", None),
    (PAD, "pad2d with the 4-tuple read as (top, bottom, left, right)",
     pad_sides(lambda p: (p[2], p[3], p[0], p[1]), 4), "pad2d", None),
    (PAD, "pad2d with the 4-tuple read as (left, top, right, bottom)",
     pad_sides(lambda p: (p[0], p[2], p[1], p[3]), 4), "pad2d", None),
    (PAD, "pad2d with the left and right paddings exchanged",
     pad_sides(lambda p: (p[1], p[0], p[2], p[3])), "pad2d", None),
    (PAD, "pad2d with the top and bottom paddings exchanged",
     pad_sides(lambda p: (p[0], p[1], p[3], p[2])), "pad2d", None),
    (PAD, "pad2d filling with 0 instead of value",
     lambda x, padding, value=0.0: np_pad2d(x, padding), "pad2d", None),
    (PAD, "pad2d padding the top and left only", pad_sides(lambda p: (p[0], 0, p[2], 0)),
     "pad2d", None),
    (PAD, "pad2d padding the bottom and right only", pad_sides(lambda p: (0, p[1], 0, p[3])),
     "pad2d", None),
    (PAD, "pad2d padding the rows only (above and below, not left and right)",
     pad_sides(lambda p: (0, 0, p[2], p[3])), "pad2d", None),
    (PAD, "pad2d padding the columns only (left and right, not above and below)",
     pad_sides(lambda p: (p[0], p[1], 0, 0)), "pad2d", None),
    # output_size
    (OUT, "the output size rounded up instead of down",
     size_formula(lambda n, k, s, p, d: -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1),
     "output_size", None),
    (OUT, "the output size with the padding added on one side only",
     size_formula(lambda n, k, s, p, d: (n + p - d * (k - 1) - 1) // s + 1), "output_size",
     None),
    (OUT, "the output size without the padding",
     size_formula(lambda n, k, s, p, d: (n - d * (k - 1) - 1) // s + 1), "output_size", None),
    (OUT, "the output size of the undilated kernel (the dilation ignored)",
     size_formula(lambda n, k, s, p, d: (n + 2 * p - k) // s + 1), "output_size", None),
    (OUT, "the output size with the dilated window counted dilation*kernel_size wide",
     size_formula(lambda n, k, s, p, d: (n + 2 * p - d * k) // s + 1), "output_size", None),
    (OUT, "the output size for stride 1 (the stride ignored)",
     size_formula(lambda n, k, s, p, d: n + 2 * p - d * (k - 1)), "output_size", None),
    (OUT, "one more than the right size",
     size_formula(lambda *a: np_output_size(*a) + 1), "output_size_plain", None),
    (OUT, "one less than the right size",
     size_formula(lambda *a: np_output_size(*a) - 1), "output_size_plain", None),
    # im2col
    (I2C, "im2col with the rows ordered (kernel row, kernel column, channel)",
     im2col(order=(0, 4, 5, 1, 2, 3)), "im2col", None),
    (I2C, "im2col with the kernel offsets ordered column by column",
     im2col(order=(0, 1, 5, 4, 2, 3)), "im2col", None),
    (I2C, "im2col with the window positions ordered column by column",
     row_major_to_column_major, "im2col", None),
    (I2C, "the right columns transposed (shape (N, L, C*kh*kw))",
     im2col(result=lambda cols: cols.transpose(0, 2, 1)), "im2col", None),
    (I2C, "im2col with stride 1 (the stride ignored)", im2col(change={"stride": 1}), "im2col",
     None),
    (I2C, "im2col without the padding", im2col(change={"padding": 0}), "im2col", None),
    # global_avg_pool2d, parameter counts
    (convkit.global_avg_pool2d, "the sum over each channel's positions (not the mean)",
     gap_sums, "global_avg_pool2d", None),
    (convkit.global_avg_pool2d, "the right means with the spatial axes kept (shape (N, C, 1, 1))",
     gap_kept, "global_avg_pool2d", None),
    (convkit.conv2d_params, "the count without the bias",
     lambda i, o, k, bias=True: np_conv2d_params(i, o, k, False), "conv2d_params", None),
    (convkit.conv2d_params, "the count with one kernel slice per output channel (the input "
     "channels left out)", lambda i, o, k, bias=True: np_conv2d_params(1, o, k, bias),
     "conv2d_params", None),
    (convkit.linear_params, "the count without the bias",
     lambda i, o, bias=True: np_linear_params(i, o, False), "linear_params", None),
    # batch_norm (its output; the running statistics: test_grading_normalization.py)
    (BN, "batch norm with the unbiased variance (divided by m - 1)", batch_norm_with("unbiased"),
     "batch_norm", None),
    (BN, "statistics taken per sample (over C and the positions)",
     batch_norm_with("per_sample"), "batch_norm", None),
    (BN, "statistics taken over the batch axis only (one per channel and position)",
     batch_norm_with("batch_only"), "batch_norm", None),
    (BN, "batch norm with the running statistics in training mode", batch_norm_with("running"),
     "batch_norm", None),
    (BN, "batch norm with the batch's statistics in eval mode", batch_norm_with("batch"),
     "batch_norm", None),
    (BN, "batch norm with eps added to the standard deviation", batch_norm_with("std_eps"),
     "batch_norm", None),
    (BN, "batch norm without the weight and the bias", batch_norm_with("no_affine"),
     "batch_norm", None),
    (BN, "batch norm without the weight", batch_norm_with("no_weight"), "batch_norm", None),
    (BN, "batch norm without the bias", batch_norm_with("no_bias"), "batch_norm", None),
    (BN, "batch norm with weight and bias exchanged", batch_norm_with("swap"), "batch_norm",
     None),
    # batch_norm_backward (the message names the item)
    (BNB, "the eval-mode gradient (the batch's mean and variance held constant)",
     batch_norm_backward_with("constant_stats"), "batch_norm_backward",
     "your grad_x equals the eval-mode gradient"),
    (BNB, "the gradient without the path through the variance",
     batch_norm_backward_with("no_variance_term"), "batch_norm_backward",
     "your grad_x equals the gradient without the path through the variance"),
    (BNB, "the gradient without the path through the mean",
     batch_norm_backward_with("no_mean_term"), "batch_norm_backward",
     "your grad_x equals the gradient without the path through the mean"),
    (BNB, "the training-mode gradient in eval mode", batch_norm_backward_with("training_in_eval"),
     "batch_norm_backward", "your grad_x equals the training-mode gradient in eval mode"),
    (BNB, "the right gradient without the factor weight", batch_norm_backward_with("no_gamma"),
     "batch_norm_backward", "your grad_x equals the right gradient without the factor weight"),
    (BNB, "the sum of grad_out * x, not grad_out * xhat",
     batch_norm_backward_with("weight_from_x"), "batch_norm_backward",
     "your grad_weight equals the sum of grad_out * x"),
    (BNB, "the gradients of the first sample of the batch only",
     batch_norm_backward_with("first_sample"), "batch_norm_backward",
     "your grad_weight equals the gradients of the first sample"),
    (BNB, "the gradients averaged instead of summed", batch_norm_backward_with("averaged"),
     "batch_norm_backward", "your grad_weight equals the gradients averaged"),
    (BNB, "grad_out summed over the batch only (not over the positions)",
     batch_norm_backward_with("bias_batch_only"), "batch_norm_backward",
     "your grad_bias equals grad_out summed over the batch only"),
    (BNB, "the right gradients times weight", batch_norm_backward_with("with_gamma"),
     "batch_norm_backward", "your grad_weight equals the right gradients times weight"),
    # group_norm
    (GN, "group norm with each group made of every G-th channel", group_norm_with("interleaved"),
     "group_norm", None),
    (GN, "instance norm (every channel a group of its own)", group_norm_with("instance"),
     "group_norm", None),
    (GN, "layer norm (all channels in one group)", group_norm_with("layer"), "group_norm", None),
    (GN, "group norm with statistics shared by the whole batch",
     group_norm_with("across_batch"), "group_norm", None),
    (GN, "group norm with the unbiased variance (divided by the count minus one)",
     group_norm_with("unbiased"), "group_norm", None),
    (GN, "group norm with eps added to the standard deviation", group_norm_with("std_eps"),
     "group_norm", None),
    (GN, "group norm without the weight and the bias", group_norm_with("no_affine"),
     "group_norm", None),
    (GN, "group norm without the weight", group_norm_with("no_weight"), "group_norm", None),
    (GN, "group norm without the bias", group_norm_with("no_bias"), "group_norm", None),
    # kaiming_std
    (KS, "the std for the other mode", kaiming_with("other_mode"), "kaiming_std", None),
    (KS, "the std with a fan that leaves out the kernel's size", kaiming_with("no_kernel"),
     "kaiming_std", None),
    (KS, "the std with plain ReLU's gain for a leaky ReLU", kaiming_with("relu_gain"),
     "kaiming_std", None),
    (KS, "the std for a leaky ReLU of slope 0.01", kaiming_with("default_slope"),
     "kaiming_std", None),
    (KS, "the std without the nonlinearity's gain (a gain of 1)", kaiming_with("no_gain"),
     "kaiming_std", None),
    (KS, "the variance, not the standard deviation", kaiming_with("variance"), "kaiming_std",
     None),
    (KS, "gain / fan, without the square root", kaiming_with("no_sqrt"), "kaiming_std", None),
    (KS, "the bound of kaiming_uniform_, not the std of kaiming_normal_",
     kaiming_with("uniform"), "kaiming_std", None),
    (KS, "Xavier's std (both fans averaged)", kaiming_with("xavier"), "kaiming_std", None),
    # conv2d with groups (ch12)
    (C2, "conv2d with the input channels dealt to the groups in turn (channel c in group c "
     "% groups)", grouped_with("inputs_dealt"), "conv2d_grouped", None),
    (C2, "conv2d with the output channels dealt to the groups in turn (output channel o from "
     "group o % groups)", grouped_with("outputs_dealt"), "conv2d_grouped", None),
    (C2, "conv2d with every group reading the first group's input channels",
     grouped_with("first_inputs"), "conv2d_grouped", None),
    (C2, "conv2d with every group using the first group's kernels",
     grouped_with("first_kernels"), "conv2d_grouped", None),
    # conv_transpose2d (ch12)
    (CT, "conv_transpose2d without the bias", transpose_with("no_bias"), "conv_transpose2d",
     None),
    (CT, "conv_transpose2d with every kernel flipped (rotated by 180°)",
     transpose_with("flipped"), "conv_transpose2d", None),
    (CT, "conv_transpose2d with weight[c, o] read as weight[o, c] (its first two axes "
     "exchanged)", transpose_with("swapped"), "conv_transpose2d_extras", None),
    (CT, "conv_transpose2d with every kernel flipped and weight's first two axes exchanged",
     transpose_with("flipped_swapped"), "conv_transpose2d_extras", None),
    (CT, "conv_transpose2d without the output_padding", transpose_with("no_output_padding"),
     "conv_transpose2d", None),
    (CT, "conv_transpose2d with the output_padding rows and columns filled with zeros",
     transpose_with("op_after"), "conv_transpose2d", None),
    (CT, "conv_transpose2d with output_padding zeros on every side", transpose_with("op_around"),
     "conv_transpose2d", None),
    (CT, "conv_transpose2d with padding zeros added around the output",
     transpose_with("padding_added"), "conv_transpose2d", None),
    (CT, "conv_transpose2d without the padding (nothing cut from the sides)",
     transpose_with("no_padding"), "conv_transpose2d", None),
    (CT, "conv_transpose2d without the dilation", transpose_with("no_dilation"),
     "conv_transpose2d_extras", None),
    (CT, "conv_transpose2d with the groups ignored (every input channel scattering into the "
     "first C_out / groups output channels)", transpose_with("no_groups"),
     "conv_transpose2d_extras", None),
    (CT, "the right output plus one extra row or column", transpose_with("extra_row"),
     "conv_transpose2d", "equals the right output plus one extra row: "),
    (CT, "the right output without its last row or column", transpose_with("missing_column"),
     "conv_transpose2d", "equals the right output without its last column: "),
    # mask_iou (ch12)
    (IOU, "the intersection divided by the target's area (the recall)", iou_with("recall"),
     "mask_iou", None),
    (IOU, "the intersection divided by the prediction's area (the precision)",
     iou_with("precision"), "mask_iou", None),
    (IOU, "the Dice coefficient 2 |pred & target| / (|pred| + |target|)", iou_with("dice"),
     "mask_iou", None),
    (IOU, "the intersection divided by |pred| + |target| (the pixels in both masks counted "
     "twice)", iou_with("areas"), "mask_iou", None),
    (IOU, "the IoU of all the images' pixels pooled, not one IoU per image", iou_with("pooled"),
     "mask_iou", None),
    (IOU, "the mean of the per-image IoUs", iou_with("mean_images"), "mask_iou", None),
    (IOU, "the IoU with 0 where both masks are empty", iou_with("zero_empty"), "mask_iou", None),
    (IOU, "the IoU with NaN where both masks are empty (0 / 0)", iou_with("nan_empty"),
     "mask_iou", None),
]


@pytest.mark.parametrize(("reference", "label", "student", "kind", "text"), MISTAKES,
                         ids=[f"{m[0].__name__}: {m[1]}" for m in MISTAKES])
def test_every_known_mistake_is_named(reference, label, student, kind, text):
    with pytest.raises(GradingFailure) as info:
        check_function(student, reference, CASES[kind])
    message = str(info.value)
    want = text or f"equals {label}: "
    assert want in message, message
    hint = next(m.hint for m in mistakes_of(reference) if m.label == label)
    assert f": {hint}." in message, message
    # the usual message comes first, unchanged: the call, then what differs
    assert message.index(NOTE) > message.index("expected")


def test_every_registered_mistake_has_a_test():
    registered = {(op.fn, m.label) for op in mistakes.REGISTRY for m in op.mistakes}
    tested = {(ref, label) for ref, label, *_ in MISTAKES}
    assert tested == registered
    assert len(MISTAKES) == len(tested)  # no label tested twice for one operation


def test_every_graded_operation_has_known_mistakes():
    graded = [convkit.conv2d, convkit.conv1d, convkit.correlate2d, convkit.convolve2d,
              convkit.max_pool2d, convkit.avg_pool2d, convkit.max_pool2d_backward,
              convkit.conv2d_backward, convkit.pad2d, convkit.output_size, convkit.im2col,
              convkit.conv_transpose2d, convkit.mask_iou]
    assert all(mistakes_of(fn) for fn in graded)
    assert mistakes_of(convkit.receptive_field) == ()


def test_labels_and_hints_are_distinct_per_operation():
    for op in mistakes.REGISTRY:
        labels = [m.label for m in op.mistakes]
        assert len(set(labels)) == len(labels), op.fn.__name__
        assert all(m.hint and not m.hint.endswith(".") for m in op.mistakes)
        # the fallbacks (a size off by one) come last: they are named only if nothing
        # more specific matches
        flags = [m.fallback for m in op.mistakes]
        assert flags == sorted(flags), op.fn.__name__


# -- named only when it is the mistake made -------------------------------------------
UNRELATED = [
    (lambda *a, **k: np_conv2d(*a, **k) + 1, convkit.conv2d, "conv2d_strided"),
    (lambda *a, **k: np_conv1d(*a, **k) * 2, convkit.conv1d, "conv1d"),
    (lambda image, kernel: np_correlate2d(image, kernel) - 0.5, convkit.correlate2d,
     "correlate2d"),
    (lambda *a, **k: np_max_pool2d(*a, **k) + 1, convkit.max_pool2d, "max_pool2d"),
    (lambda *a, **k: np_avg_pool2d(*a, **k) + 1, convkit.avg_pool2d, "avg_pool2d"),
    (lambda *a, **k: np_max_pool2d_backward(*a, **k) * 3, convkit.max_pool2d_backward,
     "max_pool2d_backward"),
    (lambda *a, **k: tuple(v + 1 for v in np_conv2d_backward(*a, **k)),
     convkit.conv2d_backward, "conv2d_backward"),
    (lambda x, padding, value=0.0: np_pad2d(x, padding, value + 1), convkit.pad2d, "pad2d"),
    (lambda *a, **k: np_output_size(*a, **k) + 2, convkit.output_size, "output_size_plain"),
    (lambda *a, **k: np_im2col(*a, **k) + 1, convkit.im2col, "im2col"),
    (lambda *a, **k: np_batch_norm(*a, **k) * 1.5 + 0.25, convkit.batch_norm, "batch_norm"),
    (lambda *a, **k: tuple(v + 1 for v in np_batch_norm_backward(*a, **k)),
     convkit.batch_norm_backward, "batch_norm_backward"),
    (lambda *a, **k: np_group_norm(*a, **k) + 0.5, convkit.group_norm, "group_norm"),
    (lambda *a, **k: np_kaiming_std(*a, **k) * 1.1, convkit.kaiming_std, "kaiming_std"),
    (lambda *a, **k: np_conv2d_grouped(*a, **k) + 1, convkit.conv2d, "conv2d_grouped"),
    (lambda *a, **k: np_conv_transpose2d(*a, **k) * 2, convkit.conv_transpose2d,
     "conv_transpose2d_extras"),
    (lambda *a, **k: np_mask_iou(*a, **k) * 0.5, convkit.mask_iou, "mask_iou"),
]


@pytest.mark.parametrize(("student", "reference", "kind"), UNRELATED,
                         ids=[r.__name__ for _, r, _ in UNRELATED])
def test_an_unrelated_wrong_answer_names_no_mistake(student, reference, kind):
    with pytest.raises(GradingFailure) as info:
        check_function(student, reference, CASES[kind])
    assert NOTE not in str(info.value) and "equals" not in str(info.value)


def test_a_mistake_equal_to_the_right_answer_is_never_named():
    rng = np.random.default_rng(5)
    x, w = rng.normal(size=(2, 2, 5, 6)), rng.normal(size=(3, 2, 3, 3))
    symmetric = w + w[..., ::-1, ::-1] + w.swapaxes(-1, -2) + w[..., ::-1, ::-1].swapaxes(-1, -2)
    for args, kwargs in [
        ((x, w), {}),  # no bias: "without the bias" gives the right answer
        ((x, symmetric), {"bias": np.ones(3)}),  # flipping or transposing changes nothing
        ((x, w), {"stride": 1, "padding": 0, "dilation": 1}),
    ]:
        right = convkit.conv2d(*args, **kwargs)
        # the student's result equals those mistakes' results, and is right: nothing named
        assert named_mistake(convkit.conv2d, args, kwargs, right) is None
    g = rng.normal(size=(1, 3, 3, 4))
    right = convkit.conv2d_backward(g, x[:1], w)
    assert named_mistake(convkit.conv2d_backward, (g, x[:1], w), {}, right) is None
    assert named_mistake(convkit.output_size, (10, 3), {"stride": 1}, 8) is None


def test_a_student_who_forgets_the_bias_passes_the_cases_without_one():
    cases = [case for case in CASES["conv2d"] if "bias" not in case[1]]
    assert cases
    check_function(conv(lambda a: {"bias": None}), convkit.conv2d, cases)


def test_mistakes_with_the_same_numbers_are_all_named_and_fallbacks_give_way():
    # size 10, kernel 3, stride 1, padding 1, dilation 2: the right size is 8; padding
    # on one side only and a window dilation*kernel_size wide both give 7 (one less)
    args, kwargs = (10, 3), {"stride": 1, "padding": 1, "dilation": 2}
    message = named_mistake(convkit.output_size, args, kwargs, 7)
    assert message.startswith(
        "your result equals the output size with the padding added on one side only: ")
    assert ". It also equals the output size with the dilated window counted " \
        "dilation*kernel_size wide: " in message
    assert "one less than the right size" not in message  # the fallback gives way
    message = named_mistake(convkit.output_size, args, kwargs, 9)
    assert message.startswith("your result equals one more than the right size: ")


def test_the_message_reads_as_documented():
    x = np.arange(32.0).reshape(1, 2, 4, 4) / 8
    w = np.ones((3, 2, 2, 2)) / 4
    bias = np.array([0.5, -1.0, 2.0])
    with pytest.raises(GradingFailure) as info:
        check_function(conv(lambda a: {"bias": None}), convkit.conv2d, [((x, w), {"bias": bias})])
    assert str(info.value).endswith(
        " — your result equals conv2d without the bias: add bias[o] to every entry of output "
        "channel o."
    )
    # the example in compare.py's docstring
    assert str(info.value).startswith(
        "conv2d(x of shape (1, 2, 4, 4), weight of shape (3, 2, 2, 2), bias=[0.5, -1.0, 2.0]): "
        "values differ at index (0, 0, 0, 0): expected 3.125, got 2.625 (max abs difference "
        "2.0 over 27 of 27 entries) — your result"
    )


def test_tuple_results_name_the_mistake_in_the_reported_item():
    with pytest.raises(GradingFailure) as info:
        check_function(sample_only(0), convkit.conv2d_backward, CASES["conv2d_backward"])
    message = str(info.value)
    assert "in result[1] (item 2 of 3): values differ" in message
    assert "your grad_weight equals the gradient of the first sample of the batch only" in message


# -- naming a mistake never changes the grade or hides the message ----------------------
def plain_message(student, reference, cases, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(mistakes, "REGISTRY", ())
        with pytest.raises(GradingFailure) as info:
            check_function(student, reference, cases)
    return str(info.value)


def test_a_raising_mistake_computation_changes_nothing(monkeypatch):
    student, cases = conv(lambda a: {"bias": None}), CASES["conv2d"]
    plain = plain_message(student, convkit.conv2d, cases, monkeypatch)
    assert NOTE not in plain

    def boom(*args):
        raise RuntimeError("mistake computation failed")

    broken = mistakes.Operation(convkit.conv2d, ("x", "weight", "bias", "stride", "padding",
                                                 "dilation"),
                                {"bias": None, "stride": 1, "padding": 0, "dilation": 1},
                                (Mistake("anything", "nothing", boom),
                                 Mistake("anything else", "nothing", match_fn=boom)))
    monkeypatch.setattr(mistakes, "REGISTRY", (broken,))
    with pytest.raises(GradingFailure) as info:
        check_function(student, convkit.conv2d, cases)
    assert str(info.value) == plain
    check_function(np_conv2d, convkit.conv2d, cases)  # a correct student still passes


def test_a_raising_named_mistake_changes_nothing(monkeypatch):
    student, cases = conv(lambda a: {"bias": None}), CASES["conv2d"]
    plain = plain_message(student, convkit.conv2d, cases, monkeypatch)

    def boom(*args, **kwargs):
        raise ValueError("broken")

    monkeypatch.setattr(compare_module, "named_mistake", boom)
    with pytest.raises(GradingFailure) as info:
        check_function(student, convkit.conv2d, cases)
    assert str(info.value) == plain
    monkeypatch.setattr(compare_module, "named_mistake", lambda *a, **k: 42)  # not a str
    with pytest.raises(GradingFailure) as info:
        check_function(student, convkit.conv2d, cases)
    assert str(info.value) == plain


def test_the_case_is_not_modified_by_naming_a_mistake():
    (x, w), kwargs = CASES["conv2d_strided"][0]
    before = (x.copy(), w.copy(), {k: np.copy(v) for k, v in kwargs.items()})
    got = np_conv2d(x, w[..., ::-1, ::-1], **kwargs)
    assert "true convolution" in named_mistake(convkit.conv2d, (x, w), kwargs, got)
    assert np.array_equal(x, before[0]) and np.array_equal(w, before[1])


def test_replaced_operations_name_no_mistakes(monkeypatch):
    monkeypatch.setattr(convkit, "pad2d", lambda x, padding, value=0.0: x)
    assert mistakes._build() == ()


def test_route_max_gradient_first_rule_is_the_reference():
    for kind in ("max_pool2d_backward", "max_pool2d_backward_ties"):
        for (g, x, kernel), kwargs in CASES[kind]:
            stride = kwargs.get("stride", kernel)
            got = route_max_gradient(g, x, pair(kernel), pair(stride),
                                     pair(kwargs.get("padding", 0)), "first")
            np.testing.assert_allclose(got, convkit.max_pool2d_backward(g, x, kernel, **kwargs))


@pytest.mark.parametrize(("student", "reference", "kind"), CORRECT,
                         ids=[f"{r.__name__}-{k}" for _, r, k in CORRECT])
def test_named_mistake_runs_cleanly_on_every_case(student, reference, kind):
    """Called directly (check_function would hide an exception): every case of every
    operation is handled, and a result shifted by a constant names nothing."""
    for args, kwargs in CASES[kind]:
        right = reference(*args, **kwargs)
        if isinstance(right, tuple):
            shifted = tuple(item + 1.5 for item in right)
        elif isinstance(right, int):
            shifted = right + 7
        else:
            shifted = right + 1.5
        assert named_mistake(reference, args, kwargs, shifted) is None
        assert named_mistake(reference, args, kwargs, right) is None
