"""The famous architectures in convkit.nn.models: parameter counts, shapes and building blocks.

Large models are built on the "meta" device: parameters have shapes but no
storage, so counting them and tracing a 224x224 forward pass costs almost nothing.
"""

import pytest
import torch
from torch import nn

from convkit.nn.models import (
    C3_CONNECTIONS,
    DIGIT_BITMAPS,
    BasicBlock,
    Bottleneck,
    EuclideanRBF,
    Inception,
    PartialConv2d,
    ScaledTanh,
    TrainableSubsampling,
    alexnet,
    count_params,
    digit_codes,
    googlenet,
    layer_summary,
    lenet5,
    lenet5_1998,
    resnet18,
    resnet50,
    vgg16,
    vgg_block,
)

pytestmark = pytest.mark.usefixtures("one_thread")

BIG_MODELS = {
    "alexnet": (alexnet, 61_100_840),
    "vgg16": (vgg16, 138_357_544),
    "googlenet": (googlenet, 6_624_904),
    "resnet18": (resnet18, 11_689_512),
    "resnet50": (resnet50, 25_557_032),
}


def on_meta(builder, *args, **kwargs) -> nn.Module:
    with torch.device("meta"):
        return builder(*args, **kwargs)


# ------------------------------------------------------------------ reference counts


@pytest.mark.parametrize("name", list(BIG_MODELS))
def test_reference_parameter_counts(name):
    builder, expected = BIG_MODELS[name]
    model = on_meta(builder)
    assert count_params(model) == expected
    assert count_params(model, trainable_only=False) == expected


@pytest.mark.parametrize("name", list(BIG_MODELS))
def test_forward_shape_at_224_on_meta(name):
    model = on_meta(BIG_MODELS[name][0]).eval()
    out = model(torch.empty(2, 3, 224, 224, device="meta"))
    assert out.shape == (2, 1000)


def test_feature_map_shapes_at_224():
    x = torch.empty(1, 3, 224, 224, device="meta")
    assert on_meta(alexnet).features(x).shape == (1, 256, 6, 6)
    vgg_sides = [tuple(s.shape[1:]) for s in _stage_outputs(on_meta(vgg16).features, x)]
    assert vgg_sides == [(64, 112, 112), (128, 56, 56), (256, 28, 28), (512, 14, 14), (512, 7, 7)]
    net = on_meta(resnet50)
    h = net.stem(x)
    assert h.shape == (1, 64, 56, 56)
    sides = []
    for stage in (net.stage1, net.stage2, net.stage3, net.stage4):
        h = stage(h)
        sides.append(tuple(h.shape[1:]))
    assert sides == [(256, 56, 56), (512, 28, 28), (1024, 14, 14), (2048, 7, 7)]


