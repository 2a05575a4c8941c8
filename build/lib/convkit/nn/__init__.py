"""Networks: the course's torch models (``convkit.nn.models``), ``UnfoldConv2d``
(a convolution module from unfold + matmul) and the pure-numpy network."""
