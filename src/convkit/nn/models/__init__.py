"""convkit.nn.models: networks built in code for the chapters, and tools to inspect them.

Each module holds one family of networks; this file only re-exports them.
"""

from convkit.nn.models.alexnet import alexnet
from convkit.nn.models.digits import DIGIT_CNN_WIDTHS, digit_cnn
from convkit.nn.models.googlenet import GOOGLENET_INCEPTIONS, ConvBNReLU, Inception, googlenet
from convkit.nn.models.lenet import (
    C3_CONNECTIONS,
    DIGIT_BITMAPS,
    EuclideanRBF,
    PartialConv2d,
    ScaledTanh,
    TrainableSubsampling,
    digit_codes,
    lenet5,
    lenet5_1998,
)
from convkit.nn.models.modern import (
    ConvNeXtBlock,
    DepthwiseSeparableConv2d,
    PatchEmbedding,
    convnext_block_params,
    depthwise_separable_params,
    patch_embed,
    patchify,
)
from convkit.nn.models.resnet import BasicBlock, Bottleneck, resnet, resnet18, resnet50
from convkit.nn.models.summary import (
    LayerCost,
    LayerRow,
    count_params,
    format_summary,
    layer_costs,
    layer_summary,
    weight_depth,
)
from convkit.nn.models.vgg import VGG16_BLOCKS, vgg16, vgg_block

__all__ = [
    "C3_CONNECTIONS",
    "DIGIT_BITMAPS",
    "DIGIT_CNN_WIDTHS",
    "GOOGLENET_INCEPTIONS",
    "VGG16_BLOCKS",
    "BasicBlock",
    "Bottleneck",
    "ConvBNReLU",
    "ConvNeXtBlock",
    "DepthwiseSeparableConv2d",
    "EuclideanRBF",
    "Inception",
    "LayerCost",
    "LayerRow",
    "PartialConv2d",
    "PatchEmbedding",
    "ScaledTanh",
    "TrainableSubsampling",
    "alexnet",
    "convnext_block_params",
    "count_params",
    "depthwise_separable_params",
    "digit_cnn",
    "digit_codes",
    "format_summary",
    "googlenet",
    "layer_costs",
    "layer_summary",
    "lenet5",
    "lenet5_1998",
    "patch_embed",
    "patchify",
    "resnet",
    "resnet18",
    "resnet50",
    "vgg16",
    "vgg_block",
    "weight_depth",
]
