"""Depth experiments (chapter 8): degradation in batch-normalised conv stacks, and the
older vanishing-gradient problem in unnormalised dense stacks."""

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from convkit.lessons.degradation import (
    ConvStack,
    DeepStack,
    activation_gradient_norms,
    conv_stack,
    plain_stack,
    residual_stack,
    run_degradation_experiment,
    run_vanishing_gradient_experiment,
    small_digits,
    spirals,
    train_briefly,
    train_recorded,
    training_accuracy,
    weight_gradient_norms,
)
from convkit.nn.models import BasicBlock
from convkit.viz.degradation import (
    plot_degradation,
    plot_training_errors,
    plot_training_losses,
    plot_weight_gradient_norms,
    trailing_mean,
)

pytestmark = pytest.mark.usefixtures("one_thread")


# ------------------------------------------------------------------ conv stacks (degradation)


def test_small_digits_shape_standardised_and_fixed():
    x, y = small_digits(200, side=7)
    assert x.shape == (200, 1, 7, 7) and x.dtype == torch.float32
    assert y.shape == (200,) and y.dtype == torch.int64 and set(y.tolist()) <= set(range(10))
    assert abs(x.mean().item()) < 1e-5 and abs(x.std().item() - 1) < 1e-5
    x2, y2 = small_digits(200, side=7)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    # side 7 averages 4 x 4 blocks of the 28 x 28 digit (before standardising)
    big, _ = small_digits(200, side=28)
    pooled = torch.nn.functional.avg_pool2d(big, 4)
    pooled = (pooled - pooled.mean()) / pooled.std()
    torch.testing.assert_close(pooled, x, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="side"):
        small_digits(10, side=29)
    with pytest.raises(ValueError, match="n must be at most"):
        small_digits(10**6)


def test_conv_stack_plain_and_residual_share_weights_and_differ_by_the_shortcut():
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    plain = conv_stack(3, 4, residual=False, seed=2)
    residual = conv_stack(3, 4, residual=True, seed=2)
    assert torch.rand(1).item() == before.item()  # global random state untouched
    for p, r in zip(plain.state_dict().values(), residual.state_dict().values(), strict=True):
        assert torch.equal(p, r)
    assert isinstance(plain, ConvStack) and all(isinstance(b, BasicBlock) for b in plain.blocks)
    assert len([m for m in plain.modules() if isinstance(m, torch.nn.Conv2d)]) == 2 * 3 + 1
    x = torch.randn(5, 1, 7, 7)
    plain.eval(), residual.eval()
    assert plain(x).shape == residual(x).shape == (5, 10)
    # the forward passes, written out
    h_plain = h_res = plain.stem(x)
    for block in plain.blocks:
        h_plain = torch.relu(block.residual(h_plain))
        h_res = torch.relu(block.residual(h_res) + h_res)
    torch.testing.assert_close(plain(x), plain.head(h_plain.mean((2, 3))))
    torch.testing.assert_close(residual(x), plain.head(h_res.mean((2, 3))))
    assert not torch.allclose(plain(x), residual(x))
    assert "residual=True" in repr(residual)


def test_train_recorded_is_seeded_and_records_what_autograd_gives():
    x, y = small_digits(100)
    first = train_recorded(conv_stack(1, 4, residual=True), x, y, steps=7, batch_size=30)
    again = train_recorded(conv_stack(1, 4, residual=True), x, y, steps=7, batch_size=30)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert first.losses.shape == first.errors.shape == (7,)
    assert first.gradient_norms.shape == (7, 4)  # stem, 2 convs, head
    assert np.all((first.errors >= 0) & (first.errors <= 1))
    other = train_recorded(conv_stack(1, 4, residual=True), x, y, steps=7, batch_size=30, seed=1)
    assert not np.array_equal(first.losses, other.losses)
    # step 0: the loss and gradients of the first batch of the seeded permutation
    model = conv_stack(1, 4, residual=True)
    idx = torch.randperm(100, generator=torch.Generator().manual_seed(0))[:30]
    loss = torch.nn.functional.cross_entropy(model.train()(x[idx]), y[idx])
    loss.backward()
    assert first.losses[0] == pytest.approx(loss.item(), rel=1e-6)
    convs = [m.weight.grad.norm().item() for m in model.modules()
             if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)]
    np.testing.assert_allclose(first.gradient_norms[0], convs, rtol=1e-5)


def test_train_recorded_bad_arguments():
    x, y = small_digits(20)
    model = conv_stack(1, 2, residual=False)
    with pytest.raises(ValueError, match="batch_size"):
        train_recorded(model, x, y, batch_size=21)
    with pytest.raises(ValueError, match="labels"):
        train_recorded(model, x, y[:5])
    with pytest.raises(ValueError, match="lr"):
        train_recorded(model, x, y, batch_size=10, lr=0)
    with pytest.raises(ValueError, match="Linear or Conv2d"):
        train_recorded(torch.nn.Flatten(), x, y, batch_size=10)


