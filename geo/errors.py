"""The riskmap error hierarchy, defined once in the lowest package.

Every error a user can cause derives from :class:`RiskmapError`. The CLI turns any of them into
one readable line and a non-zero exit code; the server maps them to HTTP status codes in a single
table. Nothing above ``geo`` defines a parallel hierarchy: packages subclass these.
"""

from __future__ import annotations

__all__ = ["RiskmapError", "CRSError", "GeometryError", "InputError"]


class RiskmapError(Exception):
    """Base of every error riskmap raises on purpose (bad input, bad configuration)."""


class CRSError(RiskmapError):
    """A coordinate reference system is missing, unknown, or wrong for the operation.

    Raised, for instance, when a distance is asked for in a geographic CRS (degrees) or when two
    layers in different CRSs are combined: the message names both CRSs and the fix.
    """


class GeometryError(RiskmapError):
    """A geometry is invalid, empty or of the wrong type, and cannot be used as it is."""


class InputError(RiskmapError):
    """A value given by the user (argument, option, file) is unusable; the message says which."""
