"""Offline evaluation of retrieval and quoting."""
