"""Beyond the paper (our addition, not in the paper): one-stage FocusNet beside two-stage FocusNet
and its baseline, in accuracy (paired over seeds) and in total training time."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ..experiments import BEYOND_ROWS
from ..store import ResultsStore
from .evidence import trained
from .tables import PROFILE_LABEL, fmt, fmt_interval, fmt_trained, paired_gains, t_interval

ONE_STAGE = tuple(r for r in BEYOND_ROWS if r not in ("ce", "focusnet"))
LABELS = {
    "ce": "baseline (CE)",
    "focusnet": "FocusNet, two-stage (paper)",
    "focusnet_ema": "one-stage: EMA branch (ours)",
    "focusnet_prev": "one-stage: previous-epoch logits (ours)",
}
GROUP = ["dataset", "model", "profile", "epochs"]


def _label(row: str) -> str:
    return LABELS.get(row, row)


def _interval(values: pd.Series) -> str:
    """The 95% Student-t interval of the mean of ``values`` (:func:`t_interval`), or a dash."""
    return "—" if len(values) < 2 else fmt_interval(*t_interval(values))


def paired_difference(runs: pd.DataFrame, row: str, reference: str, metric: str = "test_top1") -> dict[str, str]:
    """``row`` minus ``reference`` on the seeds where both trained (:func:`paired_gains`): mean ±
    std, 95% interval, seeds ahead, and how many seeds were left out because a run did not train."""
    pairs = paired_gains(runs, row, reference, metric)
    diff = pairs.loc[pairs["both trained"], "gain"]
    left = len(pairs) - len(diff)
    if diff.empty:
        return {"difference": "—", "95% CI": "—", "seeds ahead": f"—; {left} left out" if left else "—"}
    return {"difference": fmt(diff.mean(), diff.std(ddof=1), len(diff)), "95% CI": _interval(diff),
            "seeds ahead": f"{int((diff > 0).sum())}/{len(diff)}" + (f"; {left} left out" if left else "")}


def accuracy(runs: pd.DataFrame, metric: str = "test_top1") -> pd.DataFrame:
    """One row per method and (data set, model, profile, epochs; smoke rows last), over the seeds where every method
    of the chapter finished (all the seeds while none has them all): final-epoch accuracy of the
    runs that trained, with how many did not (:func:`~focuslib.report.tables.fmt_trained`), and each
    method's paired difference from the baseline and from two-stage FocusNet
    (:func:`paired_difference`: the seeds where both trained; each difference's 95% interval, the
    number of seeds where it is positive and of those left out)."""
    columns = ["method", "data set", "model", "profile", "epochs", "accuracy (%)", "seeds",
               "− baseline", "95% CI vs baseline", "ahead of baseline",
               "− two-stage FocusNet", "95% CI vs two-stage", "ahead of two-stage"]
    done = runs.dropna(subset=[metric]) if metric in runs else runs.iloc[0:0]
    out = []
    for (dataset, model, profile, epochs), part in done.groupby(GROUP, sort=False):
        rows = [r for r in BEYOND_ROWS if r in set(part["row"])]
        common = part.pivot_table(index="seed", columns="row", values=metric)[rows].dropna().index
        part = part[part["seed"].isin(common)] if len(common) else part
        for row in rows:
            values = part[part["row"] == row].sort_values("seed")
            ok = values.loc[trained(values, metric), metric]
            vs_ce = paired_difference(part, row, "ce", metric) if row != "ce" else {}
            vs_fn = paired_difference(part, row, "focusnet", metric) if row in ONE_STAGE else {}
            out.append([_label(row), dataset, model, PROFILE_LABEL.get(profile, profile), epochs,
                        fmt_trained(ok.mean(), ok.std(ddof=1), len(ok), len(values) - len(ok)),
                        ",".join(str(int(s)) for s in values["seed"]),
                        vs_ce.get("difference", "—"), vs_ce.get("95% CI", "—"), vs_ce.get("seeds ahead", "—"),
                        vs_fn.get("difference", "—"), vs_fn.get("95% CI", "—"), vs_fn.get("seeds ahead", "—")])
    return _smoke_last(pd.DataFrame(out, columns=columns))


def _smoke_last(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its smoke rows (stand-in runs, never a result) after every other row."""
    smoke = table["profile"] == PROFILE_LABEL["smoke"]
    return pd.concat([table[~smoke], table[smoke]], ignore_index=True)


