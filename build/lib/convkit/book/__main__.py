"""``python -m convkit.book build``: build the executed HTML book."""

import sys

from convkit.book.builder import main

sys.exit(main())
