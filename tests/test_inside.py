"""convkit.lessons.inside (chapter 13) and fit's per-batch perturbation."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from torch import nn

from convkit.data import Digits
from convkit.explain import class_activation_map, grad_cam
from convkit.lessons.adversarial import pgd
from convkit.lessons.inside import (
    deletion_drop,
    gap_digit_net,
    maximise_activation,
    randomised_from_top,
    rank_correlation,
)
from convkit.lessons.learned import neighbour_correlation
from convkit.training import fit, seed_everything


def test_gap_net_shapes_and_cam_identity() -> None:
    torch.manual_seed(0)
    net = gap_digit_net(4).eval()
    x = torch.rand(3, 1, 28, 28)
    assert net(x).shape == (3, 10)
    assert net.features(x).shape == (3, 16, 7, 7)
    cam = class_activation_map(net, net.features, net.classifier, x, [1, 2, 3], upsample=False)
    gc = grad_cam(net, net.features[-1], x, [1, 2, 3], upsample=False)
    np.testing.assert_allclose(np.maximum(cam, 0) / 49, gc, atol=1e-6)
    with pytest.raises(ValueError, match="width"):
        gap_digit_net(0)


def test_rank_correlation_matches_scipy_with_ties_and_nan() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, size=(4, 6, 6)).astype(float)  # many ties
    b = a + rng.normal(scale=2.0, size=a.shape)
    got = rank_correlation(a, b)
    want = [spearmanr(a[i].ravel(), b[i].ravel())[0] for i in range(4)]
    np.testing.assert_allclose(got, want, atol=1e-12)
    a[0, 0, :] = np.nan  # left out of both
    keep = ~np.isnan(a[0].ravel())
    assert rank_correlation(a, b)[0] == pytest.approx(
        spearmanr(a[0].ravel()[keep], b[0].ravel()[keep])[0]
    )
    assert rank_correlation(np.ones((1, 3, 3)), b[:1, :3, :3])[0] == 0.0
    np.testing.assert_allclose(rank_correlation(b, -b), -1.0)
    with pytest.raises(ValueError, match="one shape"):
        rank_correlation(a, b[:, :3])


def test_randomised_from_top_goes_down_one_layer_at_a_time() -> None:
    torch.manual_seed(0)
    net = gap_digit_net(2)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    names = []
    for name, copy in randomised_from_top(net, seed=1):
        names.append(name)
        changed = {k.rsplit(".", 1)[0] for k, v in copy.state_dict().items()
                   if v.dtype.is_floating_point and not torch.equal(v, before[k])}  # fmt: skip
        assert changed == set(names)  # this layer and all above it, nothing else
    assert names == ["classifier", "features.8", "features.4", "features.0"]
    for k, v in net.state_dict().items():  # the model itself is untouched
        assert torch.equal(v, before[k])
    again = [c.state_dict() for _, c in randomised_from_top(net, seed=1)]
    last = list(randomised_from_top(net, seed=1))[-1][1].state_dict()
    assert all(torch.equal(again[-1][k], last[k]) for k in last)  # seeded


def test_deletion_drop_removes_the_ranked_pixels() -> None:
    # a model whose class-0 logit is the sum of the top-left quarter
    class Quarter(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            s = x[:, 0, :2, :2].sum(dim=(1, 2))
            return torch.stack([s, torch.zeros_like(s)], dim=1)

    x = np.ones((2, 1, 4, 4), dtype=np.float32)
    model = Quarter()
    good = np.zeros((2, 4, 4))
    good[:, :2, :2] = 1.0  # ranks the quarter first
    bad = 1.0 - good
    p_before = 1 / (1 + np.exp(-4.0))  # softmax of (4, 0)
    assert deletion_drop(model, x, [0, 0], good, 0.25) == pytest.approx(p_before - 0.5)
    assert deletion_drop(model, x, [0, 0], bad, 0.25) == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(ValueError, match="maps"):
        deletion_drop(model, x, [0, 0], good[:, :2], 0.25)


def test_maximise_activation_of_a_linear_unit_is_its_filter() -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 2, 3, bias=False)
    img = maximise_activation(conv, 1, (1, 5, 5), steps=400, lr=0.05, l2=1.0)
    # the optimum of w.x - ||x||^2 is w / 2 on the centre unit's window, 0 elsewhere
    want = np.zeros((1, 5, 5), dtype=np.float32)
    want[0, 1:4, 1:4] = conv.weight[1, 0].detach().numpy() / 2
    np.testing.assert_allclose(img, want, atol=2e-3)
    assert conv.training and all(p.requires_grad for p in conv.parameters())
    with pytest.raises(ValueError, match="K > 5"):
        maximise_activation(conv, 5, (1, 5, 5), steps=1)


def test_blur_smooths_the_synthesised_input() -> None:
    torch.manual_seed(0)
    conv = nn.Sequential(nn.Conv2d(1, 1, 5, bias=False), nn.ReLU(), nn.Conv2d(1, 1, 5))
    plain = maximise_activation(conv, 0, (1, 15, 15), steps=60)
    smooth = maximise_activation(conv, 0, (1, 15, 15), steps=60, blur=True)
    assert neighbour_correlation(smooth) > neighbour_correlation(plain)


def test_fit_perturb_trains_on_the_perturbed_batches() -> None:
    rng = np.random.default_rng(0)
    data = Digits(rng.random((64, 1, 8, 8), dtype=np.float32), rng.integers(0, 2, 64),
                  rng.random((16, 1, 8, 8), dtype=np.float32), rng.integers(0, 2, 16))  # fmt: skip
    seen = []

    def record(model, xb, yb):
        seen.append(xb.clone())
        return torch.zeros_like(xb)  # train on blank images

    seed_everything(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    fit(net, data, epochs=1, batch_size=32, seed=0, progress=False, perturb=record)
    assert len(seen) == 2 and all(s.shape == (32, 1, 8, 8) for s in seen)
    seed_everything(0)
    blank = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    fit(blank, Digits(np.zeros_like(data.x_train), data.y_train, data.x_test, data.y_test),
        epochs=1, batch_size=32, seed=0, progress=False)  # fmt: skip
    for a, b in zip(net.parameters(), blank.parameters(), strict=True):
        assert torch.allclose(a, b)  # the same steps as training on blank images
    with pytest.raises(ValueError, match="perturb must return"):
        fit(net, data, epochs=1, progress=False, perturb=lambda m, x, y: x[:1])
    with pytest.raises(TypeError, match="perturb"):
        fit(net, data, epochs=1, progress=False, perturb=3)


def test_adversarial_training_is_reproducible() -> None:
    rng = np.random.default_rng(1)
    data = Digits(rng.random((64, 1, 8, 8), dtype=np.float32), rng.integers(0, 2, 64),
                  rng.random((16, 1, 8, 8), dtype=np.float32), rng.integers(0, 2, 16))  # fmt: skip
    attack = functools.partial(pgd, epsilon=0.1, step=0.05, steps=2)
    runs = []
    for _ in range(2):
        seed_everything(0)
        net = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
        fit(net, data, epochs=2, batch_size=16, seed=3, progress=False, perturb=attack)
        runs.append(torch.cat([p.detach().ravel() for p in net.parameters()]))
    assert torch.equal(runs[0], runs[1])
