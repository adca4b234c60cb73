"""Typed component configs declared once: frozen dataclasses whose fields carry parameter metadata.

A config is a frozen dataclass; each field is declared with :func:`param` (type from the annotation,
default, description, bounds, choices). Nested config dataclasses become dotted parameter names
(``voxel.size_m``), which is also how ROS 2 params files spell nested keys. The same declaration
drives validation at load, the ROS parameter descriptors and the documentation.

Cross-field checks go in the dataclass's ``__post_init__`` and raise :class:`ConfigError`.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sanqin.runtime.errors import ConfigError

T = TypeVar("T")

#: Scalar parameter kinds a ROS 2 parameter can hold, and the array kinds (as tuples).
SCALAR_TYPES = (bool, int, float, str)


def param(
    default: Any = dataclasses.MISSING,
    description: str = "",
    *,
    min: float | None = None,  # noqa: A002 - reads naturally at the declaration site
    max: float | None = None,  # noqa: A002
    choices: tuple[Any, ...] | None = None,
    read_only: bool = False,
) -> Any:
    """Declare a config field: default, one-line description (with units), optional bounds and choices."""
    meta = {
        "description": description,
        "min": min,
        "max": max,
        "choices": tuple(choices) if choices is not None else None,
        "read_only": read_only,
    }
    if isinstance(default, list):
        default = tuple(default)
    return dataclasses.field(default=default, metadata={"sanqin": meta})


def nested(cls: type) -> Any:
    """Declare a nested config section whose defaults come from ``cls``."""
    return dataclasses.field(default_factory=cls, metadata={"sanqin": {"nested": True}})


@dataclass(frozen=True)
class ParamSpec:
    """One flat parameter: dotted name, kind, default and constraints (for ROS descriptors and docs)."""

    name: str
    kind: type  # bool, int, float, str
    is_array: bool
    default: Any
    description: str
    min: float | None
    max: float | None
    choices: tuple[Any, ...] | None
    read_only: bool


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _classify(tp: Any) -> tuple[type, bool] | None:
    """Return (scalar kind, is_array) for a supported annotation, None for a nested dataclass."""
    if dataclasses.is_dataclass(tp):
        return None
    origin = typing.get_origin(tp)
    if origin in (tuple, list):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        if len(set(args)) != 1 or args[0] not in SCALAR_TYPES:
            raise TypeError(f"unsupported array annotation {tp!r}: use tuple[float, ...] etc.")
        return args[0], True
    if tp in SCALAR_TYPES:
        return tp, False
    raise TypeError(f"unsupported config annotation {tp!r}")


def param_specs(cls: type, prefix: str = "") -> list[ParamSpec]:
    """Flatten a config dataclass into its parameter specs (dotted names), in declaration order."""
    specs: list[ParamSpec] = []
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        name = prefix + f.name
        tp = hints[f.name]
        kind = _classify(tp)
        if kind is None:
            specs.extend(param_specs(tp, name + "."))
            continue
        meta = f.metadata.get("sanqin", {})
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        else:
            default = None
        specs.append(
            ParamSpec(
                name=name,
                kind=kind[0],
                is_array=kind[1],
                default=default,
                description=meta.get("description", ""),
                min=meta.get("min"),
                max=meta.get("max"),
                choices=meta.get("choices"),
                read_only=meta.get("read_only", False),
            )
        )
    return specs


def _coerce(value: Any, spec: ParamSpec, where: str) -> Any:
    """Check one value against its spec; ints are accepted for floats; lists become tuples."""

    def scalar(v: Any) -> Any:
        if spec.kind is bool:
            if not isinstance(v, bool):
                raise ConfigError(f"{where}: expected bool, got {type(v).__name__} {v!r}")
            return v
        if spec.kind is int:
            if isinstance(v, bool) or not isinstance(v, int):
                raise ConfigError(f"{where}: expected int, got {type(v).__name__} {v!r}")
            return v
        if spec.kind is float:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ConfigError(f"{where}: expected float, got {type(v).__name__} {v!r}")
            v = float(v)
            if not math.isfinite(v):
                raise ConfigError(f"{where}: must be finite, got {v!r}")
            return v
        if not isinstance(v, str):
            raise ConfigError(f"{where}: expected string, got {type(v).__name__} {v!r}")
        return v

    def bounded(v: Any) -> Any:
        if spec.min is not None and isinstance(v, (int, float)) and v < spec.min:
            raise ConfigError(f"{where}: {v!r} is below the minimum {spec.min}")
        if spec.max is not None and isinstance(v, (int, float)) and v > spec.max:
            raise ConfigError(f"{where}: {v!r} is above the maximum {spec.max}")
        if spec.choices is not None and v not in spec.choices:
            raise ConfigError(f"{where}: {v!r} is not one of {list(spec.choices)}")
        return v

    if spec.is_array:
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list of {spec.kind.__name__}, got {value!r}")
        return tuple(bounded(scalar(v)) for v in value)
    return bounded(scalar(value))


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings into dotted keys (``{'a': {'b': 1}}`` → ``{'a.b': 1}``)."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


#: Parameters every ROS 2 node may carry that are not part of a component's config.
ROS_RESERVED_PARAMS = ("use_sim_time", "start_type_description_service")


def load_config(cls: type[T], values: Mapping[str, Any] | None = None, *, where: str = "config") -> T:
    """Build and validate a config from nested or dotted values; unknown keys, bad types or bounds raise.

    ``where`` names the source (file and node) in error messages.
    """
    flat = flatten(values or {})
    specs = {s.name: s for s in param_specs(cls)}
    for key in flat:
        if key in ROS_RESERVED_PARAMS or key.startswith("qos_overrides."):
            continue
        if key not in specs:
            close = [n for n in specs if n.split(".")[-1] == key.split(".")[-1]]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where}: unknown parameter {key!r}{hint}; known: {sorted(specs)}")
    checked = {k: _coerce(v, specs[k], f"{where}: parameter {k!r}") for k, v in flat.items() if k in specs}
    return _build(cls, checked, "", where)


def _build(cls: type[T], flat: dict[str, Any], prefix: str, where: str) -> T:
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        name = prefix + f.name
        if dataclasses.is_dataclass(tp):
            kwargs[f.name] = _build(tp, flat, name + ".", where)  # type: ignore[arg-type]
        elif name in flat:
            kwargs[f.name] = flat[name]
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:  # type: ignore[misc]
            raise ConfigError(f"{where}: required parameter {name!r} is missing")
    try:
        return cls(**kwargs)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from err
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: invalid {cls.__name__}: {err}") from err


def to_params(config: Any, prefix: str = "") -> dict[str, Any]:
    """A config as flat dotted parameters (tuples as lists), e.g. for a params file or ROS declarations."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            out.update(to_params(value, f"{prefix}{f.name}."))
        else:
            out[prefix + f.name] = list(value) if isinstance(value, tuple) else value
    return out


def to_nested(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted parameters back to nested mappings (the shape a ROS 2 params file uses)."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def replace_params(config: T, changes: Mapping[str, Any], *, where: str = "parameter update") -> T:
    """A new validated config with some dotted parameters changed (for runtime reconfiguration)."""
    merged = to_params(config)
    merged.update(changes)
    return load_config(type(config), merged, where=where)


def require(condition: bool, message: str) -> None:
    """Cross-field check for ``__post_init__``: raise :class:`ConfigError` when ``condition`` is false."""
    if not condition:
        raise ConfigError(message)
