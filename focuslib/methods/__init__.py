"""Training methods: a registry of small :class:`~focuslib.methods.base.Method` objects.

``create_method(name, **hparams)`` builds one; ``list_methods()`` names them all.
"""

from __future__ import annotations

from typing import Any

from ..registry import Registry
from .base import Method, StepOutput

METHODS: Registry[type[Method]] = Registry("method")


def register_method(cls: type[Method]) -> type[Method]:
    """Class decorator registering ``cls`` under ``cls.name``."""
    return METHODS.register(cls.name)(cls)


def create_method(name: str, **hparams: Any) -> Method:
    """Build the method ``name`` with the given hyper-parameters (unknown names raise)."""
    cls = METHODS.get(name)
    try:
        return cls(**hparams)
    except TypeError as err:
        raise TypeError(f"bad hyper-parameter for method {name!r}: {err}") from None


def list_methods() -> list[str]:
    return METHODS.names()


# Importing the modules registers their methods.
from . import ce, focusnet, dropmax, kd  # noqa: E402,F401  (issue 4)
from . import tfkd, one, ddgsd, byot, cskd, slasd, frskd  # noqa: E402,F401  (issue 8)

__all__ = ["Method", "StepOutput", "create_method", "list_methods", "register_method", "METHODS"]
