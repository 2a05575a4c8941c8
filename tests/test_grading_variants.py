"""Tests of ch12's grading: the cases of conv2d with groups, conv_transpose2d and mask_iou,
the grading of a cost counter (layer_costs) against torch's FLOP formulas, the guard's rule
against torch's own cost counters, and the shortcuts each graded function must not take.

The "students" are what a student might write: honest ones pass (a transposed convolution
scattered directly or built on the student's own conv2d, a cost counter that runs the
model or one that works the shapes out by formula), every route to torch's transposed
convolution, its FLOP counter or profilers, or convkit's references is refused with a
message that says what was refused, and each known mistake of a cost counter is named.
The mistakes of conv2d, conv_transpose2d and mask_iou are tested with the others in
tests/test_grading_mistakes.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, conv_flop_count, flop_registry

import convkit
import convkit.grading._rules as _rules  # white-box: the rules' own patterns
from convkit.grading import (
    TORCH_LAYERS,
    GradingFailure,
    ShortcutError,
    check_function,
    no_shortcuts,
    random_cases,
)
from convkit.grading.training_checks import check_budget
from convkit.grading.variants import (
    check_layer_costs,
    conv_transpose2d_case,
    cost_models,
    grouped_conv2d_case,
    mask_iou_case,
    overlap_counts,
    reference_layer_costs,
)
from convkit.nn.models import layer_costs as convkit_layer_costs

transpose_alias = F.conv_transpose2d  # an alias made before grading


def pair(value):
    return (value, value) if np.ndim(value) == 0 else tuple(value)


def _torch_args(args, kwargs):
    """The case as torch tensors: (x, weight), bias and the other keywords."""
    x, weight = (torch.tensor(a) for a in args)
    options = dict(kwargs)
    bias = options.pop("bias", None)
    return x, weight, None if bias is None else torch.tensor(bias), options


# -- the cases ----------------------------------------------------------------------------


def test_grouped_conv2d_cases_are_valid_and_varied() -> None:
    cases = random_cases(grouped_conv2d_case, n=120, seed=1)
    for args, kwargs in cases:
        x, weight, bias, options = _torch_args(args, kwargs)
        expected = F.conv2d(x, weight, bias, **options).numpy()
        np.testing.assert_allclose(convkit.conv2d(*args, **kwargs), expected, atol=1e-12)
    groups = [kwargs["groups"] for _, kwargs in cases]
    depthwise = [args[1].shape[1] == 1 and kwargs["groups"] > 1 for args, kwargs in cases]
    assert 1 in groups and max(groups) >= 4 and sum(depthwise) >= 10
    assert any(pair(kwargs["dilation"]) != (1, 1) for _, kwargs in cases)
    assert any(isinstance(kwargs["stride"], tuple) for _, kwargs in cases)
    assert any("bias" in kwargs for _, kwargs in cases)
    assert any("bias" not in kwargs for _, kwargs in cases)


@pytest.mark.parametrize("extras", [False, True])
def test_conv_transpose2d_cases_are_valid_and_varied(extras: bool) -> None:
    cases = random_cases(conv_transpose2d_case, n=120, seed=2, extras=extras)
    for args, kwargs in cases:
        x, weight, bias, options = _torch_args(args, kwargs)
        expected = F.conv_transpose2d(x, weight, bias, **options).numpy()
        np.testing.assert_allclose(convkit.conv_transpose2d(*args, **kwargs), expected,
                                   atol=1e-12)  # fmt: skip
    assert any(pair(kwargs["output_padding"]) != (0, 0) for _, kwargs in cases)
    assert any(pair(kwargs["padding"]) != (0, 0) for _, kwargs in cases)
    assert any(max(pair(kwargs["stride"])) == 3 for _, kwargs in cases)
    if extras:
        assert any(kwargs["groups"] == 3 for _, kwargs in cases)
        assert any(pair(kwargs["dilation"]) != (1, 1) for _, kwargs in cases)
    else:
        assert all("groups" not in kwargs and "dilation" not in kwargs for _, kwargs in cases)


def test_mask_iou_cases_cover_empty_unions_pooling_and_integer_masks() -> None:
    cases = random_cases(mask_iou_case, n=120, seed=3)
    empty_unions = per_image = pooled = integers = flat = 0
    for (pred, target), kwargs in cases:
        assert pred.shape == target.shape
        result = convkit.mask_iou(pred, target, **kwargs)
        if kwargs.get("per_image"):
            per_image += 1
            empty_unions += int(((pred != 0) | (target != 0)).reshape(len(pred), -1)
                                .any(axis=1).__invert__().sum())  # fmt: skip
            assert result.shape == (len(pred),)
        else:
            pooled += 1
            assert isinstance(result, float)
        integers += pred.dtype != bool
        flat += pred.ndim == 2
    assert empty_unions >= 5 and per_image >= 20 and pooled >= 20
    assert integers >= 10 and flat >= 5


# -- conv2d, conv_transpose2d and mask_iou: honest students and shortcuts ---------------


def conv2d_by_taps(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    n, _, h, w = x.shape
    c_out, per_in, kh, kw = weight.shape
    per_out = c_out // groups
    ho, wo = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((n, c_out, ho, wo))
    for g in range(groups):
        xg, wg = xp[:, g * per_in : (g + 1) * per_in], weight[g * per_out : (g + 1) * per_out]
        for m in range(kh):
            for k in range(kw):
                patch = xg[:, :, m * dh : m * dh + (ho - 1) * sh + 1 : sh,
                           k * dw : k * dw + (wo - 1) * sw + 1 : sw]  # fmt: skip
                out[:, g * per_out : (g + 1) * per_out] += np.einsum(
                    "nchw,oc->nohw", patch, wg[:, :, m, k]
                )
    return out if bias is None else out + bias[:, None, None]


def transpose_on_own_conv2d(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                            groups=1, dilation=1):  # fmt: skip
    """Zeros between the input pixels, a border of dilation * (k - 1) - padding, and each
    kernel rotated by 180 degrees with its first two axes exchanged: the student's conv2d."""
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    (oh, ow), (dh, dw) = pair(output_padding), pair(dilation)
    n, c_in, h, w = x.shape
    _, per_out, kh, kw = weight.shape
    per_in = c_in // groups
    spread = np.zeros((n, c_in, (h - 1) * sh + 1, (w - 1) * sw + 1))
    spread[:, :, ::sh, ::sw] = x
    bh, bw = dh * (kh - 1), dw * (kw - 1)
    spread = np.pad(spread, ((0, 0), (0, 0), (bh, bh + oh), (bw, bw + ow)))
    spread = spread[:, :, ph : spread.shape[2] - ph, pw : spread.shape[3] - pw]
    kernels = weight.reshape(groups, per_in, per_out, kh, kw).swapaxes(1, 2)
    kernels = kernels.reshape(groups * per_out, per_in, kh, kw)[..., ::-1, ::-1]
    return conv2d_by_taps(spread, kernels, bias, 1, 0, dilation, groups)


