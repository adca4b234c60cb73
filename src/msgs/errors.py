"""Errors raised while converting ROS 2 messages."""

from __future__ import annotations

from sanqin.common.errors import SanqinError


class MessageError(SanqinError, ValueError):
    """A message is malformed or cannot be converted (wrong sizes, missing fields, bad encoding)."""
