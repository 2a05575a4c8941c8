"""Chapter measurements, without plotting (their figures live in ``convkit.viz``).

Each module's docstring names the chapter it serves: equivariance (0), filters (2),
pooling invariance (4), receptive fields (5), timing (7), degradation (8),
adversarial examples and token mixing (9), depth spread and normalisers (10),
generalisation (11), segmentation (12).
"""