def iou_by_counts(pred, target, per_image=False):
    pred, target = np.asarray(pred).astype(bool), np.asarray(target).astype(bool)
    if not per_image:
        union = np.count_nonzero(pred | target)
        return 1.0 if union == 0 else np.count_nonzero(pred & target) / union
    out = np.ones(len(pred))
    for i in range(len(pred)):
        union = np.count_nonzero(pred[i] | target[i])
        if union:
            out[i] = np.count_nonzero(pred[i] & target[i]) / union
    return out


CONV_CASES = random_cases(grouped_conv2d_case, n=30, seed=12010)
TRANSPOSE_CASES = random_cases(conv_transpose2d_case, n=20, seed=12020) + random_cases(
    conv_transpose2d_case, n=20, seed=12030, extras=True
)
IOU_CASES = random_cases(mask_iou_case, n=40, seed=12040)


def test_honest_students_pass() -> None:
    check_function(conv2d_by_taps, convkit.conv2d, CONV_CASES)
    check_function(transpose_on_own_conv2d, convkit.conv_transpose2d, TRANSPOSE_CASES)
    check_function(iou_by_counts, convkit.mask_iou, IOU_CASES)


def test_wrong_answers_fail() -> None:
    with pytest.raises(GradingFailure):
        check_function(lambda *a, **k: conv2d_by_taps(*a, **k) * 1.01, convkit.conv2d,
                       CONV_CASES)  # fmt: skip
    with pytest.raises(GradingFailure):
        check_function(lambda *a, **k: transpose_on_own_conv2d(*a, **k) + 1e-3,
                       convkit.conv_transpose2d, TRANSPOSE_CASES)  # fmt: skip
    with pytest.raises(GradingFailure):
        check_function(lambda *a, **k: iou_by_counts(*a, **k) * 0.99, convkit.mask_iou,
                       IOU_CASES)  # fmt: skip


