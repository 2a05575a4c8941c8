"""One progress bar for long work, right for wherever it runs.

In a Jupyter kernel it is tqdm's widget bar (``tqdm.auto``): it updates live in
JupyterLab, and the executed book embeds its final state, so a reader sees the
finished bar rather than one stderr line per update.  In a terminal it is the
usual text bar on stderr.
"""

from __future__ import annotations

from tqdm.auto import tqdm


def progress_bar(total: int, desc: str, unit: str, *, enabled: bool = True) -> tqdm:
    """A tqdm bar of ``total`` steps labelled ``desc`` (hidden when not ``enabled``)."""
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, dynamic_ncols=True)
