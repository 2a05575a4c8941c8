"""convkit.explain: each attribution method against a computation by hand on a tiny model
whose weights we chose, plus the model's state, the input and bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from convkit import receptive_field
from convkit.explain import (
    class_activation_map,
    effective_receptive_field,
    erf_size,
    erf_std,
    grad_cam,
    occlusion_map,
    saliency,
    smoothgrad,
)
from convkit.lessons.receptive_fields import gradient_footprint, measured_receptive_field

pytestmark = pytest.mark.usefixtures("one_thread")


# ------------------------------------------------------------------ tiny models
def linear_model(shape: tuple[int, int, int], classes: int, seed: int = 0) -> nn.Sequential:
    """Flatten -> Linear in float64: score_c = sum(W[c] * x) + b_c, so d score_c / dx = W[c]."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(shape), classes)).double()


def weights_of(model: nn.Sequential, shape: tuple[int, int, int]) -> np.ndarray:
    """The linear model's weights as images: (classes, C, H, W)."""
    return model[1].weight.detach().numpy().reshape(-1, *shape)


def small_convnet(seed: int = 0, channels: int = 2, classes: int = 3) -> nn.Sequential:
    """conv -> ReLU -> conv -> ReLU -> global average pooling -> linear, float64."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(channels, 4, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 5, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(5, classes),
    ).double()


def images(n: int, shape: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, size=(n, *shape))


def ones_stack(depth: int, in_channels: int = 1, out_channels: int = 1) -> nn.Sequential:
    """``depth`` 3x3 convolutions with all-ones weights and no bias (linear), float64."""
    layers = []
    for i in range(depth):
        conv = nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, bias=False)
        nn.init.ones_(conv.weight)
        layers.append(conv)
    return nn.Sequential(*layers).double()


# --------------------------------------------------------------------- saliency
@pytest.mark.parametrize("channels", [1, 3])
def test_saliency_of_a_linear_model_is_the_largest_weight_magnitude(channels: int) -> None:
    shape = (channels, 4, 5)
    model = linear_model(shape, classes=4)
    x = images(3, shape)
    w = weights_of(model, shape)
    got = saliency(model, x, [0, 3, 1])
    assert got.shape == (3, 4, 5) and got.dtype == np.float64
    for i, c in enumerate([0, 3, 1]):
        np.testing.assert_allclose(got[i], np.abs(w[c]).max(axis=0), rtol=1e-12)
    # one int means that class for every image; a tensor gives the same as numpy
    np.testing.assert_allclose(
        saliency(model, torch.tensor(x), 2),
        np.abs(w[2]).max(axis=0)[None].repeat(3, axis=0),
        rtol=1e-12,
    )


def test_saliency_follows_the_relu_by_hand() -> None:
    """score = sum(v * relu(x)): the gradient is v where x > 0 and 0 where x < 0."""
    model = nn.Sequential(nn.ReLU(), nn.Flatten(), nn.Linear(8, 1, bias=False)).double()
    v = np.linspace(-2, 2, 8)
    with torch.no_grad():
        model[2].weight.copy_(torch.tensor(v)[None])
    x = np.array([-1.0, 2, -3, 4, 5, -6, 7, -8]).reshape(1, 2, 2, 2)
    expected = np.where(x > 0, np.abs(v.reshape(2, 2, 2)), 0.0).max(axis=1)
    np.testing.assert_array_equal(saliency(model, x, 0), expected)


@settings(max_examples=15)
@given(n=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_saliency_of_an_image_does_not_depend_on_the_rest_of_the_batch(n: int, seed: int) -> None:
    model = small_convnet(seed=seed % 7)
    x = images(n, (2, 6, 6), seed)
    targets = np.random.default_rng(seed).integers(0, 3, size=n)
    whole = saliency(model, x, targets)
    order = np.random.default_rng(seed + 1).permutation(n)
    np.testing.assert_allclose(
        saliency(model, x[order], targets[order]), whole[order], rtol=1e-10, atol=1e-14
    )
    for i in range(n):
        np.testing.assert_allclose(
            saliency(model, x[i : i + 1], int(targets[i]))[0], whole[i], rtol=1e-10, atol=1e-14
        )


# ------------------------------------------------------------------- smoothgrad
def test_smoothgrad_without_noise_is_saliency_and_of_a_linear_model_is_the_weights() -> None:
    model = small_convnet(1)
    x = images(2, (2, 5, 5), seed=1)
    np.testing.assert_array_equal(
        smoothgrad(model, x, 1, samples=1, noise=0.0), saliency(model, x, 1)
    )
    shape = (2, 3, 3)
    linear = linear_model(shape, classes=2)
    expected = np.abs(weights_of(linear, shape)[1]).max(axis=0)
    got = smoothgrad(linear, images(2, shape), 1, samples=5, noise=0.3)
    np.testing.assert_allclose(got, np.stack([expected, expected]), rtol=1e-12)


def test_smoothgrad_averages_signed_gradients_with_noise_scaled_to_each_image() -> None:
    """score = sum(|x|) (a 1x1 convolution to x and -x, ReLU, sum): its gradient is sign(x).
    Averaged over Gaussian noise of std sigma it becomes 2 Phi(x / sigma) - 1, and the map
    is the absolute value of that average (the absolute value of each gradient would be 1).
    The second image is the first doubled: its range, and so its noise, is twice as large,
    which gives the same map."""
    split = nn.Conv2d(1, 2, 1, bias=False)
    with torch.no_grad():
        split.weight.copy_(torch.tensor([1.0, -1.0]).reshape(2, 1, 1, 1))
    model = nn.Sequential(split, nn.ReLU(), nn.Flatten(), nn.Linear(12, 1, bias=False)).double()
    nn.init.ones_(model[3].weight)
    x = np.array([-0.25, -0.1, -0.02, 0.02, 0.1, 0.25]).reshape(1, 1, 1, 6)
    sigma = 0.2 * (0.25 - -0.25)
    phi = np.array([0.5 * (1 + math.erf(v / (sigma * math.sqrt(2)))) for v in x.ravel()])
    got = smoothgrad(model, np.concatenate([x, 2 * x]), 0, samples=4000, noise=0.2, seed=3)
    # the mean of 4000 signs: standard error at most 1 / sqrt(4000) = 0.016
    np.testing.assert_allclose(got[:, 0], np.stack([np.abs(2 * phi - 1)] * 2), atol=0.065)


def test_smoothgrad_is_reproducible_for_a_seed() -> None:
    model = small_convnet(2)
    x = images(2, (2, 5, 5), seed=2)
    first = smoothgrad(model, x, [0, 2], samples=4, noise=0.2, seed=7)
    assert np.array_equal(first, smoothgrad(model, x, [0, 2], samples=4, noise=0.2, seed=7))
    assert not np.array_equal(first, smoothgrad(model, x, [0, 2], samples=4, noise=0.2, seed=8))


# -------------------------------------------------------------------- Grad-CAM
def test_grad_cam_by_hand_when_the_layer_output_is_the_image() -> None:
    """A 1x1 identity convolution makes A = x; a linear head makes d score_c / dA = V[c], so
    the weights are the spatial means of V[c] and the map is relu(sum_k mean(V[c, k]) x_k)."""
    shape = (3, 4, 4)
    identity = nn.Conv2d(3, 3, 1, bias=False)
    with torch.no_grad():
        identity.weight.copy_(torch.eye(3)[:, :, None, None])
    torch.manual_seed(4)
    model = nn.Sequential(identity, nn.Flatten(), nn.Linear(48, 5)).double()
    x = images(2, shape, seed=4) - 0.5
    v = model[2].weight.detach().numpy().reshape(5, *shape)
    got = grad_cam(model, model[0], x, [4, 1], upsample=False)
    for i, c in enumerate([4, 1]):
        alpha = v[c].mean(axis=(1, 2))
        expected = np.maximum((alpha[:, None, None] * x[i]).sum(axis=0), 0.0)
        np.testing.assert_allclose(got[i], expected, rtol=1e-12, atol=1e-15)
    # the layer's output already has the image's size: upsampling changes nothing
    np.testing.assert_allclose(grad_cam(model, model[0], x, [4, 1]), got, rtol=1e-12)


@pytest.mark.parametrize("inplace", [False, True])
def test_grad_cam_by_hand_through_a_relu_head(inplace: bool) -> None:
    """A = conv(x); score = W[c] . mean_hw(V relu(A)) + b, with V a 1x1 convolution. Then
    d score / dA_k(p) = (W[c] V)_k 1[A_k(p) > 0] / (h w). An in-place ReLU after the layer
    must not change the recorded A."""
    torch.manual_seed(5)
    conv = nn.Conv2d(2, 4, 3)
    model = nn.Sequential(
        conv,
        nn.ReLU(inplace=inplace),
        nn.Conv2d(4, 3, 1, bias=False),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(3, 2),
    ).double()
    x = images(3, (2, 7, 7), seed=5)
    with torch.no_grad():
        a = model[0](torch.tensor(x)).numpy()  # (3, 4, 5, 5)
    v = model[2].weight.detach().numpy()[:, :, 0, 0]  # (3, 4)
    w = model[5].weight.detach().numpy()  # (2, 3)
    got = grad_cam(model, conv, x, 1, upsample=False)
    hw = a.shape[2] * a.shape[3]
    gradient = (w[1] @ v)[None, :, None, None] * (a > 0) / hw
    alpha = gradient.mean(axis=(2, 3))
    expected = np.maximum((alpha[:, :, None, None] * a).sum(axis=1), 0.0)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-15)


def test_grad_cam_upsamples_bilinearly_to_the_input_size() -> None:
    torch.manual_seed(6)
    model = nn.Sequential(
        nn.Conv2d(1, 3, 2, stride=2),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(3, 2),
    ).double()
    x = images(2, (1, 8, 8), seed=6)
    small = grad_cam(model, model[1], x, 0, upsample=False)
    large = grad_cam(model, model[1], x, 0)
    assert small.shape == (2, 4, 4) and large.shape == (2, 8, 8)
    expected = F.interpolate(
        torch.tensor(small)[:, None], size=(8, 8), mode="bilinear", align_corners=False
    )[:, 0].numpy()
    np.testing.assert_allclose(large, expected, rtol=1e-12)
    # half-pixel centres: output pixel (0, 0) and (0, 1) of a 2x upsampling sit 1/4 and 3/4
    # of the way between the input's pixel centres (or on the border's)
    assert large[0, 0, 0] == pytest.approx(small[0, 0, 0])
    assert large[0, 0, 2] == pytest.approx(0.75 * small[0, 0, 1] + 0.25 * small[0, 0, 0])


# ------------------------------------------------------------------------- CAM
def test_cam_is_the_classifier_weighted_sum_of_the_last_feature_maps() -> None:
    model = small_convnet(7)
    x = images(2, (2, 5, 5), seed=7)
    with torch.no_grad():
        a = model[:4](torch.tensor(x)).numpy()  # (2, 5, 5, 5): the maps the pooling reads
    w = model[6].weight.detach().numpy()
    got = class_activation_map(model, model[3], model[6], x, [2, 0], upsample=False)
    expected = np.stack([np.einsum("k,khw->hw", w[2], a[0]), np.einsum("k,khw->hw", w[0], a[1])])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


@settings(max_examples=10)
@given(seed=st.integers(0, 10_000), target=st.integers(0, 2), upsample=st.booleans())
def test_grad_cam_is_relu_of_cam_over_hw_on_a_pooled_network(
    seed: int, target: int, upsample: bool
) -> None:
    """Selvaraju et al. §3.1: with global average pooling d score / dA_k = w[c, k] / (h w)
    everywhere, so Grad-CAM = ReLU(CAM) / (h w)."""
    model = small_convnet(seed % 11)
    x = images(2, (2, 6, 6), seed)
    cam = class_activation_map(model, model[3], model[6], x, target, upsample=upsample)
    gradcam = grad_cam(model, model[3], x, target, upsample=upsample)
    np.testing.assert_allclose(gradcam, np.maximum(cam, 0.0) / 36, rtol=1e-10, atol=1e-15)


def test_cam_refuses_a_network_without_pooling_between_features_and_classifier() -> None:
    model = small_convnet(8)
    x = images(1, (2, 5, 5))
    with pytest.raises(ValueError, match="global average"):  # conv before its ReLU
        class_activation_map(model, model[2], model[6], x, 0)
    with pytest.raises(TypeError, match=r"nn\.Linear"):
        class_activation_map(model, model[3], model[4], x, 0)
    with pytest.raises(ValueError, match="features outputs 4 maps"):
        class_activation_map(model, model[1], model[6], x, 0)


# ------------------------------------------------------------------- occlusion
def occlusion_by_hand(
    weights: np.ndarray,
    x: np.ndarray,
    target: int,
    window: tuple[int, int],
    stride: tuple[int, int],
    fill: float,
) -> np.ndarray:
    """For a linear model: covering a window drops the score by sum(W[c] (x - fill)) over it.

    weights: (classes, C, H, W), x: (C, H, W) -> (H, W), every window and pixel visited in
    plain loops, NaN where no window reached.
    """
    _, height, width = x.shape
    total = np.zeros((height, width))
    count = np.zeros((height, width))
    top = 0
    while top + window[0] <= height:
        left = 0
        while left + window[1] <= width:
            rows, cols = slice(top, top + window[0]), slice(left, left + window[1])
            drop = (weights[target][:, rows, cols] * (x[:, rows, cols] - fill)).sum()
            for i in range(top, top + window[0]):
                for j in range(left, left + window[1]):
                    total[i, j] += drop
                    count[i, j] += 1
            left += stride[1]
        top += stride[0]
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def as_pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


@pytest.mark.parametrize(
    ("window", "stride", "fill"), [(2, 2, 0.0), (3, 1, 0.5), ((2, 3), (1, 2), -1.0), (5, 3, 0.0)]
)
def test_occlusion_of_a_linear_model_by_hand(window, stride, fill) -> None:
    shape = (2, 6, 7)
    model = linear_model(shape, classes=3, seed=9)
    x = images(2, shape, seed=9)
    got = occlusion_map(model, x, [1, 2], window, stride, fill=fill)
    w = weights_of(model, shape)
    for i, c in enumerate([1, 2]):
        expected = occlusion_by_hand(w, x[i], c, as_pair(window), as_pair(stride), fill)
        np.testing.assert_allclose(got[i], expected, rtol=1e-9, atol=1e-12)


def test_occlusion_in_batches_equals_one_window_at_a_time() -> None:
    """A 20x20 image and a 1x1 window: 400 occluded copies, more than one batch."""
    model = small_convnet(10, channels=1)
    x = images(1, (1, 20, 20), seed=10)
    got = occlusion_map(model, x, 2, 1, 1, fill=0.3)
    xt = torch.tensor(x)
    with torch.no_grad():
        base = model(xt)[0, 2].item()
        for i in range(20):
            for j in range(20):
                covered = xt.clone()
                covered[0, :, i, j] = 0.3
                assert got[0, i, j] == pytest.approx(base - model(covered)[0, 2].item(), abs=1e-12)


@settings(max_examples=25)
@given(
    window=st.integers(1, 4),
    stride=st.integers(1, 4),
    used=st.integers(1, 6),
    seed=st.integers(0, 1000),
)
def test_occlusion_is_zero_where_the_model_reads_nothing(
    window: int, stride: int, used: int, seed: int
) -> None:
    """The model reads columns < ``used`` only: every window right of them changes nothing,
    so pixels that only such windows cover get 0."""
    shape = (1, 5, 10)
    model = linear_model(shape, classes=2, seed=seed)
    with torch.no_grad():
        mask = torch.zeros(shape, dtype=torch.float64)
        mask[:, :, :used] = 1
        model[1].weight.mul_(mask.reshape(1, -1))
    got = occlusion_map(model, images(2, shape, seed), 1, window, stride)
    ignored = got[:, :, used + window - 1 :]
    assert np.all(np.isnan(ignored) | (np.abs(ignored) < 1e-12))


# --------------------------------------------------- effective receptive field
def box_convolved(depth: int) -> np.ndarray:
    """The 3-tap box [1, 1, 1] convolved with itself: ``depth`` boxes, 2 depth + 1 taps."""
    taps = np.ones(1)
    for _ in range(depth):
        taps = np.convolve(taps, np.ones(3))
    return taps


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_erf_of_all_ones_convolutions_is_the_repeated_box(depth: int) -> None:
    size = 2 * depth + 5
    erf = effective_receptive_field(ones_stack(depth), images(3, (1, size, size)) - 0.5)
    taps = box_convolved(depth)
    expected = np.zeros((size, size))
    start = 2  # the centre of the 5x5 output reads input rows 2 .. 2 + 2 depth
    expected[start : start + 2 * depth + 1, start : start + 2 * depth + 1] = np.outer(taps, taps)
    np.testing.assert_array_equal(erf, expected)
    side = receptive_field([(3, 1)] * depth)
    assert side == 2 * depth + 1 == measured_receptive_field([(3, 1)] * depth, size)
    rows = np.flatnonzero(erf.any(axis=1))
    assert rows[-1] - rows[0] + 1 == side
    assert erf_size(erf, mass=1.0) == side
    # the repeated box's spread: each layer adds the variance 2/3 of uniform {-1, 0, 1}
    np.testing.assert_allclose(erf_std(erf), [math.sqrt(2 * depth / 3)] * 2, rtol=1e-12)


def test_erf_sums_over_output_and_input_channels() -> None:
    """One all-ones layer with 2 inputs and 3 outputs: each input pixel of the 3x3 field
    reaches the centre through 3 output channels, in each of the 2 input channels."""
    erf = effective_receptive_field(
        ones_stack(1, in_channels=2, out_channels=3), images(4, (2, 5, 5))
    )
    expected = np.zeros((5, 5))
    expected[1:4, 1:4] = 2 * 3
    np.testing.assert_array_equal(erf, expected)


def test_most_of_a_deep_stacks_erf_sits_well_inside_its_theoretical_field() -> None:
    depth = 8
    size = 2 * depth + 5
    erf = effective_receptive_field(ones_stack(depth), images(1, (1, size, size)))
    theoretical = receptive_field([(3, 1)] * depth)  # 17
    # by hand: the smallest half-width r whose square holds 95 % of the mass
    taps = box_convolved(depth) / 3.0**depth
    centre = depth
    r = next(r for r in range(depth + 1) if taps[centre - r : centre + r + 1].sum() ** 2 >= 0.95)
    assert erf_size(erf, 0.95) == 2 * r + 1 < theoretical


def test_erf_of_a_random_relu_network_stays_inside_the_footprint() -> None:
    layers = [(3, 1), (3, 2), (3, 1)]
    torch.manual_seed(11)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2), nn.ReLU(), nn.Conv2d(4, 2, 3)
    ).double()
    x = torch.randn(8, 1, 15, 15, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    erf = effective_receptive_field(model, x)
    footprint = gradient_footprint(layers, 15)[-1]  # what the all-ones stack can read
    assert erf.shape == (15, 15) and np.all(erf >= 0) and erf.sum() > 0
    assert not np.any(erf[~footprint])
    assert erf_size(erf, mass=1.0) <= receptive_field(layers) == 9
    assert np.array_equal(erf, effective_receptive_field(model, x.numpy()))  # numpy as well
    assert not np.array_equal(erf, effective_receptive_field(model, x + 1.0))


@settings(max_examples=10)
@given(n=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_erf_is_the_mean_of_each_images_own_map_by_hand(n: int, seed: int) -> None:
    """A ReLU network's gradient depends on its input: the map of a batch is the mean of
    its images' maps, and one image's map is |W[:, :, taps]| summed where its ReLU passes,
    computed here by hand for conv -> ReLU -> 1x1 conv."""
    torch.manual_seed(seed % 13)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Conv2d(3, 2, 1)).double()
    x = images(n, (2, 6, 6), seed) - 0.5
    whole = effective_receptive_field(model, x)
    each = [effective_receptive_field(model, x[i : i + 1]) for i in range(n)]
    np.testing.assert_allclose(whole, np.mean(each, axis=0), rtol=1e-12, atol=1e-15)
    w1 = model[0].weight.detach().numpy()  # (3, 2, 3, 3)
    w2 = model[2].weight.detach().numpy()[:, :, 0, 0]  # (2, 3)
    with torch.no_grad():
        a = model[0](torch.tensor(x)).numpy()  # (n, 3, 4, 4); the centre is (2, 2)
    expected = np.zeros((6, 6))
    for i in range(n):
        passes = (a[i, :, 2, 2] > 0).astype(float)  # (3,)
        # d sum_k out_k / d x[c, 2 + u, 2 + v] = sum_j (sum_k w2[k, j]) passes_j w1[j, c, u, v]
        g = np.einsum("j,jcuv->cuv", w2.sum(axis=0) * passes, w1)
        expected[2:5, 2:5] += np.abs(g).sum(axis=0) / n
    np.testing.assert_allclose(whole, expected, rtol=1e-10, atol=1e-15)


def test_erf_size_and_std_by_hand() -> None:
    erf = np.zeros((7, 7))
    erf[3, 3] = 6.0
    erf[3, 1] = erf[3, 5] = 2.0  # 60 % in the centre, 20 % two columns either side
    assert erf_size(erf, 0.5) == 1
    assert erf_size(erf, 0.7) == 5
    rows_std, cols_std = erf_std(erf)
    assert rows_std == 0.0
    assert cols_std == pytest.approx(math.sqrt(0.4 * 4))


# ------------------------------------------------------ state, input and errors
def stateful_model() -> nn.Sequential:
    """Batch norm and dropout (which eval mode changes), one frozen parameter, and one
    submodule already in eval mode while the rest trains."""
    torch.manual_seed(12)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 3),
    )
    model.train()
    model[3].eval()
    model[0].bias.requires_grad_(False)
    return model


CALLS = {
    "saliency": lambda m, x: saliency(m, x, 1),
    "smoothgrad": lambda m, x: smoothgrad(m, x, [0, 1], samples=2),
    "grad_cam": lambda m, x: grad_cam(m, m[2], x, 2),
    "class_activation_map": lambda m, x: class_activation_map(m, m[2], m[6], x, 2),
    "occlusion_map": lambda m, x: occlusion_map(m, x, 0, 2, 2),
    "effective_receptive_field": lambda m, x: effective_receptive_field(m[:3], x),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("as_tensor", [False, True])
def test_model_state_and_input_are_given_back(name: str, as_tensor: bool) -> None:
    model = stateful_model()
    modes = [m.training for m in model.modules()]
    flags = [p.requires_grad for p in model.parameters()]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x_np = images(2, (2, 6, 6), seed=12).astype(np.float32)
    x = torch.tensor(x_np) if as_tensor else x_np.copy()
    with torch.no_grad():  # a caller's no_grad does not stop the gradient methods
        first = CALLS[name](model, x)
    second = CALLS[name](model, x)
    assert isinstance(first, np.ndarray) and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)  # eval mode: no dropout, no batch statistics
    assert [m.training for m in model.modules()] == modes
    assert [p.requires_grad for p in model.parameters()] == flags
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert np.array_equal(np.asarray(x), x_np)
    if as_tensor:
        assert x.grad is None and not x.requires_grad


def test_the_state_comes_back_after_an_error_too() -> None:
    model = stateful_model()
    modes = [m.training for m in model.modules()]
    flags = [p.requires_grad for p in model.parameters()]
    with pytest.raises(ValueError):
        saliency(model, images(1, (2, 6, 6)), 3)
    assert [m.training for m in model.modules()] == modes
    assert [p.requires_grad for p in model.parameters()] == flags


class WithSpareLayer(nn.Module):
    """A network with a layer its forward pass never uses."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network
        self.spare = nn.Conv2d(2, 2, 1).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)


