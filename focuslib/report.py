"""Tables and figures: the paper's number beside ours, with profile, seeds and epochs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import yaml

from . import paper
from .experiments import FOCUSNET_VARIANTS, plan, run_plan

#: Our method names whose paper row carries another key (Table 7's single "Tf-KD" row).
PAPER_ROW = {"tfkd_self": "tfkd", "tfkd_reg": "tfkd"}
PROFILE_LABEL = {"smoke": "smoke (not a reproduction)", "paper": "full protocol"}


def full_protocol_results(notebook: str, results_dir: str | None = None) -> pd.DataFrame:
    """The paper-profile runs of ``notebook`` already in the store (committed artifacts), never training."""
    frame = run_plan(plan(notebook, {"profile": "paper"}), results_dir=results_dir, train=False)
    return frame.dropna(subset=["test_top1"]) if "test_top1" in frame else frame.iloc[0:0]


def paper_rows(table: str | int, metric: str = "top1") -> pd.DataFrame:
    """The paper's cells of ``table`` for ``metric``, each with a distinct ``label``: the
    printed row name, plus its method key where the paper prints one name for several rows
    (Table 10's "Ablations")."""
    ref = paper.table(table)
    ref = ref[ref["metric"] == metric].copy()
    repeated = ref.duplicated(["row", "dataset", "model"], keep=False)
    ref["label"] = ref["row"].where(~repeated, ref["row"] + " (" + ref["method"] + ")")
    return ref


def summarise(runs: pd.DataFrame, metric: str = "test_top1") -> pd.DataFrame:
    """Mean ± std over seeds per (row, dataset, model, profile, epochs, x)."""
    if runs.empty or metric not in runs:
        return pd.DataFrame(columns=["row", "dataset", "model", "profile", "epochs", "x", "mean", "std", "n", "seeds"])
    done = runs.dropna(subset=[metric]).copy()
    done["x"] = done["x"].fillna(-1) if "x" in done else -1
    g = done.groupby(["row", "dataset", "model", "profile", "epochs", "x"], sort=False)[[metric, "seed"]]
    out = g.agg(mean=(metric, "mean"), std=(metric, lambda v: v.std(ddof=1) if len(v) > 1 else np.nan),
                n=(metric, "size"), seeds=("seed", lambda v: ",".join(map(str, sorted(v))))).reset_index()
    out["x"] = out["x"].replace(-1, np.nan)
    return out


def fmt(mean: float, std: float, n: int) -> str:
    if pd.isna(mean):
        return "—"
    return f"{mean:.2f} ± {std:.2f} (n={n})" if n > 1 else f"{mean:.2f} (n=1)"


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean of ``values`` over seeds; NaNs for fewer than two."""
    from scipy.stats import t  # noqa: PLC0415

    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return (np.nan, np.nan)
    half = t.ppf((1 + level) / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return (v.mean() - half, v.mean() + half)


def gain_verdict(low: float, high: float, paper_gain: float, n: int) -> str:
    """What a 95% interval ``[low, high]`` of our paired gain says about a gain and the paper's gain."""
    if pd.isna(low):
        return "one seed gives no interval"
    ours = ("no significant gain or loss" if low <= 0 <= high else
            "a significant gain" if low > 0 else "a significant loss")
    if pd.isna(paper_gain):
        return f"{ours} (at 95%, n={n})"
    paper_fits = low <= paper_gain <= high
    if ours.startswith("no") and paper_fits:
        return (f"{ours}, and the paper's gain of {paper_gain:+.2f} is not ruled out either: {n} seeds cannot tell "
                "them apart")
    return f"{ours} (at 95%, n={n}), and the paper's gain of {paper_gain:+.2f} is {'inside' if paper_fits else 'outside'} it"


def compare(table: str | int, runs: pd.DataFrame, metric: str = "test_top1") -> pd.DataFrame:
    """One row per (paper row, data set, profile): the paper's number, ours, and the difference.

    Data sets the paper's table does not have (e.g. the ``digits`` smoke stand-in) appear
    with an empty paper column: such a number is never compared with the paper's."""
    ours = summarise(runs[~runs["row"].isin(FOCUSNET_VARIANTS)] if "row" in runs else runs, metric)
    ref = paper_rows(table, metric.replace("test_", ""))
    ours["paper_row"] = ours["row"].map(lambda r: PAPER_ROW.get(r, r))
    merged = ours.merge(ref[["method", "dataset", "model", "label", "value"]].rename(columns={"label": "paper_label", "method": "paper_row"}),
                        on=["paper_row", "dataset", "model"], how="left")
    labels = ref.drop_duplicates("method").set_index("method")["label"]
    out = pd.DataFrame({
        "method": merged["paper_label"].fillna(merged["paper_row"].map(labels)).fillna(merged["row"]),
        "data set": merged["dataset"], "model": merged["model"],
        "paper": merged["value"],
        "ours": [fmt(m, s, n) for m, s, n in zip(merged["mean"], merged["std"], merged["n"])],
        "ours − paper": (merged["mean"] - merged["value"]).round(2),
        "profile": merged["profile"].map(lambda p: PROFILE_LABEL.get(p, p)),
        "epochs": merged["epochs"], "seeds": merged["seeds"],
    })
    return out


def styled(table: pd.DataFrame):
    """``table`` for display: numbers to two decimals, missing values as a dash, no index."""
    return table.style.format(precision=2, na_rep="—").hide(axis="index")


def per_seed(runs: pd.DataFrame, profile: str = "paper", metric: str = "test_top1") -> pd.DataFrame:
    """Final-epoch accuracy of every seed (rows) per method (columns) for one profile."""
    part = runs[(runs["profile"] == profile)].dropna(subset=[metric])
    return part.pivot_table(index=["dataset", "model", "seed"], columns="row", values=metric, sort=False)


def curves(runs: pd.DataFrame, profile: str = "paper") -> pd.DataFrame:
    """Per-epoch metrics of the finished runs of ``profile``, one row per (run, epoch)."""
    from .store import ResultsStore  # noqa: PLC0415

    if "run_dir" not in runs:  # runs not read from a store (e.g. built by hand) have no curves
        return pd.DataFrame()
    frames = [ResultsStore.read_metrics(Path(r.run_dir)) for r in runs[runs["profile"] == profile].itertuples()]
    rows = [{"row": r.row, "dataset": r.dataset, "model": r.model, "seed": r.seed, **m}
            for r, ms in zip(runs[runs["profile"] == profile].itertuples(), frames) for m in ms]
    return pd.DataFrame(rows)


def best_on_test(curve: pd.DataFrame, metric: str = "test_top1") -> pd.DataFrame:
    """The final epoch beside the best epoch *on the test set* per run. The best-on-test epoch is
    a selection on the test set, so it is never our result; it is shown only to compare with
    papers that may have reported it."""
    if curve.empty:
        return pd.DataFrame(columns=["row", "dataset", "model", "seed", "final", "best on test (not a result)", "best epoch"])
    g = curve.dropna(subset=[metric]).sort_values("epoch").groupby(["row", "dataset", "model", "seed"], sort=False)
    out = g.agg(final=(metric, "last"), best=(metric, "max"),
                best_epoch=("epoch", lambda e: int(e.loc[curve.loc[e.index, metric].idxmax()])))
    return out.rename(columns={"best": "best on test (not a result)", "best_epoch": "best epoch"}).reset_index()


def gain_curve(curve: pd.DataFrame, method: str = "focusnet", baseline: str = "ce",
               metric: str = "test_top1") -> pd.DataFrame:
    """Per (data set, model, seed, epoch): ``method``'s accuracy minus its own baseline's at the
    same epoch, for the seeds where both ran; shows *when* in training a gain appears or fades."""
    keys = ["dataset", "model", "seed", "epoch"]
    if curve.empty:
        return pd.DataFrame(columns=[*keys, "gain"])
    both = curve[curve["row"].isin([method, baseline])].pivot_table(index=keys, columns="row", values=metric)
    if method not in both or baseline not in both:
        return pd.DataFrame(columns=[*keys, "gain"])
    return (both[method] - both[baseline]).dropna().rename("gain").reset_index()


def plot_gain_curve(gains: pd.DataFrame, method: str = "focusnet"):
    """The per-epoch paired gain: each seed faint, the mean over seeds bold, zero dashed."""
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import seaborn as sns  # noqa: PLC0415

    if gains.empty:
        return None
    panels = list(gains.groupby(["dataset", "model"], sort=False))
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 3.4), squeeze=False)
    for ax, ((dataset, model), part) in zip(axes[0], panels):
        sns.lineplot(data=part, x="epoch", y="gain", units="seed", estimator=None, lw=0.6, alpha=0.4, ax=ax,
                     color="tab:gray")
        sns.lineplot(data=part, x="epoch", y="gain", errorbar=None, lw=1.8, color="tab:red", ax=ax,
                     label=f"mean over {part['seed'].nunique()} seeds")
        ax.axhline(0, ls="--", color="black", lw=0.8)
        ax.set(title=f"{dataset} ({model}): {method} − baseline, same seed", ylabel="test top-1 gain (points)")
    fig.tight_layout()
    return fig