def test_degradation_bundle_small():
    result = run_degradation_experiment(1, 3, 4, n_train=80, steps=6, batch_size=20, tail=3)
    assert result.labels == ("plain, 4 layers", "plain, 8 layers",
                             "residual, 4 layers", "residual, 8 layers")
    assert [result.weight_layers[k] for k in result.labels] == [4, 8, 4, 8]
    rec = result.records["plain, 8 layers"]
    assert rec.gradient_norms.shape == (6, 8) and rec.errors.shape == (6,)
    assert result.final_error["plain, 8 layers"] == pytest.approx(rec.errors[-3:].mean())
    convs = rec.gradient_norms[:, :-1]
    expected = np.median(convs[:, 0] / convs[:, -1])
    assert result.gradient_ratio["plain, 8 layers"] == pytest.approx(expected)
    assert result.seconds > 0
    again = run_degradation_experiment(1, 3, 4, n_train=80, steps=6, batch_size=20, tail=3)
    assert again.final_error == result.final_error  # deterministic
    with pytest.raises(ValueError, match="tail"):
        run_degradation_experiment(1, 2, 2, n_train=40, steps=5, batch_size=20, tail=6)


def test_deeper_plain_stack_degrades_with_healthy_gradients_residual_does_not():
    # The chapter's setting: the claim the book makes, checked here as well.
    result = run_degradation_experiment()
    err, ratio = result.final_error, result.gradient_ratio
    shallow_plain, deep_plain, shallow_res, deep_res = result.labels
    assert err[deep_plain] > err[shallow_plain] + 0.2
    assert err[deep_res] <= err[shallow_res] and err[deep_res] < err[deep_plain]
    # not vanishing: the first convolution's gradient is of the last one's size or larger
    assert 0.5 < ratio[deep_plain] < 10
    init = result.records[deep_plain].gradient_norms[0]
    assert init[0] > init[-2]


# ------------------------------------------------------------- dense stacks (vanishing)


def test_spirals_shape_labels_and_determinism():
    x, y = spirals(n_per_class=50, classes=3, seed=1)
    assert x.shape == (150, 2) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and torch.bincount(y).tolist() == [50, 50, 50]
    assert x.norm(dim=1).max() <= 1.0 + 1e-6
    x2, _ = spirals(n_per_class=50, classes=3, seed=1)
    torch.testing.assert_close(x, x2)
    assert not torch.equal(x, spirals(n_per_class=50, classes=3, seed=2)[0])


def test_same_seed_same_weights_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    plain, residual = plain_stack(6, 8, seed=3), residual_stack(6, 8, seed=3)
    assert torch.rand(1).item() == before.item()
    for p, r in zip(plain.parameters(), residual.parameters(), strict=True):
        assert torch.equal(p, r)
    assert not plain.residual and residual.residual
    x = torch.randn(5, 2)
    assert plain(x).shape == residual(x).shape == (5, 3)
    assert not torch.allclose(plain(x), residual(x))


def test_he_init_draws_variance_two_over_fan_in_and_zero_biases():
    stack = plain_stack(30, 64, seed=0, init="he")
    weights = torch.cat([layer.weight.flatten() for layer in stack.layers])
    assert weights.var().item() == pytest.approx(2 / 64, rel=0.05)
    assert all(torch.count_nonzero(layer.bias) == 0 for layer in stack.layers)
    default = plain_stack(30, 64, seed=0)
    default_w = torch.cat([layer.weight.flatten() for layer in default.layers])
    assert default_w.var().item() == pytest.approx(1 / (3 * 64), rel=0.05)
    with pytest.raises(ValueError, match="init"):
        plain_stack(4, 4, init="xavier")


def test_residual_forward_is_relu_of_sum():
    stack = residual_stack(2, 4, seed=0)
    x = torch.randn(3, 2)
    h = torch.relu(stack.stem(x))
    f = stack.layers[1](torch.relu(stack.layers[0](h)))
    torch.testing.assert_close(stack(x), stack.head(torch.relu(h + f)))


def test_weight_gradient_norms_match_autograd_and_leave_grads_alone():
    x, y = spirals(n_per_class=20)
    model = plain_stack(4, 8, seed=0)
    norms = weight_gradient_norms(model, x, y)
    assert norms.shape == (6,) and norms.dtype == np.float64
    assert all(p.grad is None for p in model.parameters())
    torch.nn.functional.cross_entropy(model(x), y).backward()
    manual = [model.stem.weight.grad.norm().item()]
    manual += [layer.weight.grad.norm().item() for layer in model.layers]
    manual.append(model.head.weight.grad.norm().item())
    np.testing.assert_allclose(norms, manual, rtol=1e-6)


def test_plain_gradients_vanish_toward_the_input_he_init_and_residual_ones_do_not():
    x, y = spirals()
    plain = weight_gradient_norms(plain_stack(30, 32), x, y)
    he = weight_gradient_norms(plain_stack(30, 32, init="he"), x, y)
    residual = weight_gradient_norms(residual_stack(30, 32), x, y)
    assert plain.shape == he.shape == residual.shape == (32,)
    # The first layer of the plain stack gets a gradient at least 10x (here ~1e11x) smaller.
    assert plain[0] * 10 < residual[0]
    assert plain[0] < 1e-6 * plain[-1]
    assert residual[0] > 1e-2 * residual[-1]
    assert he[1] > 0.1 * he[-2]  # He initialisation alone keeps the gradient's size
    # In the plain stack the gradient shrinks layer after layer towards the input.
    assert np.all(np.diff(np.log(plain[5:-1])) > 0)


