"""Figures in the course style (matplotlib only), drawn from the numbers other layers compute.

- ``style``: the colours, rc settings and figure helpers every figure is made with;
- ``plots``: grids, images, weight matrices, wiring, sliding windows, bar and line charts;
- ``training``: learning curves, confusion matrix, mistakes, filters, feature maps;
- ``timing`` (chapter 7), ``degradation`` (chapter 8), ``adversarial`` and
  ``token_mixing`` (chapter 9): the figures of the measurements in :mod:`convkit.lessons`.
"""
