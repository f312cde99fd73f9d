"""One artefact of the book (a table or figure of the paper, or a page of ours), end to end:
plan its runs (:func:`focuslib.experiments.plan`), run or fetch each from the store, add the
committed full-protocol runs, and compare with the paper (:func:`focuslib.report.compare`).

This is the one place a page trains; :mod:`focuslib.report` only reads the store."""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from .experiments import plan, require_data, resolve_params, run_plan, runtime_options
from .report import compare, full_protocol_results


def collect(notebook: str, P: Mapping[str, Any], *, data_root: str | None = None, results_dir: str | None = None,
            device: str | None = None) -> pd.DataFrame:
    """Run (or fetch) a notebook's cells and add the committed full-protocol runs: one row per run."""
    resolved = resolve_params(notebook, P)
    require_data(resolved["datasets"], data_root)
    runs = run_plan(plan(notebook, P), data_root=data_root, results_dir=results_dir, device=device or "auto",
                    **runtime_options(resolved))
    full = full_protocol_results(notebook, results_dir)
    return pd.concat([runs, full[~full["key"].isin(runs["key"])]], ignore_index=True) if len(full) else runs


def reproduce(notebook: str, P: Mapping[str, Any], *, data_root: str | None = None, results_dir: str | None = None,
              device: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run (or fetch) a notebook's cells, add the committed full-protocol runs, and compare.

    Returns ``(runs, table)``: one row per run (:func:`collect`), and the paper-vs-ours table
    (:func:`focuslib.report.compare`)."""
    runs = collect(notebook, P, data_root=data_root, results_dir=results_dir, device=device)
    return runs, compare(notebook.replace("table", ""), runs)
