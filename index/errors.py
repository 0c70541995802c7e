"""Named errors for user-facing failures.

Every error carries a one-line message that says what is wrong and what to do. The command-line
layers print that line and exit non-zero; the web page shows it as a warning. Nobody sees a
traceback for a user error.
"""


class QAError(Exception):
    """Base class: ``str(error)`` is the single line a user sees."""

    exit_code = 1


class UsageError(QAError):
    """Bad input from the user (empty question, unreadable batch file, bad flag value)."""

    exit_code = 2


class SettingsError(QAError):
    """A settings file or environment variable has an unknown key or a wrong type."""

    exit_code = 2


class CorpusError(QAError):
    """The corpus folder is missing, empty, or holds no usable report."""


class ModelLoadError(QAError):
    """The embedding model cannot be found or loaded."""


class IndexNotFoundError(QAError):
    """No index where one was expected."""


class IndexMismatchError(QAError):
    """The index was built with other settings (model, dimension, format, corpus)."""


class IndexCorruptError(QAError):
    """An index file is missing, truncated or unreadable."""


class IndexWriteError(QAError):
    """The index folder cannot be written (no space, no permission, not a folder)."""
