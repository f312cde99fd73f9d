"""Training methods: a registry of small :class:`~focuslib.methods.base.Method` objects.

``create_method(name, **hparams)`` builds one; ``list_methods()`` names them all.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union

from ..registry import Registry
from .base import Method, StepOutput, declared_hparams

METHODS: Registry[type[Method]] = Registry("method")


def register_method(cls: type[Method]) -> type[Method]:
    """Class decorator registering ``cls`` under ``cls.name``."""
    return METHODS.register(cls.name)(cls)


def create_method(name: str, **hparams: Any) -> Method:
    """Build the method ``name`` with the given hyper-parameters (unknown names raise)."""
    cls = METHODS.get(name)
    try:
        check_hparam_types(cls, hparams)
        return cls(**hparams)
    except TypeError as err:
        raise TypeError(f"bad hyper-parameter for method {name!r}: {err}") from None


def check_hparam_types(cls: type[Method], hparams: Mapping[str, Any]) -> None:
    """Raise TypeError for a value that does not fit the type its constructor declares (e.g.
    ``alpha=abc`` from ``--method-kwargs``), naming the parameter rather than a failing operator."""
    hints = typing.get_type_hints(cls.__init__)
    for key, value in hparams.items():
        if key in hints and not _fits(hints[key], value):
            raise TypeError(f"{key} must be {_describe(hints[key])}, got {value!r}")


def _fits(tp: Any, value: Any) -> bool:
    """Whether ``value`` fits the annotation ``tp`` (a number counts as a float; a bool as no number)."""
    origin = typing.get_origin(tp)
    if origin is Literal:  # the type of its choices; which choice, the method's own check says
        return any(type(value) is type(choice) for choice in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return any(_fits(arg, value) for arg in typing.get_args(tp))
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp) if tp in (bool, str, type(None)) else True


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(map(repr, typing.get_args(tp)))
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in typing.get_args(tp))
    names = {float: "a number", int: "an integer", bool: "true or false", str: "a string", type(None): "null"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def canonical_hparams(name: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every hyper-parameter of method ``name`` with its defaults filled in and each number of a
    ``float`` parameter made a float: the form a run's config (and so its store key) holds, so
    that ``{}``, ``{"alpha": 1}`` and ``{"alpha": 1.0}`` are one FocusNet run, and changing a
    default never relabels the stored runs. Unknown names raise (:func:`create_method`)."""
    declared = declared_hparams(METHODS.get(name))
    out = {}
    for key, value in create_method(name, **given).hparams().items():
        annotation = str(declared[key].annotation) if key in declared else ""
        if "float" in annotation and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        out[key] = value
    return out


def non_default_hparams(name: str, hparams: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``hparams`` that differ from method ``name``'s defaults (e.g. what makes a
    Table 10 ablation row or a post-hoc variant)."""
    defaults = canonical_hparams(name, {})
    return {k: v for k, v in hparams.items() if k not in defaults or defaults[k] != v}


def list_methods() -> list[str]:
    return METHODS.names()


# Importing the modules registers their methods (after register_method exists: they import it).
from . import byot, ce, cskd, ddgsd, dropmax, focusnet, frskd, kd, one, onestage, slasd, tfkd  # noqa: E402,F401

__all__ = [
    "Method", "StepOutput", "canonical_hparams", "create_method", "non_default_hparams", "list_methods",
    "register_method", "METHODS",
]
