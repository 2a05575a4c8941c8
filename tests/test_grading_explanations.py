"""Tests of ch13's grading (convkit.grading.explanations): saliency, Grad-CAM, occlusion
and the effective receptive field checked against convkit.explain.

The "students" are what a student might write: honest torch code in two styles passes;
each known mistake fails with the mistake named; a map that leaves the model or x changed
fails with what changed; convkit.explain's functions and the grader's own maps are
refused however they are reached; a notebook that replaces the references' code or the
torch functions they use cannot grade at all.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import convkit
import convkit.explain
import convkit.grading.explanations as explanations
from convkit import receptive_field
from convkit.explain import erf_size
from convkit.grading import GradingFailure, ShortcutError
from convkit.grading.explanations import (
    ERF_MISTAKES,
    GRAD_CAM_MISTAKES,
    OCCLUSION_MISTAKES,
    SALIENCY_MISTAKES,
    all_ones_stack,
    check_effective_receptive_field,
    check_grad_cam,
    check_occlusion_map,
    check_saliency,
    classifier_nets,
    erf_variant,
    explain_guard,
    feature_nets,
    grad_cam_variant,
    occlusion_variant,
    plain_map,
    saliency_variant,
)

pytestmark = pytest.mark.usefixtures("one_thread")

explain_alias = convkit.explain.saliency  # an alias made before grading

# -- students, written as a student might: one factory per function, a keyword per mistake


def _modes(model):
    return [(m, m.training) for m in model.modules()]


def _restore(modes):
    for module, mode in modes:
        module.training = mode


def _images(x):
    if isinstance(x, torch.Tensor):
        return x.detach().clone().double()
    return torch.tensor(np.asarray(x), dtype=torch.float64)


def _targets(target, n):
    t = torch.as_tensor(np.asarray(target), dtype=torch.int64)
    return t.repeat(n) if t.ndim == 0 else t


def _objective(scores, target, score):
    t = _targets(target, len(scores))
    if score == "softmax":
        return scores.softmax(dim=1)[torch.arange(len(t)), t].sum()
    if score == "loss":
        return F.cross_entropy(scores, t)
    if score == "every":  # scores[:, target] with the target as given: right for one int
        return scores[:, torch.as_tensor(np.asarray(target))].sum()
    return scores[torch.arange(len(t)), t].sum()


def make_saliency(*, score="logit", signed=False, channels="max", use_eval=True,
                  restore="each", backward=False):  # fmt: skip
    def saliency(model, x, target):
        modes = _modes(model)
        was = model.training
        if use_eval:
            model.eval()
        images = _images(x).requires_grad_(True)
        objective = _objective(model(images), target, score)
        if backward:
            objective.backward()
            gradient = images.grad
        else:
            (gradient,) = torch.autograd.grad(objective, images)
        if restore == "each":
            _restore(modes)
        elif restore == "model":
            model.train(was)
        values = gradient if signed else gradient.abs()
        if channels == "mean":
            return values.mean(dim=1).numpy()
        if channels == "sum":
            return values.sum(dim=1).numpy()
        return values.amax(dim=1).numpy()

    return saliency


def make_grad_cam(*, score="logit", weights="mean", relu="before", mode="bilinear",
                  corners=False, upsample=True, keep_hook=False):  # fmt: skip
    def grad_cam(model, layer, x, target):
        modes = _modes(model)
        model.eval()
        images = _images(x).requires_grad_(True)
        kept = []
        handle = layer.register_forward_hook(lambda m, i, o: kept.append(o))
        try:
            objective = _objective(model(images), target, score)
        finally:
            if not keep_hook:
                handle.remove()
            _restore(modes)
        a = kept[0]
        (g,) = torch.autograd.grad(objective, a)
        if weights == "pointwise":
            cam = (g * a).sum(dim=1, keepdim=True)
        else:
            w = (
                g.mean(dim=(2, 3), keepdim=True)
                if weights == "mean"
                else g.sum(dim=(2, 3), keepdim=True)
            )
            cam = (w * a).sum(dim=1, keepdim=True)
        cam = cam.detach()
        if relu == "before":
            cam = cam.clamp(min=0)
        if upsample:
            options = {"align_corners": corners} if mode == "bilinear" else {}
            cam = F.interpolate(cam, size=tuple(images.shape[2:]), mode=mode, **options)
        if relu == "after":
            cam = cam.clamp(min=0)
        return cam[:, 0].numpy()

    return grad_cam


def make_occlusion(*, score="logit", sign=1.0, combine="mean", edges="inside",
                   uncovered=math.nan, ignore_fill=False, in_place=False):  # fmt: skip
    def occlusion_map(model, x, target, window, stride, fill=0.0):
        kh, kw = (window, window) if np.ndim(window) == 0 else window
        sh, sw = (stride, stride) if np.ndim(stride) == 0 else stride
        fill = 0.0 if ignore_fill else fill
        modes = _modes(model)
        model.eval()
        images = torch.as_tensor(x) if in_place else _images(x)  # as_tensor shares numpy's memory
        n, _, h, w = images.shape
        rows = range(0, (h - kh if edges == "inside" else h - 1) + 1, sh)
        cols = range(0, (w - kw if edges == "inside" else w - 1) + 1, sw)
        t = _targets(target, n)
        total, count = np.zeros((n, h, w)), np.zeros((h, w))

        def scores(batch):
            out = model(batch.double())
            out = out.softmax(dim=1) if score == "softmax" else out
            return out[torch.arange(n), t]

        with torch.no_grad():
            before = scores(images)
            for top in rows:
                for left in cols:
                    if in_place:
                        saved = images[:, :, top : top + kh, left : left + kw].clone()
                    covered = images if in_place else images.clone()
                    covered[:, :, top : top + kh, left : left + kw] = fill
                    drop = (sign * (before - scores(covered))).numpy()
                    if in_place:
                        images[:, :, top : top + kh, left : left + kw] = (
                            saved + 1.0
                        )  # a sloppy restore
                    if combine == "last":
                        total[:, top : top + kh, left : left + kw] = drop[:, None, None]
                    else:
                        total[:, top : top + kh, left : left + kw] += drop[:, None, None]
                    count[top : top + kh, left : left + kw] += 1
        _restore(modes)
        if combine == "mean":
            total = total / np.maximum(count, 1)
        return np.where(count > 0, total, uncovered)

    return occlusion_map


def make_erf(*, channel=None, centre="floor", whole=False, magnitude="each", channels="sum",
             batch="mean", flags=True):  # fmt: skip
    def effective_receptive_field(model, x):
        modes = _modes(model)
        model.eval()
        saved = [p.requires_grad for p in model.parameters()]
        for p in model.parameters():
            p.requires_grad_(False)
        images = _images(x).requires_grad_(True)
        out = model(images)
        h, w = out.shape[2:]
        if whole:
            unit = out
        else:
            r, c = (h // 2, w // 2) if centre == "floor" else ((h - 1) // 2, (w - 1) // 2)
            unit = out[:, :, r, c]
        if channel is not None:
            unit = unit[:, channel]
        unit.sum().backward()  # the parameters are frozen: only images.grad is filled
        if flags:
            for p, flag in zip(model.parameters(), saved, strict=True):
                p.requires_grad_(flag)
        _restore(modes)
        g = images.grad
        if magnitude == "each":
            g = g.abs()
        per_image = g.amax(dim=1) if channels == "max" else g.sum(dim=1)
        if magnitude == "channels":
            per_image = per_image.abs()
        result = per_image.mean(dim=0) if batch == "mean" else per_image.sum(dim=0)
        return (result.abs() if magnitude == "last" else result).numpy()

    return effective_receptive_field


# -- honest students pass -------------------------------------------------------------------


def saliency_image_by_image(model, x, target):
    """Another honest style: one image at a time, the parameters frozen and given back."""
    images = _images(x)
    targets = _targets(target, len(images))
    modes = _modes(model)
    flags = [p.requires_grad for p in model.parameters()]
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        maps = []
        for image, t in zip(images, targets, strict=True):
            leaf = image[None].clone().requires_grad_(True)
            model(leaf)[0, t].backward()
            maps.append(leaf.grad[0].abs().amax(dim=0))
    finally:
        for p, flag in zip(model.parameters(), flags, strict=True):
            p.requires_grad_(flag)
        _restore(modes)
    return torch.stack(maps).numpy()


def grad_cam_retain_grad(model, layer, x, target):
    """Another honest style: the layer's output keeps its own .grad (retain_grad)."""
    modes = _modes(model)
    flags = [p.requires_grad for p in model.parameters()]
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    images = _images(x).requires_grad_(True)
    kept = []

    def hook(module, inputs, output):
        output.retain_grad()
        kept.append(output)

    handle = layer.register_forward_hook(hook)
    try:
        _objective(model(images), target, "logit").backward()
    finally:
        handle.remove()
        for p, flag in zip(model.parameters(), flags, strict=True):
            p.requires_grad_(flag)
        _restore(modes)
    a = kept[0]
    weights = a.grad.mean(dim=(2, 3))
    cam = torch.relu(torch.einsum("nk,nkhw->nhw", weights, a.detach()))
    size = tuple(images.shape[2:])
    return F.interpolate(cam[:, None], size=size, mode="bilinear", align_corners=False)[
        :, 0
    ].numpy()