def paper_pivot(table: str | int, metric: str = "top1") -> pd.DataFrame:
    """The paper's table as printed: rows × data-set columns (models as a column level where
    a table has several), the values typed in :mod:`focuslib.paper`."""
    ref = paper_rows(table, metric)
    columns = ["model", "dataset"] if ref["model"].nunique() > 1 and "teacher" not in set(ref["method"]) else ["dataset"]
    pivot = ref.pivot_table(index="label", columns=columns, values="value", sort=False)
    pivot.index.name = f"paper, Table {table} ({metric})"
    return pivot


def paired_gains(runs: pd.DataFrame, method: str = "focusnet", baseline: str = "ce", metric: str = "test_top1") -> pd.DataFrame:
    """Per seed: ``method`` minus its own baseline (same data set, model, profile, seed)."""
    keys = ["dataset", "model", "profile", "epochs", "seed"]
    a = runs[runs["row"] == method].set_index(keys)[metric]
    b = runs[runs["row"] == baseline].set_index(keys)[metric]
    both = pd.concat({method: a, baseline: b}, axis=1).dropna()
    both["gain"] = (both[method] - both[baseline]).round(4)
    return both.reset_index()


def gains(runs: pd.DataFrame, methods: Sequence[str], baseline: str = "ce", metric: str = "test_top1",
          table: str | int = 2) -> pd.DataFrame:
    """Per method and (data set, model, profile): ours, the baseline on the same seeds, and the
    paired gain over the baseline of the same seed (mean ± std, seeds gaining), beside the
    paper's number and gain (paper's method minus paper's baseline). A post-hoc variant
    (``focusnet[...]``) is compared with the paper's FocusNet: the paper reports one FocusNet."""
    ref = paper_rows(table, metric.replace("test_", "")).set_index(["method", "dataset", "model"])["value"]
    rows = []
    for method in methods:
        paper_row = PAPER_ROW.get(method.split("[")[0], method.split("[")[0])
        paired = paired_gains(runs, method, baseline, metric)
        for (dataset, model, profile), part in paired.groupby(["dataset", "model", "profile"], sort=False):
            p_m, p_b = ref.get((paper_row, dataset, model), np.nan), ref.get((baseline, dataset, model), np.nan)
            n = len(part)
            rows.append({
                "method": method, "data set": dataset, "model": model,
                "profile": PROFILE_LABEL.get(profile, profile),
                "ours": fmt(part[method].mean(), part[method].std(ddof=1), n),
                "baseline, same seeds": fmt(part[baseline].mean(), part[baseline].std(ddof=1), n),
                "paired gain": fmt(part["gain"].mean(), part["gain"].std(ddof=1), n),
                "95% CI of gain": "—" if n < 2 else "[{:+.2f}, {:+.2f}]".format(*t_interval(part["gain"])),
                "seeds gaining": f"{int((part['gain'] > 0).sum())}/{n}",
                "paper": p_m, "paper gain": round(p_m - p_b, 2),
            })
    return pd.DataFrame(rows, columns=["method", "data set", "model", "profile", "ours", "baseline, same seeds",
                                       "paired gain", "95% CI of gain", "seeds gaining", "paper", "paper gain"])


