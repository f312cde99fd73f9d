"""The statistics behind the book's generated sentences, as data: one typed function per
statement of :mod:`~focuslib.report.statements`, which only puts these facts into words."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..experiments import FOCUSNET_VARIANTS, PROBES, Probe
from .evidence import INACTIVE, at_chance, curves, health, remedies, stability_probes, step_traces, trained
from .tables import fig4_runs, gains, paired_gains, paper_rows, summarise_trained, t_interval


def profile_differences(table: pd.DataFrame) -> pd.DataFrame:
    """One row per profile of a paper-vs-ours ``table`` (:func:`~focuslib.report.tables.compare`):
    its ``cells``, whether it is a ``smoke`` profile, the cells ``compared`` (with a paper number
    and ours), their mean ``ours − paper`` and the largest one with its method and data set."""
    rows = []
    for profile, part in table.groupby("profile", sort=False):
        compared = part.dropna(subset=["paper", "ours − paper"])
        worst = compared.loc[compared["ours − paper"].abs().idxmax()] if len(compared) else None
        rows.append({"profile": profile, "cells": len(part), "smoke": profile.startswith("smoke"),
                     "compared": len(compared), "mean difference": compared["ours − paper"].mean(),
                     "largest difference": np.nan if worst is None else worst["ours − paper"],
                     "largest method": None if worst is None else worst["method"],
                     "largest data set": None if worst is None else worst["data set"]})
    return pd.DataFrame(rows, columns=["profile", "cells", "smoke", "compared", "mean difference",
                                       "largest difference", "largest method", "largest data set"])


def variant_gains(runs: pd.DataFrame, profile: str = "paper", metric: str = "test_top1") -> pd.DataFrame:
    """One row per post-hoc FocusNet variant and (data set, model) of ``runs``: the seeds
    ``finished``, the ``failed`` ones as ``(seed, problem)``, and over the ``n`` seeds where it and
    its baseline trained the variant's paired gain over its own baseline (``gain``, ``gain std``,
    ``gaining`` seeds) beside FocusNet's on the same seeds (``focusnet n``, ``focusnet gain``, ``focusnet std``)."""
    mine = runs[runs["profile"] == profile].dropna(subset=[metric])
    failed = health(runs, profile, metric)
    rows = []
    for variant in FOCUSNET_VARIANTS:
        for (dataset, model), part in mine[mine["row"] == variant].groupby(["dataset", "model"], sort=False):
            bad = failed[(failed["row"] == variant) & (failed["dataset"] == dataset) & (failed["model"] == model)]
            here = mine[(mine["dataset"] == dataset) & (mine["model"] == model)]
            v = paired_gains(here, variant, metric=metric)
            v = v[v["both trained"] & ~v["seed"].isin(bad["seed"])]
            r = paired_gains(here[here["seed"].isin(v["seed"])], "focusnet", metric=metric)
            r = r.loc[r["both trained"], "gain"]
            v = v["gain"]
            rows.append({"variant": variant, "dataset": dataset, "model": model, "finished": len(part),
                         "failed": list(zip(bad["seed"], bad["problem"])), "n": len(v), "gain": v.mean(),
                         "gain std": v.std(ddof=1), "gaining": int((v > 0).sum()), "focusnet n": len(r),
                         "focusnet gain": r.mean(), "focusnet std": r.std(ddof=1)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class FailureTest:
    """The pooled failure count and, with several rows, the row failing most often against the rest."""

    failed: int
    runs: int
    low: float  #: exact (Clopper-Pearson) 95% interval of ``failed / runs``
    high: float
    worst: str | None = None  #: the row failing most often (None with one row)
    worst_failed: int = 0
    worst_runs: int = 0
    p: float = np.nan  #: Fisher's exact test, two-sided, of ``worst`` against the other rows together
    differ: bool = False  #: p < 0.05

    @property
    def rate(self) -> float:
        return self.failed / self.runs


def failure_test(runs: pd.Series, failed: pd.Series) -> FailureTest:
    """:class:`FailureTest` of the failure counts ``failed`` of ``runs`` (counts per row, same index)."""
    k, n = int(failed.sum()), int(runs.sum())
    ci = stats.binomtest(k, n).proportion_ci(method="exact")
    if len(runs) < 2:
        return FailureTest(k, n, ci.low, ci.high)
    worst = failed.idxmax()
    a, b = int(failed[worst]), int(runs[worst])
    p = stats.fisher_exact([[a, b - a], [k - a, n - b - (k - a)]]).pvalue
    return FailureTest(k, n, ci.low, ci.high, worst, a, b, p, p < 0.05)


@dataclass(frozen=True)
class Trend:
    """Kendall's τ between the stopped baselines' and FocusNet's mean accuracy over the stops."""

    stops: int
    tau: float
    p: float  #: two-sided (exact for a few stops without ties)
    lowest: float  #: FocusNet's lowest and highest mean over the stops
    highest: float

    @property
    def significant(self) -> bool:
        return self.p < 0.05


def fig4_trend(stops: pd.DataFrame) -> Trend | None:
    """:class:`Trend` of FocusNet's mean accuracy per stop (``focusnet``) against its stopped
    baselines' (``baseline``); None with fewer than 3 stops having both."""
    ranked = stops.dropna(subset=["baseline", "focusnet"])
    if len(ranked) < 3:
        return None
    tau, p = stats.kendalltau(ranked["baseline"], ranked["focusnet"])
    return Trend(len(ranked), tau, p, ranked["focusnet"].min(), ranked["focusnet"].max())


@dataclass(frozen=True)
class ProvenanceCounts:
    """What :func:`~focuslib.report.evidence.provenance`'s frame says of the code that trained the runs."""

    runs: int
    versions: int  #: distinct code versions over all processes
    from_epoch_1: int  #: runs whose record reaches back to epoch 1
    uncommitted: tuple[str, ...]  #: runs listing uncommitted code, each ``run`` or ``run (on baseline)``
    replayed: int  #: of those, reproduced at every epoch by a full replay by committed code
    differ: int  #: of those, replayed by committed code and not reproduced

    @property
    def not_replayed(self) -> int:
        return len(self.uncommitted) - self.replayed - self.differ


def provenance_counts(frame: pd.DataFrame) -> ProvenanceCounts:
    """:class:`ProvenanceCounts` of ``frame``; a replay by edited code (``.dirty``) proves nothing."""
    if frame.empty:
        return ProvenanceCounts(0, 0, 0, (), 0, 0)
    dirty = frame[frame["uncommitted code"]]
    by_committed = (dirty["replayed by"] != "—") & ~dirty["replayed by"].str.endswith(".dirty")
    return ProvenanceCounts(
        runs=len(frame), versions=len({v for vs in frame["code versions"] for v in vs.split(", ")}),
        from_epoch_1=int(frame["from epoch 1"].sum()),
        uncommitted=tuple(run if base == "—" else f"{run} (on {base})"
                          for run, base in zip(dirty["run"], dirty["baseline"])),
        replayed=int(((dirty["replay"] == "identical") & by_committed).sum()),
        differ=int(((dirty["replay"] == "differs") & by_committed).sum()))


def paper_pairs(table: str | int, metric: str = "top1") -> list[tuple[str, str]]:
    """The pairs ``(a, b)`` of the paper's rows of ``table`` with ``a`` below ``b`` on every data
    set where the paper gives both: the part of its ranking that all its data sets share."""
    values = paper_rows(table, metric).pivot_table(index="method", columns=["dataset", "model"], values="value")
    pairs = []
    for a in values.index:
        for b in values.index:
            both = values.loc[[a, b]].dropna(axis=1)
            if a != b and both.shape[1] and (both.loc[a] < both.loc[b]).all():
                pairs.append((a, b))
    return pairs


@dataclass(frozen=True)
class PairAgreement:
    """How many of :func:`paper_pairs` our means keep, over the seeds every row has finished and
    again over those on which every row trained (``trained_seeds``: empty when no seed is left out)."""

    pairs: tuple[tuple[str, str], ...]
    seeds: int
    broken: tuple[tuple[str, str], ...]
    trained_seeds: tuple[int, ...] = ()
    trained_broken: tuple[tuple[str, str], ...] = ()


def pair_agreement(runs: pd.DataFrame, table: str | int, metric: str,
                   failed_seeds: Collection[int] = ()) -> PairAgreement | None:
    """:class:`PairAgreement` of the rows of ``runs`` (one data set) with the paper's ``table``;
    None without a pair or a seed that every row has finished."""
    pairs = tuple((a, b) for a, b in paper_pairs(table, metric.replace("test_", "")) if {a, b} <= set(runs["row"]))
    per_seed = runs.pivot_table(index="seed", columns="row", values=metric).dropna()
    if not pairs or per_seed.empty:
        return None

    def broken(frame: pd.DataFrame) -> tuple[tuple[str, str], ...]:
        means = frame.mean()
        return tuple((a, b) for a, b in pairs if not means[a] < means[b])

    trained = per_seed.drop(index=[s for s in failed_seeds if s in per_seed.index])
    if len(trained) < len(per_seed) and len(trained):
        return PairAgreement(pairs, len(per_seed), broken(per_seed), tuple(trained.index), broken(trained))
    return PairAgreement(pairs, len(per_seed), broken(per_seed))


@dataclass(frozen=True)
class RowFailure:
    """A run that did not train (left out of its row's mean), with the row's mean counting it."""

    row: str
    seed: int
    problem: str
    mean_with: float  #: the row's mean over every finished seed, this run included
    n_with: int


@dataclass(frozen=True)
class Ordering:
    """Ours beside the paper on one (data set, model): see :func:`orderings`."""

    dataset: str
    model: str
    ours: tuple[tuple[str, float, int], ...]  #: (row, our mean over the runs that trained, seeds), low to high
    paper: tuple[tuple[str, float], ...]  #: (row, the paper's number), low to high, rows we ran; empty: our addition
    holds: bool  #: our means rank ``paper``'s rows as the paper does
    not_run: tuple[str, ...]  #: the paper's rows we have not run
    agreement: PairAgreement | None  #: for our addition only
    seeds_differ: bool  #: the means cover different numbers of seeds
    failures: tuple[RowFailure, ...]
    gain: float  #: ``gain_of``'s paired gain over its own baseline, seeds where both trained (NaN: no pair)
    gain_std: float
    gain_n: int
    gain_left_out: int  #: seeds whose pair was left out of ``gain`` because a run did not train
    gaining: int
    paper_gain: float
    low: float  #: 95% Student-t interval of the paired gain
    high: float
    outside: tuple[tuple[str, float, float], ...]  #: (row, low, high): 95% intervals of our mean missing the paper's


def orderings(runs: pd.DataFrame, table: str | int = 2, profile: str = "paper", gain_of: str = "focusnet",
              metric: str = "test_top1") -> list[Ordering]:
    """One :class:`Ordering` per (data set, model) of ``profile``'s runs (post-hoc variants left
    out): our means over the runs that trained (:func:`~focuslib.report.tables.summarise_trained`)
    beside the paper's, whether its ranking holds, the runs that did not train (each with its row's
    mean counting it), ``gain_of``'s paired gain beside the paper's and the paper's numbers outside
    our intervals (of the runs that trained)."""
    ref = paper_rows(table, metric.replace("test_", ""))
    mine = runs[runs["profile"] == profile]
    ours = summarise_trained(mine[~mine["row"].isin(FOCUSNET_VARIANTS)], metric)
    ours = ours[ours["n"] > 0]
    failed = health(runs, profile, metric)
    paired = gains(mine, [gain_of], metric=metric, table=table)
    out = []
    for (dataset, model), part in ours.groupby(["dataset", "model"], sort=False):
        part = part.set_index("row")
        paper_part = ref[(ref["dataset"] == dataset) & (ref["model"] == model)].set_index("method")
        here = mine[(mine["dataset"] == dataset) & (mine["model"] == model)]
        here_failed = failed[(failed["dataset"] == dataset) & (failed["model"] == model)]
        ours_order = list(part["mean"].sort_values().index)
        order = [m for m in paper_part["value"].sort_values().index if m in part.index]
        if len(paper_part) and not order:
            continue
        agreement = None if len(paper_part) else pair_agreement(here[here["row"].isin(part.index)], table, metric,
                                                                 set(here_failed["seed"]))
        failures = []
        for bad in here_failed[~here_failed["row"].isin(FOCUSNET_VARIANTS)].itertuples():
            every = here.loc[here["row"] == bad.row, metric].dropna()
            failures.append(RowFailure(bad.row, bad.seed, bad.problem, every.mean(), len(every)))
        pairs = paired_gains(here, gain_of, metric=metric)
        pg = pairs.loc[pairs["both trained"], "gain"]
        g = paired[(paired["data set"] == dataset) & (paired["model"] == model)]
        low, high = t_interval(pg)
        outside = []
        for m in part.index.intersection(paper_part.index):
            ran = here[here["row"] == m].dropna(subset=[metric])
            m_low, m_high = t_interval(ran.loc[trained(ran, metric), metric])
            if pd.notna(m_low) and not m_low <= paper_part.loc[m, "value"] <= m_high:
                outside.append((m, m_low, m_high))
        out.append(Ordering(
            dataset=dataset, model=model,
            ours=tuple((m, part.loc[m, "mean"], int(part.loc[m, "n"])) for m in ours_order),
            paper=tuple((m, paper_part.loc[m, "value"]) for m in order),
            holds=[m for m in ours_order if m in order] == order,
            not_run=tuple(m for m in paper_part.index if m not in set(here["row"])), agreement=agreement,
            seeds_differ=part["n"].nunique() > 1, failures=tuple(failures), gain=pg.mean(),
            gain_std=pg.std(ddof=1), gain_n=len(pg), gain_left_out=len(pairs) - len(pg), gaining=int((pg > 0).sum()),
            paper_gain=g["paper gain"].iloc[0] if len(g) else np.nan, low=low, high=high, outside=tuple(outside)))
    return out


@dataclass(frozen=True)
class Fig4Facts:
    """How one (data set, model, profile) bears out Fig. 4's claims: see :func:`fig4_facts`."""

    dataset: str
    model: str
    profile: str
    full: float  #: the fully trained baseline's mean over the ``full_n`` seeds of the Fig. 4 runs where it trained
    full_n: int
    unpaired: tuple[tuple[int, str], ...]  #: seeds of the Fig. 4 runs without a trained fully trained
    #: baseline, with why ("did not train", "not finished"): in FocusNet's means, in no pair
    stops: pd.DataFrame  #: per stop ``x``: FocusNet's mean over its ``runs`` that trained; its mean
    #: ``gain`` over the fully trained baseline of the same seed (95% interval ``low``-``high``), ``n``
    #: pairs, seeds ``gaining``; the stopped baselines' mean (``baseline``); ``did not train``:
    #: FocusNet runs left out there
    near_chance: bool  #: the least-trained stopped baseline is near chance (or has no number)
    trend: Trend | None  #: :func:`fig4_trend` over the means of the runs that trained (as the figure draws)
    top5: tuple[float, float] | None  #: the stopped baselines' lowest and highest mean test top-5
    above_on_full: int  #: pairs of runs that trained where FocusNet on a stopped baseline beats
    on_full_pairs: int  #: FocusNet on the fully trained baseline of the same seed, and their mean
    on_full_gain: float  #: difference
    failed: tuple[tuple[str, int, float], ...]  #: FocusNet runs that did not train: (row, seed, stop)
    trend_all: Trend | None  #: :func:`fig4_trend` with the runs that did not train counted (None without any)

    @property
    def beats(self) -> list[float]:
        """The stops where FocusNet on the stopped baseline beats the fully trained one on average."""
        return list(self.stops.index[self.stops["gain"] > 0])


def fig4_facts(runs: pd.DataFrame, metric: str = "test_top1") -> list[Fig4Facts]:
    """One :class:`Fig4Facts` per (data set, model, profile) with FocusNet on a stopped baseline.
    FocusNet's mean per stop is over its runs that trained (as the figure draws it); each such run
    is paired with the fully trained baseline of its seed (Sec. 4.4) where that one trained, as every
    paired statistic of the book, and a seed without one is named. A FocusNet run that did not train
    is named, and the trend is read again with it counted."""
    out = []
    groups = runs.dropna(subset=[metric]).groupby(["dataset", "model", "profile"], sort=False)
    for (dataset, model, profile), part in groups:
        every = fig4_runs(part, metric).query("row == 'focusnet_on_teacher'")
        if not every["trained"].any():
            continue
        seeds = sorted(set(every["seed"]))
        ce = part[(part["row"] == "ce") & part["seed"].isin(seeds)]
        full = ce[trained(ce, metric)].set_index("seed")[metric]
        unpaired = tuple((int(s_), "did not train" if s_ in set(ce["seed"]) else "not finished")
                         for s_ in seeds if s_ not in full.index)
        stopped = part[part["row"] == "teacher"].set_index(["x", "seed"])[metric]
        every = every.assign(gain=every[metric] - every["seed"].map(full),  # NaN: no trained baseline to pair
                             baseline=[stopped.get((x, s_)) for x, s_ in zip(every["x"], every["seed"])])
        on_stopped = every[every["trained"]]
        pairs = on_stopped.dropna(subset=["gain"])
        stops = on_stopped.groupby("x").agg(focusnet=(metric, "mean"), runs=(metric, "size")).join(
            pairs.groupby("x").agg(gain=("gain", "mean"), n=("gain", "size"),
                                   gaining=("gain", lambda g: int((g > 0).sum())),
                                   low=("gain", lambda g: t_interval(g)[0]), high=("gain", lambda g: t_interval(g)[1])))
        stops[["n", "gaining"]] = stops[["n", "gaining"]].fillna(0).astype(int)
        stops["baseline"] = every.groupby("x")["baseline"].mean()  # every stopped baseline with FocusNet on it
        failed = every[~every["trained"]]
        stops["did not train"] = failed.groupby("x").size().reindex(stops.index, fill_value=0)
        least = stops["baseline"].iloc[0]
        top5 = part[part["row"] == "teacher"].groupby("x")["test_top5"].mean().dropna() if "test_top5" in part else []
        on_full = part[part["row"] == "focusnet"].set_index("seed")[metric]  # FocusNet on the fully trained baseline
        vs = (on_stopped[metric] - on_stopped["seed"].map(on_full)).dropna()
        out.append(Fig4Facts(
            dataset=dataset, model=model, profile=profile, full=full.mean(), full_n=len(full), unpaired=unpaired,
            stops=stops, near_chance=pd.isna(least) or at_chance(least, dataset), trend=fig4_trend(stops),
            top5=(top5.min(), top5.max()) if len(top5) else None,
            above_on_full=int((vs > 0).sum()), on_full_pairs=len(vs), on_full_gain=vs.mean(),
            failed=tuple((r.row, int(r.seed), r.x) for r in failed.itertuples()),
            trend_all=fig4_trend(every.groupby("x").agg(focusnet=(metric, "mean"), baseline=("baseline", "mean")))
            if len(failed) else None))
    return out


@dataclass(frozen=True)
class Spread:
    """A quantity in the runs that did not train (range) against those that trained (median, range; NaN if none)."""

    bad_min: float
    bad_max: float
    good_median: float
    good_min: float
    good_max: float
    good_n: int


def _spread(bad: pd.Series, good: pd.Series) -> Spread:
    return Spread(bad.min(), bad.max(), good.median(), good.min(), good.max(), len(good))


@dataclass(frozen=True)
class FirstSteps:
    """What the replayed first steps of one (data set, model) show: see :func:`first_steps`."""

    steps: int
    runs: int
    failed: int
    inactive: tuple[tuple[str, Spread], ...]  #: per ReLU layer: units inactive on the batch of the last step
    peak: Spread  #: the largest gradient norm over the replayed steps
    no_larger: bool  #: the failed runs' peak is no larger than some trained run's


def first_steps(traces: pd.DataFrame) -> FirstSteps | None:
    """:class:`FirstSteps` of one (data set, model)'s :func:`~focuslib.report.evidence.step_traces`;
    None without a replayed run that did not train."""
    if traces.empty or traces["trained"].all():
        return None
    n_steps = int(traces["step"].max())
    last = traces[traces["step"] == n_steps]
    peaks = traces.groupby("run", sort=False).agg(peak=("grad_norm", "max"), trained=("trained", "first"))
    bad_peak, good_peak = peaks.loc[~peaks["trained"], "peak"], peaks.loc[peaks["trained"], "peak"]
    return FirstSteps(
        steps=n_steps, runs=len(peaks), failed=len(bad_peak),
        inactive=tuple((c.removeprefix("inactive "),
                        _spread(last.loc[~last["trained"], c], last.loc[last["trained"], c]))
                       for c in traces if c.startswith(INACTIVE)),
        peak=_spread(bad_peak, good_peak), no_larger=bool(len(good_peak) and bad_peak.max() <= good_peak.max()))


@dataclass(frozen=True)
class Health:
    """How often the recipe failed on one (data set, model): see :func:`health_facts`."""

    dataset: str
    model: str
    finished: int
    failed: int
    per_row: tuple[tuple[str, int, int], ...] = ()  #: (row, runs that did not train, finished runs)
    failures: FailureTest | None = None
    at_chance_first: int = 0  #: failed runs already at chance after their first epoch
    recovered: tuple[tuple[str, int, float, int], ...] = ()  #: runs that trained though at chance after epoch 1:
    #: (row, seed, stop, the first epoch after which they were no longer at chance)
    first_steps: FirstSteps | None = None
    train_means: tuple[tuple[str, float], ...] | None = None  #: per row, mean train accuracy over the first epoch
    #: of the runs that trained (None: not recorded)
    probes: tuple[tuple[Probe, tuple[float, ...]], ...] = ()  #: each stability probe run, with its finals
    remedy_warmup: int = 0  #: warm-up epochs of the remedy runs
    remedies: tuple[tuple[str, int, float, float], ...] = ()  #: (row, seed, remedy final, its baseline's final)


def _recovered(curve: pd.DataFrame, dataset: str, failed_runs: Collection[str],
               metric: str) -> tuple[tuple[str, int, float, int], ...]:
    """The runs of ``curve`` (one data set, none of ``failed_runs``) that trained although at chance
    after their first epoch, each as (row, seed, stop, first epoch after which no longer at chance)."""
    found = []
    evaluated = curve.dropna(subset=[metric]).sort_values("epoch")
    for run, c in evaluated.groupby("run", sort=False):
        low = c[metric].map(lambda v: at_chance(v, dataset))
        if run in failed_runs or c["epoch"].iloc[0] != 1 or not low.iloc[0] or low.all():
            continue
        first = c.iloc[0]
        found.append((first["row"], first["seed"], first["x"], c["epoch"][~low].iloc[0]))
    return tuple(found)


def health_facts(runs: pd.DataFrame, profile: str = "paper", metric: str = "test_top1") -> list[Health]:
    """One :class:`Health` per (data set, model) of the finished runs of ``profile``: the runs that
    did not train, per row, with :func:`failure_test`, whether each was at chance after its first
    epoch, the runs that recovered from chance, :func:`first_steps`, every row's mean train
    accuracy over that epoch, and the stability probes and remedies run so far."""
    mine = runs[runs["profile"] == profile].dropna(subset=[metric])
    failed = health(runs, profile, metric)
    curve = curves(runs, profile)
    probes = stability_probes(runs, profile=profile, metric=metric)
    fixes = remedies(runs, profile=profile, metric=metric)
    traces = step_traces(runs, profile)
    out = []
    for (dataset, model), part in mine.groupby(["dataset", "model"], sort=False):
        bad = failed[(failed["dataset"] == dataset) & (failed["model"] == model)]
        if bad.empty:
            out.append(Health(dataset, model, len(part), 0))
            continue
        counts = part.groupby("row", sort=False).size()
        failing = bad.groupby("row", sort=False).size().reindex(counts.index, fill_value=0)
        here = curve[(curve["dataset"] == dataset) & (curve["model"] == model)]
        epoch1 = here[here["epoch"] == 1].set_index("run")
        failed_runs = list(bad["run"])
        early = [pd.notna(v) and at_chance(v, dataset)
                 for v in (epoch1[metric].get(k, float("nan")) for k in failed_runs)]
        train_means = None
        if "train_top1" in epoch1:
            trained = epoch1.drop(index=failed_runs, errors="ignore")
            train_means = tuple(trained.groupby("row", sort=False)["train_top1"].mean().dropna().items())
        done = probes[(probes["dataset"] == dataset) & (probes["model"] == model)].dropna(subset=["final"])
        at = [(p, done.loc[(done["lr"] == p.lr) & (done["warm-up epochs"] == p.warmup_epochs), "final"])
              for p in PROBES]
        fixed = fixes[(fixes["dataset"] == dataset) & (fixes["model"] == model)].dropna(subset=["remedy final"])
        out.append(Health(
            dataset, model, len(part), len(bad),
            per_row=tuple((row, int(failing[row]), int(n)) for row, n in counts.items()),
            failures=failure_test(counts, failing), at_chance_first=sum(early),
            recovered=_recovered(here, dataset, failed_runs, metric),
            first_steps=first_steps(traces[(traces["dataset"] == dataset) & (traces["model"] == model)]
                                    if len(traces) else traces),
            train_means=train_means, probes=tuple((p, tuple(f)) for p, f in at if len(f)),
            remedy_warmup=int(fixed["warm-up epochs"].iloc[0]) if len(fixed) else 0,
            remedies=tuple(zip(fixed["row"], fixed["seed"], fixed["remedy final"], fixed["its baseline"]))))
    return out