def _t(a):
    return None if a is None else torch.from_numpy(np.asarray(a, dtype=float))


def transpose_via_functional(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                             groups=1, dilation=1):  # fmt: skip
    return F.conv_transpose2d(_t(x), _t(weight), _t(bias), stride, padding, output_padding,
                              groups, dilation).numpy()  # fmt: skip


def transpose_via_alias(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                        dilation=1):  # fmt: skip
    return transpose_alias(_t(x), _t(weight), _t(bias), stride, padding, output_padding,
                           groups, dilation).numpy()  # fmt: skip


def transpose_via_module(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                         dilation=1):  # fmt: skip
    layer = nn.ConvTranspose2d(weight.shape[0], weight.shape[1] * groups, weight.shape[2:],
                               stride, padding, output_padding, groups, bias is not None,
                               dilation).double()  # fmt: skip
    with torch.no_grad():
        layer.weight.copy_(_t(weight))
        if bias is not None:
            layer.bias.copy_(_t(bias))
        return layer(_t(x)).numpy()


def transpose_via_autograd(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                           groups=1, dilation=1):  # fmt: skip
    """The gradient of a torch convolution with respect to its input is the transposed
    convolution of the output gradient."""
    out_size = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + o + 1
        for n, k, s, p, o, d in zip(x.shape[2:], weight.shape[2:], pair(stride), pair(padding),
                                    pair(output_padding), pair(dilation), strict=True)
    )  # fmt: skip
    probe = torch.zeros((x.shape[0], weight.shape[1] * groups, *out_size), dtype=torch.float64,
                        requires_grad=True)  # fmt: skip
    with torch.enable_grad():
        out = F.conv2d(probe, _t(weight), None, stride, padding, dilation, groups)
        (grad,) = torch.autograd.grad(out, probe, _t(x))
    result = grad.numpy()
    return result if bias is None else result + bias[:, None, None]


def transpose_via_nn_grad(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                          groups=1, dilation=1):  # fmt: skip
    spatial = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + o + 1
        for n, k, s, p, o, d in zip(x.shape[2:], weight.shape[2:], pair(stride), pair(padding),
                                    pair(output_padding), pair(dilation), strict=True)
    )  # fmt: skip
    size = (x.shape[0], weight.shape[1] * groups, *spatial)
    return torch.nn.grad.conv2d_input(size, _t(weight), _t(x), stride, padding, dilation,
                                      groups).numpy()  # fmt: skip


def transpose_via_convkit(*args, **kwargs):
    return convkit.conv_transpose2d(*args, **kwargs)


def transpose_via_convkit_naive(*args, **kwargs):
    return convkit.conv_transpose2d_naive(*args, **kwargs)