def health(runs: pd.DataFrame, profile: str = "paper", metric: str = "test_top1") -> pd.DataFrame:
    """Every finished run of ``profile`` that did not train: a non-finite training loss
    (``diverged``, with its first epoch) or a final accuracy within 1.5x of chance."""
    from . import datasets  # noqa: PLC0415

    curve = curves(runs, profile)
    out = []
    for (row, dataset, model, seed), part in (curve.groupby(["row", "dataset", "model", "seed"], sort=False)
                                              if len(curve) else []):
        flagged = part["diverged"].fillna(False).astype(bool) if "diverged" in part else False
        bad = part[~np.isfinite(part["train_loss"].astype(float)) | flagged]
        chance = 100.0 / datasets.get_spec(dataset).num_classes
        final = part.sort_values("epoch")[metric].iloc[-1]
        if len(bad):
            out.append({"row": row, "dataset": dataset, "model": model, "seed": seed,
                        "problem": f"diverged (non-finite loss from epoch {int(bad['epoch'].min())})", "final": final})
        elif final <= 1.5 * chance:
            out.append({"row": row, "dataset": dataset, "model": model, "seed": seed,
                        "problem": f"at chance (final {final:.2f}%, chance {chance:.2f}%)", "final": final})
    return pd.DataFrame(out, columns=["row", "dataset", "model", "seed", "problem", "final"])


