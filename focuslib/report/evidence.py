"""Per-run evidence behind a table: training curves, the best epoch on the test set (never a
result), runs that did not train, dead ReLU units, the replayed first steps, stability probes of
the failed runs, and the code that trained each run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import datasets
from ..config import RunConfig
from ..diagnostics import DIAGNOSTICS, FIRST_STEPS, REPLAY
from ..experiments import PROBES, probe_config, remedy_config
from ..store import ResultsStore


def curves(runs: pd.DataFrame, profile: str = "paper") -> pd.DataFrame:
    """Per-epoch metrics of the finished runs of ``profile``, one row per (run, epoch); ``run`` is
    the run's folder name (one artefact may hold several runs of a row and seed, e.g. Fig. 4's
    stops, told apart by ``x``)."""
    if "run_dir" not in runs:  # runs not read from a store (e.g. built by hand) have no curves
        return pd.DataFrame()
    rows = [{"row": r.row, "dataset": r.dataset, "model": r.model, "seed": r.seed, "x": getattr(r, "x", np.nan),
             "run": Path(r.run_dir).name, **m}
            for r in runs[runs["profile"] == profile].itertuples() for m in ResultsStore.read_metrics(Path(r.run_dir))]
    return pd.DataFrame(rows)


def sources(runs: pd.DataFrame, profile: str = "paper") -> pd.DataFrame:
    """Where each finished run of ``profile`` in ``runs`` lives: its folder in the results store
    (``<profile>/<run>``, under ``results/`` in the repository) and the code version of every
    process that trained it (:meth:`~focuslib.store.ResultsStore.processes`), one row per run."""
    columns = ["row", "dataset", "model", "seed", "run folder", "code versions"]
    if "run_dir" not in runs:
        return pd.DataFrame(columns=columns)
    mine = runs[(runs["profile"] == profile) & runs["run_dir"].notna()].sort_values(["dataset", "model", "row", "seed"])
    rows = [{"row": r.row, "dataset": r.dataset, "model": r.model, "seed": r.seed,
             "run folder": f"{profile}/{Path(r.run_dir).name}",
             "code versions": ", ".join(dict.fromkeys(str(p.get("code_version", "?"))
                                                      for p in ResultsStore.processes(Path(r.run_dir))))}
            for r in mine.itertuples()]
    return pd.DataFrame(rows, columns=columns)


def first_epoch(runs: pd.DataFrame, profile: str = "paper", metric: str = "train_top1") -> pd.DataFrame:
    """``metric`` after the first epoch of every finished run of ``profile``: one row per
    (data set, model, row), one column per seed. A run that collapses does so there, so this
    shows how close the runs that did train came to it."""
    curve = curves(runs, profile)
    if curve.empty or metric not in curve:
        return pd.DataFrame()
    first = curve[curve["epoch"] == 1]
    return first.pivot_table(index=["dataset", "model", "row"], columns="seed", values=metric, sort=False)


def best_on_test(curve: pd.DataFrame, metric: str = "test_top1") -> pd.DataFrame:
    """The final epoch beside the best epoch *on the test set* per run. The best-on-test epoch is
    a selection on the test set, so it is never our result; it is shown only to compare with
    papers that may have reported it."""
    if curve.empty:
        return pd.DataFrame(
            columns=["row", "dataset", "model", "seed", "final", "best on test (not a result)", "best epoch"]
        )
    g = curve.dropna(subset=[metric]).sort_values("epoch").groupby(["row", "dataset", "model", "seed"], sort=False)
    out = g.agg(final=(metric, "last"), best=(metric, "max"),
                best_epoch=("epoch", lambda e: int(e.loc[curve.loc[e.index, metric].idxmax()])))
    return out.rename(columns={"best": "best on test (not a result)", "best_epoch": "best epoch"}).reset_index()


def gain_curve(curve: pd.DataFrame, method: str = "focusnet", baseline: str = "ce",
               metric: str = "test_top1") -> pd.DataFrame:
    """Per (data set, model, seed, epoch): ``method``'s accuracy minus its own baseline's at the
    same epoch, for the seeds where both ran; shows *when* in training a gain appears or fades.
    ``both trained`` says whether neither run of the seed ended :func:`at_chance` (its last
    epoch's ``metric``), the pairs the book's paired statistics use."""
    keys = ["dataset", "model", "seed", "epoch"]
    if curve.empty:
        return pd.DataFrame(columns=[*keys, "gain", "both trained"])
    mine = curve[curve["row"].isin([method, baseline])]
    both = mine.pivot_table(index=keys, columns="row", values=metric)
    if method not in both or baseline not in both:
        return pd.DataFrame(columns=[*keys, "gain", "both trained"])
    last = mine.sort_values("epoch").groupby(["row", "dataset", "model", "seed"])[metric].last()
    failed = {k[1:] for k, v in last.items() if at_chance(v, k[1])}
    gain = (both[method] - both[baseline]).dropna().rename("gain").reset_index()
    return gain.assign(**{"both trained": [(d, m, s) not in failed
                                           for d, m, s in zip(gain["dataset"], gain["model"], gain["seed"])]})


def chance(dataset: str) -> float:
    """The top-1 accuracy (%) of guessing on ``dataset``: 100 / number of classes."""
    return 100.0 / datasets.get_spec(dataset).num_classes


def at_chance(accuracy: float, dataset: str) -> bool:
    """Whether a final accuracy (%) shows a run that did not train: non-finite, or within 1.5x
    of :func:`chance`."""
    return not np.isfinite(accuracy) or accuracy <= 1.5 * chance(dataset)


def trained(runs: pd.DataFrame, metric: str = "test_top1") -> pd.Series:
    """Per row of ``runs`` (with ``dataset`` and a final ``metric``), whether the run trained: not
    :func:`at_chance` on its data set. Aligned with ``runs``' index, to select with."""
    return pd.Series([not at_chance(v, d) for v, d in zip(runs[metric], runs["dataset"])], index=runs.index,
                     dtype=bool)


def health(runs: pd.DataFrame, profile: str = "paper", metric: str = "test_top1") -> pd.DataFrame:
    """Every finished run of ``profile`` that did not train: a non-finite training loss
    (``diverged``, with its first epoch) or a final accuracy within 1.5x of chance. ``x`` (e.g.
    Fig. 4's stop) is there only when the runs have one; ``run`` names the run's folder."""
    curve = curves(runs, profile)
    out = []
    for _, part in curve.groupby("run", sort=False) if len(curve) else []:
        first = part.iloc[0]
        who = {k: first[k] for k in ("row", "dataset", "model", "seed", "x", "run")}
        flagged = part["diverged"].fillna(False).astype(bool) if "diverged" in part else False
        bad = part[~np.isfinite(part["train_loss"].astype(float)) | flagged]
        final = part.sort_values("epoch")[metric].iloc[-1]
        if len(bad):
            out.append({**who, "problem": f"diverged (non-finite loss from epoch {int(bad['epoch'].min())})",
                        "final": final})
        elif at_chance(final, first["dataset"]):
            out.append({**who, "problem": f"at chance (final {final:.2f}%, chance {chance(first['dataset']):.2f}%)",
                        "final": final})
    frame = pd.DataFrame(out, columns=["row", "dataset", "model", "seed", "x", "run", "problem", "final"])
    return frame.drop(columns="x") if frame["x"].isna().all() else frame


def _dead_counts(run_dir: str | Path) -> dict[str, str]:
    """``{"dead after <layer>": "dead/units"}`` from a run's ``diagnostics.json``; empty if it has none."""
    path = Path(run_dir) / DIAGNOSTICS
    if not path.exists():
        return {}
    counts = json.loads(path.read_text())["dead_units"]
    return {f"dead after {c['after']}": f"{c['dead']}/{c['units']}" for c in counts.values()}


def dead_units(runs: pd.DataFrame, profile: str = "paper") -> pd.DataFrame:
    """Per run of ``profile`` with a ``diagnostics.json`` (:mod:`focuslib.diagnostics`): its final
    accuracy and, per ReLU layer, the units dead on the whole training set as "dead/units"."""
    rows = []
    for r in runs[runs["profile"] == profile].itertuples():
        counts = _dead_counts(r.run_dir)
        if counts:
            rows.append({"row": r.row, "dataset": r.dataset, "model": r.model, "seed": r.seed,
                         "final test top-1": r.test_top1, **counts})
    return pd.DataFrame(rows)


#: Column prefix of :func:`step_traces` for the units of one ReLU layer inactive on a step's batch.
INACTIVE = "inactive after "


def step_traces(runs: pd.DataFrame, profile: str = "paper") -> pd.DataFrame:
    """The replayed first steps (:func:`focuslib.diagnostics.first_steps`) of every run of
    ``profile`` that has them: one row per (run, step) with its loss, lr, gradient norm and, per
    ReLU layer, the units inactive on the step's batch (``inactive after <layer>``), and whether
    the run trained (``trained``: not in :func:`health`)."""
    failed = set(health(runs, profile)["run"])
    rows = []
    for r in runs[runs["profile"] == profile].itertuples():
        path = Path(r.run_dir) / FIRST_STEPS
        if not path.exists():
            continue
        run = Path(r.run_dir).name
        for line in path.read_text().splitlines():
            step = json.loads(line)
            dead = {f"{INACTIVE}{k}": v for k, v in step.pop("dead").items()}
            rows.append({"row": r.row, "dataset": r.dataset, "model": r.model, "seed": r.seed, "run": run,
                         "trained": run not in failed, **step, **dead})
    return pd.DataFrame(rows)


def _failed_runs(runs: pd.DataFrame, profile: str, metric: str) -> Iterator[tuple[Any, RunConfig, ResultsStore, str]]:
    """Per run of ``profile`` that did not train (:func:`health`): its health row, configuration,
    store, and the options of ``python -m focuslib.experiments`` that select it."""
    where = {Path(d).name: Path(d) for d in runs["run_dir"]} if "run_dir" in runs else {}
    for bad in health(runs, profile, metric).itertuples():
        run_dir = where[bad.run]
        cfg = ResultsStore.read_run_config(run_dir)
        stop = getattr(bad, "x", np.nan)
        select = (f"--profile {profile} --dataset {bad.dataset} --rows '{bad.row}' --seeds {bad.seed}"
                  + (f" --stops {stop:g}" if pd.notna(stop) else ""))
        yield bad, cfg, ResultsStore(run_dir.parent.parent), select


def stability_probes(runs: pd.DataFrame, artefact: str = "table2", profile: str = "paper",
                     metric: str = "test_top1") -> pd.DataFrame:
    """For every run of ``profile`` that did not train (:func:`health`), its stability probes
    (:data:`focuslib.experiments.PROBES`: a few epochs at the paper's learning rate, at a lower
    one, and at the paper's after a warm-up) as far as the store holds them: the accuracy after each probe
    epoch and the dead units at the end, or the command that runs a missing probe (``artefact``
    names the plan the failed run belongs to).
    They test a remedy a user could apply; they are never results."""
    rows = []
    for bad, cfg, store, select in _failed_runs(runs, profile, metric):
        for p in PROBES:
            probe = probe_config(cfg, p)
            curve = [m[metric] for m in store.metrics(probe).to_dict("records")] if store.is_finished(probe) else []
            rows.append({
                "row": bad.row, "dataset": bad.dataset, "model": bad.model, "seed": bad.seed, "lr": p.lr,
                "warm-up epochs": p.warmup_epochs,
                "final": curve[-1] if curve else np.nan,
                f"{metric} by epoch": ", ".join(f"{v:.2f}" for v in curve) if curve else
                f"not run: python -m focuslib.experiments {artefact} {select} --probe",
                "dead units per ReLU layer": _dead_brief(store.run_dir(probe)),
            })
    empty = ["row", "dataset", "model", "seed", "lr", "warm-up epochs", "final", f"{metric} by epoch",
             "dead units per ReLU layer"]
    return pd.DataFrame(rows, columns=None if rows else empty)


def remedies(runs: pd.DataFrame, artefact: str = "table2", profile: str = "paper",
             metric: str = "test_top1") -> pd.DataFrame:
    """For every run of ``profile`` that did not train (:func:`health`), its remedy run
    (:func:`focuslib.experiments.remedy_config`: the full recipe after a short lr warm-up) as far
    as the store holds it: its final accuracy beside the final accuracy of its baseline (the
    run's baseline branch where it has one, e.g. Fig. 4's stopped baseline; else the same seed's
    run of row ``ce``), or the command that runs it (``artefact`` names the plan the failed run
    belongs to). A remedy for users, chosen after seeing the failures; never a result."""
    mine = runs[runs["profile"] == profile]
    keys = ["dataset", "model", "seed"]
    baseline = mine[mine["row"] == "ce"].drop_duplicates(keys).set_index(keys)[metric]
    rows = []
    for bad, cfg, store, select in _failed_runs(runs, profile, metric):
        remedy = remedy_config(cfg)
        final = store.final(remedy)
        branch = store.final(cfg.teacher) if cfg.teacher else None
        rows.append({
            "row": bad.row, "dataset": bad.dataset, "model": bad.model, "seed": bad.seed, "failed": bad.final,
            "warm-up epochs": remedy.warmup_epochs, "remedy final": final[metric] if final else np.nan,
            "its baseline": branch[metric] if branch else baseline.get((bad.dataset, bad.model, bad.seed), np.nan),
            "remedy": f"{remedy.epochs} epochs, dead units {_dead_brief(store.run_dir(remedy))}" if final else
            f"not run: python -m focuslib.experiments {artefact} {select} --remedy",
        })
    return pd.DataFrame(rows, columns=["row", "dataset", "model", "seed", "failed", "warm-up epochs", "remedy final",
                                       "its baseline", "remedy"])


def _dead_brief(run_dir: Path) -> str:
    """The dead units of a run's ReLU layers, input to output, as "dead/units" joined by " · "
    (the layers are named in :func:`dead_units`); "no diagnostics yet" without ``diagnostics.json``."""
    counts = _dead_counts(run_dir)
    return " · ".join(counts.values()) if counts else "no diagnostics yet"


def baseline_retrain(run_dir: str | Path) -> dict[str, Any] | None:
    """What a two-stage run's record says of baseline weights that were trained again for it
    (:func:`focuslib.train.retrain_weights`: a committed baseline carries none): the record's and
    the retrain's final metrics and the retraining process, from the last process that retrained
    them; None where every process used the weights the baseline was trained with."""
    said = [p["teacher_retrained"] for p in ResultsStore.processes(Path(run_dir)) if p.get("teacher_retrained")]
    return said[-1] if said else None


def _retrained_on(process: dict[str, Any]) -> str:
    """Where a baseline was retrained, in a few words: the device, and the CPU threads or bf16."""
    where = process.get("device_name") or process.get("device", "?")
    extra = "bf16" if process.get("amp_bf16") else f"{process.get('threads', '?')} thread(s)"
    return f"{where} ({process.get('device', '?')}, {extra})"


def retrained_baselines(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs of ``runs`` (with ``run_dir``) trained against baseline weights that were trained
    again to a final test top-1 other than the baseline's record (another CPU, thread count or
    device): the record's and the used baseline's top-1 and where it was retrained. A paired gain
    reads the record (the pre-registered statistic); this says how far the baseline used was from it."""
    columns = ["row", "dataset", "model", "profile", "seed", "baseline record", "baseline used", "retrained on"]
    rows = []
    for r in runs.itertuples() if "run_dir" in runs else ():
        said = baseline_retrain(r.run_dir) if isinstance(r.run_dir, str | Path) else None
        if said and said["record"].get("test_top1") != said["retrained"].get("test_top1"):
            rows.append([r.row, r.dataset, r.model, r.profile, r.seed, said["record"].get("test_top1"),
                         said["retrained"].get("test_top1"), _retrained_on(said.get("process", {}))])
    return pd.DataFrame(rows, columns=columns)


def provenance(results_dir: str | Path | None = None, profile: str = "paper") -> pd.DataFrame:
    """Per finished run of ``profile``: the processes that trained it
    (:meth:`~focuslib.store.ResultsStore.processes`), their code versions and torch versions,
    whether any ran uncommitted code (a version ending in ``.dirty``: the run cannot be traced to
    a commit), whether the record reaches back to epoch 1 (runs resumed before processes were
    recorded list only their last one), and what a full replay by committed code found
    (:func:`focuslib.diagnostics.replay`: ``identical``, ``differs`` or ``—`` if not replayed) and
    with which code version (``replayed by``); for a two-stage run whose baseline's weights were
    trained again, whether that gave the record's result (``baseline retrained``,
    :func:`baseline_retrain`)."""
    store = ResultsStore(results_dir)
    rows = []
    for run_dir in store.iter_runs(profile):
        procs = store.processes(run_dir)
        versions = list(dict.fromkeys(str(p.get("code_version", "?")) for p in procs))
        replayed = json.loads((run_dir / REPLAY).read_text()) if (run_dir / REPLAY).exists() else None
        cfg = ResultsStore.read_run_config(run_dir)
        rows.append({"run": run_dir.name, "baseline": cfg.teacher.label() if cfg.teacher else "—",
                     "processes": len(procs), "code versions": ", ".join(versions),
                     "torch": ", ".join(dict.fromkeys(str(p.get("torch", "?")) for p in procs)),
                     "uncommitted code": any(v.endswith(".dirty") for v in versions),
                     "from epoch 1": bool(procs) and procs[0].get("start_epoch") == 0,
                     "replay": "—" if replayed is None else "identical" if replayed["identical"] else "differs",
                     "replayed by": "—" if replayed is None else str(replayed["code_version"]),
                     "baseline retrained": _retrain_brief(baseline_retrain(run_dir))})
    return pd.DataFrame(rows, columns=["run", "baseline", "processes", "code versions", "torch", "uncommitted code",
                                       "from epoch 1", "replay", "replayed by", "baseline retrained"])


def _retrain_brief(said: dict[str, Any] | None) -> str:
    """:func:`provenance`'s ``baseline retrained``: "—", "as recorded", or the two top-1 and where."""
    if said is None:
        return "—"
    record, used = said["record"].get("test_top1"), said["retrained"].get("test_top1")
    if record == used:
        return "as recorded"
    return f"record {record}, used {used} ({_retrained_on(said.get('process', {}))})"


def provenance_exceptions(origin: pd.DataFrame) -> pd.DataFrame:
    """The runs of :func:`provenance` a reader should know about (trained by uncommitted code, or
    replayed, or trained against a retrained baseline other than its record), in the columns that
    tell it: a code version ending in ``.dirty`` marks uncommitted code, and the package's version
    number is left out of the commit ids."""
    other_baseline = origin["baseline retrained"].str.startswith("record")
    shown = origin[origin["uncommitted code"] | (origin["replay"] != "—") | other_baseline]
    shown = shown.drop(columns=["processes", "torch", "uncommitted code",
                                *([] if other_baseline.any() else ["baseline retrained"])])
    for column in ("code versions", "replayed by"):
        shown[column] = shown[column].str.replace(r"\b\d+\.\d+\.\d+\+", "", regex=True)
    return shown.reset_index(drop=True)