def occlusion_all_windows_at_once(model, x, target, window, stride, fill=0.0):
    """Another honest style: every covered copy of an image in one batch, numpy bookkeeping."""
    kh, kw = (window, window) if isinstance(window, int) else window
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    images = _images(x)
    n, _, h, w = images.shape
    corners = [(i, j) for i in range(0, h - kh + 1, sh) for j in range(0, w - kw + 1, sw)]
    out = np.full((n, h, w), np.nan)
    modes = _modes(model)
    model.eval()
    with torch.no_grad():
        for k, t in enumerate(_targets(target, n)):
            copies = images[k].repeat(len(corners) + 1, 1, 1, 1)
            for m, (i, j) in enumerate(corners, start=1):
                copies[m, :, i : i + kh, j : j + kw] = fill
            s = model(copies)[:, t].numpy()
            sums, counts = np.zeros((h, w)), np.zeros((h, w))
            for m, (i, j) in enumerate(corners, start=1):
                sums[i : i + kh, j : j + kw] += s[0] - s[m]
                counts[i : i + kh, j : j + kw] += 1
            out[k][counts > 0] = sums[counts > 0] / counts[counts > 0]
    _restore(modes)
    return out


def erf_image_by_image(model, x):
    """Another honest style: each image's gradient on its own, then the mean."""
    images = _images(x)
    modes = _modes(model)
    model.eval()
    maps = []
    for image in images:
        leaf = image[None].clone().requires_grad_(True)
        out = model(leaf)
        h, w = out.shape[2:]
        (g,) = torch.autograd.grad(out[0, :, h // 2, w // 2].sum(), leaf)
        maps.append(g[0].abs().sum(dim=0).numpy())
    _restore(modes)
    return np.mean(maps, axis=0)


def test_honest_students_pass_every_check() -> None:
    rng_state = torch.random.get_rng_state()
    for student in (make_saliency(), saliency_image_by_image):
        check_saliency(student)
    for student in (make_grad_cam(), grad_cam_retain_grad):
        check_grad_cam(student)
    for student in (make_occlusion(), occlusion_all_windows_at_once):
        check_occlusion_map(student)
    for student in (make_erf(), erf_image_by_image):
        check_effective_receptive_field(student)
    # the checks build their networks without drawing from torch's global generator
    assert torch.equal(torch.random.get_rng_state(), rng_state)


def test_the_references_pass_their_checks_outside_the_guard(monkeypatch) -> None:
    """convkit.explain's own functions leave every model and x as the checks require (run
    unguarded: under the guard they are refused)."""

    class _Open:
        def __enter__(self) -> None:
            return None

        def __exit__(self, *exc) -> bool:
            return False

    monkeypatch.setattr(explanations, "explain_guard", _Open)
    check_saliency(convkit.explain.saliency)
    check_grad_cam(convkit.explain.grad_cam)
    check_occlusion_map(convkit.explain.occlusion_map)
    check_effective_receptive_field(convkit.explain.effective_receptive_field)


def test_the_grader_maps_with_default_options_are_the_references() -> None:
    """The mistakes' computations start from the right maps: with no option they equal
    convkit.explain's, on every kind of network the checks use."""
    rng = np.random.default_rng(5)
    for net in classifier_nets(7):
        x = rng.uniform(-1, 1, size=(2, *net.shape))
        np.testing.assert_allclose(
            saliency_variant(net.model, x, [0, 1]),
            convkit.explain.saliency(net.model, x, [0, 1]),
            rtol=1e-12,
        )
        for index in net.layers:
            layer = net.model[index]
            np.testing.assert_allclose(
                grad_cam_variant(net.model, layer, x, 1),
                convkit.explain.grad_cam(net.model, layer, x, 1),
                rtol=1e-10,
                atol=1e-15,
            )
        for window, stride in ((2, 2), (3, 2), ((2, 4), 1)):
            np.testing.assert_allclose(
                occlusion_variant(net.model, x, [2, 0], window, stride, 0.3),
                convkit.explain.occlusion_map(net.model, x, [2, 0], window, stride, fill=0.3),
                rtol=1e-10, atol=1e-14)  # fmt: skip
    for net in feature_nets(7):
        x = rng.normal(size=(3, *net.shape))
        np.testing.assert_allclose(
            erf_variant(net.model, x),
            convkit.explain.effective_receptive_field(net.model, x),
            rtol=1e-12,
            atol=1e-15,
        )


# -- named mistakes --------------------------------------------------------------------------

MISTAKES = [
    (check_saliency, make_saliency(signed=True), "the largest signed gradient over the channels"),
    (check_saliency, make_saliency(channels="mean"), "the mean of |gradient| over the channels"),
    (check_saliency, make_saliency(channels="sum"), "the sum of |gradient| over the channels"),
    (check_saliency, make_saliency(score="loss"), "the gradient of the cross-entropy loss"),
    (check_saliency, make_saliency(score="softmax"), "the gradient of the softmax probability"),
    (check_saliency, make_saliency(score="every"), "scores of all the listed targets"),
    (check_grad_cam, make_grad_cam(weights="sum"), "the gradient summed over the positions"),
    (check_grad_cam, make_grad_cam(relu="none"), "Grad-CAM without its ReLU"),
    (check_grad_cam, make_grad_cam(relu="after"), "the ReLU applied after upsampling"),
    (check_grad_cam, make_grad_cam(score="softmax"), "Grad-CAM of the softmax probability"),
    (check_grad_cam, make_grad_cam(weights="pointwise"), "the activation at each position"),
    (check_grad_cam, make_grad_cam(corners=True), "align_corners=True"),
    (check_grad_cam, make_grad_cam(mode="nearest"), "upsampled by nearest neighbours"),
    (check_grad_cam, make_grad_cam(upsample=False), "at the layer's own size, not upsampled"),
    (check_grad_cam, make_grad_cam(score="every"), "scores of all the listed targets"),
    (check_occlusion_map, make_occlusion(sign=-1.0), "score(occluded) - score(original)"),
    (check_occlusion_map, make_occlusion(combine="sum"), "covering a pixel added up"),
    (check_occlusion_map, make_occlusion(combine="last"), "the last window wins"),
    (check_occlusion_map, make_occlusion(score="softmax"), "the drop of the softmax probability"),
    (check_occlusion_map, make_occlusion(edges="over"), "windows that run over the image's edge"),
    (check_occlusion_map, make_occlusion(uncovered=0.0), "0 where no window covers a pixel"),
    (check_occlusion_map, make_occlusion(ignore_fill=True), "filled with 0 instead of fill"),
    (check_effective_receptive_field, make_erf(channel=0), "the ERF of output channel 0 only"),
    (check_effective_receptive_field, make_erf(magnitude="none"), "the signed gradient"),
    (check_effective_receptive_field, make_erf(magnitude="channels"),
     "|gradient| taken after summing the input channels"),
    (check_effective_receptive_field, make_erf(magnitude="last"),
     "|gradient| taken of the final map"),
    (check_effective_receptive_field, make_erf(channels="max"),
     "the largest |gradient| over the input"),
    (check_effective_receptive_field, make_erf(batch="sum"), "the sum over the images"),
    (check_effective_receptive_field, make_erf(centre="before"), "the unit at ((h - 1) // 2"),
    (check_effective_receptive_field, make_erf(whole=True), "the gradient of the whole output map"),
]  # fmt: skip


@pytest.mark.parametrize(("check", "student", "words"), MISTAKES,
                         ids=[words for _, _, words in MISTAKES])  # fmt: skip
def test_each_known_mistake_fails_and_is_named(check, student, words: str) -> None:
    with pytest.raises(GradingFailure) as caught:
        check(student)
    message = str(caught.value)
    assert not isinstance(caught.value, ShortcutError), message
    assert "your result equals" in message and words in message, message
    assert "values differ" in message or "expected" in message, message


def test_every_catalogued_mistake_is_exercised() -> None:
    """Each mistake of the four catalogues has a student above that makes it."""
    labels = [m.label for m in (*SALIENCY_MISTAKES, *GRAD_CAM_MISTAKES, *OCCLUSION_MISTAKES,
                                *ERF_MISTAKES)]  # fmt: skip
    tested = [words for _, _, words in MISTAKES]
    untested = [label for label in labels if not any(words in label for words in tested)]
    assert untested == [], untested


def test_a_wrong_map_that_matches_no_mistake_says_only_what_differs() -> None:
    def noisy(model, x, target):
        return make_saliency()(model, x, target) * 1.01

    with pytest.raises(GradingFailure) as caught:
        check_saliency(noisy)
    assert "values differ" in str(caught.value) and "your result equals" not in str(caught.value)


def test_nan_positions_are_compared_one_by_one() -> None:
    """A NaN where a window did cover the pixel fails like a wrong value would."""

    def nan_corner(model, x, target, window, stride, fill=0.0):
        out = make_occlusion()(model, x, target, window, stride, fill)
        out[:, 0, 0] = np.nan
        return out

    with pytest.raises(GradingFailure, match=r"got nan at index \(0, 0, 0\)"):
        check_occlusion_map(nan_corner)


# -- what a map must leave alone -----------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "student", "words"),
    [
        (check_saliency, make_saliency(backward=True), "a gradient was left in the model's"),
        (check_saliency, make_saliency(use_eval=False), "batch-norm statistics changed"),
        (check_saliency, make_saliency(restore="model"), "is left in training mode"),
        (check_saliency, make_saliency(restore="none"), "is left in eval mode"),
        (check_grad_cam, make_grad_cam(keep_hook=True), "a hook was left on the model's"),
        (check_occlusion_map, make_occlusion(in_place=True), "changed its input x in place"),
        (check_effective_receptive_field, make_erf(flags=False), "requires_grad was True"),
    ],
)
def test_a_map_that_changes_the_model_or_x_fails(check, student, words: str) -> None:
    with pytest.raises(GradingFailure) as caught:
        check(student)
    assert words in str(caught.value), str(caught.value)


def test_a_stored_gradient_must_survive_and_x_keep_its_flags() -> None:
    def zero_grad_first(model, x, target):
        model.zero_grad()
        return make_saliency()(model, x, target)

    with pytest.raises(GradingFailure, match=r"was erased \(by \.backward\(\) or zero_grad"):
        check_saliency(zero_grad_first)

    def marks_x(model, x, target):
        if isinstance(x, torch.Tensor):
            x.requires_grad_(True)
        return make_saliency()(model, x, target)

    with pytest.raises(GradingFailure, match="x now requires grad"):
        check_saliency(marks_x)


def test_unwritten_tensor_results_and_errors_are_reported() -> None:
    def unwritten(model, x, target):
        raise NotImplementedError()

    with pytest.raises(GradingFailure, match="saliency is not written yet"):
        check_saliency(unwritten)
    with pytest.raises(GradingFailure, match=r"a torch tensor: the exercise asks for a numpy"):
        check_saliency(lambda model, x, target: torch.zeros(1))
    with pytest.raises(GradingFailure, match=r"raised RuntimeError"):
        check_effective_receptive_field(lambda model, x: model(torch.as_tensor(x).float()))
    with pytest.raises(GradingFailure, match="grad_cam is a int, not a function"):
        check_grad_cam(3)


# -- shortcuts -------------------------------------------------------------------------------


def saliency_through_importlib(model, x, target):
    name = "saliency"
    return getattr(importlib.import_module("convkit.explain.gradients"), name)(model, x, target)


@pytest.mark.parametrize(
    ("check", "student"),
    [
        (check_saliency, lambda model, x, target: convkit.explain.saliency(model, x, target)),
        (check_saliency, lambda model, x, target: explain_alias(model, x, target)),
        (check_saliency, saliency_through_importlib),
        (check_saliency, lambda model, x, target: convkit.explain.smoothgrad(
            model, x, target, samples=1, noise=0.0)),
        (check_grad_cam, lambda model, layer, x, target: convkit.explain.grad_cam(
            model, layer, x, target)),
        (check_occlusion_map, lambda model, x, target, window, stride, fill=0.0:
            convkit.explain.occlusion_map(model, x, target, window, stride, fill)),
        (check_effective_receptive_field, lambda model, x:
            convkit.explain.effective_receptive_field(model, x)),
    ],
)  # fmt: skip
def test_convkit_explain_is_refused_however_it_is_reached(check, student) -> None:
    with pytest.raises(ShortcutError, match=r"convkit's reference code .*convkit\.explain"):
        check(student)


@pytest.mark.parametrize(
    ("check", "student"),
    [
        (check_saliency, lambda model, x, target: saliency_variant(model, x, target)),
        (check_grad_cam, lambda model, layer, x, target: grad_cam_variant(model, layer, x, target)),
        (check_occlusion_map, lambda model, x, target, window, stride, fill=0.0:
            -occlusion_variant(model, x, target, window, stride, fill, sign=-1.0)),
        (check_effective_receptive_field, lambda model, x: erf_variant(model, x)),
    ],
)  # fmt: skip
def test_the_graders_own_maps_are_refused(check, student) -> None:
    with pytest.raises(ShortcutError, match=r"convkit\.grading\.explanations\.\w+_variant"):
        check(student)


def test_a_visible_test_guard_refuses_the_same_and_allows_the_networks() -> None:
    net = classifier_nets()[1]
    x = np.random.default_rng(0).uniform(size=(2, *net.shape))
    with explain_guard():  # batch norm, max pooling, autograd, interpolation: all allowed
        got = make_grad_cam()(net.model, net.model[6], x, 1)
    np.testing.assert_allclose(got, convkit.explain.grad_cam(net.model, net.model[6], x, 1))
    with pytest.raises(ShortcutError), explain_guard():
        convkit.explain.class_activation_map(net.model, net.model[6], net.model[9], x, 1)


# -- a notebook that changes what the references run ---------------------------------------


def test_replaced_reference_code_or_torch_functions_stop_the_grading(monkeypatch) -> None:
    gradients = importlib.import_module("convkit.explain.gradients")
    monkeypatch.setattr(gradients, "_largest_magnitude_over_channels",
                        lambda g: g.amax(dim=1).cpu().numpy())  # fmt: skip
    with pytest.raises(GradingFailure, match=r"convkit\.explain\.gradients\._largest_magnitude_"
                                             r"over_channels was replaced"):  # fmt: skip
        check_saliency(make_saliency(signed=True))
    monkeypatch.undo()
    monkeypatch.setattr(F, "interpolate", lambda *args, **kwargs: None)
    with pytest.raises(GradingFailure, match=r"interpolate was replaced in this notebook"):
        check_grad_cam(make_grad_cam())
    monkeypatch.undo()
    monkeypatch.setattr(convkit.explain.saliency, "__code__", (lambda m, x, t: 0).__code__)
    with pytest.raises(GradingFailure, match=r"convkit\.explain\.saliency was replaced"):
        check_saliency(make_saliency())


# -- the predict-then-measure item's stack -------------------------------------------------


def test_the_all_ones_stack_has_the_repeated_box_as_its_erf() -> None:
    """Eight all-ones layers: theoretical field 17, 95 % of the ERF in 11 x 11 (r = 4 holds
    0.907 of the mass, r = 5 holds 0.973: the answer is not a rounding accident)."""
    stack = all_ones_stack(8)
    x = torch.randn(4, 1, 21, 21, generator=torch.Generator().manual_seed(13), dtype=torch.float64)
    erf = convkit.explain.effective_receptive_field(stack, x)
    taps = np.ones(1)
    for _ in range(8):
        taps = np.convolve(taps, np.ones(3))
    expected = np.zeros((21, 21))
    expected[2:19, 2:19] = np.outer(taps, taps)
    np.testing.assert_array_equal(erf, expected)
    assert receptive_field([(3, 1)] * 8) == 17
    assert erf_size(erf, 0.95) == 11
    p = taps / taps.sum()
    assert p[8 - 4 : 8 + 5].sum() ** 2 < 0.93 and p[8 - 5 : 8 + 6].sum() ** 2 > 0.97
    assert all(not layer.weight.requires_grad or layer.bias is None for layer in stack)


def test_plain_map_reads_arrays_and_refuses_tensors() -> None:
    got = plain_map(np.arange(4, dtype=np.float32).reshape(2, 2))
    assert got.dtype == np.float64 and got.tolist() == [[0, 1], [2, 3]]
    with pytest.raises(GradingFailure, match="torch tensor"):
        plain_map(torch.zeros(2))
