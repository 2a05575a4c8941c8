"""The pure-numpy trainer against torch: layers, gradients, Adam, one training step, fit."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from convkit.data import Digits
from convkit.nn.models import digit_cnn
from convkit.nn.numpy_net import (
    Adam,
    MaxPool2dLayer,
    NumpyNet,
    softmax_cross_entropy,
)
from convkit.ops._fastpath import BufferPool
from convkit.ops.conv_cached import conv2d_backward_cached, conv2d_forward_cached
from convkit.training import fit, fit_numpy
from convkit.training.history import History
from convkit.training.numpy_trainer import ShardedStep

pytestmark = pytest.mark.usefixtures("one_thread")


def _batch(n=12, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 28, 28)).astype(dtype), rng.integers(0, 10, n)


def _torch_grads(model, x, y):
    model.zero_grad()
    loss = F.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    return loss.item(), [p.grad.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize(("fast", "workers"), [(True, 1), (True, 2), (False, 1)])
def test_every_layer_gradient_matches_torch_autograd(fast, workers):
    """Loss and the gradient of every parameter of digit_cnn == torch autograd (float64)."""
    torch.manual_seed(0)
    model = digit_cnn().double()
    x, y = _batch()
    want_loss, want = _torch_grads(model, x, y)
    net = NumpyNet.from_torch(model, np.float64, fast=fast)
    loss_sum, correct, grads = ShardedStep(net, workers)(x, y)
    assert loss_sum / len(y) == pytest.approx(want_loss, rel=1e-12)
    with torch.no_grad():
        assert correct == int((model(torch.from_numpy(x)).argmax(1).numpy() == y).sum())
    names = [name for name, _ in net.named_parameters()]
    assert names == [name for name, _ in model.named_parameters()]
    for name, got, ref in zip(names, grads, want, strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12, err_msg=name)


def test_one_step_gives_the_same_weights_as_a_torch_step():
    """One fit_numpy step (whole batch, float64) == one torch Adam step from the same weights."""
    torch.manual_seed(1)
    model = digit_cnn().double()
    x, y = _batch(16, seed=1)
    data = Digits(x, y, x[:4], y[:4])
    net = NumpyNet.from_torch(model, np.float64)

    history = fit_numpy(net, data, epochs=1, batch_size=16, lr=2e-3, progress=False)

    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    _torch_grads(model, x, y)
    optimizer.step()
    for (name, got), ref in zip(net.named_parameters(), model.parameters(), strict=True):
        np.testing.assert_allclose(got, ref.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    assert history.epochs == 1


def test_adam_matches_torch_over_several_steps():
    rng = np.random.default_rng(2)
    params = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    tparams = [torch.tensor(p, requires_grad=True) for p in params]
    ours = Adam([p.copy() for p in params], lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    theirs = torch.optim.Adam(tparams, lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    for _ in range(5):
        grads = [rng.standard_normal(p.shape) for p in params]
        ours.step(grads)
        for tp, g in zip(tparams, grads, strict=True):
            tp.grad = torch.from_numpy(g)
        theirs.step()
    for p, tp in zip(ours.params, tparams, strict=True):
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_softmax_cross_entropy_matches_torch():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((7, 10)) * 20  # large values: the max shift matters
    labels = rng.integers(0, 10, 7)
    t = torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(t, torch.from_numpy(labels))
    loss.backward()
    loss_sum, grad = softmax_cross_entropy(logits, labels)
    assert loss_sum / 7 == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-10, atol=1e-15)
    _, half = softmax_cross_entropy(logits, labels, divisor=14)
    np.testing.assert_allclose(half, t.grad.numpy() / 2, rtol=1e-10, atol=1e-15)


@settings(max_examples=40)
@given(
    st.sampled_from([(2, 2), (3, 3), (2, 3), (3, 2), (1, 1)]),
    st.sampled_from([(2, 2), (1, 1), (3, 2), (1, 2)]),
    st.integers(3, 9),
    st.integers(3, 9),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**31 - 1),
)
def test_max_pool_layer_matches_torch_with_ties(kernel, stride, h, w, channel_major, pad, seed):
    """Output and gradient == torch (ties go to the first maximum), any memory layout,
    with or without padding."""
    if h < kernel[0] or w < kernel[1]:
        return
    padding = (kernel[0] // 2, kernel[1] // 2) if pad else (0, 0)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (2, 3, h, w)).astype(np.float64)  # small ints: many ties
    if channel_major:
        x = x.transpose(1, 2, 3, 0).copy().transpose(3, 0, 1, 2)
    layer = MaxPool2dLayer(kernel, stride, padding)
    out, cache = layer.forward(x)
    grad_out = rng.standard_normal(out.shape)
    grad_x, _ = layer.backward(grad_out, cache)
    if not pad:  # the gradient keeps the input's memory layout
        assert grad_x.strides == x.strides
    tx = torch.from_numpy(np.ascontiguousarray(x)).requires_grad_()
    tout = F.max_pool2d(tx, kernel, stride, padding)
    tout.backward(torch.from_numpy(grad_out))
    np.testing.assert_array_equal(out, tout.detach().numpy())
    np.testing.assert_allclose(grad_x, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_max_pool_layer_with_padding_matches_torch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 2, 5, 5))
    layer = MaxPool2dLayer((3, 3), (2, 2), (1, 1))
    out, cache = layer.forward(x)
    grad_x, _ = layer.backward(np.ones_like(out), cache)
    tx = torch.from_numpy(x).requires_grad_()
    F.max_pool2d(tx, 3, 2, 1).sum().backward()
    np.testing.assert_allclose(out, F.max_pool2d(torch.from_numpy(x), 3, 2, 1).numpy())
    np.testing.assert_allclose(grad_x, tx.grad.numpy())


@pytest.mark.parametrize(
    ("shape", "c_out", "kernel", "stride", "padding"),
    [((3, 2, 7, 6), 4, (3, 2), (2, 1), (1, 0)), ((2, 3, 5, 5), 2, (5, 5), (1, 1), (2, 2))],
)
def test_cached_conv_matches_torch(shape, c_out, kernel, stride, padding):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    weight = rng.standard_normal((c_out, shape[1], *kernel))
    bias = rng.standard_normal(c_out)
    out, cache = conv2d_forward_cached(x, weight, bias, stride, padding)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, weight, bias))
    tout = F.conv2d(tx, tw, tb, stride=stride, padding=padding)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    grad_out = rng.standard_normal(out.shape)
    tout.backward(torch.from_numpy(grad_out))
    grad_x, grad_w, grad_b = conv2d_backward_cached(grad_out, cache, weight)
    for got, ref in [(grad_x, tx.grad), (grad_w, tw.grad), (grad_b, tb.grad)]:
        np.testing.assert_allclose(got, ref.numpy(), rtol=1e-11, atol=1e-12)
    with pytest.raises(ValueError, match="already run"):
        conv2d_backward_cached(grad_out, cache, weight)


def test_buffer_pool_hands_out_each_array_once():
    pool = BufferPool(per_shape=1)
    a = pool.take((2, 3), np.float32)
    b = pool.take((2, 3), np.float32)
    assert a is not b
    pool.give(a)
    pool.give(b)  # over the limit: dropped
    assert pool.take((2, 3), np.float32) is a
    assert pool.take((2, 3), np.float32) is not b
    small = BufferPool(max_bytes=16)
    big = small.take((5,), np.float64)  # 40 bytes: not kept
    small.give(big)
    assert small.take((5,), np.float64) is not big


def test_buffer_pool_keeps_at_most_max_total_bytes_dropping_the_oldest():
    pool = BufferPool(max_total_bytes=64)
    old, new = pool.take((4,), np.float64), pool.take((2, 2), np.float64)  # 32 bytes each
    pool.give(old)
    pool.give(new)
    extra = pool.take((3,), np.float64)
    pool.give(extra)  # 88 bytes: the oldest spare goes
    assert pool.take((4,), np.float64) is not old
    assert pool.take((2, 2), np.float64) is new
    assert pool.take((3,), np.float64) is extra


def test_predict_and_accuracy_match_torch():
    torch.manual_seed(10)
    model = digit_cnn()
    x, _ = _batch(30, seed=10, dtype=np.float32)
    with torch.no_grad():
        want = model(torch.from_numpy(x)).argmax(1).numpy()
    net = NumpyNet.from_torch(model)
    np.testing.assert_array_equal(net.predict(x, batch_size=7), want)
    assert net.accuracy(x, want) == 1.0
    with pytest.raises(ValueError, match="no images"):
        net.accuracy(x[:0], want[:0])


def test_from_torch_copies_and_rejects_unsupported_models():
    torch.manual_seed(6)
    model = digit_cnn()
    net = NumpyNet.from_torch(model)
    assert net.dtype == np.float32
    assert [layer.kind for layer in net.layers] == [
        "Conv2d",
        "ReLU",
        "MaxPool2d",
        "Conv2d",
        "ReLU",
        "MaxPool2d",
        "Flatten",
        "Linear",
        "ReLU",
        "Linear",
    ]
    x, _ = _batch(5, dtype=np.float32)
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(net(x), want, rtol=1e-4, atol=1e-5)
    net.parameters()[0][...] = 0  # a copy: the torch model is unchanged
    assert model.conv1.weight.abs().sum() > 0

    with pytest.raises(TypeError, match=r"nn\.Sequential"):
        NumpyNet.from_torch(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="unsupported layer"):
        NumpyNet.from_torch(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)))
    with pytest.raises(ValueError, match="groups=1"):
        NumpyNet.from_torch(nn.Sequential(nn.Conv2d(2, 2, 3, groups=2)))
    with pytest.raises(ValueError, match="bias"):
        NumpyNet.from_torch(nn.Sequential(nn.Linear(2, 2, bias=False)))
    with pytest.raises(ValueError, match="float32 or float64"):
        NumpyNet.from_torch(model, np.float16)


def _tiny_digits(n_train=96, n_test=40, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.random((n_train + n_test, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n_train + n_test)
    return Digits(x[:n_train], y[:n_train], x[n_train:], y[n_train:])


def test_fit_numpy_follows_fit_batch_for_batch():
    """Same seed, same batches, same shifts, same maths: fit_numpy's weights track fit's."""
    data = _tiny_digits()
    torch.manual_seed(8)
    a = digit_cnn()
    b = digit_cnn()
    b.load_state_dict(a.state_dict())
    kwargs = {"epochs": 2, "batch_size": 40, "lr": 1e-3, "augment_shift": 2, "seed": 3}
    h_torch = fit(a, data, progress=False, threads=1, **kwargs)
    h_numpy = fit_numpy(b, data, progress=False, threads=1, **kwargs)
    assert isinstance(h_numpy, History) and h_numpy.epochs == 2
    # float32 in both; another batch order changes the losses by ~1e-3 and weights by ~1e-2
    np.testing.assert_allclose(h_numpy.train_loss, h_torch.train_loss, rtol=1e-5)
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        # the trained numpy weights were copied back into b; Adam turns float32 rounding
        # of near-zero gradients into differences of up to ~1e-4 (lr is 1e-3)
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), atol=1e-3, err_msg=name)


def test_fit_numpy_history_and_arguments():
    data = _tiny_digits()
    torch.manual_seed(9)
    history = fit_numpy(digit_cnn(), data, epochs=2, batch_size=32, progress=False)
    assert history.epochs == 2
    assert 0 < history.seconds[0] < history.seconds[1]
    assert all(0 <= a <= 1 for a in history.train_acc + history.test_acc)
    with pytest.raises(TypeError, match="NumpyNet or a torch"):
        fit_numpy("model", data, epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        fit_numpy(digit_cnn(), data, epochs=0)
    with pytest.raises(ValueError, match="augment_shift"):
        fit_numpy(digit_cnn(), data, epochs=1, augment_shift=28)
    with pytest.raises(ValueError, match="lr"):
        fit_numpy(digit_cnn(), data, epochs=1, lr=-1.0)


@pytest.mark.slow
def test_fit_numpy_learns_real_digits():
    """Three numpy epochs of the "plain" recipe on the real 4,000/1,000 split: >= 95 %."""
    from convkit.data import load_mnist
    from convkit.training import RECIPES

    recipe = dict(RECIPES["plain"], epochs=3)
    torch.manual_seed(0)
    history = fit_numpy(digit_cnn(), load_mnist(), progress=False, **recipe)
    assert history.best_test_acc >= 0.95
    assert history.train_loss[-1] < history.train_loss[0]
