"""Interactive simulations for the book.

anywidget widgets: live in JupyterLab, embedded (state and ES module) in the static HTML.

- ``ConnectivitySim`` (ch00): fully-connected vs convolutional connectivity.
- ``Slide1DSim``, ``Slide2DSim`` (ch01): a kernel sliding step by step.
- ``KernelPlayground`` (ch02): preset or typed kernels and their feature map.
- ``StridePaddingSim`` (ch03): stride and padding sliders, the padded border shown.
- ``PoolingSim`` (ch04): max / average pooling of a small grid, windows coloured.
- ``OutputSizeCalculator`` (ch05): the output-size formula with the reader's numbers.
- ``ArchitectureSim`` (ch06): a ConvNet layer by layer, spatial size against depth.
- ``ConvExplorerSim`` (ch07): kernel, stride and padding at once; products, sum, output.
- ``SkipConnectionSim`` (ch08): a deep stack with the shortcut on or off, gradient per block.
- ``PatchGridSim`` (ch09): an image cut into patches for a chosen patch size.
- ``DepthSpreadSim`` (ch10): a deep plain stack's activations block by block (histograms of
  their powers of ten, activation and gradient std) for a depth, an initialisation scale and
  batch norm on or off; every setting precomputed by convkit and embedded.
- ``AugmentExplorerSim`` (ch11): a colour tile through a random crop of the padded tile, a
  flip, colour jitter and cutout, with their parameters on controls and a seeded Random button.
- ``TransposeStepperSim`` (ch12): a transposed convolution one input value at a time, each
  scattering a scaled copy of the kernel (Next / Back / All / Reset), copies adding up, for a
  stride, a padding (the cells it cuts hatched) and an output padding.
- ``ExplanationExplorerSim`` (ch13): a few images and their classes; for the chosen pair,
  every attribution map (saliency, Grad-CAM, occlusion, ...) side by side, each normalised
  on its own and blended over the image at a chosen opacity; the maps precomputed and embedded.

Adding a simulation: write ``<name>.js`` here (an ES module exporting
``default { render }``; it may use the helpers of ``_common.js`` -- ``h``, ``fmt``,
``fmtSize``, ``stepper``, ``setTrait``, ``typesetMath`` -- and the classes of ``sims.css``), and a
``SimWidget`` subclass with ``_sim_name = "<name>"`` and its state as synced
traitlets.  The module computes what it shows in JavaScript, so mark every number a
test should compare with convkit with ``data-value`` (and a ``data-role``), put
``data-sim="<name>"`` on the root element, and add a browser test in
``tests/book/test_sims.py``.  Never use ``ipywidgets.interact`` for anything a reader
must use in the static book: it only shows a frozen snapshot there.
"""

from convkit.sims._base import SimWidget
from convkit.sims.architecture import ArchitectureSim
from convkit.sims.augment_explorer import AugmentExplorerSim
from convkit.sims.connectivity import ConnectivitySim
from convkit.sims.depth_spread import DepthSpreadSim
from convkit.sims.explanation_explorer import ExplanationExplorerSim
from convkit.sims.explorer import ConvExplorerSim
from convkit.sims.kernel_playground import KernelPlayground
from convkit.sims.output_size import OutputSizeCalculator
from convkit.sims.patches import PatchGridSim
from convkit.sims.pooling import PoolingSim
from convkit.sims.skip import SkipConnectionSim
from convkit.sims.sliding import Slide1DSim, Slide2DSim
from convkit.sims.stride_padding import StridePaddingSim
from convkit.sims.transpose_stepper import TransposeStepperSim

__all__ = [
    "ArchitectureSim",
    "AugmentExplorerSim",
    "ConnectivitySim",
    "ConvExplorerSim",
    "DepthSpreadSim",
    "ExplanationExplorerSim",
    "KernelPlayground",
    "OutputSizeCalculator",
    "PatchGridSim",
    "PoolingSim",
    "SimWidget",
    "SkipConnectionSim",
    "Slide1DSim",
    "Slide2DSim",
    "StridePaddingSim",
    "TransposeStepperSim",
]
