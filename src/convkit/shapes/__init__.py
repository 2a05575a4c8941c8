"""Shape arithmetic: output sizes, parameter counts, receptive fields, shape traces,
initialisation scales.

Pure Python on ints (chapters 3, 5 and 10): what a layer does to a tensor's shape
without building the layer, and the weight spread its shape calls for.
"""

from convkit.shapes.init_scale import calculate_gain, fan_in_and_fan_out, kaiming_std, xavier_std
from convkit.shapes.sizes import conv2d_params, linear_params, output_size, receptive_field

__all__ = [
    "calculate_gain",
    "conv2d_params",
    "fan_in_and_fan_out",
    "kaiming_std",
    "linear_params",
    "output_size",
    "receptive_field",
    "xavier_std",
]
