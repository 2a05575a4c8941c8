"""Chapter numbers come from the file name (chNN_*), not from the position in the toc.

A chapter that is not written yet is absent from the toc; the chapters after it
must keep their own numbers (ch03 is chapter 3 even when ch02 is missing).
"""

from __future__ import annotations

from types import SimpleNamespace

from convkit.book.sphinx_ext import after_numbering, before_numbering


def _env() -> SimpleNamespace:
    """What Sphinx computes for a toc of ch00, ch01, ch03 (numbered 1, 2, 3)."""
    return SimpleNamespace(
        toc_secnumbers={
            "book/intro": {},
            "book/ch00_why": {"": (1,), "#a": (1, 1)},
            "book/ch01_conv": {"": (2,), "#b": (2, 1)},
            "book/ch03_stride": {"": (3,), "#c": (3, 2)},
        },
        toc_fignumbers={"book/ch03_stride": {"figure": {"fig-x": (3, 1)}}},
        tocs={},
    )


def test_numbers_follow_file_names() -> None:
    env = _env()
    before_numbering(None, env)
    after_numbering(None, env)
    assert env.toc_secnumbers["book/ch00_why"] == {"": (0,), "#a": (0, 1)}
    assert env.toc_secnumbers["book/ch01_conv"][""] == (1,)
    assert env.toc_secnumbers["book/ch03_stride"] == {"": (3,), "#c": (3, 2)}
    assert env.toc_fignumbers["book/ch03_stride"]["figure"]["fig-x"] == (3, 1)
    assert env.toc_secnumbers["book/intro"] == {}


def test_rebuild_undoes_then_reapplies() -> None:
    """A second build first restores Sphinx's own numbers, then shifts again."""
    env = _env()
    before_numbering(None, env)
    after_numbering(None, env)
    before_numbering(None, env)
    assert env.toc_secnumbers["book/ch03_stride"][""] == (3,)  # Sphinx's own again
    assert env.toc_secnumbers["book/ch00_why"][""] == (1,)
    after_numbering(None, env)
    assert env.toc_secnumbers["book/ch00_why"][""] == (0,)