def _dead_counts(run_dir: str | Path) -> dict[str, str]:
    """``{"dead after <layer>": "dead/units"}`` from a run's ``diagnostics.json``; empty if it has none."""
    from .diagnostics import DIAGNOSTICS  # noqa: PLC0415

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


def stability_probes(runs: pd.DataFrame, artefact: str = "table2", profile: str = "paper",
                     metric: str = "test_top1") -> pd.DataFrame:
    """For every run of ``profile`` that did not train (:func:`health`), its stability probes
    (:func:`focuslib.experiments.probe_config`: a few epochs at the paper's and at a lower
    constant learning rate) as far as the store holds them: the accuracy after each probe
    epoch and the dead units at the end, or the command that runs a missing probe (``artefact``
    names the plan the failed run belongs to).
    They test a remedy a user could apply; they are never results."""
    from .config import RunConfig  # noqa: PLC0415
    from .experiments import PROBE_LRS, probe_config  # noqa: PLC0415
    from .store import CONFIG, ResultsStore  # noqa: PLC0415

    failed = health(runs, profile, metric)
    where = runs.set_index(["row", "dataset", "model", "seed"])["run_dir"]
    rows = []
    for bad in failed.itertuples():
        run_dir = Path(where.loc[(bad.row, bad.dataset, bad.model, bad.seed)])
        cfg = RunConfig.from_dict(yaml.safe_load((run_dir / CONFIG).read_text())["config"])
        store = ResultsStore(run_dir.parent.parent)
        for lr in PROBE_LRS:
            probe = probe_config(cfg, lr)
            curve = [m[metric] for m in store.metrics(probe).to_dict("records")] if store.is_finished(probe) else []
            rows.append({
                "row": bad.row, "dataset": bad.dataset, "model": bad.model, "seed": bad.seed, "lr": lr,
                f"{metric} by epoch": ", ".join(f"{v:.2f}" for v in curve) if curve else
                f"not run: python -m focuslib.experiments {artefact} --profile {profile} --dataset {bad.dataset} "
                f"--rows '{bad.row}' --seeds {bad.seed} --probe",
                **_dead_counts(store.run_dir(probe)),
            })
    return pd.DataFrame(rows, columns=None if rows else ["row", "dataset", "model", "seed", "lr", f"{metric} by epoch"])


