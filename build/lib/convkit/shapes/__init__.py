"""Shape arithmetic: output sizes, parameter counts, receptive fields, shape traces.

Pure Python on ints (chapters 3 and 5): what a layer does to a tensor's shape
without building the layer.
"""

from convkit.shapes.sizes import conv2d_params, linear_params, output_size, receptive_field

__all__ = ["conv2d_params", "linear_params", "output_size", "receptive_field"]
