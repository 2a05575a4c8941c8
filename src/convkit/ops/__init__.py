"""The reference operations, numpy only (chapters 1-7, 10 and 11).

Each follows ``torch.nn.functional`` for names, argument order, shapes and
semantics; float32 in gives float32 out, float64 gives float64, integers and
lists give float64.

- :mod:`~convkit.ops.padding`: ``pad2d``.
- :mod:`~convkit.ops.correlation`: ``correlate2d``, ``convolve2d`` (one image, one kernel).
- :mod:`~convkit.ops.conv1d`, :mod:`~convkit.ops.conv2d`: convolution layers
  (``conv2d_naive``: the formula as loops; ``conv2d``: im2col + one matrix product).
- :mod:`~convkit.ops.im2col`: ``im2col`` (torch's ``unfold``) and the window views.
- :mod:`~convkit.ops.conv_backward`: ``conv2d_backward``.
- :mod:`~convkit.ops.conv_transpose`: ``conv_transpose2d`` (``conv_transpose2d_naive``: the
  scatter as loops), the transposed convolution.
- :mod:`~convkit.ops.conv_cached`: the training path's convolution that keeps its columns.
- :mod:`~convkit.ops.pooling`: max (``max_pool2d_naive``: the definition as loops),
  average and global pooling, and max pooling's backward pass (also as a cached
  forward / backward pair, which the numpy network's pooling layer uses).
- :mod:`~convkit.ops.shift`: ``shift2d``, whole-pixel shifts.
- :mod:`~convkit.ops.normalization`: ``batch_norm`` (``batch_norm_naive``: the
  definition as loops) and ``batch_norm_backward``, ``group_norm``, ``layer_norm``.
- :mod:`~convkit.ops.masks`: ``mask_iou``, intersection over union of segmentation masks.
- :mod:`~convkit.ops.dropout`: inverted ``dropout``, its cached forward and its backward.
- ``_fastpath`` (private to ``ops``): the buffer pool and batch slicing of the fast paths.
"""