def _stage_outputs(seq: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    outs = []
    for block in seq:
        x = block(x)
        outs.append(x)
    return outs


def test_num_classes_changes_only_the_last_layer():
    assert count_params(on_meta(resnet18, num_classes=10)) == 11_689_512 - 990 * 513
    assert on_meta(alexnet, num_classes=7).classifier[-1].out_features == 7


def test_googlenet_branch_kernel_and_small_real_forward():
    """torchvision's 3x3 "5x5" branch gives 6,624,904; the paper's 5x5 gives 7,005,832."""
    assert count_params(on_meta(googlenet, wide_kernel=5)) == 7_005_832
    torch.manual_seed(0)
    net = googlenet(num_classes=5).eval()
    out = net(torch.randn(1, 3, 64, 64))
    assert out.shape == (1, 5) and torch.isfinite(out).all()
    bn = net.conv1[1]
    assert isinstance(bn, nn.BatchNorm2d) and bn.eps == pytest.approx(1e-3)
    assert net.conv1[0].bias is None
    with pytest.raises(ValueError, match="wide_kernel"):
        googlenet(wide_kernel=4)


def test_resnet18_small_real_forward():
    torch.manual_seed(0)
    out = resnet18(num_classes=3).eval()(torch.randn(2, 3, 48, 48))
    assert out.shape == (2, 3) and torch.isfinite(out).all()


# ------------------------------------------------------------------------- LeNet-5


def test_lenet5_modern_count_layers_and_forward():
    torch.manual_seed(0)
    model = lenet5()
    assert count_params(model) == 61_706
    rows = layer_summary(model, (1, 28, 28))
    by_name = {r.name: (r.output_shape[1:], r.params) for r in rows}
    assert by_name["conv1"] == ((6, 28, 28), 156)
    assert by_name["conv2"] == ((16, 10, 10), 2_416)
    assert by_name["fc1"] == ((120,), 48_120)
    assert by_name["fc2"] == ((84,), 10_164)
    assert by_name["fc3"] == ((10,), 850)
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert count_params(lenet5(num_classes=26)) == 61_706 - 850 + 85 * 26


LENET_1998_LAYERS = {"C1": 156, "S2": 12, "C3": 1_516, "S4": 32, "C5": 48_120, "F6": 10_164}


def test_lenet5_1998_per_layer_counts_total_60000():
    model = lenet5_1998()
    rows = layer_summary(model, (1, 32, 32))
    with_params = {r.name: r.params for r in rows if r.params}
    assert with_params == LENET_1998_LAYERS
    assert sum(LENET_1998_LAYERS.values()) == 60_000
    assert count_params(model) == 60_000
    assert count_params(model, trainable_only=False) == 60_000
    shapes = {r.name: r.output_shape[1:] for r in rows}
    assert shapes["C1"] == (6, 28, 28) and shapes["S2"] == (6, 14, 14)
    assert shapes["C3"] == (16, 10, 10) and shapes["S4"] == (16, 5, 5)
    assert shapes["C5"] == (120, 1, 1) and shapes["F6"] == (84,) and shapes["output"] == (10,)
    assert lenet5(form="1998").C3.connections == C3_CONNECTIONS


def test_lenet5_form_errors():
    with pytest.raises(ValueError, match="form"):
        lenet5(form="2012")
    with pytest.raises(ValueError, match="num_classes"):
        lenet5(form="1998", num_classes=5)


def test_c3_connection_table_is_the_papers():
    assert len(C3_CONNECTIONS) == 16
    assert [len(c) for c in C3_CONNECTIONS] == [3] * 6 + [4] * 9 + [6]
    assert C3_CONNECTIONS[0] == (0, 1, 2) and C3_CONNECTIONS[4] == (4, 5, 0)
    assert C3_CONNECTIONS[9] == (3, 4, 5, 0)
    assert C3_CONNECTIONS[12:15] == ((0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5))
    assert sum(len(c) for c in C3_CONNECTIONS) == 60


def test_partial_conv_ignores_unconnected_maps_and_matches_dense_conv():
    torch.manual_seed(0)
    conv = PartialConv2d(6, C3_CONNECTIONS, kernel_size=5)
    x = torch.randn(2, 6, 14, 14)
    out = conv(x)
    assert out.shape == (2, 16, 10, 10)
    x2 = x.clone()
    x2[:, 5] += 3.0  # map 5 is not read by C3 maps 0, 1, 2, 6, 7, 12
    changed = (conv(x2) - out).abs().amax(dim=(0, 2, 3)) > 1e-6
    readers = {j for j, c in enumerate(C3_CONNECTIONS) if 5 in c}
    assert {j for j in range(16) if changed[j]} == readers
    full = conv.full_weight()
    mask = torch.zeros(16, 6, dtype=torch.bool)
    for j, inputs in enumerate(C3_CONNECTIONS):
        mask[j, list(inputs)] = True
    assert (full[~mask] == 0).all() and (full[mask] != 0).all()
    torch.testing.assert_close(out, nn.functional.conv2d(x, full, conv.bias))
    out.sum().backward()
    assert conv.weight.grad.shape == (60, 5, 5)


def test_partial_conv_validates_table():
    with pytest.raises(ValueError, match="input maps"):
        PartialConv2d(3, [(0, 3)], 3)
    with pytest.raises(ValueError, match="distinct"):
        PartialConv2d(3, [(1, 1)], 3)


def test_trainable_subsampling_sums_blocks():
    layer = TrainableSubsampling(2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([0.5, -1.0]))
        layer.bias.copy_(torch.tensor([0.25, 2.0]))
    x = torch.arange(32.0).reshape(1, 2, 4, 4)
    out = layer(x)
    expected_00 = 0.5 * (0 + 1 + 4 + 5) + 0.25
    expected_1_11 = -1.0 * (26 + 27 + 30 + 31) + 2.0
    assert out.shape == (1, 2, 2, 2)
    assert out[0, 0, 0, 0].item() == pytest.approx(expected_00)
    assert out[0, 1, 1, 1].item() == pytest.approx(expected_1_11)
    assert count_params(layer) == 4


def test_scaled_tanh():
    f = ScaledTanh()
    values = f(torch.tensor([-1.0, 0.0, 1.0, 100.0]))
    torch.testing.assert_close(values[:3], torch.tensor([-1.0, 0.0, 1.0]), atol=1e-4, rtol=0)
    assert values[3].item() == pytest.approx(1.7159)


def test_rbf_codes_fixed_distinct_and_not_trainable():
    codes = digit_codes()
    assert codes.shape == (10, 84) and DIGIT_BITMAPS.shape == (10, 12, 7)
    assert set(codes.unique().tolist()) == {-1.0, 1.0}
    hamming = (codes[:, None, :] != codes[None, :, :]).sum(dim=2)
    off_diagonal = hamming[~torch.eye(10, dtype=torch.bool)]
    assert off_diagonal.min().item() >= 10
    model = lenet5_1998()
    rbf = model.output
    assert isinstance(rbf, EuclideanRBF)
    assert all(p is not rbf.centres for p in model.parameters())
    assert not rbf.centres.requires_grad
    torch.testing.assert_close(rbf.centres, codes)
    model(torch.randn(2, 1, 32, 32)).sum().backward()
    assert rbf.centres.grad is None
    assert all(p.grad is not None for p in model.parameters())


def test_rbf_scores_are_minus_squared_distances():
    rbf = EuclideanRBF(digit_codes())
    x = digit_codes()[[3, 7]] * 0.9
    scores = rbf(x)
    expected = -((x[:, None, :] - digit_codes()[None]) ** 2).sum(dim=2)
    torch.testing.assert_close(scores, expected)
    assert scores.argmax(dim=1).tolist() == [3, 7]
    torch.testing.assert_close(rbf.penalties(x), -scores)


def test_lenet5_1998_forward():
    torch.manual_seed(0)
    out = lenet5_1998()(torch.rand(4, 1, 32, 32))
    assert out.shape == (4, 10) and (out <= 0).all()


# -------------------------------------------------------------------------- blocks


def test_vgg_block_shape_and_params():
    block = vgg_block(2, 3, 64)
    assert block(torch.randn(2, 3, 32, 32)).shape == (2, 64, 16, 16)
    assert count_params(block) == (3 * 9 + 1) * 64 + (64 * 9 + 1) * 64
    assert count_params(vgg_block(3, 256, 512)) == (256 * 9 + 1) * 512 + 2 * (512 * 9 + 1) * 512
    with pytest.raises(ValueError):
        vgg_block(0, 3, 8)


def test_basic_block_identity_shortcut():
    block = BasicBlock(16, 16)
    assert isinstance(block.shortcut, nn.Identity)
    assert count_params(block) == 2 * 9 * 16 * 16 + 4 * 16
    x = torch.rand(2, 16, 8, 8)
    assert block(x).shape == (2, 16, 8, 8)
    # With the last batch norm's scale and shift at zero the residual vanishes:
    # the block passes a non-negative input through unchanged ("do nothing" is easy).
    with torch.no_grad():
        block.residual[-1].weight.zero_()
        block.residual[-1].bias.zero_()
    torch.testing.assert_close(block.eval()(x), x)


@pytest.mark.parametrize(("c_in", "c_out", "stride"), [(16, 32, 2), (16, 32, 1), (16, 16, 2)])
def test_basic_block_projection_shortcut(c_in, c_out, stride):
    block = BasicBlock(c_in, c_out, stride)
    assert not isinstance(block.shortcut, nn.Identity)
    projection = c_in * c_out + 2 * c_out
    assert count_params(block.shortcut) == projection
    assert count_params(block) == 9 * c_in * c_out + 9 * c_out * c_out + 4 * c_out + projection
    out = block(torch.randn(2, c_in, 9, 9))
    side = -(-9 // stride)
    assert out.shape == (2, c_out, side, side)


def test_bottleneck_blocks():
    identity = Bottleneck(256, 64)
    assert isinstance(identity.shortcut, nn.Identity) and identity.out_channels == 256
    assert count_params(identity) == 256 * 64 + 9 * 64 * 64 + 64 * 256 + 2 * (64 + 64 + 256)
    projected = Bottleneck(64, 64)
    assert count_params(projected.shortcut) == 64 * 256 + 2 * 256
    down = Bottleneck(256, 128, stride=2)
    assert down(torch.randn(1, 256, 8, 8)).shape == (1, 512, 4, 4)
    with pytest.raises(ValueError):
        Bottleneck(64, 64, stride=0)


def test_inception_concatenates_branches():
    block = Inception(192, 64, 96, 128, 16, 32, 32)  # the paper's 5x5 branch
    assert block.out_channels == 256
    assert block(torch.randn(1, 192, 7, 7)).shape == (1, 256, 7, 7)
    narrow = Inception(192, 64, 96, 128, 16, 32, 32, wide_kernel=3)
    assert narrow(torch.randn(1, 192, 7, 7)).shape == (1, 256, 7, 7)
    assert count_params(block) - count_params(narrow) == 16 * 32 * (25 - 9)
