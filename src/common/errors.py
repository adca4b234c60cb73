"""Root of Sanqin's error hierarchy; each subpackage derives its own errors from :class:`SanqinError`."""


class SanqinError(Exception):
    """Base class of every error Sanqin raises on purpose."""