def test_training_deep_plain_stays_at_chance_residual_learns():
    x, y = spirals()
    plain, residual = plain_stack(30, 32), residual_stack(30, 32)
    plain_losses = train_briefly(plain, x, y, steps=120)
    residual_losses = train_briefly(residual, x, y, steps=120)
    assert plain_losses.shape == (120,)
    assert abs(plain_losses[-1] - math.log(3)) < 0.01
    assert residual_losses[-1] < 0.1
    assert training_accuracy(residual, x, y) > 0.95
    assert training_accuracy(plain, x, y) < 0.5


def test_vanishing_experiment_bundle_and_plots():
    result = run_vanishing_gradient_experiment(depth=10, width=16, shallow_depth=2, steps=5)
    assert len(result.labels) == 4 and set(result.losses) == set(result.labels)
    assert result.labels[2] == "plain, 10 layers, He init"
    assert result.weight_gradient_norms[result.labels[1]].shape == (12,)
    assert result.losses[result.labels[3]].shape == (5,)
    assert all(0 <= a <= 1 for a in result.train_accuracy.values())
    assert result.seconds > 0
    fig = plot_weight_gradient_norms(result.weight_gradient_norms)
    assert isinstance(fig, Figure) and fig.axes[0].get_yscale() == "log"
    assert len(fig.axes[0].get_lines()) == 4
    fig = plot_training_losses(result.losses, chance=math.log(3))
    assert isinstance(fig, Figure) and len(fig.axes[0].get_lines()) == 5


def test_activation_gradient_norms_sigmoid_vanishes_relu_holds():
    xavier = torch.nn.init.xavier_normal_

    def kaiming(w, generator):
        return torch.nn.init.kaiming_normal_(w, nonlinearity="relu", generator=generator)

    sigmoid = activation_gradient_norms(torch.sigmoid, xavier)
    relu = activation_gradient_norms(torch.relu, kaiming)
    assert sigmoid.shape == relu.shape == (20,)
    assert sigmoid[-1] / sigmoid[0] > 1e6  # layer 1 gets a millionth of layer 20's gradient
    assert max(relu[-1] / relu[0], relu[0] / relu[-1]) < 10
    np.testing.assert_array_equal(sigmoid, activation_gradient_norms(torch.sigmoid, xavier))
    short = activation_gradient_norms(torch.tanh, xavier, depth=3, width=8, seed=1)
    assert short.shape == (3,) and np.all(short > 0)
    with pytest.raises(ValueError):
        activation_gradient_norms(torch.tanh, xavier, depth=0)


# ------------------------------------------------------------------------------- figures


def test_trailing_mean():
    np.testing.assert_allclose(trailing_mean(np.array([1.0, 3, 5, 7]), 2), [1, 2, 4, 6])
    np.testing.assert_allclose(trailing_mean(np.arange(5.0), 1), np.arange(5.0))
    np.testing.assert_allclose(trailing_mean(np.arange(4.0), 10), [0, 0.5, 1, 1.5])
    with pytest.raises(ValueError):
        trailing_mean(np.zeros((2, 2)), 2)
    with pytest.raises(ValueError):
        trailing_mean(np.zeros(3), 0)


def test_error_and_degradation_figures():
    errors = {"plain": np.array([0.5, 0.4, 0.3]), "residual": np.array([0.5, 0.2, 0.1])}
    fig = plot_training_errors(errors, window=2)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2
    np.testing.assert_allclose(lines[0].get_ydata(), [50, 45, 35])
    norms = {"plain": np.array([1.0, 2.0, 3.0]), "residual": np.array([1.0, 1.0])}
    fig = plot_degradation(errors, norms, window=2)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fig.axes[1].get_yscale() == "log" and len(fig.axes[1].get_lines()) == 2


def test_bad_arguments():
    with pytest.raises(ValueError, match="even"):
        DeepStack(5, 8, residual=True)
    with pytest.raises(ValueError, match="blocks"):
        ConvStack(0, 8, residual=True)
    with pytest.raises(ValueError, match="labels"):
        weight_gradient_norms(plain_stack(2, 4), torch.zeros(3, 2), torch.zeros(4).long())
    with pytest.raises(ValueError, match="Linear or Conv2d"):
        weight_gradient_norms(torch.nn.ReLU(), torch.zeros(3, 2), torch.zeros(3).long())
    with pytest.raises(ValueError, match="lr"):
        train_briefly(plain_stack(2, 4), *spirals(n_per_class=5), lr=0)
    with pytest.raises(ValueError, match="no series"):
        plot_weight_gradient_norms({})
    with pytest.raises(ValueError, match="no series"):
        plot_training_errors({})
