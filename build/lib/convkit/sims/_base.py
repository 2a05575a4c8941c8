"""The base of every convkit simulation: an anywidget with its ES module and CSS.

A simulation's logic lives in a small ES module (``<name>.js`` beside this file,
with ``_common.js``'s helpers prepended) and its state in traitlets, so it runs in
JupyterLab with a kernel and, from the widget state embedded at build time, in the
static HTML book with none.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import anywidget

_PACKAGE = "convkit.sims"


@cache
def _read(name: str) -> str:
    return (resources.files(_PACKAGE) / name).read_text(encoding="utf-8")


def esm_source(name: str) -> str:
    """The ES module of simulation ``name`` (e.g. ``"slide1d"``), shared helpers included."""
    return _read("_common.js") + "\n" + _read(f"{name}.js")


def css_source() -> str:
    """The stylesheet shared by all simulations."""
    return _read("sims.css")


class SimWidget(anywidget.AnyWidget):
    """Base class: a subclass sets ``_sim_name`` to the stem of its ``.js`` file.

    The ES module and the shared CSS become the class's ``_esm`` / ``_css`` (synced
    traits that the book embeds with the rest of the widget state).
    """

    _sim_name: str = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        # Only for classes that name their module (traitlets also subclasses them).
        if "_sim_name" in cls.__dict__:
            if not cls._sim_name:
                raise TypeError(f"{cls.__name__} must set _sim_name")
            cls._esm = esm_source(cls._sim_name)
            cls._css = css_source()
        super().__init_subclass__(**kwargs)
