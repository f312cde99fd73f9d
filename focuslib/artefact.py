"""One artefact of the book (a table or figure of the paper, or a page of ours), end to end:
plan its runs (:func:`focuslib.experiments.plan`), run or fetch each from the store, add the
committed full-protocol runs, and compare with the paper (:func:`focuslib.report.compare`).

This is the one place a page trains; :mod:`focuslib.report` only reads the store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from . import planner
from .experiments import PAPER, plan, require_data, resolve_params, run_plan, runtime_options
from .report import compare, full_protocol_results
from .store import ResultsStore


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


def still_to_run(notebook: str, *, results_dir: str | None = None,
                 rate: planner.Rate = planner.ASSUMED_RATE) -> pd.DataFrame:
    """What the paper's full protocol of ``notebook`` still needs, per data set: its runs
    (baselines included) not finished in the store and their cost in GPU-hours at ``rate``
    (:func:`focuslib.planner.per_dataset`); nothing is trained."""
    cells = plan(notebook, {"profile": PAPER})
    left = planner.per_dataset(planner.plan_frame([c.config for c in cells], ResultsStore(results_dir), rate))
    left.attrs.update(artefact=notebook, rate=rate.source)
    return left