def conditions(run_dirs: Iterable[str | Path]) -> str:
    """Where the runs were timed: the distinct ``device, threads`` of every process that trained
    them (:meth:`ResultsStore.processes`)."""
    seen = sorted({f"{p.get('device_name', p.get('device', '?'))}, {p.get('threads', '?')} thread(s)"
                   for d in run_dirs for p in ResultsStore.processes(Path(d))})
    return "; ".join(seen) or "—"


def cost(runs: pd.DataFrame) -> pd.DataFrame:
    """Total training time (the runs' stored ``total_seconds``: every epoch, with its test
    evaluation) of the two-stage scheme, baseline plus FocusNet, against one one-stage run, per
    (data set, model, profile, epochs): mean ± std over the seeds where all of them finished (so
    that every line covers the same seeds), and the paired ratio one-stage / two-stage."""
    columns = ["scheme", "data set", "model", "profile", "epochs", "seconds", "÷ two-stage (paired)", "timed on"]
    done = runs.dropna(subset=["total_seconds"]) if "total_seconds" in runs else runs.iloc[0:0]
    out = []
    for (dataset, model, profile, epochs), part in done.groupby(GROUP, sort=False):
        seconds = part.pivot_table(index="seed", columns="row", values="total_seconds")
        if not {"ce", "focusnet"} <= set(seconds.columns):
            continue
        head = [dataset, model, PROFILE_LABEL.get(profile, profile), epochs]
        every = seconds[["ce", "focusnet", *(r for r in ONE_STAGE if r in seconds.columns)]].dropna()
        alone = every.empty  # no seed with every scheme yet: the two-stage line alone, over its own seeds
        seconds = seconds if alone else every
        part = part[part["seed"].isin(seconds.index)]
        two = (seconds["ce"] + seconds["focusnet"]).dropna()
        out.append(["two-stage: baseline + FocusNet", *head, fmt(two.mean(), two.std(ddof=1), len(two)), "1",
                    conditions(part[part["row"].isin(["ce", "focusnet"])]["run_dir"])])
        for row in [r for r in ONE_STAGE if r in seconds.columns and not alone]:
            pair = pd.concat({"one": seconds[row], "two": two}, axis=1).dropna()
            ratio = pair["one"] / pair["two"]
            out.append([_label(row), *head, fmt(pair["one"].mean(), pair["one"].std(ddof=1), len(pair)),
                        fmt(ratio.mean(), ratio.std(ddof=1), len(ratio)) if len(ratio) else "—",
                        conditions(part[part["row"] == row]["run_dir"])])
    return _smoke_last(pd.DataFrame(out, columns=columns))


def describe(accuracy_table: pd.DataFrame, cost_table: pd.DataFrame) -> str:
    """Plain statements read off the two tables (which profile, which rows exist)."""
    if accuracy_table.empty:
        return "No run of this chapter has finished yet."
    lines = []
    for _, r in accuracy_table[accuracy_table["method"].isin([_label(x) for x in ONE_STAGE])].iterrows():
        lines.append(f"- {r['method']} on {r['data set']} ({r['profile']}, {r['epochs']} epochs): "
                     f"{r['accuracy (%)']} %; minus the baseline {r['− baseline']} (95% CI {r['95% CI vs baseline']}), "
                     f"minus two-stage FocusNet {r['− two-stage FocusNet']} (95% CI {r['95% CI vs two-stage']}).")
    for _, r in cost_table[cost_table["scheme"] != "two-stage: baseline + FocusNet"].iterrows():
        lines.append(f"- {r['scheme']} on {r['data set']} ({r['profile']}): {r['seconds']} s of training, "
                     f"{r['÷ two-stage (paired)']} times the two-stage scheme's.")
    smoke = (accuracy_table["profile"] == PROFILE_LABEL["smoke"]).any()
    if smoke:
        lines.append("- Smoke rows come from a few epochs on the embedded digits set: they check that the "
                     "pipeline runs and say nothing about the methods.")
    return "\n".join(lines) if lines else "No one-stage run has finished yet."


__all__ = ["ONE_STAGE", "accuracy", "conditions", "cost", "describe", "paired_difference"]