def test_bad_arguments_are_named() -> None:
    model = small_convnet(13)
    x = images(2, (2, 5, 5))
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        saliency("model", x, 0)
    with pytest.raises(ValueError, match=r"saliency: x must be 4-D"):
        saliency(model, x[0], 0)
    with pytest.raises(TypeError, match="x must hold floats"):
        saliency(model, (x * 10).astype(int), 0)
    with pytest.raises(TypeError, match="x must be a torch tensor or a numpy array"):
        saliency(model, x.tolist(), 0)
    with pytest.raises(ValueError, match="at least one image"):
        saliency(model, x[:0], 0)
    with pytest.raises(ValueError, match=r"target must be a class index from 0 to 2"):
        saliency(model, x, 3)
    with pytest.raises(ValueError, match=r"target must be a class index"):
        saliency(model, x, [0, -1])
    with pytest.raises(ValueError, match=r"target must be one int or 2 ints"):
        saliency(model, x, [0, 1, 2])
    with pytest.raises(TypeError, match="target must hold ints"):
        saliency(model, x, [0.0, 1.0])
    with pytest.raises(TypeError, match="target"):
        saliency(model, x, True)
    with pytest.raises(ValueError, match=r"class scores of shape \(N, classes\)"):
        saliency(model[:2], x, 0)
    with pytest.raises(ValueError, match="smoothgrad: samples must be positive"):
        smoothgrad(model, x, 0, samples=0)
    with pytest.raises(ValueError, match="smoothgrad: noise must be"):
        smoothgrad(model, x, 0, noise=-0.1)
    with pytest.raises(ValueError, match=r"layer \(Conv2d\) is not a module inside model"):
        grad_cam(model, nn.Conv2d(2, 4, 3), x, 0)
    with pytest.raises(TypeError, match=r"layer must be a torch\.nn\.Module"):
        grad_cam(model, "conv", x, 0)
    with pytest.raises(ValueError, match=r"layer must output feature maps \(N, K, h, w\)"):
        grad_cam(model, model[5], x, 0)
    with pytest.raises(TypeError, match="upsample must be True or False"):
        grad_cam(model, model[3], x, 0, upsample="yes")
    unused = WithSpareLayer(model)
    with pytest.raises(ValueError, match="layer did not run"):
        grad_cam(unused, unused.spare, x, 0)
    relu = nn.ReLU()
    twice = nn.Sequential(
        nn.Conv2d(2, 2, 1), relu, nn.Conv2d(2, 2, 1), relu, nn.AdaptiveAvgPool2d(1), nn.Flatten()
    ).double()
    with pytest.raises(ValueError, match="layer ran 2 times"):
        grad_cam(twice, relu, x, 0)
    with pytest.raises(ValueError, match="window \\(6, 6\\) is larger than the images"):
        occlusion_map(model, x, 0, 6, 1)
    with pytest.raises(ValueError, match="stride must be positive"):
        occlusion_map(model, x, 0, 2, 0)
    with pytest.raises(TypeError, match="fill must be a number"):
        occlusion_map(model, x, 0, 2, 1, fill="zero")
    with pytest.raises(ValueError, match="fill must be a finite number"):
        occlusion_map(model, x, 0, 2, 1, fill=float("nan"))
    with pytest.raises(ValueError, match=r"model must output feature maps"):
        effective_receptive_field(model, x)
    with pytest.raises(ValueError, match=r"effective_receptive_field: x must be 4-D"):
        effective_receptive_field(model[:2], x[0])
    with pytest.raises(TypeError, match=r"effective_receptive_field: x must be a torch tensor"):
        effective_receptive_field(model[:2], (2, 5, 5))
    with pytest.raises(ValueError, match="mass must be above 0"):
        erf_size(np.ones((3, 3)), 0.0)
    with pytest.raises(ValueError, match="mass must be between 0 and 1"):
        erf_size(np.ones((3, 3)), 1.5)
    with pytest.raises(ValueError, match="erf must not be negative"):
        erf_std(-np.ones((3, 3)))
    with pytest.raises(ValueError, match="erf is zero everywhere"):
        erf_std(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="erf must be 2-D"):
        erf_size(np.ones(3))


def test_a_float32_model_takes_float64_images() -> None:
    model = small_convnet(14).float()
    x = images(2, (2, 5, 5), seed=14)  # float64
    got = saliency(model, x, 0)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, saliency(model, x.astype(np.float32), 0))
