"""Errors of the node runtime, configuration and scenario layers."""

from __future__ import annotations

from sanqin.common.errors import SanqinError


class RuntimeLayerError(SanqinError):
    """Base class for errors raised by :mod:`sanqin.runtime`."""


class ConfigError(RuntimeLayerError, ValueError):
    """A configuration or parameter is unknown, of the wrong type, out of range or inconsistent."""


class ParamsFileError(ConfigError):
    """A ROS 2 params file cannot be read or does not have the params-file shape."""


class NodeSpecError(RuntimeLayerError):
    """A node declaration is inconsistent (unknown handler, duplicate topic, ...)."""


class ScenarioError(RuntimeLayerError):
    """A scenario file is invalid or a scenario cannot be set up."""