def describe_ordering(runs: pd.DataFrame, table: str | int = 2, profile: str = "paper", gain_of: str = "focusnet",
                      metric: str = "test_top1") -> str:
    """A plain statement per full-protocol (data set, model): our means beside the paper's,
    whether the paper's ranking of the rows holds, and ``gain_of``'s paired gain over its own
    baseline beside the paper's gain. A data set the paper's table lacks gets our ranking only."""
    ref = paper_rows(table, metric.replace("test_", ""))
    labels = ref.drop_duplicates("method").set_index("method")["label"]
    label = lambda m: labels.get(m, m)  # noqa: E731
    mine = runs[runs["profile"] == profile]
    ours = summarise(mine[~mine["row"].isin(FOCUSNET_VARIANTS)], metric)
    failed = health(runs, profile, metric)
    paired = gains(mine, [gain_of], metric=metric, table=table)
    lines = []
    for (dataset, model), part in ours.groupby(["dataset", "model"], sort=False):
        part = part.set_index("row")
        paper_part = ref[(ref["dataset"] == dataset) & (ref["model"] == model)].set_index("method")
        head = f"- **{dataset} ({model}), {PROFILE_LABEL.get(profile, profile)}**"
        ours_order = list(part["mean"].sort_values().index)
        if paper_part.empty:
            ranking = " < ".join(f"{label(m)} {part.loc[m, 'mean']:.2f} (n={int(part.loc[m, 'n'])})" for m in ours_order)
            text = f"{head}: the paper's table has no numbers here (our addition). Ours, low to high: {ranking}."
        else:
            order = [m for m in paper_part["value"].sort_values().index if m in part.index]
            if not order:
                continue
            values = "; ".join(f"{label(m)} {part.loc[m, 'mean']:.2f}, n={int(part.loc[m, 'n'])} "
                               f"(paper {paper_part.loc[m, 'value']:.2f})" for m in order)
            ours_order = [m for m in ours_order if m in order]
            holds = ("holds" if ours_order == order else
                     f"does not hold (ours, low to high: {' < '.join(label(m) for m in ours_order)})")
            text = (f"{head}: {values}. The paper's ranking "
                    f"(low to high: {' < '.join(label(m) for m in order)}) {holds}.")
            missing = [label(m) for m in paper_part.index if m not in part.index]
            if missing:
                text += f" Not run yet: {', '.join(missing)}."
        if part["n"].nunique() > 1:
            text += " These means cover different numbers of seeds; the paired gain compares the same seeds."
        here_failed = failed[(failed["dataset"] == dataset) & (failed["model"] == model)
                             & ~failed["row"].isin(FOCUSNET_VARIANTS)]  # variants: reported in their own section
        for _, bad in here_failed.iterrows():
            bad_seeds = here_failed.loc[here_failed["row"] == bad["row"], "seed"]
            trained = mine[(mine["row"] == bad["row"]) & (mine["dataset"] == dataset) & (mine["model"] == model)
                           & ~mine["seed"].isin(bad_seeds)]
            rest = (f"over the seeds that trained it is {trained[metric].mean():.2f} (n={len(trained)})"
                    if len(trained) else "no other seed has finished")
            text += (f" {label(bad['row'])} seed {bad['seed']} did not train: {bad['problem']}; its mean above "
                     f"includes it, {rest}.")
        g = paired[(paired["data set"] == dataset) & (paired["model"] == model)]
        if len(g):
            r = g.iloc[0]
            paper_gain = "" if pd.isna(r["paper gain"]) else f"; the paper's gain: {r['paper gain']:+.2f}"
            text += (f" {label(gain_of)}'s gain over its own baseline, paired by seed: {r['paired gain']}, "
                     f"{r['seeds gaining']} seeds gaining{paper_gain}.")
            per_seed_gain = paired_gains(mine[(mine["dataset"] == dataset) & (mine["model"] == model)], gain_of,
                                         metric=metric)["gain"]
            low, high = t_interval(per_seed_gain)
            if pd.notna(low):
                text += (f" Its 95% confidence interval over seeds (Student t) is [{low:+.2f}, {high:+.2f}]: "
                         f"{gain_verdict(low, high, r['paper gain'], len(per_seed_gain))}.")
        outside = []
        for m in part.index.intersection(paper_part.index) if not paper_part.empty else []:
            values = mine.loc[(mine["row"] == m) & (mine["dataset"] == dataset) & (mine["model"] == model), metric]
            low, high = t_interval(values.dropna())
            if pd.notna(low) and not low <= paper_part.loc[m, "value"] <= high:
                outside.append(f"{label(m)} (ours {low:.2f} to {high:.2f})")
        if outside:
            text += f" The paper's number lies outside our 95% interval of the mean for {'; '.join(outside)}."
        lines.append(text)
    return "\n".join(lines) or "- No full-protocol runs yet."


