"""The paper's numbers beside ours: summaries over seeds, paired gains with their intervals, the
paper-vs-ours tables, and the status of every cell of the paper."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import datasets, paper
from ..experiments import FOCUSNET_VARIANTS, plan, run_plan
from ..store import ResultsStore
from .evidence import at_chance, trained

#: Our method names whose paper row carries another key (Table 7's single "Tf-KD" row).
PAPER_ROW = {"tfkd_self": "tfkd", "tfkd_reg": "tfkd"}
PROFILE_LABEL = {"smoke": "smoke (not a reproduction)", "paper": "full protocol",
                 "reduced": "reduced protocol (our addition)"}


def full_protocol_plan(notebook: str, results_dir: str | None = None) -> list:
    """The full-protocol cells of ``notebook``: its profile's seeds, plus every further seed whose run
    the store holds finished (e.g. the pre-registered MNIST seeds 5-19 of Table 2 and 10), so that a
    page, the findings and the status count every full-protocol run there is, never a subset."""
    cells = plan(notebook, {"profile": "paper"})
    store = ResultsStore(results_dir)
    stored = store.frame("paper")
    more = sorted(set(stored["seed"].astype(int)) - {c.seed for c in cells}) if len(stored) else []
    extra = plan(notebook, {"profile": "paper", "seeds": more}) if more else []
    return cells + [c for c in extra if store.is_finished(c.config)]


def full_protocol_results(notebook: str, results_dir: str | None = None) -> pd.DataFrame:
    """The paper-profile runs of ``notebook`` already in the store (committed artifacts), never training."""
    frame = run_plan(full_protocol_plan(notebook, results_dir), results_dir=results_dir, train=False)
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


def summarise_trained(runs: pd.DataFrame, metric: str = "test_top1") -> pd.DataFrame:
    """:func:`summarise` over the runs that trained (:func:`~focuslib.report.evidence.at_chance`),
    one line per group that has a finished run, with how many of its runs ``did not train``: they
    are left out of the mean (a run at chance would make it and its interval meaningless), and
    every table that shows the mean says how many (:func:`fmt_trained`). ``seeds``: all finished."""
    keys = ["row", "dataset", "model", "profile", "epochs", "x"]
    every = summarise(runs, metric)
    if every.empty:
        return every.assign(**{"did not train": pd.Series(dtype=int)})
    done = runs.dropna(subset=[metric])
    ok = summarise(done[trained(done, metric)], metric)
    out = every[[*keys, "n", "seeds"]].rename(columns={"n": "finished"}).merge(
        ok.drop(columns="seeds"), on=keys, how="left")
    out["n"] = out["n"].fillna(0).astype(int)
    out["did not train"] = out["finished"] - out["n"]
    return out[[*keys, "mean", "std", "n", "seeds", "did not train"]]


def fmt(mean: float, std: float, n: int) -> str:
    if pd.isna(mean):
        return "—"
    return f"{mean:.2f} ± {std:.2f} (n={n})" if n > 1 else f"{mean:.2f} (n=1)"


def fmt_trained(mean: float, std: float, n: int, failed: int) -> str:
    """:func:`fmt` of the runs that trained, followed by how many did not (left out of the mean)."""
    if not n and failed:
        return f"none trained ({failed} did not train)"
    return fmt(mean, std, n) + (f" + {failed} did not train" if failed else "")


def fmt_interval(low: float, high: float) -> str:
    """A 95% interval as "[+0.04, +0.47]": two decimals, three for an end that two would round to
    ±0.00 (which side of 0 it lies on is what a decision reads)."""
    def end(v: float) -> str:
        return f"{v:+.2f}" if abs(v) >= 0.005 or v == 0 else f"{v:+.3f}" if abs(v) >= 0.0005 else f"{v:+.1e}"
    return f"[{end(low)}, {end(high)}]"


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean of ``values`` over seeds; NaNs for fewer than two."""
    from scipy.stats import t  # noqa: PLC0415

    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return (np.nan, np.nan)
    half = t.ppf((1 + level) / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return (v.mean() - half, v.mean() + half)


def compare(table: str | int, runs: pd.DataFrame, metric: str = "test_top1") -> pd.DataFrame:
    """One row per (paper row, data set, profile): the paper's number, ours (the mean of the runs
    that trained, and how many did not: :func:`summarise_trained`), and the difference.

    Data sets the paper's table does not have (e.g. the ``digits`` smoke stand-in) appear
    with an empty paper column: such a number is never compared with the paper's."""
    ours = summarise_trained(runs[~runs["row"].isin(FOCUSNET_VARIANTS)] if "row" in runs else runs, metric)
    ref = paper_rows(table, metric.replace("test_", ""))
    ours["paper_row"] = ours["row"].map(lambda r: PAPER_ROW.get(r, r))
    theirs = ref[["method", "dataset", "model", "label", "value"]].rename(
        columns={"label": "paper_label", "method": "paper_row"})
    merged = ours.merge(theirs, on=["paper_row", "dataset", "model"], how="left")
    labels = ref.drop_duplicates("method").set_index("method")["label"]
    out = pd.DataFrame({
        "method": merged["paper_label"].fillna(merged["paper_row"].map(labels)).fillna(merged["row"]),
        "data set": merged["dataset"], "model": merged["model"],
        "paper": merged["value"],
        "ours": [fmt_trained(m, s, n, k) for m, s, n, k in zip(merged["mean"], merged["std"], merged["n"],
                                                                merged["did not train"])],
        "ours − paper": (merged["mean"] - merged["value"]).round(2),
        "profile": merged["profile"].map(lambda p: PROFILE_LABEL.get(p, p)),
        "epochs": merged["epochs"], "seeds": merged["seeds"],
    })
    return out


def by_run(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its identifying columns (``row``, ``dataset``, ``model``, ``seed`` and, where
    present, Fig. 4's stop ``x``) folded into one first column ``run``, e.g. "dropmax · mnist/lenet5 ·
    seed 3", so that a table of a few runs fits the page's column."""
    keys = ["row", "dataset", "model", "seed"]
    if frame.empty or not set(keys) <= set(frame.columns):
        return frame
    stop = frame["x"] if "x" in frame else pd.Series(np.nan, index=frame.index)
    label = [f"{r} · {d}/{m} · seed {s}" + (f" · stop {int(x)}" if pd.notna(x) else "")
             for r, d, m, s, x in zip(frame["row"], frame["dataset"], frame["model"], frame["seed"], stop)]
    rest = frame.drop(columns=[*keys, *(["x"] if "x" in frame else []), *(["run"] if "run" in frame else [])])
    return rest.assign(**{"run": label})[["run", *rest.columns]]


def styled(table: pd.DataFrame):
    """``table`` for display: numbers to two decimals and right-aligned, missing values as a dash,
    no index, some room between the columns."""
    numeric = list(table.select_dtypes("number").columns)
    return (table.style.format(precision=2, na_rep="—").hide(axis="index")
            .set_table_styles([{"selector": "td, th", "props": "padding: 0.15em 0.6em;"}])
            .set_properties(subset=numeric, **{"text-align": "right"}))


def per_seed(runs: pd.DataFrame, profile: str = "paper", metric: str = "test_top1") -> pd.DataFrame:
    """Final-epoch accuracy of every seed (rows) per method (columns) for one profile."""
    part = runs[(runs["profile"] == profile)].dropna(subset=[metric])
    return part.pivot_table(index=["dataset", "model", "seed"], columns="row", values=metric, sort=False)


def paper_pivot(table: str | int, metric: str = "top1") -> pd.DataFrame:
    """The paper's table, the values typed in :mod:`focuslib.paper`: its rows × data-set columns
    (models as a column level where a table has several), turned so that the longer side runs
    down the page (a table of 3 methods on 8 data sets has a row per data set) and fits a
    page's column."""
    ref = paper_rows(table, metric)
    by_model = ref["model"].nunique() > 1 and "teacher" not in set(ref["method"])
    columns = ["model", "dataset"] if by_model else ["dataset"]
    pivot = ref.pivot_table(index="label", columns=columns, values="value", sort=False)
    name = f"paper, Table {table} ({metric})"
    if pivot.shape[1] > pivot.shape[0]:
        return pivot.T.rename_axis(columns=name)
    return pivot.rename_axis(index=name)


def paired_gains(
    runs: pd.DataFrame, method: str = "focusnet", baseline: str = "ce", metric: str = "test_top1"
) -> pd.DataFrame:
    """Per seed: ``method`` minus its own baseline (same data set, model, profile, seed), and
    whether ``both trained`` (neither :func:`~focuslib.report.evidence.at_chance`): the book's
    paired statistics (book/preregistration.md) use those pairs only and count the others apart.
    The ``gain`` of a pair where a run did not train is NaN (a difference from a run at chance is
    no gain); both accuracies stay in the row."""
    keys = ["dataset", "model", "profile", "epochs", "seed"]
    a = runs[runs["row"] == method].set_index(keys)[metric]
    b = runs[runs["row"] == baseline].set_index(keys)[metric]
    both = pd.concat({method: a, baseline: b}, axis=1).dropna().reset_index()
    both_ok = [not (at_chance(x, d) or at_chance(y, d))
               for x, y, d in zip(both[method], both[baseline], both["dataset"])]
    both["gain"] = (both[method] - both[baseline]).round(4).where(both_ok)
    return both.assign(**{"both trained": both_ok})


def gains(runs: pd.DataFrame, methods: Sequence[str], baseline: str = "ce", metric: str = "test_top1",
          table: str | int = 2) -> pd.DataFrame:
    """Per method and (data set, model, profile), over the seeds where both it and the baseline of
    the same seed trained (:func:`paired_gains`): ours, the baseline on those seeds, and the paired
    gain (mean ± std, its 95% interval, seeds gaining, with the number of pairs left out because a
    run did not train), and the paper's number and gain (paper's method minus paper's baseline). A
    post-hoc variant (``focusnet[...]``) is compared with the paper's FocusNet: the paper reports
    one FocusNet."""
    ref = paper_rows(table, metric.replace("test_", "")).set_index(["method", "dataset", "model"])["value"]
    rows = []
    for method in methods:
        paper_row = PAPER_ROW.get(method.split("[")[0], method.split("[")[0])
        paired = paired_gains(runs, method, baseline, metric)
        for (dataset, model, profile), every in paired.groupby(["dataset", "model", "profile"], sort=False):
            p_m, p_b = ref.get((paper_row, dataset, model), np.nan), ref.get((baseline, dataset, model), np.nan)
            part = every[every["both trained"]]
            n = len(part)
            rows.append({
                "method": method, "data set": dataset, "model": model,
                "profile": PROFILE_LABEL.get(profile, profile),
                "ours": fmt(part[method].mean(), part[method].std(ddof=1), n),
                "baseline, same seeds": fmt(part[baseline].mean(), part[baseline].std(ddof=1), n),
                "paired gain": fmt(part["gain"].mean(), part["gain"].std(ddof=1), n),
                "95% CI of gain": "—" if n < 2 else fmt_interval(*t_interval(part["gain"])),
                "seeds gaining": f"{int((part['gain'] > 0).sum())}/{n}" + (
                    f" ({len(every) - n} left out)" if len(every) > n else ""),
                "paper": p_m, "paper gain": round(p_m - p_b, 2),
            })
    return pd.DataFrame(rows, columns=["method", "data set", "model", "profile", "ours", "baseline, same seeds",
                                       "paired gain", "95% CI of gain", "seeds gaining", "paper",
                                       "paper gain"])


def gains_over(runs: pd.DataFrame, pairs: Sequence[tuple[str, str]], metric: str = "test_top1",
               table: str | int = 2) -> pd.DataFrame:
    """:func:`gains` of each ``(row, other)`` of ``pairs`` over ``other`` instead of the baseline,
    e.g. what one term of Eq. 12 adds to L_cls alone (Table 10); ``comparison`` names the pair
    ("row − other") and the paper's gain is the paper's ``row`` minus its ``other``."""
    parts = [gains(runs, [row], baseline=other, metric=metric, table=table).assign(method=f"{row} − {other}")
             for row, other in pairs]
    return pd.concat(parts, ignore_index=True).rename(
        columns={"method": "comparison", "baseline, same seeds": "other, same seeds"})


FIG4_SERIES = {"teacher": "poorly-trained baseline", "focusnet_on_teacher": "FocusNet on it"}


def fig4_runs(runs: pd.DataFrame, metric: str = "test_top1") -> pd.DataFrame:
    """Fig. 4's finished runs, one per row: its ``series`` and whether it ``trained``. Only a
    FocusNet run can fail (:func:`~focuslib.report.evidence.at_chance`); a stopped baseline near
    chance is the figure's point."""
    done = runs[runs["row"].isin(list(FIG4_SERIES))].dropna(subset=[metric])
    failed = [row == "focusnet_on_teacher" and at_chance(v, d)
              for row, v, d in zip(done["row"], done[metric], done["dataset"])]
    return done.assign(series=done["row"].map(FIG4_SERIES), trained=~np.asarray(failed, dtype=bool))


def fig4_frame(runs: pd.DataFrame, metric: str = "test_top1") -> pd.DataFrame:
    """Fig. 4's points per stop (``baseline epochs``) and series (:func:`fig4_runs`): the mean
    over every finished run (``mean``, ``n``; a failed run stays in it), how many ``did not
    train``, and the ``mean of runs that trained`` (the line the figure draws)."""
    each = fig4_runs(runs, metric)
    keys = ["row", "dataset", "model", "profile", "epochs", "x"]
    out = summarise(each, metric)
    kept = summarise(each[each["trained"]], metric)[keys + ["mean"]].rename(
        columns={"mean": "mean of runs that trained"})
    failed = each[~each["trained"]].groupby(keys, dropna=False).size().rename("did not train").reset_index()
    out = out.merge(kept, on=keys, how="left").merge(failed, on=keys, how="left")
    out["did not train"] = out["did not train"].fillna(0).astype(int)
    out["series"] = out["row"].map(FIG4_SERIES)
    return out.rename(columns={"x": "baseline epochs"})


def status(results_dir: str | None = None, data_root: str | None = None) -> pd.DataFrame:
    """Every accuracy cell of the paper's Tables 2, 3, 5, 7-10 with what the store holds for it.

    Status: ``complete`` (every full-protocol seed finished), ``partial`` (some of them),
    ``smoke only`` (only a smoke stand-in ran), ``needs data not present`` (the data set is not
    on this machine), or ``not run``. A cell whose runs a pre-registered analysis reads
    (:func:`~focuslib.report.decision.covering`: MNIST's decisive seeds) is complete only at the
    seeds it asks for. Ours is the mean of the runs that trained, with how many did not
    (:func:`fmt_trained`). A finished cell also says whether the paper's number lies in the 95% interval
    of that mean (:func:`t_interval`; two runs that trained at least) and how many of its runs did not
    train (:func:`~focuslib.report.evidence.at_chance`): "complete" is not "agrees"."""
    from .decision import covering  # noqa: PLC0415  (decision builds on this module)

    store = ResultsStore(results_dir).frame()
    rows = []
    available = {}
    for name in ("table2", "table3", "table5", "table7", "table8", "table9", "table10"):
        table_id = name.replace("table", "")
        full = full_protocol_plan(name, results_dir)
        for _, cell in paper_rows(table_id).iterrows():
            wanted = [c for c in full if PAPER_ROW.get(c.row, c.row) == cell["method"] and c.dataset == cell["dataset"]
                      and c.model == cell["model"]]
            keys = {c.config.key() for c in wanted}
            done = store[store["key"].isin(keys)] if not store.empty else store
            prereg = covering(cell["method"], cell["dataset"])
            wanted_seeds = max(len(keys), prereg.decided_at if prereg else 0)
            if cell["dataset"] not in available:
                available[cell["dataset"]] = datasets.is_available(cell["dataset"], root=data_root)
            smoke = (not store.empty) and (
                (store["profile"] == "smoke") & (store["method"].map(lambda m: PAPER_ROW.get(m, m)) == cell["method"])
            ).any()
            if len(done) and len(done) >= wanted_seeds:
                state = "complete"
            elif len(done):
                state = "partial"
            elif not available[cell["dataset"]]:
                state = "needs data not present"
            elif smoke:
                state = "smoke only"
            else:
                state = "not run"
            vals = done["test_top1"] if len(done) else pd.Series(dtype=float)
            ok = vals[[not at_chance(v, cell["dataset"]) for v in vals]]
            failed = len(vals) - len(ok)
            low, high = t_interval(ok)
            rows.append({
                "table": table_id, "method": cell["label"], "data set": cell["dataset"], "model": cell["model"],
                "paper": cell["value"],
                "ours (full protocol)": fmt_trained(ok.mean(), ok.std(ddof=1), len(ok), failed) if len(vals) else "—",
                "seeds": f"{len(done)}/{wanted_seeds}", "status": state,
                "paper in our 95% CI": "—" if np.isnan(low) else "yes" if low <= cell["value"] <= high else "no",
                "did not train": failed if len(vals) else "—",
            })
    return pd.DataFrame(rows)


#: The states of a paper cell on the status grid, in the grid's colour order.
CELL_STATES = ("reproduced", "not reproduced", "a run did not train", "partial", "untested")


def cell_state(row: Mapping[str, Any]) -> str:
    """A row of :func:`status` in :data:`CELL_STATES`: a **complete** cell whose runs all trained is
    *reproduced* when the paper's number lies in our 95% interval and *not reproduced* when it does
    not; a complete cell with a run that did not train says so (*a run did not train*: the interval
    of the others does not speak for the recipe); *partial* when only some seeds
    finished; *untested* otherwise (smoke only, not run, data not present)."""
    if row["status"] == "partial":
        return "partial"
    if row["status"] != "complete":
        return "untested"
    if row["did not train"] not in ("—", 0):
        return "a run did not train"
    return {"yes": "reproduced", "no": "not reproduced"}.get(row["paper in our 95% CI"], "partial")


def status_view(status: pd.DataFrame) -> pd.DataFrame:
    """:func:`status` for reading: each row's method with its model in one column and the data
    sets by their titles (CIFAR-10, Stanford Dogs), so that the table fits a page's column."""
    shown = status.assign(**{"method": status["method"] + " · " + status["model"],
                             "data set": [datasets.get_spec(d).title for d in status["data set"]]})
    return shown.drop(columns="model")


def status_grid(status: pd.DataFrame) -> pd.DataFrame:
    """:func:`status` as a grid: one row per (table, method, model), one column per data set, each
    paper cell holding its :func:`cell_state` (empty where the paper has no cell)."""
    frame = status.assign(state=[cell_state(r) for _, r in status.iterrows()],
                          row=[f"Table {t}: {m} ({mo})"
                               for t, m, mo in zip(status["table"], status["method"], status["model"])])
    return frame.pivot_table(index="row", columns="data set", values="state", aggfunc="first", sort=False)


def beside_paper(table_id: str | int, table: pd.DataFrame, metric: str = "top1") -> pd.DataFrame:
    """The page's main table: every cell the paper prints for ``table_id`` with its number beside
    ours from **full-protocol** runs only (``table``: :func:`compare`'s output), or "not run yet".
    Smoke rows never appear here (:func:`pipeline_check` shows them apart), nor rows of any other
    profile than the paper's full protocol; a full-protocol data
    set the paper lacks (our addition) follows the paper's cells with an empty paper column."""
    ref = paper_rows(table_id, metric)
    full = table[table["profile"] == PROFILE_LABEL["paper"]] if len(table) else table  # no smoke, no other protocol
    out = pd.DataFrame({"method": ref["label"].values, "data set": ref["dataset"].values, "model": ref["model"].values,
                        "paper": ref["value"].values})
    run_keys = ["method", "data set", "model"]
    ours = full.drop_duplicates(run_keys).set_index(run_keys) if len(full) else None
    keys = list(zip(out["method"], out["data set"], out["model"]))
    known = ours.index if ours is not None else ()
    out["ours (full protocol)"] = [ours.loc[k, "ours"] if k in known else "not run yet" for k in keys]
    out["ours − paper"] = [ours.loc[k, "ours − paper"] if k in known else np.nan for k in keys]
    if ours is not None:
        extra = full[[k not in set(keys) for k in zip(full["method"], full["data set"], full["model"])]]
        out = pd.concat([out, pd.DataFrame({"method": extra["method"],
                                            "data set": extra["data set"] + " (our addition)",
                                            "model": extra["model"], "paper": np.nan,
                                            "ours (full protocol)": extra["ours"], "ours − paper": np.nan})],
                        ignore_index=True)
    return out


def protocol_beside_paper(table_id: str | int, runs: pd.DataFrame, profile: str,
                          metric: str = "test_top1") -> pd.DataFrame:
    """Our runs of another ``profile`` than the paper's (e.g. the reduced protocol, our addition)
    beside the paper's number for the same row and data set, each column naming its own model and
    epochs: the two are never the same experiment, and the difference is not computed. A post-hoc
    FocusNet variant (``focusnet[...]``) stands beside the paper's FocusNet and says so. Ours is the
    mean of the runs that trained, with how many did not (:func:`fmt_trained`)."""
    ours = summarise_trained(runs[runs["profile"] == profile] if len(runs) else runs, metric)
    ref = paper_rows(table_id, metric.replace("test_", ""))
    out = []
    for r in ours.to_dict("records"):
        method = PAPER_ROW.get(r["row"].split("[")[0], r["row"].split("[")[0])
        hit = ref[(ref["method"] == method) & (ref["dataset"] == r["dataset"])]
        out.append({"row": r["row"] + (" (post-hoc)" if r["row"] in FOCUSNET_VARIANTS else ""),
                    "data set": r["dataset"], "paper": hit["value"].iloc[0] if len(hit) else np.nan,
                    "paper's model": hit["model"].iloc[0] if len(hit) else "—",
                    f"ours ({PROFILE_LABEL.get(profile, profile)})": fmt_trained(r["mean"], r["std"], r["n"],
                                                                                 r["did not train"]),
                    "our model": r["model"], "our epochs": r["epochs"], "seed ids": r["seeds"]})
    return pd.DataFrame(out)


def pipeline_check(table: pd.DataFrame) -> str:
    """The smoke rows of ``table`` (:func:`compare`'s output) as a collapsed HTML block, "Pipeline
    check (smoke profile, not a reproduction)", without the paper's numbers: they only show that
    the code runs end to end on the stand-in data. Empty when there are none."""
    smoke = table[table["profile"].astype(str).str.startswith("smoke")] if len(table) else table
    if smoke.empty:
        return ""
    shown = smoke[["method", "data set", "model", "ours", "epochs", "seeds"]].rename(columns={"ours": "smoke result"})
    return collapsed("pipeline-check", f"Pipeline check (smoke profile, not a reproduction): {len(shown)} rows",
                     "Tiny stand-in runs on scikit-learn's 8×8 digits, a few epochs: they show that the pipeline "
                     "runs end to end and are never compared with the paper.", shown)


def still_to_run_block(left: pd.DataFrame) -> str:
    """What the cells "not run yet" of a page's main table take (``left``:
    :func:`focuslib.artefact.still_to_run`): per data set, the runs of the paper's protocol not
    finished and their GPU-hours, with the planner's command. Empty when nothing is left."""
    if left.empty:
        return ""
    artefact, rate = left.attrs.get("artefact", "TABLE"), left.attrs.get("rate", "")
    shown = left.assign(**{"data set": [datasets.get_spec(d).title for d in left["data set"]]})
    shown["GPU-hours left"] = shown["GPU-hours left"].map(lambda v: f"{v:,.1f}")
    table = shown.to_html(index=False, border=0, classes="dataframe still-to-run")
    return (f"<div class='still-to-run'><p><b>Not run yet: what the paper's protocol takes here</b> "
            f"({int(left['not finished'].sum())} runs, {left['GPU-hours left'].sum():,.1f} GPU-hours; {rate}). "
            f"List them with <code>python -m focuslib.experiments {artefact} --plan</code>.</p>{table}</div>")


def sources_block(runs: pd.DataFrame) -> str:
    """The provenance of a page's full-protocol numbers (:func:`~focuslib.report.evidence.sources`)
    as a collapsed HTML block: per run, its folder under ``results/`` and the code that trained it."""
    from .evidence import sources  # noqa: PLC0415

    shown = sources(runs)
    return collapsed("sources", f"Where these numbers come from: {len(shown)} full-protocol runs",
                     "Each full-protocol number above is the mean over these runs' final epochs. A run's folder "
                     "(under <code>results/</code> in the repository) holds its configuration, its metrics of every "
                     "epoch and its final result; the code versions are those of every process that trained it "
                     "(a version ending in <code>.dirty</code> ran uncommitted code: see the status page).", shown)


def collapsed(css_class: str, summary: str, note: str, frame: pd.DataFrame) -> str:
    """``frame`` in a collapsed HTML block (``<details>``) headed by ``summary``, with a short
    ``note`` above the table; empty when ``frame`` is."""
    if frame.empty:
        return ""
    table = frame.to_html(index=False, na_rep="—", border=0, classes="dataframe")
    return (f"<details class='{css_class}'><summary>{summary}</summary><p>{note}</p>"
            f"<div style='overflow-x:auto'>{table}</div></details>")
