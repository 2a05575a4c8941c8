"""Looking inside a ConvNet (chapter 13): attribution maps and the effective receptive
field, computed with torch.

- :func:`saliency`, :func:`smoothgrad`: gradients of a class score with respect to the
  pixels (Simonyan et al. 2014; Smilkov et al. 2017).
- :func:`class_activation_map`, :func:`grad_cam`: feature maps of one layer weighed by
  the classifier (Zhou et al. 2016) or by the gradient (Selvaraju et al. 2017).
- :func:`occlusion_map`: the drop of the score when a window is covered (Zeiler &
  Fergus 2014).
- :func:`effective_receptive_field`, :func:`erf_size`, :func:`erf_std`: how strongly
  each input pixel moves one output unit (Luo et al. 2016), and how large that region is.

Conventions: images x are (N, C, H, W), a float tensor or numpy array; ``target`` is one
class index for every image or a sequence of N of them; the score of a class is the
model's output before softmax. Maps come back as float numpy arrays (N, H, W), raw (not
normalised). The model runs in eval mode and gets back its train/eval flags and
``requires_grad`` flags; no gradient is left on its parameters; x is never changed.

This layer sits beside ``convkit.nn`` and imports only torch, numpy and
``convkit._checks``; the hidden tests' helpers (``convkit.grading``) may import it.
"""

from convkit.explain.cam import class_activation_map, grad_cam
from convkit.explain.gradients import saliency, smoothgrad
from convkit.explain.occlusion import occlusion_map
from convkit.explain.receptive import effective_receptive_field, erf_size, erf_std

__all__ = [
    "class_activation_map",
    "effective_receptive_field",
    "erf_size",
    "erf_std",
    "grad_cam",
    "occlusion_map",
    "saliency",
    "smoothgrad",
]