def describe_variants(runs: pd.DataFrame, profile: str = "paper", metric: str = "test_top1") -> str:
    """A plain statement per post-hoc FocusNet variant and data set: the seeds finished, those
    that did not train, and, over the seeds that trained, the variant's paired gain over its own
    baseline beside the paper's reading of the loss (``focusnet``) on the same seeds."""
    mine = runs[runs["profile"] == profile].dropna(subset=[metric])
    failed = health(runs, profile, metric)
    lines = []
    for variant in FOCUSNET_VARIANTS:
        for (dataset, model), part in mine[mine["row"] == variant].groupby(["dataset", "model"], sort=False):
            bad = failed[(failed["row"] == variant) & (failed["dataset"] == dataset) & (failed["model"] == model)]
            here = mine[(mine["dataset"] == dataset) & (mine["model"] == model) & ~mine["seed"].isin(bad["seed"])]
            v = paired_gains(here, variant, metric=metric)
            r = paired_gains(here[here["seed"].isin(v["seed"])], "focusnet", metric=metric)
            text = f"- **{variant}** (post-hoc), {dataset} ({model}): {len(part)} seed(s) finished"
            for b in bad.itertuples():
                text += f"; seed {b.seed} did not train, {b.problem}"
            if len(v):
                text += (f". Over the {len(v)} seed(s) that trained, its paired gain over its own baseline is "
                         f"{fmt(v['gain'].mean(), v['gain'].std(ddof=1), len(v))} "
                         f"({int((v['gain'] > 0).sum())}/{len(v)} seeds gaining)")
                if len(r):
                    text += (f"; the paper's reading of the loss on the same seeds: "
                             f"{fmt(r['gain'].mean(), r['gain'].std(ddof=1), len(r))}")
            lines.append(text + ".")
    return "\n".join(lines) or "- No variant runs yet."


def status(results_dir: str | None = None, data_root: str | None = None) -> pd.DataFrame:
    """Every accuracy cell of the paper's Tables 2, 3, 5, 7-10 with what the store holds for it.

    Status: ``reproduced`` (full-protocol runs finished; how many seeds), ``partial``
    (some full-protocol seeds), ``smoke only`` (only a smoke stand-in ran), ``needs data not
    present`` (the data set is not on this machine), or ``not run``."""
    from . import datasets  # noqa: PLC0415
    from .store import ResultsStore  # noqa: PLC0415

    store = ResultsStore(results_dir).frame()
    rows = []
    available = {}
    for name in ("table2", "table3", "table5", "table7", "table8", "table9", "table10"):
        table_id = name.replace("table", "")
        full = plan(name, {"profile": "paper"})
        for _, cell in paper_rows(table_id).iterrows():
            wanted = [c for c in full if PAPER_ROW.get(c.row, c.row) == cell["method"] and c.dataset == cell["dataset"]
                      and c.model == cell["model"]]
            keys = {c.config.key() for c in wanted}
            done = store[store["key"].isin(keys)] if not store.empty else store
            if cell["dataset"] not in available:
                available[cell["dataset"]] = datasets.is_available(cell["dataset"], root=data_root)
            smoke = (not store.empty) and ((store["profile"] == "smoke") & (store["method"].map(lambda m: PAPER_ROW.get(m, m)) == cell["method"])).any()
            if len(done) and len(done) >= len(keys):
                state = "reproduced"
            elif len(done):
                state = "partial"
            elif not available[cell["dataset"]]:
                state = "needs data not present"
            elif smoke:
                state = "smoke only"
            else:
                state = "not run"
            vals = done["test_top1"] if len(done) else pd.Series(dtype=float)
            rows.append({
                "table": table_id, "method": cell["label"], "data set": cell["dataset"], "model": cell["model"],
                "paper": cell["value"], "ours (full protocol)": fmt(vals.mean(), vals.std(ddof=1), len(vals)) if len(vals) else "—",
                "seeds": f"{len(done)}/{len(keys)}", "status": state,
            })
    return pd.DataFrame(rows)


