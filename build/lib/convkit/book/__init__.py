"""The book build: ``python -m convkit.book build`` (sphinx extension, offline assets)."""

from convkit.book.builder import BookBuildError, build

__all__ = ["BookBuildError", "build"]
