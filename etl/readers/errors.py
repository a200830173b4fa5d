"""The one error a reader raises for a file it cannot use."""

from __future__ import annotations


class InputError(Exception):
    """An input file cannot be used; the message names the file, sheet, column or row."""