def reproduce(notebook: str, P: Mapping[str, Any], *, data_root: str | None = None, results_dir: str | None = None,
              device: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run (or fetch) a notebook's cells, add the committed full-protocol runs, and compare.

    Returns ``(runs, table)``: one row per run, and :func:`compare`'s table."""
    from .experiments import require_data, resolve_params  # noqa: PLC0415

    resolved = resolve_params(notebook, P)
    require_data(resolved["datasets"], data_root)
    runs = run_plan(plan(notebook, P), data_root=data_root, results_dir=results_dir, device=device or "auto",
                    threads=resolved.get("threads"))
    full = full_protocol_results(notebook, results_dir)
    runs = pd.concat([runs, full[~full["key"].isin(runs["key"])]], ignore_index=True) if len(full) else runs
    return runs, compare(notebook.replace("table", ""), runs)


def describe(table: pd.DataFrame) -> str:
    """A plain statement, generated from the numbers, of how ours compares with the paper."""
    lines = []
    for profile, part in table.groupby("profile", sort=False):
        compared = part.dropna(subset=["paper", "ours − paper"])
        if profile.startswith("smoke"):
            lines.append(f"- **{profile}**: {len(part)} cells ran on a stand-in data set with a few epochs; they show "
                         "that the pipeline works and are not compared with the paper.")
        elif compared.empty:
            lines.append(f"- **{profile}**: no cell has both a paper number and a finished run yet.")
        else:
            worst = compared.loc[compared["ours − paper"].abs().idxmax()]
            lines.append(
                f"- **{profile}**: {len(compared)} cells compared; mean difference ours − paper "
                f"{compared['ours − paper'].mean():+.2f} points, largest {worst['ours − paper']:+.2f} "
                f"({worst['method']}, {worst['data set']})."
            )
    return "\n".join(lines) or "- No results yet."


def fig4_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """Fig. 4's points: accuracy of each poorly-trained baseline and of FocusNet trained on it."""
    s = summarise(runs)
    s = s[s["row"].isin(["teacher", "focusnet_on_teacher"])].copy()
    s["series"] = s["row"].map({"teacher": "poorly-trained baseline", "focusnet_on_teacher": "FocusNet on it"})
    return s.rename(columns={"x": "baseline epochs"})


def describe_fig4(runs: pd.DataFrame, metric: str = "test_top1") -> str:
    """A plain statement per (data set, model, profile) of how ours bears out Fig. 4's two
    claims (Sec. 4.4): FocusNet improves as its baseline branch gets more accurate, and beats
    the fully trained baseline even on a baseline near chance. Each FocusNet run is paired with
    the fully trained baseline of its seed; "improves" is read as a positive Spearman rank
    correlation, over the stops, between the stopped baselines' and FocusNet's mean accuracy."""
    ref = paper.table("fig4").set_index("dataset")["value"]
    paper_low = ", ".join(f"{v:.2f}% on {d}" for d, v in ref.items())
    lines = []
    for (dataset, model, profile), part in runs.dropna(subset=[metric]).groupby(["dataset", "model", "profile"], sort=False):
        full = part[part["row"] == "ce"].set_index("seed")[metric]
        on_stopped = part[part["row"] == "focusnet_on_teacher"]
        on_stopped = on_stopped.assign(gain=on_stopped[metric] - on_stopped["seed"].map(full)).dropna(subset=["gain"])
        if on_stopped.empty:
            continue
        stops = on_stopped.groupby("x").agg(focusnet=(metric, "mean"), gain=("gain", "mean"), n=("gain", "size"),
                                             gaining=("gain", lambda g: int((g > 0).sum())))
        stops["baseline"] = part[part["row"] == "teacher"].groupby("x")[metric].mean()
        first = stops.iloc[0]
        beats = stops.index[stops["gain"] > 0]
        head = (f"- **{dataset} ({model}), {PROFILE_LABEL.get(profile, profile)}**, fully trained baseline "
                f"{full.mean():.2f} (n={len(full)})")
        k = int(stops.index[0])
        text = (f"{head}: FocusNet on the baseline stopped after {k} epoch{'s' if k != 1 else ''}"
                + (f" (which reaches {first['baseline']:.2f}%)" if pd.notna(first["baseline"]) else "")
                + f" reaches {first['focusnet']:.2f}, {first['gain']:+.2f} points against the fully trained "
                f"baseline of the same seeds ({int(first['gaining'])}/{int(first['n'])} seeds gaining); the paper "
                f"reports FocusNet above its fully trained baseline even on its least accurate baselines "
                f"({paper_low}), which {'holds' if first['gain'] > 0 else 'does not hold'} here. FocusNet on a "
                f"stopped baseline beats the fully trained baseline at {len(beats)} of {len(stops)} stops"
                + (f" (stopped after {', '.join(str(int(x)) for x in beats)} epoch{'s' if list(beats) != [1] else ''})"
                   if len(beats) else "") + ".")
        ranked = stops.dropna(subset=["baseline"])
        if len(ranked) >= 3:
            rho = ranked["baseline"].rank().corr(ranked["focusnet"].rank())
            trend = "rises" if rho > 0 else "does not rise"
            text += (f" Across the {len(ranked)} stops FocusNet's accuracy {trend} with its baseline's "
                     f"(Spearman ρ = {rho:+.2f}; the paper: it \"generally improves as the accuracy of the "
                     f"baseline network increases\"), from {ranked['focusnet'].min():.2f} to {ranked['focusnet'].max():.2f}.")
        if stops["n"].nunique() > 1:
            text += " The stops cover different numbers of seeds so far."
        lines.append(text)
    return "\n".join(lines) or "- No Fig. 4 runs yet."


def fig4_plot(runs: pd.DataFrame):
    """Fig. 4 with seaborn: one panel per (data set, profile); dashed/solid lines mark the
    full-length baseline and FocusNet, as in the paper."""
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import seaborn as sns  # noqa: PLC0415

    points = fig4_frame(runs)
    full = summarise(runs)
    full = full[full["row"].isin(["ce", "focusnet"])]
    panels = points.groupby(["dataset", "profile"], sort=False)
    fig, axes = plt.subplots(1, max(1, panels.ngroups), figsize=(5 * max(1, panels.ngroups), 3.6), squeeze=False)
    for ax, ((dataset, profile), part) in zip(axes[0], panels):
        sns.lineplot(data=part, x="baseline epochs", y="mean", hue="series", marker="o", ax=ax)
        for _, r in full[(full["dataset"] == dataset) & (full["profile"] == profile)].iterrows():
            style, color = ("--", "tab:blue") if r["row"] == "ce" else ("-", "tab:red")
            label = f"{'baseline' if r['row'] == 'ce' else 'FocusNet'} at {int(r['epochs'])} epochs"
            ax.axhline(r["mean"], ls=style, color=color, lw=1, label=label)
        seeds = part["n"].max()
        ax.set(title=f"{dataset} — {PROFILE_LABEL.get(profile, profile)}, {seeds} seed(s)", ylabel="test top-1 (%)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_curves(curve: pd.DataFrame, metric: str = "test_top1"):
    """Test accuracy per epoch, one line per (method, seed), one panel per data set."""
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import seaborn as sns  # noqa: PLC0415

    if curve.empty:
        return None
    data = curve.dropna(subset=[metric])
    panels = sorted(data["dataset"].unique())
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 3.6), squeeze=False)
    for ax, dataset in zip(axes[0], panels):
        part = data[data["dataset"] == dataset]
        sns.lineplot(data=part, x="epoch", y=metric, hue="row", units="seed", estimator=None, lw=0.8, ax=ax)
        low = part.groupby("row")[metric].quantile(0.1).min()
        ax.set(title=f"{dataset}: every seed, full protocol", ylabel="test top-1 (%)", ylim=(max(low, 0), 100))
    fig.tight_layout()
    return fig
