"""Helpers the notebooks call right after their ``parameters`` cell."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

#: The first line papermill writes into the cell it injects after the ``parameters`` cell.
PAPERMILL_HEADER = "# Parameters"


class UnknownParameterError(ValueError):
    """A parameter was given that the notebook does not declare."""


def assigned_names(source: str) -> list[str]:
    """Names bound by top-level assignments in a cell's source."""
    names: list[str] = []
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def check_injected(declared: list[str], injected: list[str], notebook: str = "this notebook") -> None:
    """Raise :class:`UnknownParameterError` for injected names the notebook does not declare."""
    unknown = sorted(set(injected) - set(declared))
    if unknown:
        raise UnknownParameterError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))} for {notebook}; "
            f"it accepts: {', '.join(sorted(declared))}. Check the spelling of the -p/--parameters names."
        )


def accept_parameters(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the parameters of the running notebook and return them as a dict.

    papermill only *warns* about a parameter the notebook does not declare and injects it
    anyway; this rejects it. It reads the kernel's input history (``In``): when the cell
    before this one is papermill's injected cell, every name it assigns must also be
    assigned in the ``parameters`` cell before it. Returns ``{name: value}`` for the
    declared parameters (after injection).
    """
    history = [cell for cell in namespace.get("In", []) if cell.strip()]
    # history[-1] is the cell calling us; look back for papermill's injected cell.
    injected_src = params_src = None
    if len(history) >= 3 and history[-2].lstrip().startswith(PAPERMILL_HEADER):
        injected_src, params_src = history[-2], history[-3]
    elif len(history) >= 2:
        params_src = history[-2]
    declared = assigned_names(params_src) if params_src else []
    if injected_src is not None:
        check_injected(declared, assigned_names(injected_src))
    return {name: namespace[name] for name in declared if name in namespace}
