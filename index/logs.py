"""Logging for the command lines: our progress notes at INFO on stderr, libraries only when they warn."""

from __future__ import annotations

import logging
import sys


def setup_logging(quiet: bool = False) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s", stream=sys.stderr)
    for name in ("index", "qa", "eval", "app"):
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.INFO)
    # bm25s sets its own logger to DEBUG; its progress notes are not ours to show.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
