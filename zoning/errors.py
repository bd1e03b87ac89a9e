"""Errors raised by the zoning engine, all under :class:`geo.errors.RiskmapError`."""

from geo.errors import RiskmapError

__all__ = ["RuleSetError"]


class RuleSetError(RiskmapError):
    """A rule set is missing, malformed, or holds a value out of range; the message gives the key path."""