@pytest.mark.parametrize(
    ("student", "words"),
    [
        (transpose_via_functional, "conv_transpose2d"),
        (transpose_via_alias, "conv_transpose2d"),
        (transpose_via_module, "conv"),
        (transpose_via_autograd, "conv"),
        (transpose_via_nn_grad, "nn/grad.py"),
        (transpose_via_convkit, "convkit's reference code (conv_transpose2d in convkit.ops."),
        (transpose_via_convkit_naive, "convkit's reference code (conv_transpose2d_naive"),
    ],
)
def test_every_route_to_a_library_transposed_convolution_is_refused(student, words) -> None:
    with pytest.raises(ShortcutError) as caught:
        check_function(student, convkit.conv_transpose2d, TRANSPOSE_CASES[:3])
    assert words in str(caught.value), caught.value


def test_the_references_of_conv2d_and_mask_iou_are_refused() -> None:
    with pytest.raises(ShortcutError, match=r"convkit's reference code .*convkit\.ops\.masks"):
        check_function(lambda *a, **k: convkit.mask_iou(*a, **k), convkit.mask_iou, IOU_CASES)
    with pytest.raises(ShortcutError, match=r"convkit's reference code .*convkit\.ops\.conv2d"):
        check_function(lambda *a, **k: convkit.conv2d(*a, **k), convkit.conv2d, CONV_CASES)

    def grouped_through_torch(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        return F.conv2d(_t(x), _t(weight), _t(bias), stride, padding, dilation, groups).numpy()

    with pytest.raises(ShortcutError, match="conv2d"):
        check_function(grouped_through_torch, convkit.conv2d, CONV_CASES)


# -- the predict item -----------------------------------------------------------------------


def test_overlap_counts_show_the_checkerboard_and_its_cure() -> None:
    counts = overlap_counts(8, 3, 2, padding=1, output_padding=1)
    assert counts.shape == (16, 16)
    assert sorted(np.unique(counts)) == [1, 2, 4]
    assert counts.max() / counts.min() == 4
    np.testing.assert_array_equal(counts[1:5, 1:5], [[4, 2, 4, 2], [2, 1, 2, 1]] * 2)
    even = overlap_counts(8, 4, 2, padding=1)  # the stride divides the kernel
    assert (even[1:-1, 1:-1] == 4).all() and even.shape == (16, 16)


# -- layer_costs: honest students ---------------------------------------------------------


def costs_by_running(model, input_shape):
    """Runs one input through the layers; the multiply-adds by the course's formulas."""
    rows, x = [], torch.zeros((1, *input_shape))
    with torch.no_grad():
        for layer in model.eval():
            y = layer(x)
            macs = 0
            if isinstance(layer, nn.Conv2d):
                macs = y[0].numel() * layer.weight[0].numel()
            elif isinstance(layer, nn.ConvTranspose2d):
                macs = x[0].numel() * layer.weight[0].numel()
            elif isinstance(layer, nn.Linear):
                macs = layer.weight.numel()
            rows.append((tuple(y.shape[1:]), macs))
            x = y
    return rows


def _size(n, k, s, p, d=1):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def costs_by_formula(model, input_shape, *, mistake=None):
    """Shapes and counts worked out from the layers' attributes, without running anything;
    ``mistake`` makes one known counting mistake."""
    shape, rows = tuple(input_shape), []
    for layer in model:
        macs = 0
        if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d):
            (kh, kw), (sh, sw) = layer.kernel_size, layer.stride
            (ph, pw), (dh, dw) = layer.padding, layer.dilation
            if isinstance(layer, nn.Conv2d):
                out = (layer.out_channels, _size(shape[1], kh, sh, ph, dh),
                       _size(shape[2], kw, sw, pw, dw))  # fmt: skip
                groups = 1 if mistake == "groups" else layer.groups
                macs = int(np.prod(out)) * (layer.in_channels // groups) * kh * kw
            else:
                oh, ow = layer.output_padding
                out = (layer.out_channels, (shape[1] - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1,
                       (shape[2] - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1)  # fmt: skip
                groups = 1 if mistake == "groups" else layer.groups
                if mistake == "transposed_like_conv":
                    macs = int(np.prod(out)) * (layer.in_channels // groups) * kh * kw
                else:
                    macs = int(np.prod(shape)) * (layer.out_channels // groups) * kh * kw
            if mistake == "bias" and layer.bias is not None:
                macs += int(np.prod(out))
        elif isinstance(layer, nn.MaxPool2d | nn.AvgPool2d):
            k, s, p = (pair(v) for v in (layer.kernel_size, layer.stride, layer.padding))
            out = (shape[0], _size(shape[1], k[0], s[0], p[0]), _size(shape[2], k[1], s[1], p[1]))
            if mistake == "pooling":
                macs = int(np.prod(out)) * k[0] * k[1]
        elif isinstance(layer, nn.Flatten):
            out = (int(np.prod(shape)),)
        elif isinstance(layer, nn.Linear):
            out = (layer.out_features,)
            macs = layer.out_features * layer.in_features
            if mistake == "bias" and layer.bias is not None:
                macs += layer.out_features
        else:  # batch norm, ReLU
            out = shape
        if mistake == "flops":
            macs *= 2
        elif mistake == "batch":
            macs *= 8
        rows.append(((1, *out) if mistake == "batch_axis" else out, macs))
        shape = out
    return rows


def counting(mistake):
    return lambda model, input_shape: costs_by_formula(model, input_shape, mistake=mistake)


def test_honest_cost_counters_pass() -> None:
    check_layer_costs(costs_by_running)
    check_layer_costs(costs_by_formula)


def test_the_reference_counts_agree_with_convkits_layer_costs() -> None:
    """Two independent counts: torch's FLOP formulas layer by layer (the grader), and the
    course's formulas in convkit.nn.models.layer_costs."""
    for model, shape in cost_models():
        rows = convkit_layer_costs(model, shape)
        assert reference_layer_costs(model, shape) == [
            (r.output_shape, r.multiply_adds) for r in rows
        ]
    assert any(
        isinstance(layer, nn.ConvTranspose2d) and layer.groups > 1
        for model, _ in cost_models()
        for layer in model
    )
    assert all(getattr(layer, "groups", 1) != 2 for model, _ in cost_models() for layer in model)


# -- layer_costs: mistakes named -----------------------------------------------------------


@pytest.mark.parametrize(
    ("mistake", "words"),
    [
        ("flops", "your count equals FLOPs (a multiply and an add each)"),
        ("groups", "your count equals the count with the groups ignored"),
        ("bias", "your count equals a count with the bias in it"),
        ("batch", "8 times the right count: the costs are for ONE input"),
        ("transposed_like_conv", "a count like a convolution's over the output"),
        ("pooling", "a MaxPool2d has no weights"),
        ("batch_axis", "that has the batch axis in front"),
    ],
)
def test_cost_counting_mistakes_are_named(mistake, words) -> None:
    with pytest.raises(GradingFailure) as caught:
        check_layer_costs(counting(mistake))
    assert words in str(caught.value), caught.value
    assert "layer_costs(Sequential(" in str(caught.value)


@pytest.mark.parametrize(
    ("student", "words"),
    [
        (lambda model, shape: None, "the result is a NoneType; return a list"),
        (lambda model, shape: costs_by_running(model, shape)[:-1], "rows for a model of 9 layers"),
        (
            lambda model, shape: [(s, float(m)) for s, m in costs_by_running(model, shape)],
            "a count should be an int",
        ),
        (
            lambda model, shape: [(str(s), m) for s, m in costs_by_running(model, shape)],
            "the output shape is a str",
        ),
        (
            lambda model, shape: [s for s, _ in costs_by_running(model, shape)],
            "is not an (output_shape, multiply_adds) pair",
        ),
    ],
)
def test_results_of_the_wrong_form_fail_clearly(student, words) -> None:
    with pytest.raises(GradingFailure, match=words.replace("(", r"\(").replace(")", r"\)")):
        check_layer_costs(student)


def test_a_replaced_torch_layer_or_flop_formula_fails_the_check(monkeypatch) -> None:
    monkeypatch.setattr(nn.Conv2d, "forward", lambda self, x: x)
    with pytest.raises(GradingFailure, match=r"Conv2d\.forward was replaced"):
        check_layer_costs(costs_by_running)
    monkeypatch.undo()
    op = torch.ops.aten.convolution
    monkeypatch.setitem(flop_registry, op, lambda *a, **k: 0)
    with pytest.raises(GradingFailure, match="FLOP formulas"):
        check_layer_costs(costs_by_running)


# -- the guard: torch's own cost counters ---------------------------------------------------


def costs_with_flop_counter(model, input_shape):
    rows, x = [], torch.zeros((1, *input_shape))
    for layer in model.eval():
        with FlopCounterMode(display=False) as counter:
            y = layer(x)
        rows.append((tuple(y.shape[1:]), counter.get_total_flops() // 2))
        x = y
    return rows


def costs_with_flop_formula(model, input_shape):
    rows = costs_by_running(model, input_shape)
    shape = (1, *input_shape)
    for i, layer in enumerate(model):
        if isinstance(layer, nn.Conv2d):
            out = (1, *rows[i][0])
            rows[i] = (rows[i][0], conv_flop_count(shape, list(layer.weight.shape), out) // 2)
        shape = (1, *rows[i][0])
    return rows


def costs_with_profiler(model, input_shape):
    with torch.profiler.profile(with_flops=True) as profile:
        costs_by_running(model, input_shape)
    assert profile.key_averages()
    return costs_by_running(model, input_shape)


def costs_with_autograd_profiler(model, input_shape):
    with torch.autograd.profiler.profile(with_flops=True):
        return costs_by_running(model, input_shape)


def costs_from_convkit(model, input_shape):
    return [(r.output_shape, r.multiply_adds) for r in convkit_layer_costs(model, input_shape)]


@pytest.mark.parametrize(
    ("student", "words"),
    [
        (costs_with_flop_counter, "torch/utils/flop_counter.py: FlopCounterMode"),
        (costs_with_flop_formula, "torch/utils/flop_counter.py: conv_flop_count"),
        (costs_with_profiler, "torch/profiler/profiler.py"),
        (costs_with_autograd_profiler, "torch/autograd/profiler.py: profile.__init__"),
        (costs_from_convkit, "convkit's reference code"),
    ],
)
def test_every_route_to_a_library_cost_counter_is_refused(student, words) -> None:
    with pytest.raises(ShortcutError) as caught:
        check_layer_costs(student)
    assert words in str(caught.value), caught.value
    if "torch" in words:
        assert "count the multiply-adds this exercise asks you to count" in str(caught.value)


def test_the_counter_rule_holds_in_every_exercise_and_spares_record_function() -> None:
    """Refused with torch's layers allowed or not; the C switch of a profiling session by
    name; torch.autograd.profiler.record_function (run by torch.optim) stays allowed, and
    the grader's own guarded FLOP count (check_budget) still works."""
    for allow in ((), (TORCH_LAYERS,)):
        with pytest.raises(ShortcutError, match="cost counters"), no_shortcuts(allow=allow):
            FlopCounterMode(display=False)
    rules = _rules.Rules()
    assert "profiler" in rules.builtin_verdict(torch._C._autograd._enable_profiler, None)
    assert "profiler" in rules.builtin_verdict(torch._C._autograd._prepare_profiler, None)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 6 * 6, 3))
    with no_shortcuts(allow=(TORCH_LAYERS,)):
        optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
        net(torch.ones(2, 1, 8, 8)).sum().backward()
        optimizer.step()
        with torch.autograd.profiler.record_function("a label"):
            net(torch.ones(1, 1, 8, 8))
    cost = check_budget(net, max_numbers=1000, max_multiply_adds=10**5, input_shape=(1, 1, 8, 8))
    assert cost.multiply_adds == 2 * 36 * 9 + 3 * 72
